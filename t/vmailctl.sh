#!/bin/sh
# vmailctl: the admin tool, against the tutorial's data (re-seeded per test).
. "$T_TOP/t/lib/common.sh"
export VMAIL_SQL_DIR="${VMAIL_SQL_DIR:-$T_TOP/sql}"

setUp() { seed_tutorial; }

# ctl ARGS...: runs vmailctl; stdout in $out, stderr in $err, exit code in $rc
ctl() {
  vmailctl "$@" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null; rc=$?
  out=$(cat "$T_TMP/out"); err=$(cat "$T_TMP/err")
}
# ctl_pw PASSWORD ARGS...: the same with PASSWORD as the first line of stdin
ctl_pw() {
  pw=$1; shift
  printf '%s\n' "$pw" | vmailctl "$@" >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
  out=$(cat "$T_TMP/out"); err=$(cat "$T_TMP/err")
}
# checkpw USER PASSWORD: 0 when vmail-checkpw accepts the login
checkpw() { printf '%s\0%s\0' "$1" "$2" | vmail-checkpw true 3<&0 </dev/null 2>/dev/null; }
hash_of() { sql "SELECT password FROM virtual_users WHERE email = '$1'"; }

# ---- usage: exit 1 -------------------------------------------------------

testUsageErrorsExit1() {
  for args in "" "frob" "domain" "domain frob x" "domain add" "domain add a.test b.test" \
              "domain list x" "user" "user add" "user add a@example.com - extra" \
              "user add --bogus a@example.com" "user add a@example.com --scheme" \
              "user del" "user list a b" "alias add x@example.com" "alias" "alias del" \
              "query" "query a@example.com b@example.com" "init now" "domain add --scheme sha512 a.test"; do
    ctl $args
    assertEquals "vmailctl $args" 1 "$rc"
    assertContains "vmailctl $args" "$err" "usage:"
  done
}

# ---- init ----------------------------------------------------------------

testInitRecordsMigrationsOnTutorialDatabase() {
  # what the tutorial's own SQL leaves: its three tables, no indexes of ours,
  # no vmail_migrations
  sql "DROP TABLE vmail_migrations; ALTER TABLE virtual_domains DROP INDEX name;
       ALTER TABLE virtual_aliases DROP INDEX source, DROP INDEX source_destination;"
  ctl init
  assertEquals 0 "$rc"
  assertContains "$out" "migration 001-indexes.sql: applied"
  assertEquals "001-indexes.sql" "$(sql 'SELECT name FROM vmail_migrations')"
  assertEquals "unique index restored" 1 "$(sql "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = 'mailserver' AND table_name = 'virtual_domains' AND index_name = 'name'")"
  assertEquals "tutorial data kept" "postmaster@example.com" "$(sql "SELECT email FROM virtual_users WHERE id = 1")"
}

testInitTwiceIsFine() {
  ctl init; assertEquals 0 "$rc"
  ctl init
  assertEquals 0 "$rc"
  assertContains "$out" "migration 001-indexes.sql: already applied"
  assertEquals 1 "$(sql 'SELECT COUNT(*) FROM vmail_migrations')"
}

testConcurrentInitsApplyEachMigrationOnce() {
  sql "DELETE FROM vmail_migrations"
  vmailctl init >"$T_TMP/init1" 2>&1 & pid=$!
  vmailctl init >"$T_TMP/init2" 2>&1; rc2=$?
  wait $pid; rc1=$?
  assertEquals 0 "$rc1"
  assertEquals 0 "$rc2"
  assertEquals 1 "$(cat "$T_TMP/init1" "$T_TMP/init2" | grep -c 'migration 001-indexes.sql: applied')"
  assertEquals 1 "$(sql 'SELECT COUNT(*) FROM vmail_migrations')"
}

testInitCreatesSchemaInEmptyDatabase() {
  sql "DROP DATABASE IF EXISTS vmail_fresh; CREATE DATABASE vmail_fresh;
       GRANT ALL ON vmail_fresh.* TO 'vmailadmin'@'localhost';"
  VMAIL_DB_NAME=vmail_fresh ctl init
  assertEquals 0 "$rc"
  tables=$(db_root "$T_DB" vmail_fresh -N -e 'SHOW TABLES' | sort | tr '\n' ' ')
  assertEquals "virtual_aliases virtual_domains virtual_users vmail_migrations " "$tables"
  VMAIL_DB_NAME=vmail_fresh ctl domain add fresh.test
  assertEquals 0 "$rc"
  sql "DROP DATABASE vmail_fresh"
}

