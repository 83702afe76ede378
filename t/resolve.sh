#!/bin/sh
# vmail-resolve: the virtual recipient resolver, against the tutorial's data.
. "$T_TOP/t/lib/common.sh"

oneTimeSetUp() {
  seed_tutorial
  sql "INSERT INTO virtual_domains (id, name) VALUES (3, 'other.test'), (4, 'loop.test');
    INSERT INTO virtual_users (domain_id, password, email) VALUES
      (3, '', 'bob@other.test'), (3, '', 'Carol@other.test'), (3, '', 'dan@other.test');
    INSERT INTO virtual_aliases (domain_id, source, destination) VALUES
      (3, 'team@other.test', 'bob@other.test'),
      (3, 'team@other.test', 'carol@other.test'),
      (3, 'list@other.test', 'bob@other.test, dan@other.test,outside@elsewhere.org'),
      (3, 'chain@other.test', 'team@other.test'),
      (3, 'bob@other.test', 'bob@other.test'),
      (3, 'bob@other.test', 'copy@elsewhere.org'),
      (3, 'dup@other.test', 'team@other.test, bob@other.test'),
      (4, 'a@loop.test', 'b@loop.test'),
      (4, 'b@loop.test', 'a@loop.test'),
      (4, '@loop.test', 'dan@other.test'),
      (3, 'broken@other.test', 'ghost@other.test, dan@other.test');"
  write_rclient
}

# rclient SOCKET: a client of vmail-resolve -l that runs the steps on stdin,
# one a line ("NAME" is a connection; TEXT takes \n, \r and \xHH escapes):
#   open NAME | send NAME TEXT | sendn NAME COUNT TEXT | read NAME [BLOCKS]
#   shut NAME (no more input) | close NAME | eof NAME | sh COMMAND
#   openn PREFIX COUNT | askall PREFIX COUNT TEXT
# read prints answer blocks as they came; eof reads to the end and prints
# "eof" and the bytes it read, or "open" if the server keeps the connection.
write_rclient() {
  cat > "$T_TMP/rclient.py" <<'PY'
import codecs, io, socket, subprocess, sys
path, conns, bufs, out = sys.argv[1], {}, {}, sys.stdout.buffer
steps = io.TextIOWrapper(sys.stdin.buffer, encoding='latin-1', newline='\n')
def text(s): return codecs.decode(s.encode('latin-1'), 'unicode_escape').encode('latin-1')
def connect(name):
    s = socket.socket(socket.AF_UNIX); s.settimeout(10)
    try: s.connect(path)
    except OSError as e: out.write(b'refused %s\n' % e.__class__.__name__.encode()); return
    conns[name], bufs[name] = s, b''
def block(name):
    while b'\n\n' not in bufs[name]:
        d = conns[name].recv(65536)
        if not d: return b'EOF\n'
        bufs[name] += d
    i = bufs[name].index(b'\n\n') + 2
    b, bufs[name] = bufs[name][:i], bufs[name][i:]
    return b
def eof(name):
    n = len(bufs[name]); conns[name].settimeout(5)
    try:
        while True:
            d = conns[name].recv(65536)
            if not d: break
            n += len(d)
    except socket.timeout: return b'open\n'
    except ConnectionResetError: pass
    return b'eof %d\n' % n
for line in steps:
    op, _, rest = line.rstrip('\n').partition(' ')
    name, _, arg = rest.partition(' ')
    if op == 'open': connect(name)
    elif op == 'send': conns[name].sendall(text(arg))
    elif op == 'sendn': n, _, t = arg.partition(' '); conns[name].sendall(text(t) * int(n))
    elif op == 'read':
        for _ in range(int(arg or 1)): out.write(block(name))
    elif op == 'shut': conns[name].shutdown(socket.SHUT_WR)
    elif op == 'close': conns[name].close()
    elif op == 'eof': out.write(eof(name))
    elif op == 'sh': out.flush(); subprocess.run(rest, shell=True)
    elif op == 'openn':
        for i in range(int(arg)): connect(name + str(i))
    elif op == 'askall':
        n, _, t = arg.partition(' '); good = 0
        for i in range(int(n)): conns[name + str(i)].sendall(text(t))
        for i in range(int(n)): good += block(name + str(i)).startswith(b'local ')
        out.write(b'answered %d\n' % good)
    out.flush()
PY
}

testAliasResolvesToUserMaildir() {
  out=$(vmail-resolve alias@example.com); rc=$?
  assertEquals 0 "$rc"
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$out"
}

testUserResolvesToItself() {
  out=$(vmail-resolve postmaster@example.com)
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$out"
}

