#!/bin/sh
# Installs the Debian packages vmail builds, tests and runs with, when run as
# root and something is missing; otherwise says what is missing.
pkgs="build-essential clang libmariadb-dev libcrypt-dev skalibs-dev s6 execline ucspi-tcp
  shunit2 mariadb-server mariadb-client swaks python3 bsd-mailx mutt fetchmail isync strace
  valgrind
  libnet-ssleay-perl"
pkgs="$pkgs libunbound-dev libtls-dev"   # vmail-remote: DNS (libunbound), STARTTLS (libtls)
pkgs="$pkgs unbound openssl"             # tests: t/remote.sh's DNS server and certificates
pkgs="$pkgs postfix postfix-mysql dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-mysql"   # tests: the seedstack of t/e2e/outbound.sh
pkgs="$pkgs fail2ban"   # test only: t/e2e/limits.sh checks contrib/fail2ban with fail2ban-regex
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "vmail: missing Debian packages:$missing" >&2
  echo "vmail: run 'sudo make deps' (or apt-get install$missing)" >&2
  exit 100
fi
echo "vmail: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# postfix arrives with some clients' recommends: never let it configure itself
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null
apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null 2>&1
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing >/dev/null ||
  { echo "vmail: apt-get install failed" >&2; exit 111; }
# Debian starts the packaged MariaDB; vmail never uses it.
command -v systemctl >/dev/null 2>&1 && systemctl disable --now mariadb >/dev/null 2>&1
# nor the packaged Postfix and Dovecot: the seedstack runs its own
command -v systemctl >/dev/null 2>&1 && systemctl disable --now postfix dovecot >/dev/null 2>&1
exit 0
