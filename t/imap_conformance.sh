#!/bin/sh
# vmail-imapd and vmail-imap-login: what Dovecot's imaptest compliance suite
# checks (see the README's IMAP section), each case as a session of our own:
# SEARCH dates and addresses, sets up to UID 4294967295, long command lines,
# LIST-EXTENDED, literal8 APPEND, CONDSTORE's first HIGHESTMODSEQ, ESEARCH.
. "$T_TOP/t/lib/common.sh"
. "$T_TOP/t/lib/imap.sh"

oneTimeSetUp() { seed_tutorial; }

# hmsg FILE HEADER-LINES...: a message with these header lines and a body
hmsg() { f=$1; shift; { printf '%s\n' "$@"; printf '\nbody\n'; } > "$f"; }

testSentDatesAreTheDateFieldsOwnDate() {
  newbox "$T_TMP/m"
  # 23:00 +0200 is 21:00 UTC the same day; 00:00 +0200 on the 25th is the
  # 24th in UTC, but SENTON compares the date its sender wrote
  hmsg "$T_TMP/m/cur/1.M1P1.h:2," 'Date: Sat, 24 Mar 2007 23:00:00 +0200'
  hmsg "$T_TMP/m/cur/2.M2P2.h:2," 'Date: Sun, 25 Mar 2007 00:00:00 +0200'
  hmsg "$T_TMP/m/cur/3.M3P3.h:2," 'Date: Sun, 25 Mar 2007 23:30:00 -0500'
  out=$(printf '%s\n' 'a SELECT INBOX' 'b SEARCH SENTON 24-Mar-2007' 'c SEARCH SENTON 25-Mar-2007' \
    'd SEARCH SENTBEFORE 25-Mar-2007' 'e SEARCH SENTSINCE 25-Mar-2007' 'f SEARCH NOT SENTON 25-Mar-2007' | session "$T_TMP/m")
  assertHas "$out" "$(printf '* SEARCH 1\nb OK')"
  assertHas "$out" "$(printf '* SEARCH 2 3\nc OK')"
  assertHas "$out" "$(printf '* SEARCH 1\nd OK')"
  assertHas "$out" "$(printf '* SEARCH 2 3\ne OK')"
  assertHas "$out" "$(printf '* SEARCH 1\nf OK')"
}

testInternalDateSearchUsesTheDateFetchGives() {
  newbox "$T_TMP/m"
  hmsg "$T_TMP/m/cur/1.M1P1.h:2," 'Subject: one'
  hmsg "$T_TMP/m/cur/2.M2P2.h:2," 'Subject: two'
  touch -d '2007-03-24 23:30:00 UTC' "$T_TMP/m/cur/1.M1P1.h:2,"
  touch -d '2007-03-25 00:30:00 UTC' "$T_TMP/m/cur/2.M2P2.h:2,"
  out=$(printf '%s\n' 'a SELECT INBOX' 'b FETCH 1:* INTERNALDATE' 'c SEARCH ON 24-Mar-2007' 'd SEARCH SINCE 25-Mar-2007' \
    'e SEARCH BEFORE 25-Mar-2007' | session "$T_TMP/m")
  assertContains "$out" '* 1 FETCH (INTERNALDATE "24-Mar-2007 23:30:00 +0000")'
  assertHas "$out" "$(printf '* SEARCH 1\nc OK')"
  assertHas "$out" "$(printf '* SEARCH 2\nd OK')"
  assertHas "$out" "$(printf '* SEARCH 1\ne OK')"
}

testAddressSearchMatchesEveryAddressForm() {
  newbox "$T_TMP/m"
  hmsg "$T_TMP/m/cur/1.M1P1.h:2," 'From: user-from@domain.org'
  hmsg "$T_TMP/m/cur/2.M2P2.h:2," 'From: RealFrom <user-from@domain.org>'
  hmsg "$T_TMP/m/cur/3.M3P3.h:2," 'From: <user-from (comment)@ (comment) domain.org>'
  hmsg "$T_TMP/m/cur/4.M4P4.h:2," 'From: user-from@domain.org (RealFrom)'
  hmsg "$T_TMP/m/cur/5.M5P5.h:2," 'From: other@domain.org' 'Cc: "Real, Cc" <user-cc @ domain.org>'
  out=$(printf '%s\n' 'a SELECT INBOX' 'b SEARCH FROM user-from@domain.org' 'c SEARCH FROM realfrom' \
    'd SEARCH CC user-cc@domain.org' 'e SEARCH FROM "RealFrom <user-from@domain.org>"' | session "$T_TMP/m")
  assertHas "$out" "$(printf '* SEARCH 1 2 3 4\nb OK')"
  assertHas "$out" "$(printf '* SEARCH 2 4\nc OK')"
  assertHas "$out" "$(printf '* SEARCH 5\nd OK')"
  assertHas "$out" "$(printf '* SEARCH 2 4\ne OK')"
}

