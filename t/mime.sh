#!/bin/sh
# vmail-mime and lib/mime: the corpus in t/mime (expected ENVELOPE, BODY,
# BODYSTRUCTURE per message, checked against Dovecot 2.3: see t/mime/README),
# sections, BINARY, SEARCH decoding, dates, broken and hostile input.
. "$T_TOP/t/lib/common.sh"

C=$T_TOP/t/mime

# The output of vmail-mime with every CR shown as \r, so byte-exact answers
# can be compared as shell strings.
show() { vmail-mime "$@" | od -An -c | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }
bytes() { printf "$1" | od -An -c | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }

corpus_check() {   # corpus_check COMMAND EXT: names of messages whose answer differs
  bad=
  for f in "$C"/*.eml; do
    n=$(basename "$f" .eml)
    vmail-mime "$1" "$f" | cmp -s - "$C/$n.$2" || bad="$bad $n"
  done
  echo "$bad"
}

testCorpusEnvelope() {
  assertEquals "ENVELOPE differs for" "" "$(corpus_check envelope envelope)"
}

testCorpusBodystructure() {
  assertEquals "BODYSTRUCTURE differs for" "" "$(corpus_check bodystructure bodystructure)"
}

testCorpusBody() {
  assertEquals "BODY differs for" "" "$(corpus_check structure body)"
}

testCorpusIsNotTrivial() {
  assertTrue "at least 12 messages" "[ $(ls "$C"/*.eml | wc -l) -ge 12 ]"
  assertEquals "nested alternative inside mixed, attachment, inline part" \
    '((("text" "plain" ("charset" "utf-8" "format" "flowed") NIL NIL "7bit" 35 1 NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL "7bit" 44 0 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL)("application" "pdf" ("name" "report.pdf") "<part2@example.org>" "The report" "base64" 20 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("attachment" ("filename" "report.pdf" "size" "12")) NIL NIL)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 0 NIL ("inline" NIL) ("en" "de") "http://example.org/notes.txt") "mixed" ("boundary" "outer") NIL NIL NIL)' \
    "$(vmail-mime bodystructure "$C/mixed-nested.eml")"
}

# The same message stored with CRLF and with bare LF answers the same.
testLfAndCrlfAgree() {
  bad=
  for f in "$C"/*.eml; do
    sed 's/\r$//' "$f" > "$T_TMP/lf"
    if [ -n "$(tail -c 1 "$f")" ]; then last='$!'; else last=; fi   # no line end after the last line
    sed "s/\r\$//; ${last}s/\$/\r/" "$f" > "$T_TMP/crlf"
    for what in envelope bodystructure size; do
      [ "$(vmail-mime $what "$T_TMP/lf")" = "$(vmail-mime $what "$T_TMP/crlf")" ] || bad="$bad $(basename "$f"):$what"
    done
    vmail-mime body "" "$T_TMP/lf" | cmp -s - "$T_TMP/crlf" || bad="$bad $(basename "$f"):body"
  done
  assertEquals "LF and CRLF forms differ for" "" "$bad"
}

testSizeIsCrlfSize() {
  f=$C/simple.eml
  lf=$(tr -cd '\n' < "$f" | wc -c); all=$(wc -c < "$f")
  assertEquals "RFC822.SIZE counts each bare LF as CRLF" $((all + lf)) "$(vmail-mime size "$f")"
  assertEquals "BODY[] has that size" $((all + lf)) "$(vmail-mime body "" "$f" | wc -c)"
}

testHeaderPlusTextIsWhole() {
  for f in "$C"/*.eml; do
    h=$(vmail-mime body HEADER "$f" | wc -c); t=$(vmail-mime body TEXT "$f" | wc -c)
    assertEquals "$(basename "$f"): HEADER + TEXT = size" "$(vmail-mime size "$f")" $((h + t))
  done
}

testSectionsOfMultipart() {
  f=$C/mixed-nested.eml
  assertEquals "1.2 is the html part, without the line end before the delimiter" \
    "$(bytes '<p>Hello Bob,<br>the report is attached.</p>')" "$(show body 1.2 "$f")"
  assertEquals "1.1 ends before the CRLF of the next delimiter" \
    "$(bytes 'Hello Bob,\r\nthe report is attached.')" "$(show body 1.1 "$f")"
  assertEquals "2.MIME is the part header with its blank line" \
    "$(bytes 'Content-Type: application/pdf; name="report.pdf"\r\nContent-Disposition: attachment; filename="report.pdf"; size=12\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <part2@example.org>\r\nContent-Description: The report\r\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n\r\n')" \
    "$(show body 2.MIME "$f")"
  assertEquals "3" "notes" "$(vmail-mime body 3 "$f")"
  assertEquals "a leaf's own part 1 is itself" "notes" "$(vmail-mime body 3.1 "$f")"
  assertEquals "absent part: empty" "" "$(vmail-mime body 4 "$f")"
  assertEquals "absent nested part: empty" "" "$(vmail-mime body 3.1.1 "$f")"
  assertEquals "1 of a multipart is its first part, including headers" \
    "--inner" "$(vmail-mime body 1 "$f" | head -n 1 | tr -d '\r')"
}

testSectionsOfAttachedMessage() {
  f=$C/rfc822.eml
  assertEquals "2.HEADER: the attached message's header" \
    "$(bytes 'From: Original Sender <orig@example.org>\r\nTo: forwarder@example.net\r\nSubject: the original\r\nDate: Mon, 24 Nov 2025 20:00:00 +0100\r\nMessage-ID: <orig@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="o"\r\n\r\n')" \
    "$(show body 2.HEADER "$f")"
  assertEquals "2.1.1: a part inside the attached message" "Grüße aus Köln" "$(vmail-mime body 2.1.1 "$f")"
  assertEquals "2.HEADER.FIELDS" "$(bytes 'Subject: the original\r\n\r\n')" \
    "$(show body '2.HEADER.FIELDS (SUBJECT)' "$f")"
  assertEquals "2 is the whole attached message" "$(vmail-mime body 2.HEADER "$f" | wc -c)" \
    "$(( $(vmail-mime body 2 "$f" | wc -c) - $(vmail-mime body 2.TEXT "$f" | wc -c) ))"
  assertEquals "HEADER of a non-message part: empty" "" "$(vmail-mime body 1.HEADER "$f")"
}

testSectionsOfMessageRfc822Body() {
  f=$C/toplevel-rfc822.eml
  assertEquals "1.HEADER: header of the message that is the body" \
    "$(bytes 'From: inner@example.org\r\nSubject: inner\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n')" "$(show body 1.HEADER "$f")"
  assertEquals "1.1: its body" "$(bytes 'inner body\r\n')" "$(show body 1.1 "$f")"
  assertEquals "1.TEXT" "$(bytes 'inner body\r\n')" "$(show body 1.TEXT "$f")"
  assertEquals "2: absent" "" "$(vmail-mime body 2 "$f")"
}

testHeaderFields() {
  f=$C/simple.eml
  assertEquals "HEADER.FIELDS in message order, names case-insensitive, blank line" \
    "$(bytes 'Subject: =?UTF-8?B?SGVsbG8gV8O2cmxk?= test\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\n\r\n')" \
    "$(show body 'header.fields (date "SUBJECT")' "$f")"
  assertEquals "HEADER.FIELDS.NOT" \
    "$(bytes 'From: "Joe Q. Public" <john.q.public@example.com>\r\nSubject: =?UTF-8?B?SGVsbG8gV8O2cmxk?= test\r\n\r\n')" \
    "$(show body 'HEADER.FIELDS.NOT (To Cc Date Message-ID)' "$f")"
  assertEquals "folded fields stay folded" \
    "$(bytes 'Subject: a subject\r\n folded over\r\n\ttwo lines\r\n\r\n')" \
    "$(show body 'HEADER.FIELDS (SUBJECT)' "$C/folded.eml")"
}

testBadSections() {
  for s in 0 1.0 01 1..2 .1 1. MIME HEADER.FIELDS 'HEADER.FIELDS ()' 'HEADER.FIELDS (A' 'TEXT x' 'HEADERS' 1.FOO; do
    vmail-mime body "$s" "$C/rfc822.eml" >/dev/null 2>&1
    assertEquals "section [$s] is refused" 100 $?
  done
  vmail-mime binary 1.MIME "$C/rfc822.eml" >/dev/null 2>&1
  assertEquals "BINARY takes only part numbers" 100 $?
}

testBinaryDecodes() {
  assertEquals "base64" "$(bytes '\0\001\002\003\004')" "$(show binary 1 "$C/rfc2231.eml")"
  assertEquals "quoted-printable: soft breaks joined, ISO-8859-1 bytes kept" \
    "$(bytes 'Caf\351 cr\350me, na\357ve fa\347ade. Soft break joined.')" "$(show binary 1 "$C/alternative.eml")"
  assertEquals "quoted-printable: hard breaks are CRLF, =20 kept" \
    "$(bytes 'Line one \r\nLine two\r\n')" "$(show binary 1 "$C/folded.eml")"
  assertEquals "7bit: as BODY" "$(show body 3 "$C/mixed-nested.eml")" "$(show binary 3 "$C/mixed-nested.eml")"
  printf 'Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n' > "$T_TMP/uu"
  vmail-mime binary 1 "$T_TMP/uu" >/dev/null 2>&1
  assertEquals "unknown encoding: UNKNOWN-CTE" 100 $?
}

testEnvelopeLiteralForEightBit() {
  assertEquals "8-bit header text goes as a literal" \
    "$(bytes '("Fri, 21 Nov 1997 09:55:06 -0600" {7}\r\nGrüße (({5}\r\nJörg NIL "joerg" "example.de")) (({5}\r\nJörg NIL "joerg" "example.de")) (({5}\r\nJörg NIL "joerg" "example.de")) ((NIL NIL "user" "example.com")) NIL NIL NIL NIL)\n')" \
    "$(show envelope "$C/utf8-header.eml")"
}

testEnvelopeAddresses() {
  e=$(vmail-mime envelope "$C/addresses.eml")
  assertContains "quoted display name with a comma" "$e" '(("Smith, John" NIL "john" "example.com"))'
  assertContains "group: start, members, end" "$e" '((NIL NIL "A Group" NIL)(NIL NIL "ann" "example.com")("Bob B" NIL "bob" "example.com")(NIL NIL NIL NIL)(NIL NIL "solo" "example.com"))'
  assertContains "empty group" "$e" '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))'
  assertContains "name from a comment" "$e" '(("Hidden Person" NIL "hidden" "example.com"))'
  printf 'To: <@relay.example:user@example.com>, bare\n\n' > "$T_TMP/route"
  assertContains "source route, missing domain" "$(vmail-mime envelope "$T_TMP/route")" \
    '((NIL "@relay.example" "user" "example.com")(NIL NIL "bare" "MISSING_DOMAIN"))'
}

testSearchHeaderDecodesEncodedWords() {
  f=$C/alternative.eml
  vmail-mime search header subject 'THIS YOU UNDERSTAND' "$f"
  assertEquals "two encoded words in two charsets, joined" 0 $?
  vmail-mime search header from 'andré pirard' "$f"
  assertEquals "Q-encoded ISO-8859-1 name, case folded" 0 $?
  vmail-mime search header from 'ANDRÉ' "$f"
  assertEquals "needle case folded beyond ASCII" 0 $?
  vmail-mime search header to 'andré' "$f"
  assertEquals "only the named field" 1 $?
  vmail-mime search header '' 'keith moore' "$f"
  assertEquals "any header" 0 $?
  vmail-mime search header x-absent '' "$f"
  assertEquals "empty string: the field must exist" 1 $?
  vmail-mime search header subject '' "$f"
  assertEquals "empty string: field exists" 0 $?
}

testHeaderDecoded() {
  assertEquals "two charsets, white space between encoded words dropped" \
    "If you can read this you understand the example." "$(vmail-mime header subject "$C/alternative.eml")"
  assertEquals "encoded word next to plain text" "Hello Wörld test" "$(vmail-mime header SUBJECT "$C/simple.eml")"
  assertEquals "folding removed" "a subject folded over	two lines" "$(vmail-mime header subject "$C/folded.eml")"
  vmail-mime header x-absent "$C/simple.eml"
  assertEquals "absent field" 1 $?
}

testSearchBodyDecodes() {
  f=$C/alternative.eml
  vmail-mime search body 'CAFÉ CRÈME' "$f"
  assertEquals "quoted-printable ISO-8859-1 text" 0 $?
  vmail-mime search body 'façade. soft break' "$f"
  assertEquals "across a soft line break" 0 $?
  vmail-mime search body 'grüße aus köln' "$f"
  assertEquals "base64 UTF-8 html" 0 $?
  vmail-mime search body 'preamble' "$f"
  assertEquals "not in the preamble" 1 $?
  vmail-mime search body 'If you can read' "$f"
  assertEquals "BODY does not look at headers" 1 $?
  vmail-mime search text 'If you can read' "$f"
  assertEquals "TEXT does" 0 $?
  vmail-mime search body 'köln' "$C/rfc822.eml"
  assertEquals "inside an attached message" 0 $?
  vmail-mime search body 'original sender' "$C/rfc822.eml"
  assertEquals "the attached message's header is body of the outer one" 0 $?
  vmail-mime search body 'PDF-1.4' "$C/mixed-nested.eml"
  assertEquals "non-text attachments are not searched" 1 $?
  printf 'Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n\223quoted\224 \200 5\n' > "$T_TMP/cp1252"
  vmail-mime search body '“quoted” € 5' "$T_TMP/cp1252"
  assertEquals "windows-1252" 0 $?
  printf 'Subject: =?koi8-r?b?8NLJ18XU?=\nContent-Type: text/plain; charset=iso-8859-2\nContent-Transfer-Encoding: quoted-printable\n\nP=F8=ED=B9ern=EC\n' > "$T_TMP/cs"
  vmail-mime search header subject 'ПРИВЕТ' "$T_TMP/cs"
  assertEquals "KOI8-R encoded word (iconv), Cyrillic case folded" 0 $?
  vmail-mime search body 'PŘÍŠERNĚ' "$T_TMP/cs"
  assertEquals "ISO-8859-2 body, Latin Extended-A case folded" 0 $?
  vmail-mime search body 'prisern' "$T_TMP/cs"
  assertEquals "no accent folding" 1 $?
}

testDates() {
  assertEquals "RFC 5322 date" 1057049557 "$(vmail-mime date "$C/simple.eml")"
  assertEquals "two-digit year, GMT" 880106106 "$(vmail-mime date "$C/alternative.eml")"
  assertEquals "before 1970, half-hour zone" -27723426 "$(vmail-mime date "$C/addresses.eml")"
  assertEquals "folded" 946684800 "$(vmail-mime date "$C/folded.eml")"
  assertEquals "with a comment" 1764009900 "$(vmail-mime date "$C/mixed-nested.eml")"
  printf 'Date: Mon, 24 Nov 2025 13:45 EST\n\n' > "$T_TMP/d"
  assertEquals "obsolete zone name, no seconds" 1764009900 "$(vmail-mime date "$T_TMP/d")"
  printf 'Date: yesterday\n\n' > "$T_TMP/d"
  assertEquals "unreadable" 0 "$(vmail-mime date "$T_TMP/d")"
  assertEquals "missing" 0 "$(vmail-mime date "$C/noblank.eml")"
}

# Hostile structure: nesting and part counts stay bounded and answers balanced.
balanced() { tr -cd '()' | awk '{ d = 0; for (i = 1; i <= length($0); i++) { d += substr($0, i, 1) == "(" ? 1 : -1; if (d < 0) { print "bad"; exit } } print d == 0 ? "ok" : "bad" }'; }

testDeepNesting() {
  f=$T_TMP/deep
  : > "$f"
  i=0; while [ $i -lt 200 ]; do printf 'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' $i $i >> "$f"; i=$((i + 1)); done
  printf 'Content-Type: text/plain\n\ndeep\n' >> "$f"
  out=$(timeout 10 vmail-mime bodystructure "$f"); rc=$?
  assertEquals "exit" 0 $rc
  assertEquals "balanced" ok "$(printf '%s' "$out" | balanced)"
  assertContains "too deep: opaque" "$out" '"application" "octet-stream"'
  assertNotContains "the innermost text is not reached" "$out" '"text" "plain"'
}

testManyParts() {
  f=$T_TMP/many
  { printf 'Content-Type: multipart/mixed; boundary=x\n\n'; i=0; while [ $i -lt 12000 ]; do printf -- '--x\n\np\n'; i=$((i + 1)); done; printf -- '--x--\n'; } > "$f"
  out=$(timeout 20 vmail-mime bodystructure "$f"); rc=$?
  assertEquals "exit" 0 $rc
  n=$(printf '%s' "$out" | grep -o '"text" "plain"' | wc -l)
  assertTrue "parts listed up to the limit ($n)" "[ $n -ge 9000 ] && [ $n -lt 10000 ]"
  assertEquals "balanced" ok "$(printf '%s' "$out" | balanced)"
}

testBinaryGarbage() {
  head -c 200000 /dev/urandom > "$T_TMP/garbage"
  for what in envelope structure size bodystructure; do
    timeout 10 vmail-mime $what "$T_TMP/garbage" > "$T_TMP/out"
    assertEquals "$what on random bytes" 0 $?
  done
  assertEquals "bodystructure of garbage balanced" ok "$(balanced < "$T_TMP/out")"
}

testUsage() {
  vmail-mime >/dev/null 2>&1; assertEquals "no args" 100 $?
  vmail-mime frobnicate "$C/simple.eml" >/dev/null 2>&1; assertEquals "unknown command" 100 $?
  vmail-mime body "$C/simple.eml" >/dev/null 2>&1; assertEquals "body without section" 100 $?
  vmail-mime envelope "$T_TMP/does-not-exist" >/dev/null 2>&1; assertEquals "unreadable file" 111 $?
  assertEquals "stdin" "$(vmail-mime envelope "$C/simple.eml")" "$(vmail-mime envelope - < "$C/simple.eml")"
}

. shunit2
