#!/bin/sh
# Vigil probe installer for Debian/Ubuntu (any systemd Linux should do).
#
#   curl -fsSL https://vigil.example.com/install.sh | sudo sh -s -- --token ENROLLMENT_TOKEN
#   sudo sh install.sh --uninstall
#
# Options: --token T, --server URL, --interval SECONDS, --force-new (enroll as a new host), --uninstall,
# --scrape NAME=URL (repeatable: a local Prometheus/OpenMetrics endpoint the probe scrapes, e.g.
# --scrape app=http://127.0.0.1:3000/metrics; NAME becomes the series' job label), --location NAME (the
# name this probe runs the server's checks under as a private location; default: the host name),
# --no-checks (run no checks for the server), --enable-runbooks (run the commands of runbooks the server
# hands this host, each at most once; off unless given), --runbook-allow PREFIX (repeatable: only commands
# that are PREFIX or start with PREFIX and a space may run, e.g. --runbook-allow "systemctl restart"),
# --runbooks-as-root (with --enable-runbooks and --runbook-allow: the allow-listed commands run as root
# through vigil-probe-runner.socket, so "apt-get -y upgrade" works; without it they run as the probe's
# user in its read-only sandbox).
# It installs the probe (the one-file bundle when Node >= 20 is present, else the standalone executable),
# creates the "vigil" system user, writes /etc/vigil/probe.json (0600), enrolls, and starts a hardened
# systemd unit. Running it again updates the probe in place and keeps the enrollment.
#
# VIGIL_INSTALL_ROOT installs under another root directory (tests, image builds); systemctl is then
# not called, and neither is it when systemd is not running.
set -eu

# The API fills this in when it serves the script, so the one-liner needs no --server.
DEFAULT_SERVER="__VIGIL_SERVER__"

ROOT="${VIGIL_INSTALL_ROOT:-}"
SERVER="${VIGIL_SERVER:-}"
TOKEN="${VIGIL_TOKEN:-}"
INTERVAL=""
SCRAPE=""
LOCATION=""
NO_CHECKS=""
RUNBOOKS=""
RUNBOOK_ALLOW=""
RUNBOOK_ALLOW_COUNT=0
RUNBOOKS_AS_ROOT=""
FORCE_NEW=""
KEEP_RUNNER=""
ACTION="install"

PROBE_USER="vigil"
PROBE_GECOS="Vigil probe"
LIB_DIR="/usr/local/lib/vigil-probe"
BIN_LINK="/usr/local/bin/vigil-probe"
CONFIG_DIR="/etc/vigil"
CONFIG_FILE="/etc/vigil/probe.json"
STATE_DIR="/var/lib/vigil-probe"
UNIT_FILE="/etc/systemd/system/vigil-probe.service"
# The root runner (--runbooks-as-root): a socket only root and the probe's group may open; systemd starts
# one "vigil-probe runner" per connection, as root, outside the probe's sandbox.
RUNNER_SOCKET="/run/vigil-probe-runner.sock"
RUNNER_CONFIG="/etc/vigil/runner.json"
RUNNER_SOCKET_UNIT="/etc/systemd/system/vigil-probe-runner.socket"
RUNNER_SERVICE_UNIT="/etc/systemd/system/vigil-probe-runner@.service"

say() { printf 'vigil: %s\n' "$*"; }
die() {
  printf 'vigil: error: %s\n' "$*" >&2
  exit 1
}

# JSON string escaping for the few values we write (backslash and double quote).
json_string() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

# --scrape NAME=URL, checked as the probe checks it, collected as JSON objects for probe.json.
add_scrape() {
  name="${1%%=*}"
  url="${1#*=}"
  [ "$name" != "$1" ] || die "--scrape expects NAME=URL, got: $1"
  case "$name" in
    "" | *[!a-z0-9_-]*) die "--scrape name \"$name\" must be lower-case letters, digits, _ or -" ;;
  esac
  case "$url" in
    http://?* | https://?*) ;;
    *) die "--scrape $name: the URL must start with http:// or https://" ;;
  esac
  SCRAPE="$SCRAPE${SCRAPE:+, }{\"name\": $(json_string "$name"), \"url\": $(json_string "$url")}"
}