testUid4294967295IsAValidUid() {
  newbox "$T_TMP/m"
  hmsg "$T_TMP/m/cur/1.M1P1.h:2," 'Subject: one'
  hmsg "$T_TMP/m/cur/2.M2P2.h:2," 'Subject: two'
  out=$(printf '%s\n' 'a SELECT INBOX' 'b UID SEARCH UID 1:4294967295' 'c UID SEARCH UID 3:4294967295' \
    'd UID SEARCH UID 3:*' 'e UID FETCH 4294967295 UID' 'f UID SEARCH UID 4294967296' 'g UID SEARCH UID 0:3' \
    'h SEARCH 1:*' | session "$T_TMP/m")
  assertHas "$out" "$(printf '* SEARCH 1 2\nb OK')"
  # UIDs 3 to 4294967295: none (not the "last message" rule of "*")
  assertHas "$out" "$(printf '* SEARCH\nc OK')"
  assertHas "$out" "$(printf '* SEARCH 2\nd OK')"
  assertContains "$out" 'e OK'
  # bad sets are BAD, and the session goes on
  assertContains "$out" 'f BAD'
  assertContains "$out" 'g BAD'
  assertHas "$out" "$(printf '* SEARCH 1 2\nh OK')"
}

# login: vmail-imap-login (then vmail-checkpw, vmail-imapd) on stdin
login() {
  env VMAIL_AUTH_PLAINTEXT=1 vmail-imap-login vmail-imapd 2>/dev/null | tr -d '\r'
}

testLongCommandsAreAnsweredNotDropped() {
  long=$(head -c 30000 /dev/zero | tr '\0' 1)
  # RFC 2971 ID with long values (imaptest's "id"): served before login
  out=$(printf 'a ID ("name" "%s" "x" "%s")\r\nb NOOP\r\nc LOGOUT\r\n' "$long" "$long" | login)
  assertContains "$out" '* ID ('
  assertContains "$out" 'a OK'
  assertContains "$out" 'b OK'
  # any other over-long command gets a BAD, the session stays
  out=$(printf 'a LOGIN "%s" x\r\nb NOOP\r\n' "$long" | login)
  assertContains "$out" 'a BAD Command line too long'
  assertContains "$out" 'b OK'
  assertNotContains "$out" 'BYE Command'
  # after login too, also when the long line announces a literal
  newbox "$T_TMP/m"
  long=$(head -c 70000 /dev/zero | tr '\0' 1)
  out=$(printf 'a ID ("x" "%s" "y" {5+}\r\nhello)\r\nb NOOP\r\n' "$long" | (cd "$T_TMP/m" && vmail-imapd 2>/dev/null) | tr -d '\r')
  assertContains "$out" 'a BAD Command line too long'
  assertContains "$out" 'b OK'
  assertNotContains "$out" 'hello'
}

