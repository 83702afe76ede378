#!/bin/sh
# The fsync order behind "exit 0 means on disk", read from strace: a kill -9
# cannot show a missing fsync (the page cache survives it), a power cut would.
#   vmail-queue    message and envelope fsynced, renamed, directories fsynced
#   vmail-deliver  file fsynced in tmp/, linked into new/, new/ fsynced
#   vmail-send     a delivery's journal line fsynced before the dequeue
#   vmail-smtpd    250 only after its vmail-queue child has done all that
. "$T_TOP/t/lib/common.sh"

Q=$T_TMP/queue
export VMAIL_QUEUE_DIR=$Q
PM=$VMAIL_ROOT/example.com/postmaster

oneTimeSetUp() { seed_tutorial; }
setUp() { rm -rf "$Q" "$VMAIL_ROOT" "$T_TMP/trace"; printf 'Subject: durable\n\nbody\n' > "$T_TMP/msg"; }

CALLS=fsync,fdatasync,rename,renameat,renameat2,link,linkat,unlink,unlinkat,write,writev,exit_group,execve
trace() { strace -f -y -qq -s 64 -o "$T_TMP/trace" -e trace=$CALLS "$@"; }

# check_order RULE... : each RULE is "A < B", A and B regular expressions
# over the trace's calls, as "NAME ARGS" with file descriptors shown as their
# paths; the first call matching A must come before the first matching B.
# Prints the rules that fail (or a missing call), or "ok" when all hold.
check_order() {
  python3 - "$T_TMP/trace" "$@" <<'EOF'
import re, sys
calls, pending = [], {}
for line in open(sys.argv[1]):
    # strace -f splits a call another process interrupts into
    # "PID name(args <unfinished ...>" and "PID <... name resumed>rest": join them
    u = re.match(r'\s*(\d+)\s+(.*) <unfinished \.\.\.>$', line.rstrip('\n'))
    if u: pending[u.group(1)] = u.group(2); continue
    r = re.match(r'\s*(\d+)\s+<\.\.\. \w+ resumed>(.*)', line)
    if r: line = r.group(1) + ' ' + pending.pop(r.group(1), '') + r.group(2)
    m = re.match(r'\s*\d+\s+(\w+)\((.*)\)\s+=\s+(\S+)', line)
    if m and m.group(3) != '-1':
        args = re.sub(r'\d+<([^>]*)>', r'\1', m.group(2))   # fd<path> -> path
        calls.append(m.group(1) + ' ' + args)
def first(rx):
    for i, c in enumerate(calls):
        if re.search(rx, c): return i
    return None
for rule in sys.argv[2:]:
    a, b = [x.strip() for x in rule.split(' < ')]
    ia, ib = first(a), first(b)
    if ia is None or ib is None:
        print('no call matches %r' % (a if ia is None else b))
    elif ia >= ib:
        print('out of order: %s (call %d) after %s (call %d)' % (a, ia, b, ib))
    else: continue
    sys.exit(0)
print('ok')
EOF
}

testQueueFsyncsEverythingBeforeExit0() {
  printf 'Fa@example.org\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  trace vmail-queue < "$T_TMP/msg" 1< "$T_TMP/env"
  assertEquals "exit" 0 $?
  id=$(ls "$Q/env")
  out=$(check_order \
    "^fsync $Q/tmp/$id\$ < ^rename \"$Q/tmp/$id\", \"$Q/mess/$id\"" \
    "^rename \"$Q/tmp/$id\", \"$Q/mess/$id\" < ^fsync $Q/mess\$" \
    "^fsync $Q/tmp/$id.env\$ < ^rename \"$Q/tmp/$id.env\", \"$Q/env/$id\"" \
    "^fsync $Q/mess\$ < ^rename \"$Q/tmp/$id.env\", \"$Q/env/$id\"" \
    "^rename \"$Q/tmp/$id.env\", \"$Q/env/$id\" < ^fsync $Q/env\$" \
    "^fsync $Q/env\$ < ^exit_group 0" \
    "^fsync $T_TMP\$ < ^rename " \
    "^fsync $Q\$ < ^rename ")
  assertEquals "message, then envelope, each fsynced with its directory (and the fresh queue), before exit 0" ok "$out"
}

