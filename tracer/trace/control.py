"""The control socket of a running `tracer trace`, and the `tracer ctl` side of it.

/run/tracer/trace-<pid>.sock, mode 0600 in a root-only directory, and each
connection's peer must be uid 0 (SO_PEERCRED): changing what the kernel traces is
root's business. One JSON request line, one JSON reply line per connection.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Callable

from tracer import paths
from tracer.errors import TracerError

MAX_REQUEST = 1 << 16
CLIENT_TIMEOUT = 120.0  # a handler file compiles in about a second; a busy machine, more
REQUEST_WAIT = 5.0  # seconds a connected client has to send its request


def sock_dir() -> Path:
    return paths.STATE_DIR


def socket_path(pid: int) -> Path:
    return sock_dir() / f"trace-{pid}.sock"


def peer_uid(conn: socket.socket) -> int:
    _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                          struct.calcsize("3i")))
    return uid


def _read_line(conn: socket.socket, give_up: Callable[[], bool] = lambda: False) -> bytes:
    """One line; `give_up` is asked at each socket timeout (a silent client)."""
    data = b""
    while b"\n" not in data and len(data) < MAX_REQUEST:
        try:
            chunk = conn.recv(4096)
        except socket.timeout:
            if give_up():
                raise
            continue
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


class ControlServer:
    """Serves requests on a thread of its own, so a handler file compiling does not
    stop the main loop from draining the event buffer."""

    def __init__(self, handle: Callable[[dict], dict]) -> None:
        self.handle = handle
        self.path = socket_path(os.getpid())
        self.sock: socket.socket | None = None
        self.thread: threading.Thread | None = None
        self.stopping = False

    def start(self) -> None:
        d = sock_dir()
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.stat(d).st_uid != 0 or os.stat(d).st_mode & 0o022:
            raise TracerError(f"{d} must be root's and not writable by others")
        if self.path.exists() or self.path.is_symlink():
            self.path.unlink()  # our PID's: a previous owner of this PID is gone
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is born 0600: no window where others can connect
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        sock.listen(8)
        sock.settimeout(0.2)
        self.sock = sock
        self.thread = threading.Thread(target=self._serve, name="tracer-ctl", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping and self.sock is not None:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, BlockingIOError):
                continue
            except OSError:
                return
            with conn:
                # A client that connects and says nothing is dropped after REQUEST_WAIT s,
                # or at once when we stop: it never delays a stop.
                conn.settimeout(0.1)
                until = time.monotonic() + REQUEST_WAIT
                try:
                    self._one(conn, lambda u=until: self.stopping or time.monotonic() > u)
                except OSError:
                    pass  # the client went away, or was too slow

    def _one(self, conn: socket.socket, give_up: Callable[[], bool]) -> None:
        if peer_uid(conn) != 0:
            conn.sendall(b'{"ok": false, "error": "only root may control a running tracer"}\n')
            return
        try:
            req = json.loads(_read_line(conn, give_up) or b"null")
            if not isinstance(req, dict):
                raise ValueError("not an object")
        except ValueError as e:
            conn.sendall((json.dumps({"ok": False, "error": f"bad request: {e}"}) + "\n").encode())
            return
        reply = (json.dumps(self.handle(req)) + "\n").encode()
        conn.settimeout(1.0)  # a client that does not read its reply is not waited for long
        conn.sendall(reply)

    def close(self) -> None:
        self.stopping = True
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.thread is not None:
            self.thread.join(timeout=CLIENT_TIMEOUT)  # a request in progress completes
            self.thread = None
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def running() -> list[int]:
    """PIDs of the `tracer trace` runs that have a live control socket."""
    found = []
    for p in sorted(sock_dir().glob("trace-*.sock")) if sock_dir().is_dir() else []:
        pid = p.name[len("trace-"):-len(".sock")]
        if pid.isdigit() and (paths.procfs() / pid).is_dir():
            found.append(int(pid))
    return found


def find(to: int | None) -> Path:
    if to is not None:
        path = socket_path(to)
        if not path.exists():
            raise TracerError(f"no running 'tracer trace' with PID {to} ({path} not found)")
        return path
    live = running()
    if not live:
        raise TracerError("no running 'tracer trace' found: start one, or pass --to PID")
    if len(live) > 1:
        raise TracerError(f"several 'tracer trace' runs ({', '.join(map(str, live))}): pass --to PID")
    return socket_path(live[0])


def request(path: Path, req: dict, timeout: float = CLIENT_TIMEOUT) -> dict:
    """Send one request, return the reply (a dict with "ok")."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(str(path))
            s.sendall((json.dumps(req) + "\n").encode())
            line = _read_line(s)
        except PermissionError:
            raise TracerError(f"{path}: permission denied: 'tracer ctl' needs root") from None
        except OSError as e:
            raise TracerError(f"cannot talk to the tracer at {path}: {e.strerror or e}") from None
    try:
        return json.loads(line)
    except ValueError:
        raise TracerError(f"the tracer at {path} gave no answer") from None