testDomainMatchedCaseInsensitively() {
  out=$(vmail-resolve postmaster@EXAMPLE.Com)
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$out"
}

testStoredMixedCaseUserGivesLowercaseMaildir() {
  out=$(vmail-resolve carol@other.test)
  assertEquals "local carol@other.test $VMAIL_ROOT/other.test/carol" "$out"
}

testUnknownUserIs100AndSaysUser() {
  err=$(vmail-resolve nobody@example.com 2>&1 >/dev/null); rc=$?
  assertEquals 100 "$rc"
  assertContains "$err" "no such user"
}

testUnknownDomainIs100AndSaysDomain() {
  err=$(vmail-resolve someone@elsewhere.org 2>&1 >/dev/null); rc=$?
  assertEquals 100 "$rc"
  assertContains "$err" "domain"
}

testInvalidAddressIs100() {
  vmail-resolve 'not an address' >/dev/null 2>&1; assertEquals 100 $?
  vmail-resolve 'a..b@example.com' >/dev/null 2>&1; assertEquals 100 $?
  vmail-resolve '@example.com' >/dev/null 2>&1; assertEquals 100 $?
}

testExtensionStripped() {
  out=$(vmail-resolve postmaster+lists@example.com)
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$out"
  out=$(vmail-resolve alias+x@example.com)
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$out"
}

testDelimiterConfigurable() {
  out=$(VMAIL_RECIPIENT_DELIMITER=- vmail-resolve postmaster-x@example.com)
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$out"
  VMAIL_RECIPIENT_DELIMITER= vmail-resolve postmaster+x@example.com >/dev/null 2>&1
  assertEquals 100 $?
}

testFanOutOneRowEach() {
  # team -> bob and carol, one row each; bob's own alias adds his copy
  out=$(vmail-resolve team@other.test | sort | tr '\n' ' ')
  assertEquals "local bob@other.test $VMAIL_ROOT/other.test/bob local carol@other.test $VMAIL_ROOT/other.test/carol remote copy@elsewhere.org " "$out"
}

testFanOutCommaSeparatedWithRemote() {
  out=$(vmail-resolve list@other.test | sort | tr '\n' ' ')
  assertContains "$out" "local bob@other.test"
  assertContains "$out" "local dan@other.test"
  assertContains "$out" "remote outside@elsewhere.org"
}

testChainFollowed() {
  # chain -> team -> bob (who keeps a copy elsewhere) and carol
  out=$(vmail-resolve chain@other.test | sort | tr '\n' ' ')
  assertEquals "local bob@other.test $VMAIL_ROOT/other.test/bob local carol@other.test $VMAIL_ROOT/other.test/carol remote copy@elsewhere.org " "$out"
}

testSelfAliasDeliversToUserAndCopies() {
  out=$(vmail-resolve bob@other.test | sort | tr '\n' ' ')
  assertEquals "local bob@other.test $VMAIL_ROOT/other.test/bob remote copy@elsewhere.org " "$out"
}

testDuplicatesRemoved() {
  # bob is reached through team and directly: one line each for bob, copy, carol
  out=$(vmail-resolve dup@other.test)
  assertEquals 3 "$(echo "$out" | wc -l | tr -d ' ')"
  assertEquals 1 "$(echo "$out" | grep -c 'local bob@')"
}

testLoopDetected() {
  err=$(vmail-resolve a@loop.test 2>&1 >/dev/null); rc=$?
  assertEquals 100 "$rc"
  assertContains "$err" "loop"
}

testCatchAll() {
  out=$(vmail-resolve anything@loop.test)
  assertEquals "local dan@other.test $VMAIL_ROOT/other.test/dan" "$out"
}

testCatchAllComesAfterUser() {
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES (1, '@example.com', 'user2@example.com')"
  out=$(vmail-resolve postmaster@example.com)
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$out"
  out=$(vmail-resolve whoever@example.com)
  assertEquals "local user2@example.com $VMAIL_ROOT/example.com/user2" "$out"
  sql "DELETE FROM virtual_aliases WHERE source = '@example.com'"
}

testBrokenMemberSkippedOthersDelivered() {
  out=$(vmail-resolve broken@other.test)
  assertEquals "local dan@other.test $VMAIL_ROOT/other.test/dan" "$out"
}

testVmailRootHonoured() {
  out=$(VMAIL_ROOT=/srv/mail vmail-resolve postmaster@example.com)
  assertEquals "local postmaster@example.com /srv/mail/example.com/postmaster" "$out"
}

