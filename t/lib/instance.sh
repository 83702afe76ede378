#!/bin/sh
# The private instance behind `make run` / `make stop`: everything under
# ./run, as the current user, on 127.0.0.1 high ports.
#   run/db/        MariaDB datadir and socket (run/db/db.sock)
#   run/env/       s6 envdir every service reads (VMAIL_ENVDIR)
#   run/vmail.env  the same, for `. run/vmail.env` in a shell
#   run/mail/      VMAIL_ROOT, the Maildirs
#   run/queue/     VMAIL_QUEUE_DIR
#   run/etc/       VMAIL_ETC: tcprules sources and cdbs
#   run/service/   s6-svscan's scan directory: one wrapper per service/NAME
#   run/log/NAME/  s6-log output of each service
#   run/limits/    VMAIL_LIMITS_DIR: counts of failed logins and connections
#   run/tls/       a private CA (ca.pem) and the server's cert and key
TOP=$(cd "$(dirname "$0")/../.." && pwd)
RUN=${VMAIL_RUN_DIR:-$TOP/run}
SQL_DIR=$TOP/sql
. "$TOP/t/lib/db.sh"

: "${VMAIL_SMTP_PORT:=2525}" "${VMAIL_SUBMISSION_PORT:=2587}"
: "${VMAIL_POP3_PORT:=1110}" "${VMAIL_IMAP_PORT:=1143}"
: "${VMAIL_SUBMISSIONS_PORT:=2465}" "${VMAIL_IMAPS_PORT:=1993}" "${VMAIL_POP3S_PORT:=1995}"

die() { echo "vmail: $*" >&2; exit 111; }

port_of() {
  case $1 in
    smtpd) echo "$VMAIL_SMTP_PORT" ;; submission) echo "$VMAIL_SUBMISSION_PORT" ;;
    pop3) echo "$VMAIL_POP3_PORT" ;; imap) echo "$VMAIL_IMAP_PORT" ;;
    submissions) echo "$VMAIL_SUBMISSIONS_PORT" ;; imaps) echo "$VMAIL_IMAPS_PORT" ;;
    pop3s) echo "$VMAIL_POP3S_PORT" ;; *) echo "" ;;
  esac
}

port_answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# run/tls: a private CA and a server certificate signed by it, for
# localhost, 127.0.0.1 and the host name; made again when missing or
# expiring within a day. The key is readable by its owner only.
make_tls() {
  d=$RUN/tls host=$(hostname -f 2>/dev/null || hostname)
  mkdir -p "$d"
  if [ ! -s "$d/ca.pem" ] || ! openssl x509 -checkend 86400 -noout -in "$d/ca.pem" >/dev/null 2>&1; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj "/CN=vmail make run CA $(hostname)" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null || return 1
    rm -f "$d/cert"
  fi
  if [ ! -s "$d/cert" ] || ! openssl x509 -checkend 86400 -noout -in "$d/cert" >/dev/null 2>&1; then
    printf 'subjectAltName=DNS:localhost,DNS:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' "$host" > "$d/ext"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$host" \
      -keyout "$d/key.new" -out "$d/csr" 2>/dev/null &&
    openssl x509 -req -in "$d/csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 825 \
      -extfile "$d/ext" -out "$d/cert.new" 2>/dev/null || return 1
    chmod 600 "$d/key.new" "$d/ca.key"
    mv "$d/key.new" "$d/key"; mv "$d/cert.new" "$d/cert"
  fi
}

# As root, vmail-tlsd's engine runs as vmailtls (a system user with no
# home and no shell), created when missing; its ids go into the env.
tls_user() {
  [ "$(id -u)" = 0 ] || return 0
  id vmailtls >/dev/null 2>&1 ||
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vmailtls >&2 ||
    return 1
  echo "VMAIL_TLS_UID=$(id -u vmailtls)" "VMAIL_TLS_GID=$(id -g vmailtls)"
}

