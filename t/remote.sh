#!/bin/sh
# vmail-remote against real servers on loopback: unbound serving the test
# zone (MX records pointing at 127.0.2.x), and small SMTP servers
# (t/lib/smtpsink.py) that behave, or misbehave in one way each.
T_PORT_BASE=${T_PORT_BASE:-26000}
. "$T_TOP/t/lib/common.sh"
. "$T_TOP/t/lib/testdns.sh"

P=$((T_PORT_BASE + 425))
export VMAIL_REMOTE_PORT=$P VMAIL_ETC=$T_TMP/etc VMAIL_HOSTNAME=out.vmail.example VMAIL_REMOTE_TIMEOUT=2
# run as root, vmail-remote refuses to stay root: it becomes nobody
[ "$(id -u)" = 0 ] && export VMAIL_UID=65534 VMAIL_GID=65534
SINKS=

sink() {   # sink ADDR MODE [ARGS...]: a server on ADDR:P writing to $T_TMP/ADDR
  a=$1; shift
  python3 "$T_TOP/t/lib/smtpsink.py" "$a" "$P" "$T_TMP/$a" "$@" 2>>"$T_TMP/sinks.log" &
  SINKS="$SINKS $!"
  i=0
  until python3 -c "import socket,sys; socket.create_connection(('$a', $P), 0.5).close()" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.1
  done
}

certs() {
  t=$T_TMP/tls; mkdir -p "$t"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$t/ca.key" -out "$t/ca.pem" -days 2 -subj "/CN=vmail test CA" 2>/dev/null &&
  openssl req -newkey rsa:2048 -nodes -keyout "$t/key.pem" -out "$t/req.pem" -subj "/CN=mx.tls.example" 2>/dev/null &&
  printf 'subjectAltName=DNS:mx.tls.example,IP:127.0.2.48\n' > "$t/ext" &&
  openssl x509 -req -in "$t/req.pem" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial -out "$t/cert.pem" \
    -days 2 -extfile "$t/ext" 2>/dev/null
}

oneTimeSetUp() {
  # nobody reads the routes: let it through the scratch directories
  chmod a+x "$(dirname "$T_TMP")" "$T_TMP"
  mkdir -p "$VMAIL_ETC"
  certs || return 1
  dns_start 127.0.2.53 $((T_PORT_BASE + 453)) \
    'ok.example. MX 10 mx.ok.example.' 'mx.ok.example. A 127.0.2.21' \
    'twomx.example. MX 10 mx1.twomx.example.' 'twomx.example. MX 20 mx2.twomx.example.' \
    'mx1.twomx.example. A 127.0.2.31' 'mx2.twomx.example. A 127.0.2.32' \
    'silent.example. MX 10 mx.silent.example.' 'mx.silent.example. A 127.0.2.41' \
    'brokentls.example. MX 10 mx.brokentls.example.' 'mx.brokentls.example. A 127.0.2.42' \
    'size.example. MX 10 mx.size.example.' 'mx.size.example. A 127.0.2.43' \
    'noutf8.example. MX 10 mx.noutf8.example.' 'mx.noutf8.example. A 127.0.2.44' \
    'data5xx.example. MX 10 mx.data5xx.example.' 'mx.data5xx.example. A 127.0.2.45' \
    'helo.example. MX 10 mx.helo.example.' 'mx.helo.example. A 127.0.2.46' \
    'mail5xx.example. MX 10 mx.mail5xx.example.' 'mx.mail5xx.example. A 127.0.2.47' \
    'tls.example. MX 10 mx.tls.example.' 'mx.tls.example. A 127.0.2.48' \
    'smart.example. A 127.0.2.49' \
    'nomx.example. A 127.0.2.21' 'null.example. MX 0 .' || return 1
  sink 127.0.2.21 ok && sink 127.0.2.32 ok && sink 127.0.2.41 silent && sink 127.0.2.42 brokentls &&
  sink 127.0.2.43 size && sink 127.0.2.44 noutf8 && sink 127.0.2.45 data5xx && sink 127.0.2.46 helo &&
  sink 127.0.2.47 mail5xx && sink 127.0.2.48 ok --tls "$T_TMP/tls/cert.pem" "$T_TMP/tls/key.pem" &&
  sink 127.0.2.49 ok --tls "$T_TMP/tls/cert.pem" "$T_TMP/tls/key.pem" --auth 'relay:se cret'
}

oneTimeTearDown() {
  for p in $SINKS; do kill "$p" 2>/dev/null; done
  dns_stop
  rm -rf "$T_TMP"
}

setUp() { rm -f "$VMAIL_ETC/routes" "$VMAIL_ETC/relay-auth"; : > "$T_TMP/err"; }

# remote DOMAIN SENDER RCPT...: the message in $T_TMP/msg (default: a small one)
remote() {
  [ -f "$T_TMP/msg" ] || printf 'Subject: hi\n\nhello\n' > "$T_TMP/msg"
  VMAIL_QUEUE_ID=testqid vmail-remote "$@" < "$T_TMP/msg" 2>>"$T_TMP/err"
}