testBatchModeBlocks() {
  out=$(printf 'alias@example.com\n<postmaster@example.com>\r\nnobody@example.com\nx@elsewhere.org\n' | vmail-resolve)
  expected=$(printf 'local postmaster@example.com %s\n\nlocal postmaster@example.com %s\n\nerror nouser no such user: nobody@example.com\n\nerror nodomain domain is not ours: elsewhere.org\n' "$VMAIL_ROOT/example.com/postmaster" "$VMAIL_ROOT/example.com/postmaster")
  assertEquals "$expected" "$out"
}

testBatchModeAnswersBeforeEof() {
  # a co-process must answer each line at once: read one answer while stdin stays open
  fifo=$T_TMP/in; mkfifo "$fifo"
  ( vmail-resolve < "$fifo" > "$T_TMP/out" ) &
  exec 7>"$fifo"
  echo alias@example.com >&7
  i=0; while [ "$(grep -c '^$' "$T_TMP/out" 2>/dev/null)" != 1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  got=$(head -n 1 "$T_TMP/out")
  exec 7>&-
  wait
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$got"
}

testBatchModeLongLineRefused() {
  out=$(head -c 5000 /dev/zero | tr '\0' a | { cat; echo; echo alias@example.com; } | vmail-resolve)
  assertContains "$out" "error bad"
  assertContains "$out" "local postmaster@example.com"
}

testBatchModeLineLimit() {
  # a line is 258 bytes with its LF: the longest address (254), its
  # brackets and CRLF fit; one byte more is too long; and the line after
  # either is answered, not skipped with it
  long=$(head -c 64 /dev/zero | tr '\0' a)@$(head -c 63 /dev/zero | tr '\0' b).$(head -c 63 /dev/zero | tr '\0' c).$(head -c 61 /dev/zero | tr '\0' d)
  assertEquals 254 ${#long}
  out=$(printf '<%s>\r\nalias@example.com\n<%s>x\r\nalias@example.com\n' "$long" "$long" | vmail-resolve)
  assertEquals "$(printf 'error nodomain domain is not ours: %s\n\nlocal postmaster@example.com %s\n\nerror bad address too long\n\nlocal postmaster@example.com %s' \
    "${long#*@}" "$VMAIL_ROOT/example.com/postmaster" "$VMAIL_ROOT/example.com/postmaster")" "$out"
  for n in 255 256 257; do
    out=$(printf '%s\nalias@example.com\n' "$(head -c $n /dev/zero | tr '\0' a)" | vmail-resolve)
    assertContains "$n bytes" "$out" "error bad invalid address"
    assertContains "$n bytes, then" "$out" "local postmaster@example.com"
  done
}

testBatchAnswersAsOneAddressAtATime() {
  # lines that arrive together are resolved together; each block must be
  # what the address alone gets, in order, whatever shares its batch
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES (4, 'z@loop.test', 'bob@other.test')"
  list='alias@example.com
team@other.test
list@other.test
chain@other.test
Carol@OTHER.test
<bob@other.test>
dup@other.test
a@loop.test
z@loop.test
anything@loop.test
broken@other.test
postmaster+ext@example.com
nobody@example.com
x@elsewhere.org
not an address

'"$(printf '\360\237\230\200@example.com')"
  : > "$T_TMP/many"; : > "$T_TMP/alone"
  for i in 1 2 3 4 5 6 7 8 9 10; do
    printf '%s\n' "$list" >> "$T_TMP/many"
    [ $i = 5 ] && { head -c 300 /dev/zero | tr '\0' a; echo; } >> "$T_TMP/many"
  done
  while IFS= read -r line; do
    printf '%s\n' "$line" | vmail-resolve >> "$T_TMP/alone"
  done < "$T_TMP/many"
  vmail-resolve < "$T_TMP/many" > "$T_TMP/together"
  sql "DELETE FROM virtual_aliases WHERE source = 'z@loop.test'"
  assertEquals "$(grep -c '' "$T_TMP/many")" "$(grep -c '^$' "$T_TMP/together")"
  assertEquals "$(cat "$T_TMP/alone")" "$(cat "$T_TMP/together")"
}

testBatchAsksTheDatabaseOncePerLevelNotPerAddress() {
  # 100 users and 100 aliases of them, in one input: a few statements
  # (64 addresses a batch, one per alias level), not one per address
  sql "INSERT INTO virtual_domains (id, name) VALUES (20, 'many.test')"
  rows=$(seq 1 100 | sed "s/.*/(20, '', 'u&@many.test')/" | paste -sd, -)
  sql "INSERT INTO virtual_users (domain_id, password, email) VALUES $rows"
  rows=$(seq 1 100 | sed "s/.*/(20, 'a&@many.test', 'u&@many.test')/" | paste -sd, -)
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES $rows"
  seq 1 100 | sed 's/.*/u&@many.test/' > "$T_TMP/users"
  seq 1 100 | sed 's/.*/a&@many.test/' > "$T_TMP/aliases"
  executes() { sql "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'" | cut -f2; }
  before=$(executes)
  out=$(vmail-resolve < "$T_TMP/users")
  users=$(( $(executes) - before ))
  assertEquals 100 "$(echo "$out" | grep -c '^local u[0-9]*@many.test ')"
  before=$(executes)
  out=$(vmail-resolve < "$T_TMP/aliases")
  aliases=$(( $(executes) - before ))
  assertEquals 100 "$(echo "$out" | grep -c '^local u[0-9]*@many.test ')"
  assertEquals "each a%d gets its own u%d" "local u57@many.test $VMAIL_ROOT/many.test/u57" "$(echo "$out" | sed -n '/u57@/p')"
  assertTrue "users: $users statements" "[ $users -ge 1 ] && [ $users -le 2 ]"
  assertTrue "aliases: $aliases statements" "[ $aliases -ge 2 ] && [ $aliases -le 4 ]"
}

testDatabaseDownIsTemporary() {
  err=$(VMAIL_DB_SOCKET=$T_TMP/nonexistent.sock vmail-resolve alias@example.com 2>&1); rc=$?
  assertEquals 111 "$rc"
  assertContains "$err" "MariaDB"
  out=$(echo alias@example.com | VMAIL_DB_SOCKET=$T_TMP/nonexistent.sock vmail-resolve)
  assertContains "$out" "error temp"
}

testReconnectsWhenServerDropsConnection() {
  # a co-process outlives its connection: the server kills it between two
  # questions (as wait_timeout or a restart would) and the answer still comes
  fifo=$T_TMP/in2; mkfifo "$fifo"
  ( vmail-resolve < "$fifo" > "$T_TMP/out2" 2>"$T_TMP/err2" ) &
  exec 8>"$fifo"
  echo alias@example.com >&8
  i=0; while [ "$(grep -c '^$' "$T_TMP/out2" 2>/dev/null)" != 1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  ids=$(sql "SELECT id FROM information_schema.processlist WHERE user = '$VMAIL_DB_USER'")
  assertNotEquals "a connection of the server account exists" "" "$ids"
  for id in $ids; do sql "KILL $id" 2>/dev/null; done
  echo postmaster@example.com >&8
  i=0; while [ "$(grep -c '^$' "$T_TMP/out2" 2>/dev/null)" != 2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  exec 8>&-
  wait
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$(sed -n 3p "$T_TMP/out2")"
}

testDepthLimit() {
  # c1 -> c2 -> ... -> c21 -> end, a user: from c2, 20 hops are followed;
  # from c1, 21 are too deep
  sql "INSERT INTO virtual_domains (id, name) VALUES (5, 'deep.test');
       INSERT INTO virtual_users (domain_id, password, email) VALUES (5, '', 'end@deep.test')"
  i=1; rows=""
  while [ $i -le 20 ]; do rows="$rows(5, 'c$i@deep.test', 'c$((i + 1))@deep.test'),"; i=$((i + 1)); done
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES $rows(5, 'c21@deep.test', 'end@deep.test')"
  out=$(vmail-resolve c2@deep.test); rc=$?
  assertEquals "20 hops" 0 "$rc"
  assertEquals "local end@deep.test $VMAIL_ROOT/deep.test/end" "$out"
  err=$(vmail-resolve c1@deep.test 2>&1 >/dev/null); rc=$?
  assertEquals "21 hops" 100 "$rc"
  assertContains "$err" "too deep"
}

testSharedMembersCostLinearNotExponential() {
  # aN and bN both -> aN+1 and bN+1: 2^18 paths to one user. Expanding every
  # path took minutes per RCPT; the lookup limit ends it within a second or so
  sql "INSERT INTO virtual_domains (id, name) VALUES (6, 'dag.test');
       INSERT INTO virtual_users (domain_id, password, email) VALUES (6, '', 'end@dag.test')"
  i=0; rows=""
  while [ $i -lt 18 ]; do
    n=$((i + 1))
    rows="$rows(6, 'a$i@dag.test', 'a$n@dag.test,b$n@dag.test'),(6, 'b$i@dag.test', 'a$n@dag.test,b$n@dag.test'),"
    i=$n
  done
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES $rows(6, 'a18@dag.test', 'end@dag.test'), (6, 'b18@dag.test', 'end@dag.test')"
  out=$(vmail-resolve a10@dag.test); rc=$?
  assertEquals "a small diamond resolves" 0 "$rc"
  assertEquals "local end@dag.test $VMAIL_ROOT/dag.test/end" "$out"
  out=$(timeout 30 vmail-resolve a0@dag.test 2>"$T_TMP/dag.err"); rc=$?
  assertEquals 100 "$rc"
  assertEquals "no partial answer" "" "$out"
  assertContains "$(cat "$T_TMP/dag.err")" "too many alias lookups"
}

testTooManyRecipientsFailsTheWholeAddress() {
  # 1001 members: refused as a whole, never delivered to the first 1000
  sql "INSERT INTO virtual_domains (id, name) VALUES (7, 'big.test')"
  for n in 1000 1001; do
    rows=$(seq 1 $n | sed "s/.*/(7, 'big$n@big.test', 'm&@far.test')/" | paste -sd, -)
    sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES $rows"
  done
  assertEquals 1000 "$(vmail-resolve big1000@big.test | grep -c '^remote m')"
  out=$(vmail-resolve big1001@big.test 2>"$T_TMP/big.err"); rc=$?
  assertEquals 100 "$rc"
  assertEquals "" "$out"
  assertContains "$(cat "$T_TMP/big.err")" "too many recipients"
}

testMalformedUtf8IsABadAddress() {
  for a in 'a\377@example.com' '\300\257@example.com' '\355\240\200@example.com' 'a@ex\344mple.com'; do
    err=$(vmail-resolve "$(printf "$a")" 2>&1 >/dev/null); rc=$?
    assertEquals "$a" 100 "$rc"
    assertContains "$a" "$err" "invalid address"
  done
}

testCharacterOutsideTheTablesCharsetIsUnknownNotTemporary() {
  # the tutorial's utf8 columns hold 3-byte characters; MariaDB refuses to
  # compare a 4-byte one with them, which must not read as database trouble
  err=$(vmail-resolve "$(printf '\360\237\230\200@example.com')" 2>&1 >/dev/null); rc=$?
  assertEquals 100 "$rc"
  assertContains "$err" "no such user"
  err=$(vmail-resolve "$(printf 'x@\360\237\230\200.com')" 2>&1 >/dev/null); rc=$?
  assertEquals 100 "$rc"
  assertContains "$err" "domain is not ours"
  # the extension is stripped, the rest still found
  out=$(vmail-resolve "$(printf 'postmaster+\360\237\216\211@example.com')")
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$out"
  # and a catch-all still takes it
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES (1, '@example.com', 'user2@example.com')"
  out=$(printf '\360\237\230\200@example.com\n' | vmail-resolve)
  sql "DELETE FROM virtual_aliases WHERE source = '@example.com'"
  assertEquals "local user2@example.com $VMAIL_ROOT/example.com/user2" "$(echo "$out" | head -n 1)"
}

testArgumentsDatabaseDownIsOneLine() {
  err=$(VMAIL_DB_SOCKET=$T_TMP/nonexistent.sock vmail-resolve alias@example.com a@example.com b@example.com 2>&1); rc=$?
  assertEquals 111 "$rc"
  assertEquals 1 "$(printf '%s\n' "$err" | wc -l)"
  assertContains "$err" "vmail-resolve: fatal: unable to connect to MariaDB"
}

testOverTcp() {
  # VMAIL_DB_HOST/VMAIL_DB_PORT: a TCP relay to the private server's socket
  port=$((${T_PORT_BASE:-12000} + 306))
  python3 - "$port" "$VMAIL_DB_SOCKET" <<'PY' &
import socket, sys, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(8); srv.settimeout(20)
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except OSError:
        pass
    b.close()
while True:
    try: c, _ = srv.accept()
    except socket.timeout: break
    u = socket.socket(socket.AF_UNIX); u.connect(sys.argv[2])
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
PY
  relay=$!
  i=0; until timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
  out=$(VMAIL_DB_SOCKET= VMAIL_DB_HOST=127.0.0.1 VMAIL_DB_PORT=$port vmail-resolve alias@example.com); rc=$?
  kill $relay 2>/dev/null; wait $relay 2>/dev/null
  assertEquals 0 "$rc"
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$out"
}

testServerThatStopsAnsweringTimesOut() {
  # the connect/read timeout: a co-process asks while MariaDB is frozen, gets
  # "error temp" within VMAIL_DB_TIMEOUT (and its one retry), and answers
  # again once the server is back
  fifo=$T_TMP/in3; mkfifo "$fifo"
  ( VMAIL_DB_TIMEOUT=1 vmail-resolve < "$fifo" > "$T_TMP/out3" 2>/dev/null ) &
  exec 9>"$fifo"
  echo alias@example.com >&9
  i=0; while [ "$(grep -c '^$' "$T_TMP/out3" 2>/dev/null)" != 1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  dbpid=$(cat "$T_DB/db.pid")
  kill -STOP "$dbpid"
  start=$(date +%s)
  echo postmaster@example.com >&9
  i=0; while [ "$(grep -c '^$' "$T_TMP/out3" 2>/dev/null)" != 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  took=$(($(date +%s) - start))
  kill -CONT "$dbpid"
  echo alias@example.com >&9
  i=0; while [ "$(grep -c '^$' "$T_TMP/out3" 2>/dev/null)" != 3 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  exec 9>&-
  wait
  assertContains "$(sed -n 3p "$T_TMP/out3")" "error temp"
  assertTrue "answered in ${took}s" "[ $took -le 5 ]"
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$(sed -n 5p "$T_TMP/out3")"
}

testDomainAliasAsPostfixHasIt() {
  # virtual(5): a result @otherdomain is the same user in otherdomain, so a
  # row @alias.test -> @other.test aliases the whole domain
  sql "INSERT INTO virtual_domains (id, name) VALUES (8, 'alias.test'), (9, 'fwd.test');
       INSERT INTO virtual_aliases (domain_id, source, destination) VALUES
         (8, '@alias.test', '@other.test'), (9, '@fwd.test', '@far.example')"
  assertEquals "local dan@other.test $VMAIL_ROOT/other.test/dan" "$(vmail-resolve dan@alias.test)"
  assertEquals "with its extension" "local carol@other.test $VMAIL_ROOT/other.test/carol" "$(vmail-resolve carol+x@alias.test)"
  assertEquals "remote Joe@far.example" "$(vmail-resolve Joe@fwd.test)"
  err=$(vmail-resolve nobody@alias.test 2>&1 >/dev/null); rc=$?
  assertEquals 100 "$rc"
  assertContains "$err" "no such user: nobody@other.test"
}

testMailuserIsReadOnly() {
  # the servers' account can read the tables and nothing more
  out=$(mariadb --no-defaults -S "$VMAIL_DB_SOCKET" -u mailuser -p"$(cat "$VMAIL_DB_PASSWORD_FILE")" mailserver \
        -e "DELETE FROM virtual_users" 2>&1); rc=$?
  assertNotEquals 0 "$rc"
  assertContains "$out" "denied"
}

testUnsafeMailboxNameRefused() {
  sql "INSERT INTO virtual_users (domain_id, password, email) VALUES (3, '', '.hidden@other.test')"
  vmail-resolve .hidden@other.test >/dev/null 2>&1
  assertEquals 100 $?
}

# Server mode: vmail-resolve -l on a socket s6-ipcserver-socketbinder binds.

SERVER=
# server_start [VAR=value ...]: a server on $T_TMP/r.sock, its log in r.log
server_start() {
  rm -f "$T_TMP/r.log"
  env "$@" s6-ipcserver-socketbinder "$T_TMP/r.sock" vmail-resolve -l 2>"$T_TMP/r.log" &
  SERVER=$!
  i=0; until grep -q '^start' "$T_TMP/r.log" 2>/dev/null || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
}
server_stop() { [ -n "$SERVER" ] || return 0; kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; SERVER=; }
server_alive() { kill -0 "$SERVER" 2>/dev/null; }
rclient() { python3 "$T_TMP/rclient.py" "${1:-$T_TMP/r.sock}"; }
# the server's root client, for rclient's sh steps (they cannot call db_root)
q="mariadb --no-defaults -S $T_DB/db.sock -uroot mailserver -N -e"
tearDown() { server_stop; }

# The same lines, each in its own write, to a server and to batch mode.
assertServerAnswersAsBatch() {
  printf "$1" | vmail-resolve > "$T_TMP/batch.out"
  { echo 'open a'; printf "$1" | while IFS= read -r l; do printf 'send a %s\\n\nread a\n' "$l"; done; } \
    | rclient > "$T_TMP/server.out"
  assertEquals "$(cat "$T_TMP/batch.out")" "$(cat "$T_TMP/server.out")"
  assertTrue "byte for byte" "cmp '$T_TMP/batch.out' '$T_TMP/server.out'"
}

testServerAnswersAsBatchMode() {
  server_start
  assertServerAnswersAsBatch 'alias@example.com\n<postmaster@example.com>\r\nnobody@example.com\nx@elsewhere.org\nnot an address\n\nlist@other.test\na@loop.test\n'
  assertContains "$(cat "$T_TMP/server.out")" "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster"
  assertContains "$(cat "$T_TMP/server.out")" "error nouser"
  assertContains "$(cat "$T_TMP/server.out")" "error nodomain"
  assertContains "$(cat "$T_TMP/server.out")" "error bad"
  assertEquals "one log line, none per query" "start clients_max=256" "$(cat "$T_TMP/r.log")"
}

testServerLongLinesAsBatchMode() {
  # a line is 258 bytes at most with its LF: either side of the limit,
  # bracketed or not
  server_start
  for n in 255 256 257 258 600; do
    long=$(head -c $n /dev/zero | tr '\0' a)
    assertServerAnswersAsBatch "$long\npostmaster@example.com\n<$long>\n"
  done
  assertContains "$(cat "$T_TMP/server.out")" "error bad address too long"
}

testServerPipelinedLinesAllAnsweredInOrder() {
  server_start
  lines='alias@example.com\nnobody@example.com\r\n<postmaster@example.com>\nx@elsewhere.org\n'
  printf "$lines$lines$lines$lines$lines$lines$lines$lines" | vmail-resolve > "$T_TMP/batch.out"
  printf 'open a\nsend a %s\nread a 32\nshut a\neof a\n' "$lines$lines$lines$lines$lines$lines$lines$lines" | rclient > "$T_TMP/server.out"
  assertTrue "no answer missing" "grep -q '^eof 0$' '$T_TMP/server.out'"
  sed -i '$d' "$T_TMP/server.out"
  assertEquals "$(cat "$T_TMP/batch.out")" "$(cat "$T_TMP/server.out")"
}

testServerAnswersEachClientItsOwn() {
  server_start
  out=$(rclient <<'EOF'
open a
open b
send a alias@exa
send b nobody@example.com\n
read b
send a mple.com\nx@elsewhere.org\n
send b <postmaster@example.com>\r\n
read a 2
read b
EOF
)
  assertEquals "$(printf 'error nouser no such user: nobody@example.com\n\nlocal postmaster@example.com %s\n\nerror nodomain domain is not ours: elsewhere.org\n\nlocal postmaster@example.com %s\n' "$VMAIL_ROOT/example.com/postmaster" "$VMAIL_ROOT/example.com/postmaster")" "$out"
}

testServerLongLineLeavesConnectionUsable() {
  server_start
  long=$(head -c 5000 /dev/zero | tr '\0' a)
  out=$(printf 'open a\nsend a %s\nsend a %s\\nalias@example.com\\n\nread a 2\nsend a <postmaster@example.com>\\n\nread a\n' "$long" "$long" | rclient)
  assertEquals "$(printf 'error bad address too long\n\nlocal postmaster@example.com %s\n\nlocal postmaster@example.com %s\n' "$VMAIL_ROOT/example.com/postmaster" "$VMAIL_ROOT/example.com/postmaster")" "$out"
}

testServerClientLeavingDisturbsNoOne() {
  # one leaves mid-line, one without reading its answers, one after
  # saying it is done (its last line, without LF, answered as batch mode does)
  server_start
  out=$(rclient <<'EOF'
open a
open b
open c
open d
send b alias@exa
close b
send c alias@example.com\nalias@example.com\n
close c
send d nobody@example.com\npostmaster@example.com
shut d
read d 2
eof d
send a alias@example.com\n
read a
EOF
)
  assertEquals "$(printf 'error nouser no such user: nobody@example.com\n\nlocal postmaster@example.com %s\n\neof 0\nlocal postmaster@example.com %s\n' "$VMAIL_ROOT/example.com/postmaster" "$VMAIL_ROOT/example.com/postmaster")" "$out"
  assertTrue "still running" server_alive
  assertEquals "no drop for a client that left" "start clients_max=256" "$(cat "$T_TMP/r.log")"
}

testServerReconnectsWhenDatabaseDropsConnection() {
  server_start
  out=$(rclient <<EOF
open a
send a alias@example.com\\n
read a
sh for id in \$($q "SELECT id FROM information_schema.processlist WHERE user = '$VMAIL_DB_USER'"); do $q "KILL \$id"; echo killed; done
send a postmaster@example.com\\n
read a
EOF
)
  assertContains "$out" "killed"
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$(echo "$out" | grep -v killed | sed -n 3p)"
}

testServerDatabaseDownIsTemporaryAndServerStaysUp() {
  server_start VMAIL_DB_SOCKET="$T_TMP/nonexistent.sock"
  printf 'alias@example.com\n' | VMAIL_DB_SOCKET=$T_TMP/nonexistent.sock vmail-resolve > "$T_TMP/batch.out"
  out=$(printf 'open a\nsend a alias@example.com\\n\nread a\nopen b\nsend b postmaster@example.com\\n\nread b\n' | rclient)
  assertContains "$(sed -n 1p "$T_TMP/batch.out")" "error temp unable to connect to MariaDB"
  assertEquals "$(printf '%s\n\n%s' "$(sed -n 1p "$T_TMP/batch.out")" "$(sed -n 1p "$T_TMP/batch.out")")" "$out"
  assertTrue "still running" server_alive
}

testServerUsesOneDatabaseConnection() {
  # three clients, each with an answer that took a query, and still connected
  count="SELECT COUNT(*) FROM information_schema.processlist WHERE user = '$VMAIL_DB_USER'"
  server_start
  out=$(rclient <<EOF
openn c 3
askall c 3 alias@example.com\\n
sh i=0; until [ "\$($q "$count")" = 1 ] || [ \$i -ge 20 ]; do sleep 0.1; i=\$((i + 1)); done; $q "$count"
EOF
)
  assertEquals "$(printf 'answered 3\n1')" "$out"
}

testServerRefusesClientsOverTheLimitAndTakesThemAgain() {
  server_start
  out=$(rclient <<'EOF'
openn c 256
askall c 256 alias@example.com\n
open over
eof over
close c0
open next
send next alias@example.com\n
read next
EOF
)
  assertEquals "$(printf 'answered 256\neof 0\nlocal postmaster@example.com %s\n' "$VMAIL_ROOT/example.com/postmaster")" "$out"
  assertContains "$(cat "$T_TMP/r.log")" "refuse reason=clients clients=256"
}

testServerDropsClientThatDoesNotRead() {
  # 40 answers of 1000 lines (47 KB) each asked at once, none read until
  # the server has given up: once 256 KB wait for it (beyond what the socket
  # holds), the client is dropped; others are still answered
  sql "INSERT INTO virtual_domains (id, name) VALUES (10, 'wide.test')"
  rows=$(seq 1 1000 | sed "s/.*/(10, 'wide@wide.test', 'member-&-with-a-long-name@far.example')/" | paste -sd, -)
  sql "INSERT INTO virtual_aliases (domain_id, source, destination) VALUES $rows"
  server_start
  out=$(rclient <<EOF
open quiet
open other
sendn quiet 40 wide@wide.test\\n
sh i=0; until grep -q 'drop reason=output' "$T_TMP/r.log" || [ \$i -ge 150 ]; do sleep 0.1; i=\$((i + 1)); done
eof quiet
send other alias@example.com\\n
read other
EOF
)
  bytes=$(echo "$out" | sed -n 's/^eof //p')
  assertNotEquals "dropped" "" "$bytes"
  assertTrue "not every answer ($bytes bytes)" "[ '${bytes:-0}' -lt $((40 * 40000)) ]"
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$(echo "$out" | sed -n 2p)"
  assertContains "$(cat "$T_TMP/r.log")" "drop reason=output"
  assertTrue "still running" server_alive
}

testServerSigtermExitsZero() {
  server_start
  out=$(printf 'open a\nsend a alias@example.com\\n\nread a\n' | rclient)
  assertContains "$out" "local postmaster@example.com"
  kill -TERM "$SERVER"; wait "$SERVER"; rc=$?; SERVER=
  assertEquals 0 "$rc"
  assertEquals "stop" "$(tail -n 1 "$T_TMP/r.log" | cut -d' ' -f1)"
}

testServerNeedsAListeningSocket() {
  err=$(vmail-resolve -l </dev/null 2>&1); rc=$?
  assertEquals 100 "$rc"
  assertContains "$err" "not a listening unix socket"
  err=$(echo | vmail-resolve -l 2>&1); rc=$?
  assertEquals 100 "$rc"
  vmail-resolve -l alias@example.com >/dev/null 2>&1 </dev/null; assertEquals "no addresses with -l" 100 $?
  vmail-resolve -x >/dev/null 2>&1; assertEquals 100 $?
}

testServiceRunsTheServerOnItsSocket() {
  svc=$T_TMP/svc; mkdir -p "$svc/env"
  echo "$svc/run/resolve.sock" > "$svc/env/VMAIL_RESOLVE_SOCKET"
  echo junk > "$svc/stale"; mkdir -p "$svc/run"; cp "$svc/stale" "$svc/run/resolve.sock"
  VMAIL_ENVDIR=$svc/env "$T_TOP/service/resolve/run" > "$svc/log" 2>&1 &
  pid=$!
  i=0; until grep -q '^start' "$svc/log" 2>/dev/null || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
  assertEquals "srw------- $(id -u)" "$(stat -c '%A %u' "$svc/run/resolve.sock")"
  out=$(printf 'open a\nsend a alias@example.com\\n\nread a\n' | rclient "$svc/run/resolve.sock")
  assertEquals "local postmaster@example.com $VMAIL_ROOT/example.com/postmaster" "$out"
  kill -TERM $pid; wait $pid; assertEquals 0 $?
}

. shunit2
