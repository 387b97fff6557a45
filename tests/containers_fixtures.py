"""Real podman containers for tests, built offline from busybox-static.

Use from a test module (conftest puts tests/ on sys.path):

    from containers_fixtures import busybox_container, busybox_image  # noqa: F401

    def test_x(busybox_container):
        with busybox_container("web", "sleep 1000 & sleep 1000 & wait", min_pids=3) as (c, pid):
            ...  # c: tracer.containers.Container, pid: host PID of its init (podman inspect)

Names get a random suffix so parallel sessions do not collide: use c.name.
Every container is removed (podman rm -f) when its `with` ends, and again at
fixture teardown for any that escaped; the image is removed at session end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

import pytest
from bounds import bound, wait_until

BUSYBOX = Path("/bin/busybox")
# cgroupfs: no systemd is running here; runc: the runtime installed with podman.
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]
Command = Union[str, list]


def podman(*args: str, check: bool = True, timeout: float = 60) -> str:
    done = subprocess.run(PODMAN + list(args), capture_output=True, text=True, timeout=bound(timeout),
                          check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def why_no_podman() -> str | None:
    if os.geteuid() != 0:
        return "needs root (podman containers in the host's cgroups)"
    if not shutil.which("podman") or not shutil.which("runc"):
        return "podman/runc not installed (apt-get install -y podman runc)"
    if not BUSYBOX.exists():
        return "no /bin/busybox (apt-get install -y busybox-static)"
    return None


@pytest.fixture(scope="session")
def busybox_image() -> Iterator[str]:
    """A local image holding /bin/busybox and its applet links, imported without a registry."""
    why = why_no_podman()
    if why:
        pytest.skip(why)
    name = f"localhost/tracer-test-busybox:{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="tracer-bb-") as root:
        bindir = Path(root) / "bin"
        bindir.mkdir()
        shutil.copy2(BUSYBOX, bindir / "busybox")
        applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True,
                                 check=True).stdout.split()
        for applet in applets:
            if applet != "busybox":  # a link named busybox would point at itself
                (bindir / applet).symlink_to("busybox")
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        done = subprocess.run(PODMAN + ["import", "-q", "-", name], stdin=tar.stdout,
                              capture_output=True, text=True, timeout=bound(120), check=False)
        tar.stdout.close()
        tar.wait()
    if done.returncode != 0:
        pytest.skip(f"podman import failed: {done.stderr.strip()}")
    yield name
    podman("rmi", "-f", name, check=False)


@pytest.fixture
def busybox_container(busybox_image: str):
    """Factory: busybox_container(name, command, min_pids=1) -> context manager of (Container, pid)."""
    from tracer.containers import resolve

    started: list[str] = []

    @contextmanager
    def start(name: str, command: Command, min_pids: int = 1):
        full = f"tracer-test-{name}-{uuid.uuid4().hex[:6]}"
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        started.append(full)
        try:
            # An imported image has no PATH in its config: set one for the shell.
            podman("run", "-d", "--name", full, "--env", "PATH=/bin", busybox_image, *argv)
            pid = int(podman("inspect", "--format", "{{.State.Pid}}", full))

            def ready():
                try:
                    c = resolve([full])[0]
                except Exception:
                    return None
                return c if len(c.pids) >= min_pids else None

            c = wait_until(ready)
            if not c:
                raise RuntimeError(f"container {full} never showed {min_pids} process(es) in /proc")
            yield c, pid
        finally:
            podman("rm", "-f", "-t", "0", full, check=False)

    yield start
    for full in started:  # anything an exception let escape
        podman("rm", "-f", "-t", "0", full, check=False)
