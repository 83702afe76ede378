#!/bin/sh
# vmail-smtpd end to end: real clients (swaks, Python's smtplib, raw sockets)
# against a whole private instance; mail must reach the Maildirs.
T_PORT_BASE=${T_PORT_BASE:-15000}
. "$T_TOP/t/lib/common.sh"
. "$T_TOP/t/lib/e2e.sh"

oneTimeSetUp() {
  e2e_start || return 1
  BOX=$VMAIL_ROOT/example.com/postmaster
  cat > "$T_TMP/client.py" <<'PY'
import smtplib, socket, sys, threading, time
cmd, port = sys.argv[1], int(sys.argv[2])

def raw(script, src="127.0.0.1", wait_greeting=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(src, 0))
    if wait_greeting:
        s.recv(4096)
    s.sendall(script)
    s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out.decode("utf-8", "replace").replace("\r", "")

if cmd == "many":
    n, errors = int(sys.argv[3]), []
    def one(i):
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
                c.sendmail("sender@example.org", ["postmaster@example.com"],
                           "Subject: concurrent %d\r\n\r\nmessage %d\r\n" % (i, i))
        except Exception as e:
            errors.append("%d: %r" % (i, e))
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts: t.start()
    for t in ts: t.join()
    print("errors=%d %s" % (len(errors), " ".join(errors[:3])))
elif cmd == "utf8":
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo("python.test")
        msg = "From: j\u00f6rg@example.org\r\nSubject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\r\n\r\nGr\u00fc\u00dfe aus K\u00f6ln\r\n".encode()
        r = c.sendmail("j\u00f6rg@example.org", ["alias@example.com"], msg, mail_options=["BODY=8BITMIME", "SMTPUTF8"])
        print("refused=%d" % len(r))
elif cmd == "smuggle":
    seq = sys.argv[3].encode().decode("unicode_escape").encode()
    print(raw(b"EHLO smuggler.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\n"
              b"Subject: first\r\n\r\nfirst" + seq +
              b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\n"
              b"Subject: smuggled\r\n\r\nsmuggled\r\n.\r\nQUIT\r\n"))
elif cmd == "cut":
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.recv(4096)
    s.sendall(b"EHLO cut.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\n")
    time.sleep(0.3)
    s.sendall(b"Subject: cut\r\n\r\nhalf a message")
    time.sleep(0.3)
    s.close()
elif cmd == "early":
    # racing tcpserver's fork and exec: a few tries, one refusal is enough
    for i in range(5):
        out = raw(b"EHLO early.test\r\nQUIT\r\n", wait_greeting=False)
        if out.startswith("554"):
            break
    print(out)
elif cmd == "limit":
    # n sessions held open, all greeted; one more waits until one of them ends
    n, held = int(sys.argv[3]), []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if not s.recv(4096).startswith(b"220"):
            print("session %d not greeted" % i); sys.exit(1)
        held.append(s)
    extra = socket.create_connection(("127.0.0.1", port), timeout=1.5)
    try:
        print("greeted beyond the limit: %r" % extra.recv(4096))
    except socket.timeout:
        held.pop().close()
        extra.settimeout(10)
        print("waited, then %s" % extra.recv(4096).decode().split(" ")[0])
    for s in held: s.close()
elif cmd == "relay":
    print(raw(b"EHLO relay.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<someone@elsewhere.example.net>\r\nQUIT\r\n", src=sys.argv[3]))
PY
}

oneTimeTearDown() { e2e_stop; [ -n "${T_KEEP:-}" ] || rm -rf "$T_TMP"; }
# e2e_start sources vmail.env, whose PATH hides shunit2's stand-ins for these
setUp() { :; }
tearDown() { :; }

# (not n: wait_for_mail sets it)
mails() { echo $(( $(count_files "$BOX/new") + $(count_files "$BOX/cur") )); }

swaks_q() { swaks --server 127.0.0.1 --hide-all --timeout 30 "$@"; }
# AUTH needs TLS: STARTTLS, verifying the instance's certificate
swaks_tls() { swaks --tls --tls-verify --tls-ca-path "$VMAIL_TLS_CA" "$@"; }

