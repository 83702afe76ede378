# Sourced by every suite (t/*.sh, t/e2e/*.sh) before shunit2.
# t/run-tests has already started a private MariaDB and exported:
#   VMAIL_DB_SOCKET, VMAIL_DB_NAME, VMAIL_DB_USER, VMAIL_DB_PASSWORD_FILE,
#   VMAIL_DB_ADMIN_USER, VMAIL_DB_ADMIN_PASSWORD_FILE, T_DB (server dir),
#   T_TOP (source tree), PATH with bin/ first.
# Run one suite alone with: sh t/run-tests t/resolve.sh
T_TOP=${T_TOP:?run suites through t/run-tests}
. "$T_TOP/t/lib/db.sh"

# A fresh scratch directory per suite; removed by t/run-tests.
T_TMP=$(mktemp -d "${T_TMPROOT:-/tmp}/vmail-t.XXXXXX")
export VMAIL_ROOT="$T_TMP/vhosts"
# No SMTP to the world from tests: suites that test outbound mail set
# VMAIL_REMOTE and their own DNS server (t/remote.sh, t/e2e/outbound.sh).
export VMAIL_REMOTE=off
# limits on guessing (vmail-checkpw(8)): a count of the suite's own, and
# off unless a test turns them on (e2e.sh gives instances the defaults)
export VMAIL_LIMITS_DIR="$T_TMP/limits" VMAIL_AUTH_FAILURES=0 VMAIL_AUTH_FAIL_DELAY=0

sql() { db_root "$T_DB" mailserver -N -e "$1"; }

# The tutorial's own data, inserted with the tutorial's own SQL.
seed_tutorial() {
  sql "SET FOREIGN_KEY_CHECKS=0; TRUNCATE virtual_aliases; TRUNCATE virtual_users; TRUNCATE virtual_domains; SET FOREIGN_KEY_CHECKS=1;
    INSERT INTO virtual_domains (id, name) VALUES ('1', 'example.com'), ('2', 'hostname.example.com');
    INSERT INTO virtual_users (id, domain_id, password, email) VALUES
      ('1', '1', ENCRYPT('${1:-password}', CONCAT('\$6\$', SUBSTRING(SHA(RAND()), -16))), 'postmaster@example.com'),
      ('2', '1', ENCRYPT('password2', CONCAT('\$6\$', SUBSTRING(SHA(RAND()), -16))), 'user2@example.com');
    INSERT INTO virtual_aliases (id, domain_id, source, destination) VALUES
      ('1', '1', 'alias@example.com', 'postmaster@example.com');"
}

# A message file of roughly $2 bytes (default small) at path $1.
make_message() {
  { printf 'From: a@example.org\r\nTo: postmaster@example.com\r\nSubject: test %s\r\n\r\n' "$(basename "$1")"
    n=${2:-100}; while [ "$n" -gt 0 ]; do printf 'body line of the test message, 64 bytes long.......\r\n'; n=$((n - 64)); done
  } > "$1"
}

# inject SENDER RCPT... with a message whose subject is $SUBJECT (default "test")
inject() {
  from=$1; shift
  { printf 'F%s\0' "$from"; for r in "$@"; do printf 'T%s\0' "$r"; done; printf '\0'; } > "$T_TMP/inject.env"
  printf 'From: <%s>\nSubject: %s\n\nbody of %s\nlast line\n' "$from" "${SUBJECT:-test}" "${SUBJECT:-test}" > "$T_TMP/inject.msg"
  vmail-queue < "$T_TMP/inject.msg" 1< "$T_TMP/inject.env"
}

# wait_until SECONDS COMMAND: polls every 0.1 s
wait_until() {
  t=$(($1 * 10)); shift; i=0
  until eval "$*"; do i=$((i + 1)); [ $i -lt $t ] || return 1; sleep 0.1; done
}

count_files() { find "$1" -type f 2>/dev/null | wc -l | tr -d ' '; }

oneTimeTearDown() { rm -rf "$T_TMP"; }
