#!/bin/sh
# needs: root
# The README's "Installing it on the tutorial's server", run literally in a
# throwaway root: a private mount namespace where /etc, /usr and /var are
# overlays on a tmpfs and /run, /etc/vmail, /var/mail, /var/spool/vmail,
# /var/log/vmail and /usr/local empty tmpfs, a network namespace with only lo,
# a PID namespace that takes every process with it. Nothing on the host
# changes. There: the tutorial's server as seedstack builds it (MariaDB with
# rows made by ENCRYPT(), Postfix, Dovecot on ports 25, 143, 110, mail that
# Dovecot numbered, flagged and expunged), then the README's install steps
# as it prints them, the migration, the tutorial's tests against vmail, a
# restart of the supervision, the README's rollback, and Dovecot reading
# what vmail delivered. The steps run from a copy of the tree.
T_TOP=${T_TOP:?run suites through t/run-tests}
if [ -z "${VMAIL_INSTALL_NS:-}" ]; then
  exec unshare --mount --net --pid --fork --mount-proc --propagation private \
    env VMAIL_INSTALL_NS=1 sh "$0" "$@"
fi

# ---- the throwaway root ---------------------------------------------------
NS=$(mktemp -d "${T_TMPROOT:-/tmp}/install-ns.XXXXXX") || exit 1
mount -t tmpfs -o mode=700 tmpfs "$NS" || exit 1
for d in etc usr var; do
  mkdir -p "$NS/$d.up" "$NS/$d.work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$NS/$d.up,workdir=$NS/$d.work" "/$d" || exit 1
done
mount -t tmpfs -o mode=755 tmpfs /run || exit 1
# and empty where an earlier vmail on the host would show through
for d in /etc/vmail /var/mail /var/spool/vmail /var/log/vmail /usr/local; do
  mkdir -p "$d" && mount -t tmpfs -o mode=755 tmpfs "$d" || exit 1
done
for d in etc usr var; do
  [ "$(findmnt -n -o FSTYPE "/$d")" = overlay ] || { echo "/$d is not an overlay: stopping" >&2; exit 1; }
done
ip link set lo up || exit 1

. "$T_TOP/t/lib/common.sh"
SEEDSTACK=${SEEDSTACK:-$T_TOP/../shared/peers/seedstack}
[ -f "$SEEDSTACK" ] || SEEDSTACK=/work/shared/peers/seedstack
SEED=/var/lib/vmail-seed
SRC=/usr/local/src/vmail
LOG=$T_TMP/steps.log
ROOTPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# as the administrator's root shell: no test settings, the system's PATH
# (but the sanitizers' settings of a sanitized build, as .ci/run gives them)
admin() {
  env -i HOME=/root PATH=$ROOTPATH LANG=C.UTF-8 \
    ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} ${UBSAN_OPTIONS:+UBSAN_OPTIONS=$UBSAN_OPTIONS} \
    VMAIL_MIGRATE_POSTFIX_CONFIG=$SEED/postfix VMAIL_MIGRATE_DOVECOT_CONFIG=$SEED/dovecot/dovecot.conf \
    VMAIL_MIGRATE_USER=postmaster@example.com VMAIL_MIGRATE_PASSWORD_FILE=$T_TMP/postmaster.pw \
    VMAIL_MIGRATE_DRAIN_SECONDS=120 "$@"
}

# README_BLOCK 'LINE': the README's first indented block after that line
readme_block() {
  awk -v start="$1" '
    $0 == start { on = 1; next }
    on && /^    / { sub(/^    /, ""); print; got = 1; next }
    on && got && !/^    / { exit }' "$T_TOP/README"
}

seed_sql() { mariadb --no-defaults -S "$SEED/db.sock" -uroot -N mailserver -e "$1"; }

wait_until() {
  t=$(($1 * 10)); shift; i=0
  until eval "$*"; do i=$((i + 1)); [ $i -lt $t ] || return 1; sleep 0.1; done
}
answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
BOX=/var/mail/vhosts/example.com/postmaster
in_box() { grep -rlF "$1" "$BOX/new" "$BOX/cur" >/dev/null 2>&1; }
in_box_of() { grep -rlF "$2" "/var/mail/vhosts/example.com/$1/new" "/var/mail/vhosts/example.com/$1/cur" >/dev/null 2>&1; }