testInitWithoutSqlFilesIs111() {
  VMAIL_SQL_DIR=$T_TMP/nowhere ctl init
  assertEquals 111 "$rc"
  assertContains "$err" "$T_TMP/nowhere/schema.sql"
}

# ---- domain --------------------------------------------------------------

testDomainAddListLowercased() {
  ctl domain add New.TEST
  assertEquals 0 "$rc"
  ctl domain list
  assertEquals "$(printf 'example.com\nhostname.example.com\nnew.test')" "$out"
}

testDomainAddDuplicateIgnoresCase() {
  ctl domain add EXAMPLE.com
  assertEquals 100 "$rc"
  assertContains "$err" "domain already exists: example.com"
  assertEquals 1 "$(sql "SELECT COUNT(*) FROM virtual_domains WHERE name = 'example.com'")"
}

testDomainAddInvalidIs100() {
  for d in 'bad..test' 'under_score.test' '-lead.test' "$(printf 'x%.0s' $(seq 1 51)).test"; do
    ctl domain add -- "$d"
    assertEquals "$d" 100 "$rc"
  done
  assertEquals 2 "$(sql 'SELECT COUNT(*) FROM virtual_domains')"
}

testDomainDelCascadesAndCounts() {
  ctl domain del EXAMPLE.COM
  assertEquals 0 "$rc"
  assertContains "$out" "deleted domain example.com with 2 users and 1 aliases"
  assertEquals 0 "$(sql 'SELECT COUNT(*) FROM virtual_users')"
  assertEquals 0 "$(sql 'SELECT COUNT(*) FROM virtual_aliases')"
  assertEquals "hostname.example.com" "$(sql 'SELECT name FROM virtual_domains')"
}

testDomainDelUnknownIs100() {
  ctl domain del nowhere.test
  assertEquals 100 "$rc"
  assertContains "$err" "no such domain: nowhere.test"
}

# ---- the envdir ----------------------------------------------------------

# vmailctl reads VMAIL_ENVDIR (default /etc/vmail/env) as the services do;
# what the environment already has wins.
testEnvdirGivesTheAdminAccount() {
  e=$T_TMP/env; mkdir -p "$e"
  echo vmailadmin > "$e/VMAIL_DB_ADMIN_USER"
  echo "$VMAIL_DB_ADMIN_PASSWORD_FILE" > "$e/VMAIL_DB_ADMIN_PASSWORD_FILE"
  printf 'no-such-db  \n' > "$e/VMAIL_DB_NAME"
  mkdir "$e/not-a-variable"
  env -u VMAIL_DB_ADMIN_USER -u VMAIL_DB_ADMIN_PASSWORD_FILE VMAIL_ENVDIR="$e" \
    vmailctl domain list >"$T_TMP/out" 2>"$T_TMP/err"
  assertEquals "$(cat "$T_TMP/err")" 0 $?
  assertContains "$(cat "$T_TMP/out")" "example.com"
  # without it, the ordinary account (lookup: SELECT only) cannot add a domain
  env -u VMAIL_DB_ADMIN_USER -u VMAIL_DB_ADMIN_PASSWORD_FILE VMAIL_ENVDIR= \
    vmailctl domain add env.test >/dev/null 2>&1
  assertNotEquals 0 $?
  assertEquals 0 "$(sql "SELECT COUNT(*) FROM virtual_domains WHERE name = 'env.test'")"
  env -u VMAIL_DB_ADMIN_USER -u VMAIL_DB_ADMIN_PASSWORD_FILE VMAIL_ENVDIR="$e" \
    vmailctl domain add env.test >/dev/null 2>&1
  assertEquals 0 $?
  # the envdir's VMAIL_DB_NAME is used when the environment has none
  env -u VMAIL_DB_NAME VMAIL_ENVDIR="$e" vmailctl domain list >/dev/null 2>"$T_TMP/err"
  assertEquals 111 $?
  assertContains "$(cat "$T_TMP/err")" "no-such-db"
  VMAIL_ENVDIR=$T_TMP/missing vmailctl domain list >/dev/null 2>"$T_TMP/err"
  assertEquals 111 $?
  assertContains "$(cat "$T_TMP/err")" "envdir $T_TMP/missing"
}

# ---- init --grants --------------------------------------------------------

# a login as account $1 with the password in file $2 runs SQL $3
as_account() { mariadb --no-defaults -S "$VMAIL_DB_SOCKET" -u"$1" -p"$(cat "$2")" -N -e "$3" 2>&1; }

