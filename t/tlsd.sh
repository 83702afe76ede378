#!/bin/sh
# vmail-tlsd alone, under a real tcpserver on loopback, against openssl
# s_client verifying a CA made here: implicit and delayed (vmail-smtpd's
# STARTTLS) modes, a certificate renewed on disk, SNI, what is refused, and
# (as root) the privilege split.
. "$T_TOP/t/lib/common.sh"

T_PORT_BASE=${T_PORT_BASE:-12000}
PORT=$((T_PORT_BASE + 901))
# world-searchable (T_TMP is not), so that only the key's own mode keeps
# another user from reading it
TLS=$(mktemp -d /tmp/vmail-tls.XXXXXX) && chmod 755 "$TLS"

# mkcert NAME CN DAYS: NAME.cert / NAME.key under $TLS, signed by the test CA
mkcert() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TLS/$1.key" \
    -out "$TLS/$1.csr" -subj "/CN=$2" 2>/dev/null &&
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\n' "$2" > "$TLS/$1.ext" &&
  openssl x509 -req -in "$TLS/$1.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial \
    -days "$3" -extfile "$TLS/$1.ext" -out "$TLS/$1.cert" 2>/dev/null &&
  chmod 600 "$TLS/$1.key"
}

oneTimeSetUp() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TLS/ca.key" \
    -out "$TLS/ca.pem" -days 2 -subj /CN=vmail-test-CA 2>/dev/null
  mkcert server localhost 2
  mkcert other other.test 2
  mkcert sni mail.example.org 2
  mkcert expired localhost -1
  mkdir -p "$TLS/sni/mail.example.org"
  cp "$TLS/sni.cert" "$TLS/sni/mail.example.org/cert"
  cp "$TLS/sni.key" "$TLS/sni/mail.example.org/key"
  # an app that shows what it got: its uid, the engine's, the TLS details,
  # and whether it can read the key; then echoes one line
  cat > "$TLS/app" <<'A'
#!/bin/sh
if [ -n "$APP_UID" ]; then u=$APP_UID; APP_UID= exec setpriv --reuid="$u" --regid="$u" --clear-groups "$0"; fi
echo "app uid=$(id -u) engine=$(ps -o uid=,comm= --ppid $$ | awk '$2 == "vmail-tlsd-io" { print $1 }')"
echo "proto=$SSL_PROTOCOL cipher=$SSL_CIPHER sni=${SSL_TLS_SNI:-none} ctl=${SSLCTLFD:-none}"
if cat "$VMAIL_TLS_KEY" >/dev/null 2>&1; then echo key=readable; else echo key=unreadable; fi
read -r line; echo "echo:$line"
A
  chmod 755 "$TLS/app"
}

setUp() {
  cp "$TLS/server.cert" "$TLS/cert"; cp "$TLS/server.key" "$TLS/key"
  export VMAIL_TLS_CERT=$TLS/cert VMAIL_TLS_KEY=$TLS/key VMAIL_HOSTNAME=mx.test
  unset VMAIL_TLS_DIR VMAIL_TLS_TIMEOUT APP_UID VMAIL_TLS_UID VMAIL_TLS_GID
  if [ "$(id -u)" = 0 ]; then export VMAIL_TLS_UID=64101 VMAIL_TLS_GID=64101; fi
  : > "$T_TMP/log"
}

# plain LINE...: a conversation in the clear that waits for the greeting
# (vmail-smtpd refuses a client that talks first); all the server said
plain() {
  python3 - "$PORT" "$@" <<'P'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
out = s.recv(4096)
s.sendall("".join(l + "\r\n" for l in sys.argv[2:]).encode())
while True:
    b = s.recv(4096)
    if not b: break
    out += b
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
P
}

oneTimeTearDown() { rm -rf "$T_TMP" "$TLS"; }

