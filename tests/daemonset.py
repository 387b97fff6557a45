"""container-tracer's DaemonSet layout, reproduced for real around a command.

    wrap = daemonset.wrap(tmp, recursive=True)   # a command prefix
    subprocess.run(wrap + ["./manager.py", "--get-all"], ...)
    env = daemonset.env(tmp)                     # what the agent sets

The command runs in a new mount namespace (unshare -m, every mount private) where the
host's /proc and /sys are bound at TMP/host/proc and TMP/host/sys (`--bind` or `--rbind`:
a non-recursive bind hides tracefs, cgroup, debugfs mounted under /sys) and a fresh sysfs
is mounted over /sys (no tracefs under it), as in a privileged pod with hostPID. The
host's own mounts are not changed; the namespace ends with the command.
"""

from __future__ import annotations

from pathlib import Path

SCRIPT = """set -e
h=$1; bind=$2; shift 2
mkdir -p "$h/proc" "$h/sys"
mount "$bind" /proc "$h/proc"
mount "$bind" /sys "$h/sys"
umount -l /sys  # with what is mounted under it, in this namespace only
mount -t sysfs sysfs /sys
exec "$@"
"""


def host(tmp: Path) -> Path:
    return tmp / "host"


def wrap(tmp: Path, recursive: bool) -> list[str]:
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", SCRIPT, "daemonset",
            str(host(tmp)), "--rbind" if recursive else "--bind"]


def env(tmp: Path) -> dict[str, str]:
    return {"TRACER_PROCFS_PATH": str(host(tmp) / "proc"), "TRACER_SYSFS_PATH": str(host(tmp) / "sys")}