testInitGrantsCreatesAccountsAndFiles() {
  g=$T_TMP/grants; mkdir -p "$g"
  # an administrator's own password, with what broke the old sed step
  printf '%s\n' "a/b'c\\d\"e\$f" > "$g/auth.pw"
  grants() {
    VMAIL_DB_NAME=vmail_grants_t VMAIL_DB_ROOT_USER=root VMAIL_GID=4242 \
    VMAIL_DB_USER=t_lookup VMAIL_DB_PASSWORD_FILE=$g/lookup.pw \
    VMAIL_DB_AUTH_USER=t_auth VMAIL_DB_AUTH_PASSWORD_FILE=$g/auth.pw \
    VMAIL_DB_ADMIN_USER=t_admin VMAIL_DB_ADMIN_PASSWORD_FILE=$g/admin.pw \
    vmailctl init --grants >"$T_TMP/out" 2>"$T_TMP/err"
  }
  grants
  assertEquals "$(cat "$T_TMP/err")" 0 $?
  assertContains "$(cat "$T_TMP/out")" "account t_lookup: password in $g/lookup.pw (generated)"
  assertContains "$(cat "$T_TMP/out")" "account t_auth: password in $g/auth.pw (kept)"
  # root's files and the lookup one's group VMAIL_GID when run as root (as
  # t/e2e/install.sh does); as another user (t/run-tests' vmailtest) the
  # files are that user's, the modes the same
  if [ "$(id -u)" = 0 ]; then mine=0:0 lookup=0:4242; else mine=$(id -u):$(id -g) lookup=$mine; fi
  assertEquals "600 $mine" "$(stat -c '%a %u:%g' "$g/admin.pw")"
  assertEquals "600 $mine" "$(stat -c '%a %u:%g' "$g/auth.pw")"
  assertEquals "640 $lookup" "$(stat -c '%a %u:%g' "$g/lookup.pw")"
  lookup_pw=$(cat "$g/lookup.pw")
  # the rights of sql/grants.sql
  assertEquals "0" "$(as_account t_lookup "$g/lookup.pw" 'SELECT COUNT(*) FROM vmail_grants_t.virtual_domains')"
  assertContains "$(as_account t_lookup "$g/lookup.pw" 'SELECT password FROM vmail_grants_t.virtual_users')" "denied"
  assertEquals "0" "$(as_account t_auth "$g/auth.pw" 'SELECT COUNT(password) FROM vmail_grants_t.virtual_users')"
  assertContains "$(as_account t_auth "$g/auth.pw" "INSERT INTO vmail_grants_t.virtual_domains (name) VALUES ('x.test')")" "denied"
  as_account t_admin "$g/admin.pw" "INSERT INTO vmail_grants_t.virtual_domains (name) VALUES ('x.test')"
  assertEquals 0 $?
  # twice: nothing changes, the passwords are kept
  grants
  assertEquals 0 $?
  assertContains "$(cat "$T_TMP/out")" "account t_lookup: password in $g/lookup.pw (kept)"
  assertEquals "$lookup_pw" "$(cat "$g/lookup.pw")"
  assertEquals "1" "$(as_account t_lookup "$g/lookup.pw" 'SELECT COUNT(*) FROM vmail_grants_t.virtual_domains')"
  # rights given by hand go: the servers' account never reads hashes
  db_root "$T_DB" -e "GRANT SELECT ON vmail_grants_t.* TO t_lookup@localhost"
  assertNotContains "$(as_account t_lookup "$g/lookup.pw" 'SELECT password FROM vmail_grants_t.virtual_users')" "denied"
  grants
  assertEquals 0 $?
  assertContains "$(as_account t_lookup "$g/lookup.pw" 'SELECT password FROM vmail_grants_t.virtual_users')" "denied"
  db_root "$T_DB" -e "DROP USER t_lookup@localhost, t_auth@localhost, t_admin@localhost; DROP DATABASE vmail_grants_t"
}

testInitGrantsRefusesBadNames() {
  VMAIL_DB_NAME='x`y' vmailctl init --grants >/dev/null 2>"$T_TMP/err"
  assertEquals 100 $?
  VMAIL_DB_NAME=vmail_grants_u VMAIL_DB_USER="a'b" VMAIL_DB_PASSWORD_FILE=$T_TMP/l.pw \
    vmailctl init --grants >/dev/null 2>"$T_TMP/err"
  assertEquals 100 $?
  assertContains "$(cat "$T_TMP/err")" "VMAIL_DB_USER must be letters"
  assertFalse "no file for a refused account" "[ -e $T_TMP/l.pw ]"
  db_root "$T_DB" -e "DROP DATABASE IF EXISTS vmail_grants_u"
}

