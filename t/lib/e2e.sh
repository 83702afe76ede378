# End-to-end suites source this after common.sh: a whole private instance
# (t/lib/instance.sh, as `make run` builds it) under the suite's scratch dir.
# Ports come from T_PORT_BASE (default 12000) so parallel runs can differ:
#   SMTP base+25, submission base+87, POP3 base+110, IMAP base+143.
# After e2e_start: E2E_RUN (the run dir, its vmail.env sourced), E2E_PASSWORD
# (postmaster@example.com's password), E2E_SMTP/E2E_SUBMISSION/E2E_POP3/E2E_IMAP,
# E2E_SUBMISSIONS/E2E_IMAPS/E2E_POP3S, VMAIL_TLS_CA (the instance's CA).
# Logins need TLS; a suite that logs in in the clear (to test something
# else) calls VMAIL_AUTH_PLAINTEXT=1 e2e_start.
T_PORT_BASE=${T_PORT_BASE:-12000}
E2E_SMTP=$((T_PORT_BASE + 25)) E2E_SUBMISSION=$((T_PORT_BASE + 87))
E2E_POP3=$((T_PORT_BASE + 110)) E2E_IMAP=$((T_PORT_BASE + 143))
# implicit TLS: submissions base+465, IMAPS base+993, POP3S base+995
E2E_SUBMISSIONS=$((T_PORT_BASE + 465)) E2E_IMAPS=$((T_PORT_BASE + 993)) E2E_POP3S=$((T_PORT_BASE + 995))
E2E_RUN=$T_TMP/run
E2E_PASSWORD=demo-$$-pass
# an instance has make run's limits on guessing (common.sh turns them off)
unset VMAIL_AUTH_FAILURES VMAIL_AUTH_FAIL_DELAY

e2e_start() {
  # as root the instance's users (vmail, vmaild) must reach the run dir
  [ "$(id -u)" != 0 ] || chmod 711 "$T_TMP"
  VMAIL_RUN_DIR=$E2E_RUN VMAIL_SMTP_PORT=$E2E_SMTP VMAIL_SUBMISSION_PORT=$E2E_SUBMISSION \
  VMAIL_POP3_PORT=$E2E_POP3 VMAIL_IMAP_PORT=$E2E_IMAP VMAIL_DEMO_PASSWORD=$E2E_PASSWORD \
  VMAIL_SUBMISSIONS_PORT=$E2E_SUBMISSIONS VMAIL_IMAPS_PORT=$E2E_IMAPS VMAIL_POP3S_PORT=$E2E_POP3S \
    sh "$T_TOP/t/lib/instance.sh" start > "$T_TMP/instance.out" 2>&1 ||
    { cat "$T_TMP/instance.out"; return 1; }
  # vmail.env sets PATH; keep the suite's own after it (shunit2 finds its
  # default setUp/tearDown there)
  _e2e_path=$PATH
  . "$E2E_RUN/vmail.env"
  PATH=$PATH:$_e2e_path
}

e2e_stop() { VMAIL_RUN_DIR=$E2E_RUN sh "$T_TOP/t/lib/instance.sh" stop >/dev/null 2>&1; }

# Waits up to $2 seconds (default 10) until $1 files exist under Maildir $3.
wait_for_mail() {
  n=$1 t=$((${2:-10} * 10)) box=$3 i=0
  while [ "$(count_files "$box/new") " != "$n " ] && [ "$(($(count_files "$box/new") + $(count_files "$box/cur")))" -lt "$n" ]; do
    i=$((i + 1)); [ $i -lt $t ] || return 1; sleep 0.1
  done
}