cat > "$T_TMP/read.py" <<'PY'
# read.py imap|pop3 PORT USER PASSWORD [FOLDER]: what a client sees.
# imap: "UIDVALIDITY n", then "uid flags..." sorted (no \Recent); pop3: "uidl".
import imaplib, poplib, sys
proto, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
if proto == "imap":
    folder = sys.argv[5] if len(sys.argv) > 5 else "INBOX"
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(user, pw)
    typ, _ = m.select(folder, readonly=True)
    assert typ == "OK", typ
    print("UIDVALIDITY", m.response("UIDVALIDITY")[1][0].decode())
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    for d in data:
        if not d:
            continue
        s = d.decode() if isinstance(d, bytes) else d[0].decode()
        uid = s.split("UID ")[1].split()[0].rstrip(")")
        flags = sorted(f for f in s.split("FLAGS (")[1].split(")")[0].split() if f != "\\Recent")
        print(uid, " ".join(flags))
    m.logout()
else:
    p = poplib.POP3("127.0.0.1", port)
    p.user(user); p.pass_(pw)
    for line in p.uidl()[1]:
        print(line.decode().split()[1])
    p.quit()
PY
imap_view() { python3 "$T_TMP/read.py" imap 143 "$@"; }
pop3_view() { python3 "$T_TMP/read.py" pop3 110 "$@"; }

# IMAP commands as postmaster on port 143: imap_do 'STORE ...' ...
imap_do() {
  python3 - "$@" <<'PY'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", 143)
m.login("postmaster@example.com", "password")
m.select("INBOX")
for c in sys.argv[1:]:
    args = c.split(" ", 2)
    typ, data = m.uid(*args)
    assert typ == "OK", (c, typ, data)
m.expunge()
m.logout()
PY
}

smtp_to() {   # PORT RCPT HEADER-TEXT [swaks options]
  port=$1 rcpt=$2 text=$3; shift 3
  swaks --server 127.0.0.1:$port --from someone@example.org --to "$rcpt" \
    --header "Subject: $text" --body "$text" --silent 2 "$@" >/dev/null 2>"$T_TMP/swaks.err"
}

oneTimeSetUp() {
  # the tutorial's server
  SEED_SMTP_PORT=25 SEED_IMAP_PORT=143 SEED_POP3_PORT=110 SEED_PASSWORD=password \
    sh "$SEEDSTACK" up "$SEED" > "$T_TMP/seed.out" 2>&1 || { cat "$T_TMP/seed.out"; return 1; }
  sh "$SEEDSTACK" sql "$SEED" <<'SQL' || { echo "seedstack sql failed"; return 1; }
INSERT INTO virtual_domains (id, name) VALUES ('2', 'example.net');
INSERT INTO virtual_users (id, domain_id, password, email) VALUES
  ('2', '1', ENCRYPT('password2', CONCAT('$6$', SUBSTRING(SHA(RAND()), -16))), 'user2@example.com'),
  ('3', '2', ENCRYPT('password3', CONCAT('$6$', SUBSTRING(SHA(RAND()), -16))), 'postmaster@example.net');
SQL
  # a site that ran Courier before Dovecot, with '/' between folder names:
  # settings vmailctl migrate carries over
  printf 'pop3_uidl_format = %%v.%%u\nnamespace inbox {\n  inbox = yes\n  separator = /\n}\n' \
    >> "$SEED/dovecot/dovecot.conf"
  doveadm -c "$SEED/dovecot/dovecot.conf" reload || { echo "doveadm reload failed"; return 1; }
  wait_until 30 'answers 143 && answers 110' || { echo "Dovecot did not come back"; return 1; }
  # where the tutorial has them: the database's socket, the Maildirs
  mkdir -p /run/mysqld /var/mail/vhosts
  ln -s "$SEED/db.sock" /run/mysqld/mysqld.sock
  mount --bind "$SEED/vhosts" /var/mail/vhosts
  printf 'password\n' > "$T_TMP/postmaster.pw"
  # mail Dovecot delivered and numbered: 4 messages, flags, a keyword, a gap
  for i in 1 2 3 4; do
    smtp_to 25 postmaster@example.com "old-$i" || { echo "Postfix refused old-$i:"; cat "$T_TMP/swaks.err"; return 1; }
  done
  wait_until 60 'in_box old-4 && in_box old-1' || { echo "Postfix did not deliver"; return 1; }
  imap_do 'STORE 1 +FLAGS (\Seen \Flagged)' 'STORE 2 +FLAGS (\Answered $Label1)' 'STORE 3 +FLAGS (\Deleted)' ||
    { echo "flagging through Dovecot failed"; return 1; }
  imap_view postmaster@example.com password > "$T_TMP/dovecot.imap" || { echo "Dovecot's IMAP failed"; return 1; }
  pop3_view postmaster@example.com password > "$T_TMP/dovecot.pop3" || { echo "Dovecot's POP3 failed"; return 1; }
  # the copy of the tree the README's steps run in
  mkdir -p "$SRC"
  tar -C "$T_TOP" --exclude=./run --exclude=./build/fuzz -cf - . | tar -C "$SRC" -xf - ||
    { echo "copying the tree failed"; return 1; }
}

