#!/bin/sh
# needs: root
# Mail leaves the server: a user submits on 587 with AUTH, vmail-send and
# vmail-remote find the other domain's MX through a real DNS server (unbound
# on loopback) and deliver to the seedstack's Postfix (the system vmail
# replaces), by MX and through a smarthost route with AUTH, and to a second
# vmail instance; a recipient Postfix refuses comes back as a DSN. Root: the seedstack runs Postfix and
# Dovecot, which drop to their own users.
T_PORT_BASE=${T_PORT_BASE:-26000}
. "$T_TOP/t/lib/common.sh"
. "$T_TOP/t/lib/e2e.sh"
. "$T_TOP/t/lib/testdns.sh"

SEEDSTACK=${SEEDSTACK:-$T_TOP/../shared/peers/seedstack}
SEED_SMTP_PORT=$((T_PORT_BASE + 625)) SEED_IMAP_PORT=$((T_PORT_BASE + 743)) SEED_POP3_PORT=$((T_PORT_BASE + 710))
SEED_IMAPS_PORT=$((T_PORT_BASE + 793)) SEED_POP3S_PORT=$((T_PORT_BASE + 795))
export SEED_SMTP_PORT SEED_IMAP_PORT SEED_POP3_PORT SEED_IMAPS_PORT SEED_POP3S_PORT
SEED=

oneTimeSetUp() {
  # the seedstack's own users (postfix, dovecot) must reach its directory
  SEED=$(mktemp -d /tmp/vmail-seed.XXXXXX) && chmod 755 "$SEED" || return 1
  SEED_TLS=1 sh "$SEEDSTACK" up "$SEED/stack" > "$T_TMP/seed.out" 2>&1 || { cat "$T_TMP/seed.out"; return 1; }
  sh "$SEEDSTACK" sql "$SEED/stack" <<'SQL' || return 1
INSERT INTO virtual_domains (id, name) VALUES ('2', 'far.example');
INSERT INTO virtual_users (id, domain_id, password, email) VALUES
  ('2', '2', ENCRYPT('friendpass', CONCAT('$6$', SUBSTRING(SHA(RAND()), -16))), 'friend@far.example');
SQL
  dns_start 127.0.2.53 $((T_PORT_BASE + 553)) \
    'far.example. MX 10 mx.far.example.' 'mx.far.example. A 127.0.0.1' || return 1
  # the instance's vmail-send goes out through vmail-remote (both as the mail user)
  export VMAIL_REMOTE=vmail-remote VMAIL_REMOTE_PORT=$SEED_SMTP_PORT VMAIL_REMOTE_TIMEOUT=30
  export VMAIL_QUEUE_RETRY=1 VMAIL_QUEUE_RETRY_MAX=2
  e2e_start || return 1
  # vmail-remote verifies the seedstack's Postfix: its CA joins the file the
  # instance's VMAIL_TLS_CA names (the instance's own, which clients here trust)
  cat "$SEED/stack/tls/ca.pem" >> "$VMAIL_TLS_CA" || return 1
  # the mail user reads the routes under the instance
  chmod a+x "$E2E_RUN" "$E2E_RUN/etc"
  FAR=$SEED/stack/vhosts/far.example/friend
  BOX=$VMAIL_ROOT/example.com/postmaster
}

R2=$T_TMP/run2 P2=$((T_PORT_BASE + 225))
stop_second() { [ -d "$R2" ] && VMAIL_RUN_DIR=$R2 sh "$T_TOP/t/lib/instance.sh" stop >/dev/null 2>&1; }

oneTimeTearDown() {
  stop_second
  e2e_stop
  dns_stop
  [ -n "$SEED" ] && { sh "$SEEDSTACK" down "$SEED/stack" >/dev/null 2>&1; rm -rf "$SEED"; }
  rm -rf "$T_TMP"
}

tearDown() { rm -f "$VMAIL_ETC/routes" "$VMAIL_ETC/relay-auth"; }

