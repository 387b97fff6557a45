"""Container names, which only the runtimes' CLIs know (the kernel sees ids only)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

TIMEOUT = 5.0  # seconds; a hung daemon must not hang the tracer
# The CLIs that did not answer within the timeout on the last look-up, for the error that follows.
SLOW: list[str] = []
# podman reads its own database; `docker ps` needs the daemon and fails fast without
# one; crictl asks the Kubernetes node's CRI runtime (containerd or CRI-O).
COMMANDS = {
    "podman": ["podman", "ps", "--format", "json"],
    "docker": ["docker", "ps", "--no-trunc", "--format", "{{json .}}"],
    "crictl": ["crictl", "ps", "-o", "json"],
}


def _run_all() -> dict[str, str]:
    """Each installed CLI's stdout ("" on failure), run side by side so slow ones overlap."""
    procs = {}
    for key, argv in COMMANDS.items():
        if shutil.which(argv[0]):
            try:
                procs[key] = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                              stdin=subprocess.DEVNULL, text=True)
            except OSError:
                pass
    out = {}
    SLOW.clear()
    wait = timeout()
    for key, proc in procs.items():
        try:
            text, _ = proc.communicate(timeout=wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            text = ""
            SLOW.append(key)
        out[key] = text if proc.returncode == 0 else ""
    return out


def timeout() -> float:
    """Seconds to wait for the CLIs: TRACER_CLI_TIMEOUT (a loaded or emulated machine's podman
    can take longer than the default), else TIMEOUT."""
    try:
        return max(0.1, float(os.environ.get("TRACER_CLI_TIMEOUT") or TIMEOUT))
    except ValueError:
        return TIMEOUT


def slow_note() -> str:
    """What to add to "no container matches" when a CLI did not answer ("" when all did)."""
    if not SLOW:
        return ""
    return (f" ({', '.join(SLOW)} did not answer within {timeout():g} s, so its names are unknown:"
            " set TRACER_CLI_TIMEOUT to wait longer, or give the container id)")


def parse_podman(out: str) -> dict[str, str]:
    """`podman ps --format json`: one JSON array, Names a list."""
    try:
        rows = json.loads(out or "[]")
    except ValueError:
        return {}
    found = {}
    for row in rows if isinstance(rows, list) else []:
        cid, names = row.get("Id") or row.get("ID"), row.get("Names") or []
        if isinstance(names, str):
            names = names.split(",")
        if cid and names:
            found[cid] = names[0]
    return found


def parse_docker(out: str) -> dict[str, str]:
    """`docker ps --format '{{json .}}'`: one JSON object a line, Names comma-separated."""
    found = {}
    for raw in out.splitlines():
        try:
            row = json.loads(raw)
        except ValueError:
            continue
        cid, names = row.get("ID"), (row.get("Names") or "").split(",")
        if cid and names[0]:
            found[cid] = names[0]
    return found


def parse_crictl(out: str) -> dict[str, str]:
    """`crictl ps -o json`: container names repeat across pods, so name them pod/container."""
    try:
        rows = json.loads(out or "{}").get("containers") or []
    except (ValueError, AttributeError):
        return {}
    found = {}
    for row in rows:
        cid, name = row.get("id"), (row.get("metadata") or {}).get("name")
        pod = (row.get("labels") or {}).get("io.kubernetes.pod.name")
        if cid and name:
            found[cid] = f"{pod}/{name}" if pod else name
    return found


def cli_names() -> dict[str, str]:
    """Full id -> name of the running containers the installed CLIs know; {} when none answer."""
    out = _run_all()
    found = parse_crictl(out.get("crictl", ""))
    found.update(parse_docker(out.get("docker", "")))
    found.update(parse_podman(out.get("podman", "")))
    return found
