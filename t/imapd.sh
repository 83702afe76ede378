#!/bin/sh
# vmail-imapd and vmail-imap-login: IMAP sessions piped into the programs.
. "$T_TOP/t/lib/common.sh"
. "$T_TOP/t/lib/imap.sh"

oneTimeSetUp() { seed_tutorial; }

# msg DIR/SUB/NAME SUBJECT [FROM] [BODY]: a small message file (LF ends, as
# Maildirs usually hold them)
msg() {
  printf 'From: %s\nTo: postmaster@example.com\nSubject: %s\nDate: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <%s@example.org>\n\n%s\n' \
    "${3:-sender@example.org}" "$2" "$(basename "$1" | cut -d. -f1)" "${4:-hello body}" > "$1"
}


testPreauthGreetingAndCapability() {
  newbox "$T_TMP/m"
  out=$(printf 'a CAPABILITY\nb LOGOUT\n' | session "$T_TMP/m")
  assertContains "$out" '* PREAUTH [CAPABILITY IMAP4rev1'
  for cap in LITERAL+ IDLE UIDPLUS MOVE UNSELECT SPECIAL-USE LIST-EXTENDED LIST-STATUS ESEARCH CHILDREN NAMESPACE ID ENABLE BINARY MULTIAPPEND CATENATE CONTEXT=SEARCH; do
    assertContains "capability $cap" "$out" " $cap"
  done
  assertContains "$out" 'a OK'
  assertContains "$out" '* BYE'
  assertContains "$out" 'b OK'
}

testLoginTagAnswered() {
  newbox "$T_TMP/m"
  out=$(printf 'x1 NOOP\n' | (cd "$T_TMP/m" && VMAIL_IMAP_TAG=L7 vmail-imapd 2>/dev/null) | tr -d '\r')
  assertContains "$out" 'L7 OK [CAPABILITY IMAP4rev1'
  assertNotContains "$out" 'PREAUTH'
}

testSpecialUseFoldersCreated() {
  newbox "$T_TMP/m"
  out=$(printf 'a LIST "" "*"\nb LSUB "" "*"\n' | session "$T_TMP/m")
  for f in Sent:Sent Drafts:Drafts Trash:Trash Junk:Junk Archive:Archive; do
    assertTrue "folder .${f%%:*}" "[ -d '$T_TMP/m/.${f%%:*}/cur' ]"
    assertContains "$out" "\\${f#*:}) \".\" \"${f%%:*}\""
    assertContains "$out" "* LSUB () \".\" \"${f%%:*}\""
  done
  assertContains "$out" '* LIST (\HasNoChildren) "." "INBOX"'
}

testSelectMovesNewToCurAndGivesUids() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/new/1700000001.M1P1.h" one
  msg "$T_TMP/m/new/1700000002.M2P2.h" two
  msg "$T_TMP/m/cur/1700000000.M0P0.h:2,S" zero
  out=$(printf 'a SELECT INBOX\nb UID FETCH 1:* (UID FLAGS)\n' | session "$T_TMP/m")
  assertContains "$out" '* 3 EXISTS'
  assertContains "$out" '* 2 RECENT'
  assertContains "$out" '* OK [UIDNEXT 4]'
  assertContains "$out" '* OK [UNSEEN 2]'
  assertContains "$out" 'a OK [READ-WRITE]'
  # UIDs in Maildir name (delivery) order
  assertContains "$out" '* 1 FETCH (UID 1 FLAGS (\Seen))'
  assertContains "$out" '* 2 FETCH (UID 2 FLAGS (\Recent))'
  assertEquals 0 "$(count_files "$T_TMP/m/new")"
  assertTrue "moved with :2," "[ -f '$T_TMP/m/cur/1700000001.M1P1.h:2,' ]"
  assertEquals "V1" "$(head -c 2 "$T_TMP/m/vmail-uidlist")"
}

testNewMessagesGetUidsInDeliveryOrderWhenMicrosecondsGainADigit() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/new/1700000001.M100000P2.h" second
  msg "$T_TMP/m/new/1700000001.M99999P1.h" first
  out=$(printf 'a SELECT INBOX\nb UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\n' | session "$T_TMP/m")
  assertEquals "UID 1 for the earlier" "$(printf 'Subject: first\nSubject: second')" "$(echo "$out" | grep '^Subject:')"
  assertContains "$out" "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)]"
}

testUidsPersistAndAreNeverReused() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/new/1700000001.M1P1.h" one
  msg "$T_TMP/m/new/1700000002.M2P2.h" two
  out=$(printf 'a SELECT INBOX\n' | session "$T_TMP/m")
  v1=$(echo "$out" | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
  rm "$T_TMP/m/cur/1700000001.M1P1.h:2,"
  msg "$T_TMP/m/new/1700000003.M3P3.h" three
  out=$(printf 'a SELECT INBOX\nb FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])\n' | session "$T_TMP/m")
  v2=$(echo "$out" | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
  assertEquals "uidvalidity kept" "$v1" "$v2"
  assertContains "$out" '* 1 FETCH (UID 2 BODY[HEADER.FIELDS (SUBJECT)]'
  assertContains "$out" '* 2 FETCH (UID 3 BODY[HEADER.FIELDS (SUBJECT)]'
  assertContains "$out" 'Subject: three'
  assertContains "$out" '* OK [UIDNEXT 4]'
}

testDovecotUidlistImported() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/cur/1600000000.M1P1.dove,S=100,W=110:2,S" old
  msg "$T_TMP/m/cur/1600000001.M2P2.dove:2," newer
  printf '3 V1234567 N205 G0123456789abcdef\n200 :1600000000.M1P1.dove,S=100,W=110\n204 W300 :1600000001.M2P2.dove\n' > "$T_TMP/m/dovecot-uidlist"
  out=$(printf 'a EXAMINE INBOX\nb UID FETCH 1:* (UID)\n' | session "$T_TMP/m")
  assertContains "$out" '* OK [UIDVALIDITY 1234567]'
  assertContains "$out" '* OK [UIDNEXT 205]'
  assertContains "$out" '* 1 FETCH (UID 200)'
  assertContains "$out" '* 2 FETCH (UID 204)'
  assertContains "$out" 'a OK [READ-ONLY]'
  assertEquals "dovecot-uidlist untouched" 3 "$(head -c 1 "$T_TMP/m/dovecot-uidlist")"
}

testFetchItems() {
  newbox "$T_TMP/m"
  printf 'From: "Ann Example" <ann@example.org>\nTo: bob@example.com\nSubject: =?UTF-8?Q?caf=C3=A9?=\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nline one\nline two\n' > "$T_TMP/m/cur/1700000001.M1P1.h:2,"
  touch -d '2024-01-02 03:04:05 UTC' "$T_TMP/m/cur/1700000001.M1P1.h:2,"
  out=$(printf 'a SELECT INBOX\nb FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)\nc FETCH 1 BODY.PEEK[TEXT]\nd FETCH 1 (BODY.PEEK[]<0.4>)\ne FETCH 1 FAST\nf FETCH 1 BODY[HEADER.FIELDS (SUBJECT)]\n' | session "$T_TMP/m")
  assertContains "$out" 'INTERNALDATE "02-Jan-2024 03:04:05 +0000"'
  # LF stored, CRLF counted: 145 bytes + 7 line ends
  assertContains "$out" 'RFC822.SIZE 152'
  assertContains "$out" 'ENVELOPE ("Mon, 1 Jan 2024 10:00:00 +0000" "=?UTF-8?Q?caf=C3=A9?=" (("Ann Example" NIL "ann" "example.org"))'
  assertContains "$out" 'BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 20 2'
  assertHas "$out" "$(printf '* 1 FETCH (BODY[TEXT] {20}\nline one\nline two\n)')"
  assertHas "$out" "$(printf 'BODY[]<0> {4}\nFrom)')"
  assertContains "$out" '* 1 FETCH (FLAGS () INTERNALDATE "02-Jan-2024 03:04:05 +0000" RFC822.SIZE 152)'
  # a non-PEEK fetch sets \Seen, in the file name too
  assertContains "$out" 'FLAGS (\Seen))'
  assertTrue "seen in name" "[ -f '$T_TMP/m/cur/1700000001.M1P1.h:2,S' ]"
}

testStoreFlagsAndKeywordsInNames() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/cur/1700000001.M1P1.h:2," one
  out=$(printf 'a SELECT INBOX\nb STORE 1 +FLAGS (\\Flagged \\Answered $Forwarded)\nc STORE 1 -FLAGS.SILENT (\\Answered)\nd UID STORE 1 FLAGS.SILENT (\\Seen Work)\ne FETCH 1 FLAGS\n' | session "$T_TMP/m")
  assertContains "$out" '* 1 FETCH (FLAGS (\Answered \Flagged $Forwarded))'
  assertContains "$out" '* 1 FETCH (UID 1)'
  assertContains "$out" '* 1 FETCH (FLAGS (\Seen Work))'
  assertTrue "S and keyword letter b in name" "[ -f '$T_TMP/m/cur/1700000001.M1P1.h:2,Sb' ]"
  assertEquals "$(printf '0 $Forwarded\n1 Work')" "$(cat "$T_TMP/m/dovecot-keywords")"
  out=$(printf 'a EXAMINE INBOX\nb STORE 1 +FLAGS (\\Deleted)\n' | session "$T_TMP/m")
  assertContains "$out" '* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Forwarded Work)'
  assertContains "$out" 'b NO [READ-ONLY]'
}