write_env() {
  rm -rf "$RUN/env"; mkdir -p "$RUN/env"
  set -- \
    PATH="$TOP/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    VMAIL_ENVDIR="$RUN/env" VMAIL_ETC="$RUN/etc" VMAIL_LOGDIR="$RUN/log" \
    VMAIL_ROOT="$RUN/mail" VMAIL_QUEUE_DIR="$RUN/queue" VMAIL_LISTEN=127.0.0.1 \
    VMAIL_RESOLVE_SOCKET="$RUN/resolve.sock" \
    VMAIL_LIMITS_DIR="$RUN/limits" \
    VMAIL_SQL_DIR="$TOP/sql" \
    VMAIL_HOSTNAME="$(hostname -f 2>/dev/null || hostname)" \
    VMAIL_POSTMASTER=postmaster@example.com \
    VMAIL_DB_SOCKET="$RUN/db/db.sock" VMAIL_DB_NAME=mailserver \
    VMAIL_DB_USER=vmaillookup VMAIL_DB_PASSWORD_FILE="$RUN/db/lookup.pw" \
    VMAIL_DB_AUTH_USER=mailuser VMAIL_DB_AUTH_PASSWORD_FILE="$RUN/db/mailuser.pw" \
    VMAIL_DB_ADMIN_USER=vmailadmin VMAIL_DB_ADMIN_PASSWORD_FILE="$RUN/db/admin.pw" \
    VMAIL_SMTP_PORT="$VMAIL_SMTP_PORT" VMAIL_SUBMISSION_PORT="$VMAIL_SUBMISSION_PORT" \
    VMAIL_SUBMIT_PORT="$VMAIL_SMTP_PORT" \
    VMAIL_POP3_PORT="$VMAIL_POP3_PORT" VMAIL_IMAP_PORT="$VMAIL_IMAP_PORT" \
    VMAIL_SUBMISSIONS_PORT="$VMAIL_SUBMISSIONS_PORT" VMAIL_IMAPS_PORT="$VMAIL_IMAPS_PORT" \
    VMAIL_POP3S_PORT="$VMAIL_POP3S_PORT" \
    VMAIL_TLS_CERT="$RUN/tls/cert" VMAIL_TLS_KEY="$RUN/tls/key" VMAIL_TLS_CA="$RUN/tls/ca.pem" \
    $TLS_IDS ${VMAIL_AUTH_PLAINTEXT:+VMAIL_AUTH_PLAINTEXT="$VMAIL_AUTH_PLAINTEXT"}
  : > "$RUN/vmail.env.new"
  for kv in "$@"; do
    printf '%s\n' "${kv#*=}" > "$RUN/env/${kv%%=*}"
    printf "export %s='%s'\n" "${kv%%=*}" "${kv#*=}" >> "$RUN/vmail.env.new"
  done
  # mail(1) (bsd-mailx) sends through vmail-sendmail in a shell that sourced
  # vmail.env, keeping the user's own ~/.mailrc settings
  { [ -f "$HOME/.mailrc" ] && printf 'source %s\n' "$HOME/.mailrc"
    printf 'set sendmail=%s\n' "$TOP/bin/vmail-sendmail"; } > "$RUN/mailrc"
  printf "export MAILRC='%s'\n" "$RUN/mailrc" >> "$RUN/vmail.env.new"
  mv "$RUN/vmail.env.new" "$RUN/vmail.env"
}

seed_demo() {
  . "$RUN/vmail.env"
  vmailctl init >/dev/null || die "vmailctl init failed"
  vmailctl domain list | grep -qx example.com || vmailctl domain add example.com >/dev/null || die "seeding example.com failed"
  if [ -n "${VMAIL_DEMO_PASSWORD:-}" ]; then
    printf '%s\n' "$VMAIL_DEMO_PASSWORD" > "$RUN/demo-password"
  elif [ ! -s "$RUN/demo-password" ]; then
    db_password | cut -c1-12 > "$RUN/demo-password"
  fi
  chmod 600 "$RUN/demo-password"
  if vmailctl user list example.com | grep -qx postmaster@example.com; then
    vmailctl user passwd postmaster@example.com - < "$RUN/demo-password" || die "demo password failed"
  else
    vmailctl user add postmaster@example.com - < "$RUN/demo-password" >/dev/null || die "seeding postmaster failed"
  fi
  vmailctl alias list example.com | grep -q '^alias@example.com postmaster@example.com$' ||
    vmailctl alias add alias@example.com postmaster@example.com >/dev/null || die "seeding alias failed"
}