oneTimeTearDown() {
  # the PID namespace ends every process; the mounts go with it
  [ -n "${T_KEEP:-}" ] || rm -rf "$T_TMP"
}

# ---- the tests, in order --------------------------------------------------

test1SeedIsTheTutorials() {
  assertEquals "Dovecot's UIDLs are Courier's" "$(sed -n 1p "$T_TMP/dovecot.imap" | cut -d' ' -f2).1" "$(head -n 1 "$T_TMP/dovecot.pop3")"
  assertEquals "UIDVALIDITY, 3 messages, one expunged" 4 "$(wc -l < "$T_TMP/dovecot.imap")"
  assertContains "$(cat "$T_TMP/dovecot.imap")" '$Label1'
  assertTrue "Postfix answers on 25" "answers 25"
  assertEquals '$6$' "$(seed_sql "SELECT LEFT(password, 3) FROM virtual_users WHERE id = 2")"
}

test2ReadmeInstallSteps() {
  # TLS: switch when merged (the README's VMAIL_AUTH_PLAINTEXT step becomes
  # its certificate step: VMAIL_TLS_CERT, VMAIL_TLS_KEY)
  readme_block "Installing it on the tutorial's server" > "$T_TMP/steps.sh"
  assertContains "the README's steps" "$(cat "$T_TMP/steps.sh")" "make install"
  (cd "$SRC" && admin sh -ex "$T_TMP/steps.sh") > "$LOG" 2>&1
  rc=$?
  assertEquals "the steps ran: $(tail -n 30 "$LOG")" 0 $rc
  # what make install laid out
  assertEquals "the mail user" "5000:5000" "$(id -u vmail):$(id -g vmail)"
  for u in $(grep -v '^#' "$SRC/dist/users" | awk '{print $1}'); do
    assertTrue "user $u" "getent passwd $u"
  done
  assertEquals "/etc/vmail/env/VMAIL_UID" 5000 "$(cat /etc/vmail/env/VMAIL_UID)"
  assertTrue "vmail.service" "[ -f /etc/systemd/system/vmail.service ]"
  assertEquals "spool" "700 vmail" "$(stat -c '%a %U' /var/spool/vmail)"
  assertEquals "admin.pw" "600 root" "$(stat -c '%a %U' /etc/vmail/admin.pw)"
  assertEquals "lookup.pw" "640 vmail" "$(stat -c '%a %G' /etc/vmail/lookup.pw)"
  assertEquals "sendmail is vmail's" /usr/local/bin/vmail-sendmail "$(readlink /usr/sbin/sendmail)"
  assertContains "Postfix's moved aside" "$(dpkg-divert --list /usr/sbin/sendmail)" "sendmail.before-vmail"
  # Dovecot's settings carried over
  assertEquals "pop3_uidl_format" '%v.%u' "$(cat /etc/vmail/env/VMAIL_POP3_UIDL_FORMAT)"
  assertEquals "separator" / "$(cat /etc/vmail/env/VMAIL_IMAP_SEPARATOR)"
  # the migration: Postfix and Dovecot down, vmail on their ports
  assertContains "$(cat "$LOG")" "a message to postmaster of each domain was delivered: example.com example.net"
  assertContains "$(cat "$LOG")" "done: vmail serves this server's mail"
  assertFalse "Postfix stopped" "pgrep -f $SEED/postfix >/dev/null"
  assertFalse "Dovecot stopped" "pgrep -x dovecot >/dev/null"
  assertTrue "vmail's SMTP" "pgrep -f 'tcpserver.*vmail-smtpd' >/dev/null"
  # make install again changes no setting
  echo 7 > /etc/vmail/env/VMAIL_SMTP_CONCURRENCY
  (cd "$SRC" && admin make install PREFIX=/usr/local) > "$T_TMP/again.log" 2>&1
  assertEquals "make install twice: $(tail -n 5 "$T_TMP/again.log")" 0 $?
  assertEquals 7 "$(cat /etc/vmail/env/VMAIL_SMTP_CONCURRENCY)"
  assertEquals "$(cat "$T_TMP/postmaster.pw")" password
  rm /etc/vmail/env/VMAIL_SMTP_CONCURRENCY
}

