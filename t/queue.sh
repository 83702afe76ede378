#!/bin/sh
# vmail-queue: the qmail-queue interface, durable injection, exit codes.
. "$T_TOP/t/lib/common.sh"

Q=$T_TMP/queue
export VMAIL_QUEUE_DIR=$Q

setUp() { rm -rf "$Q"; printf 'Subject: hi\n\nhello\n' > "$T_TMP/msg"; }

inject() { vmail-queue < "$T_TMP/msg" 1< "$T_TMP/env" 2>"$T_TMP/err"; }

testAcceptsIntoFreshDirectory() {
  printf 'Fa@example.org\0Tpostmaster@example.com\0Tb@example.net\0\0' > "$T_TMP/env"
  inject
  assertEquals "exit" 0 $?
  id=$(ls "$Q/env")
  assertEquals "one queued envelope" 1 "$(ls "$Q/env" | wc -l)"
  assertTrue "id shape" "echo '$id' | grep -Eqx '[0-9]{10}\.[0-9]{6}\.[0-9]{7}'"
  assertTrue "envelope kept byte for byte" "cmp -s '$T_TMP/env' '$Q/env/$id'"
  assertEquals "message beside it" "$id" "$(ls "$Q/mess")"
  assertEquals "tmp is empty" "" "$(ls "$Q/tmp")"
  assertTrue "trigger is a fifo" "[ -p '$Q/trigger' ]"
}

