#!/bin/sh
# vmail-deliver: the Maildir delivery agent, against the tutorial's data.
. "$T_TOP/t/lib/common.sh"

PM=$VMAIL_ROOT/example.com/postmaster
U2=$VMAIL_ROOT/example.com/user2

oneTimeSetUp() {
  seed_tutorial
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES
      (1, 'team@example.com', 'postmaster@example.com'),
      (1, 'team@example.com', 'user2@example.com'),
      (1, 'outside@example.com', 'someone@elsewhere.org'),
      (1, 'mixed@example.com', 'user2@example.com, someone@elsewhere.org');"
}

setUp() { rm -rf "$VMAIL_ROOT" "$T_TMP/msg" "$T_TMP/err"; }

# The one file in $1/new (fails the test if there is not exactly one).
only_new() {
  n=$(ls "$1/new" 2>/dev/null | wc -l | tr -d ' ')
  assertEquals "files in $1/new" 1 "$n"
  echo "$1/new/$(ls "$1/new" | head -n 1)"
}

# The size of file $1 with every bare LF counted as CRLF.
crlf_size() {
  python3 -c "import sys; d = open(sys.argv[1], 'rb').read(); print(len(d.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')))" "$1"
}

testDeliverCreatesMaildirAndPrependsHeaders() {
  make_message "$T_TMP/msg" 300
  vmail-deliver -f sender@example.org postmaster@example.com < "$T_TMP/msg" 2>"$T_TMP/err"
  assertEquals "exit" 0 $?
  assertEquals "quiet on success" "" "$(cat "$T_TMP/err")"
  f=$(only_new "$PM")
  assertEquals "Return-Path first" "Return-Path: <sender@example.org>" "$(sed -n 1p "$f" | tr -d '\r')"
  assertEquals "Delivered-To second" "Delivered-To: postmaster@example.com" "$(sed -n 2p "$f" | tr -d '\r')"
  tail -n +3 "$f" > "$T_TMP/body"
  assertTrue "message stored unchanged after the two lines" "cmp -s '$T_TMP/msg' '$T_TMP/body'"
  assertEquals "Maildir 0700" 700 "$(stat -c %a "$PM")"
  assertEquals "new 0700" 700 "$(stat -c %a "$PM/new")"
  assertEquals "domain directory 0700" 700 "$(stat -c %a "$VMAIL_ROOT/example.com")"
  assertTrue "cur exists" "[ -d '$PM/cur' ]"
  assertEquals "tmp left empty" 0 "$(count_files "$PM/tmp")"
  size=$(wc -c < "$f" | tr -d ' ')
  crlf=$(crlf_size "$f")
  case $(basename "$f") in
    *.M*P*Q*.*,S=$size,W=$crlf) ;;
    *) fail "name $(basename "$f") lacks the unique parts, S=$size or W=$crlf" ;;
  esac
}

testHeadersFollowTheMessageLineEnding() {
  printf 'Subject: lf\n\nbody\n' > "$T_TMP/msg"
  vmail-deliver -f a@b.c postmaster@example.com < "$T_TMP/msg"
  f=$(only_new "$PM")
  assertEquals "no CR for an LF message" 0 "$(tr -cd '\r' < "$f" | wc -c | tr -d ' ')"
  printf 'Subject: crlf\r\n\r\nbody\r\n' | vmail-deliver -f a@b.c user2@example.com
  f=$(only_new "$U2")
  assertEquals "Return-Path: <a@b.c>" "$(sed -n 1p "$f" | tr -d '\r')"
  assertEquals "every line CRLF" "$(wc -l < "$f")" "$(tr -cd '\r' < "$f" | wc -c)"
}