testExpungeAndUidExpunge() {
  newbox "$T_TMP/m"
  for i in 1 2 3 4; do msg "$T_TMP/m/cur/170000000$i.M${i}P$i.h:2," "m$i"; done
  out=$(printf 'a SELECT INBOX\nb STORE 1:3 +FLAGS.SILENT (\\Deleted)\nc UID EXPUNGE 2\nd EXPUNGE\ne UID SEARCH ALL\n' | session "$T_TMP/m")
  assertHas "$out" "$(printf '* 2 EXPUNGE\nc OK')"
  assertHas "$out" "$(printf '* 1 EXPUNGE\n* 1 EXPUNGE\nd OK')"
  assertContains "$out" '* SEARCH 4'
  assertEquals 1 "$(count_files "$T_TMP/m/cur")"
}

testAppendLiterals() {
  newbox "$T_TMP/m"
  out=$(printf 'a APPEND Drafts (\\Draft \\Seen) "05-Feb-2024 10:20:30 +0100" {22+}\nSubject: d1\n\nhello\n\nb APPEND INBOX {22}\nSubject: d2\n\nhello\n\nc APPEND Nope {3+}\nx\n\nd SELECT Drafts\n' | session "$T_TMP/m")
  assertContains "$out" '+ OK'
  assertContains "$out" 'a OK [APPENDUID '
  assertContains "$out" 'b OK [APPENDUID '
  assertContains "$out" 'c NO [TRYCREATE]'
  assertContains "$out" '* 1 EXISTS'
  f=$(ls "$T_TMP/m/.Drafts/cur")
  assertContains "$f" ':2,DS'
  assertEquals "internaldate from APPEND" 1707124830 "$(stat -c %Y "$T_TMP/m/.Drafts/cur/$f")"
  assertEquals "$(printf 'Subject: d1\r\n\r\nhello\r\n')" "$(cat "$T_TMP/m/.Drafts/cur/$f")"
}

testMultiAppend() {
  newbox "$T_TMP/m"
  out=$(printf 'a APPEND INBOX {6+}\nA: 1\n (\\Seen) {6+}\nA: 2\n\nb STATUS INBOX (MESSAGES UNSEEN UIDNEXT)\n' | session "$T_TMP/m")
  assertContains "$out" 'a OK [APPENDUID'
  assertContains "$out" ' 1:2] Append completed'
  assertContains "$out" '* STATUS "INBOX" (MESSAGES 2 UIDNEXT 3 UNSEEN 1)'
}

testCopyAndMoveWithUidplus() {
  newbox "$T_TMP/m"
  for i in 1 2 3; do msg "$T_TMP/m/cur/170000000$i.M${i}P$i.h:2,F" "m$i"; done
  out=$(printf 'a SELECT INBOX\nb COPY 1:2 Archive\nc UID MOVE 3 Trash\nd MOVE 1 Nowhere\ne FETCH 1:* UID\nf STATUS Archive (MESSAGES)\n' | session "$T_TMP/m")
  assertContains "$out" 'b OK [COPYUID '
  assertContains "$out" ' 1:2 1:2] Copy completed'
  assertContains "$out" '* OK [COPYUID '
  assertContains "$out" ' 3 1] Moved'
  assertHas "$out" "$(printf '* 3 EXPUNGE\nc OK Move completed')"
  assertContains "$out" 'd NO [TRYCREATE]'
  assertContains "$out" '* STATUS "Archive" (MESSAGES 2)'
  assertEquals 2 "$(count_files "$T_TMP/m/cur")"
  assertEquals "flags copied" 2 "$(ls "$T_TMP/m/.Archive/cur" | grep -c ':2,F$')"
  # COPYUID and APPENDUID name the target's UIDVALIDITY
  out=$(printf 'a SELECT INBOX\nb COPY 1 Archive\nc APPEND Junk {1+}\nx\nd STATUS Archive (UIDVALIDITY)\ne STATUS Junk (UIDVALIDITY)\n' | session "$T_TMP/m")
  va=$(echo "$out" | sed -n 's/.*STATUS "Archive" (UIDVALIDITY \([0-9]*\)).*/\1/p')
  vj=$(echo "$out" | sed -n 's/.*STATUS "Junk" (UIDVALIDITY \([0-9]*\)).*/\1/p')
  assertContains "$out" "b OK [COPYUID $va 1 3]"
  assertContains "$out" "c OK [APPENDUID $vj 1]"
}

testCreateRenameDeleteWithChildren() {
  newbox "$T_TMP/m"
  out=$(printf 'a CREATE Projects.Alpha\nb CREATE Projects\nc CREATE Projects\nb2 SUBSCRIBE Projects\nd LIST "" "Projects*"\ne RENAME Projects Work\nf LIST "" "%%"\ng LIST "" "Work.%%"\nh DELETE Work.Alpha\ni DELETE INBOX\nj SELECT Work.Alpha\n' | session "$T_TMP/m")
  assertContains "$out" 'a OK'
  assertContains "$out" 'c NO [ALREADYEXISTS]'
  assertContains "$out" '* LIST (\HasChildren) "." "Projects"'
  assertContains "$out" '* LIST (\HasNoChildren) "." "Projects.Alpha"'
  assertContains "$out" 'e OK'
  assertContains "$out" '* LIST (\HasChildren) "." "Work"'
  assertContains "$out" '* LIST (\HasNoChildren) "." "Work.Alpha"'
  assertNotContains "$out" '"Projects"'"$CRLF"
  assertContains "$out" 'h OK'
  assertContains "$out" 'i NO'
  assertContains "$out" 'j NO [NONEXISTENT]'
  assertFalse "[ -d '$T_TMP/m/.Work.Alpha' ]"
  assertTrue "[ -d '$T_TMP/m/.Work/cur' ]"
  assertContains "$(cat "$T_TMP/m/subscriptions")" "Work"
}

# Many missing parents: the list of names grows while their parents are
# added from inside it (a use after free, seen by ASan, in t/ on a
# SANITIZE=1 build).
testListManyMissingParents() {
  newbox "$T_TMP/m"
  i=0; while [ $i -lt 60 ]; do mkdir -p "$T_TMP/m/.Top$i.Middle.Leaf/cur"; i=$((i + 1)); done
  out=$(printf 'a LIST "" "*"\n' | session "$T_TMP/m")
  assertContains "$out" 'a OK'
  assertEquals "every missing parent once" 120 "$(echo "$out" | grep -c '(\\Noselect \\HasChildren) "." "Top[0-9]*\(.Middle\)\?"$')"
  assertContains "$out" '* LIST (\HasNoChildren) "." "Top59.Middle.Leaf"'
}

# A subscription outlives its folder (deleted by another program, or a
# migrated subscriptions file): LSUB and LIST (SUBSCRIBED) still list it
# (RFC 3501 6.3.6, RFC 5258 3.1), a plain LIST does not.
testSubscribedNamesWithoutFolder() {
  newbox "$T_TMP/m"
  printf 'a CREATE Old\nb SUBSCRIBE Old\n' | session "$T_TMP/m" >/dev/null
  rm -r "$T_TMP/m/.Old"; echo Ghost >> "$T_TMP/m/subscriptions"
  out=$(printf 'a LSUB "" "*"\nb LIST (SUBSCRIBED) "" "*"\nc LIST "" "*"\n' | session "$T_TMP/m")
  assertContains "$out" '* LSUB (\Noselect) "." "Old"'
  assertContains "$out" '* LSUB (\Noselect) "." "Ghost"'
  assertContains "$out" '* LIST (\NonExistent \HasNoChildren \Subscribed) "." "Ghost"'
  assertContains "$out" '* LSUB () "." "Trash"'
  assertEquals "not in a plain LIST" 2 "$(echo "$out" | grep -c 'Old"$')"
}

testListExtendedAndStatus() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/new/1700000001.M1P1.h" one
  out=$(printf 'a LIST (SPECIAL-USE) "" "*"\nb LIST "" "INBOX" RETURN (STATUS (MESSAGES UNSEEN))\nc LIST "" ""\nd NAMESPACE\ne STATUS inbox (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)\n' | session "$T_TMP/m")
  assertContains "$out" '* LIST (\HasNoChildren \Trash) "." "Trash"'
  assertNotContains "$out" '"." "INBOX"'"$CRLF* STATUS"
  assertHas "$out" "$(printf '* LIST (\\HasNoChildren) "." "INBOX"\n* STATUS "INBOX" (MESSAGES 1 UNSEEN 1)')"
  assertContains "$out" '* LIST (\Noselect) "." ""'
  assertContains "$out" '* NAMESPACE (("" ".")) NIL NIL'
  assertContains "$out" '* STATUS "INBOX" (MESSAGES 1 RECENT 1 UIDNEXT 2 UIDVALIDITY '
  assertEquals "STATUS does not move new/" 1 "$(count_files "$T_TMP/m/new")"
  # a parent that is no folder (Maildir++ .A.B alone): \Noselect for RFC
  # 3501 clients, \NonExistent in LIST-EXTENDED and IMAP4rev2 answers
  out=$(printf 'a CREATE A.B\nb LIST "" "%%"\nc LIST "" ("A*") RETURN (CHILDREN)\nd SELECT A\ne ENABLE IMAP4rev2\nf LIST "" "A"\n' | session "$T_TMP/m")
  assertContains "$out" '* LIST (\Noselect \HasChildren) "." "A"'
  assertContains "$out" '* LIST (\NonExistent \HasChildren) "." "A"'
  assertContains "$out" 'd NO [NONEXISTENT]'
  assertEquals 2 "$(echo "$out" | grep -c 'NonExistent')"
}

