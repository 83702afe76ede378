#!/bin/sh
# IMAP end to end: real clients (Python's imaplib, mbsync, mutt, fetchmail,
# swaks for delivery) against a whole private instance: tcpserver ->
# vmail-imap-login -> vmail-checkpw -> vmail-imapd on the instance's Maildirs.
T_PORT_BASE=${T_PORT_BASE:-18000}
. "$T_TOP/t/lib/common.sh"
. "$T_TOP/t/lib/e2e.sh"

oneTimeSetUp() {
  e2e_start || return 1
  BOX=$VMAIL_ROOT/example.com/postmaster
  write_python
}
oneTimeTearDown() { e2e_stop; rm -rf "$T_TMP"; }

USER=postmaster@example.com

# deliver MAILDIR SUBJECT [BODY]: a message written as a delivery agent does
# (tmp/, then renamed into new/)
deliver() {
  mkdir -p "$1/tmp" "$1/new" "$1/cur"
  n=$(date +%s).M$(date +%N)P$$R$(od -An -N4 -tu4 /dev/urandom | tr -d ' ').e2e
  printf 'From: Sender <sender@example.org>\nTo: postmaster@example.com\nSubject: %s\nDate: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <%s@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' \
    "$2" "$n" "${3:-hello from the e2e suite}" > "$1/tmp/$n"
  mv "$1/tmp/$n" "$1/new/$n"
}

