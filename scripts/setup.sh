#!/usr/bin/env bash
# One-command, idempotent setup of a fresh Debian machine, as root: packages, kernel
# headers for BCC, tracefs mounted, the project's virtualenv, `tracer` on PATH.
# A second run only checks and takes a few seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ "$(id -u)" = 0 ] || { echo "setup: run as root (sudo $0)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
REL=$(uname -r)

PACKAGES=(python3-bpfcc bpfcc-tools bpftool python3-venv python3-pip python3-psutil python3-pyroute2
          python3-pytest python3-yaml strace busybox-static trace-cmd podman runc iproute2 make gcc libc6-dev
          golang-go python3-bt2 babeltrace2 python3-lttnganalyses babeltrace tcpdump)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
updated=0
apt_update() { [ $updated = 1 ] || { apt-get update -qq; updated=1; }; }
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt_update
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Kernel headers: the running kernel's own when the distribution has them, else the nearest.
if [ ! -e "/lib/modules/$REL/build/include" ]; then
  apt_update
  if apt-cache show "linux-headers-$REL" >/dev/null 2>&1; then
    apt-get install -y -qq "linux-headers-$REL" >/dev/null
  else
    dpkg-query -W -f='${Status}' linux-headers-amd64 2>/dev/null | grep -q 'install ok installed' ||
      apt-get install -y -qq linux-headers-amd64 >/dev/null
    amd64=$(ls -d /usr/src/linux-headers-*-amd64 | sort -V | tail -n 1)
    common=${amd64%-amd64}-common
    mkdir -p "/lib/modules/$REL"
    ln -sfn "$amd64" "/lib/modules/$REL/build"
    ln -sfn "$common" "/lib/modules/$REL/source"
    echo "setup: no headers for kernel $REL in the distribution; linked the nearest, $(basename "$amd64")"
  fi
fi

# tracefs (and debugfs, where older tools look for it) must be mounted.
grep -q ' /sys/kernel/tracing tracefs ' /proc/mounts || mount -t tracefs nodev /sys/kernel/tracing
grep -q ' /sys/kernel/debug debugfs ' /proc/mounts || mount -t debugfs nodev /sys/kernel/debug 2>/dev/null || true

# Podman, offline: no registry, no ulimits it cannot raise here.
if [ ! -e /etc/containers/containers.conf ]; then
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n' > /etc/containers/containers.conf
fi

# The project's virtualenv: Debian's python (it imports bcc) plus the project and its dev tools.
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -e "$stamp" ]; then
  [ -x .venv/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# the launcher that holds stop signals until they are handled (not the console script)
ln -sfn "$ROOT/scripts/tracer" /usr/local/bin/tracer