# ---- dovecot-uidlist (the rollback to Dovecot) ---------------------------

testDovecotUidlistFromVmailUids() {
  f=$T_TMP/folder; rm -rf "$f"; mkdir -p "$f/cur" "$f/new" "$f/tmp"
  # Dovecot numbered 1-3 (2 saved a POP3 UIDL); vmail expunged 3, gave 4
  # and 5, and f.M6 arrived after vmail's IMAP server last looked
  printf '3 V1700000000 N4 G0123456789abcdef0123456789abcdef\n1 :a.M1\n2 P00000002uidl :b.M2\n3 :c.M3\n' > "$f/dovecot-uidlist"
  printf 'V1 1700000000 6\n1 a.M1\n2 b.M2\n4 d.M4\n5 e.M5\n' > "$f/vmail-uidlist"
  for m in cur/a.M1:2,S cur/b.M2:2, new/d.M4 new/e.M5 new/f.M6; do echo x > "$f/$m"; done
  # what vmail-pop3d serves, to compare with what the list will make Dovecot serve
  printf 'UIDL\r\nQUIT\r\n' | (cd "$f" && vmail-pop3d 2>/dev/null) | tr -d '\r' | sed -n 's/^[0-9]* //p' > "$T_TMP/vmail.uidl"
  ctl dovecot-uidlist "$f"
  assertEquals "$err" 0 "$rc"
  assertEquals "$f: 5 UIDs, UIDVALIDITY 1700000000, next UID 7" "$out"
  # the old UIDLs; for mail Dovecot never had, the base names vmail-pop3d gave
  assertEquals "$(printf '3 V1700000000 N7 G0123456789abcdef0123456789abcdef\n1 :a.M1\n2 P00000002uidl :b.M2\n4 Pd.M4 :d.M4\n5 Pe.M5 :e.M5\n6 Pf.M6 :f.M6')" "$(cat "$f/dovecot-uidlist")"
  assertEquals 600 "$(stat -c %a "$f/dovecot-uidlist")"
  # (those are what vmail-pop3d served)
  assertEquals "$(printf '000000016553f100\n00000002uidl\nd.M4\ne.M5\nf.M6')" "$(cat "$T_TMP/vmail.uidl")"
  # Dovecot's lock is respected
  cp "$f/dovecot-uidlist" "$T_TMP/before"; : > "$f/dovecot-uidlist.lock"
  ctl dovecot-uidlist "$f"
  assertEquals 111 "$rc"; assertContains "$err" "is Dovecot running?"
  assertEquals "$(cat "$T_TMP/before")" "$(cat "$f/dovecot-uidlist")"
  ctl dovecot-uidlist
  assertEquals 1 "$rc"
}

testDovecotUidlistOfAPop3OnlyFolder() {
  # vmail's IMAP server never opened it: Dovecot's UIDs stay, the mail vmail
  # delivered gets the next ones and its base names as UIDLs
  f=$T_TMP/pop; rm -rf "$f"; mkdir -p "$f/cur" "$f/new" "$f/tmp"
  printf '3 V1700000000 N2\n1 :a.M1\n' > "$f/dovecot-uidlist"
  for m in cur/a.M1:2,S new/g.M7 new/h.M8; do echo x > "$f/$m"; done
  ctl dovecot-uidlist "$f"
  assertEquals "$err" 0 "$rc"
  assertEquals "$(printf '3 V1700000000 N4\n1 :a.M1\n2 Pg.M7 :g.M7\n3 Ph.M8 :h.M8')" "$(cat "$f/dovecot-uidlist")"
  # a folder with no list and no mail is left alone
  e=$T_TMP/empty; rm -rf "$e"; mkdir -p "$e/cur" "$e/new" "$e/tmp"
  ctl dovecot-uidlist "$e"
  assertEquals 0 "$rc"; assertContains "$out" "no mail, left as it is"
  assertFalse "[ -e $e/dovecot-uidlist ]"
  # with mail and no list at all, every message keeps the base name vmail gave
  echo x > "$e/new/i.M9"
  ctl dovecot-uidlist "$e"
  assertEquals 0 "$rc"
  assertEquals "1 Pi.M9 :i.M9" "$(sed -n 2p "$e/dovecot-uidlist")"
}

# ---- user ----------------------------------------------------------------