testNameRecordsCrlfSize() {
  # W= counts every bare LF as CRLF (as Dovecot does), also a CRLF split
  # between two reads (the CR is the 65536th byte)
  python3 -c "import sys; sys.stdout.buffer.write(b'Subject: mixed\r\n\nlf\ncrlf\r\n' + b'x' * 65509 + b'\r' + b'\n' * 3 + b'\rlast')" > "$T_TMP/msg"
  vmail-deliver -f a@b.c postmaster@example.com < "$T_TMP/msg"
  f=$(only_new "$PM")
  assertContains "$(basename "$f")" ",S=$(wc -c < "$f" | tr -d ' '),W=$(crlf_size "$f")"
}

testSenderFromEnvironmentAndNullSender() {
  printf 'Subject: x\n\nb\n' | SENDER=env@example.org vmail-deliver user2@example.com
  f=$(only_new "$U2")
  assertEquals "Return-Path: <env@example.org>" "$(sed -n 1p "$f")"
  rm -rf "$U2"
  printf 'Subject: x\n\nb\n' | SENDER=env@example.org vmail-deliver -f '' user2@example.com
  f=$(only_new "$U2")
  assertEquals "-f wins, null sender" "Return-Path: <>" "$(sed -n 1p "$f")"
  rm -rf "$U2"
  printf 'Subject: x\n\nb\n' | env -u SENDER vmail-deliver user2@example.com
  f=$(only_new "$U2")
  assertEquals "no sender known: no Return-Path" "Delivered-To: user2@example.com" "$(sed -n 1p "$f")"
}

testSenderWithLineBreakRefused() {
  printf 'Subject: x\n\nb\n' | vmail-deliver -f "$(printf 'a@b.c\nX-Evil: 1')" user2@example.com 2>/dev/null
  assertEquals 100 $?
  assertEquals "nothing stored" 0 "$(count_files "$U2")"
}

testFiftyParallelDeliveriesAllArriveWithUniqueNames() {
  i=0
  while [ $i -lt 50 ]; do
    { printf 'Subject: parallel %s\r\n\r\n' $i; printf 'marker-%s\r\n' $i; } > "$T_TMP/p.$i"
    i=$((i + 1))
  done
  i=0
  while [ $i -lt 50 ]; do
    ( vmail-deliver -f a@b.c postmaster@example.com < "$T_TMP/p.$i"; echo $? > "$T_TMP/p.$i.rc" ) &
    i=$((i + 1))
  done
  wait
  assertEquals "every one exited 0" "50" "$(cat "$T_TMP"/p.*.rc | grep -c '^0$')"
  assertEquals "50 files in new" 50 "$(ls "$PM/new" | wc -l | tr -d ' ')"
  assertEquals "50 distinct unique parts" 50 "$(ls "$PM/new" | sed 's/,S=.*//' | sort -u | wc -l | tr -d ' ')"
  assertEquals "each message once" 50 "$(cat "$PM"/new/* | grep '^marker-' | sort -u | wc -l | tr -d ' ')"
  assertEquals "tmp empty" 0 "$(count_files "$PM/tmp")"
  rm -f "$T_TMP"/p.*
}

testAliasDeliversToItsTarget() {
  printf 'Subject: a\n\nb\n' | vmail-deliver -f a@b.c alias@example.com
  assertEquals 0 $?
  f=$(only_new "$PM")
  assertEquals "Delivered-To is the final address" "Delivered-To: postmaster@example.com" "$(sed -n 2p "$f")"
}

testAliasFansOutToEveryMaildir() {
  printf 'Subject: team\n\nbody\n' | vmail-deliver -f a@b.c team@example.com
  assertEquals 0 $?
  f1=$(only_new "$PM"); f2=$(only_new "$U2")
  assertEquals "Delivered-To: postmaster@example.com" "$(sed -n 2p "$f1")"
  assertEquals "Delivered-To: user2@example.com" "$(sed -n 2p "$f2")"
  assertEquals "same message" "$(tail -n +3 "$f1")" "$(tail -n +3 "$f2")"
}

