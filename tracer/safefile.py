"""Files root creates or reads on a user's say-so, safely against other local users.

- Output is always a new file: O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600. A name another
  user planted (a symlink to /etc/shadow, a file they own) is refused, never followed
  or reused.
- An output directory others can write to is refused unless it is sticky and root's
  (like /tmp): otherwise they could swap the file after its path is announced.
- A file to compile into the kernel (a handler) is opened once without following a
  symlink, checked on that descriptor (owner, mode) and its bytes read from it, so what
  was checked is what is compiled.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tracer.errors import TracerError

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_SOURCE = 1 << 20  # bytes of a handler file


def trusted_uids() -> set[int]:
    """Who may own what root acts on: root, us, and the user who ran sudo."""
    uids = {0, os.getuid()}
    sudo = os.environ.get("SUDO_UID", "")
    if sudo.isascii() and sudo.isdigit():
        uids.add(int(sudo))
    return uids


def check_dir(fd: int, where: Path | str) -> None:
    """Refuse a directory others could change entries of (unless sticky and root's)."""
    st = os.fstat(fd)
    others_write = st.st_mode & stat.S_IWOTH or (st.st_mode & stat.S_IWGRP and st.st_gid != 0)
    if others_write and not (st.st_mode & stat.S_ISVTX and st.st_uid == 0):
        raise TracerError(f"{where} is writable by other users (mode {stat.S_IMODE(st.st_mode):o}):"
                          " they could replace the trace file; use a directory only root (or you)"
                          " can write, or a sticky root-owned one")
    if st.st_uid not in trusted_uids():
        raise TracerError(f"{where} belongs to another user (uid {st.st_uid}): use a directory"
                          " of root's or yours")


def open_dir(path: Path | str, make: bool = False) -> int:
    """An O_DIRECTORY descriptor of `path`, checked with check_dir()."""
    if make:
        Path(path).mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        check_dir(fd, path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def create_new(name: str, dir_fd: int) -> int:
    """Create `name` in `dir_fd`: new, exclusive, not through a symlink, mode 0600."""
    fd = os.open(name, _CREATE, 0o600, dir_fd=dir_fd)
    os.fchmod(fd, 0o600)  # the umask may have taken bits away; never added any
    return fd


def create_output(path: str | Path) -> int:
    """The `-o FILE` of a command: a new 0600 file in a safe directory, or a one-line error."""
    p = Path(path)
    try:
        dfd = open_dir(p.parent if str(p.parent) else ".")
    except OSError as e:
        raise TracerError(f"cannot write {p}: {p.parent}: {e.strerror}") from None
    try:
        return create_new(p.name, dfd)
    except FileExistsError:
        what = "is a symlink" if os.path.islink(p) else "exists"
        raise TracerError(f"{p} {what}: give a new file name (an existing file is never"
                          " overwritten, a symlink never followed)") from None
    except OSError as e:
        why = "it is a symlink" if e.errno == 40 else e.strerror  # ELOOP from O_NOFOLLOW
        raise TracerError(f"cannot create {p}: {why}") from None
    finally:
        os.close(dfd)


def _check_parents(p: Path, what: str) -> None:
    """Every directory above `p` must be one others cannot change entries of (as sshd's
    StrictModes): else another user could put their file in the place of the one named."""
    for d in reversed(p.parents):
        try:
            fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise TracerError(f"{what} {p}: {d}: {e.strerror}") from None
        try:
            check_dir(fd, d)
        except TracerError as e:
            raise TracerError(f"{what} {p}: {e}".replace("the trace file", "the file")) from None
        finally:
            os.close(fd)


def read_trusted(path: str | Path, what: str = "file") -> tuple[Path, bytes]:
    """Read a file root will compile into the kernel, once, refusing what others control:
    a symlink, a file not owned by root or the invoking user, a group/world-writable file.
    Returns the path as given (made absolute) and the bytes that were checked."""
    p = Path(os.path.abspath(os.path.expanduser(str(path))))
    _check_parents(p, what)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as e:
        why = "it is a symlink; give the real file" if e.errno == 40 else e.strerror
        raise TracerError(f"{what} {p}: {why}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise TracerError(f"{what} {p} is not a regular file")
        if st.st_uid not in trusted_uids():
            raise TracerError(f"{what} {p} belongs to another user (uid {st.st_uid}): root compiles"
                              " only its own files or yours; copy it and check it")
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise TracerError(f"{what} {p} is writable by others (mode"
                              f" {stat.S_IMODE(st.st_mode):o}): chmod go-w it first")
        if st.st_size > MAX_SOURCE:
            raise TracerError(f"{what} {p} is larger than {MAX_SOURCE >> 10} KiB")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            if sum(map(len, chunks)) > MAX_SOURCE:
                raise TracerError(f"{what} {p} is larger than {MAX_SOURCE >> 10} KiB")
        return p, b"".join(chunks)
    finally:
        os.close(fd)
