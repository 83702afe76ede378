#!/bin/sh
# vmail-pop3-login: the AUTHORIZATION state, with sessions piped into the
# whole chain vmail-pop3-login -> vmail-checkpw -> vmail-pop3d.
. "$T_TOP/t/lib/common.sh"

oneTimeSetUp() { seed_tutorial; }

BOX=$VMAIL_ROOT/example.com/postmaster

setUp() {
  export VMAIL_AUTH_PLAINTEXT=1
  rm -rf "$VMAIL_ROOT"
}

# login 'CMD1' 'CMD2' ...: one connection, all commands written at once
login() {
  for c in "$@"; do printf '%s\r\n' "$c"; done | vmail-pop3-login 2>"$T_TMP/log" | tr -d '\r'
}

# b64 STRING (printf format): base64 without line breaks
b64() { printf "$1" | base64 | tr -d '\n'; }

deliver() {
  mkdir -p "$BOX/tmp" "$BOX/new" "$BOX/cur"
  printf 'Subject: %s\n\nbody\n' "$1" > "$BOX/new/$2"
}

testGreetingAndCapa() {
  out=$(login CAPA QUIT)
  assertEquals "+OK vmail POP3 ready
+OK capability list follows
TOP
UIDL
RESP-CODES
AUTH-RESP-CODE
PIPELINING
USER
SASL PLAIN
EXPIRE NEVER
IMPLEMENTATION vmail
.
+OK bye" "$out"
}

testUserPassLogsInWithFullAddress() {
  deliver one 1700000001.M1P1.h
  out=$(login 'USER postmaster@example.com' 'PASS password' STAT QUIT)
  assertEquals "+OK vmail POP3 ready
+OK send PASS
+OK 1 messages
+OK 1 22
+OK bye" "$out"
  assertContains "$(cat "$T_TMP/log")" "session user=postmaster@example.com"
}

testPasswordWithSpaces() {
  sql "UPDATE virtual_users SET password = ENCRYPT('pass with  spaces', CONCAT('\$6\$', SUBSTRING(SHA(RAND()), -16))) WHERE email = 'user2@example.com'"
  out=$(login 'USER user2@example.com' 'PASS pass with  spaces' QUIT)
  sql "UPDATE virtual_users SET password = ENCRYPT('password2', CONCAT('\$6\$', SUBSTRING(SHA(RAND()), -16))) WHERE email = 'user2@example.com'"
  assertContains "$out" "+OK 0 messages"
}

testWrongPasswordThenRetry() {
  out=$(login 'USER postmaster@example.com' 'PASS wrong' 'USER postmaster@example.com' 'PASS password' QUIT)
  assertEquals "+OK vmail POP3 ready
+OK send PASS
-ERR [AUTH] authentication failed
+OK send PASS
+OK 0 messages
+OK bye" "$out"
}

testFailedLoginIsDelayed() {
  start=$(date +%s%N)
  out=$(VMAIL_AUTH_FAIL_DELAY=1000 login 'USER postmaster@example.com' 'PASS wrong' QUIT)
  elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
  assertContains "$out" "-ERR [AUTH] authentication failed"
  assertTrue "answered after ${elapsed}ms" "[ $elapsed -ge 1000 ]"
}

testBlockedAddressIsTemporary() {
  out=$(TCPREMOTEIP=192.0.2.20 VMAIL_AUTH_FAILURES=1 VMAIL_AUTH_WINDOW=600 login 'USER postmaster@example.com' 'PASS wrong' \
        'USER postmaster@example.com' 'PASS password' QUIT)
  assertContains "$out" "-ERR [AUTH] authentication failed"
  assertContains "$out" "-ERR [SYS/TEMP] too many failed logins from your address, try again later"
  assertNotContains "$out" "maildrop"
}

testThreeFailuresDisconnect() {
  out=$(login 'USER nobody@example.com' 'PASS x' 'USER nobody@example.com' 'PASS x' \
              'USER nobody@example.com' 'PASS x' 'USER postmaster@example.com' 'PASS password' STAT)
  assertContains "$out" "-ERR too many failures"
  assertNotContains "$out" "messages"
}

testNothingTouchesTheMailboxBeforeLogin() {
  login 'USER postmaster@example.com' 'PASS wrong' STAT 'RETR 1' 'LIST' QUIT >/dev/null
  assertFalse "no Maildir created" "[ -d '$BOX' ]"
  out=$(login STAT 'RETR 1' DELE QUIT)
  assertContains "$out" "-ERR log in first"
}

testPassWithoutUser() {
  out=$(login 'PASS password' QUIT)
  assertContains "$out" "-ERR USER first"
}

testAuthPlainInitialResponse() {
  deliver one 1700000001.M1P1.h
  out=$(login "AUTH PLAIN $(b64 '\0postmaster@example.com\0password')" STAT QUIT)
  assertEquals "+OK vmail POP3 ready
+OK 1 messages
+OK 1 22
+OK bye" "$out"
}

testAuthPlainContinuation() {
  out=$(login 'AUTH PLAIN' "$(b64 'postmaster@example.com\0postmaster@example.com\0password')" QUIT)
  assertEquals "+OK vmail POP3 ready
+ 
+OK 0 messages
+OK bye" "$out"
}

testAuthPlainFailures() {
  out=$(login "AUTH PLAIN $(b64 '\0postmaster@example.com\0wrong')" \
              "AUTH PLAIN $(b64 'user2@example.com\0postmaster@example.com\0password')" \
              'AUTH PLAIN' '*' 'AUTH PLAIN !!!!' 'AUTH CRAM-MD5' QUIT)
  assertEquals "+OK vmail POP3 ready
-ERR [AUTH] authentication failed
-ERR [AUTH] malformed PLAIN response
+ 
-ERR authentication cancelled
-ERR [AUTH] malformed PLAIN response
-ERR unsupported mechanism
+OK bye" "$out"
}

