#!/bin/sh
# Limits on guessing and on connections (README, security), end to end:
# real connections to a whole instance from several loopback addresses
# (127.0.0.2-127.0.0.9; the instance listens on 127.0.0.1 and trusts only
# 127.0.0.1 to relay), then fail2ban-regex with contrib/fail2ban's filter
# over the log lines they produced.
T_PORT_BASE=${T_PORT_BASE:-24000}
. "$T_TOP/t/lib/common.sh"
. "$T_TOP/t/lib/e2e.sh"

DELAY=300   # VMAIL_AUTH_FAIL_DELAY for this instance, milliseconds

oneTimeSetUp() {
  # the guessing limit keeps its defaults (5 per 60 s); small connection limits
  export VMAIL_AUTH_FAIL_DELAY=$DELAY
  # the guesses are plaintext logins on the plain ports: what is counted is
  # the same over TLS (t/e2e/tls.sh), and a test client without TLS is simpler
  export VMAIL_AUTH_PLAINTEXT=1
  export VMAIL_SMTP_CONCURRENCY=5 VMAIL_SMTP_CONCURRENCY_PER_IP=3
  export VMAIL_SUBMISSION_CONCURRENCY_PER_IP=2 VMAIL_POP3_CONCURRENCY_PER_IP=2 VMAIL_IMAP_CONCURRENCY_PER_IP=2
  # the default rules, and a trusted address with a limit of its own
  mkdir -p "$E2E_RUN/etc"
  printf '%s\n' '127.0.0.1:allow,RELAYCLIENT=""' '127.0.0.9:allow,VMAIL_CONNLIMIT="5",VMAIL_AUTH_FAILURES="0"' ':allow' > "$E2E_RUN/etc/smtp.rules"
  e2e_start || return 1
  cat > "$T_TMP/client.py" <<'PY'
import base64, socket, sys, time

def connect(src, port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=20, source_address=(src, 0))
    return s, s.makefile("rb")

def line(f):
    return f.readline().decode("latin-1").rstrip("\r\n")

def login(proto, src, port, user, password):
    """One connection, one login: prints the answer and how long it took."""
    s, f = connect(src, port)
    first = line(f)
    t = time.time()
    if proto == "smtp":
        s.sendall(b"EHLO limits.test\r\n")
        while not line(f).startswith("250 "): pass
        t = time.time()
        s.sendall(b"AUTH PLAIN " + base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()) + b"\r\n")
        answer = line(f)
        s.sendall(b"QUIT\r\n")
    elif proto == "pop3":
        s.sendall(b"USER " + user.encode() + b"\r\n"); line(f)
        t = time.time()
        s.sendall(b"PASS " + password.encode() + b"\r\n")
        answer = line(f)
        s.sendall(b"QUIT\r\n")
    else:
        t = time.time()
        s.sendall(b"a LOGIN " + user.encode() + b" " + password.encode() + b"\r\n")
        answer = line(f)
        while answer.startswith("* "): answer = line(f)
        s.sendall(b"z LOGOUT\r\n")
    ms = int((time.time() - t) * 1000)
    s.close()
    print("%s ms=%d" % (answer, ms))

def hold(src, port, n):
    """Opens n connections from src one after another, prints each one's
    first line, and keeps them open until killed."""
    conns = []
    for i in range(int(n)):
        s, f = connect(src, port)
        conns.append(s)
        print(line(f) or "(closed)", flush=True)
    print("held", flush=True)
    time.sleep(600)

cmd = sys.argv[1]
if cmd == "login": login(*sys.argv[2:])
elif cmd == "hold": hold(*sys.argv[2:])
elif cmd == "greet":
    s, f = connect(sys.argv[2], sys.argv[3])
    print(line(f) or "(closed)")
PY
}

oneTimeTearDown() {
  [ -n "${HELD:-}" ] && kill "$HELD" 2>/dev/null
  e2e_stop; rm -rf "$T_TMP"
}

client() { python3 "$T_TMP/client.py" "$@"; }

