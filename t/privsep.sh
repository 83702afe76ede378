#!/bin/sh
# needs: root
# Privilege separation as the services run it in production (started as
# root by tcpserver): the process that reads the network is never root, a
# root partner only runs vmail-checkpw and starts the queue program, and mail
# is handled as VMAIL_UID, never by the uid that parses SMTP (VMAIL_SMTPD_UID).
# Every process of a session is checked at every stage; without its users a
# program refuses to start as root. (As another user there is nothing to
# separate: t/run-tests runs every other suite that way.)
. "$T_TOP/t/lib/common.sh"

MAIL_UID=65534 LOGIN_UID=65533 SMTPD_UID=65532

oneTimeSetUp() {
  seed_tutorial
  # what the mail user may read and write, as a site sets it up
  S=$(mktemp -d /tmp/vmail-privsep.XXXXXX)
  mkdir -p "$S/vhosts" "$S/queue"
  cp "$T_DB/lookup.pw" "$S/lookup.pw"
  chown -R "$MAIL_UID:$MAIL_UID" "$S/vhosts" "$S/queue"
  chmod 700 "$S/vhosts" "$S/queue"
  mkdir -p "$S/rec"; chown "$MAIL_UID" "$S/rec"   # where test wrappers write what they saw
  # the lookup account's password: the mail user's, and the SMTP sessions'
  # group's (their resolver co-process looks recipients up)
  chown "$MAIL_UID:$SMTPD_UID" "$S/lookup.pw"; chmod 640 "$S/lookup.pw"
  chmod 711 "$S"   # the users reach the database socket under T_TMPROOT (1733)
  export VMAIL_ROOT=$S/vhosts VMAIL_QUEUE_DIR=$S/queue VMAIL_DB_PASSWORD_FILE=$S/lookup.pw
  export VMAIL_UID=$MAIL_UID VMAIL_GID=$MAIL_UID VMAIL_AUTH_PLAINTEXT=1 VMAIL_POP3_FAIL_DELAY=0
  export VMAIL_SMTPD_UID=$SMTPD_UID VMAIL_SMTPD_GID=$SMTPD_UID
  export VMAIL_HOSTNAME=mx.test
}

oneTimeTearDown() { rm -rf "$S" "$T_TMP"; }

uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
gid_of() { awk '/^Gid:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# as_process PID CMD...: runs CMD with the real uid and gid of process PID
as_process() { p=$1; shift; setpriv --reuid="$(uid_of "$p")" --regid="$(gid_of "$p")" --clear-groups "$@"; }
children() { pgrep -P "$1" | paste -sd ' '; }

# session PROG...: starts PROG reading the fifo $T_TMP/in (held open on fd 8),
# answers in $T_TMP/out; P is its pid
session() {
  rm -f "$T_TMP/in"; mkfifo "$T_TMP/in"
  "$@" < "$T_TMP/in" > "$T_TMP/out" 2>"$T_TMP/err" &
  P=$!
  exec 8>"$T_TMP/in"
}
say() { printf '%s\r\n' "$1" >&8; }
# waits until the answers hold $1 (a fixed string); a failure if they never do
await() {
  i=0; while ! grep -qF -e "$1" "$T_TMP/out" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { fail "no '$1' in: $(cat "$T_TMP/out")"; return 1; }; sleep 0.05
  done
}
end_session() { exec 8>&-; wait "$P"; }

testPop3LoginReadsTheNetworkAsTheLoginUser() {
  session env VMAIL_LOGIN_UID=$LOGIN_UID VMAIL_LOGIN_GID=$LOGIN_UID vmail-pop3-login vmail-pop3d
  await '+OK vmail POP3 ready'
  assertEquals "the partner stays root" 0 "$(uid_of "$P")"
  c=$(children "$P")
  assertEquals "one child speaks POP3" 1 "$(echo $c | wc -w)"
  assertEquals "as VMAIL_LOGIN_UID" "$LOGIN_UID" "$(uid_of $c)"
  say 'USER postmaster@example.com'; say 'PASS wrong'
  await '-ERR [AUTH]'
  say 'USER postmaster@example.com'; say 'PASS password'; say 'STAT'
  await '+OK 0 0'
  # the partner ran vmail-checkpw, which became the mail user and ran pop3d
  server=$(pgrep -x vmail-pop3d | while read -r p; do [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$P" ] && echo "$p"; done)
  assertNotEquals "vmail-pop3d runs" "" "$server"
  assertEquals "vmail-pop3d as VMAIL_UID" "$MAIL_UID" "$(uid_of "$server")"
  say 'QUIT'
  end_session
  assertEquals "the Maildir is the mail user's" "$MAIL_UID" "$(stat -c %u "$VMAIL_ROOT/example.com/postmaster/cur")"
}

testImapLoginReadsTheNetworkAsTheLoginUser() {
  session env VMAIL_LOGIN_UID=$LOGIN_UID VMAIL_LOGIN_GID=$LOGIN_UID vmail-imap-login vmail-imapd
  await '* OK [CAPABILITY'
  assertEquals "the partner stays root" 0 "$(uid_of "$P")"
  assertEquals "the child speaks IMAP as VMAIL_LOGIN_UID" "$LOGIN_UID" "$(uid_of "$(children "$P")")"
  say 'a LOGIN postmaster@example.com wrong'
  await 'a NO [AUTHENTICATIONFAILED]'
  say 'b LOGIN postmaster@example.com password'
  await 'b OK'
  say 'c SELECT INBOX'
  await 'c OK'
  server=$(pgrep -x vmail-imapd | while read -r p; do [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$P" ] && echo "$p"; done)
  assertEquals "vmail-imapd as VMAIL_UID, answering the login's tag" "$MAIL_UID" "$(uid_of "$server")"
  say 'd LOGOUT'
  end_session
  assertEquals "the session is over" "" "$(children "$P" 2>/dev/null)"
  assertEquals "the folders are the mail user's" "" "$(find "$VMAIL_ROOT/example.com/postmaster" ! -user "$MAIL_UID")"
}

testLoginsRefuseWithoutTheMailUser() {
  # vmail-checkpw would become nobody knows whom after the login
  for prog in vmail-pop3-login vmail-imap-login; do
    out=$(printf 'QUIT\r\n' | env -u VMAIL_UID -u VMAIL_GID "$prog" 2>&1)
    assertEquals "$prog" 100 $?
    assertContains "$prog names the variable" "$out" 'VMAIL_UID and VMAIL_GID are unset: refusing to run as root'
    assertNotContains "$prog says nothing to the client" "$out" 'OK'
  done
}

testLoginUserDefaultsToNobody() {
  session vmail-pop3-login vmail-pop3d
  await '+OK vmail POP3 ready'
  assertEquals "nobody" "$(id -u nobody)" "$(uid_of "$(children "$P")")"
  say 'QUIT'
  end_session
}

testLoginRefusesToDropToRoot() {
  out=$(printf 'QUIT\r\n' | VMAIL_LOGIN_UID=0 VMAIL_LOGIN_GID=0 vmail-pop3-login 2>&1)
  assertEquals 111 $?
  assertNotContains "no greeting" "$out" '+OK'
  assertContains "$out" 'fatal: unable to become VMAIL_LOGIN_UID/VMAIL_LOGIN_GID'
}

# the pids of vmail-queue processes whose parent is $1
queue_children() {
  pgrep -x vmail-queue | while read -r p; do [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$1" ] && echo "$p"; done
}

testSmtpdSessionParsesAsTheSmtpdUser() {
  plain=$(printf '\0postmaster@example.com\0password' | base64 -w0)
  session vmail-smtpd
  await '220 mx.test'
  assertEquals "the partner stays root" 0 "$(uid_of "$P")"
  c=$(children "$P")
  assertEquals "one child speaks SMTP" 1 "$(echo $c | wc -w)"
  assertEquals "as VMAIL_SMTPD_UID before AUTH" "$SMTPD_UID" "$(uid_of $c)"
  assertEquals "and its group" "$SMTPD_UID" "$(gid_of $c)"
  say 'EHLO client.test'; say "AUTH PLAIN $(printf '\0postmaster@example.com\0nope' | base64 -w0)"
  await '535 5.7.8'
  say "AUTH PLAIN $plain"
  await '235 2.7.0'
  assertEquals "still VMAIL_SMTPD_UID after AUTH" "$SMTPD_UID" "$(uid_of $c)"
  assertEquals "the partner is still root" 0 "$(uid_of "$P")"
  say 'MAIL FROM:<postmaster@example.com>'; say 'RCPT TO:<alias@example.com>'; say 'DATA'
  await '354'
  say 'Subject: privsep'
  # mid-message: the queue program is the partner's child, as the mail user
  q=; i=0; while [ -z "$q" ] && [ $i -lt 100 ]; do q=$(queue_children "$P"); i=$((i + 1)); [ -n "$q" ] || sleep 0.05; done
  assertNotEquals "vmail-queue runs beside the session" "" "$q"
  assertEquals "vmail-queue as VMAIL_UID" "$MAIL_UID" "$(uid_of "$q")"
  for k in $(children "$c"); do   # its resolver co-process, if any
    assertEquals "what the parser starts is VMAIL_SMTPD_UID too" "$SMTPD_UID" "$(uid_of "$k")"
  done
  say ''; say 'hello'; say '.'
  await '250 2.0.0 Ok: queued'
  # from inside the session's uid: neither the queued message nor a Maildir
  id=$(ls "$VMAIL_QUEUE_DIR/mess")
  assertFalse "the session cannot read a queued message" "as_process $c cat '$VMAIL_QUEUE_DIR/mess/$id' >/dev/null 2>&1"
  assertFalse "nor list the queue" "as_process $c ls '$VMAIL_QUEUE_DIR/mess' >/dev/null 2>&1"
  assertFalse "nor write into it" "as_process $c touch '$VMAIL_QUEUE_DIR/tmp/x' 2>/dev/null"
  assertFalse "nor open a Maildir" "as_process $c ls '$VMAIL_ROOT/example.com/postmaster/new' >/dev/null 2>&1"
  assertFalse "nor create one" "as_process $c mkdir '$VMAIL_ROOT/x.org' 2>/dev/null"
  say 'QUIT'
  end_session
  assertEquals "one message queued" 1 "$(ls "$VMAIL_QUEUE_DIR/env" | wc -l)"
  assertEquals "queued as the mail user" "" "$(find "$VMAIL_QUEUE_DIR" ! -user "$MAIL_UID")"
  # and it still arrives
  vmail-send 2>"$T_TMP/send.log" &
  pid=$!
  i=0; while [ -n "$(ls "$VMAIL_QUEUE_DIR/env")" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill $pid; wait $pid
  assertContains "delivered" "$(cat "$VMAIL_ROOT"/example.com/postmaster/new/* 2>/dev/null)" 'Subject: privsep'
}

testSmtpdQueueFiltersRunAsTheMailUser() {
  # a VMAIL_QUEUE filter chain is started by the partner, as the mail user,
  # and still ends in vmail-queue
  printf '#!/bin/sh\nid -u > %s/filter.uid\nexec vmail-queue\n' "$S/rec" > "$T_TMP/filter"
  chmod 755 "$T_TMP/filter"; chmod 711 "$T_TMP"
  before=$(ls "$VMAIL_QUEUE_DIR/env" | wc -l)
  out=$(printf 'EHLO x\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nSubject: filtered\r\n\r\nhi\r\n.\r\nQUIT\r\n' |
        env -u VMAIL_AUTH_PLAINTEXT VMAIL_QUEUE="$T_TMP/filter" vmail-smtpd 2>&1)
  assertContains "$out" '250 2.0.0 Ok: queued'
  assertEquals "the filter ran as VMAIL_UID" "$MAIL_UID" "$(cat "$S/rec/filter.uid")"
  assertEquals "one more queued" $((before + 1)) "$(ls "$VMAIL_QUEUE_DIR/env" | wc -l)"
}

testSendmailFiltersRunAsTheMailUser() {
  printf '#!/bin/sh\nid -u > %s/sendmail-filter.uid\nexec vmail-queue\n' "$S/rec" > "$T_TMP/sfilter"
  chmod 755 "$T_TMP/sfilter"; chmod 711 "$T_TMP"
  printf 'Subject: filtered by root\n\nhi\n' | VMAIL_QUEUE="$T_TMP/sfilter" vmail-sendmail -i postmaster@example.com
  assertEquals 0 $?
  assertEquals "root's filter ran as VMAIL_UID" "$MAIL_UID" "$(cat "$S/rec/sendmail-filter.uid")"
  printf 'x\n' | env -u VMAIL_UID -u VMAIL_GID VMAIL_QUEUE="$T_TMP/sfilter" vmail-sendmail -i postmaster@example.com 2>"$T_TMP/err"
  assertEquals "without the mail user" 100 $?
  assertContains "$(cat "$T_TMP/err")" 'VMAIL_UID and VMAIL_GID are unset'
}

testSmtpdWithoutAuthStillSeparates() {
  session env -u VMAIL_AUTH_PLAINTEXT vmail-smtpd
  await '220 mx.test'
  assertEquals "the partner stays root: it starts the queue program" 0 "$(uid_of "$P")"
  assertEquals "the session is VMAIL_SMTPD_UID" "$SMTPD_UID" "$(uid_of "$(children "$P")")"
  say 'EHLO client.test'
  await '250 ENHANCEDSTATUSCODES'
  assertNotContains "no AUTH offered" "$(cat "$T_TMP/out")" "AUTH"
  say 'QUIT'
  end_session
}

testSmtpdHungQueueProgramKilledByThePartner() {
  # the queue program is the partner's child, as the mail user: the session
  # cannot signal it, so the partner kills its group after VMAIL_TIMEOUT
  printf '#!/bin/sh\ncat > /dev/null; cat <&1 > /dev/null\nsleep 120 &\necho $! > %s/hung.pid\nwait\n' "$S/rec" > "$T_TMP/hung"
  chmod 755 "$T_TMP/hung"; chmod 711 "$T_TMP"; rm -f "$S/rec/hung.pid"
  start=$(date +%s)
  out=$(printf 'EHLO x\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' |
        VMAIL_QUEUE="$T_TMP/hung" VMAIL_TIMEOUT=2 vmail-smtpd 2>&1)
  took=$(( $(date +%s) - start ))
  assertContains "$out" '451 4.3.0'
  assertContains "$out" 'has not exited within VMAIL_TIMEOUT'
  assertTrue "answered after about VMAIL_TIMEOUT, took ${took}s" "[ $took -ge 1 ] && [ $took -le 10 ]"
  hung=$(cat "$S/rec/hung.pid")
  assertEquals "it ran as the mail user" "$MAIL_UID" "$(stat -c %u "$S/rec/hung.pid")"
  i=0; while kill -0 "$hung" 2>/dev/null && [ "$(ps -o stat= -p "$hung" | cut -c1)" != Z ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  state=$(ps -o stat= -p "$hung" | cut -c1)
  assertTrue "what it started is killed too (state '$state')" "[ -z '$state' ] || [ '$state' = Z ]"
}

testSmtpdRefusesWithoutItsUsers() {
  out=$(printf 'EHLO x\r\nQUIT\r\n' | env -u VMAIL_SMTPD_UID -u VMAIL_SMTPD_GID vmail-smtpd 2>&1)
  assertEquals "without VMAIL_SMTPD_UID" 100 $?
  assertContains "$out" 'VMAIL_SMTPD_UID and VMAIL_SMTPD_GID are unset: refusing to run as root'
  assertNotContains "no greeting" "$out" "220 "
  out=$(printf 'EHLO x\r\nQUIT\r\n' | env -u VMAIL_UID -u VMAIL_GID vmail-smtpd 2>&1)
  assertEquals "without VMAIL_UID" 100 $?
  assertContains "$out" 'VMAIL_UID and VMAIL_GID are unset: refusing to run as root'
  assertNotContains "no greeting" "$out" "220 "
}

testMailProgramsRefuseWithoutTheMailUser() {
  for cmd in 'vmail-deliver postmaster@example.com' 'vmail-send' 'vmail-checkpw true' \
             'vmail-pop3d' 'vmail-imapd' 'vmail-remote example.org a@example.com b@example.org' \
             "s6-ipcserver-socketbinder $T_TMP/r.sock vmail-resolve -l"; do
    out=$(printf 'x\n' | env -u VMAIL_UID -u VMAIL_GID sh -c "exec $cmd" 2>&1 3</dev/null)
    rc=$?
    # vmail-checkpw reads fd 3 first: an empty login is a bad one, before any drop
    [ "$cmd" = 'vmail-checkpw true' ] && { assertEquals "$cmd" 1 $rc; continue; }
    assertEquals "$cmd" 100 $rc
    assertContains "$cmd names the variables" "$out" 'VMAIL_UID and VMAIL_GID are unset: refusing to run as root'
  done
  out=$(printf 'postmaster@example.com\0password\0' | env -u VMAIL_UID -u VMAIL_GID vmail-checkpw id -u 2>&1 3<&0)
  assertEquals "vmail-checkpw after a good login" 100 $?
  assertContains "$out" 'VMAIL_UID and VMAIL_GID are unset'
  # vmail-queue keeps qmail-queue's codes: 61, temporary, so nothing is lost
  mkdir -p "$T_TMP/rootq"
  printf 'F\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  out=$(printf 'x\n' | env -u VMAIL_UID -u VMAIL_GID VMAIL_QUEUE_DIR="$T_TMP/rootq" vmail-queue 2>&1 1< "$T_TMP/env")
  assertEquals "vmail-queue into a queue root owns" 61 $?
  assertContains "$out" 'VMAIL_UID and VMAIL_GID are unset'
  assertEquals "nothing written" "" "$(find "$T_TMP/rootq" -type f)"
}

testMailProgramsBecomeTheMailUser() {
  printf 'Subject: by hand\n\nhi\n' | vmail-deliver postmaster@example.com
  assertEquals 0 $?
  assertEquals "delivered as the mail user" "" "$(find "$VMAIL_ROOT" ! -user "$MAIL_UID")"
  printf 'Subject: queued by root\n\nhi\n' | vmail-sendmail -i postmaster@example.com
  assertEquals 0 $?
  assertEquals "queued as the mail user" "" "$(find "$VMAIL_QUEUE_DIR" ! -user "$MAIL_UID")"
  assertContains "the trace names who injected it" "$(cat "$VMAIL_QUEUE_DIR"/mess/*)" "by uid 0)"
  # root's cron mail, without the service's environment: as the queue's owner
  before=$(ls "$VMAIL_QUEUE_DIR/env" | wc -l)
  printf 'Subject: cron\n\nhi\n' | env -u VMAIL_UID -u VMAIL_GID vmail-sendmail -i postmaster@example.com
  assertEquals 0 $?
  assertEquals "one more queued" $((before + 1)) "$(ls "$VMAIL_QUEUE_DIR/env" | wc -l)"
  assertEquals "still all the mail user's" "" "$(find "$VMAIL_QUEUE_DIR" ! -user "$MAIL_UID")"
  # each delivery records its uid, then is vmail-deliver
  printf '#!/bin/sh\nid -u >> %s/deliver.uid\nexec vmail-deliver "$@"\n' "$S/rec" > "$T_TMP/deliver"
  chmod 755 "$T_TMP/deliver"; chmod 711 "$T_TMP"
  VMAIL_DELIVER=$T_TMP/deliver vmail-send 2>"$T_TMP/send.log" &
  pid=$!
  i=0; while [ -n "$(ls "$VMAIL_QUEUE_DIR/env")" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  assertEquals "vmail-send as the mail user" "$MAIL_UID" "$(uid_of $pid)"
  kill $pid; wait $pid
  assertEquals "every delivery as the mail user" "$MAIL_UID" "$(sort -u "$S/rec/deliver.uid")"
  assertEquals "the queue emptied" "" "$(ls "$VMAIL_QUEUE_DIR/env")"
  assertContains "$(cat "$T_TMP/send.log")" "status=sent"
  assertEquals "everything delivered as the mail user" "" "$(find "$VMAIL_ROOT" ! -user "$MAIL_UID")"
}

# as_uid_ask_resolver UID SOCKET: connects to the resolver's unix socket as UID:UID and
# asks for alias@example.com: the answer, or "refused"
as_uid_ask_resolver() {
  cat > "$S/ask.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10)
try: s.connect(sys.argv[1])
except OSError: print("refused"); sys.exit(0)
s.sendall(b"alias@example.com\n"); d = b""
while not d.endswith(b"\n\n"):
    c = s.recv(4096)
    if not c: break
    d += c
print(d.decode().splitlines()[0])
PY
  chmod 644 "$S/ask.py"
  setpriv --reuid="$1" --regid="$1" --clear-groups /usr/bin/python3 "$S/ask.py" "$2"
}

testResolverServiceIsTheMailUsersAndTheSessions() {
  # service/resolve as root: the server as the mail user, the socket for it
  # and for the SMTP sessions' group, for nobody else
  svc=$S/svc; mkdir -p "$svc/env"; chmod 755 "$svc"
  echo "$svc/run/resolve.sock" > "$svc/env/VMAIL_RESOLVE_SOCKET"
  for v in VMAIL_UID VMAIL_GID VMAIL_SMTPD_GID VMAIL_DB_PASSWORD_FILE; do eval "printf '%s\n' \"\$$v\"" > "$svc/env/$v"; done
  VMAIL_ENVDIR=$svc/env "$T_TOP/service/resolve/run" > "$svc/log" 2>&1 &
  pid=$!
  i=0; until grep -q '^start' "$svc/log" 2>/dev/null || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
  assertEquals "the socket" "$MAIL_UID $SMTPD_UID 660" "$(stat -c '%u %g %a' "$svc/run/resolve.sock")"
  assertEquals "the directory stays root's" 0 "$(stat -c '%u' "$svc/run")"
  assertEquals "the server as the mail user" "$MAIL_UID $MAIL_UID $MAIL_UID $MAIL_UID" "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' /proc/$pid/status)"
  assertEquals "and no other group" "$MAIL_UID" "$(awk '/^Groups:/ { print $2 $3 }' /proc/$pid/status)"
  want="local postmaster@example.com $VMAIL_ROOT/example.com/postmaster"
  assertEquals "a session asks" "$want" "$(as_uid_ask_resolver $SMTPD_UID "$svc/run/resolve.sock")"
  assertEquals "a delivery asks" "$want" "$(as_uid_ask_resolver $MAIL_UID "$svc/run/resolve.sock")"
  assertEquals "nobody else" "refused" "$(as_uid_ask_resolver $LOGIN_UID "$svc/run/resolve.sock")"
  kill -TERM $pid; wait $pid
  assertEquals "stops on TERM" 0 $?
}

testNeverBecomesRoot() {
  printf 'x\n' | VMAIL_UID=0 VMAIL_GID=0 vmail-deliver postmaster@example.com 2>"$T_TMP/err"
  assertEquals "vmail-deliver" 111 $?
  assertContains "$(cat "$T_TMP/err")" "VMAIL_UID/VMAIL_GID"
  printf 'x\n' | VMAIL_UID=$MAIL_UID VMAIL_GID=x vmail-deliver postmaster@example.com 2>/dev/null
  assertEquals "a malformed VMAIL_GID is temporary" 111 $?
  printf 'F\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  printf 'x\n' | VMAIL_UID=0 VMAIL_GID=0 vmail-queue 1< "$T_TMP/env" 2>/dev/null
  assertEquals "vmail-queue" 61 $?
  VMAIL_UID=0 VMAIL_GID=0 vmail-send 2>/dev/null
  assertEquals "vmail-send" 111 $?
  printf 'postmaster@example.com\0password\0' | VMAIL_UID=0 VMAIL_GID=0 vmail-checkpw true 3<&0 2>/dev/null
  assertEquals "vmail-checkpw" 111 $?
  err=$(VMAIL_UID=0 VMAIL_GID=0 s6-ipcserver-socketbinder "$T_TMP/r.sock" vmail-resolve -l 2>&1)
  assertEquals "vmail-resolve -l" 111 $?
  assertContains "$err" "unable to become VMAIL_UID/VMAIL_GID"
  out=$(printf 'EHLO x\r\nQUIT\r\n' | VMAIL_UID=0 VMAIL_GID=0 vmail-smtpd 2>&1)
  assertEquals "vmail-smtpd" 111 $?
  assertNotContains "no greeting" "$out" "220 "
  out=$(printf 'EHLO x\r\nQUIT\r\n' | VMAIL_SMTPD_UID=0 VMAIL_SMTPD_GID=0 vmail-smtpd 2>&1)
  assertEquals "vmail-smtpd's session" 111 $?
  assertNotContains "no greeting" "$out" "220 "
}

. shunit2