testLargeMessageFromPipeReachesEveryMaildirWhole() {
  make_message "$T_TMP/msg" 1500000
  cat "$T_TMP/msg" | vmail-deliver -f a@b.c team@example.com
  assertEquals 0 $?
  for d in "$PM" "$U2"; do
    f=$(only_new "$d")
    tail -n +3 "$f" > "$T_TMP/body"
    assertTrue "whole message in $d" "cmp -s '$T_TMP/msg' '$T_TMP/body'"
  done
}

testUnknownUserIs100() {
  printf 'Subject: x\n\nb\n' | vmail-deliver nobody@example.com 2>"$T_TMP/err"
  assertEquals 100 $?
  assertContains "$(cat "$T_TMP/err")" "no such user"
  assertEquals "one line" 1 "$(wc -l < "$T_TMP/err" | tr -d ' ')"
  assertEquals "nothing created" 0 "$(count_files "$VMAIL_ROOT")"
}

testUnknownDomainAndBadAddressAre100() {
  printf 'x\n' | vmail-deliver someone@elsewhere.org 2>/dev/null
  assertEquals 100 $?
  printf 'x\n' | vmail-deliver 'not an address' 2>/dev/null
  assertEquals 100 $?
}

testUsageIs100() {
  vmail-deliver </dev/null 2>"$T_TMP/err"; assertEquals 100 $?
  assertContains "$(cat "$T_TMP/err")" "usage"
  vmail-deliver -x postmaster@example.com </dev/null 2>/dev/null; assertEquals 100 $?
  vmail-deliver a@example.com b@example.com </dev/null 2>/dev/null; assertEquals 100 $?
}

testLoopRefusedAsPermanent() {
  printf 'Delivered-To: postmaster@example.com\nSubject: again\n\nb\n' | vmail-deliver alias@example.com 2>"$T_TMP/err"
  assertEquals 100 $?
  assertContains "$(cat "$T_TMP/err")" "loop"
  assertEquals "nothing stored" 0 "$(count_files "$PM/new")"
  # another Delivered-To, or ours only in the body, is no loop
  printf 'Delivered-To: other@example.org\nSubject: ok\n\nDelivered-To: postmaster@example.com\n' | vmail-deliver postmaster@example.com
  assertEquals "not a loop" 0 $?
}

testLoopInFanOutSkipsOnlyThatMailbox() {
  printf 'Delivered-To: USER2@example.com\r\nSubject: x\r\n\r\nb\r\n' | vmail-deliver team@example.com 2>"$T_TMP/err"
  assertEquals "delivered to the other" 0 $?
  assertEquals 1 "$(count_files "$PM/new")"
  assertEquals 0 "$(count_files "$U2/new")"
  assertContains "$(cat "$T_TMP/err")" "loop"
}

