#!/bin/sh
# vmail-imap-login: the not-authenticated state, conversations piped into it
# (RFC 3501 6.1-6.2, RFC 4616 SASL PLAIN, RFC 4959 SASL-IR, RFC 2971 ID,
# RFC 5530 response codes). t/imapd.sh covers the basic chain; this suite the
# login program's edges.
. "$T_TOP/t/lib/common.sh"

oneTimeSetUp() { seed_tutorial; }

# login [ENV=VALUE...]: runs vmail-imap-login (then vmail-checkpw, vmail-imapd)
# on stdin with VMAIL_AUTH_PLAINTEXT=1; prints the answer without CRs, its
# stderr in $T_TMP/err, its exit code in $T_TMP/rc.
login() {
  { env VMAIL_AUTH_PLAINTEXT=1 "$@" vmail-imap-login vmail-imapd 2>"$T_TMP/err"; echo $? > "$T_TMP/rc"; } | tr -d '\r'
}
plain() { printf '%s\0%s\0%s' "$1" "$2" "$3" | base64 -w0; }

testGreetingAnnouncesCapabilities() {
  out=$(printf 'a CAPABILITY\r\nb LOGOUT\r\n' | login)
  first=$(echo "$out" | head -n 1)
  assertContains "$first" '* OK [CAPABILITY IMAP4rev1'
  for c in SASL-IR AUTH=PLAIN ID LITERAL+; do
    assertContains "greeting has $c" "$first" " $c"
    assertContains "CAPABILITY has $c" "$(echo "$out" | grep '^\* CAPABILITY')" " $c"
  done
  assertNotContains "$first" LOGINDISABLED
  assertContains "$out" 'a OK'
  assertContains "$out" '* BYE'
  assertContains "$out" 'b OK'
  assertEquals 0 "$(cat "$T_TMP/rc")"
}

testCommandsAreCaseInsensitive() {
  out=$(printf 'a capability\r\nb NoOp\r\nc logout\r\n' | login)
  assertContains "$out" '* CAPABILITY IMAP4rev1'
  assertContains "$out" 'b OK'
  assertContains "$out" 'c OK'
}

testIdAnswerIsAWellFormedList() {
  out=$(printf 'a ID ("name" "mutt" "version" "2.2")\r\nb ID NIL\r\nc LOGOUT\r\n' | login)
  idline=$(echo "$out" | grep '^\* ID' | head -n 1)
  # RFC 2971 3.3: a parenthesised list of field/value string pairs, or NIL
  assertTrue "well-formed ID answer: $idline" \
    "echo '$idline' | grep -Eq '^\* ID (NIL|\((\"[^\"]*\" (\"[^\"]*\"|NIL) ?)+\))$'"
  assertContains "$out" 'a OK'
  assertContains "$out" 'b OK'
}

testUnknownUserAnsweredLikeWrongPassword() {
  out=$(printf 'a LOGIN nobody@example.com password\r\nb LOGIN postmaster@example.com nope\r\nc LOGOUT\r\n' | login)
  a=$(echo "$out" | grep '^a ' | cut -d' ' -f2-3)
  b=$(echo "$out" | grep '^b ' | cut -d' ' -f2-3)
  assertEquals 'NO [AUTHENTICATIONFAILED]' "$a"
  assertEquals "$a" "$b"
  assertContains "$out" 'c OK'
}

testQuotedStringsWithEscapes() {
  # the password contains a quote and a backslash: sent as \" and \\
  sql "UPDATE virtual_users SET password = ENCRYPT('pa\"ss\\\\w', CONCAT('\$6\$', SUBSTRING(SHA(RAND()), -16)))
       WHERE email = 'user2@example.com'"
  out=$(printf 'a LOGIN "user2@example.com" "pa\\"ss\\\\w"\r\nb LOGOUT\r\n' | login)
  sql "UPDATE virtual_users SET password = ENCRYPT('password2', CONCAT('\$6\$', SUBSTRING(SHA(RAND()), -16)))
       WHERE email = 'user2@example.com'"
  assertContains "$out" 'a OK [CAPABILITY'
}

testSynchronisingLiteralGetsContinuation() {
  out=$(printf 'a LOGIN {17}\r\nuser2@example.com {9}\r\npassword2\r\nb LOGOUT\r\n' | login)
  assertEquals 'two continuations' 2 "$(echo "$out" | grep -c '^+ ')"
  assertContains "$out" 'a OK [CAPABILITY'
}

testSaslIrWithAuthzid() {
  out=$(printf 'a AUTHENTICATE PLAIN %s\r\nb LOGOUT\r\n' "$(plain user2@example.com user2@example.com password2)" | login)
  assertContains "authzid equal to the user" "$out" 'a OK [CAPABILITY'
  out=$(printf 'a AUTHENTICATE PLAIN %s\r\nb LOGOUT\r\n' "$(plain postmaster@example.com user2@example.com password2)" | login)
  assertContains "authzid of another user" "$out" 'a NO'
  assertNotContains "$out" 'a OK'
}

testAuthenticateCancelledAndMalformed() {
  out=$(printf 'a AUTHENTICATE PLAIN\r\n*\r\nb AUTHENTICATE PLAIN !!notbase64!!\r\nc AUTHENTICATE PLAIN =\r\nd AUTHENTICATE CRAM-MD5\r\ne NOOP\r\nf LOGOUT\r\n' | login)
  assertContains "$out" '+ '
  assertContains "cancel (RFC 3501 6.2.2)" "$out" 'a BAD'
  assertTrue "bad base64 refused: $out" "echo '$out' | grep -Eq '^b (BAD|NO)'"
  assertTrue "empty response refused" "echo '$out' | grep -Eq '^c (BAD|NO)'"
  assertTrue "unknown mechanism refused" "echo '$out' | grep -Eq '^d (BAD|NO)'"
  assertContains "still talking" "$out" 'e OK'
  assertContains "$out" 'f OK'
}