field() { printf '%s\n' "$1" | awk -F '\t' -v n="$2" -v l="$3" 'NR == l { print $n }'; }

testRouteFollowsMXPreferenceAndImplicitMX() {
  assertEquals "MX in preference order" "mx1.twomx.example 10 port=$P 127.0.2.31
mx2.twomx.example 20 port=$P 127.0.2.32" "$(vmail-remote -n twomx.example)"
  assertEquals "no MX: the domain's own address" "nomx.example 0 port=$P 127.0.2.21" "$(vmail-remote -n nomx.example)"
}

testNullMXAndNoSuchDomainBounce() {
  out=$(remote null.example a@vmail.example u@null.example)
  assertEquals "h" "$(field "$out" 1 1)"
  assertContains "$(field "$out" 4 1)" "5.1.10"
  out=$(remote nosuch.example a@vmail.example u@nosuch.example)
  assertEquals "h	u@nosuch.example		5.1.2 nosuch.example: no such domain" "$out"
}

testDeliversByteExactWithDotsAndLineEndings() {
  printf 'Subject: dots\n\n.leading dot\n..two dots\r\nbare CR\rend \303\251t\303\251\n.\nno final newline' > "$T_TMP/msg"
  out=$(remote ok.example a@vmail.example one@ok.example)
  rm -f "$T_TMP/msg"
  assertEquals "r	one@ok.example	mx.ok.example[127.0.2.21]:$P	250 2.0.0 queued as 1" "$out"
  assertEquals "$(printf 'Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\nbare CR\r\nend \303\251t\303\251\r\n.\r\nno final newline\r\n')" \
    "$(cat "$T_TMP/127.0.2.21/1.eml")"
  assertTrue "8BITMIME declared" "grep -q '^MAIL FROM:<a@vmail.example> SIZE=[0-9]* BODY=8BITMIME$' '$T_TMP/127.0.2.21/1.env'"
  assertTrue "log line" "grep -q '^connection qid=testqid domain=ok.example relay=mx.ok.example\[127.0.2.21\]:$P tls=none result=sent' '$T_TMP/err'"
}

testEachRecipientGetsItsOwnResult() {
  out=$(remote ok.example a@vmail.example temp1@ok.example bad1@ok.example good@ok.example)
  assertEquals "s h r" "$(field "$out" 1 1) $(field "$out" 1 2) $(field "$out" 1 3)"
  assertEquals "451 4.2.1 try later" "$(field "$out" 4 1)"
  assertEquals "550 5.1.1 no such user here" "$(field "$out" 4 2)"
  assertEquals "argument order kept" "good@ok.example" "$(field "$out" 2 3)"
}

testNextMXWhenTheFirstRefusesConnections() {
  out=$(remote twomx.example a@vmail.example u@twomx.example)
  assertEquals "r" "$(field "$out" 1 1)"
  assertEquals "mx2.twomx.example[127.0.2.32]:$P" "$(field "$out" 3 1)"
  assertTrue "first MX tried" "grep -q 'relay=mx1.twomx.example\[127.0.2.31\]:$P tls=none result=no-connection' '$T_TMP/err'"
}

testSilentServerIsADeferralAfterTheTimeout() {
  start=$(date +%s)
  out=$(remote silent.example a@vmail.example u@silent.example)
  assertEquals "s" "$(field "$out" 1 1)"
  assertContains "$(field "$out" 4 1)" "timed out waiting for the greeting"
  assertTrue "bounded by VMAIL_REMOTE_TIMEOUT" "[ $(($(date +%s) - start)) -lt 10 ]"
}

testBrokenSTARTTLSFallsBackToPlainText() {
  out=$(remote brokentls.example a@vmail.example u@brokentls.example)
  assertEquals "r" "$(field "$out" 1 1)"
  assertTrue "TLS tried first" "grep -q 'relay=mx.brokentls.example.* result=tls-failed' '$T_TMP/err'"
  assertEquals "one message" 1 "$(ls "$T_TMP/127.0.2.42" | grep -c eml)"
}

testTooBigForSIZEIsPermanentAndNothingSent() {
  awk 'BEGIN { printf "Subject: big\n\n"; for (i = 0; i < 20; i++) print "0123456789012345678901234567890123456789" }' > "$T_TMP/msg"
  out=$(remote size.example a@vmail.example u@size.example)
  rm -f "$T_TMP/msg"
  assertEquals "h" "$(field "$out" 1 1)"
  assertContains "$(field "$out" 4 1)" "5.3.4"
  assertFalse "no MAIL sent" "grep -q '^MAIL' '$T_TMP/127.0.2.43/commands'"
}