testSearchKeys() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/cur/1700000001.M1P1.h:2,S" "Quarterly report" alice@example.org "numbers inside"
  msg "$T_TMP/m/cur/1700000002.M2P2.h:2,F" "=?ISO-8859-1?Q?Gr=FC=DFe?=" bob@example.net "plain words"
  msg "$T_TMP/m/cur/1700000003.M3P3.h:2," "lunch" carol@example.org "see you at noon"
  touch -d '2024-03-10 12:00 UTC' "$T_TMP/m/cur/1700000001.M1P1.h:2,S"
  touch -d '2024-03-12 12:00 UTC' "$T_TMP/m/cur/1700000002.M2P2.h:2,F" "$T_TMP/m/cur/1700000003.M3P3.h:2,"
  out=$(printf '%s\n' 'a SELECT INBOX' 'b SEARCH SUBJECT report' 'c SEARCH FROM example.org UNSEEN' \
    'd SEARCH OR FLAGGED SEEN' 'e SEARCH NOT (FROM bob)' 'f SEARCH CHARSET UTF-8 SUBJECT "grüße"' \
    'g SEARCH BODY noon' 'h UID SEARCH UID 2:*' 'i SEARCH SINCE 11-Mar-2024' 'j SEARCH BEFORE 11-Mar-2024' \
    'k SEARCH HEADER Message-ID 1700000002' 'l SEARCH CHARSET KOI8-R ALL' 'm SEARCH RETURN (MIN MAX COUNT) ALL' \
    'n SEARCH TEXT "quarterly"' 'o SEARCH LARGER 1 SMALLER 100000 2' 'p SEARCH FOO' | session "$T_TMP/m")
  assertHas "$out" "$(printf '* SEARCH 1\nb OK')"
  assertHas "$out" "$(printf '* SEARCH 3\nc OK')"
  assertHas "$out" "$(printf '* SEARCH 1 2\nd OK')"
  assertHas "$out" "$(printf '* SEARCH 1 3\ne OK')"
  assertHas "$out" "$(printf '* SEARCH 2\nf OK')"
  assertHas "$out" "$(printf '* SEARCH 3\ng OK')"
  assertHas "$out" "$(printf '* SEARCH 2 3\nh OK')"
  assertHas "$out" "$(printf '* SEARCH 2 3\ni OK')"
  assertHas "$out" "$(printf '* SEARCH 1\nj OK')"
  assertHas "$out" "$(printf '* SEARCH 2\nk OK')"
  assertContains "$out" 'l NO [BADCHARSET'
  assertContains "$out" '* ESEARCH (TAG "m") MIN 1 MAX 3 COUNT 3'
  assertHas "$out" "$(printf '* SEARCH 1\nn OK')"
  assertHas "$out" "$(printf '* SEARCH 2\no OK')"
  assertContains "$out" 'p BAD'
}

testBadCommandsEndInBye() {
  newbox "$T_TMP/m"
  out=$(i=0; while [ $i -lt 25 ]; do echo "t$i BLAH"; i=$((i + 1)); done | session "$T_TMP/m")
  assertContains "$out" '* BYE Too many bad commands'
  assertNotContains "$out" 't24 BAD'
}

testSelectedOnlyCommandsRefused() {
  newbox "$T_TMP/m"
  out=$(printf 'a FETCH 1 FLAGS\nb SELECT Nope\nc SELECT INBOX\nd FETCH 5 FLAGS\ne UNSELECT\nf EXPUNGE\n' | session "$T_TMP/m")
  assertContains "$out" 'a BAD No mailbox selected'
  assertContains "$out" 'b NO [NONEXISTENT]'
  assertContains "$out" 'd BAD'
  assertContains "$out" 'e OK'
  assertContains "$out" 'f BAD No mailbox selected'
}

# RFC 3501 2.3.1.1: a folder deleted and created again (here within the
# second) never gets its old UIDVALIDITY, or clients would show their cached
# messages for the new UIDs.
testFolderCreatedAgainGetsNewUidvalidity() {
  newbox "$T_TMP/m"
  out=$(printf 'a CREATE Foo\nb APPEND Foo {3+}\nold\nc DELETE Foo\nd CREATE Foo\ne APPEND Foo {3+}\nnew\nf RENAME Foo Bar\ng CREATE Foo\nh STATUS Foo (UIDVALIDITY)\n' | session "$T_TMP/m")
  v1=$(echo "$out" | sed -n 's/^b OK \[APPENDUID \([0-9]*\) 1\].*/\1/p')
  v2=$(echo "$out" | sed -n 's/^e OK \[APPENDUID \([0-9]*\) 1\].*/\1/p')
  v3=$(echo "$out" | sed -n 's/.*STATUS "Foo" (UIDVALIDITY \([0-9]*\)).*/\1/p')
  assertNotNull "$v1"; assertNotNull "$v2"; assertNotNull "$v3"
  assertNotEquals "after DELETE and CREATE" "$v1" "$v2"
  assertNotEquals "after RENAME away and CREATE" "$v2" "$v3"
  assertTrue "above the last one given" "[ '$(cat "$T_TMP/m/vmail-uidvalidity")' -ge '$v3' ]"
}

# A damaged uid list costs the clients a resynchronisation (new
# UIDVALIDITY), never the folder: it opens, with every message.
testDamagedUidListsStartOver() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/cur/1700000001.M1P1.h:2,S" one
  msg "$T_TMP/m/cur/1700000002.M2P2.h:2," two
  out=$(printf 'a SELECT INBOX\n' | session "$T_TMP/m")
  v1=$(echo "$out" | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
  printf 'V1 garbage\n3 x\n' > "$T_TMP/m/vmail-uidlist"
  out=$(printf 'a SELECT INBOX\nb UID FETCH 1:* (FLAGS)\n' | session "$T_TMP/m")
  assertContains "$out" 'a OK [READ-WRITE]'
  assertContains "$out" '* 2 EXISTS'
  assertContains "$out" '* 1 FETCH (UID 1 FLAGS (\Seen))'
  v2=$(echo "$out" | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
  assertNotEquals "a new UIDVALIDITY" "$v1" "$v2"
  assertEquals "rewritten" "V1 $v2 3" "$(head -n 1 "$T_TMP/m/vmail-uidlist")"
  # a damaged dovecot-uidlist is ignored, as if absent
  newbox "$T_TMP/d"
  msg "$T_TMP/d/cur/1700000001.M1P1.h:2," one
  printf '3 V1234 N9\n5 :1700000001.M1P1.h\n4 :broken-order\n' > "$T_TMP/d/dovecot-uidlist"
  out=$(printf 'a SELECT INBOX\nb UID FETCH 1:* (UID)\n' | session "$T_TMP/d")
  assertContains "$out" 'a OK [READ-WRITE]'
  assertContains "$out" '* 1 FETCH (UID 1)'
  assertNotContains "$out" 'UIDVALIDITY 1234]'
}

testEmptyFolderKeepsUidvalidity() {
  newbox "$T_TMP/m"
  v1=$(printf 'a STATUS Junk (UIDVALIDITY)\n' | session "$T_TMP/m" | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
  sleep 1
  v2=$(printf 'a SELECT Junk\n' | session "$T_TMP/m" | sed -n 's/.*UIDVALIDITY \([0-9]*\)\].*/\1/p')
  assertNotNull "$v1"
  assertEquals "$v1" "$v2"
}

testFetchSummaryServedFromCache() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/cur/1700000001.M1P1.h:2," "original subject"
  out=$(printf 'a EXAMINE INBOX\nb FETCH 1 (ENVELOPE BODYSTRUCTURE RFC822.SIZE)\n' | session "$T_TMP/m")
  assertContains "$out" '"original subject"'
  assertTrue "cache file written" "[ -s '$T_TMP/m/vmail-imap-cache' ]"
  # a message never changes under its UID: the second session must answer
  # from the cache, not from the (here tampered) file
  msg "$T_TMP/m/cur/1700000001.M1P1.h:2," "tampered"
  out2=$(printf 'a EXAMINE INBOX\nb FETCH 1 (ENVELOPE BODYSTRUCTURE RFC822.SIZE)\n' | session "$T_TMP/m")
  assertContains "$out2" '"original subject"'
  assertEquals "same answer" "$(echo "$out" | grep '^\* 1 FETCH')" "$(echo "$out2" | grep '^\* 1 FETCH')"
  # a new UIDVALIDITY throws the cache away
  rm "$T_TMP/m/vmail-uidlist"; sleep 1
  out3=$(printf 'a EXAMINE INBOX\nb FETCH 1 ENVELOPE\n' | session "$T_TMP/m")
  assertContains "$out3" '"tampered"'
}

# LARGER, SMALLER and STATUS SIZE take sizes from the cache too (SEARCH
# over a big folder then reads no message file; the answer agrees with
# RFC822.SIZE)
testSizesFromTheCache() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/cur/1700000001.M1P1.h:2," "small"
  out=$(printf 'a SELECT INBOX\nb FETCH 1 RFC822.SIZE\n' | session "$T_TMP/m")
  size=$(echo "$out" | sed -n 's/.*RFC822.SIZE \([0-9]*\).*/\1/p')
  assertNotNull "$size"
  make_message "$T_TMP/m/cur/1700000001.M1P1.h:2," 5000   # tampered: a message never changes
  out=$(printf 'a SELECT INBOX\nb SEARCH LARGER %s\nc SEARCH SMALLER %s\nd STATUS INBOX (SIZE)\n' $((size - 1)) $((size + 1)) | session "$T_TMP/m")
  assertEquals "LARGER and SMALLER by the cached size" 2 "$(echo "$out" | grep -c '^\* SEARCH 1$')"
  assertContains "$out" "* STATUS \"INBOX\" (SIZE $size)"
}