testAuthListsMechanisms() {
  out=$(login AUTH QUIT)
  assertContains "$out" "+OK
PLAIN
."
}

testPipelinedLoginAndCommands() {
  deliver one 1700000001.M1P1.h
  # all in one write: what follows PASS must reach vmail-pop3d
  out=$(printf 'USER postmaster@example.com\r\nPASS password\r\nSTAT\r\nUIDL\r\nQUIT\r\n' | vmail-pop3-login 2>/dev/null | tr -d '\r')
  assertEquals "+OK vmail POP3 ready
+OK send PASS
+OK 1 messages
+OK 1 22
+OK unique-id listing follows
1 1700000001.M1P1.h
.
+OK bye" "$out"
}

testPlaintextRefusedUnlessAllowed() {
  out=$(unset VMAIL_AUTH_PLAINTEXT; login CAPA 'USER postmaster@example.com' "AUTH PLAIN $(b64 '\0postmaster@example.com\0password')" QUIT)
  assertNotContains "$out" "SASL PLAIN"
  assertContains "$out" "-ERR [AUTH] plaintext authentication disallowed without TLS"
  assertNotContains "$out" "messages"
  out=$(unset VMAIL_AUTH_PLAINTEXT; SSL_PROTOCOL=TLSv1.3 login 'USER postmaster@example.com' 'PASS password' QUIT)
  assertContains "$out" "+OK 0 messages"
}

testDatabaseDownIsTemporary() {
  out=$(VMAIL_DB_SOCKET=$T_TMP/nonexistent.sock login 'USER postmaster@example.com' 'PASS password' QUIT)
  assertContains "$out" "-ERR [SYS/TEMP]"
  assertContains "$out" "+OK bye"
}

testInUseThroughLogin() {
  deliver one 1700000001.M1P1.h
  : > "$BOX/vmail-pop3.lock"
  out=$(flock "$BOX/vmail-pop3.lock" sh -c "printf 'USER postmaster@example.com\r\nPASS password\r\nSTAT\r\n' | vmail-pop3-login 2>/dev/null" | tr -d '\r')
  assertEquals "+OK vmail POP3 ready
+OK send PASS
-ERR [IN-USE] the mailbox is open in another POP3 session" "$out"
}

testLoginTimeout() {
  out=$( (sleep 3; printf 'QUIT\r\n') | VMAIL_POP3_LOGIN_TIMEOUT=1 vmail-pop3-login 2>/dev/null | tr -d '\r')
  assertEquals "+OK vmail POP3 ready
-ERR autologout: idle too long" "$out"
}

testClientThatStopsReadingIsDropped() {
  # CAPA and NOOP are no errors: a client that sends them and never reads
  # fills the socket, and the login must not wait for it forever
  out=$(VMAIL_POP3_LOGIN_TIMEOUT=1 python3 -c "
import socket, subprocess
a, b = socket.socketpair()
p = subprocess.Popen(['vmail-pop3-login'], stdin=b, stdout=b, stderr=subprocess.PIPE)
b.close()
a.setblocking(False)
try:
    while True:
        a.send(b'CAPA\r\n')   # and never read the answer
except BlockingIOError:
    pass
try:
    p.wait(timeout=15)
    print(p.stderr.read().decode().strip())
except subprocess.TimeoutExpired:
    p.kill()
    print('still writing after 15s')")
  assertEquals "vmail-pop3-login: info: nologin ip=- failures=0 end=write-timeout" "$out"
}

testTooManyErrors() {
  out=$(login X X X X X X X X X X CAPA)
  assertContains "$out" "-ERR too many errors"
  assertNotContains "$out" "capability"
}

testLongLineEndsConnection() {
  out=$(login "NOOP $(printf '%01019d' 0)" "NOOP $(printf '%01020d' 0)" CAPA)
  assertEquals "+OK vmail POP3 ready
-ERR bad command
-ERR line too long" "$out"
  assertContains "$(cat "$T_TMP/log")" "end=line-too-long"
  out=$(login 'AUTH PLAIN' "$(printf '%01030d' 0)" CAPA)
  assertEquals "+OK vmail POP3 ready
+ 
-ERR line too long" "$out"
  # read a byte at a time: a flood without a line end must not keep it busy until the timeout
  start=$(date +%s)
  out=$(head -c 50000000 /dev/zero | VMAIL_POP3_LOGIN_TIMEOUT=30 vmail-pop3-login 2>/dev/null | tr -d '\r')
  assertEquals "+OK vmail POP3 ready
-ERR line too long" "$out"
  assertTrue "ended at once" "[ $(($(date +%s) - start)) -lt 10 ]"
}

testOverlongUserRefused() {
  out=$(login "USER $(printf '%0300d' 0)@example.com" QUIT)
  assertContains "$out" "-ERR"
  assertContains "$out" "+OK bye"
}

testLongAddressAccepted() {
  long=$(printf 'a%.0s' $(seq 60))@example.com
  out=$(login "USER $long" QUIT)
  assertContains "$out" "+OK send PASS"
}

testConnectionWithoutLoginLogsOneLine() {
  printf 'USER nobody@example.com\r\nPASS x\r\nQUIT\r\n' | TCPREMOTEIP=192.0.2.9 vmail-pop3-login >/dev/null 2>"$T_TMP/log"
  assertEquals "vmail-pop3-login: info: nologin ip=192.0.2.9 failures=1 end=quit" "$(grep -v '^vmail-checkpw' "$T_TMP/log")"
}

testUsage() {
  vmail-pop3-login -x </dev/null >/dev/null 2>&1; assertEquals 100 $?
}

. shunit2
