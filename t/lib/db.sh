# Private MariaDB for tests and `make run`: its own datadir and unix socket,
# no TCP, as the current user (as root with --user=root). Source this file.
#   db_start DIR   start a server in DIR (socket DIR/db.sock); idempotent
#   db_stop DIR    stop it and wait
#   db_root DIR [mariadb args]   the client as the server's root
#   db_setup DIR   create database mailserver, schema, migrations, grants;
#                  passwords in DIR/mailuser.pw, DIR/lookup.pw and DIR/admin.pw
SQL_DIR=${SQL_DIR:-$(cd "$(dirname "$0")/.." 2>/dev/null && pwd)/sql}

db_userflag() { [ "$(id -u)" = 0 ] && echo --user=root; }

db_alive() { mariadb-admin --no-defaults -S "$1/db.sock" -uroot ping >/dev/null 2>&1; }

# mariadbd (and what mariadb-install-db runs) live in /usr/sbin, which is
# not on an ordinary user's PATH on Debian
db_path() { case :$PATH: in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac; }

db_start() {
  dir=$1
  db_path
  mkdir -p "$dir"
  db_alive "$dir" && return 0
  if [ ! -d "$dir/data/mysql" ]; then
    # once more from scratch if the first try fails: a busy machine can
    # make the bootstrap server time out
    for try in 1 2; do
      rm -rf "$dir/data"
      mariadb-install-db --no-defaults --datadir="$dir/data" $(db_userflag) \
        --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 && break
      [ $try = 2 ] && { echo "db: mariadb-install-db failed:" >&2; tail -n 20 "$dir/install.log" >&2; return 111; }
    done
  fi
  # setsid: the server outlives the shell that started it, and no terminal
  # signal reaches it.
  setsid mariadbd --no-defaults --datadir="$dir/data" --socket="$dir/db.sock" --skip-networking \
    --pid-file="$dir/db.pid" --log-error="$dir/db.err" $(db_userflag) \
    --innodb-buffer-pool-size=64M --max-connections=500 ${DB_EXTRA_OPTS:-} \
    </dev/null >/dev/null 2>&1 &
  i=0
  until db_alive "$dir"; do
    i=$((i + 1))
    [ $i -lt 300 ] || { echo "db: mariadbd did not start:" >&2; tail -n 20 "$dir/db.err" >&2 || echo "db: (no $dir/db.err: was mariadbd found?)" >&2; return 111; }
    sleep 0.1
  done
  chmod 755 "$dir"
}

db_stop() {
  dir=$1
  [ -f "$dir/db.pid" ] || return 0
  pid=$(cat "$dir/db.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
}

db_root() { dir=$1; shift; mariadb --no-defaults -S "$dir/db.sock" -uroot "$@"; }

db_password() { head -c 18 /dev/urandom | base64 | tr -d '/+=' ; }

db_setup() {
  dir=$1
  [ -s "$dir/mailuser.pw" ] || db_password > "$dir/mailuser.pw"
  [ -s "$dir/admin.pw" ] || db_password > "$dir/admin.pw"
  [ -s "$dir/lookup.pw" ] || db_password > "$dir/lookup.pw"
  chmod 600 "$dir/mailuser.pw" "$dir/admin.pw" "$dir/lookup.pw"
  db_root "$dir" -e 'CREATE DATABASE IF NOT EXISTS mailserver' || return 111
  db_root "$dir" mailserver < "$SQL_DIR/schema.sql" || return 111
  for m in "$SQL_DIR"/migrations/*.sql; do db_root "$dir" mailserver < "$m" || return 111; done
  sed -e "s/@MAILUSER_PASSWORD@/$(cat "$dir/mailuser.pw")/" \
      -e "s/@ADMIN_PASSWORD@/$(cat "$dir/admin.pw")/" \
      -e "s/@LOOKUP_PASSWORD@/$(cat "$dir/lookup.pw")/" "$SQL_DIR/grants.sql" |
    db_root "$dir" mailserver || return 111
}
