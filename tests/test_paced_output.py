"""The announced pipe: one whole line per read(), everything in order, the file kept beside it;
a reader that never comes or goes away costs nothing but the pipe. No kernel tracing here."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from bounds import wait_until

from tracer.pipeline import tracefile


@pytest.fixture
def output(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACER_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setenv("TRACER_OUTPUT_MODE", "paced")
    out = tracefile.create("paced-test")
    yield out
    out.discard()


def lines(n: int, start: int = 0) -> bytes:
    # lengths vary, one line longer than a pipe page
    return b"".join(b"line %d %s\n" % (i, b"x" * (i % 97 if i != 7 else 5000))
                    for i in range(start, start + n))


def gone(path: Path, timeout: float = 5.0) -> bool:
    return wait_until(lambda: not path.exists(), timeout)


def test_each_read_returns_exactly_one_line(output):
    assert stat.S_ISFIFO(output.announced.lstat().st_mode) and output.file.name.endswith(".txt")
    assert output.file == output.announced.with_name(output.announced.name + ".txt")
    os.write(output.fd, lines(300))
    output.start_feeder()
    fd = os.open(output.announced, os.O_RDONLY)  # as the agent: a plain blocking open
    got = []
    try:
        for _ in range(300):
            got.append(os.read(fd, 4096))
            if got[-1].startswith(b"line 7 "):  # 5 KiB: two reads for that line
                got[-1] += os.read(fd, 4096)
        os.write(output.fd, lines(2, 300))  # live: written after the reader caught up
        got += [os.read(fd, 4096), os.read(fd, 4096)]
        os.close(output.fd)
        output.complete()
        assert os.read(fd, 4096) == b"", "end of file once the session is over"
    finally:
        os.close(fd)
    assert all(chunk.count(b"\n") == 1 and chunk.endswith(b"\n") for chunk in got)
    assert b"".join(got) == lines(302) == output.file.read_bytes()
    assert gone(output.announced), "the pipe is removed, the file stays"
    assert output.file.exists()


def test_a_reader_that_goes_away_and_one_that_never_comes(output):
    os.write(output.fd, lines(50))
    output.start_feeder()
    fd = os.open(output.announced, os.O_RDONLY)
    first = os.read(fd, 4096)
    os.close(fd)  # the reader goes away: the feeder sees EPIPE, keeps going
    os.write(output.fd, lines(50, 50))
    time.sleep(0.2)
    fd = os.open(output.announced, os.O_RDONLY)  # a new reader starts at a whole line
    second = os.read(fd, 4096)
    os.close(fd)
    assert first == lines(1) and second.count(b"\n") == 1 and second.startswith(b"line ")
    os.close(output.fd)
    t = time.monotonic()
    output.complete()  # no reader any more: the feeder waits its grace, removes the pipe, ends
    assert gone(output.announced) and time.monotonic() - t < 4
    assert output.file.read_bytes() == lines(100)


def test_bulk_fifo_mode_gives_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACER_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setenv("TRACER_OUTPUT_MODE", "fifo")
    out = tracefile.create("bulk-test")
    os.write(out.fd, lines(1000))
    os.close(out.fd)
    out.start_feeder()
    out.complete()
    with open(out.announced, "rb") as f:
        assert f.read() == lines(1000) == out.file.read_bytes()
    assert gone(out.announced)
