"""Turn what the user typed after --container into running containers.

A reference is tried the way docker does: a full 64-hex id, then an exact
name (from the podman, docker or crictl CLI), then a unique id prefix of at least
MIN_PREFIX hex digits. Kubernetes' "containerd://<id>" form is accepted too.
The minimum keeps a typo such as "1" or "ab" from silently picking a container.
"""

from __future__ import annotations

import dataclasses
import re

from tracer import paths
from tracer.containers import names, scan
from tracer.containers.model import ID_LEN, Container
from tracer.errors import TracerError, quote

MIN_PREFIX = 4
_HEX = re.compile(r"[0-9a-f]+")
_SCHEMES = ("docker://", "containerd://", "cri-o://", "podman://")


def _strip(ref: str) -> str:
    ref = ref.strip()
    for scheme in _SCHEMES:
        if ref.startswith(scheme):
            return ref[len(scheme):]
    return ref


def _unknown(ref: str) -> TracerError:
    return TracerError(f"no running container matches {quote(ref)}: see 'tracer containers'"
                       + names.slow_note())


def _one(ref: str, running: dict[str, Container], by_name: dict[str, str]) -> Container:
    key = _strip(ref)
    low = key.lower()
    if len(low) == ID_LEN and low in running:
        return running[low]
    named = sorted(cid for cid, name in by_name.items() if name == key)
    if len(named) > 1:  # two runtimes may each have a container of that name
        raise TracerError(f"container name {quote(ref)} is ambiguous, it is "
                          + ", ".join(f"{cid[:12]}" for cid in named) + ": give the id")
    if named:
        if named[0] in running:
            return running[named[0]]
        raise TracerError(f"container {quote(ref)} ({named[0][:12]}) has no process in {paths.procfs()}:"
                          " is it running, and is TRACER_PROCFS_PATH the host's /proc?")
    if not _HEX.fullmatch(low):
        raise _unknown(ref)
    if len(low) < MIN_PREFIX:
        raise TracerError(f"no running container matches {quote(ref)}: give at least {MIN_PREFIX}"
                          " characters of its id, or its name; see 'tracer containers'")
    hits = sorted(cid for cid in running if cid.startswith(low))
    if not hits:
        raise _unknown(ref)
    if len(hits) > 1:
        listed = ", ".join(running[c].label for c in hits)
        raise TracerError(f"container id {quote(ref)} is ambiguous, it matches {listed}:"
                          " give more characters")
    return running[hits[0]]


def _named(by_name: dict[str, str]) -> dict[str, Container]:
    return {cid: dataclasses.replace(c, name=by_name.get(cid)) for cid, c in scan.snapshot().items()}


def running_containers() -> list[Container]:
    """Every container with a process now, named when a CLI knows it, sorted by name then id."""
    found = _named(names.cli_names()).values()
    return sorted(found, key=lambda c: (c.name is None, c.name or "", c.id))


def resolve(refs: list[str]) -> list[Container]:
    """The running containers `refs` name (ids, short ids or names), each once, in order.

    Raises TracerError (one line) for a reference that matches none or several.
    """
    by_name = names.cli_names()
    running = _named(by_name)
    out: list[Container] = []
    for ref in refs:
        c = _one(ref, running, by_name)
        if c not in out:
            out.append(c)
    return out
