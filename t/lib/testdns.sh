# A real DNS server for tests of outbound mail: unbound, authoritative for
# the zones the test gives through local-data lines, on a loopback address
# and port of the suite's own. Sourced by suites; needs $T_TMP.
#   dns_start ADDR PORT 'RECORD' ...   e.g. 'remote.example. MX 10 mx1.remote.example.'
#   dns_stop
# Every name under example. is answered from the records (absent: NXDOMAIN);
# VMAIL_DNS_SERVER is exported for vmail-remote.
DNS_PID=

dns_start() {
  addr=$1 port=$2; shift 2
  d=$T_TMP/dns; mkdir -p "$d"
  { printf 'server:\n  interface: %s\n  port: %s\n  do-daemonize: no\n  username: ""\n' "$addr" "$port"
    printf '  chroot: ""\n  directory: "%s"\n  pidfile: "%s/pid"\n  use-syslog: no\n  logfile: ""\n' "$d" "$d"
    printf '  access-control: 127.0.0.0/8 allow\n  do-ip6: no\n  module-config: "iterator"\n'
    printf '  local-zone: "example." static\n'
    for r in "$@"; do printf '  local-data: "%s"\n' "$r"; done
    printf 'remote-control:\n  control-enable: no\n'
  } > "$d/unbound.conf"
  unbound -d -c "$d/unbound.conf" >"$d/log" 2>&1 &
  DNS_PID=$!
  export VMAIL_DNS_SERVER="$addr@$port"
  # bounded: until it answers
  i=0
  until python3 - "$addr" "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
q = b'\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04test\x00\x00\x06\x00\x01'
s.sendto(q, (sys.argv[1], int(sys.argv[2]))); s.recvfrom(512)
PY
  do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$d/log" >&2; return 1; }
    kill -0 "$DNS_PID" 2>/dev/null || { cat "$d/log" >&2; return 1; }
    sleep 0.1
  done
}

dns_stop() {
  [ -n "$DNS_PID" ] && { kill "$DNS_PID" 2>/dev/null; wait "$DNS_PID" 2>/dev/null; }
  DNS_PID=
}