test3TutorialsTestsAgainstVmail() {
  # mail(1) to a local user, through /usr/sbin/sendmail
  echo "hi from mail" | admin mail -s mail-one postmaster@example.com
  assertEquals "mail(1)" 0 $?
  assertTrue "mail(1) delivered" "wait_until 30 in_box mail-one"
  # swaks on 25, and on 587 with AUTH
  # TLS: switch when merged (submission over STARTTLS or 465, no VMAIL_AUTH_PLAINTEXT)
  smtp_to 25 user2@example.com swaks-25
  assertEquals "swaks 25: $(cat "$T_TMP/swaks.err")" 0 $?
  # the sender of an authenticated submission is the user's own (RFC 6409 policy)
  smtp_to 587 user2@example.com swaks-587 --auth PLAIN --auth-user postmaster@example.com --auth-password password \
    --from postmaster@example.com
  assertEquals "swaks 587: $(cat "$T_TMP/swaks.err")" 0 $?
  smtp_to 587 user2@example.com swaks-587-noauth
  assertNotEquals "587 wants AUTH" 0 $?
  assertTrue "delivered" "wait_until 30 'in_box_of user2 swaks-25 && in_box_of user2 swaks-587'"
}

test4OldMailKeepsUidsFlagsUidls() {
  # TLS: switch when merged (IMAP and POP3 logins without TLS need VMAIL_AUTH_PLAINTEXT)
  imap_view postmaster@example.com password > "$T_TMP/vmail.imap"
  assertEquals "vmail's IMAP" 0 $?
  head -n 1 "$T_TMP/dovecot.imap" > "$T_TMP/want"
  assertEquals "UIDVALIDITY" "$(cat "$T_TMP/want")" "$(head -n 1 "$T_TMP/vmail.imap")"
  # every message Dovecot had, with its UID and flags
  sed 1d "$T_TMP/dovecot.imap" | sort > "$T_TMP/a"; sort "$T_TMP/vmail.imap" > "$T_TMP/b"
  assertEquals "$(cat "$T_TMP/vmail.imap")" "" "$(comm -23 "$T_TMP/a" "$T_TMP/b")"
  # new mail after the old, above Dovecot's UIDs
  last_old=$(tail -n 1 "$T_TMP/dovecot.imap" | cut -d' ' -f1)
  assertTrue "new mail numbered after" "[ $(tail -n 1 "$T_TMP/vmail.imap" | cut -d' ' -f1) -gt $last_old ]"
  pop3_view postmaster@example.com password > "$T_TMP/vmail.pop3"
  assertEquals "vmail's POP3" 0 $?
  while read -r u; do grep -qxF "$u" "$T_TMP/vmail.pop3" || echo "missing UIDL $u"; done \
    < "$T_TMP/dovecot.pop3" > "$T_TMP/missing"
  assertEquals "" "$(cat "$T_TMP/missing")"
}

test5LogsWhereTheReadmeSays() {
  assertContains "the README names them" "$(cat "$T_TOP/README")" "/var/log/vmail/NAME/current"
  for s in smtpd submission send resolve imap pop3; do
    assertTrue "log of $s" "[ -f /var/log/vmail/$s/current ]"
  done
  assertTrue "smtpd logged the sessions" "[ -s /var/log/vmail/smtpd/current ]"
  assertTrue "send logged the deliveries" "grep -q postmaster /var/log/vmail/send/current"
  assertFalse "nothing at the root" "[ -e /imap ] || [ -e /pop3 ] || [ -e /send ]"
}