# --location NAME, checked as the probe checks it (the contract's location names; "edge" is the server's).
set_location() {
  case "$1" in
    "" | [!a-z0-9]* | *[!a-z0-9._-]*)
      die "--location \"$1\" must be lower-case letters, digits, '.', '_' and '-', starting with a letter or digit" ;;
    edge) die "--location edge is the server's own location; pick another name" ;;
  esac
  [ "${#1}" -le 63 ] || die "--location \"$1\" is longer than 63 characters"
  LOCATION="$1"
}

# --runbook-allow PREFIX, checked as the probe checks it, collected as a JSON list for probe.json.
add_runbook_allow() {
  prefix="$(printf '%s' "$1" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')"
  [ -n "$prefix" ] || die "--runbook-allow needs a command prefix, e.g. --runbook-allow \"systemctl restart\""
  [ "$(printf '%s' "$prefix" | tr -d '[:cntrl:]')" = "$prefix" ] ||
    die "--runbook-allow \"$prefix\" contains control characters"
  [ "${#prefix}" -le 256 ] || die "--runbook-allow \"$prefix\" is longer than 256 characters"
  RUNBOOK_ALLOW_COUNT=$((RUNBOOK_ALLOW_COUNT + 1))
  [ "$RUNBOOK_ALLOW_COUNT" -le 100 ] || die "--runbook-allow: at most 100 prefixes"
  RUNBOOK_ALLOW="$RUNBOOK_ALLOW${RUNBOOK_ALLOW:+, }$(json_string "$prefix")"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --token) [ $# -ge 2 ] || die "--token needs a value"; TOKEN="$2"; shift 2 ;;
    --token=*) TOKEN="${1#*=}"; shift ;;
    --server) [ $# -ge 2 ] || die "--server needs a value"; SERVER="$2"; shift 2 ;;
    --server=*) SERVER="${1#*=}"; shift ;;
    --interval) [ $# -ge 2 ] || die "--interval needs a value"; INTERVAL="$2"; shift 2 ;;
    --force-new) FORCE_NEW="--force-new"; shift ;;
    --uninstall) ACTION="uninstall"; shift ;;
    --scrape) [ $# -ge 2 ] || die "--scrape needs NAME=URL"; add_scrape "$2"; shift 2 ;;
    --scrape=*) add_scrape "${1#*=}"; shift ;;
    --location) [ $# -ge 2 ] || die "--location needs a NAME"; set_location "$2"; shift 2 ;;
    --location=*) set_location "${1#*=}"; shift ;;
    --no-checks) NO_CHECKS="1"; shift ;;
    --enable-runbooks) RUNBOOKS="1"; shift ;;
    --runbook-allow) [ $# -ge 2 ] || die "--runbook-allow needs a PREFIX"; add_runbook_allow "$2"; shift 2 ;;
    --runbook-allow=*) add_runbook_allow "${1#*=}"; shift ;;
    --runbooks-as-root) RUNBOOKS_AS_ROOT="1"; shift ;;
    -h | --help) sed -n '2,22p' "$0" 2>/dev/null || true; exit 0 ;;
    *) die "unknown option: $1" ;;
  esac
done

if [ -n "$RUNBOOK_ALLOW" ] && [ -z "$RUNBOOKS" ]; then
  say "--runbook-allow without --enable-runbooks: the list is written, but runbook commands stay off"
fi
# As root, only what the operator listed: an empty list would mean any command the server sends.
if [ -n "$RUNBOOKS_AS_ROOT" ]; then
  [ -n "$RUNBOOKS" ] || die "--runbooks-as-root needs --enable-runbooks"
  [ -n "$RUNBOOK_ALLOW" ] ||
    die "--runbooks-as-root needs at least one --runbook-allow PREFIX (as root only listed commands run), e.g. --runbook-allow apt-get"
