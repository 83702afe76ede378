#!/bin/sh
# vmail-smtpd: scripted SMTP conversations piped straight into the program,
# with the real vmail-resolve and vmail-checkpw and a recording queue program.
. "$T_TOP/t/lib/common.sh"

oneTimeSetUp() {
  seed_tutorial
  mkdir -p "$T_TMP/q"
  # a qmail-queue stand-in: records message and envelope, exits $(cat queue-exit)
  cat > "$T_TMP/queue" <<'Q'
#!/bin/sh
d=$(dirname "$0")
f=$(mktemp "$d/q/m.XXXXXX")
cat > "$f.msg" || exit 54
cat <&1 > "$f.env" || exit 54
rm -f "$f"
[ -s "$f.env" ] || exit 91
exit "$(cat "$d/queue-exit" 2>/dev/null || echo 0)"
Q
  chmod 755 "$T_TMP/queue"
  export VMAIL_QUEUE="$T_TMP/queue" VMAIL_HOSTNAME=mx.test TCPREMOTEIP=192.0.2.1
  unset RELAYCLIENT VMAIL_SUBMISSION VMAIL_AUTH_PLAINTEXT VMAIL_DATABYTES VMAIL_MAXRCPT VMAIL_TIMEOUT VMAIL_GREETDELAY
}

