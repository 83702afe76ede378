# IMAP suites source this after common.sh: sessions piped into vmail-imapd.
CRLF=$(printf '\r\n')

# assertHas TEXT PART: PART occurs in TEXT as a whole (shunit2's
# assertContains greps, so a multi-line PART would match line by line).
assertHas() {
  case "$1" in *"$2"*) assertTrue 0 ;; *) fail "not found: <$2> in <$1>" ;; esac
}

# newbox DIR: an empty Maildir
newbox() { rm -rf "$1"; mkdir -p "$1/cur" "$1/new" "$1/tmp"; }

# session DIR: vmail-imapd in Maildir DIR on stdin's lines (CRLF added)
session() {
  sed "s/\$/$CRLF/" | (cd "$1" && vmail-imapd 2>/dev/null) | tr -d '\r'
}
