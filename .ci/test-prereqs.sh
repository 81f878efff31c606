#!/bin/sh
# The Debian tools the tests run for real: restic (backup wrapper), journalctl and systemd-journal-remote
# (journal collector fixtures), shellcheck (install.sh), ssh-keygen (SSH fingerprint collector) and
# promtool (the /metrics exposition), ping (ICMP checks a probe runs as a location), chromium (the status page in a headless browser). Runs before `npm test`; installs what is missing when it can
# (root with apt-get), otherwise names the packages and stops.
set -eu
missing=""
command -v restic >/dev/null 2>&1 || missing="$missing restic"
command -v journalctl >/dev/null 2>&1 || missing="$missing systemd"
[ -x /lib/systemd/systemd-journal-remote ] || missing="$missing systemd-journal-remote"
command -v shellcheck >/dev/null 2>&1 || missing="$missing shellcheck"
command -v ssh-keygen >/dev/null 2>&1 || missing="$missing openssh-client"
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v ping >/dev/null 2>&1 || missing="$missing iputils-ping"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages the tests use:$missing"
  apt-get update -qq
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "the tests need these Debian packages:$missing" >&2
  echo "install them (apt-get install$missing) and run npm test again" >&2
  exit 1
fi
