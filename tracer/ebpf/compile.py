"""Compile tracer's BPF sources (bpf/*.c) with BCC, quietly and with useful errors."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from tracer.ebpf import bccmodule, cheader
from tracer.errors import TracerError


def _bpf_dir() -> Path:
    """bpf/ beside the package in a checkout (or an editable install); an installed
    package's copy under its prefix (pyproject's data-files) otherwise."""
    here = Path(__file__).resolve().parents[2] / "bpf"
    if (here / "dispatch.c").is_file():
        return here
    for prefix in (sys.prefix, sys.base_prefix, "/usr/local", "/usr"):
        shared = Path(prefix) / "share/tracer/bpf"
        if (shared / "dispatch.c").is_file():
            return shared
    return here


BPF_DIR = _bpf_dir()
_LOCAL_INCLUDE = re.compile(r'^#include "([^"]+)"\s*$', re.M)


def source(*names: str, search: tuple[Path, ...] = (BPF_DIR,)) -> str:
    """The sources `names` with their local "includes" inlined, each file once.

    BCC rewrites map method calls (`map.lookup(...)`) only in the main text, not
    in included files, so our headers that use maps are inlined here; the generated
    headers (tracer/ebpf/cheader.py) are written in at their #include.
    """
    seen: set[Path] = set()

    def expand(path: Path) -> str:
        path = path.resolve()
        if path in seen:
            return ""
        seen.add(path)
        text = path.read_text()

        def include(m: re.Match) -> str:
            made = cheader.HEADERS.get(m.group(1))
            if made is not None:  # generated from the Python side
                return f'#line 1 "{m.group(1)}"\n' + made() + "\n"
            for d in (path.parent, *search):
                if (d / m.group(1)).is_file():
                    return f'#line 1 "{m.group(1)}"\n' + expand(d / m.group(1)) + "\n"
            return m.group(0)

        return f'#line 1 "{path.name}"\n' + _LOCAL_INCLUDE.sub(include, text)

    return "\n".join(expand(n if isinstance(n, Path) else BPF_DIR / n) for n in names)


class Quiet:
    """Send fd 2 to a temporary file while BCC/clang/libbpf run, keep what they said.

    The manager contract allows nothing on stderr on success; on failure the
    compiler's own words go into the one-line error.
    """

    def __enter__(self) -> Quiet:
        self._tmp = tempfile.TemporaryFile()
        self._saved = os.dup(2)
        os.dup2(self._tmp.fileno(), 2)
        return self

    def __exit__(self, *exc: object) -> None:
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._tmp.seek(0)
        self.text = self._tmp.read().decode("utf-8", "replace")
        self._tmp.close()

    def errors(self) -> str:
        lines = [ln.strip() for ln in getattr(self, "text", "").splitlines()
                 if "error" in ln.lower() or "invalid" in ln.lower()]
        return "; ".join(lines[:3]) or "see 'tracer doctor'"


def build(text: str, cflags: list[str]) -> Any:
    """A BCC BPF object for `text`, or a TracerError with the compiler's message."""
    try:
        from bcc import BPF
    except ImportError:
        raise TracerError("BCC is not installed: run scripts/setup.sh (Debian's python3-bpfcc)") from None
    q = Quiet()
    try:
        with q:
            return bccmodule.create(lambda: BPF(text=text, cflags=[f"-I{BPF_DIR}", "-Wno-unused-function",
                                                                   *cflags]))
    except Exception as e:
        raise TracerError(f"BPF compile failed: {q.errors() if hasattr(q, 'text') else e}") from None


def load_as(bpf: Any, name: str, prog_type: int) -> int:
    """The fd of function `name` of `bpf` loaded as a `prog_type` program.

    BCC keeps one program per function name; a function wanted as two program types (a
    handler run by the entry side and by the exit side, whose front ends differ) is loaded
    once per type, each kept in `bpf.funcs` under its own key so that cleanup frees it.
    """
    key = f"{name}/{prog_type}".encode()
    if key not in bpf.funcs:
        plain = name.encode()
        saved = bpf.funcs.pop(plain, None)
        try:
            bpf.funcs[key] = bpf.load_func(plain, prog_type)
        finally:
            bpf.funcs.pop(plain, None)
            if saved is not None:
                bpf.funcs[plain] = saved
    return bpf.funcs[key].fd


def lost_events(bpf: Any) -> int:
    """Events the programs of `bpf` could not queue (its per-CPU "lost" array, summed)."""
    return sum(sum(v) for v in bpf["lost"].values()) if bpf is not None else 0


def release(bpf: Any) -> None:
    """Free a BCC object's programs and maps, quietly (detach what you attached first)."""
    with Quiet():
        bpf.cleanup()
