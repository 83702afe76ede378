#!/bin/sh
# vmail-pop3d: the TRANSACTION and UPDATE states, with sessions piped into it
# inside a Maildir (as vmail-checkpw leaves it).
. "$T_TOP/t/lib/common.sh"

BOX=$T_TMP/box

setUp() {
  rm -rf "$BOX"; mkdir -p "$BOX/tmp" "$BOX/new" "$BOX/cur"
  unset VMAIL_POP3_TIMEOUT VMAIL_POP3_UIDL_FORMAT
}

# pop3 'CMD1' 'CMD2' ...: one session, commands CRLF-terminated; output with CRs
pop3() {
  for c in "$@"; do printf '%s\r\n' "$c"; done | (cd "$BOX" && vmail-pop3d 2>"$T_TMP/log")
}

# store DIR NAME PRINTF-FORMAT: a message file with exactly those bytes
store() { printf "$3" > "$BOX/$1/$2"; }

# RETR n; QUIT's output without the greeting, the +OK and QUIT's reply: the body and its "."
retr_body() { awk 'NR > 2' | sed '$d'; }

testGreetingCountsMessages() {
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  store cur 1700000002.M1P1.h:2,S 'Subject: b\n\ny\n'
  out=$(pop3 QUIT)
  assertContains "$out" "+OK 2 messages"
  assertContains "$out" "+OK bye"
}

testStatAndListEqualBytesSentForBareLf() {
  store new 1700000001.M1P1.h,S=25 'Subject: lf\n\nline1\nline2\n'
  store new 1700000002.M1P1.h 'Subject: crlf\r\n\r\nline\r\n'
  out=$(pop3 STAT LIST QUIT | tr -d '\r')
  # 25 bytes, 4 bare LFs -> 29; the CRLF message is already 23
  assertContains "$out" "+OK 2 52"
  assertContains "$out" "1 29"
  assertContains "$out" "2 23"
  sent=$(pop3 'RETR 1' QUIT | sed -n '3,/^\.\r$/p' | sed '$d' | wc -c)
  assertEquals 29 "$sent"
  sent=$(pop3 'RETR 2' QUIT | sed -n '3,/^\.\r$/p' | sed '$d' | wc -c)
  assertEquals 23 "$sent"
}

testSizeFromNameWithoutReading() {
  # ,W= (Dovecot's, vmail-deliver's) is believed: 20 here, though the text counts 17
  store new 1700000001.M1P1.h,S=14,W=20 'Subject: a\n\nx\n'
  # an unterminated last line gets its CRLF: 22 bytes, 2 LFs, W=24, sent 26
  store new 1700000002.M1P1.h,S=22,W=24 'Subject: a\n\nno newline'
  # not believed when ,S= is not the file's size or ,W= is impossible for it
  store new 1700000003.M1P1.h,S=99,W=20 'Subject: a\n\nx\n'
  store new 1700000004.M1P1.h,S=14,W=29 'Subject: a\n\nx\n'
  store new 1700000005.M1P1.h,W=13 'Subject: a\n\nx\n'
  out=$(pop3 LIST QUIT | tr -d '\r')
  assertContains "$out" "1 20
2 26
3 17
4 17
5 17
."
  sent=$(pop3 'RETR 2' QUIT | sed -n '3,/^\.\r$/p' | sed '$d' | wc -c)
  assertEquals 26 "$sent"
}

testRetrSendsCrlfOnly() {
  store new 1700000001.M1P1.h 'Subject: lf\n\nbare lf\nmixed\r\nend\n'
  out=$(pop3 'RETR 1' QUIT)
  lines=$(printf '%s\n' "$out" | wc -l)
  crlf=$(printf '%s\n' "$out" | grep -c "$(printf '\r')\$")
  assertEquals "every line ends in CRLF" "$lines" "$crlf"
  assertContains "$out" "mixed$(printf '\r')"
}

testUnterminatedLastLineCountsItsCrlf() {
  store new 1700000001.M1P1.h 'Subject: x\n\nno newline at end'
  out=$(pop3 'LIST 1' 'RETR 1' QUIT | tr -d '\r')
  # 29 bytes + 2 LFs + the CRLF added to the last line
  assertContains "$out" "+OK 1 33"
  assertContains "$out" "no newline at end
."
}

