#!/usr/bin/env bash
# Installs every Debian package asyncredis needs to build, test, fuzz, benchmark and document.
# Idempotent: when everything is present it only runs dpkg-query and returns in well under a
# second; apt-get (and apt-get update) runs only for missing packages.
# Works as root (CI) or through sudo. Leaves no system redis-server running: the tests and the
# demo start their own servers on free ports.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libhiredis-dev libboost1.81-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libgmock-dev
  redis-server redis-tools
  clang libclang-rt-14-dev  # sanitizers and libFuzzer with clang
  curl openssl
  valgrind libc6-dbg        # callgrind instruction counts; libc6-dbg gives valgrind libc symbols
  doxygen                   # the reference manual (scripts/docs.sh)
)

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

if [[ ${EUID:-$(id -u)} -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  SUDO=()
fi

installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [[ $status == "install ok installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

# Stops the distribution's redis-server service and keeps it from starting at boot.
# Called after we installed redis-server ourselves, and in CI whenever one is running.
disable_system_redis() {
  if [[ -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl disable --now redis-server.service >/dev/null 2>&1 || true
  else
    if command -v systemctl >/dev/null 2>&1; then
      # Offline disable (symlinks only) so a later boot with systemd does not start it.
      "${SUDO[@]}" systemctl disable redis-server.service >/dev/null 2>&1 || true
    fi
    # `service` does not consult policy-rc.d, unlike invoke-rc.d, so a stop always happens.
    if [[ -x /etc/init.d/redis-server ]]; then
      "${SUDO[@]}" /etc/init.d/redis-server stop >/dev/null 2>&1 || true
      "${SUDO[@]}" update-rc.d redis-server disable >/dev/null 2>&1 || true
    fi
  fi
}

# True when the distribution's service (not a test's private server) is running.
system_redis_running() {
  if [[ -d /run/systemd/system ]] && systemctl is-active --quiet redis-server.service 2>/dev/null; then
    return 0
  fi
  local pidfile=/run/redis/redis-server.pid pid
  [[ -r $pidfile ]] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

if ((${#missing[@]} > 0)); then
  if [[ ${EUID:-$(id -u)} -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
    die "missing packages (${missing[*]}) and not root, and sudo is not available; install them as root: apt-get install ${missing[*]}"
  fi
  say "installing ${#missing[@]} missing package(s): ${missing[*]}"

  # Debian's maintainer scripts start redis-server on port 6379 through invoke-rc.d (and
  # deb-systemd-invoke), both of which ask policy-rc.d first: exit 101 means "do not start".
  # Keep an existing policy-rc.d (container images often have one); remove only our own.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# temporary, from asyncredis scripts/setup.sh\nexit 101\n' |
      "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    created_policy=1
  fi
  cleanup_policy() {
    if ((created_policy)); then "${SUDO[@]}" rm -f "$policy"; fi
  }
  trap cleanup_policy EXIT

  apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600)
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may have empty or stale package lists: refresh them once, only now that
  # something has to be installed.
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=600
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "${missing[@]}"

  cleanup_policy
  trap - EXIT

  for pkg in "${missing[@]}"; do
    if [[ $pkg == redis-server ]]; then
      disable_system_redis
      break
    fi
  done

  # Verify: a package that apt silently skipped would surface much later as a confusing
  # CMake or test error.
  still_missing=()
  for pkg in "${missing[@]}"; do
    installed "$pkg" || still_missing+=("$pkg")
  done
  ((${#still_missing[@]} == 0)) || die "packages still missing after apt-get: ${still_missing[*]}"
fi

if system_redis_running; then
  # The tests never use it, but a server on 6379 hides mistakes (a test that silently talks
  # to the wrong server). ASYNCREDIS_KEEP_SYSTEM_REDIS=1 keeps a developer's own service.
  if [[ ${ASYNCREDIS_KEEP_SYSTEM_REDIS:-0} == 1 ]]; then
    say "note: keeping the running system redis-server service (ASYNCREDIS_KEEP_SYSTEM_REDIS=1)"
  else
    say "stopping and disabling the system redis-server service (tests start their own servers)"
    disable_system_redis
    if system_redis_running; then die "the system redis-server service is still running"; fi
  fi
fi

say "all ${#PACKAGES[@]} packages present"
