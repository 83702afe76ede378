#!/bin/sh
# vmail-smtpd's submission policy (RFC 6409) with the real resolver, the real
# vmail-checkpw and the real queue: after AUTH the envelope sender must be
# the user's own, and submitted mail gets Date and Message-ID if it lacks them.
. "$T_TOP/t/lib/common.sh"

oneTimeSetUp() {
  seed_tutorial
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES (1, 'me@example.com', 'user2@example.com')"
  export VMAIL_QUEUE_DIR=$T_TMP/queue VMAIL_HOSTNAME=mx.test TCPREMOTEIP=192.0.2.1 VMAIL_AUTH_PLAINTEXT=1
  unset RELAYCLIENT VMAIL_SUBMISSION VMAIL_QUEUE VMAIL_ANY_SENDER
}

setUp() { rm -rf "$VMAIL_QUEUE_DIR"; }

AUTH="EHLO client.test\r\nAUTH PLAIN $(printf '\0user2@example.com\0password2' | base64 -w0)\r\n"
smtpd() { s=$1; shift; printf "$s" | env "$@" vmail-smtpd 2>"$T_TMP/log" | tr -d '\r'; }
mail_from() { smtpd "${AUTH}MAIL FROM:<$1>\r\nQUIT\r\n" | grep -E '^(250 2.1.0|553|451)'; }
queued() { cat "$VMAIL_QUEUE_DIR"/mess/* 2>/dev/null; }

testSenderMustBelongToTheUser() {
  assertEquals "own address" "250 2.1.0 Ok" "$(mail_from user2@example.com)"
  assertEquals "any case" "250 2.1.0 Ok" "$(mail_from User2@Example.COM)"
  assertEquals "+extension" "250 2.1.0 Ok" "$(mail_from user2+lists@example.com)"
  assertEquals "an alias that reaches them" "250 2.1.0 Ok" "$(mail_from me@example.com)"
  assertEquals "null sender" "250 2.1.0 Ok" "$(mail_from '')"
  assertEquals "someone else's" "553 5.7.1 Sender address rejected: not owned by the authenticated user" \
    "$(mail_from postmaster@example.com)"
  assertEquals "an alias of someone else" "553 5.7.1 Sender address rejected: not owned by the authenticated user" \
    "$(mail_from alias@example.com)"
  assertEquals "another domain" "553 5.7.1 Sender address rejected: not owned by the authenticated user" \
    "$(mail_from user2@example.org)"
  assertTrue "logged" "grep -q 'reject .*auth=user2@example.com from=<user2@example.org> .*reason=sender' '$T_TMP/log'"
  out=$(smtpd "${AUTH}MAIL FROM:<postmaster@example.com>\r\nQUIT\r\n" VMAIL_ANY_SENDER=1)
  assertContains "VMAIL_ANY_SENDER turns it off" "$out" "250 2.1.0 Ok"
}

testUnauthenticatedRelayOnlyFromRelayClient() {
  out=$(smtpd "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<u@far.example>\r\nQUIT\r\n")
  assertContains "$out" "554 5.7.1 <u@far.example>: Relay access denied"
  out=$(smtpd "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<u@far.example>\r\nQUIT\r\n" RELAYCLIENT=)
  assertContains "$out" "250 2.1.5 Ok"
}

testSubmittedMailGetsDateAndMessageID() {
  out=$(smtpd "${AUTH}MAIL FROM:<user2@example.com>\r\nRCPT TO:<u@far.example>\r\nDATA\r\nSubject: bare\r\n\r\nDate: in the body\r\n.\r\nQUIT\r\n")
  assertContains "$out" "250 2.0.0 Ok: queued"
  m=$(queued)
  assertEquals "one Date, in the header" 1 "$(printf '%s\n' "$m" | sed '/^$/q' | grep -c '^Date: [A-Z][a-z][a-z], [0-9]* [A-Z][a-z][a-z] 20[0-9][0-9] ')"
  assertTrue "a Message-ID" "printf '%s\n' \"\$m\" | sed '/^\$/q' | grep -Eq '^Message-ID: <[0-9.]+@mx.test>$'"
  assertTrue "before the empty line, after the client's fields" "printf '%s\n' \"\$m\" | grep -A3 '^Subject: bare' | sed -n 4p | grep -q '^$'"
  assertTrue "the body untouched" "printf '%s\n' \"\$m\" | grep -q '^Date: in the body$'"
}

testSubmittedMailKeepsItsOwnFields() {
  smtpd "${AUTH}MAIL FROM:<user2@example.com>\r\nRCPT TO:<u@far.example>\r\nDATA\r\nMessage-ID: <mine@client>\r\ndate: Fri, 4 Dec 2026 10:00:00 +0000\r\n\r\nx\r\n.\r\nQUIT\r\n" >/dev/null
  m=$(queued)
  assertEquals "its Message-ID alone" 1 "$(printf '%s\n' "$m" | grep -ci '^Message-ID:')"
  assertEquals "its Date alone" 1 "$(printf '%s\n' "$m" | grep -ci '^Date:')"
}

testRelayedMailIsLeftAlone() {
  smtpd "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nSubject: s\r\n\r\nx\r\n.\r\nQUIT\r\n" >/dev/null
  assertFalse "no Message-ID added to mail that is not submitted" "queued | grep -qi '^Message-ID:'"
}

testHeaderOnlyMessage() {
  smtpd "${AUTH}MAIL FROM:<user2@example.com>\r\nRCPT TO:<u@far.example>\r\nDATA\r\nSubject: only a header\r\n.\r\nQUIT\r\n" >/dev/null
  m=$(queued)
  assertTrue "fields after it" "printf '%s\n' \"\$m\" | grep -A2 '^Subject: only a header$' | grep -q '^Message-ID:'"
}

. shunit2