test5CheckSaysWhatToFix() {
  # a real name server on lo: example.com's MX is this server, example.net has none
  cat > "$T_TMP/unbound.conf" <<CONF
server:
  interface: 127.0.0.1
  port: 53
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "$T_TMP"
  pidfile: ""
  use-syslog: no
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  local-zone: "." static
  local-zone: "example.com." static
  local-data: "example.com. IN MX 10 mail.example.com."
  local-data: "mail.example.com. IN A 127.0.0.1"
  local-zone: "example.net." static
  local-data: "example.net. IN SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 300"
CONF
  unbound -c "$T_TMP/unbound.conf" > "$T_TMP/unbound.log" 2>&1 &
  printf 'nameserver 127.0.0.1\n' > "$T_TMP/resolv.conf"
  mount --bind "$T_TMP/resolv.conf" /etc/resolv.conf
  assertTrue "the name server answers" "wait_until 30 'host -W 1 -t mx example.com >/dev/null 2>&1'"
  admin vmailctl check > "$T_TMP/check.out" 2>&1
  assertEquals "$(cat "$T_TMP/check.out")" 100 $?
  out=$(cat "$T_TMP/check.out")
  assertContains "$out" "ok    example.com: MX mail.example.com is this server"
  assertContains "$out" "FAIL  example.net has no MX record"
  assertContains "$out" "ok    port 25 is vmail's (smtpd)"
  assertContains "$out" "ok    port 110 is vmail's (pop3)"
  assertContains "$out" "ok    vmaillookup cannot read password hashes"
  assertContains "$out" "ok    vmailauth (vmail-checkpw) reads the password hashes"
  assertContains "$out" "ok    queue /var/spool/vmail"
  assertEquals "one thing to fix: $out" 1 "$(grep -c '^FAIL' "$T_TMP/check.out")"
  # what breaks is named, with its fix
  chmod 644 /etc/vmail/admin.pw
  seed_sql "GRANT SELECT ON mailserver.* TO vmaillookup@localhost"
  s6-svc -d /run/vmail/service/pop3
  wait_until 30 '! answers 110'
  out=$(admin vmailctl check -q 2>&1)
  assertContains "$out" "FAIL  /etc/vmail/admin.pw: mode, owner, group are 644 root 0, not 600 root 0"
  assertContains "$out" "fix: vmailctl init --grants sets them"
  assertContains "$out" "FAIL  vmaillookup can read password hashes"
  assertContains "$out" "FAIL  service pop3 is not up"
  assertContains "$out" "FAIL  nothing listens on port 110 (pop3)"
  assertNotContains "-q prints failures only" "$out" "ok  "
  admin vmailctl init --grants >/dev/null 2>&1
  s6-svc -u /run/vmail/service/pop3
  assertTrue "pop3 back" "wait_until 30 answers 110"
  admin vmailctl check > "$T_TMP/check.out" 2>&1
  assertEquals "fixed: $(grep -A1 '^FAIL' "$T_TMP/check.out")" 1 "$(grep -c '^FAIL' "$T_TMP/check.out")"
}

test6VmailctlBare() {
  out=$(printf 'newpass\n' | admin vmailctl user add new@example.com - 2>&1)
  assertEquals "$out" 0 $?
  assertContains "$(admin vmailctl query new@example.com)" "/var/mail/vhosts/example.com/new"
  assertEquals "SHA512-CRYPT while Dovecot may read it" '$6$' \
    "$(seed_sql "SELECT LEFT(password, 3) FROM virtual_users WHERE email = 'new@example.com'")"
  smtp_to 25 new@example.com for-new
  assertTrue "delivered to the new user" "wait_until 30 in_box_of new for-new"
  imap_view new@example.com newpass > "$T_TMP/new.imap"
  assertEquals "the new user logs in" 0 $?
}

test7SupervisionRestarts() {
  # as init would: the svscan ends (a reboot, a crash) and starts again
  s6-svscanctl -t /run/vmail/service
  assertTrue "all down" "wait_until 60 '! answers 25 && ! answers 143 && ! pgrep -x s6-svscan >/dev/null'"
  smtp_to 25 postmaster@example.com while-down
  assertNotEquals "nobody on 25" 0 $?
  admin setsid /usr/local/share/vmail/svscan </dev/null >/dev/null 2>&1 &
  assertTrue "all up again" "wait_until 60 'answers 25 && answers 587 && answers 143 && answers 110'"
  smtp_to 25 postmaster@example.com after-restart
  assertEquals 0 $?
  assertTrue "delivered after the restart" "wait_until 30 in_box after-restart"
}

