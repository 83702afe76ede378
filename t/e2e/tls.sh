#!/bin/sh
# TLS end to end on a whole private instance (`make run`'s): swaks, Python's
# smtplib / imaplib / poplib, openssl s_client, mutt and fetchmail, all
# verifying the instance's certificate against its CA (VMAIL_TLS_CA), on the
# STARTTLS ports (25, 587, 143, 110) and the implicit ones (465, 993, 995);
# and what must not happen: a command pipelined after STARTTLS executed,
# STARTTLS twice, AUTH before TLS on 587, TLS 1.1.
T_PORT_BASE=${T_PORT_BASE:-19000}
. "$T_TOP/t/lib/common.sh"
. "$T_TOP/t/lib/e2e.sh"

oneTimeSetUp() { e2e_start; BOX=$VMAIL_ROOT/example.com/postmaster; }
oneTimeTearDown() { e2e_stop; rm -rf "$T_TMP"; }

mails() { echo $(($(count_files "$BOX/new") + $(count_files "$BOX/cur"))); }
# the newest delivered message with Subject $1
message() { grep -l "^Subject: $1\$" "$BOX"/new/* "$BOX"/cur/* 2>/dev/null | tail -n 1 | xargs cat; }
# in_log SERVICE PATTERN: the line reaches the service's log (s6-log writes
# it a moment later), within 10 s
in_log() {
  i=0; until grep -q "$2" "$VMAIL_LOGDIR/$1/current" 2>/dev/null; do i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.1; done
}
swaks_v() { swaks --server 127.0.0.1 --timeout 30 --tls-verify --tls-ca-path "$VMAIL_TLS_CA" "$@"; }

# py SCRIPT: Python with ctx (verifying against the instance's CA), the
# ports and the password
py() {
  python3 -c "
import imaplib, os, poplib, smtplib, socket, ssl, time
ctx = ssl.create_default_context(cafile='$VMAIL_TLS_CA')
SMTP, SUB, SUBS, IMAP, IMAPS, POP3, POP3S = $E2E_SMTP, $E2E_SUBMISSION, $E2E_SUBMISSIONS, $E2E_IMAP, $E2E_IMAPS, $E2E_POP3, $E2E_POP3S
USER, PASS = 'postmaster@example.com', '$E2E_PASSWORD'
$1" 2>&1
}

testSwaksStarttlsOn25() {
  before=$(mails)
  out=$(swaks_v --port "$E2E_SMTP" --tls --from a@example.org --to postmaster@example.com --header "Subject: tls on 25" 2>&1)
  assertEquals "swaks --tls on 25" 0 $?
  wait_for_mail $((before + 1)) 20 "$BOX"
  msg=$(message "tls on 25")
  assertContains "the Received header has version and cipher" "$msg" "(using TLSv1.3 with cipher TLS_"
  assertContains "$msg" "with ESMTPS id"
  assertTrue "log line with tls=" "in_log smtpd 'result=accepted code=250 tls=TLSv1.3:TLS_'"
}

testSwaksSubmissionAuthOnlyAfterTls() {
  out=$(swaks --server 127.0.0.1 --port "$E2E_SUBMISSION" --quit-after EHLO 2>&1)
  assertContains "$out" "250-STARTTLS"
  assertNotContains "no AUTH in the clear" "$out" "AUTH PLAIN"
  out=$(swaks --server 127.0.0.1 --port "$E2E_SUBMISSION" --auth PLAIN --auth-user postmaster@example.com \
        --auth-password "$E2E_PASSWORD" --from postmaster@example.com --to postmaster@example.com 2>&1)
  assertNotEquals "AUTH refused in the clear" 0 $?
  before=$(mails)
  out=$(swaks_v --port "$E2E_SUBMISSION" --tls --auth PLAIN --auth-user postmaster@example.com \
        --auth-password "$E2E_PASSWORD" --from postmaster@example.com --to postmaster@example.com --header "Subject: tls on 587" 2>&1)
  assertEquals "swaks --tls --auth on 587" 0 $?
  assertContains "$out" "235 2.7.0"
  wait_for_mail $((before + 1)) 20 "$BOX"
  assertContains "$(message "tls on 587")" "with ESMTPSA id"
}

testSwaksTlsOnConnect465() {
  before=$(mails)
  out=$(swaks_v --port "$E2E_SUBMISSIONS" --tls-on-connect --auth LOGIN --auth-user postmaster@example.com \
        --auth-password "$E2E_PASSWORD" --from postmaster@example.com --to postmaster@example.com --header "Subject: tls on 465" 2>&1)
  assertEquals "swaks --tls-on-connect on 465" 0 $?
  assertNotContains "no STARTTLS inside TLS" "$out" "250-STARTTLS"
  wait_for_mail $((before + 1)) 20 "$BOX"
  assertContains "$(message "tls on 465")" "(using TLSv1.3 with cipher"
}

testSmtplibStarttlsAndSmtpSsl() {
  before=$(mails)
  out=$(py "
s = smtplib.SMTP('127.0.0.1', SUB); s.ehlo('py.test')
print('clear auth', s.has_extn('auth'))
s.starttls(context=ctx); s.ehlo('py.test')
print('tls auth', s.has_extn('auth'), 'starttls', s.has_extn('starttls'))
s.login(USER, PASS)
s.sendmail(USER, [USER], 'Subject: smtplib starttls\r\n\r\nhello\r\n'); s.quit()
s = smtplib.SMTP_SSL('127.0.0.1', SUBS, context=ctx)
s.login(USER, PASS)
s.sendmail(USER, [USER], 'Subject: smtplib ssl\r\n\r\nhello\r\n'); s.quit()
print('sent')")
  assertContains "$out" "clear auth False"
  assertContains "$out" "tls auth True starttls False"
  assertContains "$out" "sent"
  wait_for_mail $((before + 2)) 20 "$BOX"
}

testImaplibSslAndStarttls() {
  out=$(py "
m = imaplib.IMAP4_SSL('127.0.0.1', IMAPS, ssl_context=ctx)
print('ssl caps', 'AUTH=PLAIN' in m.capabilities, 'STARTTLS' in m.capabilities)
print(m.login(USER, PASS)[0], m.select('INBOX')[0]); m.logout()
m = imaplib.IMAP4('127.0.0.1', IMAP)
print('clear caps', 'LOGINDISABLED' in m.capabilities, 'STARTTLS' in m.capabilities)
m.starttls(ssl_context=ctx)
print(m.login(USER, PASS)[0]); m.logout()")
  assertContains "$out" "ssl caps True False"
  assertContains "$out" "OK OK"
  assertContains "$out" "clear caps True True"
}

testPoplibSslAndStls() {
  out=$(py "
p = poplib.POP3_SSL('127.0.0.1', POP3S, context=ctx)
print('ssl', 'STLS' in p.capa(), p.user(USER)[:3], p.pass_(PASS)[:3]); p.quit()
p = poplib.POP3('127.0.0.1', POP3)
print('clear', 'STLS' in p.capa(), 'USER' in p.capa())
p.stls(context=ctx)
print('stls', p.user(USER)[:3], p.pass_(PASS)[:3]); p.quit()")
  assertContains "$out" "ssl False b'+OK' b'+OK'"
  assertContains "$out" "clear True False"
  assertContains "$out" "stls b'+OK' b'+OK'"
}

testOpensslStarttlsEveryProtocol() {
  for x in "smtp $E2E_SMTP" "smtp $E2E_SUBMISSION" "imap $E2E_IMAP" "pop3 $E2E_POP3"; do
    set -- $x
    echo | timeout 20 openssl s_client -starttls "$1" -connect "127.0.0.1:$2" -CAfile "$VMAIL_TLS_CA" \
      -verify_return_error -verify_ip 127.0.0.1 >"$T_TMP/s_client" 2>&1
    assertTrue "openssl -starttls $1 on $2 verified" "grep -q 'Verify return code: 0 (ok)' '$T_TMP/s_client'"
  done
}

testTls11Refused() {
  # SECLEVEL=0: this client surely offers TLS 1.1; the server says no
  for x in "$E2E_SUBMISSIONS submissions" "$E2E_IMAPS imaps" "$E2E_POP3S pop3s"; do
    set -- $x
    echo | timeout 20 openssl s_client -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -connect "127.0.0.1:$1" >"$T_TMP/s_client" 2>&1
    assertNotEquals "no TLS 1.1 session on $1" 0 $?
    assertTrue "the server refused it ($2)" "in_log $2 'tls fail ip=127.0.0.1 error=.*unsupported protocol'"
  done
}

testMuttOverImaps() {
  cat > "$T_TMP/muttrc" <<RC
set imap_user="postmaster@example.com"
set imap_pass="$E2E_PASSWORD"
set ssl_ca_certificates_file="$VMAIL_TLS_CA"
set ssl_force_tls=yes
set folder="imaps://127.0.0.1:$E2E_IMAPS/"
set spoolfile="+INBOX"
set header_cache=""
set message_cachedir=""
set wait_key=no
set sort=date
RC
  swaks_v --port "$E2E_SMTP" --tls --from a@example.org --to postmaster@example.com \
    --header "Subject: for mutt over imaps" --body "read through TLS" >/dev/null 2>&1
  wait_until_subject "for mutt over imaps"
  rm -f "$T_TMP/mutt.msg"
  TERM=vt100 timeout 30 script -qec "mutt -n -F '$T_TMP/muttrc' -e 'push \"<limit>~s imaps<enter><last-entry><pipe-message>cat > $T_TMP/mutt.msg<enter><quit>\"'" /dev/null \
    >"$T_TMP/mutt.screen" 2>&1
  assertTrue "mutt read the message over IMAPS (see $T_TMP/mutt.screen)" "grep -q 'read through TLS' '$T_TMP/mutt.msg'"
}

wait_until_subject() {
  i=0; until grep -qs "^Subject: $1\$" "$BOX"/new/* "$BOX"/cur/*; do i=$((i + 1)); [ $i -lt 200 ] || return 1; sleep 0.1; done
}

testFetchmailOverPop3s() {
  swaks_v --port "$E2E_SMTP" --tls --from a@example.org --to postmaster@example.com \
    --header "Subject: for fetchmail over pop3s" >/dev/null 2>&1
  wait_until_subject "for fetchmail over pop3s"
  : > "$T_TMP/fetched"
  cat > "$T_TMP/fetchmailrc" <<RC
poll 127.0.0.1 protocol pop3 port $E2E_POP3S auth password
  user "postmaster@example.com" password "$E2E_PASSWORD"
  ssl sslproto tls1.2+ sslcertck sslcommonname localhost sslcertfile "$VMAIL_TLS_CA"
  keep
  mda "cat >> $T_TMP/fetched"
RC
  chmod 600 "$T_TMP/fetchmailrc"
  HOME=$T_TMP fetchmail -f "$T_TMP/fetchmailrc" --nosyslog -a >"$T_TMP/fetchmail.out" 2>&1
  assertEquals "fetchmail over POP3S (see $T_TMP/fetchmail.out)" 0 $?
  assertTrue "fetched" "grep -q '^Subject: for fetchmail over pop3s' '$T_TMP/fetched'"
}

# CVE-2011-0411: a command sent in the clear right behind STARTTLS must not
# be answered under TLS. The client's first reply under TLS must be its EHLO's.
testPipelinedAfterStarttlsNotExecuted() {
  out=$(py "
s = socket.create_connection(('127.0.0.1', SMTP), timeout=20)
f = s.makefile('rb'); f.readline()
s.sendall(b'EHLO inject.test\r\n')
while not f.readline().startswith(b'250 '): pass
s.sendall(b'STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n')
print('starttls', f.readline().decode().strip())
try:
    t = ctx.wrap_socket(s, server_hostname='localhost')
    t.sendall(b'EHLO after.test\r\n')
    time.sleep(0.5)
    t.settimeout(2)
    data = b''
    try:
        while True:
            b = t.recv(4096)
            if not b: break
            data += b
    except (socket.timeout, TimeoutError): pass
    print('first', data.split(b'\r\n')[0].decode())
    print('injected answered', b'2.1.0' in data or b'503' in data)
except ssl.SSLError as e:
    print('handshake refused', e)")
  assertContains "$out" "starttls 220 2.0.0 Ready to start TLS"
  assertNotContains "$out" "injected answered True"
  case $out in
    *"handshake refused"*) ;;
    *) assertContains "the first reply under TLS is EHLO's" "$out" "first 250-" ;;
  esac
  assertFalse "the injected MAIL left no trace" "grep -q 'injected@example.org' '$VMAIL_LOGDIR/smtpd/current'"
}

testStarttlsTwiceAndEhloAgain() {
  out=$(py "
s = smtplib.SMTP('127.0.0.1', SMTP); s.ehlo('twice.test')
s.starttls(context=ctx)
print('mail before ehlo', s.docmd('MAIL FROM:<a@example.org>')[0])
s.ehlo('twice.test')
print('second starttls', s.docmd('STARTTLS'))
s.quit()")
  assertContains "EHLO required again after STARTTLS" "$out" "mail before ehlo 503"
  assertContains "$out" "second starttls (503, b'5.5.1 Error: TLS already active')"
}

testAuthBeforeTlsRefusedOn587() {
  out=$(py "
s = smtplib.SMTP('127.0.0.1', SUB); s.ehlo('early.test')
print(s.docmd('AUTH PLAIN', 'AHBvc3RtYXN0ZXJAZXhhbXBsZS5jb20AeA=='))
print('mail', s.docmd('MAIL FROM:<postmaster@example.com>')[0])
s.quit()")
  assertContains "$out" "(538, b'5.7.11 Encryption required for requested authentication mechanism')"
  assertContains "$out" "mail 530"
}

. shunit2
