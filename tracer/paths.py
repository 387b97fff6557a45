"""Where the host's /proc and /sys are, and where trace files go.

container-tracer may run us in a privileged container with the host's /proc and
/sys mounted elsewhere; every path into procfs or sysfs goes through here.
"""

from __future__ import annotations

import os
from pathlib import Path

PROCFS_ENV = "TRACER_PROCFS_PATH"
SYSFS_ENV = "TRACER_SYSFS_PATH"
OUTPUT_DIR_ENV = "TRACER_OUTPUT_DIR"
OUTPUT_MODE_ENV = "TRACER_OUTPUT_MODE"
DEFAULT_OUTPUT_DIR = "/var/lib/tracer/traces"
# Names of everything we create in the kernel start with this, so --clear can
# find our leftovers and never touch anyone else's.
PREFIX = "tracer_"
STATE_DIR = Path("/run/tracer")


def procfs() -> Path:
    return Path(os.environ.get(PROCFS_ENV) or "/proc")


def sysfs() -> Path:
    return Path(os.environ.get(SYSFS_ENV) or "/sys")


def output_dir() -> Path:
    return Path(os.environ.get(OUTPUT_DIR_ENV) or DEFAULT_OUTPUT_DIR)


def kernel_release() -> str:
    try:
        return (procfs() / "sys/kernel/osrelease").read_text().strip()
    except OSError:
        return os.uname().release
