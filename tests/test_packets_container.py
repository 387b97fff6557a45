"""ebpf-packets on a real podman container fetching from a server on our end of its bridge."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from bounds import bound, lines_until
from containers_fixtures import busybox_container, busybox_image, podman  # noqa: F401
from netfixtures import tcp_server
from test_manager_contract import Run
from test_packets import LINE, ours_left, read_pcapng


def gateway(name: str) -> str:
    """The container's default gateway: our end of podman's bridge."""
    route = podman("exec", name, "ip", "route")
    return re.search(r"default via (\S+)", route).group(1)


def test_container_fetching_from_a_local_server(busybox_container, outdir):  # noqa: F811
    with busybox_container("fetch", ["sh", "-c", "sleep 1000"]) as (c, _pid):
        gw = gateway(c.name)
        with tcp_server(gw) as port:
            run = Run("ebpf", "ebpf-packets", f"--container {c.name} --format pcapng")
            path = run.path(30)
            for _ in range(2):  # podman exec: processes that join the container later
                podman("exec", c.name, "wget", "-q", "-O", "/dev/null", f"http://{gw}:{port}/")
            lines = lines_until(path, lambda ls: sum("[F." in ln for ln in ls) >= 4)
            rc, out, err, _ = run.stop()
    assert (rc, out, err) == (0, "", ""), err
    text = path.read_text().splitlines()
    assert any("tc clsact ingress+egress on eth0 (our end veth" in ln for ln in text), text[:4]
    pkts = [m for m in map(LINE.match, lines) if m]
    web = [m for m in pkts if f"{gw}:{port}" in (m["src"], m["dst"])]
    syn = [m for m in web if m["flags"] == "S"]
    assert len(syn) == 2, lines
    # the owner and the container of every packet of the fetches, both directions
    for m in web:
        assert m["comm"] == "wget" and re.fullmatch(r"\d+/\d+", m["pid"]), m.group(0)
        assert m["cid"] == c.short_id and m["iface"].startswith("eth0@veth"), m.group(0)
    assert {m["dir"] for m in web} == {"in", "out"}
    assert all(m["dst"] == f"{gw}:{port}" for m in web if m["dir"] == "out")
    cap = Path(next(ln.split(": ", 1)[1] for ln in text if ln.startswith("# capture file: ")))
    dump = subprocess.run(["tcpdump", "-nn", "-r", str(cap), "tcp", "port", str(port)],
                          capture_output=True, text=True, timeout=bound(20))
    assert dump.returncode == 0, dump.stderr
    assert len(dump.stdout.splitlines()) == len(web)
    assert sum("Flags [S]," in r for r in dump.stdout.splitlines()) == 2
    comments = [cm for _, _, cm, _ in read_pcapng(cap) if cm and "comm wget" in cm]
    assert len(comments) == len(web) and all(f"container {c.short_id}" in cm for cm in comments)
    assert ours_left() == []


def test_host_network_container_is_captured_on_its_cgroup(busybox_image, outdir):  # noqa: F811
    """A container sharing the host's network namespace: no veth, cgroup_skb programs take its packets."""
    import uuid

    name = f"tracer-test-hostnet-{uuid.uuid4().hex[:6]}"
    with tcp_server("127.0.0.1") as port:
        podman("run", "-d", "--name", name, "--network", "host", "--env", "PATH=/bin", busybox_image,
               "sh", "-c", "sleep 1000")
        try:
            run = Run("ebpf", "ebpf-packets", f"--container {name}")
            path = run.path(30)
            time.sleep(0.2)
            podman("exec", name, "wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{port}/")
            lines = lines_until(path, lambda ls: any("[F." in ln for ln in ls))
            rc, _, err, _ = run.stop()
        finally:
            podman("rm", "-f", "-t", "0", name, check=False)
    assert (rc, err) == (0, "")
    assert any("host network namespace" in ln and ln.startswith("# ") for ln in lines), lines[:3]
    pkts = [m for m in map(LINE.match, lines) if m]
    assert pkts and all(m["comm"] == "wget" for m in pkts), lines
    out = [m for m in pkts if m["dir"] == "out" and m["flags"] == "S"]
    assert out and out[0]["dst"] == f"127.0.0.1:{port}" and out[0]["iface"] == "lo"
    # the server's own packets (its socket is not the container's) are not shown
    assert not any(m["dir"] == "out" and m["src"] == f"127.0.0.1:{port}" for m in pkts)
    assert ours_left() == []