testByteStuffing() {
  store new 1700000001.M1P1.h 'Subject: dots\n\n.\n.leading dot\nno dot.\n..two\n'
  body=$(pop3 'RETR 1' QUIT | tr -d '\r' | retr_body | sed '$d')
  assertEquals "Subject: dots

..
..leading dot
no dot.
...two" "$body"
  size=$(pop3 'LIST 1' QUIT | tr -d '\r' | sed -n 2p)
  # stuffing is not counted: 44 bytes + 6 LFs
  assertEquals "+OK 1 50" "$size"
}

testTopSendsHeaderAndLines() {
  store new 1700000001.M1P1.h 'Subject: top\nX: y\n\nb1\nb2\nb3\n'
  out=$(pop3 'TOP 1 2' QUIT | tr -d '\r')
  assertEquals "+OK message follows
Subject: top
X: y

b1
b2
." "$(printf '%s\n' "$out" | sed -n '2,/^\.$/p')"
  out=$(pop3 'TOP 1 0' QUIT | tr -d '\r')
  assertContains "$out" "X: y

."
  assertTrue "TOP does not mark seen" "[ -f '$BOX/new/1700000001.M1P1.h' ]"
}

testDeleteHappensAtQuitOnly() {
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  store new 1700000002.M1P1.h 'Subject: b\n\ny\n'
  out=$(printf 'DELE 1\r\nSTAT\r\n' | (cd "$BOX" && vmail-pop3d 2>/dev/null) | tr -d '\r')
  assertContains "$out" "+OK 1 17"
  assertEquals "a dropped session deletes nothing" 2 "$(count_files "$BOX/new")"
  out=$(pop3 'DELE 1' 'DELE 1' QUIT | tr -d '\r')
  assertContains "$out" "-ERR message already deleted"
  assertFalse "deleted at QUIT" "[ -f '$BOX/new/1700000001.M1P1.h' ]"
  assertTrue "the other stays" "[ -f '$BOX/new/1700000002.M1P1.h' ]"
}

testRsetUndeletes() {
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  out=$(pop3 'DELE 1' RSET STAT QUIT | tr -d '\r')
  assertContains "$out" "+OK 1 17"
  assertEquals 1 "$(count_files "$BOX/new")"
}

testRetrMovesToCurWithSeenFlag() {
  store new 1700000001.M1P1.h,S=14 'Subject: a\n\nx\n'
  store cur 1700000002.M1P1.h:2,FR 'Subject: b\n\ny\n'
  pop3 'RETR 1' 'RETR 2' QUIT >/dev/null
  assertTrue "new -> cur with S" "[ -f '$BOX/cur/1700000001.M1P1.h,S=14:2,S' ]"
  assertTrue "flags stay in order" "[ -f '$BOX/cur/1700000002.M1P1.h:2,FRS' ]"
  assertEquals 0 "$(count_files "$BOX/new")"
}

testUidlStableAcrossSessionsAndMove() {
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  store new 1700000002.M1P1.h 'Subject: b\n\ny\n'
  before=$(pop3 UIDL 'RETR 1' QUIT | tr -d '\r' | sed -n '/^+OK unique-id/,/^\.$/p')
  after=$(pop3 UIDL QUIT | tr -d '\r' | sed -n '/^+OK unique-id/,/^\.$/p')
  assertEquals "$before" "$after"
  assertContains "$before" "1 1700000001.M1P1.h"
  one=$(pop3 'UIDL 2' QUIT | tr -d '\r' | sed -n 2p)
  assertEquals "+OK 2 1700000002.M1P1.h" "$one"
}

testUidlFromDovecotUidlist() {
  store cur 1276528487.M364837P9451.kurkku,S=14,W=15:2,S 'Subject: a\n\nx\n'
  store new 1700000002.M1P1.h 'Subject: b\n\ny\n'
  printf '3 V1276528487 N12 G3085f01b7f11094c501100008c4a11c1\n11 W15 :1276528487.M364837P9451.kurkku,S=14,W=15:2,\n' \
    > "$BOX/dovecot-uidlist"
  out=$(pop3 UIDL QUIT | tr -d '\r')
  # Dovecot's pop3_uidl_format %08Xu%08Xv, which Dovecot writes in lower case
  assertContains "$out" "1 0000000b4c164767"
  assertContains "$out" "2 1700000002.M1P1.h"
}

