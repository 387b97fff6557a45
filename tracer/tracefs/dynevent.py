"""Dynamic events (kprobes, kretprobes, uprobes, uretprobes), after libtracefs' API.

libtracefs' calls map onto these:
    tracefs_kprobe_alloc / tracefs_kretprobe_alloc  -> kprobe_alloc / kretprobe_alloc
    tracefs_dynevent_create                         -> DynEvent.create
    tracefs_kprobe_raw / tracefs_kretprobe_raw      -> kprobe_raw / kretprobe_raw
    tracefs_kprobe_destroy(..., force)              -> kprobe_destroy(..., force=...)
    tracefs_dynevent_destroy(ev, force)             -> DynEvent.destroy(force=...)
    tracefs_error_last                              -> error_last
    tracefs_dynevent_get_all                        -> dynevents
An allocated DynEvent is only a description; nothing changes in the kernel until
create(). A command the kernel rejects raises DynEventError carrying the
kernel's own message from error_log. Where the kernel lacks the probe kind (no
kprobe_events: CONFIG_KPROBES off), every call for that kind raises a
TracerError saying so.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from tracer.errors import TracerError, quote
from tracer.tracefs import errorlog, events, instance
from tracer.tracefs.mount import find_tracefs

KPROBE = "kprobe"
KRETPROBE = "kretprobe"
UPROBE = "uprobe"
URETPROBE = "uretprobe"
KINDS = (KPROBE, KRETPROBE, UPROBE, URETPROBE)

_CONTROL = {KPROBE: "kprobe_events", KRETPROBE: "kprobe_events",
            UPROBE: "uprobe_events", URETPROBE: "uprobe_events"}
_MISSING = {
    "kprobe_events": "this kernel has no kprobes: no kprobe_events in {tracefs}"
                     " (kernel built without CONFIG_KPROBES / CONFIG_KPROBE_EVENTS)",
    "uprobe_events": "this kernel has no uprobes: no uprobe_events in {tracefs}"
                     " (kernel built without CONFIG_UPROBE_EVENTS)",
}
_DEFAULT_SYSTEM = {KPROBE: "kprobes", KRETPROBE: "kprobes", UPROBE: "uprobes", URETPROBE: "uprobes"}
_LINE = re.compile(r"^(?P<type>[a-z])(?P<max>\d*):(?P<system>[^/\s]+)/(?P<event>\S+)"
                   r"(?:\s+(?P<addr>\S+))?(?:\s+(?P<fmt>.*))?$")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class DynEventError(TracerError):
    """The kernel refused a dynamic event command; `kernel_message` is its error_log entry."""

    def __init__(self, message: str, kernel_message: str = "") -> None:
        super().__init__(message)
        self.kernel_message = kernel_message


@dataclass
class DynEvent:
    kind: str
    system: str
    event: str
    address: str  # kprobes: SYMBOL[+OFFS] or an address; uprobes: PATH:0xOFFSET
    format: str = ""  # the fetch-args, e.g. "file=+0($arg2):ustring"
    max_active: int = 0  # kretprobes only: how many instances may be probed at once
    tracefs: Path | None = field(default=None, repr=False, compare=False)

    @property
    def root(self) -> Path:
        return self.tracefs or find_tracefs()

    def command(self) -> str:
        """The line written to kprobe_events / uprobe_events to create this event."""
        letter = "r" if self.kind in (KRETPROBE, URETPROBE) else "p"
        maxact = str(self.max_active) if self.kind == KRETPROBE and self.max_active else ""
        return f"{letter}{maxact}:{self.system}/{self.event} {self.address} {self.format}".rstrip()

    def control_file(self) -> Path:
        return control_file(self.kind, self.root)

    def exists(self) -> bool:
        return events.exists(self.root, self.system, self.event)

    def create(self) -> None:
        """Add the event to the kernel (tracefs_dynevent_create)."""
        ctl = self.control_file()
        _write_command(self.root, ctl, self.command(), f"create {self.kind} {self.system}/{self.event}")

    def destroy(self, force: bool = False, roots: list[Path] | None = None) -> None:
        """Remove the event. With `force`, first disable it in every instance that enabled it
        (or in `roots` only: opening another session's files makes its rmdir fail).

        Without force an enabled event makes the kernel answer EBUSY, reported as such.
        """
        root = self.root
        ctl = self.control_file()
        if force:
            for r in instance.roots(root) if roots is None else roots:
                enable = r / "events" / self.system / self.event / "enable"
                try:
                    if enable.read_text().strip() != "0":
                        enable.write_text("0")
                except OSError:
                    pass  # gone already, or the instance went away meanwhile
        _write_command(root, ctl, f"-:{self.system}/{self.event}",
                       f"remove {self.kind} {self.system}/{self.event}")


def control_file(kind: str, tracefs: Path | None = None) -> Path:
    """The tracefs file that creates events of `kind`, or a TracerError if the kernel has none."""
    if kind not in KINDS:
        raise TracerError(f"unknown dynamic event kind {quote(kind)}: use one of {', '.join(KINDS)}")
    tracefs = tracefs or find_tracefs()
    ctl = tracefs / _CONTROL[kind]
    if not ctl.exists():
        raise TracerError(_MISSING[_CONTROL[kind]].format(tracefs=tracefs))
    return ctl


def _write_command(tracefs: Path, ctl: Path, command: str, what: str) -> None:
    before = errorlog.snapshot(tracefs)
    try:
        fd = os.open(ctl, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)  # never O_TRUNC: it wipes all
    except OSError as e:
        raise TracerError(f"cannot {what}: {ctl}: {e.strerror}") from None
    try:
        os.write(fd, (command + "\n").encode())
    except OSError as e:
        kernel = errorlog.new_message(tracefs, before)
        if e.errno == errno.EBUSY:
            kernel = kernel or "the event is enabled somewhere; disable it or destroy with force"
        detail = kernel or e.strerror or str(e)
        raise DynEventError(f"cannot {what}: {detail} [{ctl.name}: {command}]", kernel) from None
    finally:
        os.close(fd)


def _check_name(what: str, name: str) -> None:
    if not _IDENT.fullmatch(name):
        raise TracerError(f"bad {what} name {quote(name)}: use letters, digits and '_' (not first a digit)")


def _alloc(kind: str, system: str | None, event: str | None, address: str, fmt: str | None,
           max_active: int = 0, tracefs: Path | None = None) -> DynEvent:
    if not address:
        raise TracerError(f"a {kind} needs an address (function, function+offset or PATH:OFFSET)")
    control_file(kind, tracefs)  # fail now, with the reason, on a kernel lacking the kind
    system = system or _DEFAULT_SYSTEM[kind]
    event = event or re.sub(r"\W", "_", address.rsplit("/", 1)[-1])
    _check_name("event system", system)
    _check_name("event", event)
    return DynEvent(kind, system, event, address, (fmt or "").strip(), max_active, tracefs)


def kprobe_alloc(system: str | None, event: str | None, address: str, fmt: str | None,
                 tracefs: Path | None = None) -> DynEvent:
    """Describe a kprobe (not created yet); system defaults to "kprobes", event to the address."""
    return _alloc(KPROBE, system, event, address, fmt, 0, tracefs)


def kretprobe_alloc(system: str | None, event: str | None, address: str, fmt: str | None,
                    max_active: int = 0, tracefs: Path | None = None) -> DynEvent:
    return _alloc(KRETPROBE, system, event, address, fmt, max_active, tracefs)


def kprobe_raw(system: str | None, event: str, address: str, fmt: str | None,
               tracefs: Path | None = None) -> DynEvent:
    """Create a kprobe now and return its description."""
    ev = kprobe_alloc(system, event, address, fmt, tracefs)
    ev.create()
    return ev


def kretprobe_raw(system: str | None, event: str, address: str, fmt: str | None,
                  tracefs: Path | None = None) -> DynEvent:
    ev = kretprobe_alloc(system, event, address, fmt, 0, tracefs)
    ev.create()
    return ev


def uprobe_alloc(system: str | None, event: str | None, path: str, offset: int, fmt: str | None,
                 tracefs: Path | None = None) -> DynEvent:
    """Describe a uprobe at file offset `offset` of the executable or library `path`."""
    return _alloc(UPROBE, system, event or f"p_{offset:x}", f"{path}:{offset:#x}", fmt, 0, tracefs)


def uretprobe_alloc(system: str | None, event: str | None, path: str, offset: int, fmt: str | None,
                    tracefs: Path | None = None) -> DynEvent:
    return _alloc(URETPROBE, system, event or f"r_{offset:x}", f"{path}:{offset:#x}", fmt, 0, tracefs)


def _parse(line: str, kind_file: str, tracefs: Path) -> DynEvent | None:
    m = _LINE.match(line.strip())
    if not m or m.group("type") not in "pr":
        return None
    ret = m.group("type") == "r"
    if kind_file == "kprobe_events":
        kind = KRETPROBE if ret else KPROBE
    else:
        kind = URETPROBE if ret else UPROBE
    return DynEvent(kind, m.group("system"), m.group("event"), m.group("addr") or "",
                    " ".join((m.group("fmt") or "").split()), int(m.group("max") or 0), tracefs)


def dynevents(kinds: tuple[str, ...] = KINDS, tracefs: Path | None = None) -> list[DynEvent]:
    """The kprobes/uprobes now defined in the kernel (by anyone), of the given kinds."""
    tracefs = tracefs or find_tracefs()
    out = []
    for name in ("kprobe_events", "uprobe_events"):
        try:
            text = (tracefs / name).read_text()
        except FileNotFoundError:
            continue
        except OSError as e:
            raise TracerError(f"cannot read {tracefs / name}: {e.strerror}") from None
        for line in text.splitlines():
            ev = _parse(line, name, tracefs)
            if ev and ev.kind in kinds:
                out.append(ev)
    return out


def _norm_addr(addr: str) -> str:
    """Compare addresses the way the kernel prints them back: '+0' dropped, hex normalised."""
    addr = re.sub(r"\+0*$", "", addr.strip())
    head, sep, off = addr.rpartition(":")
    if sep and re.fullmatch(r"0x[0-9a-fA-F]+", off):
        return f"{head}:{int(off, 16):#x}"
    return addr


def _matches(ev: DynEvent, system: str | None, event: str | None, address: str | None,
             fmt: str | None) -> bool:
    return ((system is None or ev.system == system) and (event is None or ev.event == event)
            and (address is None or _norm_addr(ev.address) == _norm_addr(address))
            and (fmt is None or " ".join(fmt.split()) == ev.format))


def kprobe_destroy(system: str | None, event: str | None, address: str | None, fmt: str | None,
                   force: bool = False, tracefs: Path | None = None) -> int:
    """Remove the kprobes and kretprobes matching every given field (None matches anything).

    Returns how many were removed; finding none is an error, as in libtracefs.
    With `force`, each is first disabled in every instance.
    """
    control_file(KPROBE, tracefs)
    found = [ev for ev in dynevents((KPROBE, KRETPROBE), tracefs)
             if _matches(ev, system, event, address, fmt)]
    if not found:
        raise TracerError(f"no kprobe matches system={system} event={event} address={address}")
    for ev in found:
        ev.destroy(force=force)
    return len(found)


def error_last(tracefs: Path | None = None) -> str:
    """The last entry of tracefs error_log, on one line ('' if empty)."""
    return errorlog.new_message(tracefs or find_tracefs(), "\0")