# guesses PROTO SRC PORT ANSWER: five wrong passwords, one connection each,
# each refused with ANSWER after the failure delay
guesses() {
  for i in 1 2 3 4 5; do
    out=$(client login "$1" "$2" "$3" postmaster@example.com "wrong$i")
    assertContains "$1 guess $i" "$out" "$4"
    ms=${out##*ms=}
    assertTrue "$1 guess $i answered after ${ms}ms, not before ${DELAY}ms" "[ $ms -ge $DELAY ]"
  done
}

# Five wrong passwords from one address, each on a new connection as the
# attacker in the review did: each refused after the delay; then even the
# right password is refused as blocked, from that address only.
testSmtpAuthGuessesLimitedPerAddress() {
  guesses smtp 127.0.0.2 "$E2E_SUBMISSION" "535 5.7.8"
  out=$(client login smtp 127.0.0.2 "$E2E_SUBMISSION" postmaster@example.com "$E2E_PASSWORD")
  assertContains "blocked" "$out" "421 4.7.0 Too many failed logins from your address"
  out=$(client login smtp 127.0.0.3 "$E2E_SUBMISSION" postmaster@example.com "$E2E_PASSWORD")
  assertContains "another address" "$out" "235 2.7.0"
  assertContains "port 25 counts the same" \
    "$(client login smtp 127.0.0.2 "$E2E_SMTP" postmaster@example.com "$E2E_PASSWORD")" "421 4.7.0"
}

# One count for every protocol: guesses over IMAP block POP3 too.
testImapAndPop3ShareTheCount() {
  guesses imap 127.0.0.4 "$E2E_IMAP" "a NO [AUTHENTICATIONFAILED]"
  assertContains "IMAP blocked" "$(client login imap 127.0.0.4 "$E2E_IMAP" postmaster@example.com "$E2E_PASSWORD")" \
    "a NO [UNAVAILABLE] Too many failed logins from your address"
  assertContains "POP3 blocked" "$(client login pop3 127.0.0.4 "$E2E_POP3" postmaster@example.com "$E2E_PASSWORD")" \
    "-ERR [SYS/TEMP] too many failed logins from your address"
  assertContains "SMTP blocked" "$(client login smtp 127.0.0.4 "$E2E_SUBMISSION" postmaster@example.com "$E2E_PASSWORD")" \
    "421 4.7.0"
  assertContains "another address logs in" "$(client login imap 127.0.0.5 "$E2E_IMAP" postmaster@example.com "$E2E_PASSWORD")" \
    "a OK"
  assertContains "over POP3 too" "$(client login pop3 127.0.0.5 "$E2E_POP3" postmaster@example.com "$E2E_PASSWORD")" "+OK"
}

# The filter shipped for fail2ban finds every refused guess above, with the
# address it came from, in the services' own logs.
testFail2banFilterMatchesTheLogs() {
  logs=$(cat "$E2E_RUN"/log/submission/current "$E2E_RUN"/log/smtpd/current "$E2E_RUN"/log/imap/current "$E2E_RUN"/log/pop3/current)
  printf '%s\n' "$logs" > "$T_TMP/all.log"
  out=$(fail2ban-regex -v "$T_TMP/all.log" "$T_TOP/contrib/fail2ban/filter.d/vmail-auth.conf" 2>&1)
  fails=$(grep -c 'vmail-checkpw: info: auth \(fail\|blocked\) ' "$T_TMP/all.log")
  assertTrue "the logs have the lines ($fails)" "[ $fails -ge 14 ]"
  assertContains "$out" "Lines: "
  assertTrue "every refused guess matched: $(echo "$out" | grep '^Lines')" "echo '$out' | grep -q \"^Lines: .* $fails matched\""
  assertContains "with the SMTP guesser's address" "$out" "127.0.0.2"
  assertContains "and the IMAP one's" "$out" "127.0.0.4"
  assertNotContains "never an address that only logged in" "$out" "127.0.0.5"
  assertNotContains "nor 127.0.0.3" "$out" "127.0.0.3"
  # and the jail loads, pointed at this instance's logs
  cp -R /etc/fail2ban "$T_TMP/f2b"
  rm -f "$T_TMP"/f2b/jail.d/*
  cp "$T_TOP/contrib/fail2ban/filter.d/vmail-auth.conf" "$T_TMP/f2b/filter.d/"
  sed "s|^logpath .*|logpath  = $E2E_RUN/log/*/current|" "$T_TOP/contrib/fail2ban/jail.d/vmail.conf" > "$T_TMP/f2b/jail.d/vmail.conf"
  out=$(fail2ban-client -c "$T_TMP/f2b" -d 2>&1)
  assertContains "$out" "['add', 'vmail-auth', "
  assertContains "$out" "'addfailregex', '^\\s*vmail-checkpw: info: auth"
  assertContains "every service's log" "$out" "$E2E_RUN/log/imap/current"
  assertContains "$out" "$E2E_RUN/log/smtpd/current"
}

# hold PROG SRC PORT N: N connections from SRC in the background; HELD is
# its pid once all N have their first line (in $T_TMP/held.SRC.PORT).
hold() {
  f=$T_TMP/held.$1.$2
  python3 "$T_TMP/client.py" hold "$1" "$2" "$3" > "$f" &
  HELD=$!
  i=0; until grep -q '^held$' "$f" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 200 ] || { kill "$HELD"; return 1; }; sleep 0.1
  done
}