fi

if [ -z "$SERVER" ] && [ "$DEFAULT_SERVER" != "__VIGIL_SERVER__" ]; then SERVER="$DEFAULT_SERVER"; fi
SERVER="${SERVER%/}"

if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then die "run as root (sudo sh -s -- ...)"; fi

# systemctl only on a live system booted with systemd (sd_booted: /run/systemd/system exists).
have_systemd() {
  [ -z "$ROOT" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

user_exists() { getent passwd "$PROBE_USER" >/dev/null 2>&1; }
group_exists() { getent group "$1" >/dev/null 2>&1; }

download() {
  # $1 URL, $2 destination; written next to it first so a failed download never replaces a good probe.
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2.partial" "$1" || return 1
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2.partial" "$1" || return 1
  else
    die "neither curl nor wget found"
  fi
  mv -f "$2.partial" "$2"
}

node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  [ "$major" -ge 20 ] 2>/dev/null
}

uninstall() {
  if have_systemd; then
    systemctl disable --now vigil-probe.service >/dev/null 2>&1 || true
  fi
  remove_runner
  rm -f "$ROOT$UNIT_FILE" "$ROOT$BIN_LINK"
  rm -rf "$ROOT$LIB_DIR" "$ROOT$STATE_DIR"
  rm -f "$ROOT$CONFIG_FILE"
  rmdir "$ROOT$CONFIG_DIR" 2>/dev/null || true
  if have_systemd; then systemctl daemon-reload || true; fi
  # Only the user this script made: it carries our GECOS.
  if user_exists && [ "$(getent passwd "$PROBE_USER" | cut -d: -f5)" = "$PROBE_GECOS" ]; then
    userdel "$PROBE_USER" || say "could not remove user $PROBE_USER"
  fi
  say "uninstalled"
}

install_probe_files() {
  mkdir -p "$ROOT$LIB_DIR" "$ROOT$(dirname "$BIN_LINK")"
  if node_is_recent; then
    NODE="$(command -v node)"
    download "$SERVER/probe/vigil-probe.mjs" "$ROOT$LIB_DIR/vigil-probe.mjs" || die "download of the probe failed"
    "$NODE" "$ROOT$LIB_DIR/vigil-probe.mjs" version >/dev/null || die "the downloaded probe does not run on $NODE"
    rm -f "$ROOT$LIB_DIR/vigil-probe"
    printf '#!/bin/sh\nexec %s %s "$@"\n' "$NODE" "$LIB_DIR/vigil-probe.mjs" >"$ROOT$BIN_LINK.tmp"
    EXEC="$NODE $LIB_DIR/vigil-probe.mjs"
    RUN_PROBE="$NODE $ROOT$LIB_DIR/vigil-probe.mjs"
    say "installed the probe for $("$NODE" --version) in $LIB_DIR"
  else
    case "$(uname -m)" in
      x86_64 | amd64) arch="x64" ;;
      aarch64 | arm64) arch="arm64" ;;
      *) die "no standalone probe for $(uname -m); install Node.js 20 or newer and re-run" ;;
    esac
    download "$SERVER/probe/vigil-probe-linux-$arch" "$ROOT$LIB_DIR/vigil-probe" || die "download of the probe failed"
    chmod 0755 "$ROOT$LIB_DIR/vigil-probe"
    rm -f "$ROOT$LIB_DIR/vigil-probe.mjs"
    printf '#!/bin/sh\nexec %s "$@"\n' "$LIB_DIR/vigil-probe" >"$ROOT$BIN_LINK.tmp"
    EXEC="$LIB_DIR/vigil-probe"
    RUN_PROBE="$ROOT$LIB_DIR/vigil-probe"
    say "installed the standalone probe (no Node.js >= 20 found) in $LIB_DIR"
  fi
  chmod 0755 "$ROOT$BIN_LINK.tmp"
  mv -f "$ROOT$BIN_LINK.tmp" "$ROOT$BIN_LINK"
}

