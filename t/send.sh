#!/bin/sh
# vmail-send: the queue runner against the real vmail-deliver and MariaDB.
. "$T_TOP/t/lib/common.sh"

Q=$T_TMP/queue
export VMAIL_QUEUE_DIR=$Q VMAIL_POSTMASTER=postmaster@example.com VMAIL_HOSTNAME=mx.example.com
PM=$VMAIL_ROOT/example.com/postmaster/new
U2=$VMAIL_ROOT/example.com/user2/new
SEND_PID=

oneTimeSetUp() { seed_tutorial; }
oneTimeTearDown() { stop_send; rm -rf "$T_TMP"; }

setUp() {
  rm -rf "$Q" "$VMAIL_ROOT"
  unset VMAIL_DELIVER VMAIL_QUEUE_LIFETIME VMAIL_CONCURRENCY
  export VMAIL_QUEUE_RETRY=1 VMAIL_QUEUE_RETRY_MAX=1
  : > "$T_TMP/send.log"
}
tearDown() { stop_send; }

start_send() { vmail-send 2>>"$T_TMP/send.log" & SEND_PID=$!; }
stop_send() { [ -n "$SEND_PID" ] && { kill "$SEND_PID" 2>/dev/null; wait "$SEND_PID" 2>/dev/null; }; SEND_PID=; }

queue_empty() { [ "$(count_files "$Q/env")" = 0 ]; }