# release: closes the held connections
release() { kill "$HELD"; wait "$HELD" 2>/dev/null; HELD=; }

# greeted SRC PORT TEXT: polls, bounded, until a new connection from SRC
# is greeted with TEXT
greeted() {
  i=0; until client greet "$1" "$2" | grep -qF "$3"; do
    i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.1
  done
}

# One address holds VMAIL_SMTP_CONCURRENCY_PER_IP (3) of the 5 slots: its
# next connections are told to try later, another address is served, and a
# slot the first frees is its again.
testOneAddressCannotTakeEverySmtpSlot() {
  hold 127.0.0.6 "$E2E_SMTP" 5 || fail "connections not answered"
  out=$(cat "$T_TMP/held.127.0.0.6.$E2E_SMTP")
  assertEquals "three sessions" 3 "$(echo "$out" | grep -c '^220 ')"
  assertEquals "two refused" 2 "$(echo "$out" | grep -c '^421 4.7.0 Too many connections from your address')"
  assertContains "another address is served" "$(client greet 127.0.0.7 "$E2E_SMTP")" "220 "
  release
  greeted 127.0.0.6 "$E2E_SMTP" "220 "
  assertTrue "served again once its connections closed" $?
  assertContains "refusals are logged" "$(cat "$E2E_RUN/log/smtpd/current")" "vmail-connlimit: info: refused ip=127.0.0.6 port=$E2E_SMTP max=3"
}

# The host's own connections to itself are not counted (a webmail on the
# same host opens one per user), and tcprules may give an address a limit
# of its own.
testExceptions() {
  hold 127.0.0.1 "$E2E_SMTP" 4 || fail "connections not answered"
  assertEquals "127.0.0.1 to itself: not limited" 4 "$(grep -c '^220 ' "$T_TMP/held.127.0.0.1.$E2E_SMTP")"
  release
  hold 127.0.0.9 "$E2E_SMTP" 4 || fail "connections not answered"
  assertEquals "VMAIL_CONNLIMIT=5 from the rules" 4 "$(grep -c '^220 ' "$T_TMP/held.127.0.0.9.$E2E_SMTP")"
  release
  # VMAIL_AUTH_FAILURES=0 from the rules: guesses refused, never blocked
  for i in 1 2 3 4 5 6; do
    assertContains "$(client login smtp 127.0.0.9 "$E2E_SMTP" postmaster@example.com "wrong$i")" "535 5.7.8"
  done
}

# per_address NAME PORT OK REFUSAL: VMAIL_*_CONCURRENCY_PER_IP is 2 there
per_address() {
  hold 127.0.0.8 "$2" 3 || { fail "$1: connections not answered"; return; }
  out=$(cat "$T_TMP/held.127.0.0.8.$2")
  assertEquals "$1: two sessions" 2 "$(echo "$out" | grep -cF "$3")"
  assertContains "$1: the third refused" "$out" "$4"
  assertContains "$1: another address" "$(client greet 127.0.0.9 "$2")" "$3"
  release
  greeted 127.0.0.8 "$2" "$3"
  assertTrue "$1: served again" $?
}

testPerAddressLimitOnEveryService() {
  per_address submission "$E2E_SUBMISSION" "220 " "421 4.7.0 Too many connections from your address"
  per_address pop3 "$E2E_POP3" "+OK" "-ERR [SYS/TEMP] Too many connections from your address"
  per_address imap "$E2E_IMAP" "* OK" "* BYE [UNAVAILABLE] Too many connections from your address"
}

# tcprules still decide who relays: only 127.0.0.1 (the default rules).
testTcprulesStillApply() {
  out=$(swaks --server 127.0.0.1 --port "$E2E_SMTP" --local-interface 127.0.0.7 --to u@elsewhere.example \
              --from a@example.org --quit-after RCPT 2>&1)
  assertContains "from 127.0.0.7 no relaying" "$out" "554 5.7.1"
  out=$(swaks --server 127.0.0.1 --port "$E2E_SMTP" --local-interface 127.0.0.1 --to u@elsewhere.example \
              --from a@example.org --quit-after RCPT 2>&1)
  assertContains "127.0.0.1 has RELAYCLIENT" "$out" "250 2.1.5"
}

. shunit2
