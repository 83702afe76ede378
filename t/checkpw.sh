#!/bin/sh
# vmail-checkpw: the checkpassword interface over virtual_users.
. "$T_TOP/t/lib/common.sh"

oneTimeSetUp() { seed_tutorial secret; }

# checkpw USER PASSWORD PROG...: credentials on fd 3, as a login program gives them
checkpw() {
  u=$1 p=$2; shift 2
  printf '%s\0%s\0%s\0' "$u" "$p" 1700000000 | vmail-checkpw "$@" 3<&0 </dev/null
}

testTutorialEncryptHashAccepted() {
  out=$(checkpw postmaster@example.com secret env); rc=$?
  assertEquals 0 "$rc"
  assertContains "$out" "USER=postmaster@example.com"
  assertContains "$out" "MAILDIR=$VMAIL_ROOT/example.com/postmaster"
  assertContains "$out" "HOME=$VMAIL_ROOT/example.com/postmaster"
}

testRunsInsideCreatedMaildir() {
  rm -rf "$VMAIL_ROOT/example.com/user2"
  out=$(checkpw user2@example.com password2 pwd)
  assertEquals "$VMAIL_ROOT/example.com/user2" "$out"
  for d in tmp new cur; do assertTrue "$d exists" "[ -d '$VMAIL_ROOT/example.com/user2/$d' ]"; done
  assertEquals 700 "$(stat -c %a "$VMAIL_ROOT/example.com/user2")"
}

testWrongPasswordExits1() {
  checkpw postmaster@example.com wrong true 2>/dev/null; assertEquals 1 $?
  checkpw postmaster@example.com '' true 2>/dev/null; assertEquals 1 $?
  checkpw postmaster@example.com secretx true 2>/dev/null; assertEquals 1 $?
}

testUnknownUserExits1() {
  checkpw nobody@example.com secret true 2>/dev/null; assertEquals 1 $?
  checkpw nobody@nowhere.org secret true 2>/dev/null; assertEquals 1 $?
  checkpw 'not an address' secret true 2>/dev/null; assertEquals 1 $?
}

testDomainCaseIgnored() {
  out=$(checkpw postmaster@EXAMPLE.COM secret env | grep '^USER=')
  assertEquals "USER=postmaster@example.com" "$out"
}

testMalformedInputExits1() {
  printf 'postmaster@example.com' | vmail-checkpw true 3<&0 2>/dev/null; assertEquals 1 $?
  printf 'postmaster@example.com\0secret' | vmail-checkpw true 3<&0 2>/dev/null; assertEquals 1 $?
  printf '\0secret\0' | vmail-checkpw true 3<&0 2>/dev/null; assertEquals 1 $?
  # no timestamp is fine, as qmail-popup sends it
  printf 'postmaster@example.com\0secret\0' | vmail-checkpw true 3<&0 2>/dev/null; assertEquals 0 $?
}

