#!/usr/bin/env bash
# Bring a bare Debian 12 machine to the point where moat builds, tests and runs: system packages from Debian,
# JavaScript packages from the npm registry, then the build. Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  clang llvm libbpf-dev libelf-dev zlib1g-dev libmnl-dev pkg-config bpftool   # BPF objects and the addon
  cmake make g++ python3                                                      # addon build (cmake-js)
  iproute2 iptables nftables ipset ethtool iputils-ping kmod util-linux procps # netns tests, baselines
  iperf3 sockperf                                                             # benchmark workloads
)

log() { printf 'setup: %s\n' "$*" >&2; }

missing_packages() {
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$pkg"
  done
}

install_system_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    log "system packages present"
    return
  fi
  [ "$(id -u)" -eq 0 ] || { log "missing packages (${missing[*]}): run as root"; exit 1; }
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # iperf3 asks whether to start a daemon; the answer is no.
  echo 'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

check_node() {
  command -v node >/dev/null || { log "Node.js >= 20.17 is required (not found)"; exit 1; }
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=17)?0:1)' \
    || { log "Node.js >= 20.17 is required (found $(node --version))"; exit 1; }
}

install_node_modules() {
  local stamp=node_modules/.moat-lock.sha256 want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "node_modules up to date"
    return
  fi
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
}

mount_bpffs() {
  [ "$(id -u)" -eq 0 ] || return 0
  if ! mountpoint -q /sys/fs/bpf; then
    log "mounting bpffs on /sys/fs/bpf"
    mount -t bpf bpf /sys/fs/bpf
  fi
}

install_system_packages
check_node
install_node_modules
mount_bpffs
log "building"
npm run --silent build
log "ready: bin/moat --help"
