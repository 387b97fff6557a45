"""A pcapng capture file (the format of tcpdump and Wireshark), written as packets arrive.

Blocks used (pcapng specification, IETF draft-ietf-opsawg-pcapng): one Section Header,
one Interface Description per interface (nanosecond timestamps), and an Enhanced
Packet Block per packet whose opt_comment names the owning process and whose
epb_flags say the direction.
"""

from __future__ import annotations

import os
import secrets
import struct
import time
from pathlib import Path

from tracer import paths
from tracer.errors import TracerError

LINKTYPE_ETHERNET = 1
ETH_HLEN = 14
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPT_END, OPT_COMMENT = 0, 1
IF_NAME, IF_DESCRIPTION, IF_TSRESOL = 2, 3, 9
SHB_OS, SHB_USERAPPL = 3, 4
EPB_FLAGS = 2
INBOUND, OUTBOUND = 1, 2


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def _options(opts: list[tuple[int, bytes]]) -> bytes:
    if not opts:
        return b""
    out = b"".join(struct.pack("<HH", code, len(v)) + _pad(v) for code, v in opts)
    return out + struct.pack("<HH", OPT_END, 0)


def _block(kind: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack("<II", kind, total) + body + struct.pack("<I", total)


def section_header(app: str) -> bytes:
    body = struct.pack("<IHHq", BYTE_ORDER_MAGIC, 1, 0, -1)
    body += _options([(SHB_OS, os.uname().sysname.encode() + b" " + os.uname().release.encode()),
                      (SHB_USERAPPL, app.encode())])
    return _block(0x0A0D0D0A, body)


def interface(linktype: int, snaplen: int, name: str, description: str = "") -> bytes:
    opts = [(IF_NAME, name.encode()), (IF_TSRESOL, bytes([9]))]
    if description:
        opts.append((IF_DESCRIPTION, description.encode()))
    return _block(1, struct.pack("<HHI", linktype, 0, snaplen) + _options(opts))


def packet(iface: int, ts_ns: int, data: bytes, length: int, comment: str | None,
           outbound: bool | None) -> bytes:
    body = struct.pack("<IIIII", iface, ts_ns >> 32, ts_ns & 0xFFFFFFFF, len(data), length)
    opts = []
    if comment:
        opts.append((OPT_COMMENT, comment.encode("utf-8", "replace")))
    if outbound is not None:
        opts.append((EPB_FLAGS, struct.pack("<I", OUTBOUND if outbound else INBOUND)))
    return _block(6, body + _pad(data) + _options(opts))


def as_ethernet(ip_packet: bytes) -> bytes:
    """An IP packet taken without its link layer, in an Ethernet frame with zero addresses
    (how Linux shows loopback): libpcap, and so tcpdump, reads one link type per file."""
    ethertype = b"\x86\xdd" if ip_packet[:1] and ip_packet[0] >> 4 == 6 else b"\x08\x00"
    return bytes(12) + ethertype + ip_packet


class PcapngWriter:
    """Writes a new 0600 .pcapng file in the output directory; interfaces are added as seen."""

    def __init__(self, stem: str, snaplen: int) -> None:
        d = paths.output_dir()
        name = f"{stem}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{secrets.token_hex(4)}.pcapng"
        self.path = d.resolve() / name if d.is_dir() else Path(d) / name
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                              | os.O_CLOEXEC, 0o600)
        except OSError as e:
            raise TracerError(f"cannot create the capture file {self.path}: {e.strerror};"
                              f" set {paths.OUTPUT_DIR_ENV} to a writable directory") from None
        os.fchmod(self.fd, 0o600)
        self.snaplen = snaplen + ETH_HLEN  # an IP packet's snap, in its Ethernet frame
        self.ifaces: dict[str, int] = {}
        self.packets = 0
        self._parts = [section_header("tracer ebpf-packets")]

    def iface(self, name: str, description: str = "") -> int:
        if name not in self.ifaces:
            self.ifaces[name] = len(self.ifaces)
            self._parts.append(interface(LINKTYPE_ETHERNET, self.snaplen, name, description))
        return self.ifaces[name]

    def add(self, iface: int, ts_ns: int, data: bytes, length: int, comment: str | None,
            outbound: bool | None, ethernet: bool = True) -> None:
        """A packet seen on `iface`; `ethernet` False: it starts with its IP header."""
        if not ethernet:
            data, length = as_ethernet(data), length + ETH_HLEN
        self._parts.append(packet(iface, ts_ns, data, length, comment, outbound))
        self.packets += 1

    def flush(self) -> None:
        if self._parts:
            data = b"".join(self._parts)
            self._parts = []
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view):]

    def close(self) -> None:
        if self.fd >= 0:
            self.flush()
            os.close(self.fd)
            self.fd = -1
