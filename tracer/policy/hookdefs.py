"""Every policy file in the policies folder is a hook of the ebpf manager: ebpf-policy-NAME.

An administrator adds a hook by dropping a TracingPolicy file there. The hook's
--describe comes from the file (its description annotation, its hook points and
arguments) and says what each part runs on with this kernel. Only the common
options exist inside --args: a remote user can never name a file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from tracer import capabilities as cap
from tracer.capabilities import Capabilities
from tracer.errors import TracerError
from tracer.hooks.spec import Hook
from tracer.policy import schema
from tracer.policy import types as T

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "ebpf-policy-"


def run(hook: Hook, opts: object, targets: object, caps: Capabilities) -> object:
    """The runner of every policy hook (the source module loads BCC: imported when run)."""
    from tracer.policy import source

    return source.create(hook, opts, targets, caps, file_of(hook.name))  # type: ignore[arg-type]


RUNNER = run
NEEDS = (cap.BCC, cap.HEADERS)


def folder() -> Path:
    return Path(os.environ.get("TRACER_POLICY_DIR") or ROOT / "policies")


def _files() -> list[Path]:
    d = folder()
    return sorted(p for p in d.glob("*.y*ml") if p.is_file()) if d.is_dir() else []


@lru_cache(maxsize=64)
def _load(path: Path, mtime: float) -> schema.Policy | str:
    try:
        return schema.load(path)
    except TracerError as e:
        return str(e)


def _policy(path: Path) -> schema.Policy | str:
    try:
        return _load(path, path.stat().st_mtime)
    except OSError as e:
        return f"policy {path}: {e.strerror}"


def _name(path: Path, pol: schema.Policy | str) -> str:
    return PREFIX + (pol.name if isinstance(pol, schema.Policy) else path.stem)


def file_of(hook_name: str) -> Path:
    for p in _files():
        if _name(p, _policy(p)) == hook_name:
            return p
    raise TracerError(f"no policy file for hook {hook_name} in {folder()}")


def _hook_points(pol: schema.Policy) -> str:
    parts = []
    for h in pol.hooks:
        args = ", ".join(f"{a.label + ':' if a.label else ''}{a.type}" for a in h.args)
        if h.kind == "kprobe":
            where = f"kprobe {h.call}{' (syscall)' if h.syscall else ''}"
        elif h.kind == "tracepoint":
            where = f"tracepoint {h.subsystem}/{h.event}"
        else:
            where = f"uprobe {h.binary}:{','.join(h.symbols)}"
        sel = f", {len(h.selectors)} selector(s) filtered in the kernel" if h.selectors else ""
        parts.append(f"{where}({args}){' with its return value' if h.ret else ''}{sel}")
    return "; ".join(parts)


def mechanism(path: Path, caps: Capabilities) -> str:
    from tracer.policy import plan as planner

    try:
        plan = planner.make(schema.load(path), planner.kernel_of(caps), resolve_btf=False)
    except TracerError as e:
        return f"cannot run here: {e}"
    how = []
    for hp in plan.hooks:
        targets = sorted({t for _, t, _ in hp.attach})
        kinds = sorted({k for k, _, _ in hp.attach})
        shown = ", ".join(targets[:4]) + (f" and {len(targets) - 4} more" if len(targets) > 4 else "")
        how.append(f"{hp.title} on {'/'.join(kinds)} {shown}")
    types = sorted({ap.type for hp in plan.hooks for ap in hp.args})
    notes = []
    if any(t in types for t in ("file", "path", "fd")):
        notes.append("file/path/fd show the path by walking the dentries up to 16 levels"
                     " (mount points crossed), offsets read from this kernel's BTF")
    if any(t in types for t in ("sock", "skb")):
        notes.append("sock/skb show family, addresses, ports, protocol (BTF offsets; skb from its IP header)")
    if "cred" in types:
        notes.append("cred shows uids, gids and capability sets (BTF offsets)")
    if not caps.has(cap.KPROBES) and any(hp.kind == T.K_SYS_TP for hp in plan.hooks):
        notes.append("no kprobes here: syscall kprobes run on the syscall tracepoints with the same events")
    return "; ".join(how + notes) + "; per-PID tail-call dispatch, filters in the kernel"


def check(path: Path, caps: Capabilities) -> str | None:
    """Why the policy at `path` cannot run on this kernel, or None."""
    pol = _policy(path)
    if isinstance(pol, str):
        return pol
    from tracer.policy import plan as planner

    try:
        planner.make(pol, planner.kernel_of(caps), resolve_btf=False)
    except TracerError as e:
        return str(e)
    return None


def _make(path: Path) -> Hook:
    pol = _policy(path)
    name = _name(path, pol)
    if isinstance(pol, str):
        return Hook(name=name, subsystem="ebpf", summary=f"TracingPolicy {path.name} (invalid)",
                    traces=pol, runner=RUNNER, requires=NEEDS,
                    unavailable=lambda caps, msg=pol: msg)
    summary = pol.description or f"TracingPolicy {pol.name}"
    return Hook(
        name=name, subsystem="ebpf", summary=f"{summary} (TracingPolicy {path.name})",
        traces=f"{_hook_points(pol)}; one line per event: TIMESTAMP COMM PID/TID POLICY KIND"
               " FUNCTION(ARGS) [= RET] [ACTION], or with --format json Tetragon's export shape",
        runner=RUNNER, requires=NEEDS,
        mechanism=lambda caps, p=path: mechanism(p, caps),
        unavailable=lambda caps, p=path: check(p, caps),
        example=f'./manager --run {name} --args "--pid 1234"',
    )


def hooks() -> list[Hook]:
    return [_make(p) for p in _files()]