tearDown() { [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null; wait 2>/dev/null; SRV=; }

# serve PROG...: tcpserver on $PORT running it, log in $T_TMP/log; returns
# once it listens
serve() {
  tcpserver -v -R -H -l 0 127.0.0.1 "$PORT" "$@" >>"$T_TMP/log" 2>&1 &
  SRV=$!
  i=0; until grep -q 'status: 0/' "$T_TMP/log"; do i=$((i + 1)); [ $i -lt 100 ] || fail "tcpserver did not start"; sleep 0.1; done
}

# client [s_client options...]: one line to the server, its answer
client() {
  echo "hello" | timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$TLS/ca.pem" \
    -verify_return_error -quiet "$@" 2>/dev/null
}

# subject [s_client options...]: the CN of the certificate served
subject() {
  echo | timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$TLS/ca.pem" "$@" 2>/dev/null |
    openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
}

testImplicitHandshakeThenPlainPipes() {
  serve vmail-tlsd -i "$TLS/app"
  out=$(client)
  assertContains "$out" "proto=TLSv1.3 cipher=TLS_"
  assertContains "no UCSPI-TLS descriptors in implicit mode" "$out" "ctl=none"
  assertContains "$out" "echo:hello"
  assertContains "$(cat "$T_TMP/log")" "tls start ip=127.0.0.1 version=TLSv1.3"
}

testTls12AcceptedTls11Refused() {
  serve vmail-tlsd -i "$TLS/app"
  assertContains "$(client -tls1_2)" "proto=TLSv1.2"
  out=$(echo | timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' 2>&1)
  assertNotContains "$out" "proto="
  assertContains "$(cat "$T_TMP/log")" "unsupported protocol"
}

testRenewedCertificateServedToNextConnection() {
  serve vmail-tlsd -i "$TLS/app"
  assertEquals localhost "$(subject)"
  cp "$TLS/other.cert" "$TLS/cert.new"; mv "$TLS/cert.new" "$TLS/cert"
  cp "$TLS/other.key" "$TLS/key.new"; mv "$TLS/key.new" "$TLS/key"
  assertEquals "same server, next connection" other.test "$(subject)"
}

testSniChoosesItsPairElseTheDefault() {
  export VMAIL_TLS_DIR=$TLS/sni
  serve vmail-tlsd -i "$TLS/app"
  assertEquals mail.example.org "$(subject -servername mail.example.org)"
  assertEquals "an unknown name gets the default" localhost "$(subject -servername unknown.example.net)"
  assertContains "$(client -servername mail.example.org -verify_hostname mail.example.org)" "sni=mail.example.org"
}

testGarbageInsteadOfClientHelloOneLogLine() {
  serve vmail-tlsd -i "$TLS/app"
  out=$(printf 'EHLO not-tls\r\n' | timeout 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; cat >&3; cat <&3")
  assertEquals "" "$out"
  i=0; until grep -q 'tls fail' "$T_TMP/log"; do i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1; done
  assertEquals "one log line" 1 "$(grep -c 'tls fail ip=127.0.0.1 error=' "$T_TMP/log")"
  assertNotContains "the app never ran" "$(cat "$T_TMP/log")" "app uid"
}

testHandshakeTimeoutIsBounded() {
  export VMAIL_TLS_TIMEOUT=1
  serve vmail-tlsd -i "$TLS/app"
  start=$(date +%s)
  timeout 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; cat <&3" >/dev/null
  elapsed=$(($(date +%s) - start))
  assertTrue "closed after ${elapsed}s" "[ $elapsed -le 5 ]"
  assertContains "$(cat "$T_TMP/log")" "tls fail ip=127.0.0.1 error=handshake timed out"
}

testDelayedStarttlsThroughSmtpd() {
  serve vmail-tlsd vmail-smtpd
  out=$(printf 'EHLO client.test\r\nQUIT\r\n' | timeout 20 openssl s_client -starttls smtp -connect "127.0.0.1:$PORT" \
    -CAfile "$TLS/ca.pem" -verify_return_error -quiet 2>/dev/null | tr -d '\r')
  assertContains "$out" "250-mx.test"
  assertNotContains "no STARTTLS offered twice" "$out" "STARTTLS"
  assertContains "$out" "221 2.0.0"
  assertContains "$(cat "$T_TMP/log")" "end=quit tls=TLSv1.3:TLS_"
}

# py SCRIPT: Python with ctx (verifying against the test CA) and PORT
py() {
  python3 -c "import ssl, imaplib, poplib
ctx = ssl.create_default_context(cafile='$TLS/ca.pem')
PORT = $PORT
$1" 2>&1
}

testImapStarttlsThenLoginThroughTheServer() {
  seed_tutorial
  serve vmail-tlsd vmail-imap-login vmail-imapd
  out=$(py "
i = imaplib.IMAP4('localhost', PORT)
print('before', i.capabilities)
try: i.login('postmaster@example.com', 'password')
except Exception as e: print('refused', e)
i.starttls(ssl_context=ctx)
print('after', i.capabilities)
print(i.login('postmaster@example.com', 'password'))
print(i.select('INBOX'))
i.logout()")
  assertContains "$out" "before ('IMAP4REV1', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'STARTTLS', 'LOGINDISABLED')"
  assertContains "$out" "refused"
  assertContains "$out" "after ('IMAP4REV1', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'AUTH=PLAIN')"
  assertContains "$out" "Logged in'])"
  assertContains "$out" "('OK', [b'0'])"
}

testPop3StlsThenLoginThroughTheServer() {
  seed_tutorial
  serve vmail-tlsd vmail-pop3-login vmail-pop3d
  out=$(VMAIL_POP3_FAIL_DELAY=0 py "
p = poplib.POP3('localhost', PORT)
print('before', sorted(p.capa()))
try: p.user('postmaster@example.com')
except Exception as e: print('refused', e)
p.stls(context=ctx)
print('after', sorted(p.capa()))
p.user('postmaster@example.com'); print(p.pass_('password'))
print('stat', p.stat())
try: p.stls(context=ctx)
except Exception as e: print('again', e)
p.quit()")
  assertContains "$out" "before ['AUTH-RESP-CODE', 'EXPIRE', 'IMPLEMENTATION', 'PIPELINING', 'RESP-CODES', 'STLS', 'TOP', 'UIDL']"
  assertContains "$out" "refused b'-ERR [AUTH] plaintext authentication disallowed without TLS'"
  assertContains "$out" "after ['AUTH-RESP-CODE', 'EXPIRE', 'IMPLEMENTATION', 'PIPELINING', 'RESP-CODES', 'SASL', 'TOP', 'UIDL', 'USER']"
  assertContains "$out" "stat (0, 0)"
  assertContains "$out" "again"
}

testMissingCertificatePlaintextStillWorks() {
  export VMAIL_TLS_CERT=$TLS/nonexistent
  serve vmail-tlsd vmail-smtpd
  out=$(plain 'EHLO client.test' STARTTLS QUIT)
  assertContains "$out" "250 ENHANCEDSTATUSCODES"
  assertNotContains "$out" "250-STARTTLS"
  assertContains "$out" "502 5.5.1 Error: STARTTLS not available"
  assertContains "$(cat "$T_TMP/log")" "unable to read certificate $TLS/nonexistent"
}

testExpiredCertificateRefusedWithClearLine() {
  cp "$TLS/expired.cert" "$TLS/cert"; cp "$TLS/expired.key" "$TLS/key"
  serve vmail-tlsd vmail-smtpd
  out=$(plain 'EHLO client.test' QUIT)
  assertContains "plaintext SMTP still answers" "$out" "221 2.0.0"
  assertNotContains "$out" "STARTTLS"
  assertContains "$(cat "$T_TMP/log")" "unable to use certificate $TLS/cert: the certificate has expired"
  tearDown
  : > "$T_TMP/log"
  serve vmail-tlsd -i "$TLS/app"
  assertEquals "implicit TLS closes" "" "$(client)"
  assertContains "$(cat "$T_TMP/log")" "the certificate has expired"
}

testUsage() {
  vmail-tlsd >/dev/null 2>&1; assertEquals 100 $?
  vmail-tlsd -x true >/dev/null 2>&1; assertEquals 100 $?
  VMAIL_TLS_CERT= vmail-tlsd true >/dev/null 2>&1; assertEquals 100 $?
  VMAIL_TLS_TIMEOUT=0 vmail-tlsd true >/dev/null 2>&1; assertEquals 100 $?
}

# Started as root: the engine becomes VMAIL_TLS_UID, the app keeps root to
# drop on its own (here to APP_UID), neither is root, and the app cannot read
# the key. Started as another user, everything runs as that user.
testPrivilegeSplit() {
  if [ "$(id -u)" = 0 ]; then
    err=$(env -u VMAIL_TLS_UID -u VMAIL_TLS_GID vmail-tlsd true 2>&1)
    assertEquals "refused as root without VMAIL_TLS_UID" 100 $?
    assertContains "$err" "VMAIL_TLS_UID"
    export APP_UID=64102
    serve vmail-tlsd -i "$TLS/app"
    out=$(client)
    assertContains "$out" "app uid=64102 engine=64101"
    assertContains "$out" "key=unreadable"
  else
    serve vmail-tlsd -i "$TLS/app"
    out=$(client)
    assertContains "$out" "app uid=$(id -u) engine=$(id -u)"
  fi
}

. shunit2
