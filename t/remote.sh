#!/bin/sh
# vmail-remote against real servers on loopback: unbound serving the test
# zone (MX records pointing at 127.0.2.x), and small SMTP servers
# (t/lib/smtpsink.py) that behave, or misbehave in one way each.
T_PORT_BASE=${T_PORT_BASE:-26000}
. "$T_TOP/t/lib/common.sh"
. "$T_TOP/t/lib/testdns.sh"

P=$((T_PORT_BASE + 425))
export VMAIL_REMOTE_PORT=$P VMAIL_ETC=$T_TMP/etc VMAIL_HOSTNAME=out.vmail.example VMAIL_REMOTE_TIMEOUT=2
export VMAIL_QUEUE_DIR=$T_TMP/queue VMAIL_POSTMASTER=postmaster@example.com
SINKS= SEND_PID=

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
  seed_tutorial
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
    'slow.example. MX 10 mx.slow.example.' 'mx.slow.example. A 127.0.2.50' \
    'v6.example. MX 10 mx.v6.example.' 'mx.v6.example. AAAA ::1' \
    'dual.example. MX 10 mx.dual.example.' 'mx.dual.example. AAAA ::1' 'mx.dual.example. A 127.0.2.21' \
    'nomx.example. A 127.0.2.21' 'null.example. MX 0 .' || return 1
  sink 127.0.2.21 ok && sink 127.0.2.32 ok && sink 127.0.2.41 silent && sink 127.0.2.42 brokentls &&
  sink 127.0.2.43 size && sink 127.0.2.44 noutf8 && sink 127.0.2.45 data5xx && sink 127.0.2.46 helo &&
  sink 127.0.2.47 mail5xx && sink 127.0.2.50 slow && sink ::1 ok && sink 127.0.2.48 ok --tls "$T_TMP/tls/cert.pem" "$T_TMP/tls/key.pem" &&
  sink 127.0.2.49 ok --tls "$T_TMP/tls/cert.pem" "$T_TMP/tls/key.pem" --auth 'relay:se cret'
}

oneTimeTearDown() {
  [ -n "${T_KEEP_LOG:-}" ] && cp "$T_TMP/send.log" /tmp/o/send.log
  stop_send
  for p in $SINKS; do kill "$p" 2>/dev/null; done
  dns_stop
  rm -rf "$T_TMP"
}

setUp() { rm -f "$VMAIL_ETC/routes" "$VMAIL_ETC/relay-auth"; : > "$T_TMP/err"; }
tearDown() { stop_send; }

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