# VMAIL_POP3_UIDL_FORMAT: a site whose Dovecot had another pop3_uidl_format
# (and saved no UIDLs) keeps its clients' UIDLs.
uidl_box() {
  store cur 1276528487.M364837P9451.kurkku,S=14,W=15:2,S 'Subject: a\r\nFrom: b\r\n\r\nx\r\n'
  store cur 1276528488.M1P1.kurkku:2,S 'Subject: c\n\nLF only\n'
  store new 1700000002.M1P1.h 'Subject: b\n\ny\n'
  printf '3 V1276528487 N13 G3085f01b7f11094c501100008c4a11c1\n11 W15 :1276528487.M364837P9451.kurkku,S=14,W=15\n12 P :1276528488.M1P1.kurkku\n' \
    > "$BOX/dovecot-uidlist"
}
uidl_with() { VMAIL_POP3_UIDL_FORMAT=$1 pop3 UIDL QUIT | tr -d '\r'; }

testUidlFormatCourier() {
  uidl_box
  out=$(uidl_with '%v.%u')
  assertContains "$out" "1 1276528487.11"
  # a UIDL Dovecot saved still wins; mail vmail delivered has its base name
  assertContains "$out" "2 1276528488.M1P1.kurkku"
  assertContains "$out" "3 1700000002.M1P1.h"
}

testUidlFormatVariablesAndModifiers() {
  uidl_box
  assertContains "$(uidl_with '%08Xu%08Xv')" "1 0000000b4c164767"
  assertContains "$(uidl_with '%f')" "1 1276528487.M364837P9451.kurkku,S=14,W=15"
  assertContains "$(uidl_with '%{uid}-%{uidvalidity}')" "1 11-1276528487"
  assertContains "$(uidl_with '%Xv')" "1 4c164767"
  # modifiers apply in order, as Dovecot's: U then X is lower-case hex
  assertContains "$(uidl_with '%UXv')" "1 4c164767"
  assertContains "$(uidl_with '%XUv%Lg')" "1 4C1647671276528487.m364837p9451.kurkku,s=14,w=15"
  assertContains "$(uidl_with '%.4v')" "1 1276"
  assertContains "$(uidl_with '%-4.v')" "1 8487"
  assertContains "$(uidl_with '%2.3v')" "1 765"
  assertContains "$(uidl_with '%012u')" "1 000000000011"
  assertContains "$(uidl_with '%Ru')" "1 11"
  assertContains "$(uidl_with '%Rv')" "1 7848256721"
  assertContains "$(uidl_with 'x%%u')" "1 x%u"
  assertContains "$(uidl_with '%Mu')" "1 $(printf 11 | md5sum | cut -c1-32)"
  # %m: the header as stored, without the empty line that ends it
  assertContains "$(uidl_with '%m')" "1 $(printf 'Subject: a\r\nFrom: b\r\n' | md5sum | cut -c1-32)"
  # a result that is no RFC 1939 unique-id (a space) falls back to the default
  assertContains "$(uidl_with '%u %v')" "1 0000000b4c164767"
}

testUidlFormatWithoutUidlistIsTheBaseName() {
  store new 1700000002.M1P1.h 'Subject: b\n\ny\n'
  assertContains "$(uidl_with '%v.%u')" "1 1700000002.M1P1.h"
}

testBadUidlFormatIs100() {
  for f in '%q' '%' '%{nope}' '%{uid' '%-4u' 'x%XXXXXXXXXXXu'; do
    printf 'QUIT\r\n' | (cd "$BOX" && VMAIL_POP3_UIDL_FORMAT=$f vmail-pop3d >/dev/null 2>"$T_TMP/log")
    assertEquals "format $f" 100 $?
    assertContains "format $f" "$(cat "$T_TMP/log")" "bad VMAIL_POP3_UIDL_FORMAT"
  done
}

