#!/bin/sh
# needs: root
# `make run` as root shows the real model: it creates (or uses) the users
# vmail and vmaild, writes their ids into run/env, gives run/mail and
# run/queue to vmail alone, and every service that reads the network or
# handles mail runs as the user it should (README, Security).
T_PORT_BASE=${T_PORT_BASE:-12000}
. "$T_TOP/t/lib/common.sh"
T_PORT_BASE=$((T_PORT_BASE + 700))   # beside the other instances' ports
. "$T_TOP/t/lib/e2e.sh"

oneTimeSetUp() { chmod 711 "$T_TMP"; e2e_start; }
oneTimeTearDown() { e2e_stop; rm -rf "$T_TMP"; }

uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# the pids of processes named $1 whose parent is $2
children_named() { pgrep -x "$1" | while read -r p; do [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$2" ] && echo "$p"; done; }
# the pid of the process named $1 that runs under this instance's supervision
service_pid() { pgrep -x "$1" | while read -r p; do grep -qz "VMAIL_ENVDIR=$E2E_RUN/env" "/proc/$p/environ" 2>/dev/null && echo "$p"; done | head -n 1; }

testUsersAndTheirIds() {
  assertEquals "VMAIL_UID" "$(id -u vmail)" "$(cat "$E2E_RUN/env/VMAIL_UID")"
  assertEquals "VMAIL_GID" "$(id -g vmail)" "$(cat "$E2E_RUN/env/VMAIL_GID")"
  assertEquals "VMAIL_SMTPD_UID" "$(id -u vmaild)" "$(cat "$E2E_RUN/env/VMAIL_SMTPD_UID")"
  assertEquals "VMAIL_SMTPD_GID" "$(id -g vmaild)" "$(cat "$E2E_RUN/env/VMAIL_SMTPD_GID")"
  assertEquals "VMAIL_LOGIN_UID" "$(id -u nobody)" "$(cat "$E2E_RUN/env/VMAIL_LOGIN_UID")"
  assertNotEquals "vmaild is not the mail user" "$(id -u vmail)" "$(id -u vmaild)"
  assertContains "the shell gets them too" "$(cat "$E2E_RUN/vmail.env")" "VMAIL_SMTPD_UID='$(id -u vmaild)'"
  assertEquals "run/mail and run/queue: the mail user's alone" "vmail 700 vmail 700" \
    "$(stat -c '%U %a' "$E2E_RUN/mail" "$E2E_RUN/queue" | tr '\n' ' ' | sed 's/ $//')"
  assertContains "make run says so" "$(cat "$T_TMP/instance.out")" "SMTP sessions as vmaild"
}

testServicesRunAsTheirUsers() {
  send=$(service_pid vmail-send) resolve=$(service_pid vmail-resolve)
  assertNotEquals "vmail-send runs" "" "$send"
  assertEquals "vmail-send as vmail" "$(id -u vmail)" "$(uid_of "$send")"
  assertEquals "the resolver as vmail" "$(id -u vmail)" "$(uid_of "$resolve")"
  # a session held open: root partner, vmaild parser
  python3 - "$E2E_SMTP" "$T_TMP/held" <<'PY' &
import smtplib, sys, time, os
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1])); s.ehlo("held.test")
open(sys.argv[2], "w").close()
while os.path.exists(sys.argv[2]): time.sleep(0.05)
s.quit()
PY
  held=$!
  i=0; while [ ! -e "$T_TMP/held" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  # the partner: this instance's vmail-smtpd whose parent is not one (between
  # it and tcpserver there may be vmail-connlimit and vmail-tlsd)
  partner=$(for p in $(pgrep -x vmail-smtpd); do
    grep -qz "VMAIL_ENVDIR=$E2E_RUN/env" "/proc/$p/environ" 2>/dev/null || continue
    [ "$(ps -o comm= -p "$(ps -o ppid= -p "$p" | tr -d ' ')")" = vmail-smtpd ] || echo "$p"
  done | head -n 1)
  assertNotEquals "a session" "" "$partner"
  assertEquals "its partner is root" 0 "$(uid_of "$partner")"
  assertEquals "the parser is vmaild" "$(id -u vmaild)" "$(uid_of "$(children_named vmail-smtpd "$partner")")"
  rm -f "$T_TMP/held"; wait $held
}

testMessageArrivesAsTheMailUser() {
  out=$(swaks --server "127.0.0.1:$E2E_SMTP" --from someone@example.org --to alias@example.com \
        --header 'Subject: the real model' 2>&1)
  assertContains "$out" '250 2.0.0 Ok: queued'
  got=$(python3 - "$E2E_IMAP" "$E2E_PASSWORD" <<'PY'
import imaplib, os, ssl, sys, time
ctx = ssl.create_default_context(cafile=os.environ["VMAIL_TLS_CA"])
for _ in range(100):
    m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); m.starttls(ssl_context=ctx)
    m.login("postmaster@example.com", sys.argv[2])
    if int(m.select("INBOX")[1][0]):
        print(m.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])")[1][0][1].decode()); break
    m.logout(); time.sleep(0.1)
PY
)
  assertContains "$got" 'Subject: the real model'
  assertEquals "every file the mail user's" "" "$(find "$E2E_RUN/mail" "$E2E_RUN/queue" ! -user vmail)"
}

. shunit2