testIPv6() {
  assertEquals "AAAA first, then A" "mx.dual.example 10 port=$P ::1 127.0.2.21" "$(vmail-remote -n dual.example)"
  out=$(remote v6.example a@vmail.example u@v6.example)
  assertEquals "r	u@v6.example	mx.v6.example[::1]:$P	250 2.0.0 queued as 1" "$out"
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

testTooManyHopsIsALoop() {
  awk 'BEGIN { for (i = 0; i < 101; i++) printf "Received: from hop%d by hop%d; Fri, 4 Dec 2026 10:00:00 +0000\n", i, i + 1; printf "Subject: loop\n\nround and round\n" }' > "$T_TMP/msg"
  out=$(remote ok.example a@vmail.example u@ok.example)
  assertEquals "h" "$(field "$out" 1 1)"
  assertContains "$(field "$out" 4 1)" "5.4.6 mail loop"
  sed -i 1d "$T_TMP/msg"
  out=$(remote ok.example a@vmail.example u@ok.example)
  rm -f "$T_TMP/msg"
  assertEquals "100 hops still go" "r" "$(field "$out" 1 1)"
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

# ---- vmail-send runs vmail-remote ----

start_send() { VMAIL_REMOTE=vmail-remote vmail-send 2>>"$T_TMP/send.log" & SEND_PID=$!; }
stop_send() { [ -n "$SEND_PID" ] && { kill "$SEND_PID" 2>/dev/null; wait "$SEND_PID" 2>/dev/null; }; SEND_PID=; }

queue_empty() { [ "$(count_files "$VMAIL_QUEUE_DIR/env")" = 0 ]; }
# the sink's envelope file of the message with subject $1 at address $2
sunk() { grep -l "^Subject: $1" "$T_TMP/$2"/*.eml 2>/dev/null | sed 's/eml$/env/'; }
PMBOX=$VMAIL_ROOT/example.com/postmaster/new

testSendRelaysEachDomainInOneTransaction() {
  : > "$T_TMP/send.log"
  start_send
  SUBJECT=grouped inject postmaster@example.com one@ok.example u@twomx.example two@ok.example user2@example.com
  assertTrue "all delivered" "wait_until 20 queue_empty"
  env=$(sunk grouped 127.0.2.21)
  assertEquals "one transaction for ok.example" "RCPT TO:<one@ok.example>
RCPT TO:<two@ok.example>" "$(grep RCPT "$env")"
  assertNotNull "second MX of twomx.example" "$(sunk grouped 127.0.2.32)"
  assertEquals "local recipient delivered" 1 "$(count_files "$VMAIL_ROOT/example.com/user2/new")"
  assertTrue "log: relay and reply" "grep -q 'to=<two@ok.example> status=sent delay=[0-9.]* detail=\"mx.ok.example\[127.0.2.21\]:$P said: 250 2.0.0 queued as' '$T_TMP/send.log'"
  assertTrue "log: tls" "grep -q '^connection qid=[0-9.]* domain=twomx.example relay=mx2.twomx.example\[127.0.2.32\]:$P tls=none result=sent' '$T_TMP/send.log'"
}

testSendRelaysEveryDomainOfTheStarRouteInOneTransaction() {
  printf '* [127.0.2.21]\ntwomx.example\n' > "$VMAIL_ETC/routes"
  start_send
  SUBJECT=relayed inject postmaster@example.com a@one.example b@two.example c@twomx.example d@one.example user2@example.com
  assertTrue "all delivered" "wait_until 20 queue_empty"
  assertEquals "one transaction through the relay" "RCPT TO:<a@one.example>
RCPT TO:<b@two.example>
RCPT TO:<d@one.example>" "$(grep RCPT "$(sunk relayed 127.0.2.21)")"
  assertEquals "a domain with its own line goes by MX" "RCPT TO:<c@twomx.example>" "$(grep RCPT "$(sunk relayed 127.0.2.32)")"
  assertTrue "one connection for the relayed ones" "grep -q '^connection qid=[0-9.]* domain=\* relay=127.0.2.21\[127.0.2.21\]:$P tls=none result=sent' '$T_TMP/send.log'"
}

testSendKeepsThePerDomainLimit() {
  rm -f "$T_TMP/127.0.2.50/most"
  # queued first, so that the runner finds all three at once
  for i in 1 2 3; do SUBJECT=limited-$i inject postmaster@example.com "l$i@slow.example"; done
  VMAIL_REMOTE_DOMAIN_CONCURRENCY=1 VMAIL_REMOTE_TIMEOUT=20 start_send
  assertTrue "all delivered" "wait_until 60 queue_empty"
  assertEquals "one connection at a time to slow.example" 1 "$(cat "$T_TMP/127.0.2.50/most")"
  stop_send
  rm -f "$T_TMP/127.0.2.50/most"
  for i in 4 5 6; do SUBJECT=limited-$i inject postmaster@example.com "l$i@slow.example"; done
  VMAIL_REMOTE_DOMAIN_CONCURRENCY=3 VMAIL_REMOTE_TIMEOUT=20 start_send
  assertTrue "all delivered" "wait_until 60 queue_empty"
  assertEquals "in parallel when allowed" 3 "$(cat "$T_TMP/127.0.2.50/most")"
}

testSendBouncesRemoteRefusalWithRemoteMTA() {
  rm -rf "$PMBOX"
  start_send
  SUBJECT=refused inject postmaster@example.com bad1@ok.example fine@ok.example
  assertTrue "bounce delivered" "wait_until 20 '[ \$(count_files $PMBOX) = 1 ]'"
  assertTrue "dequeued" "wait_until 10 queue_empty"
  f=$(ls "$PMBOX"/*)
  assertTrue "Final-Recipient" "grep -q '^Final-Recipient: rfc822; bad1@ok.example' '$f'"
  assertTrue "Status" "grep -q '^Status: 5.1.1' '$f'"
  assertTrue "Remote-MTA" "grep -q '^Remote-MTA: dns; mx.ok.example$' '$f'"
  assertTrue "Diagnostic-Code" "grep -q '^Diagnostic-Code: smtp; 550 5.1.1 no such user here' '$f'"
  assertFalse "only the failed one" "grep -q 'fine@ok.example' '$f'"
}

testSendRetriesTemporaryFailuresThenBounces() {
  rm -rf "$PMBOX"
  : > "$T_TMP/send.log"
  VMAIL_QUEUE_RETRY=1 VMAIL_QUEUE_RETRY_MAX=1 VMAIL_QUEUE_LIFETIME=4 start_send
  SUBJECT=later inject postmaster@example.com temp1@ok.example
  assertTrue "deferred" "wait_until 20 'grep -q \"to=<temp1@ok.example> status=deferred .*said: 451 4.2.1 try later\" $T_TMP/send.log'"
  assertContains "queue list shows the last reply" "$(vmailctl queue list)" "said: 451 4.2.1 try later"
  assertTrue "bounced once expired" "wait_until 30 '[ \$(count_files $PMBOX) = 1 ]'"
  assertTrue "retried" "[ \$(grep -c 'to=<temp1@ok.example> status=deferred' $T_TMP/send.log) -ge 2 ]"
  assertTrue "the last error in the bounce" "grep -q '451 4.2.1 try later' $PMBOX/*"
}

testSendWarnsOfDelayOnceAndListsEachRecipient() {
  rm -rf "$PMBOX"
  : > "$T_TMP/send.log"
  VMAIL_DELAY_WARNING=1 VMAIL_QUEUE_RETRY=1 VMAIL_QUEUE_RETRY_MAX=1 start_send
  SUBJECT=slowgoing inject postmaster@example.com temp1@ok.example u@silent.example
  SUBJECT=nullsender inject '' temp2@ok.example
  assertTrue "a delay warning" "wait_until 30 '[ \$(count_files $PMBOX) = 1 ]'"
  f=$(ls "$PMBOX"/*)
  assertTrue "Subject" "grep -q '^Subject: Delayed Mail (still being retried)' '$f'"
  assertTrue "Action" "grep -q '^Action: delayed' '$f'"
  assertTrue "Status of the remote reply" "grep -q '^Status: 4.2.1' '$f'"
  assertTrue "Remote-MTA" "grep -q '^Remote-MTA: dns; mx.ok.example' '$f'"
  assertTrue "the silent one too" "grep -q '^Final-Recipient: rfc822; u@silent.example' '$f'"
  list=$(vmailctl queue list)
  assertContains "each recipient's last result" "$list" "  <temp1@ok.example> last=\"mx.ok.example[127.0.2.21]:$P said: 451 4.2.1 try later\""
  assertContains "$list" "  <u@silent.example> last=\"4.4.2 mx.silent.example[127.0.2.41]:$P: timed out waiting for the greeting\""
  n=$(grep -c 'to=<temp1@ok.example> status=deferred' "$T_TMP/send.log")
  assertTrue "more rounds" "wait_until 30 '[ \$(grep -c \"to=<temp1@ok.example> status=deferred\" $T_TMP/send.log) -ge $((n + 2)) ]'"
  assertEquals "warned once, and not the null sender" 1 "$(count_files "$PMBOX")"
  assertEquals "journalled" 2 "$(cat "$VMAIL_QUEUE_DIR"/state/* | grep -c '^W 0$')"
  stop_send
  for id in $(ls "$VMAIL_QUEUE_DIR/env"); do vmailctl queue delete "$id"; done
}

# the pid of vmail-send's vmail-remote child
remote_pid() { ps -o pid=,comm= --ppid "$SEND_PID" | awk '$2 == "vmail-remote" { print $1 }'; }
copies() { grep -l "^Subject: $1" "$T_TMP/127.0.2.50"/*.eml 2>/dev/null | wc -l; }

testSIGKILLOfVmailRemoteMidTransactionLosesNothing() {
  VMAIL_REMOTE_TIMEOUT=20 VMAIL_QUEUE_RETRY=1 VMAIL_QUEUE_RETRY_MAX=1 start_send
  SUBJECT=kill-remote inject postmaster@example.com k1@slow.example
  assertTrue "message on the wire" "wait_until 20 '[ \$(copies kill-remote) = 1 ]'"
  pid=$(remote_pid)
  assertNotNull "vmail-remote running" "$pid"
  kill -9 $pid
  assertTrue "delivered after all" "wait_until 30 queue_empty"
  assertTrue "deferred in between" "grep -q 'to=<k1@slow.example> status=deferred .*killed by signal 9' '$T_TMP/send.log'"
  n=$(copies kill-remote)
  assertTrue "at least once, at most twice ($n)" "[ $n -ge 1 ] && [ $n -le 2 ]"
  stop_send; start_send
  printf f > "$VMAIL_QUEUE_DIR/trigger"
  assertTrue "a flushed runner finds nothing to do" "wait_until 10 'grep -c \"^start \" $T_TMP/send.log | grep -q .'"
  assertEquals "never again after the recorded 250" "$n" "$(copies kill-remote)"
}

testSIGKILLOfVmailSendMidTransactionLosesNothing() {
  VMAIL_REMOTE_TIMEOUT=20 VMAIL_QUEUE_RETRY=1 VMAIL_QUEUE_RETRY_MAX=1 start_send
  SUBJECT=kill-send inject postmaster@example.com k2@slow.example
  assertTrue "message on the wire" "wait_until 20 '[ \$(copies kill-send) = 1 ]'"
  kill -9 "$SEND_PID"; wait "$SEND_PID" 2>/dev/null; SEND_PID=
  assertFalse "still queued" "queue_empty"
  VMAIL_REMOTE_TIMEOUT=20 VMAIL_QUEUE_RETRY=1 VMAIL_QUEUE_RETRY_MAX=1 start_send
  assertTrue "delivered by the next runner" "wait_until 30 queue_empty"
  n=$(copies kill-send)
  assertTrue "at least once, at most twice ($n)" "[ $n -ge 1 ] && [ $n -le 2 ]"
  stop_send
  VMAIL_QUEUE_RETRY=1 start_send
  assertTrue "restarted" "wait_until 10 'ps -p $SEND_PID >/dev/null'"
  assertEquals "never again after the recorded 250" "$n" "$(copies kill-send)"
}

testUsage() {
  vmail-remote 2>/dev/null; assertEquals 100 $?
  vmail-remote ok.example a@b 2>/dev/null </dev/null; assertEquals 100 $?
}

. shunit2