testMessagesInDeliveryOrderWhenMicrosecondsGainADigit() {
  # names sort as numbers: M99999 came before M100000 in the same second
  # (byte order put them the other way round, so mail arrived out of order)
  store new 1700000001.M100000P2.h 'Subject: second\n\nb\n'
  store new 1700000001.M99999P1.h 'Subject: first\n\na\n'
  store cur 1700000000.M5P1.h:2,S 'Subject: zeroth\n\nz\n'
  store new 1700000001.M99999P10.h 'Subject: first-bis\n\nc\n'
  out=$(pop3 'TOP 1 0' 'TOP 2 0' 'TOP 3 0' 'TOP 4 0' QUIT | tr -d '\r' | grep '^Subject:')
  assertEquals "$(printf 'Subject: zeroth\nSubject: first\nSubject: first-bis\nSubject: second')" "$out"
  # and a Dovecot uid list still finds them (its lookup follows that order)
  printf '3 V1700000000 N30 G3085f01b7f11094c501100008c4a11c1\n21 :1700000000.M5P1.h\n22 :1700000001.M99999P1.h\n23 :1700000001.M99999P10.h\n24 :1700000001.M100000P2.h\n' > "$BOX/dovecot-uidlist"
  out=$(pop3 UIDL QUIT | tr -d '\r')
  assertContains "$out" "$(printf '1 000000156553f100\n2 000000166553f100\n3 000000176553f100\n4 000000186553f100')"
}

testUidlSavedByDovecotWins() {
  # P: the UIDL Dovecot serves instead of its format (pop3_save_uidl, the
  # pop3-migration plugin); an empty P stands for the base name
  store cur 1276528487.M1P1.kurkku,S=14:2,S 'Subject: a\n\nx\n'
  store cur 1276528488.M1P1.kurkku,S=14:2,S 'Subject: b\n\ny\n'
  store new 1276528489.M1P1.kurkku 'Subject: c\n\nz\n'
  store new 1276528490.M1P1.kurkku 'Subject: d\n\nw\n'
  printf '3 V1276528487 N15 G3085f01b7f11094c501100008c4a11c1\n11 P00000a7d4c0c9b3f W15 :1276528487.M1P1.kurkku,S=14:2,S\n12 W15 P :1276528488.M1P1.kurkku,S=14\n13 Pbad\001uidl :1276528489.M1P1.kurkku\n14 :1276528490.M1P1.kurkku\n' \
    > "$BOX/dovecot-uidlist"
  out=$(pop3 UIDL 'UIDL 1' QUIT | tr -d '\r')
  assertContains "$out" "+OK unique-id listing follows
1 00000a7d4c0c9b3f
2 1276528488.M1P1.kurkku,S=14
3 0000000d4c164767
4 0000000e4c164767
."
  assertContains "$out" "+OK 1 00000a7d4c0c9b3f"
}

testUnreadableDovecotUidlistIsTemporary() {
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  # a list that cannot be read now: no session with other UIDLs than the next
  mkdir "$BOX/dovecot-uidlist"
  out=$(printf 'UIDL\r\n' | (cd "$BOX" && vmail-pop3d 2>/dev/null); echo "rc=$?")
  assertEquals "exit 111 in silence (the login answers [SYS/TEMP])" "rc=111" "$out"
  rmdir "$BOX/dovecot-uidlist"
  # a malformed one is broken for good: base names, and a warning
  printf 'junk\n' > "$BOX/dovecot-uidlist"
  out=$(pop3 'UIDL 1' QUIT | tr -d '\r')
  assertContains "$out" "+OK 1 1700000001.M1P1.h"
  assertContains "$(cat "$T_TMP/log")" "warning: unable to read dovecot-uidlist"
}

testMessageInNewAndCurListedOnce() {
  # a crash between link and unlink can leave both names of one message
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  store cur 1700000001.M1P1.h:2,S 'Subject: a\n\nx\n'
  out=$(pop3 UIDL QUIT | tr -d '\r')
  assertContains "$out" "+OK 1 messages"
  assertContains "$out" "1 1700000001.M1P1.h
."
}