test8RollbackAndDovecotContinues() {
  # vmail numbers the new mail, then expunges one of it: Dovecot must not
  # give its UID again
  imap_view postmaster@example.com password > "$T_TMP/before-rollback.imap"
  top=$(tail -n 1 "$T_TMP/before-rollback.imap" | cut -d' ' -f1)
  imap_do "STORE $top +FLAGS (\\Deleted)"
  assertEquals "expunged through vmail" 0 $?
  grep -v "^$top " "$T_TMP/before-rollback.imap" > "$T_TMP/kept.imap"
  # POP3 (a client that only uses POP3): then a message neither IMAP server saw
  smtp_to 25 postmaster@example.com pop3-only
  assertTrue "delivered" "wait_until 30 in_box pop3-only"
  pop3_view postmaster@example.com password > "$T_TMP/before-rollback.pop3"
  readme_block "To go back to Postfix and Dovecot:" > "$T_TMP/rollback.sh"
  assertContains "$(cat "$T_TMP/rollback.sh")" "vmailctl migrate --rollback"
  admin sh -ex "$T_TMP/rollback.sh" > "$T_TMP/rollback.log" 2>&1
  assertEquals "rollback: $(tail -n 20 "$T_TMP/rollback.log")" 0 $?
  assertTrue "Dovecot answers" "pgrep -x dovecot >/dev/null"
  assertFalse "vmail is down" "pgrep -x s6-svscan >/dev/null"
  # Dovecot sees what vmail showed: same UIDVALIDITY, UIDs and flags
  imap_view postmaster@example.com password > "$T_TMP/after.imap"
  assertEquals "Dovecot's IMAP" 0 $?
  assertEquals "$(cat "$T_TMP/kept.imap")" "$(head -n "$(wc -l < "$T_TMP/kept.imap")" "$T_TMP/after.imap")"
  # and the message only POP3 saw, after them
  pop3_uid=$(sed -n "$(($(wc -l < "$T_TMP/kept.imap") + 1))p" "$T_TMP/after.imap" | cut -d' ' -f1)
  assertTrue "the POP3-only message's UID $pop3_uid is above vmail's $top" "[ ${pop3_uid:-0} -gt $top ]"
  # Dovecot serves every UIDL vmail served: POP3 clients fetch nothing again
  pop3_view postmaster@example.com password > "$T_TMP/after.pop3"
  assertEquals "POP3 UIDLs" "$(cat "$T_TMP/before-rollback.pop3")" "$(cat "$T_TMP/after.pop3")"
  # new mail through Postfix: a UID above every UID vmail gave
  smtp_to 25 postmaster@example.com after-rollback
  assertEquals "Postfix takes mail again" 0 $?
  assertTrue "delivered by Dovecot" "wait_until 60 in_box after-rollback"
  imap_view postmaster@example.com password > "$T_TMP/after2.imap"
  newest=$(tail -n 1 "$T_TMP/after2.imap" | cut -d' ' -f1)
  assertTrue "Dovecot's next UID $newest is above vmail's $top" "[ $newest -gt $top ]"
  # the user vmailctl made logs in with Dovecot
  imap_view new@example.com newpass > /dev/null
  assertEquals "SHA512-CRYPT works for Dovecot" 0 $?
}

test9UninstallRestoresSendmail() {
  (cd "$SRC" && admin make uninstall PREFIX=/usr/local) > "$T_TMP/uninstall.log" 2>&1
  assertEquals "$(tail -n 5 "$T_TMP/uninstall.log")" 0 $?
  assertFalse "/usr/sbin/sendmail is Postfix's again" "[ -L /usr/sbin/sendmail ]"
  assertEquals "Postfix's sendmail" "$(dpkg -S /usr/sbin/sendmail 2>/dev/null | cut -d: -f1)" postfix
  assertTrue "settings kept" "[ -f /etc/vmail/env/VMAIL_UID ]"
  assertFalse "programs gone" "[ -e /usr/local/bin/vmailctl ]"
}