testListExtendedOptionsAndRecursiveMatch() {
  newbox "$T_TMP/m"
  out=$(printf '%s\n' 'a CREATE T.a' 'a2 CREATE T.b' 'b CREATE T.b.c' 'c CREATE T.d.e' 'd CREATE T.gone' \
    'e SUBSCRIBE T.b.c' 'f SUBSCRIBE T.d.e' 'g SUBSCRIBE T.gone' 'h DELETE T.gone' \
    'i LIST (BOGUS) "" ""' 'j LIST (RECURSIVEMATCH) "" ""' 'k LIST (RECURSIVEMATCH REMOTE) "" ""' \
    'l LIST "" "" RETURN (BOGUS)' 'm LIST (REMOTE) "" "%"' \
    'n LIST (SUBSCRIBED RECURSIVEMATCH) "" "T.%"' 'o LIST (SUBSCRIBED) "" "T.*"' \
    'p LSUB "" "T.%"' 'q LIST (SUBSCRIBED RECURSIVEMATCH) "" ("T.b" "T.b.c")' | session "$T_TMP/m")
  # CREATE does not subscribe, DELETE does not unsubscribe (RFC 3501 6.3.9)
  assertEquals "$(printf 'Trash\nT.b.c\nT.d.e\nT.gone' | sort)" "$(grep '^T\.\|^Trash$' "$T_TMP/m/subscriptions" | sort)"
  for t in i j k l; do assertContains "$t BAD" "$out" "$t BAD"; done
  assertContains "$out" 'm OK'
  # T.b and T.d: not subscribed, their subscribed children hidden by "%"
  assertContains "$out" '* LIST (\HasChildren) "." "T.b" ("CHILDINFO" ("SUBSCRIBED"))'
  assertContains "$out" '* LIST (\NonExistent \HasChildren) "." "T.d" ("CHILDINFO" ("SUBSCRIBED"))'
  assertNotContains "$out" '"T.a"'
  assertContains "$out" '* LIST (\NonExistent \HasNoChildren \Subscribed) "." "T.gone"'
  assertContains "$out" '* LSUB (\Noselect) "." "T.b"'
  assertContains "$out" '* LSUB (\Noselect) "." "T.gone"'
  # both patterns matched: T.b.c is listed itself, T.b gets no CHILDINFO
  q=$(echo "$out" | sed -n '/^p OK/,/^q OK/p')
  assertContains "$q" '"T.b.c"'
  assertNotContains "$q" '"T.b" ('
}

testLiteral8BinaryPartIsServedBack() {
  newbox "$T_TMP/m"
  # a binary part with NUL, bare LF and CRLF (imaptest's append-binary)
  out=$(python3 - "$T_TMP/m" <<'PY'
import subprocess, sys
body = (b"From: user@domain.org\r\nMime-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: binary\r\n\r\n\x00-\xe4\n\r\n\n")
inp = (b"a APPEND INBOX ~{%d+}\r\n" % len(body) + body + b"\r\nb SELECT INBOX\r\n"
       b"c FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])\r\nd FETCH 1 (BODY.PEEK[1])\r\n")
out = subprocess.run(["vmail-imapd"], input=inp, cwd=sys.argv[1], capture_output=True).stdout
print("appended" if b"a OK [APPENDUID" in out else "not appended")
# the octets sent, exactly, through BINARY
print("binary" if b"BINARY.SIZE[1] 7 BINARY[1] ~{7}\r\n\x00-\xe4\n\r\n\n)" in out else "binary differs")
# and no NUL in a plain literal: the part is base64 for BODY[]
print("base64" if b"* 1 FETCH (BODY[1] {14}\r\nAC3kCg0KCg==\r\n)" in out else "body differs")
PY
)
  assertEquals "$(printf 'appended\nbinary\nbase64')" "$out"
  assertContains "$(cat "$T_TMP"/m/cur/*)" 'Content-Transfer-Encoding: base64'
}

testFirstCondstoreCommandTellsHighestModseq() {
  newbox "$T_TMP/m"
  hmsg "$T_TMP/m/cur/1.M1P1.h:2," 'Subject: one'
  hmsg "$T_TMP/m/cur/2.M2P2.h:2," 'Subject: two'
  hmsg "$T_TMP/m/cur/3.M3P3.h:2," 'Subject: three'
  out=$(printf '%s\n' 'a SELECT INBOX' 'b FETCH 1 (FLAGS)' 'c FETCH 1 (MODSEQ)' 'd FETCH 2 (MODSEQ)' 'e STORE 2 +FLAGS (\Seen)' \
    'f SEARCH RETURN (MIN) 1:3 MODSEQ 1' 'g SEARCH RETURN (MAX) 1:3 MODSEQ 1' 'h SEARCH RETURN (ALL) 1:3 MODSEQ 1' | session "$T_TMP/m")
  # once, before the first CONDSTORE-enabling command completes (RFC 7162 3.1)
  assertEquals 2 "$(echo "$out" | grep -c '^\* OK \[HIGHESTMODSEQ [0-9]*\]')"
  assertHas "$out" "$(printf ' Highest\nc OK')"
  assertHas "$out" "$(printf '* 1 FETCH (FLAGS ())\nb OK')"
  # ESEARCH's MODSEQ: of the messages returned (RFC 7162 3.1.5)
  m1=$(echo "$out" | sed -n 's/^\* 1 FETCH (MODSEQ (\([0-9]*\)))$/\1/p')
  m2=$(echo "$out" | sed -n 's/^\* 2 FETCH (FLAGS (\\Seen) MODSEQ (\([0-9]*\)))$/\1/p')
  assertNotEquals "" "$m1"; assertNotEquals "" "$m2"
  assertContains "$out" "MIN 1 MODSEQ $m1"
  assertContains "$out" "ALL 1:3 MODSEQ $m2"
}