testDeliversLocalRecipient() {
  start_send
  inject a@example.org postmaster@example.com
  assertTrue "delivered" "wait_until 10 '[ \$(count_files $PM) = 1 ]'"
  assertTrue "dequeued" "wait_until 5 queue_empty"
  f=$(ls "$PM"/*)
  assertEquals "Return-Path" "Return-Path: <a@example.org>" "$(head -n 1 "$f")"
  assertTrue "Received kept" "grep -q '^Received: (vmail-queue' '$f'"
  assertTrue "log line" "grep -Eq '^delivery qid=[0-9.]{25} from=<a@example.org> to=<postmaster@example.com> status=sent delay=[0-9.]+ detail=' '$T_TMP/send.log'"
  assertEquals "no journal or message left" 0 "$(($(count_files "$Q/mess") + $(count_files "$Q/state")))"
}

testPicksUpQueuedMessagesAtStart() {
  SUBJECT=one inject a@example.org postmaster@example.com
  SUBJECT=two inject a@example.org user2@example.com
  assertEquals "nothing delivered yet" 0 "$(count_files "$PM")"
  start_send
  assertTrue "both delivered" "wait_until 10 '[ \$(count_files $PM) = 1 ] && [ \$(count_files $U2) = 1 ]'"
  assertTrue "dequeued" "wait_until 5 queue_empty"
}

testAliasFanOut() {
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES (1, 'team@example.com', 'postmaster@example.com,user2@example.com')"
  start_send
  inject a@example.org alias@example.com team@example.com
  assertTrue "postmaster gets alias@ and team@" "wait_until 10 '[ \$(count_files $PM) = 2 ]'"
  assertTrue "user2 gets team@" "wait_until 10 '[ \$(count_files $U2) = 1 ]'"
  assertTrue "Delivered-To the final address" "grep -q '^Delivered-To: user2@example.com' $U2/*"
  sql "DELETE FROM virtual_aliases WHERE source = 'team@example.com'"
}

testAliasToRemoteTargetIsForwardedAndDeferred() {
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES (1, 'mixed@example.com', 'user2@example.com,someone@elsewhere.org')"
  start_send
  SUBJECT=mixed inject a@example.org mixed@example.com
  assertTrue "local target delivered" "wait_until 10 '[ \$(count_files $U2) = 1 ]'"
  assertTrue "the forward deferred for its remote target" \
    "wait_until 10 'grep -q \"from=<a@example.org> to=<someone@elsewhere.org> status=deferred .*no remote delivery configured\" $T_TMP/send.log'"
  assertTrue "the original is done" "wait_until 5 '[ \$(count_files $Q/env) = 1 ]'"
  assertTrue "the forward is queued" "grep -q 'Tsomeone@elsewhere.org' $Q/env/*"
  assertTrue "the forward carries the message" "grep -q '^Subject: mixed' $Q/mess/*"
  assertFalse "no bounce" "grep -q '^bounce' $T_TMP/send.log"
  sql "DELETE FROM virtual_aliases WHERE source = 'mixed@example.com'"
}

testRemoteRecipientDeferred() {
  start_send
  inject a@example.org someone@example.net postmaster@example.com
  assertTrue "local one delivered" "wait_until 10 '[ \$(count_files $PM) = 1 ]'"
  assertTrue "remote one deferred" "wait_until 10 'grep -q \"to=<someone@example.net> status=deferred .*no remote delivery configured\" $T_TMP/send.log'"
  assertEquals "still queued" 1 "$(count_files "$Q/env")"
  sleep 2.5
  assertEquals "the local one is not delivered again" 1 "$(count_files "$PM")"
  assertTrue "retried" "[ \$(grep -c 'to=<someone@example.net> status=deferred' $T_TMP/send.log) -ge 2 ]"
}

testUnknownUserBouncesToLocalSender() {
  start_send
  SUBJECT=lost inject user2@example.com nobody@example.com
  assertTrue "a DSN arrives" "wait_until 10 '[ \$(count_files $U2) = 1 ]'"
  assertTrue "dequeued" "wait_until 5 queue_empty"
  f=$(ls "$U2"/*)
  assertEquals "from the null sender" "Return-Path: <>" "$(head -n 1 "$f")"
  assertTrue "multipart/report" "grep -q 'Content-Type: multipart/report; report-type=delivery-status' '$f'"
  assertTrue "delivery-status part" "grep -q '^Content-Type: message/delivery-status' '$f'"
  assertTrue "final recipient" "grep -q '^Final-Recipient: rfc822; nobody@example.com' '$f'"
  assertTrue "permanent status" "grep -Eq '^Status: 5\.[0-9]+\.[0-9]+' '$f'"
  assertTrue "action failed" "grep -q '^Action: failed' '$f'"
  assertTrue "original headers" "grep -q '^Subject: lost' '$f'"
  assertFalse "not the body" "grep -q 'body of lost' '$f'"
  assertTrue "log: bounced" "grep -q 'to=<nobody@example.com> status=bounced' $T_TMP/send.log"
  assertTrue "log: bounce sent" "grep -q '^bounce qid=.* to=<user2@example.com> recipients=1 status=sent' $T_TMP/send.log"
}

# A recipient that fails for good is reported after its round, not when the
# message leaves the queue (days later, if another recipient is deferred),
# and only once, across restarts too.
testPermanentFailureReportedWithoutWaitingForDeferredOnes() {
  export VMAIL_QUEUE_LIFETIME=5
  start_send
  SUBJECT=partly inject user2@example.com nobody@example.com far@example.net
  assertTrue "a DSN for nobody@ at once" "wait_until 10 '[ \$(count_files $U2) = 1 ]'"
  f=$(ls "$U2"/*)
  assertTrue "names nobody@" "grep -q '^Final-Recipient: rfc822; nobody@example.com' '$f'"
  assertFalse "not far@, still being tried" "grep -q 'Final-Recipient: rfc822; far@example.net' '$f'"
  assertEquals "still queued for far@" 1 "$(count_files "$Q/env")"
  sleep 1.5
  stop_send; start_send
  sleep 1.5
  assertEquals "not reported again, by later rounds or after a restart" 1 "$(count_files "$U2")"
  assertTrue "far@ reported when it expires" "wait_until 15 '[ \$(count_files $U2) = 2 ]'"
  f=$(grep -l 'Final-Recipient: rfc822; far@example.net' "$U2"/*)
  assertNotNull "the second DSN is for far@" "$f"
  assertFalse "and for far@ alone" "grep -q 'Final-Recipient: rfc822; nobody@example.com' '$f'"
  assertTrue "dequeued" "wait_until 5 queue_empty"
}

testBounceOfBounceGoesToPostmaster() {
  start_send
  inject '' nobody@example.com
  assertTrue "postmaster gets it" "wait_until 10 '[ \$(count_files $PM) = 1 ]'"
  assertTrue "dequeued" "wait_until 5 queue_empty"
  assertEquals "double-bounce sender" "Return-Path: <#@[]>" "$(head -n 1 $PM/*)"
}

testDoubleBounceIsNeverBounced() {
  sql "UPDATE virtual_users SET email = 'pm@example.com' WHERE email = 'postmaster@example.com'"
  start_send
  inject '' nobody@example.com
  assertTrue "dropped in the end" "wait_until 10 'grep -q \"status=dropped\" $T_TMP/send.log'"
  assertTrue "dequeued" "wait_until 5 queue_empty"
  sleep 1
  assertEquals "exactly two failures logged (bounce, double bounce)" 2 "$(grep -c 'status=bounced' "$T_TMP/send.log")"
  sql "UPDATE virtual_users SET email = 'postmaster@example.com' WHERE email = 'pm@example.com'"
}

testLifetimeExpiryBounces() {
  export VMAIL_QUEUE_LIFETIME=2
  start_send
  inject user2@example.com far@example.net
  assertTrue "DSN after the lifetime" "wait_until 15 '[ \$(count_files $U2) = 1 ]'"
  assertTrue "dequeued" "wait_until 5 queue_empty"
  f=$(ls "$U2"/*)
  assertTrue "expired status" "grep -q '^Status: 4.4.7' '$f'"
  assertTrue "last error told" "grep -q 'no remote delivery configured' '$f'"
  assertTrue "deferred first" "grep -q 'to=<far@example.net> status=deferred' $T_TMP/send.log"
}

testDatabaseDownDefersThenDelivers() {
  start_send
  db_stop "$T_DB"
  inject a@example.org postmaster@example.com
  assertTrue "deferred" "wait_until 15 'grep -q \"to=<postmaster@example.com> status=deferred\" $T_TMP/send.log'"
  assertEquals "nothing delivered" 0 "$(count_files "$PM")"
  assertEquals "still queued" 1 "$(count_files "$Q/env")"
  db_start "$T_DB"
  assertTrue "delivered once the database is back" "wait_until 20 '[ \$(count_files $PM) = 1 ]'"
  assertTrue "dequeued" "wait_until 5 queue_empty"
}

# A database that takes connections and never answers: each question costs
# VMAIL_DB_TIMEOUT, so one failure must not be paid again for every recipient.
testUnresponsiveDatabaseCostsOneTimeoutNotOnePerRecipient() {
  python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(100)
held = []
while True: held.append(s.accept())" "$T_TMP/silent.sock" &
  silent=$!
  wait_until 5 "[ -S '$T_TMP/silent.sock' ]"
  i=0; while [ $i -lt 6 ]; do SUBJECT=m$i inject a@example.org postmaster@example.com; i=$((i + 1)); done
  VMAIL_DB_SOCKET=$T_TMP/silent.sock VMAIL_DB_TIMEOUT=2 vmail-send 2>>"$T_TMP/send.log" & SEND_PID=$!
  assertTrue "all six deferred after about one timeout (not six)" \
    "wait_until 7 '[ \$(grep -c \"status=deferred .*database unavailable\" $T_TMP/send.log) = 6 ]'"
  kill $silent; wait $silent 2>/dev/null
  rm -f "$T_TMP/silent.sock"
}

testTemporaryFailureRetried() {
  cat > "$T_TMP/flaky" <<SH
#!/bin/sh
[ -e "$T_TMP/flaky.once" ] || { : > "$T_TMP/flaky.once"; echo "4.2.0 try later" >&2; exit 111; }
exec vmail-deliver "\$@"
SH
  chmod +x "$T_TMP/flaky"; rm -f "$T_TMP/flaky.once"
  export VMAIL_DELIVER=$T_TMP/flaky
  start_send
  inject a@example.org postmaster@example.com
  assertTrue "delivered on retry" "wait_until 10 '[ \$(count_files $PM) = 1 ]'"
  assertTrue "the deferral logged with its reason" "grep -q 'status=deferred delay=[0-9.]* detail=\"4.2.0 try later\"' $T_TMP/send.log"
  assertTrue "dequeued" "wait_until 5 queue_empty"
}

testRetryDelaysGrow() {
  export VMAIL_QUEUE_RETRY=1 VMAIL_QUEUE_RETRY_MAX=100
  start_send
  inject a@example.org far@example.net
  sleep 9
  # rounds at about 0 s, then 1 and 5 s later; the next one waits 15 s
  delays=$(sed -n 's/.*to=<far@example.net> status=deferred delay=\([0-9]*\)\..*/\1/p' "$T_TMP/send.log" | tr '\n' ' ')
  assertEquals "three rounds in 9 s" 3 "$(echo $delays | wc -w)"
  assertTrue "1 s then 5 s apart ($delays)" "echo $delays | awk '{ exit !(\$1 <= 1 && \$2 >= 1 && \$2 <= 2 && \$3 >= 6 && \$3 <= 8) }'"
}

testConcurrencyLimit() {
  cat > "$T_TMP/slow" <<SH
#!/bin/sh
echo start >> "$T_TMP/slow.log"; sleep 0.5; echo end >> "$T_TMP/slow.log"
exec vmail-deliver "\$@"
SH
  chmod +x "$T_TMP/slow"; : > "$T_TMP/slow.log"
  export VMAIL_DELIVER=$T_TMP/slow VMAIL_CONCURRENCY=3
  i=0; while [ $i -lt 9 ]; do SUBJECT=m$i inject a@example.org postmaster@example.com; i=$((i + 1)); done
  start_send
  assertTrue "all delivered" "wait_until 20 '[ \$(count_files $PM) = 9 ]'"
  most=$(awk '/start/ { n++; if (n > m) m = n } /end/ { n-- } END { print m }' "$T_TMP/slow.log")
  assertEquals "at most 3 at once, and 3 in parallel" 3 "$most"
}

testJournalSurvivesRestart() {
  # a message whose first recipient was delivered before a crash
  inject a@example.org postmaster@example.com user2@example.com
  id=$(ls "$Q/env")
  printf 'D 0\n' > "$Q/state/$id"
  start_send
  assertTrue "the other recipient delivered" "wait_until 10 '[ \$(count_files $U2) = 1 ]'"
  assertTrue "dequeued" "wait_until 5 queue_empty"
  assertEquals "the journalled one not again" 0 "$(count_files "$PM")"
}

# "D 1" cut by a crash, with the next line appended to it: not a delivery
testTornJournalLineMarksNothing() {
  inject a@example.org postmaster@example.com user2@example.com
  id=$(ls "$Q/env")
  printf 'D 1D 0\n' > "$Q/state/$id"
  start_send
  assertTrue "both delivered" "wait_until 10 '[ \$(count_files $PM) = 1 ] && [ \$(count_files $U2) = 1 ]'"
  assertTrue "dequeued" "wait_until 5 queue_empty"
}

# one line of filler for a journal, 100 bytes
filler() { python3 -c "import sys; sys.stdout.write(('Z 0 4.4.0 ' + 'x' * 89 + '\\n') * int(sys.argv[1]))" "$1"; }

testDeferralNotesDoNotGrowTheJournalForEver() {
  inject a@example.org far@example.net
  id=$(ls "$Q/env")
  filler 700 > "$Q/state/$id"
  start_send
  assertTrue "deferred" "wait_until 10 'grep -q status=deferred $T_TMP/send.log'"
  assertEquals "no note added past 64 KB" 70000 "$(wc -c < "$Q/state/$id" | tr -d ' ')"
}

testBounceAfterALongJournal() {
  export VMAIL_QUEUE_LIFETIME=0
  inject user2@example.com far@example.net
  id=$(ls "$Q/env")
  filler 12000 > "$Q/state/$id"   # 1.2 MB of notes, as an old journal may hold
  start_send
  assertTrue "the DSN arrives" "wait_until 10 '[ \$(count_files $U2) = 1 ]'"
  assertTrue "it names the recipient" "grep -q '^Final-Recipient: rfc822; far@example.net' $U2/*"
  assertTrue "dequeued" "wait_until 5 queue_empty"
}

testFlushRetriesNow() {
  export VMAIL_QUEUE_RETRY=3600 VMAIL_QUEUE_RETRY_MAX=3600
  start_send
  inject a@example.org far@example.net
  assertTrue "deferred once" "wait_until 10 'grep -q status=deferred $T_TMP/send.log'"
  printf f > "$Q/trigger"
  assertTrue "retried at once" "wait_until 5 '[ \$(grep -c status=deferred $T_TMP/send.log) = 2 ]'"
}

testDeletedMessageIsForgotten() {
  start_send
  inject a@example.org far@example.net
  assertTrue "deferred" "wait_until 10 'grep -q status=deferred $T_TMP/send.log'"
  id=$(ls "$Q/env")
  vmailctl queue delete "$id"
  sleep 0.3
  n=$(grep -c status=deferred "$T_TMP/send.log")
  sleep 2.5
  assertEquals "no more attempts" "$n" "$(grep -c status=deferred "$T_TMP/send.log")"
  assertEquals "no journal left behind" 0 "$(count_files "$Q/state")"
  assertEquals "forgotten, once" 1 "$(grep -c "^forget qid=$id " "$T_TMP/send.log")"
}

# What crashes leave: old files in tmp/, an old message without envelope, a
# journal without message. Removed at start and on SIGHUP (and hourly).
testLitterRemovedAtStartAndOnHup() {
  mkdir -p "$Q/tmp" "$Q/mess" "$Q/state"
  litter() {
    : > "$Q/tmp/$1.old"; touch -d '26 hours ago' "$Q/tmp/$1.old"
    : > "$Q/tmp/$1.young"
    : > "$Q/mess/1700000000.00000$1.0000001"; touch -d '26 hours ago' "$Q/mess/1700000000.00000$1.0000001"
    : > "$Q/state/1700000000.00000$1.0000002"
  }
  litter 1
  start_send
  assertTrue "removed at start" "wait_until 5 '[ ! -e $Q/tmp/1.old ] && [ ! -e $Q/mess/1700000000.000001.0000001 ] && [ ! -e $Q/state/1700000000.000001.0000002 ]'"
  assertTrue "a young tmp file is kept" "[ -e '$Q/tmp/1.young' ]"
  litter 2
  kill -HUP "$SEND_PID"
  assertTrue "removed on SIGHUP" "wait_until 5 '[ ! -e $Q/tmp/2.old ] && [ ! -e $Q/mess/1700000000.000002.0000001 ] && [ ! -e $Q/state/1700000000.000002.0000002 ]'"
  assertTrue "a young tmp file is kept" "[ -e '$Q/tmp/2.young' ]"
}

testOneRunnerPerQueue() {
  start_send
  sleep 0.3
  vmail-send 2>"$T_TMP/second.err"
  assertEquals "second one refused" 111 $?
  assertContains "$(cat "$T_TMP/second.err")" "another vmail-send"
}

testStopsOnTerm() {
  start_send
  sleep 0.3
  kill "$SEND_PID"; wait "$SEND_PID"
  assertEquals "exit 0 on SIGTERM" 0 $?
  SEND_PID=
}

# the pid of the runner's delivery launcher (launcher.h), once it is there
launcher_pid() { wait_until 5 'pgrep -P "$SEND_PID" -x vmail-launcher >/dev/null' && pgrep -P "$SEND_PID" -x vmail-launcher; }

# gone, or a zombie nobody reaps (this machine's init may not)
gone() { state=$(ps -o stat= -p "$1"); [ -z "$state" ] || [ "${state%"${state#?}"}" = Z ]; }

testBuiltinDeliveriesAreForkedByTheLauncher() {
  # a forward whose vmail-queue takes a while keeps its delivery running
  mkdir -p "$T_TMP/slowq"
  printf '#!/bin/sh\nsleep 2\nexec "%s/bin/vmail-queue"\n' "$T_TOP" > "$T_TMP/slowq/vmail-queue"
  chmod 755 "$T_TMP/slowq/vmail-queue"
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES (1, 'away@example.com', 'someone@elsewhere.org')"
  path=$PATH; PATH=$T_TMP/slowq:$PATH
  start_send
  PATH=$path
  launcher=$(launcher_pid)
  assertNotNull "vmail-send has a launcher" "$launcher"
  inject a@example.org away@example.com
  assertTrue "the delivery is the launcher's child" "wait_until 5 'pgrep -P $launcher -x vmail-deliver >/dev/null'"
  assertNull "none is vmail-send's own" "$(pgrep -P "$SEND_PID" -x vmail-deliver)"
  assertTrue "the forward is queued and deferred" \
    "wait_until 10 'grep -q \"to=<someone@elsewhere.org> status=deferred\" $T_TMP/send.log'"
  assertTrue "the original was delivered (forwarded)" "grep -q 'to=<away@example.com> status=sent' $T_TMP/send.log"
  sql "DELETE FROM virtual_aliases WHERE source = 'away@example.com'"
}

testLauncherDeathStopsTheRunner() {
  start_send
  launcher=$(launcher_pid)
  assertNotNull "a launcher" "$launcher"
  kill -9 "$launcher"
  wait "$SEND_PID"
  assertEquals "vmail-send exits for its supervisor to restart it" 111 $?
  SEND_PID=
  assertContains "$(cat "$T_TMP/send.log")" "vmail-send: fatal: the delivery launcher"
}

testLauncherOutlivesTermAndEndsWithTheRunner() {
  start_send
  launcher=$(launcher_pid)
  kill -TERM "$launcher"   # as a terminal's ^C or a group kill would
  sleep 0.2
  assertFalse "the launcher ignores SIGTERM" "gone $launcher"
  inject a@example.org postmaster@example.com
  assertTrue "and still starts deliveries" "wait_until 10 '[ \$(count_files $PM) = 1 ]'"
  kill "$SEND_PID"; wait "$SEND_PID"
  assertEquals "the runner stops" 0 $?
  SEND_PID=
  assertTrue "the launcher ends with it" "wait_until 5 'gone $launcher'"
}

# Kills vmail-send with SIGKILL at random moments over many trials; in the
# end every recipient has every message, complete, and the queue is empty.
testCrashAtRandomMoments() {
  trials=${CRASH_TRIALS:-25}
  n=0 t=0
  while [ $t -lt "$trials" ]; do
    SUBJECT=crash$t inject a@example.org postmaster@example.com user2@example.com alias@example.com
    SUBJECT=crash$t inject a@example.org postmaster@example.com user2@example.com alias@example.com
    n=$((n + 2))
    start_send
    # 0 to 40 ms: from before the scan to after the last journal line
    sleep "$(od -An -N1 -tu1 /dev/urandom | awk '{ printf "%.3f", ($1 % 41) / 1000 }')"
    kill -9 "$SEND_PID"; wait "$SEND_PID" 2>/dev/null; SEND_PID=
    t=$((t + 1))
  done
  start_send
  assertTrue "queue drains" "wait_until 30 queue_empty"
  missing=0 partial=0
  t=0
  while [ $t -lt "$trials" ]; do
    # two messages a trial; postmaster gets each twice (directly and through alias@)
    [ "$(grep -l "^Subject: crash$t\$" "$PM"/* | wc -l)" -ge 4 ] || missing=$((missing + 1))
    [ "$(grep -l "^Subject: crash$t\$" "$U2"/* | wc -l)" -ge 2 ] || missing=$((missing + 1))
    t=$((t + 1))
  done
  for f in "$PM"/* "$U2"/*; do [ "$(tail -n 1 "$f")" = "last line" ] || partial=$((partial + 1)); done
  assertEquals "no message lost" 0 "$missing"
  assertEquals "none partial" 0 "$partial"
  assertEquals "no litter in tmp" 0 "$(count_files "$Q/tmp")"
}

. shunit2