setUp() { rm -f "$T_TMP"/q/* "$T_TMP/queue-exit"; }

# smtpd SCRIPT [VAR=value...]: the whole conversation in one write, as a
# pipelining client may; replies on stdout without CRs, log in $T_TMP/log
smtpd() {
  s=$1; shift
  printf "$s" | env "$@" "$SMTPD" 2>"$T_TMP/log" | tr -d '\r'
}

queued() { ls "$T_TMP"/q/*.env 2>/dev/null | while read -r f; do [ -s "$f" ] && echo "$f"; done | wc -l | tr -d ' '; }
last_msg() { ls "$T_TMP"/q/*.msg | tail -n 1 | xargs cat; }
last_env() { ls "$T_TMP"/q/*.env | tail -n 1 | xargs cat | tr '\0' '|'; }
b64() { printf "$1" | base64 -w0; }

HELO='EHLO client.test\r\n'
SMTPD=${T_SMTPD:-vmail-smtpd}   # T_SMTPD: another build, e.g. with sanitizers
PLAIN=$(printf '\0postmaster@example.com\0password' | base64 -w0)

testGreetingAndExtensions() {
  out=$(smtpd "${HELO}QUIT\r\n")
  assertEquals "220 mx.test ESMTP vmail" "$(echo "$out" | head -n 1)"
  for ext in PIPELINING 'SIZE 10240000' 8BITMIME SMTPUTF8 CHUNKING; do
    assertContains "$ext advertised" "$out" "250-$ext"
  done
  assertContains "$out" "250 ENHANCEDSTATUSCODES"
  assertNotContains "no AUTH without VMAIL_AUTH_PLAINTEXT" "$out" "AUTH"
  assertContains "$out" "221 2.0.0 mx.test closing connection"
  out=$(smtpd "${HELO}QUIT\r\n" VMAIL_AUTH_PLAINTEXT=1 VMAIL_DATABYTES=5000)
  assertContains "$out" "250-AUTH PLAIN LOGIN"
  assertContains "$out" "250-SIZE 5000"
}

testHeloHasNoExtensions() {
  out=$(smtpd 'HELO client.test\r\nQUIT\r\n')
  assertContains "$out" "250 mx.test"
  assertNotContains "$out" "PIPELINING"
  out=$(smtpd 'EHLO\r\nQUIT\r\n')
  assertContains "$out" "501 5.5.4"
}

testLocalMessageQueued() {
  out=$(smtpd "${HELO}MAIL FROM:<sender@example.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nSubject: hello\r\n\r\nbody line\r\n.\r\nQUIT\r\n")
  assertContains "$out" "250 2.1.0"
  assertContains "$out" "250 2.1.5"
  assertContains "$out" "354 "
  assertContains "$out" "250 2.0.0 Ok: queued as "
  assertEquals 1 "$(queued)"
  assertEquals "Fsender@example.org|Tpostmaster@example.com||" "$(last_env)"
  msg=$(last_msg)
  assertContains "$msg" "Received: from client.test ([192.0.2.1])"
  assertContains "$msg" "by mx.test (vmail-smtpd) with ESMTP id "
  assertContains "$msg" "for <postmaster@example.com>;"
  assertContains "$msg" "Subject: hello"
  assertContains "$msg" "body line"
  assertEquals "message stored with LF line ends" 0 "$(last_msg | grep -c "$(printf '\r')")"
}

testAliasAndNullSender() {
  out=$(smtpd "${HELO}MAIL FROM:<>\r\nRCPT TO:<alias@example.com>\r\nRCPT TO:<user2@EXAMPLE.COM>\r\nRCPT TO:<user2@example.com>\r\nDATA\r\nx\r\n.\r\n")
  assertContains "$out" "250 2.0.0 Ok: queued"
  assertEquals "duplicates once" "F|Talias@example.com|Tuser2@example.com||" "$(last_env)"
}

# RFC 5321 4.5.1: <postmaster> without a domain is always accepted
testBarePostmasterIsTheSitesPostmaster() {
  out=$(smtpd "${HELO}MAIL FROM:<a@b.example>\r\nRCPT TO:<PostMaster>\r\nDATA\r\nx\r\n.\r\n" VMAIL_POSTMASTER=postmaster@example.com)
  assertContains "$out" "250 2.1.5 Ok"
  assertContains "$out" "250 2.0.0 Ok: queued"
  assertEquals "Fa@b.example|Tpostmaster@example.com||" "$(last_env)"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.example>\r\nRCPT TO:<postmaster>\r\nQUIT\r\n" VMAIL_HOSTNAME=example.com)
  assertContains "default: postmaster@VMAIL_HOSTNAME" "$out" "250 2.1.5 Ok"
  out=$(smtpd "${HELO}MAIL FROM:<postmaster>\r\nQUIT\r\n")
  assertContains "not a reverse-path" "$out" "553"
}

testUnknownUser550() {
  out=$(smtpd "${HELO}MAIL FROM:<a@example.org>\r\nRCPT TO:<nobody@example.com>\r\nQUIT\r\n")
  assertContains "$out" "550 5.1.1 <nobody@example.com>"
  assertContains "$(cat "$T_TMP/log")" "reject ip=192.0.2.1 helo=client.test auth=- from=<a@example.org> to=<nobody@example.com> reason=nouser"
}

testDatabaseTroubleIs451NeverPermanent() {
  out=$(smtpd "${HELO}MAIL FROM:<a@example.org>\r\nRCPT TO:<postmaster@example.com>\r\nRCPT TO:<x@elsewhere.org>\r\nQUIT\r\n" \
        VMAIL_DB_SOCKET="$T_TMP/no-such.sock" VMAIL_DB_TIMEOUT=2)
  assertEquals "two temporary failures" 2 "$(echo "$out" | grep -c '^451 4.3.0')"
  assertNotContains "$out" "550"
  assertNotContains "$out" "554"
}

# One vmail-resolve for the whole session; one that dies is replaced at the
# next RCPT, and its RCPT gets a temporary failure.
testResolverKeptForSession() {
  printf '#!/bin/sh\necho start >> "%s/starts"\n[ "$(wc -l < "%s/starts")" -eq 1 ] && [ -e "%s/crash" ] && exit 1\nexec vmail-resolve\n' \
    "$T_TMP" "$T_TMP" "$T_TMP" > "$T_TMP/counting-resolve"
  chmod 755 "$T_TMP/counting-resolve"
  rm -f "$T_TMP/starts" "$T_TMP/crash"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nRCPT TO:<nobody@example.com>\r\nRSET\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<user2@example.com>\r\nRCPT TO:<u@elsewhere.org>\r\nQUIT\r\n" \
        VMAIL_RESOLVE="$T_TMP/counting-resolve")
  assertEquals 2 "$(echo "$out" | grep -c '^250 2.1.5')"
  assertContains "$out" "550 5.1.1"
  assertContains "$out" "554 5.7.1"
  assertEquals "one co-process for four RCPTs" 1 "$(wc -l < "$T_TMP/starts")"
  rm -f "$T_TMP/starts"; touch "$T_TMP/crash"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nRCPT TO:<postmaster@example.com>\r\nQUIT\r\n" \
        VMAIL_RESOLVE="$T_TMP/counting-resolve")
  assertContains "a dead co-process: try again" "$out" "451 4.3.0 <postmaster@example.com>"
  assertContains "a fresh one answers" "$out" "250 2.1.5"
  assertEquals 2 "$(wc -l < "$T_TMP/starts")"
}

testRelayDeniedWithoutTrust() {
  out=$(smtpd "${HELO}MAIL FROM:<a@example.org>\r\nRCPT TO:<u@elsewhere.org>\r\nDATA\r\nQUIT\r\n")
  assertContains "$out" "554 5.7.1 <u@elsewhere.org>: Relay access denied"
  assertContains "no recipient, no DATA" "$out" "554 5.5.1"
  assertEquals 0 "$(queued)"
}

testRelayClientMayRelay() {
  out=$(smtpd "${HELO}MAIL FROM:<a@example.org>\r\nRCPT TO:<u@elsewhere.org>\r\nRCPT TO:<nobody@example.com>\r\nDATA\r\nx\r\n.\r\n" RELAYCLIENT=)
  assertContains "$out" "250 2.1.5"
  assertContains "our unknown users stay unknown" "$out" "550 5.1.1"
  assertEquals "Fa@example.org|Tu@elsewhere.org||" "$(last_env)"
}

testAuthPlainAllowsRelayAndSaysESMTPA() {
  out=$(smtpd "${HELO}AUTH PLAIN $PLAIN\r\nMAIL FROM:<postmaster@example.com>\r\nRCPT TO:<u@elsewhere.org>\r\nDATA\r\nx\r\n.\r\n" VMAIL_AUTH_PLAINTEXT=1)
  assertContains "$out" "235 2.7.0"
  assertContains "$out" "250 2.0.0 Ok: queued"
  assertContains "$(last_msg)" "with ESMTPA id"
  assertContains "$(cat "$T_TMP/log")" "auth=postmaster@example.com"
  # the same, the response after a 334 prompt, and EHLO no longer offers AUTH
  out=$(smtpd "${HELO}AUTH PLAIN\r\n$PLAIN\r\nEHLO again\r\n" VMAIL_AUTH_PLAINTEXT=1)
  assertContains "$out" "334 "
  assertContains "$out" "235 2.7.0"
  assertEquals 1 "$(echo "$out" | grep -c AUTH)"
}

testAuthLogin() {
  out=$(smtpd "${HELO}AUTH LOGIN\r\n$(b64 user2@example.com)\r\n$(b64 password2)\r\nQUIT\r\n" VMAIL_AUTH_PLAINTEXT=1)
  assertContains "$out" "334 VXNlcm5hbWU6"
  assertContains "$out" "334 UGFzc3dvcmQ6"
  assertContains "$out" "235 2.7.0"
  out=$(smtpd "${HELO}AUTH LOGIN $(b64 user2@example.com)\r\n$(b64 password2)\r\nQUIT\r\n" VMAIL_AUTH_PLAINTEXT=1)
  assertContains "initial response" "$out" "235 2.7.0"
}

testAuthFailures() {
  out=$(smtpd "${HELO}AUTH PLAIN $(b64 '\0postmaster@example.com\0wrong')\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<u@elsewhere.org>\r\n" VMAIL_AUTH_PLAINTEXT=1)
  assertContains "$out" "535 5.7.8"
  assertContains "still not trusted" "$out" "554 5.7.1"
  out=$(smtpd "${HELO}AUTH PLAIN\r\n*\r\nAUTH PLAIN !!!!\r\nAUTH CRAM-MD5\r\n" VMAIL_AUTH_PLAINTEXT=1)
  assertContains "$out" "501 5.0.0"
  assertContains "$out" "501 5.5.2"
  assertContains "$out" "504 5.5.4"
  out=$(smtpd "${HELO}AUTH PLAIN $PLAIN\r\n")
  assertContains "no plain-text AUTH unless allowed" "$out" "538 5.7.11"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nAUTH PLAIN $PLAIN\r\n" VMAIL_AUTH_PLAINTEXT=1)
  assertContains "not inside a transaction" "$out" "503 5.5.1"
  assertNotContains "$(cat "$T_TMP/log")" "password"
}

testAuthEdgeCases() {
  out=$(smtpd "${HELO}AUTH\r\nAUTH PLAIN =\r\nAUTH PLAIN\r\n=\r\nAUTH LOGIN\r\n$(b64 user2@example.com)\r\n*\r\nAUTH LOGIN\r\n!!\r\nAUTH PLAIN $(b64 'user2@example.com\0postmaster@example.com\0password')\r\nQUIT\r\n" VMAIL_AUTH_PLAINTEXT=1)
  assertContains "no mechanism" "$out" "501 5.5.4 Syntax: AUTH"
  assertEquals "empty responses ('='), and an authzid that is not the user" 3 "$(echo "$out" | grep -c '^535 5.7.8')"
  assertContains "LOGIN cancelled at the password" "$out" "334 UGFzc3dvcmQ6
501 5.0.0"
  assertContains "LOGIN bad base64" "$out" "334 VXNlcm5hbWU6
501 5.5.2"
  assertNotContains "$out" "235"
  assertContains "$out" "221 2.0.0"
  log=$(cat "$T_TMP/log")
  assertEquals "one log line per failed AUTH" 3 "$(echo "$log" | grep -c '^vmail-smtpd: info: authfail ip=192.0.2.1 helo=client.test auth=- mech=PLAIN user=<[^ ]*> result=fail$')"
  assertContains "$log" "session ip=192.0.2.1 helo=client.test auth=- messages=0 errors=6 end=quit"
  # a wrong password is logged with the name tried, never the password
  out=$(smtpd "${HELO}AUTH LOGIN $(b64 user2@example.com)\r\n$(b64 Wr0ngSecret)\r\nQUIT\r\n" VMAIL_AUTH_PLAINTEXT=1)
  assertContains "$out" "535 5.7.8"
  assertContains "$(cat "$T_TMP/log")" "authfail ip=192.0.2.1 helo=client.test auth=- mech=LOGIN user=<user2@example.com> result=fail"
  assertNotContains "$(cat "$T_TMP/log")" "Wr0ngSecret"
}

testAuthFailuresCountAsErrors() {
  s=$HELO; i=0; while [ $i -lt 25 ]; do s="${s}AUTH PLAIN $(b64 '\0postmaster@example.com\0guess'$i)\r\n"; i=$((i + 1)); done
  out=$(smtpd "${s}AUTH PLAIN $PLAIN\r\n" VMAIL_AUTH_PLAINTEXT=1)
  assertEquals 20 "$(echo "$out" | grep -c '^535 5.7.8')"
  assertContains "$out" "421 4.7.0 Too many errors"
  assertNotContains "no more guesses after the limit" "$out" "235"
  assertContains "$(cat "$T_TMP/log")" "errors=20 end=errors"
}

# An address that has failed too often (vmail-checkpw(8)) is told so and
# the session ends: nothing more to try there.
testAuthBlockedAddressHangsUp() {
  out=$(smtpd "${HELO}AUTH PLAIN $(b64 '\0postmaster@example.com\0wrong')\r\nAUTH PLAIN $PLAIN\r\nNOOP\r\n" \
        VMAIL_AUTH_PLAINTEXT=1 TCPREMOTEIP=192.0.2.20 VMAIL_AUTH_FAILURES=1 VMAIL_AUTH_WINDOW=600)
  assertContains "$out" "535 5.7.8"
  assertContains "$out" "421 4.7.0 Too many failed logins from your address, try again later"
  assertNotContains "$out" "235"
  assertNotContains "$out" "250 2.0.0 Ok"
  assertContains "$(cat "$T_TMP/log")" "mech=PLAIN user=<postmaster@example.com> result=blocked"
  assertContains "$(cat "$T_TMP/log")" "end=authblocked"
}

testAuthDatabaseDownIsTemporary() {
  out=$(smtpd "${HELO}AUTH PLAIN $PLAIN\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<u@elsewhere.org>\r\nQUIT\r\n" \
        VMAIL_AUTH_PLAINTEXT=1 VMAIL_DB_SOCKET="$T_TMP/no-such.sock" VMAIL_DB_TIMEOUT=2)
  assertContains "$out" "454 4.7.0"
  assertNotContains "$out" "535"
  assertNotContains "$out" "235"
  assertContains "$(cat "$T_TMP/log")" "mech=PLAIN user=<postmaster@example.com> result=tempfail"
}

testSubmissionRequiresAuth() {
  out=$(smtpd "${HELO}MAIL FROM:<postmaster@example.com>\r\nAUTH PLAIN $PLAIN\r\nMAIL FROM:<postmaster@example.com>\r\nRCPT TO:<u@elsewhere.org>\r\n" \
        VMAIL_SUBMISSION=1 VMAIL_AUTH_PLAINTEXT=1 RELAYCLIENT=)
  assertContains "$out" "530 5.7.0"
  assertContains "$out" "235 2.7.0"
  assertContains "$out" "250 2.1.0"
  assertContains "$out" "250 2.1.5"
}

testCommandSequenceErrors() {
  out=$(smtpd 'MAIL FROM:<a@b.org>\r\n')
  assertContains "MAIL before EHLO" "$out" "503 5.5.1"
  out=$(smtpd "${HELO}RCPT TO:<postmaster@example.com>\r\nDATA\r\nMAIL FROM:<a@b.org>\r\nMAIL FROM:<a@b.org>\r\nDATA\r\nBDAT 3 LAST\r\nabcQUIT\r\n")
  assertEquals 3 "$(echo "$out" | grep -c '^503 5.5.1')"
  assertEquals "DATA, BDAT without recipients" 2 "$(echo "$out" | grep -c '^554 5.5.1')"
  assertContains "BDAT bytes skipped, QUIT still seen" "$out" "221 2.0.0"
}

testOtherCommands() {
  out=$(smtpd "${HELO}NOOP\r\nVRFY postmaster\r\nHELP\r\nEXPN list\r\nRSET\r\nSTARTTLS\r\nquit\r\n")
  assertContains "$out" "250 2.0.0 Ok"
  assertContains "$out" "252 2.5.0"
  assertContains "$out" "214 2.0.0"
  assertContains "$out" "502 5.5.1 Error: EXPN"
  assertContains "$out" "502 5.5.1 Error: STARTTLS"
  assertContains "lowercase verbs" "$out" "221 2.0.0"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRSET now\r\nVRFY\r\nQUIT please\r\nRCPT TO:<postmaster@example.com>\r\nQUIT\r\n")
  assertContains "$out" "501 5.5.4 Syntax: RSET"
  assertContains "$out" "501 5.5.4 Syntax: VRFY"
  assertContains "$out" "501 5.5.4 Syntax: QUIT"
  assertContains "no RSET happened, no QUIT either" "$out" "250 2.1.5"
  assertContains "$out" "221 2.0.0"
}

testRsetEndsTransaction() {
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nRSET\r\nDATA\r\nMAIL FROM:<c@d.org>\r\n")
  assertContains "$out" "503 5.5.1 Error: need MAIL"
  assertEquals 2 "$(echo "$out" | grep -c '^250 2.1.0')"
}

# RFC 2920: the replies to a group of commands go out together, once the
# group has been read; here the RCPT check takes a second (a slow resolver),
# and the EHLO and MAIL replies wait for it instead of going out at once.
testPipelinedRepliesBatched() {
  printf '#!/bin/sh\nsleep 1\nexec vmail-resolve\n' > "$T_TMP/slow-resolve"
  chmod 755 "$T_TMP/slow-resolve"
  # prints each reply line as "WRITE SECONDS LINE": WRITE counts our reads
  out=$(VMAIL_RESOLVE="$T_TMP/slow-resolve" python3 -c '
import os, subprocess, sys, time
p = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
out = p.stdout.fileno()
t0 = time.monotonic()
def chunk():
    return os.read(out, 65536)
greeting = chunk()
p.stdin.write(b"EHLO client.test\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\n")
p.stdin.flush()
n, b = 1, chunk()
while b:
    for l in b.decode().split("\r\n")[:-1]: print("%d %.1f %s" % (n, time.monotonic() - t0, l))
    if b"2.1.5" in b: p.stdin.write(b"QUIT\r\n"); p.stdin.close()
    n, b = n + 1, chunk()
' "$SMTPD")
  ehlo=$(echo "$out" | grep ' 250-PIPELINING$' | cut -d' ' -f1,2)
  mail=$(echo "$out" | grep ' 250 2.1.0' | cut -d' ' -f1,2)
  rcpt=$(echo "$out" | grep ' 250 2.1.5' | cut -d' ' -f1,2)
  assertEquals "EHLO and RCPT replies in one write" "$rcpt" "$ehlo"
  assertEquals "MAIL and RCPT replies in one write" "$rcpt" "$mail"
  assertTrue "sent after the RCPT check ($rcpt)" "[ '${rcpt#* }' != 0.0 ]"
  assertContains "$out" "221 2.0.0"
}

# Two whole transactions in one write: the end of one body (CRLF.CRLF or the
# last BDAT chunk) is followed at once by the next commands.
testPipelinedMessagesBackToBack() {
  out=$(smtpd "${HELO}MAIL FROM:<one@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nSubject: one\r\n.\r\nMAIL FROM:<two@b.org>\r\nRCPT TO:<user2@example.com>\r\nBDAT 14 LAST\r\nSubject: two\r\nMAIL FROM:<three@b.org>\r\nRCPT TO:<alias@example.com>\r\nDATA\r\nSubject: three\r\n.\r\nQUIT\r\n")
  assertEquals 3 "$(echo "$out" | grep -c '^250 2.0.0 Ok: queued as')"
  assertContains "$out" "221 2.0.0"
  assertEquals 3 "$(queued)"
  envs=$(cat "$T_TMP"/q/*.env | tr '\0' '|')
  for e in "Fone@b.org|Tpostmaster@example.com||" "Ftwo@b.org|Tuser2@example.com||" "Fthree@b.org|Talias@example.com||"; do
    assertContains "$envs" "$e"
  done
  for n in one two three; do
    assertEquals "Subject: $n alone in its message" 1 "$(grep -l "^Subject: " "$T_TMP"/q/*.msg | xargs grep -l "^Subject: $n\$" | wc -l)"
  done
}

testSyntaxErrors() {
  out=$(smtpd "${HELO}MAIL FROM:a@b.org\r\nMAIL FROM:<a@>\r\nMAIL FROM:<a@b.org> FOO=bar\r\nMAIL TO:<a@b.org>\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<bad address>\r\nRCPT TO:<>\r\nRCPT TO:<postmaster@example.com> NOTIFY=NEVER\r\nDATA x\r\n")
  assertEquals 2 "$(echo "$out" | grep -c '^501 5.5.4 Syntax: MAIL')"
  assertContains "$out" "553 5.1.7"
  assertContains "$out" "555 5.5.4 Unsupported MAIL parameter"
  assertEquals 2 "$(echo "$out" | grep -c '^553 5.1.3')"
  assertContains "$out" "555 5.5.4 Unsupported RCPT parameter"
  assertContains "$out" "501 5.5.4 Syntax: DATA"
}

testSourceRouteAndParameters() {
  out=$(smtpd "${HELO}MAIL FROM:<@relay.org:a@b.org> SIZE=100 BODY=8BITMIME AUTH=<>\r\nRCPT TO: <@x.org,@y.org:postmaster@example.com>\r\nDATA\r\n8bit: \303\251\r\n.\r\n")
  assertContains "$out" "250 2.0.0 Ok: queued"
  assertEquals "Fa@b.org|Tpostmaster@example.com||" "$(last_env)"
  assertContains "$(last_msg)" "$(printf '8bit: \303\251')"
}

testSmtputf8() {
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<j\303\266rg@example.com>\r\nRSET\r\nMAIL FROM:<j\303\266rg@b.org> SMTPUTF8\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nx\r\n.\r\n")
  assertContains "non-ASCII needs SMTPUTF8" "$out" "553 5.6.7"
  assertContains "$out" "250 2.0.0 Ok: queued"
  assertContains "$(last_msg)" "with UTF8SMTP id"
}

testMaxRecipients() {
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nRCPT TO:<user2@example.com>\r\nRCPT TO:<alias@example.com>\r\nDATA\r\nx\r\n.\r\n" VMAIL_MAXRCPT=2)
  assertContains "$out" "452 4.5.3"
  assertEquals "Fa@b.org|Tpostmaster@example.com|Tuser2@example.com||" "$(last_env)"
}

testSizeLimits() {
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org> SIZE=1001\r\nMAIL FROM:<a@b.org> SIZE=123456789012345678901234567890\r\nQUIT\r\n" VMAIL_DATABYTES=1000)
  assertEquals "SIZE above the limit, even above 2^64" 2 "$(echo "$out" | grep -c '^552 5.3.4')"
  make_message "$T_TMP/big" 3000
  body=$(sed 's/$/\\r/' < "$T_TMP/big" | tr -d '\n' | sed 's/\\r/\\r\\n/g; s/\r//g')
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\n${body}.\r\nNOOP\r\n" VMAIL_DATABYTES=1000)
  assertContains "$out" "354 "
  assertContains "answered after the whole message" "$out" "552 5.3.4"
  assertContains "and the session goes on" "$(echo "$out" | tail -n 1)" "250 2.0.0 Ok"
  assertEquals 0 "$(queued)"
  assertContains "$(cat "$T_TMP/log")" "result=toobig"
}

testLongLines() {
  long=$(head -c 3000 /dev/zero | tr '\0' x)
  out=$(smtpd "${HELO}NOOP $long\r\nNOOP\r\n")
  assertContains "$out" "500 5.5.2 Error: line too long"
  assertContains "$(echo "$out" | tail -n 1)" "250 2.0.0"
  out=$({ printf "$HELO"; head -c 200000 /dev/zero | tr '\0' x; printf '\r\nNOOP\r\n'; } | "$SMTPD" 2>/dev/null | tr -d '\r')
  assertContains "endless lines end the session" "$out" "421 4.7.0"
}

testTooManyErrorsDisconnects() {
  s=$HELO; i=0; while [ $i -lt 30 ]; do s="${s}MAIL FROM:broken\r\n"; i=$((i + 1)); done
  out=$(smtpd "${s}NOOP\r\n")
  assertEquals 20 "$(echo "$out" | grep -c '^501')"
  assertContains "$out" "421 4.7.0 Too many errors"
  assertNotContains "$out" "250 2.0.0"
  out=$(smtpd "${HELO}FOO\r\nBAR\r\nBAZ\r\nGET / HTTP/1.0\r\nPOST\r\nNOOP\r\n")
  assertContains "$out" "421 4.7.0 Too many unrecognized commands"
  assertEquals 4 "$(echo "$out" | grep -c '^500 5.5.2')"
}

testTimeout() {
  out=$({ printf "${HELO}"; sleep 3; printf 'NOOP\r\n'; } | VMAIL_TIMEOUT=1 "$SMTPD" 2>"$T_TMP/log" | tr -d '\r')
  assertContains "$out" "421 4.4.2"
  assertNotContains "$out" "250 2.0.0 Ok"
  assertContains "$(cat "$T_TMP/log")" "end=timeout"
}

# Before MAIL the shorter VMAIL_IDLE_TIMEOUT holds; inside a transaction
# VMAIL_TIMEOUT (the client's silence is what is tested: sleep is the input).
testIdleTimeoutShorterBeforeMail() {
  out=$({ printf "${HELO}"; sleep 3; printf 'NOOP\r\n'; } | VMAIL_IDLE_TIMEOUT=1 VMAIL_TIMEOUT=30 "$SMTPD" 2>"$T_TMP/log" | tr -d '\r')
  assertContains "idle before MAIL" "$out" "421 4.4.2"
  assertNotContains "$out" "250 2.0.0 Ok"
  assertContains "$(cat "$T_TMP/log")" "end=timeout"
  out=$({ printf "${HELO}MAIL FROM:<a@b.org>\r\n"; sleep 3; printf 'RSET\r\nQUIT\r\n'; } | VMAIL_IDLE_TIMEOUT=1 VMAIL_TIMEOUT=30 "$SMTPD" 2>"$T_TMP/log" | tr -d '\r')
  assertNotContains "a transaction waits VMAIL_TIMEOUT" "$out" "421"
  assertContains "$out" "221 2.0.0"
  out=$(printf 'QUIT\r\n' | VMAIL_IDLE_TIMEOUT=x "$SMTPD" 2>&1)
  assertContains "$out" "bad VMAIL_IDLE_TIMEOUT"
}

# held SECONDS SCRIPT [VAR=value...]: the script is sent and the client's side
# stays open; prints what the server said once it hung up, fails if it did
# not within SECONDS.
held() {
  secs=$1 s=$2; shift 2
  env "$@" python3 - "$secs" "$s" "$SMTPD" 2>"$T_TMP/log" <<'PY'
import os, select, subprocess, sys, time
secs, script, prog = float(sys.argv[1]), sys.argv[2], sys.argv[3]
data = subprocess.run(["printf", script], capture_output=True).stdout
p = subprocess.Popen([prog], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
p.stdin.write(data); p.stdin.flush()            # and keep it open
out, deadline = b"", time.time() + secs
while time.time() < deadline:
    if select.select([p.stdout], [], [], deadline - time.time())[0]:
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk: break
        out += chunk
sys.stdout.write(out.decode("latin-1").replace("\r", ""))
closed = time.time() < deadline
p.kill(); p.wait()
sys.exit(0 if closed else 1)
PY
}

# BDAT 9999999999999999999 cannot be a message: it is refused at once and
# the connection closed, not read until VMAIL_TIMEOUT.
testHugeBdatHangsUpAtOnce() {
  out=$(held 20 "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nBDAT 9999999999999999999 LAST\r\nabc")
  assertTrue "the server hung up" $?
  assertContains "$out" "552 5.3.4 Message size exceeds fixed maximum message size, closing connection"
  assertContains "$(cat "$T_TMP/log")" "end=toobig"
  out=$(held 20 "${HELO}BDAT 9999999999999999999\r\n")
  assertTrue "outside a transaction too" $?
  assertContains "$out" "552 5.3.4"
  assertEquals 0 "$(queued)"
}

# NUL is refused, not stripped (vmail-smtpd(8)): in DATA and in BDAT.
testNulRefused() {
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nSubject: x\r\n\r\na\000b\r\n.\r\nQUIT\r\n")
  assertContains "$out" "554 5.6.0 Message refused: NUL character"
  assertContains "$(cat "$T_TMP/log")" "result=nul"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nBDAT 5 LAST\r\na\000b\r\nQUIT\r\n")
  assertContains "$out" "554 5.6.0 Message refused: NUL character"
  assertEquals 0 "$(queued)"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nSubject: x\r\n\r\nab\r\n.\r\nQUIT\r\n")
  assertEquals "without NUL it is queued" 1 "$(queued)"
}

testEarlyTalkerRefused() {
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\n" VMAIL_GREETDELAY=300)
  assertContains "$out" "554 5.5.0"
  assertNotContains "$out" "220 "
  assertNotContains "$out" "250"
  # a client that waits for the greeting is served
  out=$( (sleep 0.6; printf "${HELO}QUIT\r\n") | VMAIL_GREETDELAY=300 "$SMTPD" 2>/dev/null | tr -d '\r')
  assertContains "$out" "220 mx.test"
  assertContains "$out" "221 2.0.0"
}

# Each sequence that some servers take for the end of DATA, followed by a
# second, smuggled message: only CRLF.CRLF ends DATA, and bare CR/LF is refused.
testSmugglingProbes() {
  for seq in '\n.\n' '\r\n.\n' '\n.\r\n' '\r.\r' '\r\n.\r' '\r.\r\n' '\n.\r\r\n'; do
    rm -f "$T_TMP"/q/*
    out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nSubject: first\r\n\r\nfirst${seq}MAIL FROM:<evil@b.org>\r\nRCPT TO:<user2@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\nQUIT\r\n")
    assertEquals "$seq: one DATA" 1 "$(echo "$out" | grep -c '^354')"
    assertEquals "$seq: one MAIL" 1 "$(echo "$out" | grep -c '^250 2.1.0')"
    assertContains "$seq: refused" "$out" "554 5.6.0"
    assertEquals "$seq: nothing queued" 0 "$(queued)"
  done
}

testBareLineEndsRefused() {
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nbare\nlf\r\n.\r\n")
  assertContains "$out" "554 5.6.0"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nbare\rcr\r\n.\r\n")
  assertContains "$out" "554 5.6.0"
  assertEquals 0 "$(queued)"
}

testDotUnstuffingExact() {
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\n..\r\n...x\r\n.y\r\na.\r\n. \r\n\r\n..\r\n.\r\n")
  assertContains "$out" "250 2.0.0 Ok: queued"
  body=$(last_msg | sed '1,3d')
  assertEquals "$(printf '.\n..x\ny\na.\n \n\n.')" "$body"
}

testEmptyMessage() {
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\n.\r\n")
  assertContains "$out" "250 2.0.0 Ok: queued"
  assertEquals 3 "$(last_msg | wc -l)"
}

testBdatChunks() {
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nBDAT 16\r\nSubject: c\r\n\r\nabBDAT 6 LAST\r\nc\r\n.\r\nDATA\r\nQUIT\r\n")
  assertContains "$out" "250 2.0.0 16 octets received"
  assertContains "$out" "250 2.0.0 Ok: queued"
  assertEquals "$(printf 'Subject: c\n\nabc\n.')" "$(last_msg | sed '1,3d')"
  assertContains "transaction over" "$out" "503 5.5.1 Error: need MAIL"
  rm -f "$T_TMP"/q/*
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nBDAT 5\r\nend\r\nBDAT 0 LAST\r\nQUIT\r\n")
  assertContains "$out" "250 2.0.0 5 octets received"
  assertContains "BDAT 0 LAST ends it" "$out" "250 2.0.0 Ok: queued"
  assertEquals "end" "$(last_msg | sed '1,3d')"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nBDAT 3\r\nabcDATA\r\nBDAT x\r\nNOOP\r\n")
  assertContains "DATA after BDAT" "$out" "503 5.5.1 Error: DATA after BDAT"
  assertContains "$out" "501 5.5.4 Syntax: BDAT"
  assertNotContains "$out" "250 2.0.0 Ok"
  rm -f "$T_TMP"/q/*
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nBDAT 600\r\n$(head -c 600 /dev/zero | tr '\0' x)BDAT 1 LAST\r\nyRSET\r\n" VMAIL_DATABYTES=500)
  assertContains "$out" "552 5.3.4"
  assertContains "later chunks refused" "$out" "503 5.5.1"
  assertEquals 0 "$(queued)"
}

testDisconnectMidDataLeavesNothing() {
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nSubject: cut\r\n\r\nhalf a mess")
  assertContains "$out" "354 "
  assertNotContains "$out" "queued"
  assertEquals "the queue got no envelope" 0 "$(queued)"
  assertContains "$(cat "$T_TMP/log")" "end=disconnect"
  assertContains "the message is logged too" "$(cat "$T_TMP/log")" "from=<a@b.org> nrcpt=1 to=<postmaster@example.com> size=25 result=aborted code=-"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nBDAT 100\r\nshort")
  assertEquals 0 "$(queued)"
  assertContains "$(cat "$T_TMP/log")" "result=aborted"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nBDAT 5\r\nfirstBDAT 5\r\nsecon")
  assertEquals "after a whole chunk, too" 0 "$(queued)"
  assertEquals 1 "$(grep -c 'result=aborted' "$T_TMP/log")"
}

testQueueFailures() {
  echo 71 > "$T_TMP/queue-exit"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nx\r\n.\r\n")
  assertContains "$out" "451 4.3.0"
  assertNotContains "$out" "queued as"
  echo 31 > "$T_TMP/queue-exit"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nx\r\n.\r\n")
  assertContains "$out" "554 5.3.0"
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nx\r\n.\r\n" VMAIL_QUEUE=/nonexistent/queue)
  assertContains "$out" "451 4.3.0"
}

testHungQueueProgramKilledAfterTimeout() {
  # a filter chain that takes the message and never exits: killed, with the
  # program it started, after VMAIL_TIMEOUT; the client gets 451, not a hang
  cat > "$T_TMP/hungqueue" <<'Q'
#!/bin/sh
cat > /dev/null; cat <&1 > /dev/null
sleep 120 &
echo $! > "$(dirname "$0")/hung.pid"
wait
Q
  chmod 755 "$T_TMP/hungqueue"
  rm -f "$T_TMP/hung.pid"
  start=$(date +%s)
  out=$(smtpd "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nx\r\n.\r\nNOOP\r\nQUIT\r\n" VMAIL_QUEUE="$T_TMP/hungqueue" VMAIL_TIMEOUT=2)
  took=$(( $(date +%s) - start ))
  assertContains "$out" "451 4.3.0"
  assertNotContains "$out" "queued as"
  assertContains "the session goes on" "$out" "221 2.0.0"
  assertTrue "answered after about VMAIL_TIMEOUT, took ${took}s" "[ $took -ge 1 ] && [ $took -le 10 ]"
  assertContains "$(cat "$T_TMP/log")" "has not exited within VMAIL_TIMEOUT"
  sleep 0.2   # dead or a zombie (this machine's init may not reap it)
  state=$(ps -o stat= -p "$(cat "$T_TMP/hung.pid")")
  assertTrue "what it started is killed too (state '$state')" "[ -z '$state' ] || [ '${state%${state#?}}' = Z ]"
}

testBuiltInQueueWithoutVmailQueueSet() {
  # VMAIL_QUEUE unset: vmail-queue's own code queues the message, in a child
  # of the session (no exec), durably under VMAIL_QUEUE_DIR
  q=$T_TMP/realq
  rm -rf "$q"
  out=$(printf "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<alias@example.com>\r\nDATA\r\nSubject: built in\r\n\r\nbody\r\n.\r\nQUIT\r\n" |
    env -u VMAIL_QUEUE VMAIL_QUEUE_DIR="$q" "$SMTPD" 2>"$T_TMP/log" | tr -d '\r')
  assertContains "$out" "250 2.0.0 Ok: queued as"
  assertEquals "one message queued" 1 "$(ls "$q/env" | wc -l)"
  id=$(ls "$q/env")
  assertEquals "its envelope" "Fa@b.org|Talias@example.com||" "$(tr '\0' '|' < "$q/env/$id")"
  assertTrue "vmail-queue's Received line, then the session's" "head -n 2 '$q/mess/$id' | grep -q 'Received: (vmail-queue [0-9]* invoked from network'"
  assertTrue "the message" "grep -q '^Subject: built in' '$q/mess/$id'"
  assertEquals "nothing left in tmp/" 0 "$(ls "$q/tmp" | wc -l)"
  # a message the client abandons leaves nothing behind
  printf "${HELO}MAIL FROM:<a@b.org>\r\nRCPT TO:<alias@example.com>\r\nDATA\r\nSubject: cut\r\n" |
    env -u VMAIL_QUEUE VMAIL_QUEUE_DIR="$q" "$SMTPD" >/dev/null 2>&1
  assertEquals "still one message" 1 "$(ls "$q/env" | wc -l)"
  assertEquals "no litter in tmp/" 0 "$(ls "$q/tmp" | wc -l)"
}

testLogLines() {
  smtpd "${HELO}MAIL FROM:<s@example.org>\r\nRCPT TO:<postmaster@example.com>\r\nRCPT TO:<alias@example.com>\r\nDATA\r\nhello\r\n.\r\nQUIT\r\n" TCPREMOTEHOST=client.example.org >/dev/null
  log=$(cat "$T_TMP/log")
  assertContains "$log" "message id="
  assertTrue "the queue process, whose pid ends vmail-queue's id" "echo '$log' | grep -q 'message id=[0-9]*\.[0-9]*\.1 qp=[1-9][0-9]* ip='"
  assertContains "$log" "ip=192.0.2.1 helo=client.test auth=- from=<s@example.org> nrcpt=2 to=<postmaster@example.com>,<alias@example.com> size=6 result=accepted code=250"
  assertContains "$log" "session ip=192.0.2.1 helo=client.test auth=- messages=1 errors=0 end=quit"
  assertNotContains "no message content in logs" "$log" "hello"
  assertContains "$(last_msg)" "(client.example.org [192.0.2.1])"
}

testUsage() {
  "$SMTPD" -x </dev/null >/dev/null 2>&1
  assertEquals 100 $?
}

. shunit2
