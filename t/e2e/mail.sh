#!/bin/sh
# The queue as a user meets it: mail(1) and sendmail into a running instance
# (s6 supervising vmail-send), read back with mutt; bounces, the database
# going away, vmail-send killed under supervision.
T_PORT_BASE=${T_PORT_BASE:-14000}
. "$T_TOP/t/lib/common.sh"
. "$T_TOP/t/lib/e2e.sh"

oneTimeSetUp() { e2e_start; }
oneTimeTearDown() { e2e_stop; rm -rf "$T_TMP"; }

BOX() { echo "$VMAIL_ROOT/example.com/postmaster"; }
LOG() { cat "$E2E_RUN/log/send/current" 2>/dev/null; }
mails() { echo $(($(count_files "$(BOX)/new") + $(count_files "$(BOX)/cur"))); }
queue_empty() { [ "$(count_files "$VMAIL_QUEUE_DIR/env")" = 0 ]; }
wait_until() {
  t=$(($1 * 10)); shift; i=0
  until eval "$*"; do i=$((i + 1)); [ $i -lt $t ] || return 1; sleep 0.1; done
}

# mutt, as the tutorial reads a mailbox (mutt -f): the last message whose
# subject matches $2, piped to a file
mutt_read() {
  printf 'set quit=yes\nset pipe_decode=yes\nset wait_key=no\n' > "$T_TMP/muttrc"
  rm -f "$T_TMP/mutt.out"
  # stdin held open (a background sleep) so script keeps the terminal up
  { sleep 15 & } | timeout 20 script -qec "TERM=xterm mutt -n -F '$T_TMP/muttrc' -R -f '$1' -e 'push \"<limit>~s \\\"$2\\\"<enter><last-entry><pipe-message>cat > $T_TMP/mutt.out<enter><quit>\"'" /dev/null >/dev/null 2>&1
  cat "$T_TMP/mutt.out" 2>/dev/null
}

testMailCommandReachesMaildirAndMutt() {
  printf 'set sendmail=%s\n' "$T_TOP/bin/vmail-sendmail" > "$T_TMP/mailrc"
  before=$(mails)
  echo hi | MAILRC=$T_TMP/mailrc mail -s hello postmaster@example.com
  assertEquals "mail(1) exit" 0 $?
  assertTrue "in postmaster's Maildir" "wait_until 15 '[ \$(mails) -gt $before ]'"
  out=$(mutt_read "$(BOX)" hello)
  assertContains "mutt shows the subject" "$out" "Subject: hello"
  assertContains "mutt shows the body" "$out" "hi"
  assertTrue "delivery logged by the send service" "LOG | grep -q 'delivery qid=.* to=<postmaster@example.com> status=sent'"
}

# as_local_user COMMAND...: runs COMMAND as a local user who cannot write
# the queue: as root, the user nobody (the queue is root's, 0700); as
# anyone else, ourselves with VMAIL_QUEUE_DIR a directory we may not write
as_local_user() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$LOCAL_HOME" "$@"
  else
    mkdir -p "$T_TMP/notours"; chmod 500 "$T_TMP/notours"
    env VMAIL_QUEUE_DIR="$T_TMP/notours" HOME="$LOCAL_HOME" "$@"
  fi
}