testAddsReceivedLine() {
  printf 'Fa@example.org\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  inject
  f=$(ls "$Q"/mess/*)
  assertEquals "first line" "Received: (vmail-queue" "$(head -n 1 "$f" | cut -c1-22)"
  assertTrue "uid named" "head -n 1 '$f' | grep -q 'invoked by uid $(id -u));\$'"
  assertTrue "date continues the field" "sed -n 2p '$f' | grep -Eq '^	[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \+0000\$'"
  assertEquals "message follows unchanged" "$(cat "$T_TMP/msg")" "$(tail -n +3 "$f")"
}

testReceivedFollowsCRLF() {
  printf 'Subject: crlf\r\n\r\nbody\r\n' > "$T_TMP/msg"
  printf 'F\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  inject
  f=$(ls "$Q"/mess/*)
  assertEquals "CRLF Received line" 2 "$(head -n 2 "$f" | grep -c "$(printf '\r')\$")"
}

testNetworkInvocation() {
  printf 'F\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  TCPREMOTEIP=192.0.2.1 inject
  assertTrue "from network" "grep -q 'invoked from network' $Q/mess/*"
}

testFormatErrors() {
  printf 'Xa@example.org\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  inject; assertEquals "no F" 91 $?
  printf 'Fa@example.org\0\0' > "$T_TMP/env"
  inject; assertEquals "no recipient" 91 $?
  printf 'Fa@example.org\0Tb@example.com\0X\0\0' > "$T_TMP/env"
  inject; assertEquals "bad field" 91 $?
  printf 'Fa@example.org\0T\0\0' > "$T_TMP/env"
  inject; assertEquals "empty recipient" 91 $?
  assertEquals "nothing queued" 0 "$(count_files "$Q/env")"
  assertEquals "nothing left in mess" 0 "$(count_files "$Q/mess")"
  assertEquals "nothing left in tmp" 0 "$(count_files "$Q/tmp")"
  assertContains "one-line reason" "$(cat "$T_TMP/err")" "vmail-queue: fatal: accept envelope: format error"
}

testShortEnvelope() {
  printf 'Fa@example.org\0Tpostmaster@example.com\0' > "$T_TMP/env"
  inject; assertEquals "cut envelope" 54 $?
  : > "$T_TMP/env"
  inject; assertEquals "empty envelope" 54 $?
  assertEquals "nothing left" 0 "$(count_files "$Q")"
}

testAddressTooLong() {
  long=$(head -c 300 /dev/zero | tr '\0' a)
  printf 'Fa@example.org\0T%s@example.com\0\0' "$long" > "$T_TMP/env"
  inject; assertEquals "long recipient" 11 $?
  printf 'F%s@example.org\0Tb@example.com\0\0' "$long" > "$T_TMP/env"
  inject; assertEquals "long sender" 11 $?
  assertEquals "nothing queued" 0 "$(count_files "$Q/env")"
}

testBytesAfterEnvelopeIgnored() {
  printf 'Fa@example.org\0Tpostmaster@example.com\0\0trailing' > "$T_TMP/env"
  inject; assertEquals "exit" 0 $?
  printf 'Fa@example.org\0Tpostmaster@example.com\0\0' > "$T_TMP/want"
  assertTrue "stored without them" "cmp -s '$T_TMP/want' $Q/env/*"
}

testUnusableQueueDirectory() {
  printf 'F\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  : > "$T_TMP/notadir"
  VMAIL_QUEUE_DIR=$T_TMP/notadir/q inject
  assertEquals "queue files trouble" 62 $?
}

testWakesTheRunner() {
  printf 'F\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  inject   # creates the fifo
  rm -f "$Q"/env/* "$Q"/mess/*
  timeout 10 head -c 1 "$Q/trigger" > "$T_TMP/woken" &
  reader=$!
  sleep 0.2
  inject
  wait $reader
  assertEquals "one 'n' byte" "n" "$(cat "$T_TMP/woken")"
}

testNoReaderDoesNotBlock() {
  printf 'F\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  inject; inject
  assertEquals "second exit" 0 $?
  assertEquals "two queued" 2 "$(count_files "$Q/env")"
}

testIdsAreUniqueAndSorted() {
  printf 'F\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  i=0; while [ $i -lt 20 ]; do inject & i=$((i + 1)); done; wait
  assertEquals "20 distinct ids" 20 "$(ls "$Q/env" | sort -u | wc -l)"
  first=$(ls "$Q/env" | head -n 1)
  inject
  assertEquals "newest sorts last" "$(ls -t "$Q/env" | head -n 1)" "$(ls "$Q/env" | tail -n 1)"
  assertNotEquals "$first" "$(ls "$Q/env" | tail -n 1)"
}

testReadFailureIsTemporary() {
  printf 'F\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  vmail-queue < "$T_TMP" 1< "$T_TMP/env" 2>"$T_TMP/err"
  assertEquals "unreadable message" 54 $?
  assertEquals "nothing left" 0 "$(count_files "$Q/tmp")"
}

testUsage() {
  vmail-queue extra </dev/null 2>/dev/null
  assertEquals 100 $?
}

# vmailctl queue: list, flush, delete (the listing vmail-sendmail -bp shares)
testCtlQueueList() {
  assertEquals "empty queue lists nothing" "" "$(vmailctl queue list)"
  printf 'Fa@example.org\0Tpostmaster@example.com\0Tfar@example.net\0\0' > "$T_TMP/env"
  inject
  id=$(ls "$Q/env")
  printf 'D 0\nZ 1 4.4.0 no remote delivery configured\n' > "$Q/state/$id"
  out=$(vmailctl queue list)
  assertEquals "id, age, sender, pending recipients, last error" \
    "$id age=Ns from=<a@example.org> to=<far@example.net> error=\"4.4.0 no remote delivery configured\"" \
    "$(echo "$out" | sed -E 's/ age=[0-9]+s / age=Ns /')"
}

testCtlQueueDelete() {
  printf 'F\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  inject; inject
  id=$(ls "$Q/env" | head -n 1)
  printf 'Z 0 x\n' > "$Q/state/$id"
  vmailctl queue delete "$id"
  assertEquals "exit" 0 $?
  assertEquals "one left" 1 "$(count_files "$Q/env")"
  assertFalse "its files gone" "ls $Q/*/$id 2>/dev/null"
  vmailctl queue delete "$id" 2>/dev/null
  assertEquals "not queued any more" 100 $?
  vmailctl queue delete ../../etc/passwd 2>/dev/null
  assertEquals "not an id" 100 $?
}

testCtlQueueFlush() {
  printf 'F\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  inject
  vmailctl queue flush 2>/dev/null
  assertEquals "no runner: temporary" 111 $?
  timeout 10 head -c 1 "$Q/trigger" > "$T_TMP/woken" &
  reader=$!
  sleep 0.2
  vmailctl queue flush
  assertEquals "exit" 0 $?
  wait $reader
  assertEquals "one 'f' byte" "f" "$(cat "$T_TMP/woken")"
}

testCtlQueueUsage() {
  vmailctl queue frobnicate 2>/dev/null
  assertEquals 1 $?
}

. shunit2