# Records of expunged messages do not pile up in the cache: once they
# outnumber the live ones (and 1000), the file is rewritten without them.
testCacheCompacted() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/cur/1700000001.M1P1.h:2," "live one"
  msg "$T_TMP/m/cur/1700000002.M2P2.h:2," "live two"
  printf 'V1 777 3000\n2998 1700000001.M1P1.h\n2999 1700000002.M2P2.h\n' > "$T_TMP/m/vmail-uidlist"
  { echo 'V1 777'; i=1; while [ $i -le 1500 ]; do printf 'C %d 10 0 3 3 3\nNILNILNIL\n' $i; i=$((i + 1)); done
    printf 'C 2998 10 0 4 3 3\n"c1"NILNIL\nC 3005 10 0 4 3 3\n"cn"NILNIL\n'; } > "$T_TMP/m/vmail-imap-cache"
  out=$(printf 'a EXAMINE INBOX\nb FETCH 1:* ENVELOPE\n' | session "$T_TMP/m")
  assertContains "a live record is used" "$out" '* 1 FETCH (ENVELOPE "c1")'
  assertContains "$out" '"live two"'
  assertEquals "dead records dropped, live and newer kept, the new one added" "2998 2999 3005" \
    "$(sed -n 's/^C \([0-9]*\) .*/\1/p' "$T_TMP/m/vmail-imap-cache" | sort -n | tr '\n' ' ' | sed 's/ $//')"
  assertEquals "V1 777" "$(head -n 1 "$T_TMP/m/vmail-imap-cache")"
}

testImap4rev2Enabled() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/new/1700000001.M1P1.h" one
  out=$(printf 'a ENABLE IMAP4rev2\nb SELECT inbox\nc SEARCH ALL\nd FETCH 1 FLAGS\n' | session "$T_TMP/m")
  assertContains "$out" '* ENABLED IMAP4rev2'
  assertContains "$out" '* LIST () "." "INBOX"'
  assertNotContains "$out" 'RECENT'
  assertContains "$out" '* ESEARCH (TAG "c") ALL 1'
  assertContains "$out" '* 1 FETCH (FLAGS ())'
}

# RFC 9051 5.1: an IMAP4rev2 client names mailboxes in UTF-8; they are
# stored in modified UTF-7, as IMAP4rev1 clients (and Dovecot) name them.
testImap4rev2Utf8MailboxNames() {
  newbox "$T_TMP/m"
  out=$(printf 'a CREATE "Entw&APw-rfe"\nb ENABLE IMAP4rev2\nc LIST "" "Entw*"\nd CREATE "Büro"\nd CREATE "Büro.Ärger"\ne LIST "" "*ü*"\nf APPEND "Büro.Ärger" {1+}\nx\ng STATUS "Büro.Ärger" (MESSAGES)\nh SELECT "Entwürfe"\ni CREATE "a&b"\nj CREATE "x\377"\nk RENAME "Büro" "Bureau"\n' | session "$T_TMP/m")
  assertHas "$out" "$(printf '* LIST (\\HasNoChildren) "." {9}\nEntwürfe\nc OK')"
  assertHas "$out" "$(printf '* LIST (\\HasNoChildren) "." {9}\nEntwürfe\n')"
  assertHas "$out" "$(printf '* LIST (\\HasChildren) "." {5}\nBüro\n')"
  assertHas "$out" "$(printf '* STATUS {12}\nBüro.Ärger (MESSAGES 1)')"
  assertHas "$out" "$(printf '* LIST () "." {9}\nEntwürfe\n')"
  assertContains "$out" 'h OK [READ-WRITE]'
  assertContains "$out" 'j NO [CANNOT]'
  assertContains "$out" 'k OK'
  for d in '.Entw&APw-rfe' '.a&-b' '.Bureau' '.Bureau.&AMQ-rger'; do assertTrue "$d" "[ -d '$T_TMP/m/$d/cur' ]"; done
  # an IMAP4rev1 session sees the same folders in modified UTF-7
  out=$(printf 'a LIST "" "*"\n' | session "$T_TMP/m")
  assertContains "$out" '"Bureau.&AMQ-rger"'
  assertContains "$out" '"a&-b"'
}

testSearchResSavedResult() {
  newbox "$T_TMP/m"
  for i in 1 2 3 4; do msg "$T_TMP/m/cur/170000000$i.M${i}P$i.h:2," "m$i"; done
  out=$(printf 'a SELECT INBOX\nb SEARCH RETURN (SAVE) SUBJECT m3\nc FETCH $ (UID)\nd STORE 1 +FLAGS (\\Deleted)\ne EXPUNGE\nf UID FETCH $ (UID)\ng SEARCH NOT $\n' | session "$T_TMP/m")
  assertNotContains "SAVE alone gives no ESEARCH" "$out" 'ESEARCH (TAG "b")'
  assertContains "$out" '* 3 FETCH (UID 3)'
  assertContains "after an expunge \$ follows the message" "$out" '* 2 FETCH (UID 3)'
  assertHas "$out" "$(printf '* SEARCH 1 3\ng OK')"
}

testLimitsLineTooLongAndLiteralTooBig() {
  newbox "$T_TMP/m"
  out=$( { printf 'a NOOP\r\nb SEARCH SUBJECT '; head -c 70000 /dev/zero | tr '\0' x; printf '\r\nc NOOP\r\n'; } | (cd "$T_TMP/m" && vmail-imapd 2>/dev/null) | tr -d '\r')
  assertContains "$out" 'a OK'
  # the long line is dropped with a BAD and the session goes on
  assertContains "$out" 'b BAD Command line too long'
  assertContains "$out" 'c OK'
  assertNotContains "$out" '* BYE'
  out=$(printf 'a APPEND INBOX {99999999999+}\r\n' | (cd "$T_TMP/m" && vmail-imapd 2>/dev/null) | tr -d '\r')
  assertContains "$out" '* BYE Literal too large'
  out=$(printf 'a APPEND INBOX {99999999999}\r\n' | (cd "$T_TMP/m" && vmail-imapd 2>/dev/null) | tr -d '\r')
  assertContains "$out" 'a NO [TOOBIG]'
  assertNotContains "no continuation for it" "$out" '+ OK'
  # a synchronising literal over 64 MiB is refused before it is sent, and
  # the session goes on; the literals of a MULTIAPPEND count together
  out=$( { printf 'a APPEND INBOX {70000000}\r\nb NOOP\r\nc APPEND INBOX {60000000+}\r\n'; head -c 60000000 /dev/zero | tr '\0' x;
           printf ' {10000000}\r\nd NOOP\r\ne APPEND INBOX {70000000+}\r\n'; } | (cd "$T_TMP/m" && vmail-imapd 2>/dev/null) | tr -d '\r')
  assertContains "$out" 'a NO [TOOBIG]'
  assertContains "$out" 'b OK'
  assertContains "$out" 'c NO [TOOBIG]'
  assertNotContains "no continuation" "$out" '+ OK'
  assertContains "$out" 'd OK'
  assertContains "a non-synchronising one ends the session" "$out" '* BYE Literal too large'
  assertEquals "nothing stored" 0 "$(count_files "$T_TMP/m/cur")"
}

testRenameInboxMovesItsMessages() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/cur/1700000001.M1P1.h:2,S" one
  msg "$T_TMP/m/new/1700000002.M2P2.h" two
  out=$(printf 'a RENAME INBOX Old\nb STATUS Old (MESSAGES)\nc STATUS INBOX (MESSAGES)\n' | session "$T_TMP/m")
  assertContains "$out" 'a OK'
  assertContains "$out" '* STATUS "Old" (MESSAGES 2)'
  assertContains "$out" '* STATUS "INBOX" (MESSAGES 0)'
}

testDeleteSelectedAndEmptyUidFetch() {
  newbox "$T_TMP/m"
  out=$(printf 'a CREATE Tmp\nb SELECT Tmp\nc UID FETCH 1:* FLAGS\nd SEARCH ALL\ne DELETE Tmp\nf FETCH 1 FLAGS\n' | session "$T_TMP/m")
  assertContains "$out" 'b OK [READ-WRITE]'
  assertContains "$out" 'c OK'
  assertHas "$out" "$(printf '* SEARCH\nd OK')"
  assertContains "$out" 'e OK'
  assertContains "$out" 'f BAD No mailbox selected'
  assertFalse "[ -d '$T_TMP/m/.Tmp' ]"
}