wait_until() {
  t=$(($1 * 10)); shift; i=0
  until eval "$*"; do i=$((i + 1)); [ $i -lt $t ] || return 1; sleep 0.1; done
}
# the file under Maildir $1 whose Subject is $2
arrived() { grep -l "^Subject: $2\$" "$1"/new/* "$1"/cur/* 2>/dev/null | head -n 1; }

# submit SUBJECT RCPT...: postmaster@example.com sends $T_TMP/SUBJECT.eml on
# 587 with STARTTLS (the instance's certificate verified) and AUTH (Python's smtplib)
submit() {
  subject=$1; shift
  printf 'From: Postmaster <postmaster@example.com>\nTo: friend@far.example\nSubject: %s\nDate: Fri, 04 Dec 2026 12:00:00 +0000\nMessage-ID: <%s@example.com>\n\nHello from vmail.\n.a line that starts with a dot\n..and two\n\n-- \npostmaster\n' \
    "$subject" "$subject" > "$T_TMP/$subject.eml"
  python3 - "$E2E_SUBMISSION" "$E2E_PASSWORD" "$T_TMP/$subject.eml" "$@" <<'PY'
import os, smtplib, ssl, sys
port, password, path, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
with smtplib.SMTP('127.0.0.1', port, timeout=30) as c:
    c.ehlo('client.example')
    c.starttls(context=ssl.create_default_context(cafile=os.environ['VMAIL_TLS_CA']))
    c.ehlo('client.example')
    c.login('postmaster@example.com', password)
    refused = c.sendmail('postmaster@example.com', rcpts, open(path).read())  # str: smtplib sends CRLF
    assert not refused, refused
PY
}

testSubmittedMailArrivesAtPostfixByteExact() {
  submit by-mx friend@far.example
  assertTrue "arrived at the seedstack" "wait_until 60 '[ -n \"\$(arrived $FAR by-mx)\" ]'"
  f=$(arrived "$FAR" by-mx)
  size=$(wc -c < "$T_TMP/by-mx.eml")
  assertTrue "the message as submitted, after the headers added on the way" \
    "tail -c $size '$f' | cmp -s - '$T_TMP/by-mx.eml'"
  assertTrue "Postfix received it over TLS from vmail" "grep -q 'with ESMTPS id' '$f'"
  assertTrue "logged with its relay" "grep -q 'to=<friend@far.example> status=sent .*mx.far.example\[127.0.0.1\]:$SEED_SMTP_PORT said: 250' '$E2E_RUN/log/send/current'"
}

testRefusedRecipientComesBackAsADSN() {
  before=$(count_files "$BOX/new")
  submit with-dsn friend@far.example nobody@far.example
  assertTrue "the good one arrived" "wait_until 60 '[ -n \"\$(arrived $FAR with-dsn)\" ]'"
  assertTrue "a DSN for the other" "wait_until 60 'grep -l \"^Final-Recipient: rfc822; nobody@far.example\" $BOX/new/* >/dev/null 2>&1'"
  f=$(grep -l '^Final-Recipient: rfc822; nobody@far.example' "$BOX"/new/*)
  assertTrue "Remote-MTA" "grep -q '^Remote-MTA: dns; mx.far.example$' '$f'"
  assertTrue "Postfix's words" "grep -q '^Diagnostic-Code: smtp; 550 5.1.1 .*nobody@far.example' '$f'"
  assertTrue "Status" "grep -q '^Status: 5.1.1' '$f'"
  assertFalse "only the refused one" "grep -q 'Final-Recipient: rfc822; friend@far.example' '$f'"
  assertEquals "one DSN" $((before + 1)) "$(count_files "$BOX/new")"
}

testSmarthostRouteWithAuthAndVerifiedTLS() {
  printf '* [127.0.0.1]:%s tls=verify\n' "$SEED_SMTP_PORT" > "$VMAIL_ETC/routes"
  printf '127.0.0.1 postmaster@example.com password\n' > "$VMAIL_ETC/relay-auth"
  # vmail-remote runs as the mail user and reads only a file of its own
  chown "$(cat "$E2E_RUN/env/VMAIL_UID" 2>/dev/null || id -u)" "$VMAIL_ETC/relay-auth"; chmod 600 "$VMAIL_ETC/relay-auth"
  submit by-relay friend@far.example
  assertTrue "arrived through the relay" "wait_until 60 '[ -n \"\$(arrived $FAR by-relay)\" ]'"
  f=$(arrived "$FAR" by-relay)
  assertTrue "authenticated, over TLS" "grep -q 'with ESMTPSA id' '$f'"
  assertTrue "the relay in the log" "grep -q 'to=<friend@far.example> status=sent .*127.0.0.1\[127.0.0.1\]:$SEED_SMTP_PORT said: 250' '$E2E_RUN/log/send/current'"
}

testSecondVmailInstanceReceives() {
  VMAIL_REMOTE=off VMAIL_RUN_DIR=$R2 VMAIL_SMTP_PORT=$P2 VMAIL_SUBMISSION_PORT=$((T_PORT_BASE + 287)) \
    VMAIL_POP3_PORT=$((T_PORT_BASE + 310)) VMAIL_IMAP_PORT=$((T_PORT_BASE + 343)) VMAIL_DEMO_PASSWORD=second-$$ \
    sh "$T_TOP/t/lib/instance.sh" start > "$T_TMP/second.out" 2>&1
  assertEquals "second instance up: $(tail -n 3 "$T_TMP/second.out")" 0 $?
  ( . "$R2/vmail.env" && vmailctl domain add second.example && echo bobpass | vmailctl user add bob@second.example - ) \
    > "$T_TMP/second.ctl" 2>&1
  assertEquals "its domain and user: $(cat "$T_TMP/second.ctl")" 0 $?
  printf 'second.example 127.0.0.1:%s\n' "$P2" > "$VMAIL_ETC/routes"
  submit to-vmail bob@second.example
  BOB=$R2/mail/second.example/bob
  assertTrue "arrived at the other vmail" "wait_until 60 '[ -n \"\$(arrived $BOB to-vmail)\" ]'"
  f=$(arrived "$BOB" to-vmail)
  size=$(wc -c < "$T_TMP/to-vmail.eml")
  assertTrue "byte-exact after the added headers" "tail -c $size '$f' | cmp -s - '$T_TMP/to-vmail.eml'"
  assertTrue "received by vmail-smtpd" "grep -q '(vmail-smtpd) with ESMTP' '$f'"
  stop_second
}

. shunit2
