"""Drive a Dispatcher in-process: load a front end, install handler sets, read lines."""

from __future__ import annotations

import time
from pathlib import Path

from tracer.ebpf.dispatch import Dispatcher
from tracer.ebpf.lines import LineMaker
from tracer.ebpf.ringbuf import RingReader
from tracer.syscalls import table

TRACEFS = Path("/sys/kernel/tracing")


class Harness:
    def __init__(self, mode: str, follow_forks: bool = True) -> None:
        self.table = table.load(TRACEFS)
        self.disp = Dispatcher(mode, True, 4 << 20, follow_forks)
        self.disp.load()
        events = self.disp.bpf["events"]
        self.reader = RingReader(events.map_fd, events.max_entries)
        self.lines = LineMaker(self.table)
        self.seen: list[str] = []

    def install(self, slot: int, *names: str) -> None:
        for n in names:
            self.disp.install(slot, self.table.get(n))

    def uninstall(self, slot: int, *names: str) -> None:
        for n in names:
            self.disp.uninstall(slot, self.table.get(n))

    def read(self, settle: float = 0.3) -> list[str]:
        """Lines that arrived until nothing came for `settle` seconds."""
        got: list[str] = []
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < settle:
            self.reader.wait(0.05)
            if self.reader.drain(self.lines.handle):
                quiet_since = time.monotonic()
            text, _ = self.lines.take()
            got += text.splitlines()
        self.seen += got
        return got

    def read_for(self, seconds: float) -> list[str]:
        """Lines that arrived within `seconds` (for a stream that never goes quiet)."""
        got: list[str] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.reader.wait(0.05)
            self.reader.drain(self.lines.handle)
            text, _ = self.lines.take()
            got += text.splitlines()
        self.seen += got
        return got

    def read_until(self, enough, seconds: float) -> list[str]:
        """Lines that arrived until `enough(lines)` holds or `seconds` have passed."""
        got: list[str] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end and not enough(got):
            got += self.read_for(0.05)
        return got

    def close(self) -> None:
        self.reader.close()
        self.disp.close()


def of_pid(lines: list[str], pid: int) -> list[str]:
    return [ln for ln in lines if ln.split()[2].split("/")[0] == str(pid)]
