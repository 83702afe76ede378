#!/bin/sh
# needs: root
# `make run` as an ordinary user, as the README promises a newcomer: a user
# this suite creates, with a normal user's PATH (no /usr/sbin), its own copy
# of the tree, runs `make run`, sends a message, reads it back over IMAP and
# POP3, and `make stop`s; nothing of it may be left running. (Root is needed
# only to create the user; every step after runs as that user.)
T_PORT_BASE=${T_PORT_BASE:-12000}
. "$T_TOP/t/lib/common.sh"

NEWBIE=vmailnewbie
SMTP=$((T_PORT_BASE + 525)) SUBMISSION=$((T_PORT_BASE + 587))
POP3=$((T_PORT_BASE + 510)) IMAP=$((T_PORT_BASE + 543))
SUBMISSIONS=$((T_PORT_BASE + 565)) IMAPS=$((T_PORT_BASE + 593)) POP3S=$((T_PORT_BASE + 595))
PASSWORD=newbie-$$-pass

# as_newbie CMD...: CMD in the copy of the tree, as the user, with the
# environment a login shell gives (and the instance's ports; and the
# sanitizers' settings of a sanitized build, as .ci/run gives them)
as_newbie() {
  ( cd "$TREE" && timeout 300 setpriv --reuid="$NEWBIE" --regid="$NEWBIE" --init-groups \
      env -i HOME="$HOME_DIR" USER="$NEWBIE" LOGNAME="$NEWBIE" SHELL=/bin/sh \
      ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} ${UBSAN_OPTIONS:+UBSAN_OPTIONS=$UBSAN_OPTIONS} \
      PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
      VMAIL_SMTP_PORT=$SMTP VMAIL_SUBMISSION_PORT=$SUBMISSION \
      VMAIL_POP3_PORT=$POP3 VMAIL_IMAP_PORT=$IMAP VMAIL_SUBMISSIONS_PORT=$SUBMISSIONS \
      VMAIL_IMAPS_PORT=$IMAPS VMAIL_POP3S_PORT=$POP3S VMAIL_DEMO_PASSWORD=$PASSWORD "$@" )
}

oneTimeSetUp() {
  id -u "$NEWBIE" >/dev/null 2>&1 ||
    useradd --user-group --no-create-home --home-dir /nonexistent --shell /bin/sh "$NEWBIE" || return 1
  chmod 711 "$T_TMP"
  HOME_DIR=$T_TMP/home TREE=$T_TMP/home/vmail
  mkdir -p "$TREE"
  # the tree as it is, built (mtimes kept, so make has nothing to rebuild)
  tar -C "$T_TOP" --exclude=./run --exclude=./.git -cf - . | tar -C "$TREE" -xpf - || return 1
  chown -R "$NEWBIE:" "$HOME_DIR"
}

oneTimeTearDown() {
  as_newbie make stop >/dev/null 2>&1
  pkill -KILL -u "$NEWBIE" 2>/dev/null
  rm -rf "$T_TMP"
}

testMakeRunSendReadStopAsAUser() {
  out=$(as_newbie make run 2>&1)
  assertEquals "make run: $out" 0 $?
  assertContains "$out" "vmail is running under $TREE/run, as $NEWBIE, on 127.0.0.1"
  assertNotContains "no users are made" "$out" "vmaild"
  assertEquals "nothing of it runs as root" "" "$(ps -o user= -p "$(pgrep -d, -f "$TREE/" )" | grep -v "^$NEWBIE\$" | sort -u)"
  assertEquals "the database is the user's" "$NEWBIE" "$(ps -o user= -p "$(cat "$TREE/run/db/db.pid")")"

  out=$(as_newbie swaks --server "127.0.0.1:$SMTP" --from someone@example.org --to alias@example.com \
        --header 'Subject: from a newcomer' --body 'it works' 2>&1)
  assertContains "$out" '250 2.0.0 Ok: queued'
  # logins need TLS: STARTTLS/STLS, verified against the CA make run made
  # (run/tls/ca.pem, the user's own, as the README tells a newcomer to trust)
  assertTrue "the CA is readable by the user" "as_newbie test -r run/tls/ca.pem"
  got=$(as_newbie python3 - "$IMAP" "$POP3" "$PASSWORD" run/tls/ca.pem <<'PY'
import imaplib, poplib, ssl, sys, time
imap, pop3, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=sys.argv[4])
for _ in range(100):   # vmail-send delivers in the background
    m = imaplib.IMAP4("127.0.0.1", imap)
    m.starttls(ssl_context=ctx)
    m.login("postmaster@example.com", password)
    n = int(m.select("INBOX")[1][0])
    if n:
        print(m.fetch("1", "(BODY[])")[1][0][1].decode())
        m.logout()
        break
    m.logout()
    time.sleep(0.1)
p = poplib.POP3("127.0.0.1", pop3)
p.stls(context=ctx)
p.user("postmaster@example.com"); p.pass_(password)
print("pop3 messages:", p.stat()[0])
p.quit()
PY
)
  assertContains "read back over IMAP" "$got" 'Subject: from a newcomer'
  assertContains "$got" 'it works'
  assertContains "and POP3" "$got" 'pop3 messages: 1'
  assertEquals "the Maildir is the user's" "" "$(find "$TREE/run/mail" ! -user "$NEWBIE")"

  out=$(as_newbie make stop 2>&1)
  assertEquals "make stop: $out" 0 $?
  i=0; while pgrep -u "$NEWBIE" >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  assertEquals "nothing left running" "" "$(pgrep -u "$NEWBIE" -a)"
}

. shunit2