# empty_box MAILDIR: no messages left in it (the uid list stays: UIDs are never reused)
empty_box() { rm -f "$1"/new/* "$1"/cur/*; }

# imap_py COMMAND [ARGS]: runs one scenario of $T_TMP/imap.py against the instance
imap_py() { IMAP_PORT=$E2E_IMAP IMAPS_PORT=$E2E_IMAPS IMAP_USER=$USER IMAP_PASS=$E2E_PASSWORD python3 "$T_TMP/imap.py" "$@" 2>&1; }

write_python() {
  cat > "$T_TMP/imap.py" <<'PY'
import imaplib, os, re, socket, ssl, sys, time
PORT = int(os.environ["IMAP_PORT"]); USER = os.environ["IMAP_USER"]; PASS = os.environ["IMAP_PASS"]
# logins need TLS: STARTTLS on the IMAP port, raw sessions on the IMAPS port,
# both verified against the instance's CA
CTX = ssl.create_default_context(cafile=os.environ["VMAIL_TLS_CA"])
IMAPS = int(os.environ.get("IMAPS_PORT", "0"))

def connect():
    m = imaplib.IMAP4("127.0.0.1", PORT)
    m.starttls(ssl_context=CTX)
    m.login(USER, PASS)
    return m

def raw_connect():
    return CTX.wrap_socket(socket.create_connection(("127.0.0.1", IMAPS)), server_hostname="127.0.0.1")

def out(k, v):
    if isinstance(v, bytes): v = v.decode("utf-8", "replace")
    print("%s=%s" % (k, v))

def session():
    """One client's day: every command a mail client uses, results as key=value lines."""
    m = connect()
    out("caps", m.capability()[1][0])
    typ, lst = m.list()
    for line in lst:
        out("list", line)
    typ, data = m.select("INBOX")
    out("exists", data[0])
    out("uidvalidity", m.response("UIDVALIDITY")[1][0])
    typ, data = m.fetch("1", "(FLAGS ENVELOPE BODYSTRUCTURE RFC822.SIZE)")
    out("fetch1", data[0])
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    out("subject", data[0][1].strip())
    typ, data = m.uid("SEARCH", None, "SUBJECT", '"second"')
    out("search_subject", data[0])
    typ, data = m.uid("SEARCH", None, "BODY", "needle")
    out("search_body", data[0])
    typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", "FROM", "sender")
    out("search_from", data[0])
    typ, data = m.store("1", "+FLAGS", "(\\Flagged)")
    out("store", data[0])
    typ, data = m.fetch("1", "(BODY[TEXT])")
    out("text", data[0][1].strip())
    typ, data = m.fetch("1", "(FLAGS)")
    out("flags_after_fetch", data[0])
    typ, data = m.copy("1", "Archive")
    out("copy", "%s %s" % (typ, m.response("COPYUID")[1]))
    typ, data = m._simple_command("MOVE", "2", "Trash")
    out("move", typ)
    out("move_expunge", m.untagged_responses.pop("EXPUNGE", [b"-"])[-1])
    typ, data = m.status("Trash", "(MESSAGES UIDNEXT)")
    out("status_trash", data[0])
    typ, data = m.append("Drafts", "(\\Draft)", None, b"From: me@example.com\r\nSubject: draft\r\n\r\nunfinished\r\n")
    out("append", "%s %s" % (typ, m.response("APPENDUID")[1]))
    out("create", m.create("Projects")[0])
    out("create_child", m.create("Projects.2024")[0])
    out("rename", m.rename("Projects", "Work")[0])
    typ, lst = m.list("", "Work*")
    for line in lst:
        out("list_work", line)
    out("delete", m.delete("Work.2024")[0])
    out("subscribe", m.subscribe("Work")[0])
    typ, lst = m.lsub("", "*")
    for line in lst:
        out("lsub", line)
    typ, data = m.store("1", "+FLAGS", "(\\Deleted)")
    typ, data = m.expunge()
    out("expunge", data[0])
    typ, data = m.select("Archive", readonly=True)
    out("archive_exists", data[0])
    m.logout()
    out("done", "yes")

def wait_for(sock, pattern, timeout):
    """Reads until a line matches pattern; returns (line, seconds) or (None, timeout)."""
    t0 = time.monotonic(); buf = b""
    sock.settimeout(0.05)
    while time.monotonic() - t0 < timeout:
        try:
            chunk = sock.recv(65536)
            if not chunk: break
            buf += chunk
        except socket.timeout:
            pass
        mt = re.search(pattern, buf)
        if mt: return mt.group(0), time.monotonic() - t0
    return None, timeout

def raw(sock, line):
    sock.sendall(line.encode() + b"\r\n")

def idle(maildir):
    """IDLE, then a delivery into new/: seconds until the untagged EXISTS."""
    s = raw_connect()
    wait_for(s, rb"\* OK[^\n]*\n", 5)
    raw(s, 'a LOGIN "%s" "%s"' % (USER, PASS)); print(wait_for(s, rb"a (OK|NO|BAD)[^\n]*\n", 5)[0])
    raw(s, "b SELECT INBOX"); line, _ = wait_for(s, rb"b (OK|NO|BAD)[^\n]*\n", 5)
    raw(s, "c IDLE"); line, _ = wait_for(s, rb"\+[^\n]*\n", 5); out("idle_continuation", line)
    time.sleep(0.3)
    name = "%d.M%dP%d.idle" % (time.time(), os.getpid(), os.getpid())
    with open(os.path.join(maildir, "tmp", name), "wb") as f:
        f.write(b"From: idle@example.org\nSubject: idle\n\nwake up\n")
    t0 = time.monotonic()
    os.rename(os.path.join(maildir, "tmp", name), os.path.join(maildir, "new", name))
    line, secs = wait_for(s, rb"\* \d+ EXISTS", 5)
    out("idle_exists", line)
    out("idle_ms", int((time.monotonic() - t0) * 1000) if line else 99999)
    raw(s, "DONE"); out("idle_done", wait_for(s, rb"c (OK|NO|BAD)[^\n]*", 5)[0])
    raw(s, "d LOGOUT"); s.close()

def two(maildir):
    """Two sessions on one INBOX: each sees the other's changes at the next command."""
    a = connect(); b = connect()
    n = int(a.select("INBOX")[1][0]); b.select("INBOX")
    out("start", n)
    # a delivery: both see EXISTS at their next NOOP
    name = "%d.M1P%d.two" % (time.time(), os.getpid())
    with open(os.path.join(maildir, "tmp", name), "wb") as f:
        f.write(b"From: two@example.org\nSubject: two\n\nboth see me\n")
    os.rename(os.path.join(maildir, "tmp", name), os.path.join(maildir, "new", name))
    a.noop(); out("a_exists", a.untagged_responses.pop("EXISTS", [b"-"])[-1])
    b.noop(); out("b_exists", b.untagged_responses.pop("EXISTS", [b"-"])[-1])
    # b flags message 1: a gets an untagged FETCH with the new flags
    b.store("1", "+FLAGS.SILENT", "(\\Flagged)")
    a.noop(); out("a_fetch", a.untagged_responses.pop("FETCH", [b"-"])[-1])
    # a appends: b sees EXISTS
    a.append("INBOX", None, None, b"From: a@example.org\r\nSubject: from a\r\n\r\nx\r\n")
    b.noop(); out("b_after_append", b.untagged_responses.pop("EXISTS", [b"-"])[-1])
    # b expunges message 1: a sees EXPUNGE 1 and one message less
    b.store("1", "+FLAGS.SILENT", "(\\Deleted)"); b.expunge()
    a.noop(); out("a_expunge", a.untagged_responses.pop("EXPUNGE", [b"-"])[-1])
    typ, data = a.search(None, "ALL"); out("a_count", len(data[0].split()))
    typ, data = b.search(None, "ALL"); out("b_count", len(data[0].split()))
    # the same UIDs on both sides
    out("a_uids", a.uid("SEARCH", None, "ALL")[1][0]); out("b_uids", b.uid("SEARCH", None, "ALL")[1][0])
    a.logout(); b.logout()

def uids(folder):
    m = connect()
    typ, data = m.select(folder, readonly=True)
    out("exists", data[0])
    out("uidvalidity", m.response("UIDVALIDITY")[1][0])
    out("uids", m.uid("SEARCH", None, "ALL")[1][0])
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    for d in data:
        if d: out("flags", d)
    m.logout()

def login_only():
    m = connect(); out("state", m.state); m.logout()

def moments(maildir):
    """RFC 3501 7.4.1: no EXPUNGE during FETCH, STORE or SEARCH; the next NOOP brings it."""
    a = connect(); b = connect()
    a.select("INBOX"); b.select("INBOX")
    b.store("1", "+FLAGS.SILENT", "(\\Deleted)"); b.expunge()
    a.untagged_responses.clear()
    a.fetch("1:*", "(UID)"); out("during_fetch", a.untagged_responses.pop("EXPUNGE", [b"none"])[-1])
    a.uid("SEARCH", None, "ALL"); out("during_search", a.untagged_responses.pop("EXPUNGE", [b"none"])[-1])
    a.noop(); out("at_noop", a.untagged_responses.pop("EXPUNGE", [b"none"])[-1])
    a.logout(); b.logout()

def idle_others():
    """While a idles, b's flag change and expunge arrive as FETCH and EXPUNGE."""
    s = raw_connect()
    wait_for(s, rb"\* OK[^\n]*\n", 5)
    raw(s, 'a LOGIN "%s" "%s"' % (USER, PASS)); wait_for(s, rb"a (OK|NO|BAD)[^\n]*\n", 5)
    raw(s, "b SELECT INBOX"); wait_for(s, rb"b (OK|NO|BAD)[^\n]*\n", 5)
    raw(s, "c IDLE"); out("idle_continuation", wait_for(s, rb"\+[^\n]*\n", 5)[0])
    b = connect(); b.select("INBOX")
    t0 = time.monotonic(); b.store("2", "+FLAGS.SILENT", "(\\Answered)")
    line, secs = wait_for(s, rb"\* 2 FETCH \([^\n]*\n", 5)
    out("idle_fetch", line); out("idle_fetch_ms", int((time.monotonic() - t0) * 1000) if line else 99999)
    t0 = time.monotonic(); b.store("1", "+FLAGS.SILENT", "(\\Deleted)"); b.expunge()
    line, secs = wait_for(s, rb"\* 1 EXPUNGE", 5)
    out("idle_expunge", line); out("idle_expunge_ms", int((time.monotonic() - t0) * 1000) if line else 99999)
    raw(s, "DONE"); out("idle_done", wait_for(s, rb"c (OK|NO|BAD)[^\n]*", 5)[0])
    raw(s, "d LOGOUT"); s.close(); b.logout()

def bytes_roundtrip(path):
    """APPEND a file, FETCH it back: the same bytes (CRLF as sent), twice on separate logins."""
    data = open(path, "rb").read()
    m = connect()
    typ, _ = m.append("INBOX", None, None, data)
    uid = m.response("APPENDUID")[1][0].split()[1].decode()
    out("append", typ)
    m.logout()
    m = connect(); m.select("INBOX", readonly=True)
    typ, d = m.uid("FETCH", uid, "(RFC822.SIZE BODY.PEEK[])")
    body = d[0][1]
    out("same", body == data); out("size_ok", (b"RFC822.SIZE %d" % len(data)) in d[0][0])
    typ, d = m.uid("FETCH", uid, "(BODY.PEEK[]<1000.500>)")
    out("partial_ok", d[0][1] == data[1000:1500])
    m.logout()

def search_utf8():
    """SEARCH CHARSET UTF-8 on an RFC 2047 encoded subject and a quoted-printable body."""
    m = connect(); m.select("INBOX")
    m.literal = "Grüße".encode()
    out("subject", m.uid("SEARCH", "CHARSET", "UTF-8", "SUBJECT")[1][0])
    m.literal = "Käse".encode()
    out("body", m.uid("SEARCH", "CHARSET", "UTF-8", "BODY")[1][0])
    out("ascii", m.uid("SEARCH", None, "SUBJECT", "aus")[1][0])
    m.logout()

def list_extended():
    """What Thunderbird and Apple Mail ask: LIST RETURN (SPECIAL-USE STATUS)."""
    m = connect()
    typ, data = m._simple_command("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE STATUS (MESSAGES UNSEEN))")
    for kind in ("LIST", "STATUS"):
        for line in m.untagged_responses.pop(kind, []):
            out(kind.lower(), line)
    typ, data = m._simple_command("LIST", "(SPECIAL-USE)", '""', '"*"')
    for line in m.untagged_responses.pop("LIST", []):
        out("special", line)
    m.logout()

def append_many(clients, each):
    """clients processes APPEND each messages at once: every UID distinct and stable."""
    import multiprocessing
    def work(k):
        m = connect()
        for i in range(int(each)):
            m.append("INBOX", None, None, b"From: p%d@example.org\r\nSubject: c%d m%d\r\n\r\nx\r\n" % (k, k, i))
        m.logout()
    ps = [multiprocessing.Process(target=work, args=(k,)) for k in range(int(clients))]
    for p in ps: p.start()
    for p in ps: p.join()
    m = connect(); out("select", m.select("INBOX"))
    u1 = m.uid("SEARCH", None, "ALL")[1][0].split()
    m.logout()
    m = connect(); m.select("INBOX")
    u2 = m.uid("SEARCH", None, "ALL")[1][0].split()
    out("count", len(u1)); out("distinct", len(set(u1))); out("stable", u1 == u2)
    m.logout()

def flag(seq, flags):
    m = connect(); m.select("INBOX"); out("store", m.store(seq, "+FLAGS", flags)[0]); m.logout()

def limits():
    """A literal over the limit is refused before it is sent (tagged NO/BAD, or BYE);
    an over-long line ends in BYE or BAD."""
    s = raw_connect()
    wait_for(s, rb"\* OK[^\n]*\n", 5)
    raw(s, 'a LOGIN "%s" "%s"' % (USER, PASS)); wait_for(s, rb"a (OK|NO|BAD)[^\n]*\n", 5)
    raw(s, "b APPEND INBOX {70000000}")
    line, _ = wait_for(s, rb"(\+|b (OK|NO|BAD)|\* BYE)[^\n]*\n", 5); out("big_literal", line)
    s.close()
    s = raw_connect()
    wait_for(s, rb"\* OK[^\n]*\n", 5)
    raw(s, 'a LOGIN "%s" "%s"' % (USER, PASS)); wait_for(s, rb"a (OK|NO|BAD)[^\n]*\n", 5)
    s.sendall(b"d NOOP " + b"x" * 200000 + b"\r\n")
    line, _ = wait_for(s, rb"(\* BYE|d (OK|NO|BAD))[^\n]*\n", 5); out("long_line", line)
    s.close()

def qresync(maildir):
    """A phone (QRESYNC) goes away; the laptop flags one message and expunges
    another; the phone comes back with its UIDVALIDITY and mod-sequence and
    learns exactly that in its SELECT."""
    phone = connect()
    out("enable", phone._simple_command("ENABLE", "QRESYNC")[0])
    phone.select("INBOX")
    uv = phone.response("UIDVALIDITY")[1][0].decode()
    hm = phone.response("HIGHESTMODSEQ")[1][0].decode()
    phone.logout()
    laptop = connect(); laptop.select("INBOX")
    typ, data = laptop.uid("SEARCH", None, "ALL"); uids = data[0].split()
    laptop.uid("STORE", uids[0], "+FLAGS", "(\\Flagged)")
    laptop.uid("STORE", uids[1], "+FLAGS", "(\\Deleted)"); laptop.expunge()
    laptop.logout()
    phone = connect()
    phone._simple_command("ENABLE", "QRESYNC")
    phone.untagged_responses.clear()
    typ, data = phone._simple_command("SELECT", "INBOX", "(QRESYNC (%s %s))" % (uv, hm))
    out("select", typ)
    out("vanished", phone.untagged_responses.get("VANISHED", [b"-"])[-1])
    out("fetch", phone.untagged_responses.get("FETCH", [b"-"])[-1])
    out("flagged_uid", uids[0]); out("expunged_uid", uids[1])
    phone.logout()

{"limits": limits, "append_many": append_many, "flag": flag, "qresync": qresync,
 "session": session, "moments": moments, "idle_others": idle_others, "bytes": bytes_roundtrip,
 "search_utf8": search_utf8, "list_extended": list_extended, "idle": idle, "two": two, "uids": uids, "login": login_only}[sys.argv[1]](*sys.argv[2:])
PY
}

testImaplibLoginAndSpecialUseFolders() {
  deliver "$BOX" "first message" "the needle is here"
  deliver "$BOX" "second message"
  out=$(imap_py session); echo "$out"
  assertContains "$out" 'done=yes'
  assertContains "$out" 'IMAP4rev1'
  assertContains "$out" 'UIDPLUS'
  for f in Sent Drafts Trash Junk Archive; do
    assertTrue "$f listed with \\$f" "echo '$out' | grep -q '^list=.*\\\\$f.*$f'"
  done
  assertContains "$out" 'exists=2'
  assertContains "$out" 'subject=Subject: first message'
  assertContains "ENVELOPE has the sender" "$out" '(("Sender" NIL "sender" "example.org"))'
  assertContains "ENVELOPE has the subject" "$out" '"first message"'
  assertContains "BODYSTRUCTURE" "$out" '("text" "plain" ("charset" "utf-8")'
  assertContains "$out" 'search_subject=2'
  assertTrue "body search: $(echo "$out" | grep search_body)" "echo '$out' | grep -Eq '^search_body=[0-9]+$'"
  assertContains "$out" 'search_from=1 2'
  assertContains "$out" 'text=the needle is here'
  assertTrue "FETCH BODY[TEXT] sets \\Seen" "echo '$out' | grep '^flags_after_fetch=' | grep -q 'Seen'"
  assertTrue "COPYUID: $(echo "$out" | grep ^copy=)" "echo '$out' | grep -Eq '^copy=OK .*[0-9]+ [0-9]+ [0-9]+'"
  assertContains "$out" 'move=OK'
  assertContains "MOVE reports EXPUNGE" "$out" 'move_expunge=2'
  assertContains "$out" 'MESSAGES 1'
  assertTrue "APPENDUID: $(echo "$out" | grep ^append=)" "echo '$out' | grep -Eq '^append=OK .*[0-9]+ [0-9]+'"
  assertContains "$out" 'rename=OK'
  assertTrue "the child followed the rename" "echo '$out' | grep -q '^list_work=.*Work.2024'"
  assertContains "$out" 'delete=OK'
  assertTrue "Trash subscribed" "echo '$out' | grep -q '^lsub=.*Trash'"
  assertContains "$out" 'expunge=1'
  assertContains "$out" 'archive_exists=1'
  # and on disk, as Maildir++ with flags in names
  assertEquals 'Archive holds the copy' 1 "$(count_files "$BOX/.Archive/cur")"
  assertEquals 'Drafts holds the append, flagged D' 1 "$(ls "$BOX/.Drafts/cur" | grep -c ':2,.*D')"
  assertTrue ".Work exists" "[ -f '$BOX/.Work/maildirfolder' ] || [ -d '$BOX/.Work/cur' ]"
  assertFalse ".Projects renamed away" "[ -d '$BOX/.Projects' ]"
  assertEquals 'INBOX empty after move and expunge' 0 "$(($(count_files "$BOX/cur") + $(count_files "$BOX/new")))"
}

testSmtpDeliveryReadOverImap() {
  empty_box "$BOX"
  swaks --server 127.0.0.1:"$E2E_SMTP" --from someone@example.org --to alias@example.com \
    --header 'Subject: through smtp' --body 'sent with swaks' >"$T_TMP/swaks.out" 2>&1
  assertEquals "swaks (see $T_TMP/swaks.out)" 0 $?
  wait_for_mail 1 20 "$BOX"
  out=$(imap_py uids INBOX)
  assertContains "$out" 'exists=1'
}

testIdleReportsDeliveryWithinASecond() {
  out=$(imap_py idle "$BOX")
  assertContains "$out" 'idle_continuation=+'
  assertContains "$out" 'EXISTS'
  ms=$(echo "$out" | sed -n 's/^idle_ms=//p')
  assertTrue "EXISTS after ${ms} ms" "[ '${ms:-99999}' -lt 1000 ]"
  assertContains "$out" 'idle_done=c OK'
}

testTwoConcurrentSessionsSeeEachOther() {
  empty_box "$BOX"
  deliver "$BOX" one; deliver "$BOX" two
  out=$(imap_py two "$BOX")
  assertContains "$out" 'start=2'
  assertContains "$out" 'a_exists=3'
  assertContains "$out" 'b_exists=3'
  assertTrue "a sees b's flag: $(echo "$out" | grep a_fetch)" "echo '$out' | grep '^a_fetch=' | grep -q 'Flagged'"
  assertContains "$out" 'b_after_append=4'
  assertContains "$out" 'a_expunge=1'
  assertContains "$out" 'a_count=3'
  assertContains "$out" 'b_count=3'
  a=$(echo "$out" | sed -n 's/^a_uids=//p'); b=$(echo "$out" | sed -n 's/^b_uids=//p')
  assertEquals "same UIDs in both sessions" "$a" "$b"
  assertNotEquals "" "$a"
}

# mbsync: the server's INBOX to a local Maildir and back, then again with no change
mbsync_run() { mbsync -V -c "$T_TMP/mbsyncrc" -a >"$T_TMP/mbsync.out" 2>&1; }
testMbsyncBothWaysAndIdle() {
  empty_box "$BOX"
  deliver "$BOX" "for mbsync 1"; deliver "$BOX" "for mbsync 2"
  L=$T_TMP/local; rm -rf "$L"; mkdir -p "$L"
  cat > "$T_TMP/mbsyncrc" <<RC
IMAPAccount vmail
Host localhost
Port $E2E_IMAP
User $USER
Pass $E2E_PASSWORD
SSLType STARTTLS
CertificateFile $VMAIL_TLS_CA
AuthMechs LOGIN

IMAPStore remote
Account vmail

MaildirStore local
Path $L/
Inbox $L/INBOX
SubFolders Verbatim

Channel all
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
RC
  mbsync_run; rc=$?
  assertEquals "first sync (see $T_TMP/mbsync.out)" 0 $rc
  assertEquals "both messages pulled" 2 "$(($(count_files "$L/INBOX/cur") + $(count_files "$L/INBOX/new")))"
  for f in Sent Drafts Trash Junk Archive; do assertTrue "$f pulled" "[ -d '$L/$f/cur' ]"; done
  # local changes: a new message, a \Seen flag, a new folder; pushed up
  deliver "$L/INBOX" "written locally"
  one=$(find "$L/INBOX/cur" "$L/INBOX/new" -type f -name '*for mbsync*' -o -type f -print | head -n 1)
  case $one in *:2,*) mv "$one" "$L/INBOX/cur/$(basename "$one")S" ;; *) mv "$one" "$L/INBOX/cur/$(basename "$one"):2,S" ;; esac
  mkdir -p "$L/Local/cur" "$L/Local/new" "$L/Local/tmp"; deliver "$L/Local" "in a local folder"
  mbsync_run; rc=$?
  assertEquals "second sync (see $T_TMP/mbsync.out)" 0 $rc
  assertEquals "pushed to the server" 3 "$(($(count_files "$BOX/cur") + $(count_files "$BOX/new")))"
  assertEquals "flag pushed" 1 "$(ls "$BOX/cur" | grep -c ':2,[A-Z]*S')"
  assertEquals "folder pushed" 1 "$(count_files "$BOX/.Local/cur")"
  # server-side changes are pulled: a new message, a flag
  deliver "$BOX" "after the first sync"
  imap_py flag 1:* '(\Flagged)' >/dev/null
  mbsync_run
  assertEquals "pulled the newcomer" 4 "$(($(count_files "$L/INBOX/cur") + $(count_files "$L/INBOX/new")))"
  assertEquals "pulled the server's flags" 4 "$(find "$L/INBOX" -type f -name '*:2,*F*' | wc -l)"
  # no change: nothing moves, nothing is downloaded again
  ls -R "$L" | grep -v mbsync > "$T_TMP/before.local"; ls -R "$BOX" | grep -v -e uidlist -e keywords > "$T_TMP/before.remote"
  mbsync -Dn -c "$T_TMP/mbsyncrc" -a >"$T_TMP/mbsync.out" 2>&1; rc=$?
  assertEquals "idle sync (see $T_TMP/mbsync.out)" 0 $rc
  ls -R "$L" | grep -v mbsync > "$T_TMP/after.local"; ls -R "$BOX" | grep -v -e uidlist -e keywords > "$T_TMP/after.remote"
  assertTrue "local side unchanged" "cmp -s '$T_TMP/before.local' '$T_TMP/after.local'"
  assertTrue "server side unchanged" "cmp -s '$T_TMP/before.remote' '$T_TMP/after.remote'"
  moved=$(grep -E '>>> [0-9]+ (UID )?(APPEND|STORE|EXPUNGE|FETCH .*BODY\.PEEK\[\])' "$T_TMP/mbsync.out")
  assertEquals "no message or flag transferred" "" "$moved"
  assertTrue "the idle sync did talk IMAP" "grep -q 'SELECT' '$T_TMP/mbsync.out'"
}

testMuttReadsOverImapInBatchMode() {
  empty_box "$BOX"
  deliver "$BOX" "for mutt" "mutt was here"
  sleep 1; deliver "$BOX" "mutt deletes me"
  cat > "$T_TMP/muttrc" <<RC
set imap_user="$USER"
set imap_pass="$E2E_PASSWORD"
set ssl_starttls=yes
set ssl_force_tls=yes
set ssl_ca_certificates_file="$VMAIL_TLS_CA"
set folder="imap://127.0.0.1:$E2E_IMAP/"
set spoolfile="+INBOX"
set header_cache=""
set message_cachedir=""
set wait_key=no
set confirmappend=no
set mark_old=no
set sort=date
set resolve=yes
set delete=yes
RC
  # mutt needs a terminal: script(1) gives it one; it pipes message 1 to a
  # file, flags it, and quits
  TERM=vt100 timeout 30 script -qec "mutt -n -F '$T_TMP/muttrc' -e 'push \"<pipe-message>cat > $T_TMP/mutt.msg<enter><flag-message><delete-message><sync-mailbox><quit>\"'" /dev/null \
    >"$T_TMP/mutt.screen" 2>&1
  assertTrue "mutt piped the message (see $T_TMP/mutt.screen)" "grep -q 'mutt was here' '$T_TMP/mutt.msg'"
  assertTrue "Subject came along" "grep -q '^Subject: for mutt' '$T_TMP/mutt.msg'"
  assertEquals "mutt's flag stored on the server" 1 "$(ls "$BOX/cur" | grep -c ':2,[A-Z]*F')"
  assertEquals "mutt's delete expunged on the server" 1 "$(count_files "$BOX/cur")"
}

testFetchmailOverImap() {
  empty_box "$BOX"
  deliver "$BOX" "fetch one" "fetched body 1"; deliver "$BOX" "fetch two" "fetched body 2"
  : > "$T_TMP/fetched"
  cat > "$T_TMP/fetchmailrc" <<RC
set no syslog
poll 127.0.0.1 service $E2E_IMAP protocol IMAP auth password
  user "$USER" password "$E2E_PASSWORD" is "$(id -un)" here
  sslproto tls1.2+ sslcertck sslcommonname localhost sslcertfile "$VMAIL_TLS_CA"
  mda "cat >> $T_TMP/fetched"
RC
  chmod 600 "$T_TMP/fetchmailrc"
  HOME=$T_TMP fetchmail -f "$T_TMP/fetchmailrc" --nodetach -i "$T_TMP/fetchids" >"$T_TMP/fetchmail.out" 2>&1
  rc=$?
  assertEquals "fetchmail (see $T_TMP/fetchmail.out)" 0 $rc
  assertEquals "both messages fetched" 2 "$(grep -c '^Subject: fetch ' "$T_TMP/fetched")"
  assertTrue "bodies intact" "grep -q 'fetched body 2' '$T_TMP/fetched'"
  assertEquals "fetchmail deleted them on the server" 0 "$(($(count_files "$BOX/cur") + $(count_files "$BOX/new")))"
  HOME=$T_TMP fetchmail -f "$T_TMP/fetchmailrc" --nodetach -i "$T_TMP/fetchids" >>"$T_TMP/fetchmail.out" 2>&1
  assertEquals "nothing more: exit 1 (no mail)" 1 $?
  # keep: messages stay, marked \Seen, and are not fetched again
  deliver "$BOX" "fetch kept" "kept body"
  : > "$T_TMP/fetched"
  HOME=$T_TMP fetchmail -f "$T_TMP/fetchmailrc" --nodetach --keep -i "$T_TMP/fetchids" >>"$T_TMP/fetchmail.out" 2>&1
  assertEquals "kept message fetched" 1 "$(grep -c '^Subject: fetch kept' "$T_TMP/fetched")"
  assertEquals "kept on the server, seen" 1 "$(ls "$BOX/cur" | grep -c ':2,[A-Z]*S')"
  HOME=$T_TMP fetchmail -f "$T_TMP/fetchmailrc" --nodetach --keep -i "$T_TMP/fetchids" >>"$T_TMP/fetchmail.out" 2>&1
  assertEquals "not fetched twice" 1 "$(grep -c '^Subject: fetch kept' "$T_TMP/fetched")"
}

testDovecotMaildirKeepsUids() {
  # a Maildir as Dovecot leaves it: dovecot-uidlist with gaps (expunged 1-6,
  # 8, 10, 11), dovecot-keywords, keyword letter a in a name
  vmailctl user add user3@example.com - <<PW >/dev/null
migrated-pw
PW
  D=$VMAIL_ROOT/example.com/user3
  rm -rf "$D"; mkdir -p "$D/cur" "$D/new" "$D/tmp"
  for n in 1795565496.M299881P20848.vm 1795565496.M372958P20848.vm 1795565496.M540307P20848.vm; do
    printf 'From: old@example.org\nSubject: migrated %s\n\nkept\n' "$n" > "$D/cur/$n,S=60,W=63:2,"
  done
  mv "$D/cur/1795565496.M372958P20848.vm,S=60,W=63:2," "$D/cur/1795565496.M372958P20848.vm,S=60,W=63:2,Sa"
  printf '3 V1795565496 N13 G28d2df11b827066b7051000083ecc375\n7 :1795565496.M299881P20848.vm,S=60,W=63\n9 :1795565496.M372958P20848.vm,S=60,W=63\n12 :1795565496.M540307P20848.vm,S=60,W=63\n' > "$D/dovecot-uidlist"
  printf '0 $Label1\n' > "$D/dovecot-keywords"
  out=$(IMAP_PORT=$E2E_IMAP IMAP_USER=user3@example.com IMAP_PASS=migrated-pw python3 "$T_TMP/imap.py" uids INBOX 2>&1)
  assertContains "$out" 'exists=3'
  assertContains "$out" 'uidvalidity=1795565496'
  assertContains "$out" 'uids=7 9 12'
  assertTrue "keyword kept: $(echo "$out" | grep 'UID 9')" "echo '$out' | grep 'UID 9' | grep -q '\\\$Label1'"
  assertTrue "\\Seen kept" "echo '$out' | grep 'UID 9' | grep -q 'Seen'"
  # a new message after the migration continues from Dovecot's next UID
  deliver "$D" "after migration"
  out=$(IMAP_PORT=$E2E_IMAP IMAP_USER=user3@example.com IMAP_PASS=migrated-pw python3 "$T_TMP/imap.py" uids INBOX 2>&1)
  assertContains "$out" 'uids=7 9 12 13'
}

testExpungeWaitsForTheRightMoment() {
  empty_box "$BOX"
  deliver "$BOX" m1; deliver "$BOX" m2; deliver "$BOX" m3
  out=$(imap_py moments "$BOX"); echo "$out"
  assertContains "no EXPUNGE in a FETCH answer" "$out" 'during_fetch=none'
  assertContains "no EXPUNGE in a SEARCH answer" "$out" 'during_search=none'
  assertContains "EXPUNGE at the NOOP" "$out" 'at_noop=1'
}

testIdleSeesOtherSessionsFlagsAndExpunges() {
  empty_box "$BOX"
  deliver "$BOX" i1; deliver "$BOX" i2; deliver "$BOX" i3
  out=$(imap_py idle_others); echo "$out"
  assertTrue "FETCH with the new flag: $(echo "$out" | grep idle_fetch=)" "echo '$out' | grep '^idle_fetch=' | grep -q Answered"
  ms=$(echo "$out" | sed -n 's/^idle_fetch_ms=//p')
  assertTrue "flag change after ${ms} ms" "[ '${ms:-99999}' -lt 1000 ]"
  assertContains "$out" 'idle_expunge=* 1 EXPUNGE'
  ms=$(echo "$out" | sed -n 's/^idle_expunge_ms=//p')
  assertTrue "expunge after ${ms} ms" "[ '${ms:-99999}' -lt 1000 ]"
  assertContains "$out" 'idle_done=c OK'
}

testLargeMessageRoundTrip() {
  # 5 MB with 8-bit bytes, CRLF line ends as IMAP carries them
  python3 -c "
import random, sys
r = random.Random(7)
lines = [bytes(r.choice(b'abcdefghij \xc3\xa9\xe2\x82\xac0123456789') for _ in range(76)) for _ in range(65000)]
sys.stdout.buffer.write(b'From: big@example.org\r\nSubject: big\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' + b'\r\n'.join(lines) + b'\r\n')" > "$T_TMP/big.eml"
  out=$(imap_py bytes "$T_TMP/big.eml"); echo "$out"
  assertContains "$out" 'append=OK'
  assertContains "byte-identical" "$out" 'same=True'
  assertContains "$out" 'size_ok=True'
  assertContains "partial fetch" "$out" 'partial_ok=True'
}

testSearchUtf8EncodedWords() {
  empty_box "$BOX"
  mkdir -p "$BOX/new"
  printf 'From: a@example.org\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_Bern?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nDer K=C3=A4se ist gut.\n' > "$BOX/new/1700000001.M1P1.utf8"
  printf 'From: b@example.org\nSubject: plain\n\nnothing here\n' > "$BOX/new/1700000002.M2P1.plain"
  out=$(imap_py search_utf8); echo "$out"
  uid=$(echo "$out" | sed -n 's/^ascii=//p')
  assertNotEquals "ASCII search finds the encoded subject" "" "$uid"
  assertEquals "UTF-8 subject" "subject=$uid" "$(echo "$out" | grep '^subject=')"
  assertEquals "UTF-8 in a QP body" "body=$uid" "$(echo "$out" | grep '^body=')"
}

testListReturnSpecialUseAndStatus() {
  out=$(imap_py list_extended); echo "$out"
  for f in Sent Drafts Trash Junk Archive; do
    assertTrue "$f with \\$f" "echo '$out' | grep -q '^list=.*\\\\$f.*$f'"
    assertTrue "$f in LIST (SPECIAL-USE)" "echo '$out' | grep -q '^special=.*\\\\$f.*$f'"
  done
  assertTrue "LIST-STATUS answers" "echo '$out' | grep -Eq '^status=\"?INBOX\"? \\(MESSAGES [0-9]+ UNSEEN [0-9]+\\)'"
  assertEquals "only special-use folders" 0 "$(echo "$out" | grep '^special=' | grep -c INBOX)"
}

# two deliveries between two syncs of a folder whose uid list needs no
# compaction: both numbered after the old message, which keeps its UID
testTwoDeliveriesBetweenSyncsKeepUids() {
  empty_box "$BOX"
  deliver "$BOX" old
  imap_py uids INBOX >/dev/null    # compacts the list after empty_box
  first=$(imap_py uids INBOX | sed -n 's/^uids=//p')
  uidvalidity=$(imap_py uids INBOX | sed -n 's/^uidvalidity=//p')
  deliver "$BOX" new1; deliver "$BOX" new2
  out=$(imap_py uids INBOX); echo "$out"
  assertContains "$out" 'exists=3'
  assertContains "$out" "uids=$first $((first + 1)) $((first + 2))"
  assertContains "UIDVALIDITY unchanged" "$out" "uidvalidity=$uidvalidity"
  out=$(imap_py uids INBOX)
  assertContains "still so at the next login" "$out" "uids=$first $((first + 1)) $((first + 2))"
}

testQresyncPhoneComesBack() {
  empty_box "$BOX"
  deliver "$BOX" q1; deliver "$BOX" q2; deliver "$BOX" q3
  out=$(imap_py qresync "$BOX"); echo "$out"
  f=$(echo "$out" | sed -n 's/^flagged_uid=//p'); x=$(echo "$out" | sed -n 's/^expunged_uid=//p')
  assertContains "$out" 'enable=OK'
  assertContains "$out" 'select=OK'
  assertContains "the expunge, as VANISHED (EARLIER)" "$out" "vanished=(EARLIER) $x"
  assertTrue "the flag, with its UID and MODSEQ: $(echo "$out" | grep ^fetch=)" \
    "echo '$out' | grep '^fetch=' | grep -q \"UID $f FLAGS (.*Flagged.*) MODSEQ\""
}

testConcurrentAppendsGetDistinctStableUids() {
  empty_box "$BOX"
  out=$(imap_py append_many 5 20); echo "$out"
  assertContains "$out" 'count=100'
  assertContains "$out" 'distinct=100'
  assertContains "$out" 'stable=True'
}

testServiceLogsOneLinePerSessionWithoutPassword() {
  imap_py login >/dev/null
  sleep 1
  log=$E2E_RUN/log/imap/current
  assertTrue "session lines in $log" "grep -q 'session user=postmaster@example.com' '$log'"
  assertTrue "the session's end" "grep 'session user=postmaster@example.com' '$log' | grep -q 'end=logout'"
  assertFalse "no password in the log" "grep -qF '$E2E_PASSWORD' '$log'"
}

# vmail-imapd(8): literals up to 64 MiB, lines up to 65536 bytes
testLimitsOverTheNetwork() {
  out=$(imap_py limits); echo "$out"
  assertTrue "a 70 MB literal refused without a continuation: $(echo "$out" | grep big_literal)" \
    "echo '$out' | grep -Eq '^big_literal=(b (NO|BAD)|\* BYE)'"
  assertTrue "a 200 KB line refused: $(echo "$out" | grep long_line)" "echo '$out' | grep -Eq '^long_line=(\\* BYE|d BAD)'"
}

testWrongPasswordRefusedOverTheNetwork() {
  out=$(IMAP_PORT=$E2E_IMAP IMAP_USER=$USER IMAP_PASS=wrong python3 "$T_TMP/imap.py" login 2>&1)
  assertContains "$out" 'AUTHENTICATIONFAILED'
  out=$(imap_py login)
  assertContains "$out" 'state=AUTH'
}

. shunit2