# An alias pointing outside our domains: the copy for the remote target goes
# back into the queue (qmail-local's forward), never dropped.
testRemoteAliasTargetsForwardedThroughTheQueue() {
  export VMAIL_QUEUE_DIR=$T_TMP/queue
  rm -rf "$VMAIL_QUEUE_DIR"
  printf 'Subject: out\n\nx\n' | vmail-deliver -f a@example.org outside@example.com 2>"$T_TMP/err"
  assertEquals "remote only: forwarded" 0 $?
  assertEquals "quiet" "" "$(cat "$T_TMP/err")"
  assertEquals "one message queued" 1 "$(count_files "$VMAIL_QUEUE_DIR/env")"
  assertEquals "same sender, the remote target" "Fa@example.org Tsomeone@elsewhere.org  " "$(cat "$VMAIL_QUEUE_DIR"/env/* | tr '\0' ' ')"
  assertEquals "Delivered-To the alias, after the queue's Received line" "Delivered-To: outside@example.com" "$(sed -n 3p "$VMAIL_QUEUE_DIR"/mess/*)"
  assertTrue "no Return-Path in a forward" "! grep -q '^Return-Path' $VMAIL_QUEUE_DIR/mess/*"
  assertTrue "the message follows" "tail -n 3 $VMAIL_QUEUE_DIR/mess/* | grep -qx 'Subject: out'"
  rm -rf "$VMAIL_QUEUE_DIR"
  make_message "$T_TMP/msg" 400000
  cat "$T_TMP/msg" | vmail-deliver -f a@example.org mixed@example.com 2>"$T_TMP/err"
  assertEquals "mixed: delivered and forwarded" 0 $?
  assertEquals "local part delivered" 1 "$(count_files "$U2/new")"
  assertEquals "forward queued" "Fa@example.org Tsomeone@elsewhere.org  " "$(cat "$VMAIL_QUEUE_DIR"/env/* | tr '\0' ' ')"
  tail -n +4 "$VMAIL_QUEUE_DIR"/mess/* > "$T_TMP/body"
  assertTrue "a spooled message forwarded whole" "cmp -s '$T_TMP/msg' '$T_TMP/body'"
  unset VMAIL_QUEUE_DIR
}

testForwardLoopRefusedAsPermanent() {
  export VMAIL_QUEUE_DIR=$T_TMP/queue
  rm -rf "$VMAIL_QUEUE_DIR"
  printf 'Delivered-To: Outside@Example.com\nSubject: back\n\nx\n' | vmail-deliver -f a@example.org outside@example.com 2>"$T_TMP/err"
  assertEquals 100 $?
  assertContains "$(cat "$T_TMP/err")" "loop"
  assertEquals "nothing queued" 0 "$(count_files "$VMAIL_QUEUE_DIR/env")"
  unset VMAIL_QUEUE_DIR
}

testForwardQueueFailureIs111() {
  : > "$T_TMP/notadir"
  printf 'Subject: x\n\nb\n' | VMAIL_QUEUE_DIR=$T_TMP/notadir/q vmail-deliver -f a@example.org mixed@example.com 2>"$T_TMP/err"
  assertEquals "temporary" 111 $?
  assertContains "$(cat "$T_TMP/err")" "unable to queue the forward"
  printf 'Subject: x\n\nb\n' | PATH=/nonexistent "$T_TOP/bin/vmail-deliver" -f a@example.org outside@example.com 2>"$T_TMP/err"
  assertEquals "no vmail-queue to run: temporary" 111 $?
  assertEquals "one line" 1 "$(grep -c 'vmail-deliver: fatal' "$T_TMP/err")"
}

testTooBigIs100FromPipeAndFile() {
  make_message "$T_TMP/msg" 5000
  cat "$T_TMP/msg" | VMAIL_MESSAGE_MAX=4000 vmail-deliver postmaster@example.com 2>"$T_TMP/err"
  assertEquals 100 $?
  assertContains "$(cat "$T_TMP/err")" "too big"
  VMAIL_MESSAGE_MAX=4000 vmail-deliver postmaster@example.com < "$T_TMP/msg" 2>/dev/null
  assertEquals 100 $?
  assertEquals "nothing stored" 0 "$(count_files "$PM")"
  size=$(wc -c < "$T_TMP/msg" | tr -d ' ')
  VMAIL_MESSAGE_MAX=$size vmail-deliver postmaster@example.com < "$T_TMP/msg"
  assertEquals "exactly the limit passes" 0 $?
}

testFileStdinReadFromItsCurrentOffset() {
  printf 'From ignored-line\nSubject: off\n\nbody\n' > "$T_TMP/msg"
  { read -r skip; vmail-deliver -d "$PM"; } < "$T_TMP/msg"
  assertEquals 0 $?
  f=$(only_new "$PM")
  assertEquals "starts where stdin stood" "Subject: off" "$(head -n 1 "$f")"
}

testMaildirOptionSkipsLookup() {
  printf 'Subject: d\n\nb\n' | VMAIL_DB_SOCKET=/nonexistent vmail-deliver -d "$T_TMP/box" someone@anywhere.org
  assertEquals 0 $?
  f=$(only_new "$T_TMP/box")
  assertEquals "Delivered-To: someone@anywhere.org" "$(head -n 1 "$f")"
  printf 'Subject: d\n\nb\n' | vmail-deliver -d "$T_TMP/box2"
  assertEquals "recipient optional with -d" 0 $?
  f=$(only_new "$T_TMP/box2")
  assertEquals "no Delivered-To without recipient" "Subject: d" "$(head -n 1 "$f")"
  rm -rf "$T_TMP/box" "$T_TMP/box2"
}

# vmail-deliver never opens the database: vmail-resolve answers (here a
# stand-in that names a Maildir the tables do not know), its errors are
# passed on with their exit class, and a resolver service that is not there
# is replaced by the co-process
testResolutionComesFromTheResolver() {
  cat > "$T_TMP/fake-resolve" <<SH
#!/bin/sh
while read -r a; do
  case \$a in
    boss@*) printf 'local boss@example.com %s\n\n' "$T_TMP/bossbox" ;;
    gone@*) printf 'error nouser no such user here\n\n' ;;
    *) printf 'error temp database on fire\n\n' ;;
  esac
done
SH
  chmod 755 "$T_TMP/fake-resolve"
  rm -rf "$T_TMP/bossbox"
  printf 'Subject: r\n\nb\n' | VMAIL_RESOLVE=$T_TMP/fake-resolve VMAIL_DB_SOCKET=$T_TMP/none.sock \
    VMAIL_RESOLVE_SOCKET=$T_TMP/none.sock vmail-deliver boss@example.com 2>"$T_TMP/err"
  assertEquals 0 $?
  assertContains "$(cat "$(only_new "$T_TMP/bossbox")")" "Delivered-To: boss@example.com"
  printf 'x\n' | VMAIL_RESOLVE=$T_TMP/fake-resolve vmail-deliver gone@example.com 2>"$T_TMP/err"
  assertEquals 100 $?
  assertContains "$(cat "$T_TMP/err")" "no such user here"
  printf 'x\n' | VMAIL_RESOLVE=$T_TMP/fake-resolve vmail-deliver x@example.com 2>"$T_TMP/err"
  assertEquals 111 $?
  assertContains "$(cat "$T_TMP/err")" "database on fire"
  printf 'x\n' | VMAIL_RESOLVE=$T_TMP/no-such-program vmail-deliver postmaster@example.com 2>/dev/null
  assertEquals "no resolver at all is temporary" 111 $?
  assertEquals "not linked with the database client" "" "$(ldd "$(command -v vmail-deliver)" | grep mariadb)"
}

testEmptyMessageGetsOnlyTheAddedLines() {
  vmail-deliver -f a@b.c user2@example.com < /dev/null
  assertEquals 0 $?
  f=$(only_new "$U2")
  assertEquals "2 lines" 2 "$(wc -l < "$f" | tr -d ' ')"
}

testVerboseLogsOneLine() {
  printf 'x\n' | vmail-deliver -v postmaster@example.com 2>"$T_TMP/err"
  assertEquals 0 $?
  assertEquals 1 "$(wc -l < "$T_TMP/err" | tr -d ' ')"
  assertContains "$(cat "$T_TMP/err")" "delivered to=postmaster@example.com maildir=$PM file=new/"
}

testStaleTmpFilesRemoved() {
  mkdir -p "$PM/tmp" "$PM/new" "$PM/cur"
  echo old > "$PM/tmp/stale"; touch -d '37 hours ago' "$PM/tmp/stale"
  echo young > "$PM/tmp/young"; touch -d '35 hours ago' "$PM/tmp/young"
  printf 'x\n' | vmail-deliver postmaster@example.com
  assertEquals 0 $?
  assertFalse "37 hours old removed" "[ -e '$PM/tmp/stale' ]"
  assertTrue "35 hours old kept" "[ -e '$PM/tmp/young' ]"
}

testWriteFailureIs111AndLeavesNothing() {
  # a file size limit makes write(2) fail with EFBIG, like a full disk would
  make_message "$T_TMP/msg" 20000
  sh -c 'trap "" XFSZ; ulimit -f 8; exec vmail-deliver postmaster@example.com' < "$T_TMP/msg" 2>"$T_TMP/err"
  assertEquals 111 $?
  assertContains "$(cat "$T_TMP/err")" "unable to store"
  assertEquals "one line" 1 "$(wc -l < "$T_TMP/err" | tr -d ' ')"
  assertEquals "nothing in new" 0 "$(count_files "$PM/new")"
  assertEquals "nothing left in tmp" 0 "$(count_files "$PM/tmp")"
}

testFanOutTemporaryFailureIs111AfterStoringTheOthers() {
  mkdir -p "$U2/tmp" "$U2/new" "$U2/cur"
  chmod 555 "$U2/new"                  # link(2) there fails: EACCES, not the recipient's fault
  printf 'Subject: fan\n\nb\n' | vmail-deliver team@example.com 2>"$T_TMP/err"
  rc=$?
  chmod 755 "$U2/new"
  assertEquals "temporary: the queue retries" 111 "$rc"
  assertEquals "the other copy is stored (a retry may duplicate it)" 1 "$(count_files "$PM/new")"
  assertEquals "none in the failing one" 0 "$(count_files "$U2/new")"
  assertEquals "tmp cleaned up" 0 "$(count_files "$U2/tmp")"
  assertEquals "one line" 1 "$(wc -l < "$T_TMP/err" | tr -d ' ')"
  assertContains "$(cat "$T_TMP/err")" "$U2"
}

testFanOutPermanentStoreFailureSkipsThatMailbox() {
  mkdir -p "$U2/tmp" "$U2/cur"
  echo not a directory > "$U2/new"
  printf 'Subject: fan\n\nb\n' | vmail-deliver team@example.com 2>"$T_TMP/err"
  assertEquals "delivered to the other" 0 $?
  assertEquals 1 "$(count_files "$PM/new")"
  assertContains "warned" "$(cat "$T_TMP/err")" "$U2"
  printf 'Subject: one\n\nb\n' | vmail-deliver user2@example.com 2>"$T_TMP/err"
  assertEquals "alone: permanent" 100 $?
}

restart_db() {
  DB_EXTRA_OPTS="--innodb-flush-log-at-trx-commit=0 --skip-log-bin" db_start "$T_DB" >/dev/null
}

testDatabaseDownIs111ThenWorksWhenBack() {
  db_stop "$T_DB"
  printf 'x\n' | vmail-deliver postmaster@example.com 2>"$T_TMP/err"
  rc=$?
  restart_db
  assertEquals "database down" 111 "$rc"
  assertEquals "one line" 1 "$(wc -l < "$T_TMP/err" | tr -d ' ')"
  assertEquals "nothing stored" 0 "$(count_files "$PM")"
  printf 'x\n' | vmail-deliver postmaster@example.com
  assertEquals "back up" 0 $?
  assertEquals 1 "$(count_files "$PM/new")"
}

testDatabaseStoppedDuringDeliveryIs111() {
  mkfifo "$T_TMP/fifo"
  ( vmail-deliver postmaster@example.com < "$T_TMP/fifo" 2>"$T_TMP/err"; echo $? > "$T_TMP/rc" ) &
  exec 7>"$T_TMP/fifo"
  printf 'Subject: slow\n\n' >&7     # the message is still arriving...
  db_stop "$T_DB"                    # ...when the database goes away
  printf 'body\n' >&7
  exec 7>&-
  wait
  rc=$(cat "$T_TMP/rc")
  restart_db
  rm -f "$T_TMP/fifo"
  assertEquals 111 "$rc"
  assertEquals "nothing stored" 0 "$(count_files "$PM")"
  printf 'x\n' | vmail-deliver postmaster@example.com
  assertEquals "works when back" 0 $?
}

. shunit2