testOversizedInputRefused() {
  # 512 bytes are read and checked (a wrong password: logged); 513 are a bad
  # login before any lookup, exit 1 as checkpassword has it, not 111
  user=postmaster@example.com
  pw=$(head -c $((512 - ${#user} - 2)) /dev/zero | tr '\0' p)
  err=$(printf '%s\0%s\0' "$user" "$pw" | vmail-checkpw true 3<&0 2>&1); rc=$?
  assertEquals "512 bytes" 1 "$rc"
  assertContains "512 bytes" "$err" "auth fail reason=password"
  err=$(printf '%s\0%sp\0' "$user" "$pw" | vmail-checkpw true 3<&0 2>&1); rc=$?
  assertEquals "513 bytes" 1 "$rc"
  assertEquals "513 bytes: nothing looked up" "" "$err"
  head -c 100000 /dev/zero | tr '\0' a | vmail-checkpw true 3<&0 2>/dev/null
  assertEquals "100000 bytes" 1 $?
}

testCredentialsDescriptorClosedForProg() {
  # like checkpassword: fd 3 is read to the end and closed before prog runs
  out=$(checkpw postmaster@example.com secret sh -c '{ true <&3; } 2>/dev/null && echo open || echo closed')
  assertEquals "closed" "$out"
}

testCharacterTheTableCannotHoldIsABadLogin() {
  # a 4-byte UTF-8 character cannot be in the tutorial's utf8 columns; MariaDB
  # refuses to compare it, which is no user, not a temporary failure
  checkpw "$(printf '\360\237\230\200@example.com')" secret true 2>/dev/null
  assertEquals 1 $?
  checkpw "$(printf 'a\377@example.com')" secret true 2>/dev/null
  assertEquals 1 $?
}

testYescryptBcryptSha256Accepted() {
  for scheme in y 2b 5; do
    # libxcrypt itself makes the salt and the hash, as another tool would
    hash=$(python3 -c "
import ctypes, sys
c = ctypes.CDLL('libcrypt.so.1')
c.crypt_gensalt.restype = c.crypt.restype = ctypes.c_char_p
salt = c.crypt_gensalt(('\$' + sys.argv[1] + '\$').encode(), 0, None, 0)
print(c.crypt(('pw-' + sys.argv[1]).encode(), salt).decode())" "$scheme")
    assertEquals "hash is \$$scheme\$" "\$$scheme\$" "$(echo "$hash" | cut -c1-$((${#scheme} + 2)))"
    sql "DELETE FROM virtual_users WHERE email='h@example.com'; INSERT INTO virtual_users (domain_id, password, email) VALUES (1, '$hash', 'h@example.com')"
    checkpw h@example.com "pw-$scheme" true 2>/dev/null
    assertEquals "scheme $scheme ($hash)" 0 $?
    checkpw h@example.com "pw-wrong" true 2>/dev/null
    assertEquals "scheme $scheme wrong" 1 $?
  done
}

testDatabaseDownIs111() {
  err=$(printf 'postmaster@example.com\0secret\0' | VMAIL_DB_SOCKET=$T_TMP/none.sock vmail-checkpw true 3<&0 2>&1); rc=$?
  assertEquals 111 "$rc"
  assertContains "$err" "temporary"
}

# sql/grants.sql: the servers' account sees no password column, so only
# vmail-checkpw, with VMAIL_DB_AUTH_USER, reads hashes
testOnlyTheAuthAccountReadsHashes() {
  lookup() { mariadb --no-defaults -S "$VMAIL_DB_SOCKET" -u"$VMAIL_DB_USER" -p"$(cat "$VMAIL_DB_PASSWORD_FILE")" mailserver -N -e "$1" 2>&1; }
  assertEquals "vmaillookup" "$VMAIL_DB_USER"
  assertContains "the lookup account reads addresses" "$(lookup 'SELECT email FROM virtual_users WHERE id = 1')" "postmaster@example.com"
  assertContains "but not hashes" "$(lookup 'SELECT password FROM virtual_users')" "denied"
  assertContains "nor all columns" "$(lookup 'SELECT * FROM virtual_users')" "denied"
  assertEquals "vmail-checkpw logs in with the auth account" 0 "$(checkpw postmaster@example.com secret true; echo $?)"
  assertEquals "and needs it" 111 "$(VMAIL_DB_AUTH_USER= VMAIL_DB_AUTH_PASSWORD_FILE= checkpw postmaster@example.com secret true 2>/dev/null; echo $?)"
}

testNeverLogsPassword() {
  err=$(checkpw postmaster@example.com hunter2-unique true 2>&1 >/dev/null)
  assertContains "$err" "auth fail"
  assertNotContains "$err" "hunter2-unique"
  err=$(checkpw postmaster@example.com secret true 2>&1 >/dev/null)
  assertContains "$err" "auth ok user=postmaster@example.com"
}

# Guessing: VMAIL_AUTH_FAILURES failures per address, then nothing is
# verified (exit 3) until the window lets one more in; other addresses and
# callers without TCPREMOTEIP are not affected. A refusal waits
# VMAIL_AUTH_FAIL_DELAY.
testFailuresPerAddressBlock() {
  export VMAIL_AUTH_FAILURES=3 VMAIL_AUTH_WINDOW=600
  for i in 1 2 3; do
    TCPREMOTEIP=192.0.2.7 checkpw postmaster@example.com wrong$i true 2>/dev/null
    assertEquals "failure $i" 1 $?
  done
  err=$(TCPREMOTEIP=192.0.2.7 checkpw postmaster@example.com secret true 2>&1); rc=$?
  assertEquals "blocked: even the right password is not verified" 3 $rc
  assertContains "$err" "auth blocked reason=failures user=postmaster@example.com ip=192.0.2.7"
  TCPREMOTEIP=192.0.2.8 checkpw postmaster@example.com secret true; assertEquals "another address" 0 $?
  checkpw postmaster@example.com secret true; assertEquals "no address" 0 $?
  # an IPv6 host counts by its /64
  for i in 1 2 3; do TCPREMOTEIP=2001:db8:1:2::$i checkpw postmaster@example.com wrong true 2>/dev/null; done
  TCPREMOTEIP=2001:db8:1:2:ffff::9 checkpw postmaster@example.com secret true 2>/dev/null
  assertEquals "the same /64" 3 $?
  TCPREMOTEIP=2001:db8:1:3::1 checkpw postmaster@example.com secret true; assertEquals "the next /64" 0 $?
  assertEquals "the count is the owner's alone" 600 "$(stat -c %a "$VMAIL_LIMITS_DIR/auth")"
  unset VMAIL_AUTH_WINDOW; export VMAIL_AUTH_FAILURES=0
}

# After a burst, one more guess per window/failures: polled, bounded.
testBlockEndsAfterItsInterval() {
  export VMAIL_AUTH_FAILURES=2 VMAIL_AUTH_WINDOW=2
  TCPREMOTEIP=192.0.2.9 checkpw postmaster@example.com wrong true 2>/dev/null
  TCPREMOTEIP=192.0.2.9 checkpw postmaster@example.com wrong true 2>/dev/null
  TCPREMOTEIP=192.0.2.9 checkpw postmaster@example.com secret true 2>/dev/null
  assertEquals "blocked" 3 $?
  i=0
  until TCPREMOTEIP=192.0.2.9 checkpw postmaster@example.com secret true 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
  done
  assertTrue "let in again after about a second" "[ $i -lt 100 ]"
  unset VMAIL_AUTH_WINDOW; export VMAIL_AUTH_FAILURES=0
}

# Parallel guesses from one address are counted one after the other.
testParallelGuessesCountedInTurn() {
  export VMAIL_AUTH_FAILURES=3 VMAIL_AUTH_WINDOW=600
  for i in 1 2 3 4 5 6 7 8; do
    (TCPREMOTEIP=192.0.2.10 checkpw postmaster@example.com wrong true 2>/dev/null; echo $? > "$T_TMP/par.$i") &
  done
  wait
  assertEquals "three verified" 3 "$(cat "$T_TMP"/par.* | grep -c '^1$')"
  assertEquals "five blocked" 5 "$(cat "$T_TMP"/par.* | grep -c '^3$')"
  unset VMAIL_AUTH_WINDOW; export VMAIL_AUTH_FAILURES=0
}

testRefusalIsDelayed() {
  start=$(date +%s%N)
  VMAIL_AUTH_FAIL_DELAY=700 checkpw postmaster@example.com wrong true 2>/dev/null
  assertEquals 1 $?
  elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
  assertTrue "answered after ${elapsed}ms" "[ $elapsed -ge 700 ]"
}

testLimitsDirUnusableIs111() {
  : > "$T_TMP/notadir"
  VMAIL_AUTH_FAILURES=5 VMAIL_LIMITS_DIR="$T_TMP/notadir/x" TCPREMOTEIP=192.0.2.11 checkpw postmaster@example.com secret true 2>/dev/null
  assertEquals "fails closed" 111 $?
}

testUsageWithoutProgram() {
  printf 'a\0b\0' | vmail-checkpw 3<&0 2>/dev/null; assertEquals 100 $?
}

testExecFailureIs111() {
  checkpw postmaster@example.com secret /nonexistent/prog 2>/dev/null; assertEquals 111 $?
}

testUnknownUserCostsAboutAsMuchAsKnown() {
  # not a timing assertion: it checks that an unknown user is still hashed,
  # by counting crypt work through the time ratio being far from zero.
  t() { s=$(date +%s%N); for i in 1 2 3 4 5; do checkpw "$1" nope true 2>/dev/null; done; echo $(( ($(date +%s%N) - s) / 1000 )); }
  known=$(t postmaster@example.com); unknown=$(t ghost@example.com)
  # a skipped hash would make unknown logins several times cheaper
  assertTrue "unknown ${unknown}us vs known ${known}us" "[ $((unknown * 3)) -gt $known ]"
}

. shunit2