ensure_user() {
  if ! user_exists; then
    useradd --system --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin \
      --comment "$PROBE_GECOS" --user-group "$PROBE_USER"
    say "created system user $PROBE_USER"
  fi
  # Journal, log files and Docker are readable through these groups; each is optional.
  for group in systemd-journal adm docker; do
    if group_exists "$group"; then usermod -a -G "$group" "$PROBE_USER"; fi
  done
}

write_config() {
  mkdir -p "$ROOT$CONFIG_DIR" "$ROOT$STATE_DIR"
  if [ -f "$ROOT$CONFIG_FILE" ] && [ -z "$TOKEN" ] && [ -z "$INTERVAL" ] && [ -z "$SCRAPE" ] &&
    [ -z "$LOCATION" ] && [ -z "$NO_CHECKS" ] && [ -z "$RUNBOOKS" ] && [ -z "$RUNBOOK_ALLOW" ]; then
    say "keeping $CONFIG_FILE"
    # An earlier --runbooks-as-root stays, with units that start the probe just installed.
    [ -f "$ROOT$RUNNER_CONFIG" ] && KEEP_RUNNER="1"
  else
    {
      printf '{\n'
      printf '  "server": %s,\n' "$(json_string "$SERVER")"
      [ -n "$TOKEN" ] && printf '  "token": %s,\n' "$(json_string "$TOKEN")"
      [ -n "$INTERVAL" ] && printf '  "intervalSec": %s,\n' "$INTERVAL"
      [ -n "$SCRAPE" ] && printf '  "scrape": [%s],\n' "$SCRAPE"
      checks=""
      [ -n "$NO_CHECKS" ] && checks='"enabled": false'
      [ -n "$LOCATION" ] && checks="$checks${checks:+, }\"location\": $(json_string "$LOCATION")"
      [ -n "$checks" ] && printf '  "checks": {%s},\n' "$checks"
      runbooks=""
      [ -n "$RUNBOOKS" ] && runbooks='"enabled": true'
      [ -n "$RUNBOOK_ALLOW" ] && runbooks="$runbooks${runbooks:+, }\"allow\": [$RUNBOOK_ALLOW]"
      [ -n "$RUNBOOKS_AS_ROOT" ] && runbooks="$runbooks, \"runner\": $(json_string "$RUNNER_SOCKET")"
      [ -n "$runbooks" ] && printf '  "runbooks": {%s},\n' "$runbooks"
      printf '  "stateDir": %s\n' "$(json_string "$STATE_DIR")"
      printf '}\n'
    } >"$ROOT$CONFIG_FILE.tmp"
    chmod 0600 "$ROOT$CONFIG_FILE.tmp"
    mv -f "$ROOT$CONFIG_FILE.tmp" "$ROOT$CONFIG_FILE"
    say "wrote $CONFIG_FILE"
  fi
  chmod 0600 "$ROOT$CONFIG_FILE"
  chmod 0700 "$ROOT$STATE_DIR"
}

write_unit() {
  mkdir -p "$ROOT$(dirname "$UNIT_FILE")"
  cat >"$ROOT$UNIT_FILE.tmp" <<UNIT
[Unit]
Description=Vigil probe: host health, logs, backups and state
Documentation=$SERVER
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=$PROBE_USER
Group=$PROBE_USER
ExecStart=$EXEC run --config $CONFIG_FILE
Restart=always
RestartSec=10
Environment=NODE_OPTIONS=--max-old-space-size=64
# Hardening: the probe only reads the system and writes its state dir.
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths=$STATE_DIR
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
CapabilityBoundingSet=
MemoryMax=128M
CPUWeight=20
Nice=10

[Install]
WantedBy=multi-user.target
UNIT
  mv -f "$ROOT$UNIT_FILE.tmp" "$ROOT$UNIT_FILE"
}

