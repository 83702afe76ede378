#!/bin/sh
# Installs the Debian packages vmail needs, when run as root and something is
# missing; otherwise says what is missing.
#   sh t/lib/deps.sh        (make deps) what vmail builds and runs with. It
#                           starts, stops and disables no service: safe on a
#                           production server.
#   sh t/lib/deps.sh test   (make test-deps, run by make check and make run)
#                           the test tools and the private MariaDB server of
#                           the tests and the demo instance.
# One package per line: add yours to the list it belongs to.
runtime_pkgs="
build-essential
libmariadb-dev
libcrypt-dev
skalibs-dev
s6
execline
ucspi-tcp
mariadb-client
iproute2
bind9-host
libtls-dev
libunbound-dev
openssl
ca-certificates
"
test_pkgs="
clang
shunit2
mariadb-server
swaks
python3
bsd-mailx
mutt
fetchmail
isync
strace
valgrind
postfix
postfix-mysql
dovecot-imapd
dovecot-pop3d
dovecot-lmtpd
dovecot-mysql
unbound
debhelper
libnet-ssleay-perl
fail2ban
"
case ${1:-run} in
  run) pkgs=$runtime_pkgs; what=deps ;;
  test) pkgs=$test_pkgs; what=test-deps ;;
  *) echo "usage: deps.sh [run|test]" >&2; exit 100 ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "vmail: missing Debian packages:$missing" >&2
  echo "vmail: run 'sudo make $what' (or apt-get install$missing)" >&2
  exit 100
fi
echo "vmail: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# postfix arrives with some clients' recommends: never let it configure itself
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null
# Debian's packages start their daemons when installed: not the test tools'
# (the tests run a private MariaDB); the server packages of `make deps` are
# started only by the administrator.
rc=/usr/sbin/policy-rc.d rc_made=
if [ ! -e $rc ]; then
  printf '#!/bin/sh\nexit 101\n' > $rc && chmod 755 $rc && rc_made=1
fi
apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null 2>&1
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing >/dev/null
r=$?
[ -n "$rc_made" ] && rm -f $rc
[ $r = 0 ] || { echo "vmail: apt-get install failed" >&2; exit 111; }
# A MariaDB server this just installed for the tests is never the site's:
# not started above, and not at boot either.
case " $missing " in *" mariadb-server "*)
  command -v systemctl >/dev/null 2>&1 && systemctl disable mariadb >/dev/null 2>&1 ;;
esac
# nor the Postfix and Dovecot of the tests' seedstack, which runs its own
case " $missing " in *" postfix "*|*" dovecot-imapd "*)
  command -v systemctl >/dev/null 2>&1 && systemctl disable postfix dovecot >/dev/null 2>&1 ;;
esac
exit 0
