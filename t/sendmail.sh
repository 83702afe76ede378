#!/bin/sh
# vmail-sendmail: the sendmail(8) interface in front of vmail-queue.
. "$T_TOP/t/lib/common.sh"

Q=$T_TMP/queue
export VMAIL_QUEUE_DIR=$Q VMAIL_HOSTNAME=mx.example.com

setUp() { rm -rf "$Q"; unset VMAIL_QUEUE VMAIL_DEFAULT_DOMAIN; }

# the queued envelope, one field per line (F..., T...)
envelope() { tr '\0' '\n' < "$(ls "$Q"/env/* | tail -n 1)" | sed '/^$/d'; }
message() { cat "$(ls "$Q"/mess/* | tail -n 1)"; }
# header field NAME of the queued message
field() { message | sed -n "/^\$/q; /^$1:/p"; }

testRecipientsFromArguments() {
  printf 'Subject: s\n\nhello\n' | USER=alice vmail-sendmail postmaster@example.com user2@example.com
  assertEquals "exit" 0 $?
  assertEquals "envelope" "$(printf 'Falice@mx.example.com\nTpostmaster@example.com\nTuser2@example.com')" "$(envelope)"
}

testAddsFromDateMessageId() {
  printf 'Subject: s\n\nhello\n' | USER=alice NAME='Alice Liddell' vmail-sendmail postmaster@example.com
  assertEquals "From" "From: Alice Liddell <alice@mx.example.com>" "$(field From)"
  assertTrue "Date, RFC 5322" "field Date | grep -Eq '^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [-+][0-9]{4}\$'"
  assertTrue "Message-ID" "field Message-ID | grep -Eq '^Message-ID: <[0-9.]+@mx.example.com>\$'"
  assertEquals "body after one empty line" "hello" "$(message | sed '1,/^$/d')"
}

testKeepsExistingFields() {
  printf 'From: Me <me@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <x@y>\nSubject: s\n\nhello\n' |
    vmail-sendmail postmaster@example.com
  assertEquals "one From" 1 "$(field From | wc -l)"
  assertEquals "From kept" "From: Me <me@example.org>" "$(field From)"
  assertEquals "Date kept" "Date: Mon, 1 Jan 2024 00:00:00 +0000" "$(field Date)"
  assertEquals "Message-ID kept" "Message-ID: <x@y>" "$(field Message-ID)"
}

testFullNameQuotedWhenNeeded() {
  printf 'Subject: s\n\nhi\n' | vmail-sendmail -F 'Smith, John "JJ"' -f js@example.org postmaster@example.com
  assertEquals "quoted display name" 'From: "Smith, John \"JJ\"" <js@example.org>' "$(field From)"
}

testSenderOption() {
  printf 'Subject: s\n\nhi\n' | vmail-sendmail -f '<bounce@example.org>' postmaster@example.com
  assertEquals "-f" "Fbounce@example.org" "$(envelope | head -n 1)"
  printf 'Subject: s\n\nhi\n' | vmail-sendmail -f '<>' postmaster@example.com
  assertEquals "-f <> is the null sender" "F" "$(envelope | head -n 1)"
  printf 'Subject: s\n\nhi\n' | vmail-sendmail -r cron postmaster@example.com
  assertEquals "-r, bare name gets the domain" "Fcron@mx.example.com" "$(envelope | head -n 1)"
}

testBadSenderRefused() {
  printf 'Subject: s\n\nhi\n' | vmail-sendmail -f 'a b@example.org' postmaster@example.com 2>"$T_TMP/err"
  assertEquals "space" 100 $?
  printf 'Subject: s\n\nhi\n' | vmail-sendmail -f "$(printf 'a@example.org\nBcc: x@example.com')" postmaster@example.com 2>"$T_TMP/err"
  assertEquals "line break" 100 $?
  assertContains "$(cat "$T_TMP/err")" "sender address"
  assertEquals "nothing queued" 0 "$(count_files "$Q/env")"
}

testRecipientGivenTwiceIsQueuedOnce() {
  printf 'To: a@example.com, b@example.com\nCc: A@Example.COM (again)\nSubject: s\n\nbody\n' |
    vmail-sendmail -t b@EXAMPLE.com c@example.com A@example.com
  assertEquals "each once, in order; local parts keep their case" \
    "$(printf 'Tb@EXAMPLE.com\nTc@example.com\nTA@example.com\nTa@example.com')" "$(envelope | tail -n +2)"
}

