"""Container names, which only the runtimes' CLIs know (the kernel sees ids only)."""

from __future__ import annotations

import json
import shutil
import subprocess

TIMEOUT = 5.0  # seconds; a hung daemon must not hang the tracer
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
    for key, proc in procs.items():
        try:
            text, _ = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            text = ""
        out[key] = text if proc.returncode == 0 else ""
    return out


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