testMultipartSectionsAndBinary() {
  newbox "$T_TMP/m"
  printf 'From: a@example.org\nSubject: parts\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\nfirst part\n--b1\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\naGVsbG8gYmluYXJ5\n--b1--\n' > "$T_TMP/m/cur/1700000001.M1P1.h:2,"
  out=$(printf 'a EXAMINE INBOX\nb FETCH 1 (BODY.PEEK[1] BODY.PEEK[2.MIME] BINARY.PEEK[2] BINARY.SIZE[2] BODY.PEEK[1]<2.3>)\nc FETCH 1 BODYSTRUCTURE\n' | session "$T_TMP/m")
  assertHas "$out" "$(printf 'BODY[1] {10}\nfirst part')"
  assertHas "$out" "$(printf 'BODY[2.MIME] {77}\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n')"
  assertHas "$out" "$(printf 'BINARY[2] {12}\nhello binary')"
  assertContains "$out" 'BINARY.SIZE[2] 12'
  assertHas "$out" "$(printf 'BODY[1]<2> {3}\nrst')"
  assertContains "$out" 'BODYSTRUCTURE (("text" "plain"'
  assertContains "$out" '"mixed" ("boundary" "b1")'
  assertContains "$out" 'b OK'
  # RFC 3516 4.2: an encoding the server cannot undo fails the FETCH
  sed 's/base64/x-uuencode/' "$T_TMP/m/cur/1700000001.M1P1.h:2," > "$T_TMP/m/cur/1700000002.M2P2.h:2,"
  out=$(printf 'a EXAMINE INBOX\nb FETCH 2 (BINARY.PEEK[2])\nc FETCH 2 (BINARY.PEEK[1])\n' | session "$T_TMP/m")
  assertContains "$out" 'b NO [UNKNOWN-CTE]'
  assertContains "$out" 'c OK'
}

testModifiedUtf7FolderNames() {
  newbox "$T_TMP/m"
  out=$(printf 'a CREATE "Entw&APw-rfe"\nb LIST "" "Entw*"\nc CREATE "bad/name"\nd CREATE ".hidden"\n' | session "$T_TMP/m")
  assertContains "$out" '* LIST (\HasNoChildren) "." "Entw&APw-rfe"'
  assertTrue "[ -d '$T_TMP/m/.Entw&APw-rfe/cur' ]"
  assertContains "$out" 'c NO [CANNOT]'
  assertContains "$out" 'd NO [CANNOT]'
}

testSeveralNewMessagesIntoAnExistingList() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/new/1700000001.M1P1.h" one
  printf 'a SELECT INBOX\n' | session "$T_TMP/m" >/dev/null
  for i in 2 3 4; do msg "$T_TMP/m/new/170000000$i.M${i}P$i.h" "n$i"; done
  out=$(printf 'a SELECT INBOX\nb UID FETCH 1:* (UID)\n' | session "$T_TMP/m")
  assertContains "$out" '* 4 EXISTS'
  assertContains "$out" '* 4 FETCH (UID 4)'
  out=$(printf 'a SELECT INBOX\n' | session "$T_TMP/m")
  assertContains "list still readable" "$out" 'a OK [READ-WRITE]'
  assertContains "$out" '* OK [UIDNEXT 5]'
  # a log: the new UIDs appended, then how far messages were seen as recent
  assertEquals "$(printf 'V1 %s 2\nR 2\n1 1700000001.M1P1.h\n2 1700000002.M2P2.h\n3 1700000003.M3P3.h\n4 1700000004.M4P4.h\nR 5' "$(head -1 "$T_TMP/m/vmail-uidlist" | cut -d' ' -f2)")" "$(cat "$T_TMP/m/vmail-uidlist")"
}

# The uid list is a log appended to: a last record a crash cut short is
# ignored, then cut off before the next append (never glued to it); the
# UIDs before it and UIDVALIDITY stay.
testTornUidListRecordIgnored() {
  newbox "$T_TMP/m"
  for i in 1 2; do msg "$T_TMP/m/new/170000000$i.M${i}P$i.h" "n$i"; done
  out=$(printf 'a SELECT INBOX\n' | session "$T_TMP/m")
  uv=$(echo "$out" | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
  printf '3 1700000009.M9' >> "$T_TMP/m/vmail-uidlist"
  printf 'M 9' >> "$T_TMP/m/vmail-modseq"
  msg "$T_TMP/m/new/1700000003.M3P3.h" n3
  out=$(printf 'a SELECT INBOX\nb UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])\n' | session "$T_TMP/m")
  assertContains "$out" "* OK [UIDVALIDITY $uv]"
  assertContains "$out" '* 3 EXISTS'
  assertContains "$out" '* 1 RECENT'
  assertHas "$out" "$(printf '* 2 FETCH (UID 2 BODY[HEADER.FIELDS (SUBJECT)] {15}\nSubject: n2')"
  assertHas "$out" "$(printf '* 3 FETCH (UID 3 BODY[HEADER.FIELDS (SUBJECT)] {15}\nSubject: n3')"
  assertEquals "$(printf '2 1700000002.M2P2.h\n3 1700000003.M3P3.h\nR 4')" "$(tail -n 3 "$T_TMP/m/vmail-uidlist")"
  assertNotContains "the torn record is gone" "$(cat "$T_TMP/m/vmail-uidlist")" 'M9'
  assertEquals "the modseq log's too" "" "$(grep -Ev '^(V1 [0-9]+|[HF] [0-9]+|X [0-9]+ [0-9]+|M [0-9]+ [0-9]+ [A-Za-z]*)$' "$T_TMP/m/vmail-modseq")"
  # appends: one APPEND adds a line, it does not rewrite the list
  ino=$(stat -c %i "$T_TMP/m/vmail-uidlist")
  printf 'a APPEND INBOX {6+}\nnew: 4\n' | session "$T_TMP/m" >/dev/null
  assertEquals "$ino" "$(stat -c %i "$T_TMP/m/vmail-uidlist")"
  assertContains "$(tail -n 1 "$T_TMP/m/vmail-uidlist")" '4 '
}

# \Recent (RFC 3501 2.3.2): exactly one session sees a new message as
# recent, whether delivered into new/ or stored by APPEND; EXAMINE and
# STATUS count what no session has claimed yet without claiming it; an
# IMAP4rev2 session does not show it.
testRecentSeenByExactlyOneSession() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/cur/1700000001.M1P1.h:2,S" old
  start_bg a "$T_TMP/m"
  say 'a1 SELECT INBOX'; wait_for a 'a1 OK'
  out=$(printf 'b1 APPEND INBOX {6+}\nnew: 2\nb2 STATUS INBOX (RECENT MESSAGES)\nb3 EXAMINE INBOX\nb4 SEARCH RECENT\n' | session "$T_TMP/m")
  assertContains "$out" '* STATUS "INBOX" (MESSAGES 2 RECENT 1)'
  assertContains "EXAMINE shows it" "$out" '* 1 RECENT'
  assertContains "$out" '* SEARCH 2'
  say 'a2 NOOP'; wait_for a 'a2 OK'
  say 'a3 SEARCH RECENT'; wait_for a 'a3 OK'
  say 'a4 SEARCH NEW'; wait_for a 'a4 OK'
  say 'a5 SEARCH OLD'; wait_for a 'a5 OK'
  say 'a6 FETCH 2 FLAGS'; wait_for a 'a6 OK'
  a=$(tr -d '\r' < "$T_TMP/a.out")
  assertHas "$a" "$(printf '* 2 EXISTS\n* 1 RECENT\na2 OK')"
  assertHas "$a" "$(printf '* SEARCH 2\na3 OK')"
  assertHas "$a" "$(printf '* SEARCH 2\na4 OK')"
  assertHas "$a" "$(printf '* SEARCH 1\na5 OK')"
  assertContains "$a" '* 2 FETCH (FLAGS (\Recent))'
  out=$(printf 'c1 SELECT INBOX\nc2 STATUS INBOX (RECENT)\nc3 SEARCH RECENT\n' | session "$T_TMP/m")
  assertContains "claimed by a" "$out" '* 0 RECENT'
  assertContains "$out" '* STATUS "INBOX" (RECENT 0)'
  assertHas "$out" "$(printf '* SEARCH\nc3 OK')"
  # a delivery into new/ while two sessions have the folder selected
  exec 9>&7; start_bg e "$T_TMP/m"; exec 8>&7 7>&9 9>&-
  printf 'e1 SELECT INBOX\r\n' >&8
  wait_for e 'e1 OK'
  msg "$T_TMP/m/new/1700000003.M3P3.h" delivered
  printf 'e2 NOOP\r\n' >&8; say 'a7 NOOP'
  wait_for e 'e2 OK'; wait_for a 'a7 OK'
  a=$(tr -d '\r' < "$T_TMP/a.out" | sed -n '/a6 OK/,$p'); e=$(tr -d '\r' < "$T_TMP/e.out" | sed -n '/e1 OK/,$p')
  assertContains "$a" '* 3 EXISTS'
  assertContains "$e" '* 3 EXISTS'
  # a counts its message 2 too
  case "$a$e" in
    *'* 2 RECENT'*'* 0 RECENT'*|*'* 1 RECENT'*'* 1 RECENT'*) assertTrue 0 ;;
    *) fail "not recent for exactly one: $a $e" ;;
  esac
  printf 'e3 LOGOUT\r\n' >&8; exec 8>&-; wait "$pid_e"
  exec 7>&-; wait "$pid_a"
  out=$(printf 'r1 ENABLE IMAP4rev2\nr2 APPEND INBOX {6+}\nnew: 4\nr3 SELECT INBOX\nr4 FETCH 4 FLAGS\n' | session "$T_TMP/m")
  assertNotContains "$out" 'RECENT'
  assertContains "$out" '* 4 FETCH (FLAGS ())'
}