testMoveIntoTheSelectedFolderReportsIt() {
  newbox "$T_TMP/m"
  hmsg "$T_TMP/m/cur/1.M1P1.h:2," 'Subject: one'
  out=$(printf '%s\n' 'a SELECT INBOX' 'b MOVE 1 INBOX' 'c FETCH 1 UID' | session "$T_TMP/m")
  assertHas "$out" "$(printf '* 1 EXPUNGE\n* 1 EXISTS')"
  assertContains "$out" '* 1 FETCH (UID 2)'
}

# messages this session appended join its view without a rescan: a MOVE of
# them into the same folder must still announce the copies [imaptest move]
testMoveOfAppendedMessagesIntoTheSelectedFolderReportsThem() {
  newbox "$T_TMP/m"
  out=$(printf '%s\n' 'a SELECT INBOX' 'b APPEND INBOX {5+}' 'hello' 'c APPEND INBOX {5+}' 'hello' \
    'd MOVE 1 INBOX' 'e FETCH 1:* UID' | session "$T_TMP/m")
  assertHas "$out" "$(printf '* OK [COPYUID %s 1 3] Moved\n* 1 EXPUNGE\n* 2 EXISTS' "$(echo "$out" | sed -n 's/.*APPENDUID \([0-9]*\) 1].*/\1/p')")"
  assertHas "$out" "$(printf '* 1 FETCH (UID 2)\n* 2 FETCH (UID 3)\ne OK')"
}

# CATENATE (RFC 4469): parts from literals and from URLs of this user's
# messages (a section, a partial range, imap:// or relative); a URL that
# names nothing is NO [BADURL], a missing target NO [TRYCREATE] [imaptest
# catenate, catenate-multiappend]
testCatenateJoinsLiteralsAndUrls() {
  newbox "$T_TMP/m"
  hmsg "$T_TMP/m/cur/1.M1P1.h:2," 'From: a@example.org' 'Subject: one'
  out=$(printf '%s\n' 'a SELECT INBOX' \
    'b APPEND INBOX CATENATE (URL "/INBOX/;uid=1/;section=header" TEXT {7+}' 'added' ')' \
    'c APPEND INBOX (\Seen) CATENATE (TEXT {16+}' 'Subject: two' '' ' URL "imap://u@localhost/INBOX/;UID=1/;SECTION=TEXT")' \
    'd APPEND INBOX CATENATE (TEXT {3+}' 'X:  URL "/INBOX/;UID=1/;PARTIAL=6.13" TEXT {5+}' '' 'z' ')' \
    'e APPEND INBOX CATENATE (URL "/INBOX;UIDVALIDITY=1/;UID=1" TEXT {3+}' 'x' ')' \
    'f APPEND Nowhere CATENATE (URL "/INBOX/;UID=1")' 'g APPEND INBOX CATENATE (URL "/INBOX/;UID=9")' \
    'h APPEND INBOX CATENATE (URL "/INBOX/;UID=1" FOO)' 'i APPEND INBOX CATENATE (URL "/INBOX/;UID=1/;PARTIAL=99.1")' \
    'j FETCH 2:* (FLAGS BODY.PEEK[])' | session "$T_TMP/m")
  assertContains "$out" 'b OK [APPENDUID'
  assertContains "$out" 'c OK [APPENDUID'
  assertContains "$out" 'd OK [APPENDUID'
  assertContains "$out" 'e NO [BADURL /INBOX;UIDVALIDITY=1/;UID=1]'
  assertContains "$out" 'f NO [TRYCREATE]'
  assertContains "$out" 'g NO [BADURL /INBOX/;UID=9]'
  assertContains "$out" 'h BAD'
  assertContains "$out" 'i NO Empty message'
  assertHas "$out" "$(printf '* 2 FETCH (FLAGS (\\Recent) BODY[] {44}\nFrom: a@example.org\nSubject: one\n\nadded\n)')"
  assertHas "$out" "$(printf '* 3 FETCH (FLAGS (\\Seen \\Recent) BODY[] {22}\nSubject: two\n\nbody\n)')"
  assertHas "$out" "$(printf '* 4 FETCH (FLAGS (\\Recent) BODY[] {21}\nX: a@example.org\nz\n)')"
  assertNotContains "$out" '* 5 FETCH'
}