testSwaksPlainDelivered() {
  before=$(mails)
  swaks_q --port "$E2E_SMTP" --from a@example.org --to postmaster@example.com --header "Subject: plain swaks" --body "hello from swaks"
  assertEquals "swaks exit" 0 $?
  wait_for_mail $((before + 1)) 20 "$BOX"
  assertEquals $((before + 1)) "$(mails)"
  assertContains "$(grep -l 'plain swaks' "$BOX"/new/* | xargs cat)" "by $VMAIL_HOSTNAME (vmail-smtpd) with ESMTP"
}

testAliasLandsInPostmaster() {
  before=$(mails)
  swaks_q --port "$E2E_SMTP" --from a@example.org --to alias@example.com --header "Subject: via alias" --pipeline
  assertEquals "swaks --pipeline" 0 $?
  wait_for_mail $((before + 1)) 20 "$BOX"
  assertTrue "alias mail in postmaster's Maildir" "grep -q 'Subject: via alias' $BOX/new/*"
}

testSwaksAuthPlainAndLogin() {
  before=$(mails)
  for mech in PLAIN LOGIN; do
    swaks_q --port "$E2E_SUBMISSION" --tls --tls-verify --tls-ca-path "$VMAIL_TLS_CA" --auth "$mech" --auth-user postmaster@example.com --auth-password "$E2E_PASSWORD" \
      --from postmaster@example.com --to postmaster@example.com --header "Subject: auth $mech"
    assertEquals "AUTH $mech" 0 $?
  done
  wait_for_mail $((before + 2)) 20 "$BOX"
  assertTrue "ESMTPSA in Received" "grep -q 'with ESMTPSA' $BOX/new/*"
}

testEightBitBody() {
  before=$(mails)
  swaks_q --port "$E2E_SMTP" --from a@example.org --to postmaster@example.com --header "Subject: eight bit" \
    --body "$(printf 'caf\303\251 cr\303\250me br\303\273l\303\251e')"
  wait_for_mail $((before + 1)) 20 "$BOX"
  assertTrue "8-bit body intact" "grep -q \"$(printf 'cr\303\250me')\" $BOX/new/*"
  python3 "$T_TMP/client.py" utf8 "$E2E_SMTP" > "$T_TMP/out" 2>&1
  assertEquals "refused=0" "$(cat "$T_TMP/out")"
  wait_for_mail $((before + 2)) 20 "$BOX"
  assertTrue "SMTPUTF8 message delivered" "grep -q 'with UTF8SMTP' $BOX/new/*"
}

testWrongPassword535() {
  out=$(swaks_tls --server 127.0.0.1 --port "$E2E_SUBMISSION" --auth PLAIN --auth-user postmaster@example.com \
        --auth-password wrong --from postmaster@example.com --to postmaster@example.com 2>&1)
  assertNotEquals 0 $?
  assertContains "$out" "535 5.7.8"
}

testRelayDeniedWithoutAuthAllowedWith() {
  # 127.0.0.1 is trusted by the default smtp.rules; 127.0.0.2 is not
  out=$(python3 "$T_TMP/client.py" relay "$E2E_SMTP" 127.0.0.2)
  assertContains "$out" "554 5.7.1 <someone@elsewhere.example.net>: Relay access denied"
  out=$(python3 "$T_TMP/client.py" relay "$E2E_SMTP" 127.0.0.1)
  assertContains "RELAYCLIENT from tcprules" "$out" "250 2.1.5"
  # AUTH is for the submission port, over TLS
  out=$(swaks_tls --server 127.0.0.1 --port "$E2E_SUBMISSION" -li 127.0.0.2 --auth PLAIN --auth-user postmaster@example.com \
        --auth-password "$E2E_PASSWORD" --from postmaster@example.com --to someone@elsewhere.example.net 2>&1)
  assertEquals "relay after AUTH" 0 $?
  assertContains "$out" "250 2.0.0 Ok: queued as"
  assertContains "$(cat "$VMAIL_LOGDIR/submission/current")" "ip=127.0.0.2 helo="
  assertTrue "logged as accepted for the remote recipient" \
    "grep 'auth=postmaster@example.com' '$VMAIL_LOGDIR/submission/current' | grep -q 'to=<someone@elsewhere.example.net> size=[0-9]* result=accepted'"
  sleep 1   # vmail-send has a look at it, and keeps it: there is no remote delivery here
  assertTrue "queued for the remote recipient" "grep -lq someone@elsewhere.example.net '$VMAIL_QUEUE_DIR'/env/*"
  qp=$(grep 'auth=postmaster@example.com' "$VMAIL_LOGDIR/submission/current" | grep 'to=<someone@elsewhere.example.net>' | sed -n 's/.* qp=\([0-9]*\) .*/\1/p' | tail -n 1)
  assertTrue "the log's qp=$qp ends the queue id" \
    "grep -l someone@elsewhere.example.net '$VMAIL_QUEUE_DIR'/env/* | grep -q '\.$(printf %07d "$qp")\$'"
}