testLocalUserWithoutTheQueueSubmitsOverSmtp() {
  # a local user's cron job or mail(1), where the queue is the mail user's:
  # vmail-sendmail hands the message to the local vmail-smtpd instead
  LOCAL_HOME=$(mktemp -d /tmp/vmail-local.XXXXXX); chmod 755 "$LOCAL_HOME"
  cp "$T_TOP/bin/vmail-sendmail" "$LOCAL_HOME/"   # reachable by nobody
  printf 'set sendmail=%s\n' "$LOCAL_HOME/vmail-sendmail" > "$LOCAL_HOME/mailrc"; chmod 644 "$LOCAL_HOME/mailrc"
  before=$(mails)
  printf 'from cron\n.\n.hidden\n' | as_local_user env MAILRC="$LOCAL_HOME/mailrc" mail -s 'local user' postmaster@example.com
  assertEquals "mail(1) exit" 0 $?
  assertTrue "in postmaster's Maildir" "wait_until 15 '[ \$(mails) -gt $before ]'"
  f=$(grep -l '^Subject: local user' "$(BOX)"/new/* "$(BOX)"/cur/* 2>/dev/null | head -n 1)
  assertNotNull "the message" "$f"
  assertTrue "came through vmail-smtpd from this host" "grep -q '^Received: from localhost (\[127.0.0.1\])' '$f'"
  assertEquals "dot lines intact" "$(printf 'from cron\n.\n.hidden')" "$(sed '1,/^$/d' "$f")"

  out=$(printf 'Subject: x\n\ny\n' | as_local_user "$LOCAL_HOME/vmail-sendmail" nobody@example.com 2>&1); rc=$?
  assertEquals "an unknown user is a permanent failure" 100 "$rc"
  assertContains "$out" "refused the recipient nobody@example.com: 550 5.1.1"
  out=$(printf 'Subject: x\n\ny\n' | as_local_user env VMAIL_SUBMIT_PORT=1 "$LOCAL_HOME/vmail-sendmail" postmaster@example.com 2>&1); rc=$?
  assertEquals "no server is a temporary failure" 111 "$rc"
  assertContains "$out" "unable to connect to the SMTP server at 127.0.0.1:1"
  rm -rf "$LOCAL_HOME"
}

testAliasFanOut() {
  echo password2 | vmailctl user add user2@example.com - >/dev/null
  vmailctl alias add team@example.com postmaster@example.com user2@example.com >/dev/null
  u2=$VMAIL_ROOT/example.com/user2
  before=$(mails)
  printf 'Subject: fan-out\n\nto the team\n' | vmail-sendmail -f someone@example.org team@example.com alias@example.com
  assertTrue "postmaster: through team@ and alias@" "wait_until 15 '[ \$(mails) -eq $((before + 2)) ]'"
  assertTrue "user2: through team@" "wait_until 15 '[ \$(count_files $u2/new) -eq 1 ]'"
  assertTrue "Delivered-To user2" "grep -q '^Delivered-To: user2@example.com' $u2/new/*"
  assertTrue "dequeued" "wait_until 5 queue_empty"
  vmailctl alias del team@example.com >/dev/null
}

testUnknownUserBouncesToLocalSender() {
  before=$(mails)
  printf 'Subject: to nobody\n\nlost\n' | vmail-sendmail -f postmaster@example.com nobody@example.com
  assertTrue "a DSN arrives" "wait_until 15 '[ \$(mails) -gt $before ]'"
  out=$(mutt_read "$(BOX)" Undelivered)
  assertContains "DSN subject" "$out" "Undelivered Mail Returned to Sender"
  f=$(grep -l 'Final-Recipient: rfc822; nobody@example.com' "$(BOX)"/new/* "$(BOX)"/cur/* 2>/dev/null | head -n 1)
  assertNotNull "RFC 3464 report for nobody@" "$f"
  assertTrue "multipart/report" "grep -q 'multipart/report; report-type=delivery-status' '$f'"
  assertTrue "bounce logged" "LOG | grep -q 'to=<nobody@example.com> status=bounced'"
}

testFailedBounceGoesToPostmaster() {
  before=$(mails)
  printf 'Subject: a bounce that fails\n\nx\n' | vmail-sendmail -f '<>' nobody-at-all@example.com
  assertTrue "the double bounce reaches postmaster" "wait_until 15 '[ \$(mails) -gt $before ]'"
  f=$(grep -l 'Final-Recipient: rfc822; nobody-at-all@example.com' "$(BOX)"/new/* "$(BOX)"/cur/* 2>/dev/null | head -n 1)
  assertNotNull "a report for it in postmaster's Maildir" "$f"
  assertEquals "sent with the double-bounce sender, never bounced again" "Return-Path: <#@[]>" "$(head -n 1 "$f")"
  assertTrue "dequeued" "wait_until 5 queue_empty"
}

testDatabaseStoppedThenBack() {
  before=$(mails)
  db_stop "$E2E_RUN/db"
  printf 'Subject: while down\n\nwait for me\n' | vmail-sendmail -f someone@example.org postmaster@example.com
  assertTrue "deferred while the database is down" \
    "wait_until 15 'LOG | grep -q \"to=<postmaster@example.com> status=deferred .*database\"'"
  assertEquals "nothing delivered" "$before" "$(mails)"
  assertContains "listed with its error" "$(vmailctl queue list)" "error=\"4.4.3 database unavailable"
  db_start "$E2E_RUN/db"
  vmailctl queue flush
  assertTrue "delivered once it is back" "wait_until 20 '[ \$(mails) -gt $before ]'"
  assertTrue "dequeued" "wait_until 5 queue_empty"
}

testRemoteDeferredListedAndDeleted() {
  printf 'Subject: far away\n\nx\n' | vmail-sendmail -f postmaster@example.com someone@example.net
  assertTrue "deferred" "wait_until 10 'LOG | grep -q \"to=<someone@example.net> status=deferred .*no remote delivery configured\"'"
  line=$(vmailctl queue list | grep 'someone@example.net')
  assertContains "listed" "$line" "from=<postmaster@example.com> to=<someone@example.net> error=\"4.4.0 no remote delivery configured\""
  # the same, but for the age, which may have gone up a second in between
  assertEquals "sendmail -bp says the same" "$(echo "$line" | sed 's/ age=[^ ]* / /')" \
    "$(vmail-sendmail -bp | grep someone@example.net | sed 's/ age=[^ ]* / /')"
  vmailctl queue delete "${line%% *}"
  assertTrue "gone" "queue_empty"
}

testQueuedWhileDownDeliveredAtStart() {
  s6-svc -wD -d "$E2E_RUN/service/send"
  before=$(mails)
  i=0; while [ $i -lt 5 ]; do printf 'Subject: held %s\n\nx\n' $i | vmail-sendmail postmaster@example.com; i=$((i + 1)); done
  sleep 0.5
  assertEquals "not delivered while the runner is down" "$before" "$(mails)"
  s6-svc -u "$E2E_RUN/service/send"
  assertTrue "all five at start" "wait_until 15 '[ \$(mails) -eq $((before + 5)) ]'"
}

testKilledUnderSupervisionLosesNothing() {
  before=$(mails)
  i=0
  while [ $i -lt 30 ]; do
    printf 'Subject: kill %s\n\nx\n' $i | vmail-sendmail postmaster@example.com
    [ $((i % 3)) = 0 ] && s6-svc -k "$E2E_RUN/service/send"
    i=$((i + 1))
  done
  assertTrue "queue drains" "wait_until 30 queue_empty"
  missing=0 i=0
  while [ $i -lt 30 ]; do
    grep -lq "^Subject: kill $i\$" "$(BOX)"/new/* "$(BOX)"/cur/* 2>/dev/null || missing=$((missing + 1))
    i=$((i + 1))
  done
  assertEquals "none lost" 0 "$missing"
}

. shunit2