# CONTEXT=SEARCH (RFC 5267 4): PARTIAL ranges of a result, and updating
# searches told by ADDTO / REMOVEFROM after STORE, EXPUNGE (each just
# before its EXPUNGE, numbered as it) and APPEND, until CANCELUPDATE or
# another SELECT [imaptest search-partial, search-context-update*]
testContextSearchPartialAndUpdates() {
  newbox "$T_TMP/m"
  for i in 1 2 3 4 5; do hmsg "$T_TMP/m/cur/$i.M${i}P1.h:2," "Subject: s$i"; done
  out=$(printf '%s\n' 'a SELECT INBOX' 'b SEARCH RETURN (PARTIAL 4:2) ALL' 'c UID SEARCH RETURN (PARTIAL 6:9) ALL' \
    'd SEARCH RETURN (PARTIAL 1:*) ALL' 'e SEARCH RETURN (PARTIAL 1:2 ALL) ALL' 'f SEARCH RETURN (UPDATE ALL) SEEN' \
    'g UID SEARCH RETURN (UPDATE) OR SEEN SUBJECT s5' 'h STORE 1,2,4 +FLAGS \Seen' 'i STORE 2 -FLAGS \Seen' \
    'j STORE 3:4 +FLAGS \Deleted' 'k EXPUNGE' 'l APPEND INBOX (\Seen) {5+}' 'hello' 'm CANCELUPDATE "f"' \
    'n STORE 1 -FLAGS \Seen' 'o CANCELUPDATE "f"' 'p SELECT INBOX' 'q STORE 1 +FLAGS \Seen' | session "$T_TMP/m")
  assertHas "$out" "$(printf '* ESEARCH (TAG "b") PARTIAL (2:4 2:4)\nb OK')"
  assertHas "$out" "$(printf '* ESEARCH (TAG "c") UID PARTIAL (6:9 NIL)\nc OK')"
  assertContains "$out" 'd BAD'
  assertContains "$out" 'e BAD'
  assertHas "$out" "$(printf '* ESEARCH (TAG "f")\nf OK')"
  assertHas "$out" "$(printf '* ESEARCH (TAG "f") ADDTO (0 1:2,4)\n* ESEARCH (TAG "g") UID ADDTO (0 1:2,4)\nh OK')"
  assertHas "$out" "$(printf '* ESEARCH (TAG "f") REMOVEFROM (0 2)\n* ESEARCH (TAG "g") UID REMOVEFROM (0 2)\ni OK')"
  assertHas "$out" "$(printf '* 3 EXPUNGE\n* ESEARCH (TAG "f") REMOVEFROM (0 3)\n* ESEARCH (TAG "g") UID REMOVEFROM (0 4)\n* 3 EXPUNGE\nk OK')"
  assertHas "$out" "$(printf '* ESEARCH (TAG "f") ADDTO (0 4)\n* ESEARCH (TAG "g") UID ADDTO (0 6)\nl OK')"
  assertHas "$out" "$(printf '* 1 FETCH (FLAGS ())\n* ESEARCH (TAG "g") UID REMOVEFROM (0 1)\nn OK')"
  assertContains "$out" 'o NO'
  assertHas "$out" "$(printf '* 1 FETCH (FLAGS (\\Seen))\nq OK')"
}

# issue 13 item 5: one normalisation for every command
testTrailingSeparatorAndReservedNames() {
  newbox "$T_TMP/m"
  out=$(printf '%s\n' 'a CREATE foo.' 'b SELECT foo.' 'c APPEND foo. {5+}' 'hello' 'd STATUS foo. (MESSAGES)' \
    'e CREATE "%"' 'f CREATE "a*b"' 'g CREATE tmp' 'h CREATE x.new' 'i CREATE cur.y' 'j CREATE tmpx.curly' \
    'k SELECT tmp' 'l APPEND new {5+}' 'hello' 'm CREATE a*b' 'n CREATE ""' 'o NOOP' | session "$T_TMP/m")
  assertContains "$out" 'a OK'
  assertContains "$out" 'b OK'
  assertContains "$out" 'c OK [APPENDUID'
  assertContains "$out" '* STATUS "foo" (MESSAGES 1)'
  assertTrue "[ -d '$T_TMP/m/.foo/cur' ]"
  for t in e f g h i; do assertContains "$t refused" "$out" "$t NO [CANNOT] Invalid mailbox name"; done
  assertContains "$out" 'j OK'
  assertContains "$out" 'k NO'
  assertContains "$out" 'l NO [TRYCREATE]'
  assertContains "atom ends at *: the rest is a syntax error" "$out" 'm BAD'
  assertContains "$out" 'n NO [CANNOT]'
  assertContains "$out" 'o OK'
  assertEquals "no folder made for them" 0 "$(ls -a "$T_TMP/m" | grep '^\.' | grep -c -e '%' -e '\*' -e tmp$ -e new$ -e '^\.cur')"
}