testSubmissionNeedsAuth() {
  out=$(swaks --server 127.0.0.1 --port "$E2E_SUBMISSION" --from a@example.org --to postmaster@example.com 2>&1)
  assertNotEquals 0 $?
  assertContains "$out" "530 5.7.0"
}

testSmugglingMakesNoSecondMessage() {
  before=$(mails)
  for seq in '\n.\n' '\r\n.\n' '\n.\r\n' '\r.\r' '\r\n.\r'; do
    out=$(python3 "$T_TMP/client.py" smuggle "$E2E_SMTP" "$seq")
    assertEquals "$seq: one DATA" 1 "$(echo "$out" | grep -c '^354')"
    assertContains "$seq" "$out" "554 5.6.0"
  done
  # a clean message after them, so we know delivery has caught up
  swaks_q --port "$E2E_SMTP" --from a@example.org --to postmaster@example.com --header "Subject: after smuggling"
  wait_for_mail $((before + 1)) 20 "$BOX"
  sleep 1
  assertEquals $((before + 1)) "$(mails)"
  assertFalse "no smuggled message" "grep -q smuggled $BOX/new/* $BOX/cur/* 2>/dev/null"
}

testDisconnectMidDataLeavesNothing() {
  before=$(mails) queued=$(count_files "$VMAIL_QUEUE_DIR/mess")
  python3 "$T_TMP/client.py" cut "$E2E_SMTP"
  sleep 1
  assertEquals "nothing in the queue" "$queued" "$(count_files "$VMAIL_QUEUE_DIR/mess")"
  assertEquals "nothing half-written" 0 "$(count_files "$VMAIL_QUEUE_DIR/tmp")"
  assertEquals "nothing delivered" "$before" "$(mails)"
  assertContains "$(cat "$VMAIL_LOGDIR/smtpd/current")" "helo=cut.test auth=- messages=0 errors=0 end="
  assertTrue "logged as aborted" "grep 'helo=cut.test' '$VMAIL_LOGDIR/smtpd/current' | grep -q 'message id=.* result=aborted'"
}

testEarlyTalkerRefused() {
  out=$(python3 "$T_TMP/client.py" early "$E2E_SMTP")
  assertContains "$out" "554 5.5.0"
  assertNotContains "$out" "250"
}

testConnectionLimit() {
  for port in "$E2E_SMTP" "$E2E_SUBMISSION"; do
    out=$(python3 "$T_TMP/client.py" limit "$port" 100)
    assertEquals "port $port: tcpserver -c 100" "waited, then 220" "$out"
  done
}

testHundredConcurrentSessions() {
  before=$(mails)
  out=$(python3 "$T_TMP/client.py" many "$E2E_SMTP" 100)
  assertEquals "errors=0 " "$out"
  wait_for_mail $((before + 100)) 60 "$BOX"
  assertEquals $((before + 100)) "$(mails)"
  assertEquals 100 "$(cat "$BOX"/new/* | grep -c '^Subject: concurrent')"
}

. shunit2
