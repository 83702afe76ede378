#!/bin/sh
# POP3 end to end: Python's poplib and fetchmail against a whole private
# instance (tcpserver -> vmail-pop3-login -> vmail-checkpw -> vmail-pop3d).
T_PORT_BASE=${T_PORT_BASE:-16000}
. "$T_TOP/t/lib/common.sh"
. "$T_TOP/t/lib/e2e.sh"

oneTimeSetUp() { e2e_start; BOX=$VMAIL_ROOT/example.com/postmaster; }
oneTimeTearDown() { e2e_stop; rm -rf "$T_TMP"; }

setUp() { rm -rf "$BOX/new" "$BOX/cur" "$BOX/tmp"; mkdir -p "$BOX/new" "$BOX/cur" "$BOX/tmp"; }

# deliver SUBJECT [BODY-PRINTF-FORMAT]: through vmail-deliver, as vmail-send would
deliver() {
  printf "From: a@example.org\nTo: postmaster@example.com\nSubject: %s\n\n${2:-body of %s\\n}" "$1" "$1" |
    vmail-deliver postmaster@example.com
}

# py SCRIPT: Python with poplib connected and logged in as p (unless NOLOGIN=1)
py() {
  PORT=$E2E_POP3 POP3S=$E2E_POP3S PASSWORD=$E2E_PASSWORD python3 -c "
import os, poplib, socket, ssl, sys
CTX = ssl.create_default_context(cafile=os.environ['VMAIL_TLS_CA'])
def connect(password=os.environ['PASSWORD']):
    p = poplib.POP3('127.0.0.1', int(os.environ['PORT']), timeout=10)
    p.stls(context=CTX)   # logins need TLS
    p.user('postmaster@example.com')
    p.pass_(password)
    return p
$1"
}

testLoginWithFullAddress() {
  deliver one
  out=$(py "
p = connect()
print(p.stat())
p.quit()")
  assertEquals "(1, $(py "
p = connect(); print(sum(len(l) + 2 for l in p.retr(1)[1])); p.quit()"))" "$out"
}

testWrongPassword() {
  out=$(py "
try:
    connect('not-the-password')
    print('logged in')
except poplib.error_proto as e:
    print(e)")
  assertEquals "b'-ERR [AUTH] authentication failed'" "$out"
}

testAuthPlainWithPoplib() {
  out=$(py "
import base64
p = poplib.POP3('127.0.0.1', int(os.environ['PORT']), timeout=10)
p.stls(context=CTX)
caps = p.capa()
print(sorted(caps))
r = p._shortcmd('AUTH PLAIN ' + base64.b64encode(b'\0postmaster@example.com\0' + os.environ['PASSWORD'].encode()).decode())
print(r.split()[0])
p.quit()")
  assertContains "$out" "'SASL'"
  assertContains "$out" "'USER'"
  assertContains "$out" "b'+OK'"
}

testRetrieveAndDelete() {
  deliver first; deliver second
  out=$(py "
p = connect()
n, size = p.stat()
for i in range(1, n + 1):
    resp, lines, octets = p.retr(i)
    print([l.decode() for l in lines if l.startswith(b'Subject:')][0])
    p.dele(i)
print(p.quit())")
  assertEquals "Subject: first
Subject: second
b'+OK bye'" "$out"
  assertEquals "both removed" 0 "$(($(count_files "$BOX/new") + $(count_files "$BOX/cur")))"
}

testUidlStableBetweenSessions() {
  deliver one; deliver two
  first=$(py "
p = connect()
print(p.uidl()[1])
p.retr(1)
p.quit()")
  second=$(py "
p = connect()
print(p.uidl()[1])
p.quit()")
  assertEquals "$first" "$second"
  assertEquals "RETR moved the message to cur/ as seen" 1 "$(ls "$BOX/cur" | grep -c ':2,S$')"
}

testByteStuffedLines() {
  deliver dots '.hidden\n..two\n.\nend\n'
  out=$(py "
p = connect()
resp, lines, octets = p.retr(1)
print(lines[-4:])
print(octets == sum(len(l) + 2 for l in lines), int(p.list(1).split()[2]) == octets)
p.quit()")
  assertEquals "[b'.hidden', b'..two', b'.', b'end']
True True" "$out"
}

testBareLfMessage() {
  deliver barelf 'line one\nline two\n'
  assertEquals "stored with bare LFs" 0 "$(cat "$BOX"/new/* | grep -c "$(printf '\r')")"
  out=$(py "
s = CTX.wrap_socket(socket.create_connection(('127.0.0.1', int(os.environ['POP3S'])), timeout=10), server_hostname='127.0.0.1')
f = s.makefile('rb')
f.readline()
s.sendall(b'USER postmaster@example.com\r\nPASS ' + os.environ['PASSWORD'].encode() + b'\r\nLIST 1\r\nRETR 1\r\n')
f.readline(); f.readline()
size = int(f.readline().split()[2])
f.readline()
data = b''
while not data.endswith(b'\r\n.\r\n'):
    data += f.readline()
body = data[:-3]
print(size == len(body), b'\n' not in body.replace(b'\r\n', b''), body.endswith(b'line two\r\n'))
s.sendall(b'QUIT\r\n')")
  assertEquals "True True True" "$out"
}

testDeleWithoutQuitKeepsMail() {
  deliver kept
  py "
p = connect()
p.dele(1)
p.sock.close()"
  sleep 0.3
  out=$(py "
p = connect()
print(p.stat()[0])
p.quit()")
  assertEquals "the dropped session deleted nothing" 1 "$out"
}

testSecondSessionInUse() {
  deliver one
  out=$(py "
p = connect()
try:
    connect()
    print('second session allowed')
except poplib.error_proto as e:
    print(e)
print(p.stat()[0])
p.quit()")
  assertEquals "b'-ERR [IN-USE] the mailbox is open in another POP3 session'
1" "$out"
}

testFetchmail() {
  deliver fetched-one; deliver fetched-two
  rc=$T_TMP/fetchmailrc
  # STLS, verifying the instance's certificate
  printf 'poll 127.0.0.1 protocol pop3 port %s auth password\n  user "postmaster@example.com" password "%s"\n  sslproto tls1.2+ sslcertck sslcommonname localhost sslcertfile "%s"\n  mda "cat >> %s"\n' \
    "$E2E_POP3" "$E2E_PASSWORD" "$VMAIL_TLS_CA" "$T_TMP/fetched" > "$rc"
  chmod 600 "$rc"
  HOME=$T_TMP fetchmail -f "$rc" --nosyslog --norewrite --nokeep -v > "$T_TMP/fetchmail.log" 2>&1
  rc_=$?; [ $rc_ = 0 ] || cat "$T_TMP/fetchmail.log"
  assertEquals "fetchmail exit" 0 $rc_
  assertEquals 2 "$(grep -c '^Subject: fetched-' "$T_TMP/fetched")"
  assertEquals "fetchmail deleted what it fetched" 0 "$(($(count_files "$BOX/new") + $(count_files "$BOX/cur")))"
  HOME=$T_TMP fetchmail -f "$rc" --nosyslog > "$T_TMP/fetchmail.log" 2>&1
  assertEquals "no mail the second time" 1 $?
}

testSessionLogged() {
  deliver logged
  py "
p = connect()
p.retr(1)
p.dele(1)
p.quit()"
  sleep 0.5
  assertContains "$(cat "$E2E_RUN/log/pop3/current")" "session user=postmaster@example.com ip=127.0.0.1 retrieved=1 deleted=1"
}

. shunit2