# issue 15 (a): a Dovecot site's "/" separator, Maildir++ names on disk
testSlashSeparatorSetting() {
  newbox "$T_TMP/m"
  mkdir -p "$T_TMP/m/.Archive.2024/cur" "$T_TMP/m/.Archive.2024/new" "$T_TMP/m/.Archive.2024/tmp"
  hmsg "$T_TMP/m/.Archive.2024/cur/1.M1P1.h:2," 'Subject: old'
  out=$(printf '%s\n' 'a NAMESPACE' 'b LIST "" "*"' 'c LIST "" "Archive/%"' 'd SELECT Archive/2024' \
    'e CREATE Work/Projects/' 'f CREATE Dr.Who' 'g RENAME Work/Projects Work/Done' 'h LIST "Work/" "%"' \
    'i COPY 1 Work/Done' 'j STATUS Work/Done (MESSAGES)' 'k SUBSCRIBE Work/Done' 'l LSUB "" "Work/*"' 'm LIST "" ""' \
    | sed "s/\$/$CRLF/" | (cd "$T_TMP/m" && VMAIL_IMAP_SEPARATOR=/ vmail-imapd 2>/dev/null) | tr -d '\r')
  assertContains "$out" '* NAMESPACE (("" "/")) NIL NIL'
  assertContains "$out" '* LIST (\HasChildren \Archive) "/" "Archive"'
  assertContains "$out" '* LIST (\HasNoChildren) "/" "Archive/2024"'
  assertHas "$out" "$(printf '* LIST (\\HasNoChildren) "/" "Archive/2024"\nc OK')"
  assertContains "$out" '* 1 EXISTS'
  assertContains "$out" 'e OK'
  assertContains "$out" 'f NO [CANNOT]'
  assertContains "$out" 'g OK'
  assertHas "$out" "$(printf '* LIST (\\HasNoChildren) "/" "Work/Done"\nh OK')"
  assertContains "$out" 'i OK [COPYUID'
  assertContains "$out" '* STATUS "Work/Done" (MESSAGES 1)'
  assertContains "$out" '* LSUB () "/" "Work/Done"'
  assertContains "$out" '* LIST (\Noselect) "/" ""'
  # on disk: Maildir++ as before
  assertTrue "[ -d '$T_TMP/m/.Work.Done/cur' ]"
  assertEquals "Work.Done" "$(grep Work "$T_TMP/m/subscriptions")"
  # the default, and a bad setting
  out=$(printf 'a NAMESPACE\r\n' | (cd "$T_TMP/m" && vmail-imapd 2>/dev/null) | tr -d '\r')
  assertContains "$out" '* NAMESPACE (("" ".")) NIL NIL'
  (cd "$T_TMP/m" && VMAIL_IMAP_SEPARATOR=: vmail-imapd </dev/null >/dev/null 2>&1)
  assertEquals 100 $?
}

# the dispatch table: the state each command needs, and which take UID
testCommandStatesAndUidPrefix() {
  newbox "$T_TMP/m"
  hmsg "$T_TMP/m/cur/1.M1P1.h:2," 'Subject: one'
  out=$(printf '%s\n' 'a FETCH 1 UID' 'b UID FETCH 1 UID' 'c CHECK' 'd BOGUS' 'e SELECT INBOX' 'f UID NOOP' \
    'g UID' 'h UID FETCH 1 UID' 'i uid search all' 'j UID LOGOUT' 'k LOGIN a b' 'l CLOSE' 'm UNSELECT' | session "$T_TMP/m")
  assertContains "$out" 'a BAD No mailbox selected'
  assertContains "$out" 'b BAD No mailbox selected'
  assertContains "$out" 'c BAD No mailbox selected'
  assertContains "$out" 'd BAD Unknown command'
  assertContains "$out" 'f BAD Unknown command'
  assertContains "$out" 'g BAD Syntax: UID command'
  assertHas "$out" "$(printf '* 1 FETCH (UID 1)\nh OK')"
  assertHas "$out" "$(printf '* SEARCH 1\ni OK')"
  assertContains "$out" 'j BAD Unknown command'
  assertContains "$out" 'k BAD Already authenticated'
  assertContains "$out" 'l OK'
  assertContains "$out" 'm BAD No mailbox selected'
}