# An APPEND's message goes to a nameless file in tmp/ as it arrives, not
# into memory (issue 13: one command could hold 64 MiB of literals): a
# 23 MB APPEND and a 9 MB MULTIAPPEND, stored byte for byte, with the
# session's peak memory far below their size, and nothing left in tmp/.
testAppendLiteralsSpooledNotHeld() {
  newbox "$T_TMP/m"
  out=$(cd "$T_TMP/m" && python3 - "$(command -v vmail-imapd)" <<'EOF'
import os, re, subprocess, sys
p = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
def until(tag):
    out = b""
    while True:
        l = p.stdout.readline(); out += l
        if not l or l.startswith(tag + b" "): return out
p.stdout.readline()
big = [b"Subject: big %d\r\n\r\n" % i + (b"%07d spooled line of an appended message\r\n" % i) * (500000 if i == 0 else 100000) for i in range(3)]
p.stdin.write(b"a APPEND INBOX {%d}\r\n" % len(big[0])); p.stdin.flush()
p.stdout.readline()
p.stdin.write(big[0] + b"\r\n"); p.stdin.flush()
r = until(b"a")
p.stdin.write(b"b APPEND INBOX (\\Seen) {%d+}\r\n%s {%d+}\r\n%s\r\n" % (len(big[1]), big[1], len(big[2]), big[2])); p.stdin.flush()
r += until(b"b")
hwm = int(re.search(r"VmHWM:\s+(\d+)", open("/proc/%d/status" % p.pid).read()).group(1))
p.stdin.write(b"c LOGOUT\r\n"); p.stdin.close(); p.wait()
stored = sorted(open(os.path.join("cur", f), "rb").read() for f in os.listdir("cur"))
print(r.decode().replace("\r", ""))
print("identical=%s peak_kb=%d tmp=%d" % (sorted(big) == stored, hwm, len(os.listdir("tmp"))))
EOF
)
  assertContains "$out" 'a OK [APPENDUID'
  assertContains "$out" 'b OK [APPENDUID'
  assertContains "$out" 'identical=True'
  assertContains "$out" 'tmp=0'
  peak=$(echo "$out" | sed -n 's/.*peak_kb=\([0-9]*\).*/\1/p')
  assertTrue "peak memory ${peak} KB, the messages 32 MB" "[ '${peak:-99999}' -lt 12000 ]"
}

testSessionEndIsNotAnsweredByTheLogin() {
  # a server that exits 111 after answering must not get a NO from the login
  printf '#!/bin/sh\nexec vmail-imapd "$@"\n' > "$T_TMP/imapd-then-fail"
  printf '#!/bin/sh\nvmail-imapd; exit 111\n' > "$T_TMP/imapd-111"
  chmod 755 "$T_TMP/imapd-111"
  out=$(printf 'a LOGIN postmaster@example.com password\r\nb LOGOUT\r\n' \
        | VMAIL_AUTH_PLAINTEXT=1 vmail-imap-login "$T_TMP/imapd-111" 2>/dev/null | tr -d '\r')
  assertContains "$out" 'a OK [CAPABILITY'
  assertNotContains "$out" 'a NO'
}

# A background session fed through a fifo: start_bg NAME DIR; say NAME LINE.
start_bg() {
  rm -f "$T_TMP/$1.in" "$T_TMP/$1.out"; mkfifo "$T_TMP/$1.in"
  (cd "$2" && exec vmail-imapd < "$T_TMP/$1.in" > "$T_TMP/$1.out" 2>/dev/null) &
  eval "pid_$1=\$!"
  exec 7> "$T_TMP/$1.in"
}
say() { printf '%s\r\n' "$1" >&7; }
wait_for() { i=0; until tr -d '\r' < "$T_TMP/$1.out" | grep -qF -- "$2"; do i=$((i + 1)); [ $i -lt "${3:-50}" ] || return 1; sleep 0.02; done; }

# CONDSTORE (RFC 7162 3.1): every change to a message's flags, by a session,
# another session or a program renaming the file, gets a new mod-sequence.
testCondstore() {
  newbox "$T_TMP/m"
  for i in 1 2 3; do msg "$T_TMP/m/cur/170000000$i.M${i}P$i.h:2," "m$i"; done
  out=$(printf 'a SELECT INBOX\nb FETCH 1:* (UID MODSEQ)\n' | session "$T_TMP/m")
  # a new log starts above any earlier mod-sequence (the time, shifted)
  b=$(sed -n 's/^F //p' "$T_TMP/m/vmail-modseq")
  assertTrue "a new log starts at the time: $b" "[ '$b' -ge $(($(date +%s) - 60 << 20)) ]"
  assertContains "$out" "* OK [HIGHESTMODSEQ $((b + 3))] Highest"
  assertContains "$out" "* 1 FETCH (UID 1 MODSEQ ($((b + 1))))"
  assertContains "$out" "* 3 FETCH (UID 3 MODSEQ ($((b + 3))))"
  out=$(printf 'a SELECT INBOX (CONDSTORE)\nb STORE 2 +FLAGS (\\Seen)\nc UID STORE 1,3 (UNCHANGEDSINCE %s) +FLAGS.SILENT (\\Flagged)\nd FETCH 1:* (FLAGS) (CHANGEDSINCE %s)\ne SEARCH MODSEQ %s\nf UID SEARCH RETURN (ALL) MODSEQ "/flags/\\\\seen" all %s\ng STATUS INBOX (HIGHESTMODSEQ)\nh STORE 1 (UNCHANGEDSINCE 0) -FLAGS (\\Flagged)\n' \
    $((b + 1)) $((b + 3)) $((b + 4)) $((b + 5)) | session "$T_TMP/m")
  assertContains "$out" "* 2 FETCH (FLAGS (\\Seen) MODSEQ ($((b + 4))))"
  assertContains "$out" "* 1 FETCH (UID 1 MODSEQ ($((b + 5))))"
  assertContains "UNCHANGEDSINCE refused for UID 3 (its MODSEQ is higher)" "$out" 'c OK [MODIFIED 3]'
  assertHas "$out" "$(printf '* 1 FETCH (FLAGS (\\Flagged) MODSEQ (%s))\n* 2 FETCH (FLAGS (\\Seen) MODSEQ (%s))\nd OK' $((b + 5)) $((b + 4)))"
  assertContains "$out" "* SEARCH 1 2 (MODSEQ $((b + 5)))"
  assertContains "$out" "* ESEARCH (TAG \"f\") UID ALL 1 MODSEQ $((b + 5))"
  assertContains "$out" "* STATUS \"INBOX\" (HIGHESTMODSEQ $((b + 5)))"
  assertContains "$out" 'h OK [MODIFIED 1]'
  # another session's change, and a program renaming a file (flags in the
  # name), each get a new mod-sequence, reported with the flags
  start_bg a "$T_TMP/m"
  say 'a1 SELECT INBOX (CONDSTORE)'; wait_for a 'a1 OK'
  printf 'b1 SELECT INBOX\nb2 STORE 3 +FLAGS (\\Answered)\n' | session "$T_TMP/m" >/dev/null
  mv "$T_TMP/m/cur/1700000002.M2P2.h:2,S" "$T_TMP/m/cur/1700000002.M2P2.h:2,FS"
  say 'a2 NOOP'; wait_for a 'a2 OK'
  a=$(tr -d '\r' < "$T_TMP/a.out")
  assertContains "$a" "* 3 FETCH (UID 3 FLAGS (\\Answered) MODSEQ ($((b + 6))))"
  assertContains "$a" "* 2 FETCH (UID 2 FLAGS (\\Seen \\Flagged) MODSEQ ($((b + 7))))"
  say 'a3 LOGOUT'; exec 7>&-; wait "$pid_a"
  out=$(printf 'a EXAMINE INBOX\n' | session "$T_TMP/m")
  assertContains "kept across sessions" "$out" "* OK [HIGHESTMODSEQ $((b + 7))]"
  assertContains "$(printf 'a CAPABILITY\n' | session "$T_TMP/m")" ' CONDSTORE QRESYNC'
  # the log removed: a new one starts above (a client from before resyncs)
  rm "$T_TMP/m/vmail-modseq"; sleep 1
  hm=$(printf 'a EXAMINE INBOX\n' | session "$T_TMP/m" | sed -n 's/.*HIGHESTMODSEQ \([0-9]*\).*/\1/p')
  assertTrue "never back: $hm" "[ '$hm' -gt $((b + 7)) ]"
}

