"""What a captured packet is: protocol, addresses and ports, TCP flags (as tcpdump names them)."""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

ETH_IP, ETH_IP6, ETH_ARP = 0x0800, 0x86DD, 0x0806
PROTOS = {1: "ICMP", 2: "IGMP", 6: "TCP", 17: "UDP", 58: "ICMP6", 132: "SCTP"}
# tcpdump's letters, in its order; "." is ACK.
TCP_FLAGS = ((0x02, "S"), (0x01, "F"), (0x04, "R"), (0x08, "P"), (0x20, "U"), (0x40, "E"),
             (0x80, "W"), (0x10, "."))


@dataclass(frozen=True)
class Summary:
    proto: str
    src: str = ""
    dst: str = ""
    sport: int | None = None
    dport: int | None = None
    flags: str | None = None  # TCP only
    info: str = ""  # ICMP type/code, ARP operation

    def endpoint(self, addr: str, port: int | None) -> str:
        if port is None:
            return addr
        return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def tcp_flags(byte: int) -> str:
    return "".join(letter for bit, letter in TCP_FLAGS if byte & bit)


def _ip(data: bytes, off: int) -> Summary:
    if len(data) < off + 1:
        return Summary("IP")
    version = data[off] >> 4
    if version == 4 and len(data) >= off + 20:
        ihl = (data[off] & 0xF) * 4
        proto, frag = data[off + 9], struct.unpack_from("!H", data, off + 6)[0]
        src = str(ipaddress.IPv4Address(data[off + 12:off + 16]))
        dst = str(ipaddress.IPv4Address(data[off + 16:off + 20]))
        l4 = off + ihl if not frag & 0x1FFF else None
    elif version == 6 and len(data) >= off + 40:
        proto = data[off + 6]
        src = str(ipaddress.IPv6Address(data[off + 8:off + 24]))
        dst = str(ipaddress.IPv6Address(data[off + 24:off + 40]))
        l4 = off + 40
    else:
        return Summary("IP")
    name = PROTOS.get(proto, f"IP-proto-{proto}")
    if l4 is None:
        return Summary(name, src, dst, info="fragment")
    if proto in (6, 17, 132) and len(data) >= l4 + 4:
        sport, dport = struct.unpack_from("!HH", data, l4)
        flags = tcp_flags(data[l4 + 13]) if proto == 6 and len(data) >= l4 + 14 else None
        return Summary(name, src, dst, sport, dport, flags)
    if proto in (1, 58) and len(data) >= l4 + 2:
        return Summary(name, src, dst, info=f"type {data[l4]} code {data[l4 + 1]}")
    return Summary(name, src, dst)


def summarize(data: bytes, ethernet: bool) -> Summary:
    if not ethernet:
        return _ip(data, 0)
    if len(data) < 14:
        return Summary("short")
    ethertype = struct.unpack_from("!H", data, 12)[0]
    if ethertype in (ETH_IP, ETH_IP6):
        return _ip(data, 14)
    if ethertype == ETH_ARP and len(data) >= 42:
        op = struct.unpack_from("!H", data, 20)[0]
        sender = str(ipaddress.IPv4Address(data[28:32]))
        target = str(ipaddress.IPv4Address(data[38:42]))
        what = {1: f"who-has {target} tell {sender}", 2: f"reply {sender} is-at {data[22:28].hex(':')}"}
        return Summary("ARP", sender, target, info=what.get(op, f"op {op}"))
    return Summary(f"ether-0x{ethertype:04x}")
