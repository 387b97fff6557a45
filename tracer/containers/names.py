"""Container names, which only the runtimes' CLIs know (the kernel sees ids only)."""

from __future__ import annotations

import json
import shutil
import subprocess

TIMEOUT = 5.0  # seconds; a hung daemon must not hang the tracer
# podman reads its own database; `docker ps` needs the daemon and fails fast without one.
COMMANDS = {
    "podman": ["podman", "ps", "--format", "json"],
    "docker": ["docker", "ps", "--no-trunc", "--format", "{{json .}}"],
}


def _run(argv: list[str]) -> str:
    if not shutil.which(argv[0]):
        return ""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


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


def cli_names() -> dict[str, str]:
    """Full id -> name of the running containers the installed CLIs know; {} when none answer."""
    found = parse_docker(_run(COMMANDS["docker"]))
    found.update(parse_podman(_run(COMMANDS["podman"])))
    return found
