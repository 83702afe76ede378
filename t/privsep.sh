#!/bin/sh
# needs: root
# Privilege separation as the services run it in production (started as
# root by tcpserver): the process that reads the network is never root, a
# root partner only runs vmail-checkpw, and mail is handled as VMAIL_UID.
# (As another user there is nothing to separate: every suite runs that way.)
. "$T_TOP/t/lib/common.sh"

MAIL_UID=65534 LOGIN_UID=65533

oneTimeSetUp() {
  seed_tutorial
  # what the mail user may read and write, as a site sets it up
  S=$(mktemp -d /tmp/vmail-privsep.XXXXXX)
  mkdir -p "$S/vhosts" "$S/queue"
  cp "$T_DB/lookup.pw" "$S/lookup.pw"
  chown -R "$MAIL_UID:$MAIL_UID" "$S/vhosts" "$S/queue" "$S/lookup.pw"
  chmod 711 "$S" "$T_TMPROOT"   # the mail user reaches the database socket under it
  export VMAIL_ROOT=$S/vhosts VMAIL_QUEUE_DIR=$S/queue VMAIL_DB_PASSWORD_FILE=$S/lookup.pw
  export VMAIL_UID=$MAIL_UID VMAIL_GID=$MAIL_UID VMAIL_AUTH_PLAINTEXT=1 VMAIL_POP3_FAIL_DELAY=0
  export VMAIL_HOSTNAME=mx.test
}

oneTimeTearDown() { rm -rf "$S" "$T_TMP"; }

uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
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
  assertContains "$out" 'fatal: unable to separate privileges'
}

testSmtpdSessionRunsAsTheMailUser() {
  plain=$(printf '\0postmaster@example.com\0password' | base64 -w0)
  session vmail-smtpd
  await '220 mx.test'
  assertEquals "the partner stays root" 0 "$(uid_of "$P")"
  c=$(children "$P")
  assertEquals "as VMAIL_UID" "$MAIL_UID" "$(uid_of $c)"
  say 'EHLO client.test'; say "AUTH PLAIN $(printf '\0postmaster@example.com\0nope' | base64 -w0)"
  await '535 5.7.8'
  say "AUTH PLAIN $plain"
  await '235 2.7.0'
  say 'MAIL FROM:<postmaster@example.com>'; say 'RCPT TO:<alias@example.com>'; say 'DATA'
  await '354'
  say 'Subject: privsep'; say ''; say 'hello'; say '.'
  await '250 2.0.0 Ok: queued'
  say 'QUIT'
  end_session
  n=$(find "$VMAIL_QUEUE_DIR" -type f -path '*mess*' | wc -l)
  assertEquals "one message queued" 1 "$n"
  assertEquals "queued as the mail user" "" "$(find "$VMAIL_QUEUE_DIR" ! -user "$MAIL_UID")"
}

testSmtpdWithoutAuthNeedsNoPartner() {
  session env -u VMAIL_AUTH_PLAINTEXT vmail-smtpd
  await '220 mx.test'
  assertEquals "the session itself is the mail user" "$MAIL_UID" "$(uid_of "$P")"
  assertEquals "and alone" "" "$(children "$P")"
  say 'EHLO client.test'
  await '250 ENHANCEDSTATUSCODES'
  assertNotContains "no AUTH offered" "$(cat "$T_TMP/out")" "AUTH"
  say 'QUIT'
  end_session
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
  vmail-send 2>"$T_TMP/send.log" &
  pid=$!
  i=0; while [ -n "$(ls "$VMAIL_QUEUE_DIR/env")" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  assertEquals "vmail-send as the mail user" "$MAIL_UID" "$(uid_of $pid)"
  kill $pid; wait $pid
  assertEquals "the queue emptied" "" "$(ls "$VMAIL_QUEUE_DIR/env")"
  assertContains "$(cat "$T_TMP/send.log")" "status=sent"
  assertEquals "everything delivered as the mail user" "" "$(find "$VMAIL_ROOT" ! -user "$MAIL_UID")"
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
  out=$(printf 'EHLO x\r\nQUIT\r\n' | VMAIL_UID=0 VMAIL_GID=0 vmail-smtpd 2>&1)
  assertEquals "vmail-smtpd" 111 $?
  assertNotContains "no greeting" "$out" "220 "
}

. shunit2