testStarttlsAndAuthenticatedCommandsRefused() {
  out=$(printf 'a STARTTLS\r\nb SELECT INBOX\r\nc LIST "" *\r\nd NOOP\r\ne LOGOUT\r\n' | login)
  assertTrue "STARTTLS refused" "echo '$out' | grep -Eq '^a (BAD|NO)'"
  assertContains "$out" 'b BAD'
  assertContains "$out" 'c BAD'
  assertContains "$out" 'd OK'
  assertNotContains "$out" '* LIST'
}

testTlsConnectionAllowsPasswordsWithoutPlaintextSetting() {
  out=$(printf 'a LOGIN user2@example.com password2\r\nb LOGOUT\r\n' |
        { SSL_PROTOCOL=TLSv1.3 vmail-imap-login vmail-imapd 2>/dev/null; } | tr -d '\r')
  assertContains "$out" 'AUTH=PLAIN'
  assertContains "$out" 'a OK [CAPABILITY'
}

testTenBadCommandsEndInBye() {
  out=$( { i=0; while [ $i -lt 12 ]; do printf 'x%d FROBNICATE\r\n' $i; i=$((i + 1)); done; printf 'z NOOP\r\n'; } | login)
  assertContains "$out" '* BYE'
  assertNotContains "$out" 'z OK'
  assertEquals 0 "$(cat "$T_TMP/rc")"
}

# vmail-imap-login(8): "a command over 4096 bytes" gets BYE
testOverlongCommandGetsBad() {
  # read and dropped past the limit (issue 16: never a dropped session)
  long=$(head -c 5000 /dev/zero | tr '\0' a)
  out=$(printf 'a LOGIN %s x\r\nb NOOP\r\n' "$long" | login)
  assertContains "$out" 'a BAD Command line too long'
  assertContains "$out" 'b OK'
  over=$(head -c 300 /dev/zero | tr '\0' u)
  out=$(printf 'a LOGIN %s@example.com password\r\nb NOOP\r\n' "$over" | login)
  assertTrue "a user over 255 bytes refused" "echo '$out' | grep -Eq '^a (BAD|NO)'"
}

testDatabaseDownIsTemporary() {
  out=$(printf 'a LOGIN postmaster@example.com password\r\nb LOGOUT\r\n' | login VMAIL_DB_SOCKET="$T_TMP/no.sock")
  assertContains "$out" 'a NO [UNAVAILABLE]'
  assertContains "$out" 'b OK'
}

testPasswordNeverLogged() {
  printf 'a LOGIN postmaster@example.com Secret-Wrong-42\r\nb AUTHENTICATE PLAIN %s\r\n' \
    "$(plain '' postmaster@example.com Secret-Wrong-43)" | login TCPREMOTEIP=192.0.2.7 >/dev/null
  err=$(cat "$T_TMP/err")
  assertNotContains "$err" 'Secret-Wrong-4'
  assertContains "one log line with the client's address" "$err" 'login end=disconnect ip=192.0.2.7'
  assertEquals 'a single login line' 1 "$(grep -c 'login end=' "$T_TMP/err")"
}

# An address that has failed too often (vmail-checkpw(8)) gets a clear
# temporary refusal, even with the right password.
testBlockedAddressIsUnavailable() {
  out=$(printf 'a LOGIN postmaster@example.com wrong\r\nb LOGIN postmaster@example.com password\r\nc LOGOUT\r\n' |
        login TCPREMOTEIP=192.0.2.20 VMAIL_AUTH_FAILURES=1 VMAIL_AUTH_WINDOW=600)
  assertContains "$out" 'a NO [AUTHENTICATIONFAILED]'
  assertContains "$out" 'b NO [UNAVAILABLE] Too many failed logins from your address'
  assertContains "$out" 'c OK'
}

# vmail-imap-login(8): one log line per session that does not log in, LOGOUT included
testLogoutWithoutLoginIsLogged() {
  printf 'a NOOP\r\nb LOGOUT\r\n' | login TCPREMOTEIP=192.0.2.8 >/dev/null
  assertEquals 'a single login line' 1 "$(grep -c 'login end=.* ip=192.0.2.8' "$T_TMP/err")"
}

testEofBeforeLoginExitsCleanly() {
  out=$(printf 'a NOOP\r\n' | login)
  assertContains "$out" 'a OK'
  assertEquals 0 "$(cat "$T_TMP/rc")"
}

testCheckpwOverride() {
  # VMAIL_CHECKPW names the checkpassword program: one that refuses everyone
  out=$(printf 'a LOGIN postmaster@example.com password\r\nb LOGOUT\r\n' | login VMAIL_CHECKPW=false)
  assertContains "$out" 'a NO'
  assertNotContains "$out" 'a OK'
}

testSessionAfterLoginIsTheUsersMaildir() {
  out=$(printf 'a LOGIN user2@example.com password2\r\nb STATUS INBOX (MESSAGES)\r\nc LIST "" "*"\r\nd LOGOUT\r\n' | login)
  assertContains "$out" 'b OK'
  assertTrue "Sent listed with its special use" "echo '$out' | grep -Eq '^\* LIST \(.*\\\\Sent.*\) \".\" \"?Sent\"?\$'"
  assertTrue "Maildir of user2" "[ -d '$VMAIL_ROOT/example.com/user2/.Trash/cur' ]"
}

. shunit2
