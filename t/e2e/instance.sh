#!/bin/sh
# The `make run` contract: a private instance, its ports, vmail.env, the demo
# data, the README's shell examples, running twice, and `make stop`.
T_PORT_BASE=${T_PORT_BASE:-12000}
. "$T_TOP/t/lib/common.sh"
. "$T_TOP/t/lib/e2e.sh"

oneTimeSetUp() { e2e_start; }
oneTimeTearDown() { e2e_stop; rm -rf "$T_TMP"; }

testEveryPortAnswers() {
  for p in $E2E_SMTP $E2E_SUBMISSION $E2E_POP3 $E2E_IMAP $E2E_SUBMISSIONS $E2E_IMAPS $E2E_POP3S; do
    assertTrue "port $p" "port_answers $p"
  done
}

port_answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

testEnvPointsAtInstance() {
  env=$(sh -c ". '$E2E_RUN/vmail.env'; echo \$VMAIL_ROOT \$VMAIL_DB_SOCKET; command -v vmail-resolve")
  assertEquals "$E2E_RUN/mail $E2E_RUN/db/db.sock $T_TOP/bin/vmail-resolve" "$(echo $env)"
  assertEquals "$E2E_RUN/mail" "$(cat "$E2E_RUN/env/VMAIL_ROOT")"
}

# RCPT checks and deliveries ask the resolver service: however many SMTP
# sessions are open, one vmail-resolve, one database connection
testSessionsShareTheResolverService() {
  assertTrue "the socket exists" "[ -S '$E2E_RUN/resolve.sock' ]"
  python3 - "$E2E_SMTP" "$T_TMP/held" <<'PY' &
import smtplib, sys, time
port, flag = int(sys.argv[1]), sys.argv[2]
sessions = []
for i in range(4):
    s = smtplib.SMTP("127.0.0.1", port); s.ehlo("held.test")
    s.mail("a@b.example"); code, _ = s.rcpt("alias@example.com"); assert code == 250
    sessions.append(s)
open(flag, "w").close()
time.sleep(3)
for s in sessions: s.quit()
PY
  i=0; while [ ! -e "$T_TMP/held" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  assertTrue "four sessions past RCPT" "[ -e '$T_TMP/held' ]"
  # this instance's vmail-resolve processes, by their environment
  ours=$(pgrep -x vmail-resolve | while read -r p; do
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "VMAIL_ROOT=$E2E_RUN/mail" && tr '\0' ' ' < /proc/$p/cmdline && echo; done)
  assertEquals "only the service resolves (no co-process per session)" "vmail-resolve -l " "$ours"
  wait
}

# The instance's own CA, in vmail.env, verifies every TLS port; logins
# need TLS (no VMAIL_AUTH_PLAINTEXT)
testTlsWithTheInstanceCa() {
  ca=$(sh -c ". '$E2E_RUN/vmail.env'; echo \$VMAIL_TLS_CA")
  assertEquals "$E2E_RUN/tls/ca.pem" "$ca"
  assertFalse "no plaintext logins" "[ -e '$E2E_RUN/env/VMAIL_AUTH_PLAINTEXT' ]"
  assertContains "$(cat "$T_TMP/instance.out")" "trust the CA"
  for p in $E2E_SUBMISSIONS $E2E_IMAPS $E2E_POP3S; do
    echo | timeout 20 openssl s_client -connect "127.0.0.1:$p" -CAfile "$ca" -verify_return_error -brief >/dev/null 2>&1
    assertTrue "verified TLS on $p" $?
  done
  if [ "$(id -u)" = 0 ]; then
    assertEquals "$(id -u vmailtls)" "$(cat "$E2E_RUN/env/VMAIL_TLS_UID")"
  fi
}

testDemoDataAndResolve() {
  out=$(sh -c ". '$E2E_RUN/vmail.env'; vmail-resolve alias@example.com")
  assertEquals "local postmaster@example.com $E2E_RUN/mail/example.com/postmaster" "$out"
}

testDemoPasswordFromEnvironment() {
  out=$(sh -c ". '$E2E_RUN/vmail.env'; printf 'postmaster@example.com\0%s\0' '$E2E_PASSWORD' | vmail-checkpw env 3<&0 2>/dev/null" | grep '^MAILDIR=')
  assertEquals "MAILDIR=$E2E_RUN/mail/example.com/postmaster" "$out"
  sh -c ". '$E2E_RUN/vmail.env'; printf 'postmaster@example.com\0wrong\0' | vmail-checkpw env 3<&0" >/dev/null 2>&1
  assertEquals 1 $?
}

testMailCommandDelivers() {
  box=$E2E_RUN/mail/example.com/postmaster
  before=$(($(count_files "$box/new") + $(count_files "$box/cur")))
  sh -c ". '$E2E_RUN/vmail.env'; echo 'hello from mail(1)' | mail -s 'instance test' postmaster@example.com"
  assertEquals 0 $?
  wait_for_mail $((before + 1)) 10 "$box"
  assertTrue "delivered" "grep -rqs 'Subject: instance test' '$box/new' '$box/cur'"
}

testRunningTwiceIsSafe() {
  e2e_start
  assertEquals 0 $?
  out=$(sh -c ". '$E2E_RUN/vmail.env'; vmailctl user list example.com")
  assertEquals "postmaster@example.com" "$out"
  n=$(sh -c ". '$E2E_RUN/vmail.env'; vmailctl alias list example.com" | wc -l | tr -d ' ')
  assertEquals 1 "$n"
  assertTrue "smtp after restart" "port_answers $E2E_SMTP"
}

testStopAfterSvscanDied() {
  # s6-svscan killed: its supervisors still run the services; make stop
  # must end them all the same
  svscan=$(pgrep -f "^s6-svscan $E2E_RUN/service")
  assertNotEquals "s6-svscan found" "" "$svscan"
  kill -9 $svscan
  i=0; while kill -0 $svscan 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  assertTrue "services still up without s6-svscan" "port_answers $E2E_SMTP"
  e2e_stop
  assertFalse "smtp closed" "port_answers $E2E_SMTP"
  assertFalse "pop3 closed" "port_answers $E2E_POP3"
  for d in "$E2E_RUN"/service/*/ "$E2E_RUN"/service/*/log/; do
    assertFalse "no supervisor left in $d" "s6-svok '$d'"
  done
  e2e_start
  assertTrue "starts again" "port_answers $E2E_SMTP"
}

testStopEndsEverything() {
  e2e_stop
  assertFalse "smtp closed" "port_answers $E2E_SMTP"
  assertFalse "imap closed" "port_answers $E2E_IMAP"
  assertFalse "mariadb gone" "[ -S '$E2E_RUN/db/db.sock' ] && mariadb-admin --no-defaults -S '$E2E_RUN/db/db.sock' -uroot ping"
  e2e_start
  assertTrue "starts again" "port_answers $E2E_SMTP"
}

. shunit2
