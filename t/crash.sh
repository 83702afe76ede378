#!/bin/sh
# vmail-deliver under kill -9: many trials, each killing a delivery at a
# random moment (reading, spooling, writing, fsync, link). After all of them:
# every delivery that exited 0 is in new/ (none lost), and every file in new/
# or cur/ is a whole message (none partial). CRASH_TRIALS sets the count.
. "$T_TOP/t/lib/common.sh"

PM=$VMAIL_ROOT/example.com/postmaster

oneTimeSetUp() { seed_tutorial; }

# python3: precise sub-millisecond kill times, which sh cannot give.
crash_trials() {
  python3 - "$1" "$2" "$3" <<'EOF'
import os, random, signal, subprocess, sys, threading, time
maildir, trials, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
work = os.path.dirname(maildir.rstrip('/')) + '/crash-work'
os.makedirs(work, exist_ok=True)
sizes = [200, 5000, 100000, 300000, 2000000]   # memory, spool, several writes

def message(n):
    size = sizes[n % len(sizes)]
    head = b'Subject: crash trial %d\r\n\r\n' % n
    line = b'trial %06d body line .................................\r\n' % n
    body = line * (size // len(line) + 1)
    return head + body + b'END-OF-TRIAL %d\r\n' % n

def argv():
    if mode == 'lookup':
        return ['vmail-deliver', '-f', 'a@example.org', 'postmaster@example.com']
    return ['vmail-deliver', '-f', 'a@example.org', '-d', maildir, 'postmaster@example.com']

def run(n, delay):
    msg = message(n)
    use_pipe = n % 2 == 1
    if use_pipe:
        p = subprocess.Popen(argv(), stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
        def feed():
            try:
                p.stdin.write(msg); p.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        t = threading.Thread(target=feed); t.start()
    else:
        path = '%s/m%d' % (work, n)
        with open(path, 'wb') as f: f.write(msg)
        with open(path, 'rb') as f:
            p = subprocess.Popen(argv(), stdin=f, stderr=subprocess.DEVNULL)
        t = None
    if delay is not None:
        time.sleep(delay)
        try: os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError: pass
    rc = p.wait()
    if t: t.join()
    return rc, msg

# calibrate: how long one whole delivery of each size takes
spans = {}
for i in range(len(sizes) * 2):
    t0 = time.monotonic(); rc, _ = run(1000000 + i, None); spans[i % len(sizes)] = max(spans.get(i % len(sizes), 0), time.monotonic() - t0)
    if rc != 0: print('calibration delivery failed rc=%d' % rc); sys.exit(1)
for d in ('new', 'cur'):
    for f in os.listdir(os.path.join(maildir, d)): os.unlink(os.path.join(maildir, d, f))

random.seed(os.getpid())
expected, finished, killed = {}, [], 0
for n in range(trials):
    delay = random.uniform(0, spans[n % len(sizes)] * 1.2)
    rc, msg = run(n, delay)
    expected[n] = msg
    if rc == 0: finished.append(n)
    elif rc == -signal.SIGKILL: killed += 1
    else: print('trial %d: unexpected exit %d' % (n, rc))

found, partial = {}, 0
for d in ('new', 'cur'):
    for name in os.listdir(os.path.join(maildir, d)):
        data = open(os.path.join(maildir, d, name), 'rb').read()
        lines = data.split(b'\r\n', 2)
        ok = len(lines) == 3 and lines[0] == b'Return-Path: <a@example.org>' \
            and lines[1] == b'Delivered-To: postmaster@example.com'
        n = -1
        if ok:
            rest = lines[2]
            try: n = int(rest.split(b'\r\n', 1)[0].rsplit(b' ', 1)[1])
            except (IndexError, ValueError): ok = False
        if ok and (expected.get(n) != rest or (',S=%d' % len(data)) not in name): ok = False
        if not ok:
            partial += 1; print('partial or foreign file: %s/%s (%d bytes)' % (d, name, len(data)))
        else:
            found[n] = found.get(n, 0) + 1
lost = [n for n in finished if n not in found]
for n in lost: print('lost: trial %d exited 0 but is not in new/' % n)
print('trials=%d killed=%d finished=%d stored=%d lost=%d partial=%d' %
      (trials, killed, len(finished), len(found), len(lost), partial))
EOF
}

check_report() {
  report=$1
  echo "$report"
  last=$(echo "$report" | tail -n 1)
  assertContains "$last" "lost=0 partial=0"
  killed=$(echo "$last" | sed -n 's/.*killed=\([0-9]*\).*/\1/p')
  finished=$(echo "$last" | sed -n 's/.*finished=\([0-9]*\).*/\1/p')
  assertTrue "some trials were killed mid-delivery ($last)" "[ '${killed:-0}' -gt 0 ]"
  assertTrue "some trials finished ($last)" "[ '${finished:-0}' -gt 0 ]"
  assertEquals "no unexpected exit codes" "" "$(echo "$report" | grep 'unexpected exit')"
}

testKillNineDuringDeliveryToMaildir() {
  mkdir -p "$T_TMP/d1"
  check_report "$(crash_trials "$T_TMP/d1/box" "${CRASH_TRIALS:-500}" direct)"
}

testKillNineDuringLookupAndDelivery() {
  check_report "$(crash_trials "$PM" "${CRASH_TRIALS:-500}" lookup)"
}

# vmail-imapd under kill -9 in the middle of APPENDs (the uid list and the
# modseq log are appended to, a torn last record is possible): every UID a
# client was told (APPENDUID) still names its message, no UID is given
# twice, UIDVALIDITY stays, and no message file is partial.
imap_crash_trials() {
  python3 - "$1" "$2" <<'EOF'
import os, random, re, signal, subprocess, sys, threading, time
box, trials = sys.argv[1], int(sys.argv[2])
for d in ('cur', 'new', 'tmp'): os.makedirs(os.path.join(box, d), exist_ok=True)

def message(n):
    return b'Subject: imap trial %d\r\n\r\n' % n + b'body of trial %d ..........\r\n' % n * (1 + n % 50)

told, uidvalidities, killed, serial = {}, set(), 0, 0
random.seed(os.getpid())
for t in range(trials):
    p = subprocess.Popen(['vmail-imapd'], cwd=box, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    def reader(p=p):
        for line in p.stdout:
            m = re.match(rb'a(\d+) OK \[APPENDUID (\d+) (\d+)\]', line)
            if m:
                uidvalidities.add(int(m.group(2)))
                uid = int(m.group(3))
                if uid in told: print('UID %d told twice' % uid)
                told[uid] = int(m.group(1))
    th = threading.Thread(target=reader); th.start()
    try:
        if t % 2: p.stdin.write(b's SELECT INBOX\r\n')
        for _ in range(20):
            serial += 1
            msg = message(serial)
            p.stdin.write(b'a%d APPEND INBOX {%d+}\r\n%s\r\n' % (serial, len(msg), msg))
        p.stdin.flush()
    except (BrokenPipeError, OSError):
        pass
    time.sleep(random.uniform(0, 0.03))
    p.kill()
    if p.wait() == -signal.SIGKILL: killed += 1
    th.join()
    try: p.stdin.close()
    except OSError: pass

out = subprocess.run(['vmail-imapd'], cwd=box, input=b'f SELECT INBOX\r\ng UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\nh LOGOUT\r\n',
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
uv = re.search(rb'UIDVALIDITY (\d+)', out)
have = {int(u): int(n) for u, n in re.findall(rb'UID (\d+) BODY\[HEADER.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: imap trial (\d+)', out)}
wrong = [u for u, n in told.items() if have.get(u) != n]
for u in wrong: print('UID %d was told for trial %d, now %s' % (u, told[u], have.get(u)))
partial = 0
for d in ('cur', 'new'):
    for name in os.listdir(os.path.join(box, d)):
        data = open(os.path.join(box, d, name), 'rb').read()
        m = re.match(rb'Subject: imap trial (\d+)\r\n\r\n', data)
        if not m or data != message(int(m.group(1))): partial += 1; print('partial: %s' % name)
if len(uidvalidities) > 1 or (uv and uidvalidities and int(uv.group(1)) not in uidvalidities): print('UIDVALIDITY changed')
print('trials=%d killed=%d told=%d wrong=%d partial=%d' % (trials, killed, len(told), len(wrong), partial))
EOF
}

testKillNineDuringImapAppends() {
  mkdir -p "$T_TMP/i1"
  report=$(imap_crash_trials "$T_TMP/i1/box" "${CRASH_IMAP_TRIALS:-60}")
  echo "$report"
  last=$(echo "$report" | tail -n 1)
  assertContains "$last" "wrong=0 partial=0"
  assertEquals "nothing else wrong" 1 "$(echo "$report" | wc -l)"
  killed=$(echo "$last" | sed -n 's/.*killed=\([0-9]*\).*/\1/p')
  told=$(echo "$last" | sed -n 's/.*told=\([0-9]*\).*/\1/p')
  assertTrue "sessions were killed ($last)" "[ '${killed:-0}' -gt 0 ]"
  assertTrue "UIDs were told ($last)" "[ '${told:-0}' -gt 0 ]"
}

. shunit2