make_services() {
  mkdir -p "$RUN/service" "$RUN/log" "$RUN/etc" "$RUN/mail" "$RUN/queue"
  for s in "$TOP"/service/*/; do
    [ -x "$s/run" ] || continue
    name=$(basename "$s")
    d=$RUN/service/$name
    mkdir -p "$d/log" "$RUN/log/$name"
    printf '#!/bin/sh\nVMAIL_ENVDIR=%s exec %s\n' "$RUN/env" "$s/run" > "$d/run.new"
    chmod 755 "$d/run.new"; mv "$d/run.new" "$d/run"
    if [ -x "$s/log/run" ]; then
      printf '#!/bin/sh\nVMAIL_ENVDIR=%s exec %s\n' "$RUN/env" "$s/log/run" > "$d/log/run.new"
    else
      printf '#!/bin/sh\nexec s6-log -b n20 s1000000 T %s\n' "$RUN/log/$name" > "$d/log/run.new"
    fi
    chmod 755 "$d/log/run.new"; mv "$d/log/run.new" "$d/log/run"
  done
}

# As root, the real model (README, security): the mail user vmail (5000:5000
# as the tutorial, when that is free; else a system user) owns run/mail and
# run/queue, SMTP sessions parse as vmaild, POP3/IMAP before a login read as
# nobody; their ids go into run/env and run/vmail.env. Accounts that exist
# are used as they are.
root_user() {   # NAME [UID]: creates the system user NAME (and its group) if missing
  id -u "$1" >/dev/null 2>&1 && return 0
  if [ -n "${2:-}" ] && ! getent passwd "$2" >/dev/null && ! getent group "$2" >/dev/null; then
    groupadd --system --gid "$2" "$1" && useradd --system --uid "$2" --gid "$2" \
      --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$1" && return 0
  fi
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$1"
}

root_users() {
  [ "$(id -u)" = 0 ] || return 0
  root_user vmail 5000 || die "cannot create the mail user vmail"
  root_user vmaild || die "cannot create the SMTP user vmaild"
  for kv in VMAIL_UID="$(id -u vmail)" VMAIL_GID="$(id -g vmail)" \
      VMAIL_SMTPD_UID="$(id -u vmaild)" VMAIL_SMTPD_GID="$(id -g vmaild)" \
      VMAIL_LOGIN_UID="$(id -u nobody)" VMAIL_LOGIN_GID="$(id -g nobody)"; do
    printf '%s\n' "${kv#*=}" > "$RUN/env/${kv%%=*}"
    printf "export %s='%s'\n" "${kv%%=*}" "${kv#*=}" >> "$RUN/vmail.env"
  done
  # the users must reach the programs and run/ (not under a 0700 home)
  for u in vmail vmaild; do
    setpriv --reuid="$u" --regid="$u" --clear-groups test -x "$TOP/bin/vmail-smtpd" -a -x "$RUN" ||
      die "$u cannot reach $TOP/bin or $RUN: put the tree where other users may enter (chmod o+x)"
  done
  # Maildirs and the queue: the mail user's alone
  mkdir -p "$RUN/mail" "$RUN/queue"
  chown -R vmail:vmail "$RUN/mail" "$RUN/queue"
  chmod 700 "$RUN/mail" "$RUN/queue"
  # the lookup account (no password column): the resolver (vmail) and the
  # sessions' resolver co-process (vmaild); mailuser.pw stays root's
  chown vmail:vmaild "$RUN/db/lookup.pw"
  chmod 640 "$RUN/db/lookup.pw"
}

svscan_running() { s6-svscanctl -z "$RUN/service" 2>/dev/null; }

start() {
  command -v s6-svscan >/dev/null || die "s6 is not installed: run 'make deps' as root"
  mkdir -p "$RUN"
  db_start "$RUN/db" || die "MariaDB did not start (see $RUN/db/db.err)"
  db_setup "$RUN/db" || die "database setup failed"
  make_tls || die "could not make the TLS certificate under $RUN/tls (openssl)"
  TLS_IDS=$(tls_user) || die "could not create the user vmailtls"
  write_env
  root_users
  seed_demo
  make_services
  if [ -p "$RUN/service/.s6-svscan/control" ] && s6-svscanctl -a "$RUN/service" 2>/dev/null; then
    for d in "$RUN"/service/*/; do s6-svc -u "$d" 2>/dev/null; s6-svc -t "$d" 2>/dev/null; done
  else
    setsid s6-svscan "$RUN/service" </dev/null >>"$RUN/log/svscan.log" 2>&1 &
  fi
  # answer only once every listening service does
  for s in "$RUN"/service/*/; do
    p=$(port_of "$(basename "$s")")
    [ -n "$p" ] || continue
    i=0
    until port_answers "$p"; do
      i=$((i + 1)); [ $i -lt 100 ] || die "$(basename "$s") does not answer on port $p (see $RUN/log/$(basename "$s")/current)"
      sleep 0.1
    done
  done
  # the paths to type: relative from the tree when run/ is the tree's own
  here=$RUN stopcmd="VMAIL_RUN_DIR=$RUN make stop"
  [ "$RUN" = "$TOP/run" ] && here=run stopcmd="make stop"
  cat <<MSG
vmail is running under $RUN, as $(id -un)$(root_model), on 127.0.0.1:
  SMTP $VMAIL_SMTP_PORT  submission $VMAIL_SUBMISSION_PORT  POP3 $VMAIL_POP3_PORT  IMAP $VMAIL_IMAP_PORT
  with STARTTLS/STLS; implicit TLS: submissions $VMAIL_SUBMISSIONS_PORT  IMAPS $VMAIL_IMAPS_PORT  POP3S $VMAIL_POP3S_PORT
  TLS: trust the CA $here/tls/ca.pem (VMAIL_TLS_CA); logins need TLS
  services: $(ls "$RUN/service" | tr '\n' ' ')
Demo: domain example.com, user postmaster@example.com, password $(cat "$RUN/demo-password"),
      alias alias@example.com -> postmaster@example.com
Try:
  . $here/vmail.env
  vmail-resolve alias@example.com
  vmailctl query alias@example.com
  printf 'postmaster@example.com\\0%s\\0' "\$(cat $here/demo-password)" | vmail-checkpw env 3<&0
  echo hello | mail -s hi postmaster@example.com; ls $here/mail/example.com/postmaster/new
  openssl s_client -quiet -starttls imap -connect 127.0.0.1:$VMAIL_IMAP_PORT -CAfile $here/tls/ca.pem
Logs: $here/log/<service>/current.  Stop with: $stopcmd
MSG
}

# What runs as whom, when started as root.
root_model() {
  [ "$(id -u)" = 0 ] || return 0
  printf ' (SMTP sessions as vmaild, POP3/IMAP before login as nobody, mail as vmail)'
}

# Is anything of the supervision tree still running: s6-svscan, or an
# s6-supervise of a service or of its logger?
supervision_alive() {
  svscan_running && return 0
  for d in "$RUN"/service/*/ "$RUN"/service/*/log/; do s6-svok "$d" 2>/dev/null && return 0; done
  return 1
}

stop() {
  if [ -d "$RUN/service" ]; then
    if svscan_running; then
      s6-svscanctl -t "$RUN/service" 2>/dev/null
    else
      # s6-svscan is gone (killed) but its supervisors still run their
      # services: tell each to stop its service and exit
      for d in "$RUN"/service/*/ "$RUN"/service/*/log/; do
        s6-svok "$d" 2>/dev/null && s6-svc -dx "$d" 2>/dev/null
      done
    fi
    i=0; while supervision_alive && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  fi
  db_stop "$RUN/db"
  echo "vmail: stopped"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  *) echo "usage: instance.sh start|stop" >&2; exit 100 ;;
esac