testUTF8RecipientWithoutSMTPUTF8FailsAlone() {
  out=$(remote noutf8.example a@vmail.example "$(printf 'j\303\274rgen@noutf8.example')" plain@noutf8.example)
  assertEquals "h r" "$(field "$out" 1 1) $(field "$out" 1 2)"
  assertContains "$(field "$out" 4 1)" "5.6.7"
  assertFalse "address never sent mangled" "grep -q 'rgen' '$T_TMP/127.0.2.44/commands'"
  out=$(remote ok.example "$(printf 'j\303\274rgen@vmail.example')" utf@ok.example)
  assertEquals "r" "$(field "$out" 1 1)"
  assertTrue "SMTPUTF8 asked for" "grep -q 'SMTPUTF8$' '$T_TMP/127.0.2.21/commands'"
}

testRefusalAfterDataAppliesToEveryAcceptedRecipient() {
  out=$(remote data5xx.example a@vmail.example x@data5xx.example bad@data5xx.example y@data5xx.example)
  assertEquals "h h h" "$(field "$out" 1 1) $(field "$out" 1 2) $(field "$out" 1 3)"
  assertEquals "554 5.6.0 message refused" "$(field "$out" 4 3)"
  out=$(remote mail5xx.example a@vmail.example x@mail5xx.example y@mail5xx.example)
  assertEquals "MAIL refused: all" "h h" "$(field "$out" 1 1) $(field "$out" 1 2)"
}

testHELOWhenEHLOIsUnknown() {
  out=$(remote helo.example a@vmail.example u@helo.example)
  assertEquals "r" "$(field "$out" 1 1)"
  assertTrue "HELO sent" "grep -q '^HELO out.vmail.example$' '$T_TMP/127.0.2.46/commands'"
}

testOwnNameIsNeverAHop() {
  out=$(VMAIL_HOSTNAME=mx.ok.example remote ok.example a@vmail.example u@ok.example)
  assertEquals "h" "$(field "$out" 1 1)"
  assertContains "$(field "$out" 4 1)" "5.4.6"
}

testOpportunisticSTARTTLS() {
  out=$(remote tls.example a@vmail.example u@tls.example)
  assertEquals "r" "$(field "$out" 1 1)"
  assertTrue "encrypted" "grep -q 'relay=mx.tls.example.* tls=TLSv1.[23]' '$T_TMP/err'"
}

testVerifiedTLSRoute() {
  echo 'tls.example mx.tls.example tls=verify' > "$VMAIL_ETC/routes"
  out=$(remote tls.example a@vmail.example u@tls.example)
  assertEquals "unknown CA: deferred" "s" "$(field "$out" 1 1)"
  assertContains "$(field "$out" 4 1)" "4.7.5"
  out=$(VMAIL_TLS_CA=$T_TMP/tls/ca.pem remote tls.example a@vmail.example u@tls.example)
  assertEquals "our CA: sent" "r" "$(field "$out" 1 1)"
  out=$(VMAIL_TLS_CA=$T_TMP/tls/ca.pem remote ok.example a@vmail.example u@ok.example)
  assertEquals "other domains unaffected" "r" "$(field "$out" 1 1)"
  echo 'ok.example mx.ok.example tls=verify' > "$VMAIL_ETC/routes"
  out=$(VMAIL_TLS_CA=$T_TMP/tls/ca.pem remote ok.example a@vmail.example u@ok.example)
  assertEquals "no STARTTLS on a verify route: deferred" "s" "$(field "$out" 1 1)"
  assertContains "$(field "$out" 4 1)" "4.7.4"
}

testSmarthostWithAuth() {
  printf '# everything through the relay\n*   smart.example\n' > "$VMAIL_ETC/routes"
  printf 'smart.example relay se cret\n' > "$VMAIL_ETC/relay-auth"
  chown "${VMAIL_UID:-$(id -u)}" "$VMAIL_ETC/relay-auth"
  chmod 644 "$VMAIL_ETC/relay-auth"
  out=$(remote far.example a@vmail.example u@far.example)
  assertEquals "credentials readable by others: deferred" "s" "$(field "$out" 1 1)"
  assertContains "$(field "$out" 4 1)" "chmod 600"
  chmod 600 "$VMAIL_ETC/relay-auth"
  printf 'smart.example relay wrong\n' > "$VMAIL_ETC/relay-auth"
  out=$(remote far.example a@vmail.example u@far.example)
  assertEquals "wrong password: deferred" "s" "$(field "$out" 1 1)"
  printf 'smart.example relay se cret\n' > "$VMAIL_ETC/relay-auth"
  out=$(remote far.example a@vmail.example u@far.example)
  assertEquals "r	u@far.example	smart.example[127.0.2.49]:$P	250 2.0.0 queued as 1" "$out"
  assertTrue "AUTH inside TLS" "grep -q 'relay=smart.example.* tls=TLSv1' '$T_TMP/err'"
  printf '*   smart.example\nok.example\n' > "$VMAIL_ETC/routes"
  assertEquals "a domain without a host: MX as usual" "mx.ok.example 10 port=$P 127.0.2.21" "$(vmail-remote -n ok.example)"
}

testUsage() {
  vmail-remote 2>/dev/null; assertEquals 100 $?
  vmail-remote ok.example a@b 2>/dev/null </dev/null; assertEquals 100 $?
}

. shunit2