testUserAddDefaultsToSha512() {
  # SHA512-CRYPT: the tutorial's Dovecot may still read the table
  ctl_pw 's3cret pw' user add new@example.com -
  assertEquals 0 "$rc"
  assertContains "$out" "added user new@example.com"
  h=$(hash_of new@example.com)
  assertEquals '$6$' "$(printf '%s' "$h" | cut -c1-3)"
  checkpw new@example.com 's3cret pw'; assertEquals "checkpw accepts" 0 $?
  checkpw new@example.com 's3cret'; assertEquals "checkpw refuses" 1 $?
}

testUserAddSchemeSetting() {
  printf 'pwy\n' | VMAIL_PASSWORD_SCHEME=yescrypt vmailctl user add y@example.com - >/dev/null 2>&1
  assertEquals '$y$' "$(hash_of y@example.com | cut -c1-3)"
  checkpw y@example.com pwy; assertEquals 0 $?
  # --scheme wins over the setting
  printf 'pwb\n' | VMAIL_PASSWORD_SCHEME=yescrypt vmailctl user add b@example.com - --scheme bcrypt >/dev/null 2>&1
  assertEquals '$2b$' "$(hash_of b@example.com | cut -c1-4)"
  printf 'pwx\n' | VMAIL_PASSWORD_SCHEME=md5 vmailctl user add x@example.com - >/dev/null 2>"$T_TMP/err"
  assertEquals 100 $?
  assertContains "$(cat "$T_TMP/err")" "unknown scheme: md5"
}

testUserAddSha512ForSharedTables() {
  ctl_pw pw512 user add --scheme sha512 six@example.com -
  assertEquals 0 "$rc"
  assertEquals '$6$' "$(hash_of six@example.com | cut -c1-3)"
  checkpw six@example.com pw512; assertEquals 0 $?
  ctl_pw pw512b user add six2@example.com - --scheme=sha512
  assertEquals 0 "$rc"
  assertEquals '$6$' "$(hash_of six2@example.com | cut -c1-3)"
  checkpw six2@example.com pw512b; assertEquals 0 $?
}

testUserAddBcryptAndSha256() {
  ctl_pw pwb user add b@example.com - --scheme bcrypt; assertEquals 0 "$rc"
  ctl_pw pw5 user add f@example.com - --scheme sha256; assertEquals 0 "$rc"
  assertEquals '$2b$' "$(hash_of b@example.com | cut -c1-4)"
  assertEquals '$5$' "$(hash_of f@example.com | cut -c1-3)"
  checkpw b@example.com pwb; assertEquals 0 $?
  checkpw f@example.com pw5; assertEquals 0 $?
}

testUserAddUnknownSchemeIs100() {
  ctl_pw pw user add m@example.com - --scheme md5
  assertEquals 100 "$rc"
  assertContains "$err" "unknown scheme: md5"
  assertEquals 0 "$(sql "SELECT COUNT(*) FROM virtual_users WHERE email = 'm@example.com'")"
}

testUserAddUnknownDomainIs100() {
  ctl_pw pw user add someone@elsewhere.org -
  assertEquals 100 "$rc"
  assertContains "$err" "domain is not ours: elsewhere.org"
}

testUserAddDuplicateIs100EvenInOtherCase() {
  ctl_pw pw user add postmaster@example.com -
  assertEquals 100 "$rc"
  assertContains "$err" "user already exists: postmaster@example.com"
  ctl_pw pw user add PostMaster@Example.COM -
  assertEquals 100 "$rc"
  assertContains "$err" "already exists"
  checkpw postmaster@example.com password; assertEquals "old password kept" 0 $?
}

testUserAddBadAddressIs100() {
  for a in 'not an address' 'a..b@example.com' '@example.com' 'x@' 'x@bad..domain' '.dot@example.com'; do
    ctl_pw pw user add "$a" -
    assertEquals "$a" 100 "$rc"
    assertContains "$a" "$err" "invalid address"
  done
}

testUserAddUnsafeMailboxNameIs100() {
  ctl_pw pw user add 'a/b@example.com' -
  assertEquals 100 "$rc"
  assertContains "$err" "unsafe mailbox name"
  assertEquals 0 "$(sql "SELECT COUNT(*) FROM virtual_users WHERE email LIKE 'a/%'")"
}

testUserAddWarnsOfShadowingAlias() {
  ctl_pw pw user add alias@example.com -
  assertEquals 0 "$rc"
  assertContains "$err" "alias alias@example.com exists and comes first"
  ctl_pw pw user add plain@example.com -
  assertEquals "" "$err"
}

