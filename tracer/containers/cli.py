"""`tracer containers`: the running containers, as --container accepts them."""

from __future__ import annotations

import argparse
import json

from tracer import paths


def _containers(ns: argparse.Namespace) -> int:
    from tracer.containers import cgroup_id, running_containers

    found = running_containers()
    if ns.json:
        print(json.dumps([{"id": c.id, "short_id": c.short_id, "name": c.name, "runtime": c.runtime,
                           "pids": list(c.pids), "cgroup_id": cgroup_id(c)} for c in found]))
        return 0
    if not found:
        print(f"no running containers (no process in {paths.procfs()} is in a container cgroup)")
        return 0
    print(f"{'ID':<12}  {'RUNTIME':<10}  {'NAME':<24}  PIDS")
    for c in found:
        print(f"{c.short_id:<12}  {c.runtime:<10}  {c.name or '-':<24}  "
              + " ".join(map(str, c.pids)))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("containers", help="list running containers (ids, names, PIDs)")
    p.add_argument("--json", action="store_true", help="one JSON array, full ids and cgroup ids")
    p.set_defaults(func=_containers)
