#!/usr/bin/env python3
"""A small SMTP server for vmail-remote's tests, well-behaved or not.

  smtpsink.py ADDR PORT DIR [MODE] [--tls CERT KEY] [--auth USER:PASS]

Writes each accepted message to DIR/N.eml (the bytes between DATA and the
final dot, undotted), its envelope to DIR/N.env, every command line to
DIR/commands, and the most sessions it ever had at once to DIR/most. Recipients whose local part begins with "temp" get 451, with
"bad" 550. MODE changes the rest:
  ok          ESMTP with PIPELINING SIZE 8BITMIME SMTPUTF8 ENHANCEDSTATUSCODES
  data5xx     554 after the message
  data4xx     451 after the message
  silent      accepts the connection and never says a word
  brokentls   offers STARTTLS, answers 220, then sends garbage
  size        SIZE 200
  noutf8      no SMTPUTF8
  helo        500 to EHLO (HELO only)
  mail5xx     553 to MAIL
  slow        stores the message, then waits 3 s before its 250
Prints nothing; ready once the port accepts connections."""
import os, socket, ssl, sys, threading, time, base64

addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
mode = sys.argv[4] if len(sys.argv) > 4 and not sys.argv[4].startswith('--') else 'ok'
tls = auth = None
if '--tls' in sys.argv:
    i = sys.argv.index('--tls'); tls = (sys.argv[i + 1], sys.argv[i + 2])
if '--auth' in sys.argv:
    auth = sys.argv[sys.argv.index('--auth') + 1]
os.makedirs(out, exist_ok=True)
lock = threading.Lock()
count = [0]
sessions = [0, 0]   # now, most


def log(line):
    with lock, open(os.path.join(out, 'commands'), 'a') as f:
        f.write(line + '\n')


def session(conn):
    f = conn.makefile('rb')
    def say(s):
        conn.sendall(s.encode() + b'\r\n')
    if mode == 'silent':
        f.read()
        return
    say('220 sink.example ESMTP')
    sender, rcpts, secure, authed = None, [], False, False
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.rstrip(b'\r\n').decode('utf-8', 'replace')
        log(cmd)
        verb = cmd[:4].upper()
        if verb == 'EHLO':
            if mode == 'helo':
                say('500 5.5.1 what?'); continue
            ext = ['PIPELINING', 'SIZE %d' % (200 if mode == 'size' else 10000000), '8BITMIME', 'ENHANCEDSTATUSCODES']
            if mode != 'noutf8':
                ext.append('SMTPUTF8')
            if (tls or mode == 'brokentls') and not secure:
                ext.append('STARTTLS')
            if auth:
                ext.append('AUTH PLAIN')
            lines = ['sink.example'] + ext
            for i, l in enumerate(lines):
                conn.sendall(('250%s%s\r\n' % ('-' if i < len(lines) - 1 else ' ', l)).encode())
        elif verb == 'HELO':
            say('250 sink.example')
        elif cmd.upper() == 'STARTTLS':
            say('220 2.0.0 go ahead')
            if mode == 'brokentls':
                conn.sendall(b'this is not a TLS record\r\n' * 4)
                return
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            conn = ctx.wrap_socket(conn, server_side=True)
            f = conn.makefile('rb')
            secure = True
        elif verb == 'AUTH':
            parts = cmd.split()
            ok = len(parts) == 3 and parts[1].upper() == 'PLAIN' and \
                base64.b64decode(parts[2]).split(b'\0')[1:] == [x.encode() for x in auth.split(':', 1)]
            authed = ok
            say('235 2.7.0 ok' if ok else '535 5.7.8 no')
        elif verb == 'MAIL':
            if auth and not authed:
                say('530 5.7.0 authentication required'); continue
            if mode == 'mail5xx':
                say('553 5.1.8 sender refused'); continue
            if mode == 'size' and 'SIZE=' in cmd.upper() and int(cmd.upper().split('SIZE=')[1].split()[0]) > 200:
                say('552 5.3.4 too big'); continue
            sender, rcpts = cmd, []
            say('250 2.1.0 ok')
        elif verb == 'RCPT':
            local = cmd.split('<', 1)[1].split('@')[0].lower()
            if local.startswith('temp'):
                say('451 4.2.1 try later')
            elif local.startswith('bad'):
                say('550 5.1.1 no such user here')
            else:
                rcpts.append(cmd); say('250 2.1.5 ok')
        elif verb == 'DATA':
            if not rcpts:
                say('554 5.5.1 no valid recipients'); continue
            say('354 go')
            data = b''
            while True:
                l = f.readline()
                if not l or l == b'.\r\n':
                    break
                data += l[1:] if l.startswith(b'.') else l
            if mode == 'data5xx':
                say('554 5.6.0 message refused'); continue
            if mode == 'data4xx':
                say('451 4.3.0 try again'); continue
            with lock:
                count[0] += 1; n = count[0]
            with open(os.path.join(out, '%d.eml' % n), 'wb') as m:
                m.write(data)
            with open(os.path.join(out, '%d.env' % n), 'w') as e:
                e.write('\n'.join([sender] + rcpts) + '\n')
            if mode == 'slow':
                time.sleep(3)
            say('250 2.0.0 queued as %d' % n)
        elif verb == 'RSET':
            sender, rcpts = None, []; say('250 2.0.0 ok')
        elif verb == 'QUIT':
            say('221 2.0.0 bye'); return
        else:
            say('502 5.5.2 unknown command')


def serve(c):
    with lock:
        sessions[0] += 1
        sessions[1] = max(sessions)
        open(os.path.join(out, 'most'), 'w').write('%d\n' % sessions[1])
    try:
        session(c)
    except Exception as e:
        log('! %s' % e)
    finally:
        with lock:
            sessions[0] -= 1
        try:
            c.close()
        except Exception:
            pass


s = socket.socket(socket.AF_INET6 if ':' in addr else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