testUserAddStoresLowercase() {
  ctl_pw pw user add Bob@EXAMPLE.Com -
  assertEquals 0 "$rc"
  assertEquals "bob@example.com" "$(sql "SELECT email FROM virtual_users WHERE email = 'bob@example.com'")"
  checkpw bob@example.com pw; assertEquals 0 $?
}

testUserAddEmptyOrLongPasswordIs100() {
  ctl_pw '' user add e@example.com -
  assertEquals 100 "$rc"
  assertContains "$err" "empty password"
  ctl_pw "$(head -c 300 /dev/zero | tr '\0' x)" user add e@example.com -
  assertEquals 100 "$rc"
  assertContains "$err" "too long"
  assertEquals 0 "$(sql "SELECT COUNT(*) FROM virtual_users WHERE email = 'e@example.com'")"
}

testUserAddPasswordWithNulIs100() {
  # a NUL would end the password for crypt(3): "abc" would then log in
  printf 'abc\000def\n' | vmailctl user add nul@example.com - >/dev/null 2>"$T_TMP/err"; rc=$?
  assertEquals 100 "$rc"
  assertContains "$(cat "$T_TMP/err")" "NUL"
  assertEquals 0 "$(sql "SELECT COUNT(*) FROM virtual_users WHERE email = 'nul@example.com'")"
}

testUserAddWithoutTerminalIs100() {
  setsid -w vmailctl user add t@example.com </dev/null >/dev/null 2>"$T_TMP/err"; rc=$?
  assertEquals 100 "$rc"
  assertContains "$(cat "$T_TMP/err")" "no terminal"
}

# Runs vmailctl ARGS on a pseudo-terminal, answering each password prompt
# with the next of PW1 PW2; prints what the terminal showed, then "exit N".
on_tty() {
  python3 - "$@" <<'PY'
import os, pty, sys
pw = [sys.argv[1].encode(), sys.argv[2].encode()]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("vmailctl", ["vmailctl"] + sys.argv[3:])
seen = b""
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if seen.endswith(b"password: ") and pw:
        os.write(fd, pw.pop(0) + b"\n")
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace") + "\nexit %d\n" % os.waitstatus_to_exitcode(status))
PY
}

testUserPasswdPromptsTwiceWithoutEcho() {
  tty_out=$(on_tty 'tty-secret' 'tty-secret' user passwd postmaster@example.com)
  assertContains "$tty_out" "exit 0"
  assertContains "$tty_out" "New password: "
  assertContains "$tty_out" "Retype new password: "
  assertNotContains "password echoed" "$tty_out" "tty-secret"
  checkpw postmaster@example.com tty-secret; assertEquals 0 $?
  checkpw postmaster@example.com password; assertEquals 1 $?
}

testUserAddPromptMismatchIs100() {
  tty_out=$(on_tty 'one' 'two' user add m@example.com)
  assertContains "$tty_out" "exit 100"
  assertContains "$tty_out" "do not match"
  assertEquals 0 "$(sql "SELECT COUNT(*) FROM virtual_users WHERE email = 'm@example.com'")"
}

testUserPasswdFromStdin() {
  ctl_pw newpass user passwd user2@EXAMPLE.COM - --scheme sha512
  assertEquals 0 "$rc"
  assertEquals '$6$' "$(hash_of user2@example.com | cut -c1-3)"
  checkpw user2@example.com newpass; assertEquals 0 $?
  checkpw user2@example.com password2; assertEquals 1 $?
}

testUserPasswdUnknownIs100() {
  ctl_pw pw user passwd nobody@example.com -
  assertEquals 100 "$rc"
  assertContains "$err" "no such user: nobody@example.com"
}

testUserDel() {
  ctl user del User2@Example.com
  assertEquals 0 "$rc"
  assertContains "$out" "deleted user user2@example.com"
  assertEquals 0 "$(sql "SELECT COUNT(*) FROM virtual_users WHERE email = 'user2@example.com'")"
  ctl user del user2@example.com
  assertEquals 100 "$rc"
  assertContains "$err" "no such user"
}

testUserList() {
  sql "INSERT INTO virtual_users (domain_id, password, email) VALUES (2, '', 'h@hostname.example.com')"
  ctl user list
  assertEquals "$(printf 'h@hostname.example.com\npostmaster@example.com\nuser2@example.com')" "$out"
  ctl user list EXAMPLE.COM
  assertEquals 0 "$rc"
  assertEquals "$(printf 'postmaster@example.com\nuser2@example.com')" "$out"
  ctl user list nowhere.test
  assertEquals 100 "$rc"
  assertContains "$err" "no such domain"
}

# ---- alias ---------------------------------------------------------------