testSmtpdReplies250OnlyAfterTheQueueFsyncs() {
  # VMAIL_QUEUE unset: vmail-queue's code in a child of the session
  printf 'EHLO c.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\nSubject: s\r\n\r\nb\r\n.\r\n' |
    env -u VMAIL_QUEUE VMAIL_HOSTNAME=mx.test TCPREMOTEIP=192.0.2.1 strace -f -y -qq -s 512 -o "$T_TMP/trace" -e trace=$CALLS vmail-smtpd >/dev/null 2>&1
  id=$(ls "$Q/env")
  out=$(check_order \
    "^fsync $Q/tmp/$id\$ < ^rename \"$Q/tmp/$id\", \"$Q/mess/$id\"" \
    "^rename \"$Q/tmp/$id\", \"$Q/mess/$id\" < ^fsync $Q/mess\$" \
    "^fsync $Q/mess\$ < ^rename \"$Q/tmp/$id.env\", \"$Q/env/$id\"" \
    "^rename \"$Q/tmp/$id.env\", \"$Q/env/$id\" < ^fsync $Q/env\$" \
    "^fsync $Q/env\$ < ^writev? .*250 2\.0\.0 Ok: queued")
  assertEquals "the message queued and fsynced, then 250" ok "$out"
  assertEquals "vmail-queue's code in a forked child, without an exec" 0 "$(grep -c 'execve(.*vmail-queue' "$T_TMP/trace")"
}

testDeliverFsyncsFileAndNewBeforeExit0() {
  trace vmail-deliver -f a@example.org postmaster@example.com < "$T_TMP/msg"
  assertEquals "exit" 0 $?
  name=$(ls "$PM/new")
  uniq=${name%%,S=*}
  out=$(check_order \
    "^fsync $PM/tmp/$uniq\$ < ^link \"$PM/tmp/$uniq\", \"$PM/new/$name\"" \
    "^link \"$PM/tmp/$uniq\", \"$PM/new/$name\" < ^fsync $PM/new\$" \
    "^fsync $PM/new\$ < ^unlink \"$PM/tmp/$uniq\"" \
    "^fsync $PM/new\$ < ^exit_group 0" \
    "^fsync $PM\$ < ^link ")
  assertEquals "tmp file fsynced, linked, new/ fsynced (and the fresh Maildir), before exit 0" ok "$out"
}

testSendJournalsDeliveryBeforeDequeue() {
  printf 'Fa@example.org\0Tpostmaster@example.com\0\0' > "$T_TMP/env"
  vmail-queue < "$T_TMP/msg" 1< "$T_TMP/env"
  id=$(ls "$Q/env")
  rm -f "$T_TMP/send.pid"
  trace sh -c 'echo $$ > "$0"; exec vmail-send' "$T_TMP/send.pid" 2>"$T_TMP/send.log" &
  tracer=$!
  i=0; while { [ -e "$Q/env/$id" ] || [ ! -s "$T_TMP/send.pid" ]; } && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill "$(cat "$T_TMP/send.pid")"; wait $tracer
  assertEquals "delivered" 1 "$(count_files "$PM/new")"
  out=$(check_order \
    "^exit_group 0 < ^write $Q/state/$id, \"D 0" \
    "^write $Q/state/$id, \"D 0 < ^fsync $Q/state/$id\$" \
    "^fsync $Q/state/$id\$ < ^unlink \"$Q/env/$id\"")
  assertEquals "vmail-deliver's exit 0, then the journal line fsynced, then the dequeue" ok "$out"
  assertEquals "the delivery in a forked child, without an exec of vmail-deliver" 0 "$(grep -c 'execve(.*vmail-deliver' "$T_TMP/trace")"
}

. shunit2
