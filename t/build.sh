#!/bin/sh
# The build's contract (Makefile): the flags every program is compiled with,
# make install, and the fuzz targets. Nothing here rebuilds the tree: make -n
# shows what would run; make install only copies the programs already built.
. "$T_TOP/t/lib/common.sh"

# a make of its own, not a sub-make of `make check` (no jobserver, no flags)
mk() { MAKEFLAGS= MFLAGS= MAKELEVEL= make --no-print-directory -C "$T_TOP" "$@" 2>&1; }

testProgramsBuildWithStrictFlags() {
  out=$(mk -n -W cmd/vmail-resolve/main.c bin/vmail-resolve)
  for f in -std=c11 -O2 -g -Wall -Wextra -Werror; do assertContains "$f" "$out" " $f"; done
  assertContains "linked with skalibs, libmariadb, libxcrypt" "$out" "-lskarnet -lmariadb -lcrypt"
  out=$(mk -n -W cmd/vmail-resolve/main.c SANITIZE=1 bin/vmail-resolve)
  assertContains "$out" "-fsanitize=address,undefined"
}

testEveryProgramIsATarget() {
  out=$(mk -n -W lib/addr.c all)
  for c in "$T_TOP"/cmd/*/; do
    assertContains "$(basename "$c")" "$out" "-o bin/$(basename "$c") "
  done
}

testInstallLaysOutTheSystemUnderDestdir() {
  d=$T_TMP/sys
  mk install DESTDIR="$d" >"$T_TMP/install.out"
  assertEquals "make install: $(tail -n 5 "$T_TMP/install.out")" 0 $?
  assertEquals "env defaults" /var/log/vmail "$(cat "$d/etc/vmail/env/VMAIL_LOGDIR")"
  assertEquals "PATH" /usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$(cat "$d/etc/vmail/env/PATH")"
  for s in "$T_TOP"/service/*/; do
    n=$(basename "$s")
    assertTrue "service $n" "[ -x '$d/etc/vmail/service/$n/run' ]"
    [ -d "$s/log" ] && assertTrue "log of $n" "[ -d '$d/var/log/vmail/$n' ]"
    [ -d "$s/log" ] && assertContains "log/run of $n has a default place" \
      "$(cat "$s/log/run")" "\${VMAIL_LOGDIR:-/var/log/vmail}/$n"
  done
  assertEquals "queue" 700 "$(stat -c %a "$d/var/spool/vmail")"
  assertContains "the unit" "$(cat "$d/etc/systemd/system/vmail.service")" "ExecStart=/usr/local/share/vmail/svscan"
  # again: a setting an administrator changed and a down file stay
  echo 7 > "$d/etc/vmail/env/VMAIL_SMTP_CONCURRENCY"; echo x > "$d/etc/vmail/env/VMAIL_LOGDIR"
  touch "$d/etc/vmail/service/pop3/down"; echo junk > "$d/etc/vmail/service/pop3/run"
  mk install DESTDIR="$d" >"$T_TMP/install.out"
  assertEquals 0 $?
  assertEquals 7 "$(cat "$d/etc/vmail/env/VMAIL_SMTP_CONCURRENCY")"
  assertEquals x "$(cat "$d/etc/vmail/env/VMAIL_LOGDIR")"
  assertTrue "down kept" "[ -f '$d/etc/vmail/service/pop3/down' ]"
  assertEquals "run scripts are vmail's" "$(cat "$T_TOP/service/pop3/run")" "$(cat "$d/etc/vmail/service/pop3/run")"
  # DESTDIR: nothing outside it, no users
  assertFalse "no user step" "grep -q 'user .* created' '$T_TMP/install.out'"
}

testInstallUnderDestdir() {
  mk install DESTDIR="$T_TMP/inst" >"$T_TMP/install.out"
  assertEquals "make install" 0 $?
  p=$T_TMP/inst/usr/local
  for c in "$T_TOP"/cmd/*/; do
    n=$(basename "$c")
    assertTrue "bin/$n" "[ -x '$p/bin/$n' ]"
    assertTrue "man8/$n.8" "[ -f '$p/share/man/man8/$n.8' ]"
  done
  for f in schema.sql grants.sql migrations/001-indexes.sql; do
    assertTrue "sql/$f" "[ -f '$p/share/vmail/sql/$f' ]"
  done
  for s in smtpd submission pop3 imap send; do
    assertTrue "service $s" "[ -x '$p/share/vmail/service/$s/run' ] && [ -x '$p/share/vmail/service/$s/log/run' ]"
  done
}

testVmailctlLooksForSqlWherePrefixPutsIt() {
  # the default VMAIL_SQL_DIR follows PREFIX, so `make install PREFIX=/usr`
  # gives a vmailctl init that finds /usr/share/vmail/sql
  out=$(mk -n PREFIX=/opt/vm install)
  assertContains "$out" "-DSQL_DIR_DEFAULT='\"/opt/vm/share/vmail/sql\"'"
  assertContains "$out" "/opt/vm/bin/"
}

testFuzzTargetsForAddressAndCheckpw() {
  out=$(mk -n -W t/fuzz/addr.c -W t/fuzz/checkpw.c fuzz)
  for t in addr checkpw; do
    assertContains "$t" "$out" "-fsanitize=fuzzer"
    assertContains "$t" "$out" "-o build/fuzz/$t t/fuzz/$t.c"
    assertTrue "$t seed corpus" "[ -n \"\$(ls '$T_TOP/t/fuzz/$t.corpus')\" ]"
  done
}

. shunit2
