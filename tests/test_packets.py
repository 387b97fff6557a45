"""ebpf-packets on real network namespaces, veth pairs and traffic, driven like the agent does."""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import time
from pathlib import Path

import pytest
from bounds import bound, lines_until
from kernel_state import leftovers
from netfixtures import netns_pair, tc, tcp_server
from test_manager_contract import Run, manager

CLIENT = str(Path(__file__).parent / "netclient.py")
LINE = re.compile(r"^(?P<ts>\d+\.\d{9}) (?P<comm>\S+) (?P<pid>\S+)(?: (?P<cid>[0-9a-f]{12}|-))?"
                  r" (?P<dir>in|out) (?P<iface>\S+) (?P<proto>\S+) (?P<src>\S+) > (?P<dst>\S+)"
                  r" len (?P<len>\d+)(?: \[(?P<flags>\S*)\])?")


def ours_left() -> list[str]:
    """Leftovers of ebpf-packets (other hooks' objects are the autouse fixture's business)."""
    return [x for x in leftovers() if "tracer_pkt" in x or "ebpf-packets" in x]


def start_client(ns, host: str, port: int, count: int, *extra: str) -> tuple[subprocess.Popen, int]:
    proc = ns.run("/usr/bin/python3", CLIENT, host, str(port), str(count), *extra,
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def go(proc: subprocess.Popen) -> None:
    proc.stdin.write("go\n")
    proc.stdin.flush()


def finish(proc: subprocess.Popen) -> None:
    assert proc.stdout.readline().strip() == "done"
    proc.wait(timeout=bound(10))


def packet_lines(lines: list[str]) -> list[re.Match]:
    return [m for m in map(LINE.match, lines) if m]


def read_pcapng(path: Path) -> list[tuple[int, bytes, str | None, int]]:
    """(interface id, data, opt_comment, epb_flags) of each Enhanced Packet Block."""
    blob, out, off = path.read_bytes(), [], 0
    while off + 12 <= len(blob):
        kind, size = struct.unpack_from("<II", blob, off)
        if kind == 6:
            iface, _hi, _lo, caplen, _orig = struct.unpack_from("<IIIII", blob, off + 8)
            data = blob[off + 28:off + 28 + caplen]
            opt, comment, flags = off + 28 + caplen + (-caplen % 4), None, 0
            while opt < off + size - 4:
                code, length = struct.unpack_from("<HH", blob, opt)
                if code == 0:
                    break
                value = blob[opt + 4:opt + 4 + length]
                if code == 1:
                    comment = value.decode()
                elif code == 2:
                    flags = struct.unpack("<I", value)[0]
                opt += 4 + length + (-length % 4)
            out.append((iface, data, comment, flags))
        off += size
    return out


def test_a_client_in_a_namespace_talking_to_our_end(outdir):
    with netns_pair() as ns, tcp_server(ns.host_ip) as port:
        client, cpid = start_client(ns, ns.host_ip, port, 3)
        run = Run("ebpf", "ebpf-packets", f"--pid {cpid}")
        path = run.path(30)
        go(client)
        finish(client)
        lines = lines_until(path, lambda ls: sum("[F." in ln for ln in ls) >= 6)
        rc, out, err, took = run.stop()
        assert (rc, out, err) == (0, "", ""), err
        assert took < bound(2.0)
        text = path.read_text().splitlines()
        assert any(f"tc clsact ingress+egress on eth0 (our end {ns.host_if})" in ln for ln in text), text[:3]
        pkts = packet_lines(lines)
        syn = [m for m in pkts if m["flags"] == "S"]
        synack = [m for m in pkts if m["flags"] == "S."]
        assert len(syn) == 3 and len(synack) == 3, lines
        for m in syn:
            assert m["dir"] == "out" and m["iface"] == f"eth0@{ns.host_if}" and m["proto"] == "TCP"
            assert m["src"].startswith(f"{ns.inner_ip}:") and m["dst"] == f"{ns.host_ip}:{port}"
        for m in synack:
            assert m["dir"] == "in" and m["src"] == f"{ns.host_ip}:{port}"
        # every packet of the client's connections is named after the client, in both directions
        ours = [m for m in pkts if f":{port}" in m["src"] + m["dst"]]
        assert ours and all((m["comm"], m["pid"]) == ("python3", f"{cpid}/{cpid}") for m in ours), \
            [m.group(0) for m in ours if m["comm"] != "python3"][:3]
    assert text[-1].startswith("# tracer stopped:") and ours_left() == []


def test_pcapng_read_back_by_tcpdump_with_owner_comments(outdir):
    with netns_pair() as ns, tcp_server(ns.host_ip) as port:
        client, cpid = start_client(ns, ns.host_ip, port, 2)
        run = Run("ebpf", "ebpf-packets", f"--pid {cpid} --format pcapng")
        path = run.path(30)
        go(client)
        finish(client)
        lines_until(path, lambda ls: sum("[F." in ln for ln in ls) >= 4)
        rc, _, err, _ = run.stop()
    assert (rc, err) == (0, "")
    text = path.read_text().splitlines()
    pkts = packet_lines(text)
    cap = Path(next(ln.split(": ", 1)[1] for ln in text if ln.startswith("# capture file: ")))
    assert cap.parent == outdir and oct(cap.stat().st_mode & 0o777) == "0o600"
    assert f"# capture file {cap}: {len(pkts)} packets" in text
    dump = subprocess.run(["tcpdump", "-nn", "-r", str(cap)], capture_output=True, text=True,
                          timeout=bound(20))
    assert dump.returncode == 0, dump.stderr
    rows = dump.stdout.splitlines()
    assert len(rows) == len(pkts), (rows, len(pkts))
    assert "link-type EN10MB" in dump.stderr
    syns = [r for r in rows if f"{ns.inner_ip}." in r and f"> {ns.host_ip}.{port}: Flags [S]," in r]
    assert len(syns) == 2, rows
    blocks = read_pcapng(cap)
    assert len(blocks) == len(pkts)
    for (_, _, comment, flags), m in zip(blocks, pkts):
        owner = "owner unknown" if m["comm"] == "?" else "pid " + m["pid"].split("/")[0]
        assert comment and comment.startswith(owner), (comment, m.group(0))
        assert flags == (2 if m["dir"] == "out" else 1)
    assert any(c == f"pid {cpid} tid {cpid} comm python3" for _, _, c, _ in blocks)


def test_in_kernel_protocol_and_port_filter(outdir):
    with netns_pair() as ns, tcp_server(ns.host_ip) as port:
        client, cpid = start_client(ns, ns.host_ip, port, 1, "--udp")
        run = Run("ebpf", "ebpf-packets", f"--pid {cpid} --proto udp --port {port + 1} --format json")
        path = run.path(30)
        go(client)
        finish(client)
        lines = lines_until(path, lambda ls: any('"UDP"' in ln for ln in ls))
        time.sleep(0.3)
        run.stop()
    objs = [json.loads(ln) for ln in path.read_text().splitlines() if ln.startswith("{")]
    assert objs and all(o["protocol"] == "UDP" and o["dport"] == port + 1 for o in objs), lines
    o = objs[0]
    assert (o["direction"], o["interface"], o["host_interface"]) == ("out", "eth0", ns.host_if)
    assert (o["src"], o["dst"], o["pid"], o["comm"]) == (ns.inner_ip, ns.host_ip, cpid, "python3")
    assert o["tcp_flags"] is None and o["length"] == 14 + 20 + 8 + 4


@pytest.mark.parametrize("args,what", [
    ("--port 0", "--port 0 out of range"), ("--port 70000", "out of range"),
    ("--port http", "--port needs an integer"), ("--proto sctp", "invalid choice"),
    ("--format xml", "invalid choice")])
def test_bad_filters_are_one_line_errors(args, what, outdir):
    r = manager("ebpf", "--run", "ebpf-packets", "--args", f"--pid {os.getpid()} {args}")
    assert r.returncode != 0 and r.stdout == "" and len(r.stderr.splitlines()) == 1, r.stderr
    assert what in r.stderr
    assert list(outdir.iterdir()) == [] and ours_left() == []


def _filters(dev: str) -> str:
    return tc("filter", "show", "dev", dev, "ingress") + tc("filter", "show", "dev", dev, "egress")


def test_sigkill_leaves_tc_filters_that_clear_removes(outdir):
    with netns_pair() as ns:
        sleeper = ns.run("sleep", "30")
        try:
            run = Run("ebpf", "ebpf-packets", f"--pid {sleeper.pid}")
            run.path(30)
            assert "tracer_pkt_" in _filters(ns.host_if)
            os.kill(run.proc.pid, signal.SIGKILL)
            run.proc.wait()
            left = ours_left()
            # cgroup programs are BPF links: the kernel detached them with the process
            assert any(x.startswith("tc filter tracer_pkt_") for x in left), left
            assert not any(x.startswith("cgroup program") for x in left), left
            r = manager("ebpf", "--clear")
            assert r.returncode == 0 and r.stderr == "", r.stderr
            assert f"from {ns.host_if} and the clsact qdisc added with them" in r.stdout, r.stdout
            assert "clsact" not in tc("qdisc", "show", "dev", ns.host_if)
            assert ours_left() == []
            assert manager("ebpf", "--clear").stdout == ""
        finally:
            sleeper.kill()
            sleeper.wait()


@pytest.mark.parametrize("kill", [False, True])
def test_a_clsact_qdisc_that_was_there_stays_with_its_filters(kill, outdir):
    with netns_pair() as ns:
        tc("qdisc", "add", "dev", ns.host_if, "clsact")
        tc("filter", "add", "dev", ns.host_if, "ingress", "prio", "7", "protocol", "all", "u32",
           "match", "u32", "0", "0", "classid", "1:1")
        sleeper = ns.run("sleep", "30")
        try:
            run = Run("ebpf", "ebpf-packets", f"--pid {sleeper.pid}")
            run.path(30)
            assert "tracer_pkt_" in _filters(ns.host_if)
            if kill:
                os.kill(run.proc.pid, signal.SIGKILL)
                run.proc.wait()
                assert manager("ebpf", "--clear").returncode == 0
            else:
                assert run.stop(signal.SIGTERM)[0] == 0
            assert "clsact" in tc("qdisc", "show", "dev", ns.host_if)
            left = _filters(ns.host_if)
            assert "tracer_pkt_" not in left and "u32" in left and "pref 7" in left, left
            assert ours_left() == []
        finally:
            sleeper.kill()
            sleeper.wait()


def test_sockets_opened_before_the_session_and_loopback_inside_the_namespace(outdir):
    """A connection and a listener the target opened before the start are named after it, and
    its loopback traffic is taken, each packet once."""
    import socket
    import threading

    with netns_pair() as ns, socket.create_server((ns.host_ip, 0)) as srv:
        srv.settimeout(10)
        port = srv.getsockname()[1]

        def echo_once() -> None:
            conn, _ = srv.accept()
            with conn:
                conn.sendall(conn.recv(64))

        t = threading.Thread(target=echo_once, daemon=True)
        t.start()
        holder = ns.run("/usr/bin/python3", str(Path(__file__).parent / "netholder.py"), ns.host_ip,
                        str(port), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        hpid, lport = map(int, holder.stdout.readline().split())
        run = Run("ebpf", "ebpf-packets", f"--pid {hpid} --format pcapng")
        path = run.path(30)
        go(holder)
        with socket.create_connection((ns.inner_ip, lport), timeout=5) as c:  # to the old listener
            c.sendall(b"hello\n")
            assert c.recv(64) == b"hello\n"
        finish(holder)
        t.join(5)
        lines = lines_until(path, lambda ls: sum(" lo " in ln and "[F." in ln for ln in ls) >= 2)
        rc, _, err, _ = run.stop()
    assert (rc, err) == (0, ""), err
    text = path.read_text().splitlines()
    assert any("loopback traffic inside namespace" in ln and "taken by the cgroup_skb" in ln
               for ln in text), text[:4]
    pkts = packet_lines(lines)
    owner = ("python3", f"{hpid}/{hpid}")
    old_conn = [m for m in pkts if f"{ns.host_ip}:{port}" in (m["src"], m["dst"])]
    assert any(m["dir"] == "out" and "P" in (m["flags"] or "") for m in old_conn), lines
    accepted = [m for m in pkts if f"{ns.inner_ip}:{lport}" in (m["src"], m["dst"])]
    assert [m["flags"] for m in accepted][:2] == ["S", "S."], lines
    for m in old_conn + accepted:
        assert (m["comm"], m["pid"]) == owner, m.group(0)
    loop = [m for m in pkts if m["iface"] == "lo"]
    assert loop and all(m["proto"] == "TCP" and m["src"].startswith("127.0.0.1:") for m in loop), lines
    assert all((m["comm"], m["pid"]) == owner for m in loop), [m.group(0) for m in loop]
    # each packet once, though both ends are the target's: one SYN, one SYN-ACK, a FIN each way
    flags = [m["flags"] for m in loop]
    assert (flags.count("S"), flags.count("S."), flags.count("F.")) == (1, 1, 2), \
        [m.group(0) for m in loop]
    # tcpdump reads the veth's frames and the loopback packets from the one capture file
    cap = Path(next(ln.split(": ", 1)[1] for ln in text if ln.startswith("# capture file: ")))
    dump = subprocess.run(["tcpdump", "-nn", "-r", str(cap)], capture_output=True, text=True,
                          timeout=bound(20))
    assert dump.returncode == 0, dump.stderr
    rows = dump.stdout.splitlines()
    assert len(rows) == len(packet_lines(text)), (rows, dump.stderr)
    assert sum(" IP 127.0.0.1." in r for r in rows) == len(loop)
    assert ours_left() == []