# QRESYNC (RFC 7162 3.2): a client comes back with UIDVALIDITY and
# mod-sequence and learns, in its SELECT, what was expunged and changed;
# expunges are VANISHED from then on.
testQresync() {
  newbox "$T_TMP/m"
  for i in 1 2 3 4 5; do msg "$T_TMP/m/cur/170000000$i.M${i}P$i.h:2," "m$i"; done
  out=$(printf 'a SELECT INBOX (QRESYNC (1 1))\nb ENABLE QRESYNC\nc SELECT INBOX\n' | session "$T_TMP/m")
  assertContains "QRESYNC must be enabled first" "$out" 'a BAD'
  assertContains "$out" '* ENABLED QRESYNC'
  uv=$(echo "$out" | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
  hm=$(echo "$out" | sed -n 's/.*HIGHESTMODSEQ \([0-9]*\).*/\1/p')
  # meanwhile: 2 expunged, 4 flagged
  printf 'a SELECT INBOX\nb STORE 2 +FLAGS (\\Deleted)\nc EXPUNGE\nd UID STORE 4 +FLAGS (\\Flagged)\n' | session "$T_TMP/m" >/dev/null
  out=$(printf "a ENABLE QRESYNC\nb SELECT INBOX (QRESYNC ($uv $hm))\nc SELECT INBOX (QRESYNC ($uv $hm 3:5))\nd UID FETCH 1:* (FLAGS) (CHANGEDSINCE $hm VANISHED)\ne STORE 1 +FLAGS.SILENT (\\\\Deleted)\nf EXPUNGE\ng SELECT INBOX (QRESYNC (999 $hm))\nh SELECT INBOX (QRESYNC ($uv 100 1:5))\n" | session "$T_TMP/m")
  assertHas "$out" "$(printf '* OK [HIGHESTMODSEQ %s] Highest\n* VANISHED (EARLIER) 2\n* 3 FETCH (UID 4 FLAGS (\\Flagged) MODSEQ (%s))\nb OK' $((hm + 3)) $((hm + 3)))"
  # known UIDs 3:5: UID 2 is none of the client's business
  assertHas "$out" "$(printf '* OK [HIGHESTMODSEQ %s] Highest\n* 3 FETCH (UID 4 FLAGS (\\Flagged) MODSEQ (%s))\nc OK' $((hm + 3)) $((hm + 3)))"
  assertHas "$out" "$(printf '* VANISHED (EARLIER) 2\n* 3 FETCH (UID 4 FLAGS (\\Flagged) MODSEQ (%s))\nd OK' $((hm + 3)))"
  assertHas "$out" "$(printf '* VANISHED 1\nf OK [HIGHESTMODSEQ %s]' $((hm + 5)))"
  assertNotContains "no EXPUNGE once QRESYNC is on" "$out" 'EXPUNGE'"$CRLF"
  # another UIDVALIDITY: nothing to resynchronise
  assertHas "$out" "$(printf '* OK [HIGHESTMODSEQ %s] Highest\ng OK' $((hm + 5)))"
  # a mod-sequence from before the log (Dovecot's, after a migration):
  # every known UID that is gone, and every message's flags
  assertHas "$out" "$(printf '* VANISHED (EARLIER) 1:2\n* 1 FETCH (UID 3 FLAGS () MODSEQ')"
  assertContains "$out" '* 2 FETCH (UID 4 FLAGS (\Flagged) MODSEQ'
}

# The mod-sequence log is compacted when it has grown far beyond the
# folder; the mod-sequences survive it.
testModseqLogCompacted() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/cur/1700000001.M1P1.h:2," one
  printf 'a SELECT INBOX\n' | session "$T_TMP/m" >/dev/null
  uv=$(head -n 1 "$T_TMP/m/vmail-uidlist" | cut -d' ' -f2)
  { echo "V1 $uv"; i=3; while [ $i -lt 12003 ]; do echo "M $i 1 S"; echo "M $((i + 1)) 1 "; i=$((i + 2)); done; echo 'X 12003 7'; } > "$T_TMP/m/vmail-modseq"
  out=$(printf 'a SELECT INBOX\nb FETCH 1 MODSEQ\nc STORE 1 +FLAGS (\\Seen)\n' | session "$T_TMP/m")
  assertContains "$out" '* OK [HIGHESTMODSEQ 12003]'
  assertContains "$out" '* 1 FETCH (MODSEQ (12002))'
  assertContains "$out" 'MODSEQ (12004)'
  assertTrue "compacted: $(wc -l < "$T_TMP/m/vmail-modseq") lines" "[ $(wc -l < "$T_TMP/m/vmail-modseq") -lt 10 ]"
  assertEquals "$(printf 'V1 %s\nH 12004\nF 0\nX 12003 7\nM 12004 1 S' "$uv")" "$(cat "$T_TMP/m/vmail-modseq")"
  out=$(printf 'a ENABLE QRESYNC\nb SELECT INBOX (QRESYNC (%s 12002))\n' "$uv" | session "$T_TMP/m")
  assertContains "$out" '* OK [HIGHESTMODSEQ 12004]'
  assertContains "$out" '* VANISHED (EARLIER) 7'
}

testTwoSessionsSeeEachOther() {
  newbox "$T_TMP/m"
  for i in 1 2 3; do msg "$T_TMP/m/cur/170000000$i.M${i}P$i.h:2," "m$i"; done
  start_bg a "$T_TMP/m"
  say 'a1 SELECT INBOX'; wait_for a 'a1 OK'
  out=$(printf 'b1 SELECT INBOX\nb2 STORE 2 +FLAGS (\\Flagged)\nb3 STORE 1 +FLAGS (\\Deleted)\nb4 EXPUNGE\nb5 APPEND INBOX {6+}\nnew: 1\n' | session "$T_TMP/m")
  assertContains "$out" 'b5 OK [APPENDUID'
  say 'a2 NOOP'; wait_for a 'a2 OK'
  a=$(tr -d '\r' < "$T_TMP/a.out")
  assertContains "$a" '* 1 EXPUNGE'
  assertContains "$a" '* 1 FETCH (UID 2 FLAGS (\Flagged))'
  assertContains "$a" '* 3 EXISTS'
  say 'a3 UID FETCH 4 (UID)'; wait_for a 'a3 OK'
  assertContains "$(tr -d '\r' < "$T_TMP/a.out")" '* 3 FETCH (UID 4)'
  say 'a4 LOGOUT'; exec 7>&-; wait "$pid_a"
}

# Another session expunges and changes flags: every expunge is told before
# any FETCH numbered after it (a client matching UIDs to numbers, as neomutt
# with QRESYNC does, would otherwise flag the wrong message), with VANISHED
# and with EXPUNGE, after NOOP and in IDLE.
testSyncTellsExpungesBeforeFetch() {
  for mode in qresync plain idle; do
    newbox "$T_TMP/m"
    for i in 1 2 3 4 5; do msg "$T_TMP/m/cur/170000000$i.M${i}P$i.h:2," "m$i"; done
    start_bg a "$T_TMP/m"
    [ $mode = plain ] || { say 'a0 ENABLE QRESYNC'; wait_for a 'a0 OK'; }
    say 'a1 SELECT INBOX'; wait_for a 'a1 OK'
    [ $mode = idle ] && { say 'a2 IDLE'; wait_for a '+ idling'; }
    printf 'b1 SELECT INBOX
b2 STORE 2:3 +FLAGS (\Deleted)
b3 EXPUNGE
b4 UID STORE 5 +FLAGS (\Flagged)
' | session "$T_TMP/m" >/dev/null
    if [ $mode = idle ]; then wait_for a 'MODSEQ' 100; say 'DONE'; else say 'a2 NOOP'; fi
    wait_for a 'a2 OK'
    a=$(tr -d '\r' < "$T_TMP/a.out")
    case $mode in
      plain) assertHas "$a" "$(printf '* 2 EXPUNGE\n* 2 EXPUNGE\n* 3 FETCH (UID 5 FLAGS (\\Flagged))\na2 OK')" ;;
      *) assertHas "$a" "$(printf '* VANISHED 2:3\n* 3 FETCH (UID 5 FLAGS (\\Flagged) MODSEQ (')" ;;
    esac
    say 'a3 LOGOUT'; exec 7>&-; wait "$pid_a"
  done
}

# CONTEXT=SEARCH: another session's changes reach an updating search at
# the next NOOP, and inside IDLE as they happen (RFC 5267 4.3.4: timely)
testUpdatingSearchSeesOtherSessions() {
  for mode in noop idle; do
    newbox "$T_TMP/m"
    for i in 1 2 3; do msg "$T_TMP/m/cur/170000000$i.M${i}P$i.h:2," "m$i"; done
    start_bg a "$T_TMP/m"
    say 'a1 SELECT INBOX'; wait_for a 'a1 OK'
    say 'a2 UID SEARCH RETURN (UPDATE ALL) FLAGGED'; wait_for a 'a2 OK'
    [ $mode = idle ] && { say 'a3 IDLE'; wait_for a '+ idling'; }
    printf 'b1 SELECT INBOX\nb2 STORE 2 +FLAGS (\\Flagged)\nb3 STORE 1 +FLAGS (\\Deleted)\nb4 EXPUNGE\n' | session "$T_TMP/m" >/dev/null
    if [ $mode = idle ]; then wait_for a 'ADDTO' 500 || fail 'no ADDTO inside IDLE'; say 'DONE'; else say 'a3 NOOP'; fi
    wait_for a 'a3 OK' 500
    a=$(tr -d '\r' < "$T_TMP/a.out")
    assertContains "$mode" "$a" '* ESEARCH (TAG "a2") UID ADDTO (0 2)'
    [ $mode = idle ] || assertHas "$a" "$(printf '* 1 FETCH (UID 2 FLAGS (\\Flagged))\n* ESEARCH (TAG "a2") UID ADDTO (0 2)\na3 OK')"
    say 'a4 LOGOUT'; exec 7>&-; wait "$pid_a"
  done
}