test10DebianPackage() {
  # make deb, installed on the same server after make uninstall: a fresh
  # layout from the package (the database accounts' files are kept)
  (cd "$SRC" && admin make deb) > "$T_TMP/deb.log" 2>&1
  assertEquals "make deb: $(tail -n 10 "$T_TMP/deb.log")" 0 $?
  rm -rf /etc/vmail/env /etc/vmail/service
  admin dpkg -i "$SRC"/build/deb/vmail_*.deb > "$T_TMP/dpkg.log" 2>&1
  assertEquals "dpkg -i: $(tail -n 10 "$T_TMP/dpkg.log")" 0 $?
  assertContains "conffiles" "$(cat /var/lib/dpkg/info/vmail.conffiles)" /etc/vmail/env/VMAIL_DB_USER
  assertContains "conffiles" "$(cat /var/lib/dpkg/info/vmail.conffiles)" /etc/vmail/service/smtpd/run
  assertEquals "postinst: the uids" "5000 $(id -u vmaild)" "$(cat /etc/vmail/env/VMAIL_UID) $(cat /etc/vmail/env/VMAIL_SMTPD_UID)"
  assertEquals "postinst: the spool" "700 vmail" "$(stat -c '%a %U' /var/spool/vmail)"
  assertEquals "sendmail" /usr/bin/vmail-sendmail "$(readlink /usr/sbin/sendmail)"
  assertContains "diverted by the package" "$(dpkg-divert --list /usr/sbin/sendmail)" "by vmail"
  # Postfix and Dovecot serve again since the rollback: migrate once more
  echo mail.example.com > /etc/vmail/env/VMAIL_HOSTNAME
  echo 1 > /etc/vmail/env/VMAIL_AUTH_PLAINTEXT   # TLS: switch when merged
  admin vmailctl init --grants > "$T_TMP/deb-migrate.log" 2>&1 &&
    admin vmailctl migrate >> "$T_TMP/deb-migrate.log" 2>&1
  assertEquals "migrate with the package: $(tail -n 10 "$T_TMP/deb-migrate.log")" 0 $?
  assertContains "$(cat "$T_TMP/deb-migrate.log")" "password in /etc/vmail/admin.pw (kept)"
  imap_view postmaster@example.com password > "$T_TMP/deb.imap"
  assertEquals "vmail's IMAP" 0 $?
  # what Dovecot last showed, then the migration's own check message
  assertEquals "what Dovecot last showed" "$(cat "$T_TMP/after2.imap")" \
    "$(head -n "$(wc -l < "$T_TMP/after2.imap")" "$T_TMP/deb.imap")"
  # removing the package gives Postfix its sendmail back
  admin vmailctl migrate --rollback > "$T_TMP/deb-rollback.log" 2>&1
  assertEquals "rollback: $(tail -n 10 "$T_TMP/deb-rollback.log")" 0 $?
  admin dpkg -r vmail > "$T_TMP/dpkg-r.log" 2>&1
  assertEquals "dpkg -r: $(tail -n 10 "$T_TMP/dpkg-r.log")" 0 $?
  assertEquals "Postfix's sendmail" postfix "$(dpkg -S /usr/sbin/sendmail 2>/dev/null | cut -d: -f1)"
  assertFalse "not a link" "[ -L /usr/sbin/sendmail ]"
}

test11RemovingPostfixLeavesVmailsSendmail() {
  admin dpkg -i "$SRC"/build/deb/vmail_*.deb > "$T_TMP/dpkg.log" 2>&1
  assertEquals "dpkg -i: $(tail -n 10 "$T_TMP/dpkg.log")" 0 $?
  admin dpkg -r --force-depends postfix-mysql postfix > "$T_TMP/dpkg-postfix.log" 2>&1
  assertEquals "dpkg -r postfix: $(tail -n 10 "$T_TMP/dpkg-postfix.log")" 0 $?
  assertEquals "still vmail's" /usr/bin/vmail-sendmail "$(readlink /usr/sbin/sendmail)"
  assertFalse "Postfix's went with Postfix" "[ -e /usr/sbin/sendmail.before-vmail ]"
  echo "after postfix" | admin mail -s no-postfix postmaster@example.com
  assertEquals "mail(1) still queues" 0 $?
  # vmail is stopped (rolled back): the message waits in its queue
  assertNotEquals "in vmail's queue" "" "$(ls /var/spool/vmail/env)"
  admin dpkg -r vmail > "$T_TMP/dpkg-r.log" 2>&1
  assertEquals "dpkg -r vmail: $(tail -n 10 "$T_TMP/dpkg-r.log")" 0 $?
  assertFalse "no sendmail left" "[ -e /usr/sbin/sendmail ] || [ -L /usr/sbin/sendmail ]"
  assertEquals "no diversion left" "" "$(dpkg-divert --list /usr/sbin/sendmail)"
}

. shunit2
