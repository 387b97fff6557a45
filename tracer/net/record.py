"""The record bpf/packets.c emits (struct pkt), parsed."""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEAD = struct.Struct("<QQIIIIIBBBx16s")
DIR_OUT, DIR_IN = 0, 1
AT_TC, AT_CGROUP = 0, 1


@dataclass(frozen=True)
class Packet:
    ts: int  # CLOCK_MONOTONIC ns
    cgid: int
    ifindex: int
    length: int
    tgid: int
    tid: int
    outbound: bool  # leaving the target
    ethernet: bool  # data starts with an Ethernet header (tc), else with the IP header
    known: bool  # tgid/tid/comm name the owner
    comm: str
    data: bytes


def parse(raw: bytes) -> Packet:
    ts, cgid, ifindex, length, caplen, tgid, tid, d, where, known, comm = HEAD.unpack_from(raw)
    data = raw[HEAD.size:HEAD.size + caplen]
    return Packet(ts, cgid, ifindex, length, tgid, tid, d == DIR_OUT, where == AT_TC, bool(known),
                  comm.split(b"\0", 1)[0].decode("utf-8", "replace"), data)
