#!/bin/sh
# needs: root
# The limits on guessing as the services run in production (started as root):
# vmail-checkpw runs in the root partner, so the count is root's, out of the
# network parsers' reach, and a blocked address's answer crosses the
# partner's channel to the parser (privsep.h) for each login program.
. "$T_TOP/t/lib/common.sh"

MAIL_UID=65534 LOGIN_UID=65533

oneTimeSetUp() {
  seed_tutorial
  # the parsers' users reach the database socket under T_TMPROOT: t/run-tests
  # leaves it open to them (mode 1733) as root; make sure, never close it
  chmod o+x "$T_TMPROOT"
  # the users of issue 13's model (VMAIL_SMTPD_* is the SMTP parser's)
  export VMAIL_UID=$MAIL_UID VMAIL_GID=$MAIL_UID VMAIL_SMTPD_UID=$LOGIN_UID VMAIL_SMTPD_GID=$LOGIN_UID
  export VMAIL_LOGIN_UID=$LOGIN_UID VMAIL_LOGIN_GID=$LOGIN_UID VMAIL_AUTH_PLAINTEXT=1 VMAIL_HOSTNAME=mx.test
  export VMAIL_AUTH_FAILURES=1 VMAIL_AUTH_WINDOW=600
}

testImapBlockedThroughThePartner() {
  out=$(printf 'a LOGIN postmaster@example.com wrong\r\nb LOGIN postmaster@example.com password\r\nc LOGOUT\r\n' |
        TCPREMOTEIP=192.0.2.31 vmail-imap-login vmail-imapd 2>/dev/null | tr -d '\r')
  assertContains "$out" 'a NO [AUTHENTICATIONFAILED]'
  assertContains "$out" 'b NO [UNAVAILABLE] Too many failed logins from your address'
  assertEquals "the count is root's" "0 600" "$(stat -c '%u %a' "$VMAIL_LIMITS_DIR/auth")"
  assertEquals "in a directory only root enters" "0 700" "$(stat -c '%u %a' "$VMAIL_LIMITS_DIR")"
  assertFalse "the parsers' user cannot reset it" "setpriv --reuid=$LOGIN_UID --regid=$LOGIN_UID --clear-groups sh -c ': > \"$VMAIL_LIMITS_DIR/auth\"' 2>/dev/null"
}

testPop3BlockedThroughThePartner() {
  out=$(printf 'USER postmaster@example.com\r\nPASS wrong\r\nUSER postmaster@example.com\r\nPASS password\r\nQUIT\r\n' |
        TCPREMOTEIP=192.0.2.32 vmail-pop3-login vmail-pop3d 2>/dev/null | tr -d '\r')
  assertContains "$out" '-ERR [AUTH]'
  assertContains "$out" '-ERR [SYS/TEMP] too many failed logins from your address'
}

testSmtpBlockedThroughThePartner() {
  out=$(printf 'EHLO x\r\nAUTH PLAIN %s\r\nAUTH PLAIN %s\r\n' "$(printf '\0postmaster@example.com\0wrong' | base64 -w0)" \
          "$(printf '\0postmaster@example.com\0password' | base64 -w0)" |
        TCPREMOTEIP=192.0.2.33 vmail-smtpd 2>/dev/null | tr -d '\r')
  assertContains "$out" '535 5.7.8'
  assertContains "$out" '421 4.7.0 Too many failed logins from your address'
}

. shunit2