testAliasAddSeveralDestinations() {
  ctl alias add Team@Example.com postmaster@example.com user2@EXAMPLE.COM
  assertEquals 0 "$rc"
  ctl alias list example.com
  assertEquals "$(printf 'alias@example.com postmaster@example.com\nteam@example.com postmaster@example.com\nteam@example.com user2@example.com')" "$out"
  res=$(vmail-resolve team@example.com | sort | tr '\n' ' ')
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster local user2@example.com $VMAIL_ROOT/example.com/user2 " "$res"
}

testAliasCatchAllAndRemote() {
  ctl alias add @EXAMPLE.COM postmaster@example.com
  assertEquals 0 "$rc"
  ctl alias add fwd@example.com Someone@Elsewhere.ORG
  assertEquals 0 "$rc"
  assertEquals "@example.com postmaster@example.com" "$(sql "SELECT CONCAT(source, ' ', destination) FROM virtual_aliases WHERE source LIKE '@%'")"
  assertEquals "Someone@elsewhere.org" "$(sql "SELECT destination FROM virtual_aliases WHERE source = 'fwd@example.com'")"
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$(vmail-resolve anything@example.com)"
}

testDomainAlias() {
  # @domain -> @otherdomain: every address of one domain is the same local
  # part in the other (Postfix's virtual(5))
  ctl domain add alias.test
  ctl alias add @Alias.Test @EXAMPLE.com
  assertEquals 0 "$rc"
  assertEquals "@alias.test @example.com" "$(sql "SELECT CONCAT(source, ' ', destination) FROM virtual_aliases WHERE source = '@alias.test'")"
  ctl query user2@alias.test
  assertEquals 0 "$rc"
  assertContains "$out" "alias @alias.test -> @example.com"
  assertContains "$out" "delivers to: local user2@example.com $VMAIL_ROOT/example.com/user2"
  ctl alias add @alias.test @bad..test
  assertEquals 100 "$rc"
  assertContains "$err" "invalid domain"
}

testAliasAddRefusals() {
  ctl alias add alias@example.com postmaster@example.com
  assertEquals "duplicate" 100 "$rc"
  assertContains "$err" "alias already exists"
  ctl alias add x@elsewhere.org postmaster@example.com
  assertEquals "foreign domain" 100 "$rc"
  assertContains "$err" "domain is not ours"
  ctl alias add x@example.com postmaster@example.com 'bad address'
  assertEquals "bad destination" 100 "$rc"
  assertContains "$err" "invalid destination"
  ctl alias add 'bad source' postmaster@example.com
  assertEquals "bad source" 100 "$rc"
  assertEquals "nothing half added" 1 "$(sql 'SELECT COUNT(*) FROM virtual_aliases')"
}

testAliasLoopIsWarned() {
  ctl alias add a@example.com b@example.com; assertEquals 0 "$rc"
  ctl alias add b@example.com a@example.com
  assertEquals 0 "$rc"
  assertContains "$err" "cannot be delivered"
}

testAliasDel() {
  ctl alias add team@example.com postmaster@example.com user2@example.com
  ctl alias del team@example.com user2@example.com
  assertEquals 0 "$rc"
  assertEquals "postmaster@example.com" "$(sql "SELECT destination FROM virtual_aliases WHERE source = 'team@example.com'")"
  ctl alias del team@example.com nobody@example.com
  assertEquals 100 "$rc"
  assertContains "$err" "no such alias"
  ctl alias del TEAM@example.com
  assertEquals 0 "$rc"
  assertEquals 0 "$(sql "SELECT COUNT(*) FROM virtual_aliases WHERE source = 'team@example.com'")"
  ctl alias del team@example.com
  assertEquals 100 "$rc"
}

testAliasListAll() {
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES (2, 'x@hostname.example.com', 'postmaster@example.com')"
  ctl alias list
  assertEquals "$(printf 'alias@example.com postmaster@example.com\nx@hostname.example.com postmaster@example.com')" "$out"
  ctl alias list nowhere.test
  assertEquals 100 "$rc"
}

# ---- query ---------------------------------------------------------------

testQueryAlias() {
  ctl query alias@example.com
  assertEquals 0 "$rc"
  assertEquals "$(printf 'domain example.com: ours (id 1)\nalias alias@example.com -> postmaster@example.com\ndelivers to: local postmaster@example.com %s/example.com/postmaster' "$VMAIL_ROOT")" "$out"
}