testUnfitBaseNameGetsDigestUidl() {
  long=17000000$(printf '%080d' 0).h
  store new "$long" 'Subject: a\n\nx\n'
  out=$(pop3 'UIDL 1' QUIT | tr -d '\r' | sed -n 2p)
  uidl=${out#+OK 1 }
  assertEquals 40 "${#uidl}"
  again=$(pop3 'UIDL 1' QUIT | tr -d '\r' | sed -n 2p)
  assertEquals "$out" "$again"
}

testSecondSessionIsInUse() {
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  : > "$BOX/vmail-pop3.lock"
  out=$(flock "$BOX/vmail-pop3.lock" sh -c "printf 'STAT\r\n' | (cd '$BOX' && vmail-pop3d 2>/dev/null)" | tr -d '\r')
  assertEquals "-ERR [IN-USE] the mailbox is open in another POP3 session" "$out"
}

testSizeCacheIsUsed() {
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  pop3 STAT QUIT >/dev/null
  assertEquals "1700000001.M1P1.h 14 17" "$(cat "$BOX/vmail-pop3-sizes")"
  # a cached size is believed without reading the message again
  printf '1700000001.M1P1.h 14 99\n' > "$BOX/vmail-pop3-sizes"
  assertContains "$(pop3 STAT QUIT | tr -d '\r')" "+OK 1 99"
  # RETR corrects it
  pop3 'RETR 1' QUIT >/dev/null
  assertEquals "1700000001.M1P1.h 14 17" "$(cat "$BOX/vmail-pop3-sizes")"
  # a malformed cache is ignored and rebuilt
  printf '1700000001.M1P1.h 14' > "$BOX/vmail-pop3-sizes"
  assertContains "$(pop3 STAT QUIT | tr -d '\r')" "+OK 1 17"
  assertEquals "1700000001.M1P1.h 14 17" "$(cat "$BOX/vmail-pop3-sizes")"
}

testMessageRemovedByAnotherClient() {
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  out=$( { printf 'UIDL\r\n'; sleep 0.3; printf 'RETR 1\r\nQUIT\r\n'; } | (cd "$BOX" && vmail-pop3d 2>/dev/null) &
         sleep 0.15; rm -f "$BOX/new/1700000001.M1P1.h"; wait)
  assertContains "$(printf '%s' "$out" | tr -d '\r')" "-ERR message was removed by another client"
  # STAT and LIST still answer, the gone message with its stored size
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  store new 1700000002.M1P1.h 'Subject: b\n\ny\n'
  out=$( { printf 'UIDL\r\n'; sleep 0.3; printf 'STAT\r\nLIST\r\nRETR 2\r\nQUIT\r\n'; } | (cd "$BOX" && vmail-pop3d 2>/dev/null) &
         sleep 0.15; rm -f "$BOX/new/1700000001.M1P1.h"; wait)
  out=$(printf '%s' "$out" | tr -d '\r')
  assertContains "$out" "+OK 2 31"
  assertContains "$out" "1 14
2 17
."
  assertContains "$out" "Subject: b"
  assertEquals "the gone message is not cached" "1700000002.M1P1.h 14 17" "$(cat "$BOX/vmail-pop3-sizes")"
}

testMessageRenamedByAnotherClientIsFollowed() {
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  out=$( { printf 'UIDL\r\n'; sleep 0.3; printf 'RETR 1\r\nDELE 1\r\nQUIT\r\n'; } | (cd "$BOX" && vmail-pop3d 2>/dev/null) &
         sleep 0.15; mv "$BOX/new/1700000001.M1P1.h" "$BOX/cur/1700000001.M1P1.h:2,F"; wait)
  assertContains "$(printf '%s' "$out" | tr -d '\r')" "Subject: a"
  assertEquals 0 "$(count_files "$BOX/cur")"
}

testBadCommandsAndArguments() {
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  out=$(pop3 'RETR 2' 'RETR x' 'LIST 0' 'TOP 1' 'USER a' 'FROB' 'RETR 1 2' 'STAT 1' NOOP QUIT | tr -d '\r')
  assertEquals "+OK 1 messages
-ERR no such message
-ERR bad message number
-ERR no such message
-ERR usage: TOP msg n
-ERR not in the TRANSACTION state
-ERR unknown command or bad arguments
-ERR RETR takes one message number
-ERR STAT takes no argument
+OK
+OK bye" "$out"
}

testTooManyErrorsDisconnects() {
  out=$(pop3 X X X X X X X X X X STAT | tr -d '\r')
  assertContains "$out" "-ERR too many errors"
  assertNotContains "$out" "+OK 0 0"
}

testLongLineEndsSession() {
  # 1024 octets before the CRLF is the limit; one more ends the session
  out=$(pop3 "NOOP $(printf '%01019d' 0)" STAT "NOOP $(printf '%01020d' 0)" STAT QUIT | tr -d '\r')
  assertEquals "+OK 0 messages
-ERR unknown command or bad arguments
+OK 0 0
-ERR line too long" "$out"
  assertContains "$(cat "$T_TMP/log")" "end=line-too-long"
  # a flood without a line end is not read to its end nor waited out
  start=$(date +%s)
  out=$(head -c 50000000 /dev/zero | (cd "$BOX" && VMAIL_POP3_TIMEOUT=30 vmail-pop3d 2>/dev/null) | tr -d '\r')
  assertEquals "+OK 0 messages
-ERR line too long" "$out"
  assertTrue "ended at once" "[ $(($(date +%s) - start)) -lt 10 ]"
}

testIdleTimeout() {
  out=$( (sleep 3; printf 'STAT\r\n') | (cd "$BOX" && VMAIL_POP3_TIMEOUT=1 vmail-pop3d 2>"$T_TMP/log") | tr -d '\r')
  assertContains "$out" "-ERR autologout"
  assertNotContains "$out" "+OK 0 0"
  assertContains "$(cat "$T_TMP/log")" "end=timeout"
}

testClientThatStopsReadingIsDropped() {
  python3 -c "import sys; sys.stdout.buffer.write(b'Subject: big\\n\\n' + (b'y' * 78 + b'\\n') * 200000)" > "$BOX/new/1700000001.M1P1.h"
  out=$(cd "$BOX" && VMAIL_POP3_TIMEOUT=1 python3 -c "
import socket, subprocess, time
a, b = socket.socketpair()
p = subprocess.Popen(['vmail-pop3d'], stdin=b, stdout=b, stderr=subprocess.PIPE)
b.close()
a.sendall(b'RETR 1\\r\\n')   # and never read the answer
try:
    p.wait(timeout=15)
    print(p.stderr.read().decode().strip())
except subprocess.TimeoutExpired:
    p.kill()
    print('still writing after 15s')")
  assertContains "$out" "end=write-timeout"
  assertTrue "the lock went with it" "flock -n '$BOX/vmail-pop3.lock' true"
}

testOneLogLinePerSession() {
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  store new 1700000002.M1P1.h 'Subject: b\n\ny\n'
  printf 'RETR 1\r\nDELE 1\r\nDELE 2\r\nQUIT\r\n' | (cd "$BOX" && USER=u@example.com TCPREMOTEIP=192.0.2.7 vmail-pop3d >/dev/null 2>"$T_TMP/log")
  assertEquals 1 "$(wc -l < "$T_TMP/log")"
  assertContains "$(cat "$T_TMP/log")" "session user=u@example.com ip=192.0.2.7 retrieved=1 deleted=2 bytes=17 end=quit"
}

testPipelinedCommandsAnswered() {
  store new 1700000001.M1P1.h 'Subject: a\n\nx\n'
  out=$(printf 'STAT\r\nLIST\r\nUIDL 1\r\nQUIT\r\n' | (cd "$BOX" && vmail-pop3d 2>/dev/null) | tr -d '\r')
  assertEquals "+OK 1 messages
+OK 1 17
+OK scan listing follows
1 17
.
+OK 1 1700000001.M1P1.h
+OK bye" "$out"
}

testCapaInTransaction() {
  out=$(pop3 CAPA QUIT | tr -d '\r')
  for cap in TOP UIDL RESP-CODES AUTH-RESP-CODE PIPELINING; do assertContains "$out" "
$cap
"; done
}

testUsage() {
  vmail-pop3d extra </dev/null >/dev/null 2>&1; assertEquals 100 $?
}

. shunit2