# The root runner's allow-list (root's alone: the runner obeys no other) and its two units.
write_runner() {
  if [ -n "$RUNBOOKS_AS_ROOT" ]; then
    printf '{\n  "allow": [%s]\n}\n' "$RUNBOOK_ALLOW" >"$ROOT$RUNNER_CONFIG.tmp"
    chmod 0644 "$ROOT$RUNNER_CONFIG.tmp"
    mv -f "$ROOT$RUNNER_CONFIG.tmp" "$ROOT$RUNNER_CONFIG"
    say "wrote $RUNNER_CONFIG: these commands run as root"
  fi
  cat >"$ROOT$RUNNER_SOCKET_UNIT.tmp" <<UNIT
[Unit]
Description=Vigil probe: root runner socket (allow-listed runbook commands as root)
Documentation=$SERVER

[Socket]
ListenStream=$RUNNER_SOCKET
SocketUser=root
SocketGroup=$PROBE_USER
SocketMode=0660
Accept=yes
MaxConnections=4

[Install]
WantedBy=sockets.target
UNIT
  cat >"$ROOT$RUNNER_SERVICE_UNIT.tmp" <<UNIT
[Unit]
Description=Vigil probe: one runbook command as root, if $RUNNER_CONFIG allows it
Documentation=$SERVER

[Service]
# As root and outside the probe's sandbox on purpose: package upgrades write /usr and /var.
ExecStart=$EXEC runner --runner-config $RUNNER_CONFIG
StandardInput=socket
StandardOutput=socket
StandardError=journal
Environment=NODE_OPTIONS=--max-old-space-size=64
UNIT
  mv -f "$ROOT$RUNNER_SOCKET_UNIT.tmp" "$ROOT$RUNNER_SOCKET_UNIT"
  mv -f "$ROOT$RUNNER_SERVICE_UNIT.tmp" "$ROOT$RUNNER_SERVICE_UNIT"
  if have_systemd; then
    systemctl daemon-reload
    systemctl enable --now vigil-probe-runner.socket >/dev/null 2>&1
    say "vigil-probe-runner.socket is listening; its commands log to journalctl -u 'vigil-probe-runner@*'"
  else
    say "systemd is not running here: nothing starts the root runner, so runbook commands fail until it does"
  fi
}

remove_runner() {
  [ -f "$ROOT$RUNNER_SOCKET_UNIT" ] || [ -f "$ROOT$RUNNER_CONFIG" ] || return 0
  if have_systemd; then systemctl disable --now vigil-probe-runner.socket >/dev/null 2>&1 || true; fi
  rm -f "$ROOT$RUNNER_SOCKET_UNIT" "$ROOT$RUNNER_SERVICE_UNIT" "$ROOT$RUNNER_CONFIG"
  say "removed the root runner: runbook commands no longer run as root"
}

install() {
  [ -n "$SERVER" ] || die "no server: pass --server URL"
  install_probe_files
  ensure_user
  write_config
  # Enroll as root (the state dir is still root's), then hand the state to the probe's user.
  # shellcheck disable=SC2086 # RUN_PROBE is "node path" or a single path, split on purpose
  $RUN_PROBE enroll --config "$ROOT$CONFIG_FILE" --state-dir "$ROOT$STATE_DIR" $FORCE_NEW ||
    die "enrollment failed (check --token and that $SERVER is reachable; a machine that is already enrolled but lost $STATE_DIR needs --force-new to become a new host, or its old host deleted first)"
  chown -R "$PROBE_USER:$PROBE_USER" "$ROOT$STATE_DIR" "$ROOT$CONFIG_FILE"
  write_unit
  if [ -n "$RUNBOOKS_AS_ROOT" ] || [ -n "$KEEP_RUNNER" ]; then write_runner; else remove_runner; fi
  if have_systemd; then
    systemctl daemon-reload
    systemctl enable vigil-probe.service >/dev/null 2>&1
    systemctl restart vigil-probe.service
    say "vigil-probe.service is running; logs: journalctl -u vigil-probe"
  else
    say "systemd is not running here: start the probe with: $EXEC run --config $CONFIG_FILE"
  fi
}

if [ "$ACTION" = "uninstall" ]; then uninstall; else install; fi