testQueryUserAnyCase() {
  ctl query PostMaster@EXAMPLE.COM
  assertEquals 0 "$rc"
  assertEquals "$(printf 'domain example.com: ours (id 1)\nalias PostMaster@example.com: no\nuser PostMaster@example.com: yes (stored as postmaster@example.com)\ndelivers to: local postmaster@example.com %s/example.com/postmaster' "$VMAIL_ROOT")" "$out"
}

testQueryExtension() {
  ctl query user2+lists@example.com
  assertEquals 0 "$rc"
  assertContains "$out" "user user2+lists@example.com: no"
  assertContains "$out" "user user2@example.com: yes"
  assertContains "$out" "delivers to: local user2@example.com $VMAIL_ROOT/example.com/user2"
}

testQueryCatchAll() {
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES (1, '@example.com', 'user2@example.com')"
  ctl query whoever@example.com
  assertEquals 0 "$rc"
  assertContains "$out" "alias @example.com -> user2@example.com"
  assertContains "$out" "delivers to: local user2@example.com"
}

testQueryUnknownUserIs100() {
  ctl query nobody@example.com
  assertEquals 100 "$rc"
  assertContains "$out" "user nobody@example.com: no"
  assertContains "$out" "alias @example.com: no"
  assertContains "$err" "no such user: nobody@example.com"
}

testQueryUnknownDomainIs100() {
  ctl query someone@elsewhere.org
  assertEquals 100 "$rc"
  assertEquals "domain elsewhere.org: not ours" "$out"
  assertContains "$err" "domain is not ours: elsewhere.org"
}

testQueryBadAddressIs100() {
  ctl query 'no at sign'
  assertEquals 100 "$rc"
  assertContains "$err" "invalid address"
}

# ---- what the database cannot hold: refused, 100 --------------------------

testCharacterTheTableCannotHoldIs100() {
  # 4-byte UTF-8 (an emoji): the tutorial's utf8 columns cannot store it;
  # MariaDB refuses the value, which is a permanent answer, not a failure
  emoji=$(printf '\360\237\230\200')
  ctl_pw pw user add "$emoji@example.com" -
  assertEquals "user add" 100 "$rc"
  ctl alias add alias@example.com "$emoji@elsewhere.org"
  assertEquals "alias add" 100 "$rc"
  ctl domain add "x$emoji.test"
  assertEquals "domain add" 100 "$rc"
  assertEquals "nothing stored" "2 1" "$(sql 'SELECT COUNT(*) FROM virtual_domains') $(sql 'SELECT COUNT(*) FROM virtual_aliases')"
}

# ---- a connection lost in a transaction: nothing half done ---------------

testConnectionLostInTransactionChangesNothing() {
  # The server drops vmailctl's connection while it adds the second of two
  # alias rows in one transaction. The first row went with the connection;
  # the second must not then be retried alone, committed on a new one.
  # (While the trigger sleeps, the processlist shows its statement.)
  sql "CREATE TRIGGER slow_alias BEFORE INSERT ON virtual_aliases FOR EACH ROW
       SET @slow = IF(NEW.destination = 'slow@example.com', SLEEP(3), 0)"
  vmailctl alias add team@example.com postmaster@example.com slow@example.com >"$T_TMP/out" 2>"$T_TMP/err" &
  pid=$!
  i=0; id=""
  while [ -z "$id" ] && [ $i -lt 50 ]; do
    sleep 0.1; i=$((i + 1))
    id=$(sql "SELECT id FROM information_schema.processlist WHERE info LIKE 'SET @slow%'")
  done
  [ -n "$id" ] && sql "KILL $id"
  wait $pid; rc=$?
  sql "DROP TRIGGER slow_alias"
  assertNotEquals "the insert was caught" "" "$id"
  assertEquals 111 "$rc"
  assertEquals "no row of team@" 0 "$(sql "SELECT COUNT(*) FROM virtual_aliases WHERE source = 'team@example.com'")"
}

# ---- database down: one line, 111 ----------------------------------------

testDatabaseDownIs111() {
  for args in "domain list" "domain add x.test" "user list" "alias list" "query postmaster@example.com" "init"; do
    VMAIL_DB_SOCKET=$T_TMP/no-such.sock ctl $args
    assertEquals "$args" 111 "$rc"
    assertContains "$args" "$err" "unable to connect to MariaDB"
    assertEquals "$args: one line" 1 "$(printf '%s\n' "$err" | wc -l)"
  done
  printf 'pw\n' | VMAIL_DB_SOCKET=$T_TMP/no-such.sock vmailctl user add n@example.com - >/dev/null 2>&1
  assertEquals "user add" 111 $?
}

. shunit2
