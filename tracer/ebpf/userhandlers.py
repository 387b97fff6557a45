"""Compile a user's handler file (bpf/api.h) into programs the running dispatch can call.

The file is compiled as a second BCC module in this process, with -DTRACER_EXTERN:
maps.h then declares every map "extern", so BCC binds them to the public maps of
the Dispatcher's module (same `cur`, scratch buffer, event buffer). Its programs
have the type of the dispatch's exit side, so they can sit in exit_progs and be
tail-called like the generic handler. Nothing is attached here: Dispatcher.install
puts the program fds in place.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracer import safefile
from tracer.ebpf import bccmodule
from tracer.ebpf import compile as bpfc
from tracer.ebpf.dispatch import Dispatcher, prog_types
from tracer.errors import TracerError
from tracer.syscalls import desc
from tracer.syscalls.table import Syscall, SyscallTable

PREFIX = "tracer_h_"  # program names (the kernel keeps 15 characters of them)
_HANDLER = re.compile(r"\bTRACER_HANDLER\s*\(\s*([^)\s]*)\s*\)")
_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_API_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]api\.h[">][^\n]*$', re.M)
_DIAG = re.compile(r"^(?P<where>[^\s:][^:]*:\d+:\d+): (?:fatal )?error: (?P<msg>.*)$")
# captured at entry by their own handlers (their memory is gone at exit, or they never return)
NO_USER_HANDLER = desc.with_flag(desc.AT_ENTRY)
USAGE = "write TRACER_HANDLER(syscall) { ... return tracer_submit(); } (see bpf/api.h)"


class CompileErrors(TracerError):
    """One error line per compiler diagnostic: `FILE:LINE:COL: error: ...`."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines[0])
        # TracerError joins whitespace into one line; each diagnostic keeps its own
        # line, with the prefix the CLI prints before the first one.
        self.args = ("\ntracer: ".join(lines),)


@dataclass
class UserModule:
    path: Path
    key: str  # content hash: the same file, changed, is a different module
    text: str  # the bytes that were checked: exactly these are compiled
    syscalls: list[Syscall]
    bpf: Any = None
    fds: dict[str, int] = field(default_factory=dict)  # syscall name -> program fd

    def close(self) -> None:
        if self.bpf is not None:
            q = bpfc.Quiet()
            with q:
                self.bpf.cleanup()
            self.bpf = None


def parse(path: str | Path, table: SyscallTable) -> UserModule:
    """Read `path` and check what it declares, without compiling (no kernel involved)."""
    p, data = safefile.read_trusted(path, "handler file")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise TracerError(f"handler file {p} is not UTF-8 text") from None
    names = _HANDLER.findall(_COMMENTS.sub(" ", text))
    if not names:
        raise TracerError(f"handler file {p} defines no handler: {USAGE}")
    seen: list[Syscall] = []
    for n in names:
        try:
            sc = table.get(n)
        except TracerError as e:
            raise TracerError(f"handler file {p}: TRACER_HANDLER({n}): {e}") from None
        if sc.name in NO_USER_HANDLER:
            raise TracerError(f"handler file {p}: {sc.name} cannot have a user handler"
                              " (its memory is gone at exit, or it never returns)")
        if sc in seen:
            raise TracerError(f"handler file {p}: two handlers for {sc.name}")
        seen.append(sc)
    return UserModule(p, hashlib.sha256(data).hexdigest()[:16], text, seen)


def _text(mod: UserModule) -> str:
    user = mod.text
    # api.h is put in front; an #include of it in the file is blanked (line numbers stay)
    user = _API_INCLUDE.sub("", user)
    return bpfc.source("api.h") + f'\n#line 1 "{mod.path}"\n' + user


def _diagnostics(text: str, fallback: str) -> list[str]:
    lines = []
    for ln in text.splitlines():
        m = _DIAG.match(ln.strip())
        if m:
            lines.append(f"{m['where']}: error: {m['msg']}")
    return lines or [fallback]


def _verifier_reason(text: str) -> str:
    """The verifier's last words: the line that says why, not its whole log."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("processed ", "HINT", ";"))
              and not re.match(r"^\d+: ", ln)]
    return useful[-1] if useful else (lines[-1] if lines else "no reason given")


def load(disp: Dispatcher, mod: UserModule) -> UserModule:
    """Compile `mod` against `disp`'s maps and load one program per handler."""
    from bcc import BPF

    if disp.bpf is None:
        raise TracerError("internal: user handlers need the dispatcher loaded first")
    flags = [f"-I{bpfc.BPF_DIR}", "-Wno-unused-function", *disp.map_flags(), "-DTRACER_EXTERN"]
    q = bpfc.Quiet()
    try:
        with q:
            mod.bpf = bccmodule.create(lambda: BPF(text=_text(mod), cflags=flags))
    except Exception:
        raise CompileErrors(_diagnostics(q.text, f"{mod.path}: does not compile: {q.errors()}")) from None
    prog_type = _exit_type(disp.mode)
    for sc in mod.syscalls:
        fn = PREFIX + sc.name
        q = bpfc.Quiet()
        try:
            with q:
                mod.fds[sc.name] = mod.bpf.load_func(fn, prog_type).fd
        except Exception as e:
            mod.close()
            if "Unknown program" in str(e):  # e.g. the handler sits inside an #if 0
                raise TracerError(f"{mod.path}: no program for TRACER_HANDLER({sc.name}) came out of"
                                  " the compiler (is it inside #if?)") from None
            why = _verifier_reason(q.text) if q.text.strip() else str(e)
            raise TracerError(f"{mod.path}: handler {sc.name}: the kernel refused it: {why}") from None
    return mod


def _exit_type(mode: str) -> int:
    """The program type of the dispatch's exit side: a tail call keeps the caller's type."""
    return prog_types(mode)[1]