testSortKeysAndEsort() {
  newbox "$T_TMP/m"
  hmsg "$T_TMP/m/cur/1.M1P1.h:2,S" 'Subject: [foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)' 'From: Zed <user1@x.org>' \
    'Cc: grp: blah@a.org;' 'Date: Fri, 22 Feb 2008 02:00:00 +0200'
  hmsg "$T_TMP/m/cur/2.M2P2.h:2," 'Subject: _' 'From: adam@y.org' 'Cc: user2@b.org (x)' 'Date: Fri, 22 Feb 2008 01:00:00 +0000'
  hmsg "$T_TMP/m/cur/3.M3P3.h:2," 'Subject: re: [fwd: [fwd: re: [fwd: a]]]' 'From: =?iso-8859-1?q?Bob?= <c@z.org>' \
    'Cc: user1@c.org' 'Date: Fri, 22 Feb 2008 00:30:00 +0000'
  hmsg "$T_TMP/m/cur/4.M4P4.h:2," 'Subject: =?iso-8859-1?q?_?=' 'From: "Ann" <d@w.org>' 'Date: Fri, 22 Feb 2008 00:10:00 +0000'
  out=$(printf '%s\n' 'a SELECT INBOX' 'b SORT (SUBJECT) UTF-8 ALL' 'c SORT (REVERSE SUBJECT) US-ASCII ALL' \
    'd SORT (FROM) UTF-8 ALL' 'e SORT (DISPLAYFROM) UTF-8 ALL' 'f SORT (CC) UTF-8 ALL' 'g SORT (DATE) UTF-8 ALL' \
    'h UID SORT (SUBJECT) UTF-8 UNSEEN' 'i SORT RETURN (MIN MAX COUNT ALL) (REVERSE DATE) UTF-8 ALL' \
    'j SORT (SUBJECT) KOI8-R ALL' 'k SORT (BOGUS) UTF-8 ALL' 'l SORT () UTF-8 ALL' 'm CAPABILITY' | session "$T_TMP/m")
  # base subjects "b", "_", "a", "": empty first, "_" after letters (titlecase)
  assertHas "$out" "$(printf '* SORT 4 3 1 2\nb OK')"
  assertHas "$out" "$(printf '* SORT 2 1 3 4\nc OK')"
  # addr-mailbox: adam, c, d, user1
  assertHas "$out" "$(printf '* SORT 2 3 4 1\nd OK')"
  # display names: adam@y.org, Ann, Bob, Zed
  assertHas "$out" "$(printf '* SORT 2 4 3 1\ne OK')"
  # cc: none, grp (a group's name), user1, user2
  assertHas "$out" "$(printf '* SORT 4 1 3 2\nf OK')"
  # sent dates in UTC: 00:00 (msg 1, +0200), 00:10, 00:30, 01:00
  assertHas "$out" "$(printf '* SORT 1 4 3 2\ng OK')"
  assertHas "$out" "$(printf '* SORT 4 3 2\nh OK')"
  assertContains "$out" '* ESEARCH (TAG "i") MIN 2 MAX 1 COUNT 4 ALL 2:4,1'
  assertContains "$out" 'j NO [BADCHARSET'
  assertContains "$out" 'k BAD'
  assertContains "$out" 'l BAD'
  assertContains "$out" ' SORT SORT=DISPLAY ESORT'
}

