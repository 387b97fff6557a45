"""Real network namespaces joined by veth pairs, and a small TCP server on our end, for tests.

    with netns_pair() as ns:      # ns.name, ns.host_if, ns.host_ip, ns.inner_ip
        with tcp_server(ns.host_ip) as port:
            ...
Everything is made with the `ip` tool, named tracer-test-* / trt*, and deleted at the end.
"""

from __future__ import annotations

import random
import socket
import subprocess
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from bounds import bound


def ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=bound(10))
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def tc(*args: str, check: bool = True) -> str:
    done = subprocess.run(["tc", *args], capture_output=True, text=True, timeout=bound(10))
    if check and done.returncode != 0:
        raise RuntimeError(f"tc {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


@dataclass
class NetnsPair:
    name: str
    host_if: str
    host_ip: str
    inner_ip: str

    def run(self, *argv: str, **kw: object) -> subprocess.Popen:
        return subprocess.Popen(["ip", "netns", "exec", self.name, *argv], **kw)  # type: ignore[arg-type]


@contextmanager
def netns_pair() -> Iterator[NetnsPair]:
    tag = uuid.uuid4().hex[:6]
    net = random.randint(1, 250)
    pair = NetnsPair(f"tracer-test-{tag}", f"trt{tag}", f"10.201.{net}.1", f"10.201.{net}.2")
    ip("netns", "add", pair.name)
    try:
        ip("link", "add", pair.host_if, "type", "veth", "peer", "name", "eth0", "netns", pair.name)
        ip("addr", "add", f"{pair.host_ip}/24", "dev", pair.host_if)
        ip("link", "set", pair.host_if, "up")
        ip("-n", pair.name, "addr", "add", f"{pair.inner_ip}/24", "dev", "eth0")
        ip("-n", pair.name, "link", "set", "eth0", "up")
        ip("-n", pair.name, "link", "set", "lo", "up")
        yield pair
    finally:
        ip("link", "del", pair.host_if, check=False)
        ip("netns", "del", pair.name, check=False)


@contextmanager
def tcp_server(addr: str, reply: bytes = b"HTTP/1.0 200 OK\r\n\r\nhello\n") -> Iterator[int]:
    """Answer every connection with `reply` until the block ends (accept has a timeout)."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(4096)
                    conn.sendall(reply)
                except OSError:
                    pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        t.join(timeout=3)
        srv.close()