# Keywords are numbered per folder (Dovecot's letters a..z): two sessions
# defining keywords at once must not give two of them one letter, and a
# +FLAGS keeps the flags another session set meanwhile.
# One log line per session, however it ends: inside IDLE (phones drop
# connections there), or while a big FETCH is on its way.
testSessionEndLoggedFromIdleAndOnWriteError() {
  newbox "$T_TMP/m"
  make_message "$T_TMP/m/cur/1700000001.M1P1.h:2," 300000
  { printf 'a SELECT INBOX\r\nb IDLE\r\n'; sleep 0.3; } | (cd "$T_TMP/m" && vmail-imapd >/dev/null 2>"$T_TMP/idle.err")
  assertEquals "$(cat "$T_TMP/idle.err")" 1 "$(grep -c 'session user=- ip=- commands=2 fetched=0 end=disconnect' "$T_TMP/idle.err")"
  { printf 'a SELECT INBOX\r\n'; sleep 0.3; printf 'b FETCH 1 BODY.PEEK[]\r\n'; sleep 0.3; } \
    | (cd "$T_TMP/m" && vmail-imapd 2>"$T_TMP/write.err") | head -c 1 >/dev/null
  assertEquals "$(cat "$T_TMP/write.err")" 1 "$(grep -c 'session user=- .* end=writeerror' "$T_TMP/write.err")"
  assertEquals "nothing else logged" 1 "$(wc -l < "$T_TMP/write.err")"
}

# Untagged news comes before the tagged answer: after it no command is in
# progress, and an EXPUNGE then is forbidden (RFC 3501 7.4.1).
testUpdatesBeforeTheTaggedAnswer() {
  newbox "$T_TMP/m"
  for i in 1 2; do msg "$T_TMP/m/cur/170000000$i.M${i}P$i.h:2," "m$i"; done
  out=$(printf 'a SELECT INBOX\nb COPY 1 INBOX\nc NOOP\n' | session "$T_TMP/m")
  # the copy is recent for this session, as in Dovecot (RFC 3501 2.3.2)
  assertHas "$out" "$(printf '* 3 EXISTS\n* 1 RECENT\nb OK [COPYUID')"
  start_bg a "$T_TMP/m"
  say 'a1 SELECT INBOX'; wait_for a 'a1 OK'
  printf 'b1 SELECT INBOX\nb2 STORE 1 +FLAGS (\\Deleted)\nb3 EXPUNGE\n' | session "$T_TMP/m" >/dev/null
  say 'a2 LIST "" INBOX'; wait_for a 'a2 OK'
  assertHas "$(tr -d '\r' < "$T_TMP/a.out")" "$(printf '* 1 EXPUNGE\n* LIST (\\HasNoChildren) "." "INBOX"\na2 OK')"
  say 'a3 LOGOUT'; exec 7>&-; wait "$pid_a"
}

testKeywordsAndFlagsOfTwoSessions() {
  newbox "$T_TMP/m"
  for i in 1 2 3; do msg "$T_TMP/m/cur/170000000$i.M${i}P$i.h:2," "m$i"; done
  start_bg a "$T_TMP/m"
  say 'a1 SELECT INBOX'; wait_for a 'a1 OK'
  out=$(printf 'b1 SELECT INBOX\nb2 STORE 3 +FLAGS ($Other \\Seen)\nb3 APPEND INBOX ($Third) {6+}\nnew: 1\n' | session "$T_TMP/m")
  assertContains "$out" 'b2 OK'
  say 'a2 STORE 2 +FLAGS ($Mine)'; wait_for a 'a2 OK'
  say 'a3 STORE 3 +FLAGS (\Flagged)'; wait_for a 'a3 OK'
  say 'a4 SEARCH KEYWORD $Other'; wait_for a 'a4 OK'
  a=$(tr -d '\r' < "$T_TMP/a.out")
  assertContains "the new keyword is announced" "$a" '* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Other $Third $Mine)'
  assertContains "$a" '* 2 FETCH (FLAGS ($Mine))'
  assertContains "b's \Seen and keyword kept" "$a" '* 3 FETCH (FLAGS (\Seen \Flagged $Other))'
  assertContains "$a" '* SEARCH 3'
  assertEquals "$(printf '0 $Other\n1 $Third\n2 $Mine')" "$(cat "$T_TMP/m/dovecot-keywords")"
  assertTrue "m2 has letter c" "[ -f '$T_TMP/m/cur/1700000002.M2P2.h:2,c' ]"
  assertTrue "m3 keeps letter a" "[ -f '$T_TMP/m/cur/1700000003.M3P3.h:2,FSa' ]"
  say 'a5 LOGOUT'; exec 7>&-; wait "$pid_a"
  out=$(printf 'c1 EXAMINE INBOX\nc2 FETCH 1:* (FLAGS)\n' | session "$T_TMP/m")
  assertContains "$out" '* OK [PERMANENTFLAGS ()]'
  assertContains "$out" '* 2 FETCH (FLAGS ($Mine))'
  assertContains "$out" '* 4 FETCH (FLAGS ($Third))'
}

testIdleReportsDeliveryWithinASecond() {
  newbox "$T_TMP/m"
  msg "$T_TMP/m/cur/1700000001.M1P1.h:2," first
  start_bg i "$T_TMP/m"
  say 'i1 SELECT INBOX'; wait_for i 'i1 OK'
  say 'i2 IDLE'; wait_for i '+ idling'
  msg "$T_TMP/m/tmp/1700000009.M9P9.h" delivered
  mv "$T_TMP/m/tmp/1700000009.M9P9.h" "$T_TMP/m/new/1700000009.M9P9.h"
  wait_for i '* 2 EXISTS' 50
  assertTrue "EXISTS within a second while idling" $?
  say 'DONE'; wait_for i 'i2 OK'
  assertContains "$(tr -d '\r' < "$T_TMP/i.out")" 'i2 OK IDLE terminated'
  say 'i3 LOGOUT'; exec 7>&-; wait "$pid_i"
}

testLoginChainAndPipelining() {
  rm -rf "$VMAIL_ROOT/example.com/postmaster"
  out=$(printf 'a CAPABILITY\r\nb LOGIN postmaster@example.com password\r\nc SELECT INBOX\r\nd LOGOUT\r\n' \
        | VMAIL_AUTH_PLAINTEXT=1 vmail-imap-login vmail-imapd 2>/dev/null | tr -d '\r')
  assertContains "$out" '* OK [CAPABILITY IMAP4rev1'
  assertContains "$out" 'AUTH=PLAIN'
  assertContains "$out" 'b OK [CAPABILITY IMAP4rev1'
  assertContains "$out" 'c OK [READ-WRITE]'
  assertContains "$out" 'd OK'
  assertTrue "[ -d '$VMAIL_ROOT/example.com/postmaster/.Sent/cur' ]"
}

testLoginFailuresAndSaslIr() {
  out=$(printf 'a LOGIN postmaster@example.com wrong\r\nb LOGIN {22+}\r\npostmaster@example.com {8+}\r\npassword\r\nc NOOP\r\nd LOGOUT\r\n' \
        | VMAIL_AUTH_PLAINTEXT=1 vmail-imap-login 2>/dev/null | tr -d '\r')
  assertContains "$out" 'a NO [AUTHENTICATIONFAILED]'
  assertContains "$out" 'b OK [CAPABILITY'
  assertContains "$out" 'c OK NOOP'
  ir=$(printf '\0user2@example.com\0password2' | base64 -w0)
  out=$(printf 'a AUTHENTICATE PLAIN %s\r\nb LOGOUT\r\n' "$ir" | VMAIL_AUTH_PLAINTEXT=1 vmail-imap-login 2>/dev/null | tr -d '\r')
  assertContains "$out" 'a OK [CAPABILITY'
  out=$(printf 'a AUTHENTICATE PLAIN\r\n%s\r\nb LOGOUT\r\n' "$ir" | VMAIL_AUTH_PLAINTEXT=1 vmail-imap-login 2>/dev/null | tr -d '\r')
  assertContains "$out" '+ '
  assertContains "$out" 'a OK [CAPABILITY'
  out=$(printf 'a LOGIN postmaster@example.com password\r\nb LOGOUT\r\n' | vmail-imap-login 2>/dev/null | tr -d '\r')
  assertContains "$out" 'LOGINDISABLED'
  assertContains "$out" 'a NO [PRIVACYREQUIRED]'
  out=$(printf 'a SELECT INBOX\r\nb LOGIN x\r\n' | VMAIL_AUTH_PLAINTEXT=1 vmail-imap-login 2>/dev/null | tr -d '\r')
  assertContains "$out" 'a BAD'
  assertContains "$out" 'b BAD'
}

testThreeFailedLoginsEndInBye() {
  out=$(printf 'a LOGIN u@example.com x\r\nb LOGIN u@example.com x\r\nc LOGIN u@example.com x\r\nd NOOP\r\n' \
        | VMAIL_AUTH_PLAINTEXT=1 vmail-imap-login 2>/dev/null | tr -d '\r')
  assertContains "$out" '* BYE Too many failed logins'
  assertNotContains "$out" 'd OK'
}

. shunit2