testRecipientsFromHeaders() {
  printf 'To: A <a@example.com>, "B, c" <b@example.com>\nCc: team: c@example.com, d@example.com (dee);\nBcc: secret@example.com\nSubject: s\n\nbody\n' |
    vmail-sendmail -t extra@example.com
  assertEquals "envelope" "$(printf 'Textra@example.com\nTa@example.com\nTb@example.com\nTc@example.com\nTd@example.com\nTsecret@example.com')" "$(envelope | tail -n +2)"
  assertEquals "Bcc removed" "" "$(field Bcc)"
  assertTrue "To kept" "field To | grep -q 'b@example.com'"
}

testFoldedHeaderAddresses() {
  printf 'To: a@example.com,\n  b@example.com\nSubject: s\n\nbody\n' | vmail-sendmail -t
  assertEquals "both" "$(printf 'Ta@example.com\nTb@example.com')" "$(envelope | tail -n 2)"
}

testDotEndsMessageUnlessI() {
  printf 'Subject: s\n\nline one\n.\nafter the dot\n' | vmail-sendmail postmaster@example.com
  assertFalse "cut at the dot" "message | grep -q 'after the dot'"
  rm -rf "$Q"
  printf 'Subject: s\n\nline one\n.\nafter the dot\n' | vmail-sendmail -i postmaster@example.com
  assertTrue "-i keeps it" "message | grep -q 'after the dot'"
  rm -rf "$Q"
  printf 'Subject: s\n\nline one\n.\nafter the dot\n' | vmail-sendmail -oi postmaster@example.com
  assertTrue "-oi keeps it" "message | grep -q 'after the dot'"
}

testBodyWithoutHeader() {
  echo hi | vmail-sendmail postmaster@example.com
  assertEquals "body after an empty line" "hi" "$(message | sed '1,/^$/d')"
  assertEquals "header: Received (2 lines), From, Date, Message-ID" 5 "$(message | sed '/^$/q' | sed '/^$/d' | wc -l)"
}

testCRLFInputGetsCRLFFields() {
  printf 'Subject: s\r\n\r\nhi\r\n' | vmail-sendmail postmaster@example.com
  assertEquals "every header line CRLF" 0 "$(message | sed '/^\r$/q' | grep -vc "$(printf '\r')\$")"
}

testDefaultDomain() {
  printf 'Subject: s\n\nhi\n' | VMAIL_DEFAULT_DOMAIN=example.com vmail-sendmail root
  assertEquals "bare recipient" "Troot@example.com" "$(envelope | tail -n 1)"
}

testNoRecipients() {
  printf 'Subject: s\n\nhi\n' | vmail-sendmail 2>/dev/null
  assertEquals "exit" 100 $?
  printf 'Subject: s\n\nhi\n' | vmail-sendmail -t 2>/dev/null
  assertEquals "-t without To" 100 $?
  assertEquals "nothing queued" 0 "$(count_files "$Q/env")"
}

testQueueFailureCodes() {
  printf '#!/bin/sh\ncat >/dev/null; exit 31\n' > "$T_TMP/refuse"; chmod +x "$T_TMP/refuse"
  printf 'Subject: s\n\nhi\n' | VMAIL_QUEUE=$T_TMP/refuse vmail-sendmail postmaster@example.com
  assertEquals "permanent" 100 $?
  printf '#!/bin/sh\ncat >/dev/null; exit 71\n' > "$T_TMP/later"; chmod +x "$T_TMP/later"
  printf 'Subject: s\n\nhi\n' | VMAIL_QUEUE=$T_TMP/later vmail-sendmail postmaster@example.com
  assertEquals "temporary" 111 $?
}

testQueueListing() {
  out=$(vmail-sendmail -bp)
  assertEquals "empty" "queue is empty" "$out"
  printf 'Subject: s\n\nhi\n' | vmail-sendmail -f a@example.org postmaster@example.com far@example.net
  out=$(vmail-sendmail -bp)
  assertTrue "one line with id, age, sender, recipients: $out" \
    "echo '$out' | grep -Eqx '[0-9.]{25} age=[0-9]+s from=<a@example.org> to=<postmaster@example.com>,<far@example.net>'"
}

testUsage() {
  vmail-sendmail -Z x </dev/null 2>/dev/null
  assertEquals "bad option" 100 $?
  vmail-sendmail -bs </dev/null 2>/dev/null
  assertEquals "unsupported mode" 100 $?
}

. shunit2