testThreadOrderedSubject() {
  newbox "$T_TMP/m"
  hmsg "$T_TMP/m/cur/1.M1P1.h:2," 'Subject: b' 'Date: Fri, 22 Feb 2008 22:00:05 +0000'
  hmsg "$T_TMP/m/cur/2.M2P2.h:2," 'Subject: Re: a' 'Date: Fri, 22 Feb 2008 22:00:04 +0000'
  hmsg "$T_TMP/m/cur/3.M3P3.h:2," 'Subject: a' 'Date: Fri, 22 Feb 2008 22:00:03 +0000'
  hmsg "$T_TMP/m/cur/4.M4P4.h:2," 'Subject: Fwd: b' 'Date: Fri, 22 Feb 2008 22:00:02 +0000'
  hmsg "$T_TMP/m/cur/5.M5P5.h:2," 'Subject: c' 'Date: Fri, 22 Feb 2008 22:00:01 +0000'
  hmsg "$T_TMP/m/cur/6.M6P6.h:2," 'Subject: [list] a' 'Date: Fri, 22 Feb 2008 22:00:06 +0000'
  out=$(printf '%s\n' 'a SELECT INBOX' 'b THREAD ORDEREDSUBJECT UTF-8 ALL' 'c UID THREAD ORDEREDSUBJECT UTF-8 5:6' \
    'd THREAD JWZ UTF-8 ALL' 'e THREAD ORDEREDSUBJECT KOI8-R ALL' | session "$T_TMP/m")
  # threads by their first message's date: c (5), b (4, then 1), a (3, then 2, 6)
  assertHas "$out" "$(printf '* THREAD (5)(4 1)(3 (2)(6))\nb OK')"
  assertHas "$out" "$(printf '* THREAD (5)(6)\nc OK')"
  assertContains "$out" 'd NO'
  assertContains "$out" 'e NO [BADCHARSET'
}

testThreadReferences() {
  newbox "$T_TMP/m"
  # 1 <a>; 2 <b> answers a; 3 <c> answers b; 4 <b> again (a duplicate id) answers a
  hmsg "$T_TMP/m/cur/1.M1P1.h:2," 'Message-ID: <a@x>' 'Date: Fri, 22 Feb 2008 10:00:00 +0000'
  hmsg "$T_TMP/m/cur/2.M2P2.h:2," 'Message-ID: <b@x>' 'References: <a@x>' 'Date: Fri, 22 Feb 2008 11:00:00 +0000'
  hmsg "$T_TMP/m/cur/3.M3P3.h:2," 'Message-ID: <c@x>' 'In-Reply-To: <b@x>' 'Date: Fri, 22 Feb 2008 12:00:00 +0000'
  hmsg "$T_TMP/m/cur/4.M4P4.h:2," 'Message-ID: <b@x>' 'References: <a@x>' 'Date: Fri, 22 Feb 2008 13:00:00 +0000'
  # 5 and 6 answer <gone> (never seen): an empty root with two children
  hmsg "$T_TMP/m/cur/5.M5P5.h:2," 'References: <gone@x>' 'Date: Fri, 22 Feb 2008 14:00:00 +0000'
  hmsg "$T_TMP/m/cur/6.M6P6.h:2," 'References: <gone@x>' 'Date: Fri, 22 Feb 2008 09:00:00 +0000'
  # 7 "foo" and 8 "Re: foo" without references: joined by subject; 9 and
  # 10 reference each other: no loop, 10 (the later to claim a parent) on top
  hmsg "$T_TMP/m/cur/7.M7P7.h:2," 'Message-ID: <f@x>' 'Subject: foo' 'Date: Fri, 22 Feb 2008 15:00:00 +0000'
  hmsg "$T_TMP/m/cur/8.M8P8.h:2," 'Message-ID: <g@x>' 'Subject: Re: foo' 'Date: Fri, 22 Feb 2008 16:00:00 +0000'
  hmsg "$T_TMP/m/cur/9.M9P9.h:2," 'Message-ID: <l1@x>' 'References: <l2@x>' 'Date: Fri, 22 Feb 2008 17:00:01 +0000'
  hmsg "$T_TMP/m/cur/10.M10P10.h:2," 'Message-ID: <l2@x>' 'References: <l1@x>' 'Date: Fri, 22 Feb 2008 17:00:00 +0000'
  out=$(printf '%s\n' 'a SELECT INBOX' 'b THREAD REFERENCES UTF-8 ALL' 'c CAPABILITY' 'd STORE 2 +FLAGS.SILENT (\Deleted)' 'e EXPUNGE' \
    'f THREAD REFERENCES UTF-8 ALL' 'g UID THREAD REFERENCES UTF-8 1:4' | session "$T_TMP/m")
  assertHas "$out" "$(printf '* THREAD ((6)(5))(1 (2 3)(4))(7 8)(10 9)\nb OK')"
  assertContains "$out" ' THREAD=REFERENCES'
  # without 2, the duplicate <b> (now 3) holds its id: 1 -> 3 -> 2 (was 3)
  assertHas "$out" "$(printf '* THREAD ((5)(4))(1 3 2)(6 7)(9 8)\nf OK')"
  # the set is of sequence numbers, the answer in UIDs
  assertHas "$out" "$(printf '* THREAD (1 4 3)(5)\ng OK')"
}

. shunit2
