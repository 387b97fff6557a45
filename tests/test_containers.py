"""Containers (issue 8): the cgroup parser on recorded files, resolution on a fake /proc, and
real podman containers (ids, names, PIDs with children, exit, cgroup v2 id, `tracer containers`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import containers_fixtures
import pytest
from bounds import bound, wait_until
from containers_fixtures import podman

from tracer import containers, targets
from tracer.containers import cache, cgroup, names, unified
from tracer.errors import TracerError

FIXTURES = Path(__file__).parent / "fixtures" / "cgroup"
ROOT = Path(__file__).resolve().parents[1]
PODMAN_ID = "e502edb17caf1e0fde81ac48f5e1706dafe799c5cbfd26d415dcfcd526c9805a"  # recorded here
P = "3f1c2a9b8d7e6f5041322314a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e"
D = "9b4e1c7f2a3d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"
K = "5c0ffee1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b"
C = "0aa1bb2cc3dd4ee5ff6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7a8b9c0"
# the real-container fixtures (see tests/containers_fixtures.py)
busybox_image = containers_fixtures.busybox_image
busybox_container = containers_fixtures.busybox_container

N = "77e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180"

# fixture file -> (runtime, id) of the innermost container, or None for a host task
EXPECTED = {
    "podman-cgroupfs-hybrid": ("podman", PODMAN_ID),
    "podman-conmon-cgroupfs-hybrid": None,
    "podman-systemd-v2": ("podman", P),
    "podman-systemd-v1": ("podman", P),
    "podman-rootless-v2": ("podman", P),
    "podman-seen-from-cgroupns-v2": ("podman", P),
    "podman-conmon-v2": None,
    "docker-systemd-v2": ("docker", D),
    "docker-systemd-v1": ("docker", D),
    "docker-cgroupfs-v2": ("docker", D),
    "docker-cgroupfs-v1": ("docker", D),
    "containerd-k8s-systemd-v2": ("containerd", K),
    "containerd-k8s-cgroupfs-v1": ("containerd", K),
    "containerd-ctr-v2": ("containerd", K),
    "containerd-nerdctl-v2": ("containerd", K),
    "crio-v2": ("cri-o", C),
    "crio-v1": ("cri-o", C),
    "crio-conmon-v2": None,
    "kind-nested-v2": ("containerd", N),
    "host-session-v2": None,
    "host-session-v1": None,
    "host-init-v2": None,
    "host-journald-v2": None,
    "kthread": None,
}


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.cgroup").read_text()


def test_every_fixture_has_an_expectation():
    assert sorted(p.stem for p in FIXTURES.glob("*.cgroup")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parser_finds_the_container(name):
    found = cgroup.matches(fixture(name))
    got = (found[-1].runtime, found[-1].id) if found else None
    assert got == EXPECTED[name]


def test_nested_container_lists_outer_then_inner():
    found = cgroup.matches(fixture("kind-nested-v2"))
    assert [(m.runtime, m.id) for m in found] == [("docker", D), ("containerd", N)]
    assert found[0].path == f"/system.slice/docker-{D}.scope"


def test_paths_cut_at_the_container_and_v2_path():
    paths, v2 = cgroup.container_paths(fixture("podman-systemd-v2"), P)
    assert paths == [f"/machine.slice/libpod-{P}.scope"] and v2 == paths[0]
    # docker's cgroupfs driver on a hybrid host leaves the unified path at the host's
    paths, v2 = cgroup.container_paths(fixture("docker-cgroupfs-v1"), D)
    assert paths == [f"/docker/{D}"] and v2 is None
    # read from inside another cgroup namespace: found, but its directory is not ours to stat
    paths, v2 = cgroup.container_paths(fixture("podman-seen-from-cgroupns-v2"), P)
    assert v2 == f"/../../machine.slice/libpod-{P}.scope"
    assert unified.cgroup_id(containers.Container(id=P, runtime="podman", cgroup_v2_path=v2)) is None
    paths, v2 = cgroup.container_paths(fixture("crio-v1"), C)
    assert v2 is None and len(paths) == 1 and paths[0].endswith(f"/crio-{C}.scope")


def test_parse_keeps_hierarchy_and_controllers():
    lines = cgroup.parse(fixture("docker-cgroupfs-v1"))
    assert lines[0] == cgroup.Line(13, "name=systemd", f"/docker/{D}")
    assert lines[-1] == cgroup.Line(0, "", "/system.slice/containerd.service")
    assert cgroup.parse("") == []


# --- resolution on a fake /proc ---------------------------------------------------------

AMBIG1 = "abcd" + "1" * 60
AMBIG2 = "abcd" + "2" * 60


@pytest.fixture
def fake_proc(tmp_path, monkeypatch):
    """A /proc with host tasks and containers of every runtime, and a CLI that knows two names."""
    proc = tmp_path / "proc"
    tasks = {1: fixture("host-init-v2"), 2: "", 300: fixture("host-session-v2"),
             400: fixture("podman-systemd-v2"), 401: fixture("podman-systemd-v2"),
             402: fixture("podman-conmon-v2"), 500: fixture("docker-cgroupfs-v1"),
             600: fixture("crio-v2"), 700: fixture("kind-nested-v2"),
             800: f"0::/libpod_parent/libpod-{AMBIG1}\n", 801: f"0::/libpod_parent/libpod-{AMBIG2}\n"}
    for pid, text in tasks.items():
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "cgroup").write_text(text)
    (proc / "self").mkdir()  # not a PID: ignored
    monkeypatch.setenv("TRACER_PROCFS_PATH", str(proc))
    monkeypatch.setenv("TRACER_SYSFS_PATH", str(tmp_path / "sys"))  # no cgroup v2 here
    monkeypatch.setattr(names, "cli_names", lambda: {P: "web", D: "db", "f" * 64: "stopped"})
    cache.clear()
    yield proc
    cache.clear()


def test_resolve_by_full_id_short_id_prefix_and_name(fake_proc):
    web = containers.resolve([P])[0]
    assert (web.id, web.short_id, web.name, web.runtime, web.pids) == (P, P[:12], "web", "podman",
                                                                       (400, 401))
    assert web.cgroup_v2_path == f"/machine.slice/libpod-{P}.scope"
    assert containers.resolve([P[:12]]) == [web]
    assert containers.resolve([P[:4].upper()]) == [web]
    assert containers.resolve(["web"]) == [web]
    assert containers.resolve([f"cri-o://{C}"])[0].runtime == "cri-o"
    # the same container named twice is listed once; order follows the refs
    assert [c.id for c in containers.resolve(["db", "web", P])] == [D, P]


def test_nested_processes_count_for_the_outer_container(fake_proc):
    (outer,) = containers.resolve([D])
    assert outer.pids == (500, 700)
    assert containers.resolve([N])[0].pids == (700,)


def test_unknown_ambiguous_and_too_short_refs(fake_proc):
    with pytest.raises(TracerError) as e:
        containers.resolve(["xyz"])
    assert str(e.value) == "no running container matches 'xyz': see 'tracer containers'"
    with pytest.raises(TracerError, match="'abcd' is ambiguous, it matches abcd11111111, abcd22222222"):
        containers.resolve(["abcd"])
    with pytest.raises(TracerError, match="at least 4 characters"):
        containers.resolve(["3f1"])
    with pytest.raises(TracerError, match="no running container matches 'deadbeef'"):
        containers.resolve(["deadbeef"])
    with pytest.raises(TracerError, match=r"'stopped' \(ffffffffffff\) has no process in"):
        containers.resolve(["stopped"])
    assert containers.resolve(["abcd1"])[0].id == AMBIG1


def test_a_name_two_runtimes_share_is_ambiguous(fake_proc, monkeypatch):
    monkeypatch.setattr(names, "cli_names", lambda: {P: "web", D: "web"})
    with pytest.raises(TracerError, match=f"name 'web' is ambiguous, it is {P[:12]}, {D[:12]}"):
        containers.resolve(["web"])


def test_running_containers_lists_named_first(fake_proc):
    got = [(c.short_id, c.name) for c in containers.running_containers()]
    assert got[:2] == [(D[:12], "db"), (P[:12], "web")]
    assert {c for c, _ in got} == {x[:12] for x in (P, D, C, N, AMBIG1, AMBIG2)}


def test_container_of_caches_and_follows_pid_reuse(fake_proc, monkeypatch):
    assert containers.container_of(400) == P[:12]
    assert containers.container_of(300) is None
    assert containers.container_of(700) == N[:12]  # the innermost container tags the event
    (fake_proc / "400" / "cgroup").write_text(fixture("crio-v2"))  # PID 400 reused
    assert containers.container_of(400) == P[:12]  # still cached
    containers.forget(400)  # what an exit event does
    monkeypatch.setattr(cache, "TTL", 0.0)  # and without one, expiry re-reads the cgroup file
    assert containers.container_of(400) == C[:12]
    (fake_proc / "400" / "cgroup").write_text(fixture("host-session-v2"))
    assert containers.container_of(400) is None


def test_container_of_remembers_exited_and_forked_tasks(fake_proc, monkeypatch):
    monkeypatch.setattr(cache, "TTL", 0.0)
    assert containers.container_of(401) == P[:12]
    (fake_proc / "401" / "cgroup").unlink()  # exited before its last events were formatted
    assert containers.container_of(401) == P[:12]
    containers.note_fork(401, 9999)  # a child that is gone before we could read it
    assert containers.container_of(9999) == P[:12]
    assert containers.container_of(12345) is None


def test_is_running_without_cgroup_v2_reads_proc(fake_proc):
    web = containers.resolve(["web"])[0]
    assert containers.cgroup_id(web) is None  # no unified hierarchy in the fake sysfs
    assert containers.is_running(web)
    for pid in ("400", "401"):
        (fake_proc / pid / "cgroup").unlink()
    assert not containers.is_running(web)


def test_cgroup_id_is_the_inode_of_the_v2_directory(fake_proc, tmp_path):
    top = tmp_path / "sys/fs/cgroup/unified"
    d = top / f"machine.slice/libpod-{P}.scope"
    d.mkdir(parents=True)
    (top / "cgroup.controllers").write_text("")
    (d / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    web = containers.resolve(["web"])[0]
    assert containers.cgroup_id(web) == d.stat().st_ino
    assert containers.cgroup_level(web) == 2
    assert containers.container_of_cgroup(d.stat().st_ino) == P[:12]
    assert containers.container_of_cgroup(top.stat().st_ino) is None
    assert containers.is_running(web)
    (d / "cgroup.events").write_text("populated 0\nfrozen 0\n")
    assert not containers.is_running(web)


def test_targets_adds_container_pids_and_tags(fake_proc):
    who = targets.resolve([300], ["web", "db"])
    tags = who.tags
    assert who.pids == (300, 400, 401, 500, 700) and [c.name for c in who.containers] == ["web", "db"]
    assert tags(401) == P[:12] and tags(500) == D[:12] and tags(300) is None
    assert tags.notes() == []
    (fake_proc / "500" / "cgroup").unlink()
    (fake_proc / "700" / "cgroup").unlink()
    assert tags.notes() == [f"# container {D[:12]} (db) exited during the trace"]


def test_cli_parsers():
    podman_out = json.dumps([{"Id": P, "Names": ["web"], "Pid": 400, "State": "running"},
                             {"Id": D, "Names": []}])
    assert names.parse_podman(podman_out) == {P: "web"}
    assert names.parse_podman("not json") == {}
    docker_out = (json.dumps({"ID": D, "Names": "db,alias", "State": "running"}) + "\n"
                  + json.dumps({"ID": K, "Names": ""}) + "\n")
    assert names.parse_docker(docker_out) == {D: "db"}
    crictl_out = json.dumps({"containers": [
        {"id": K, "metadata": {"name": "nginx", "attempt": 0}, "state": "CONTAINER_RUNNING",
         "labels": {"io.kubernetes.pod.name": "web-7d4f", "io.kubernetes.pod.namespace": "default"}},
        {"id": C, "metadata": {"name": "sidecar"}, "labels": {}}]})
    assert names.parse_crictl(crictl_out) == {K: "web-7d4f/nginx", C: "sidecar"}
    assert names.parse_crictl("[]") == {} and names.parse_crictl("") == {}


def test_cli_names_runs_only_installed_clis(monkeypatch, tmp_path):
    fake = tmp_path / "podman"
    row = json.dumps([{"Id": P, "Names": ["web"]}])
    fake.write_text(f"#!/bin/sh\necho '{row}'\n")
    fake.chmod(0o755)
    broken = tmp_path / "docker"
    broken.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2; exit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert names.cli_names() == {P: "web"}


def test_cli_verb_on_fake_proc(fake_proc, capsys):
    from tracer.cli import main

    assert main(["containers"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["ID", "RUNTIME", "NAME", "PIDS"]
    assert out[1].split() == [D[:12], "docker", "db", "500", "700"]
    assert out[2].split() == [P[:12], "podman", "web", "400", "401"]
    assert main(["containers", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[1]["id"] == P and rows[1]["pids"] == [400, 401]


# --- real podman containers -------------------------------------------------------------

def hpids(name: str) -> set[int]:
    """The container's host PIDs as podman itself reports them."""
    return {int(x) for x in podman("top", name, "hpid").split()[1:]}


@pytest.fixture
def real():
    cache.clear()
    yield
    cache.clear()


def test_resolve_real_container_with_children(real, busybox_container):
    with busybox_container("kids", "sleep 1000 & sleep 1000 & wait", min_pids=3) as (c, pid):
        podman_id = podman("inspect", "--format", "{{.Id}}", c.name)
        assert (c.id, c.runtime) == (podman_id, "podman")
        assert pid in c.pids and set(c.pids) == hpids(c.name) and len(c.pids) == 3
        assert containers.resolve([c.short_id]) == [c]
        assert containers.resolve([c.id[:6]]) == [c]
        assert containers.resolve([c.name]) == [c]
        for p in c.pids:
            assert containers.container_of(p) == c.short_id
        assert containers.container_of(os.getpid()) is None
        assert containers.is_running(c)


def test_children_started_later_are_found(real, busybox_container):
    with busybox_container("later", "sleep 1000", min_pids=1) as (c, pid):
        podman("exec", "-d", c.name, "/bin/sh", "-c", "sleep 1000 & sleep 1000 & wait")
        c2 = wait_until(lambda: containers.resolve([c.name])[0], until=lambda x: len(x.pids) >= 4)
        assert set(c2.pids) == hpids(c.name) and pid in c2.pids


def test_cgroup_id_matches_the_unified_hierarchy(real, busybox_container):
    with busybox_container("cg", "sleep 1000") as (c, _pid):
        top = unified.root()
        if top is None:
            pytest.skip("no cgroup v2 hierarchy mounted")
        d = top / c.cgroup_v2_path.lstrip("/")
        assert c.cgroup_v2_path.endswith(f"libpod-{c.id}")
        assert containers.cgroup_id(c) == d.stat().st_ino
        assert containers.container_of_cgroup(d.stat().st_ino) == c.short_id


def test_cgroup_id_is_what_bpf_sees(real, busybox_container):
    bcc = pytest.importorskip("bcc")
    prog = """
    BPF_HASH(seen, u32, u64);
    TRACEPOINT_PROBE(syscalls, sys_enter_nanosleep) {
        u32 tgid = bpf_get_current_pid_tgid() >> 32;
        u64 cg = bpf_get_current_cgroup_id();
        seen.update(&tgid, &cg);
        return 0;
    }
    TRACEPOINT_PROBE(syscalls, sys_enter_clock_nanosleep) {
        u32 tgid = bpf_get_current_pid_tgid() >> 32;
        u64 cg = bpf_get_current_cgroup_id();
        seen.update(&tgid, &cg);
        return 0;
    }
    """
    try:
        b = bcc.BPF(text=prog)
    except Exception as e:  # no kernel headers: BCC cannot compile here
        pytest.skip(f"BCC cannot load a program here: {e}")
    try:
        with busybox_container("bpf", "while true; do sleep 0.1; done") as (c, _pid):
            want = containers.cgroup_id(c)
            assert want is not None

            def seen_in_container():
                table = {k.value: v.value for k, v in b["seen"].items()}
                return [table[p] for p in containers.resolve([c.id])[0].pids if p in table]

            got = wait_until(seen_in_container, timeout=5)
            assert got and set(got) == {want}
    finally:
        b.cleanup()


def test_container_that_exits_midway(real, busybox_container):
    # Stopped by the test, not by a timer: a container that exits on its own after N seconds may
    # be gone before an emulated machine has even seen it start.
    with busybox_container("brief", "sleep 1000") as (c, pid):
        who = targets.resolve([], [c.name])
        tags = who.tags
        assert pid in who.pids and tags(pid) == c.short_id
        assert containers.is_running(c) and tags.notes() == []
        podman("kill", c.name)
        assert wait_until(lambda: not containers.is_running(c), timeout=15)
        assert tags.notes() == [f"# container {c.short_id} ({c.name}) exited during the trace"]
        with pytest.raises(TracerError, match="has no process in|no running container matches"):
            containers.resolve([c.short_id])


def test_tracer_containers_verb(real, busybox_container):
    with busybox_container("verb", "sleep 1000 & wait", min_pids=2) as (c, _pid):
        out = subprocess.run([sys.executable, "-m", "tracer", "containers"], cwd=ROOT,
                             capture_output=True, text=True, timeout=bound(60), check=True).stdout
        row = next(line.split() for line in out.splitlines() if line.startswith(c.short_id))
        assert row[1:3] == ["podman", c.name]
        assert {int(p) for p in row[3:]} == set(c.pids)


def test_a_cli_that_does_not_answer_in_time_is_named_in_the_error(monkeypatch, tmp_path):
    """A podman slower than TRACER_CLI_TIMEOUT: the name it would have given is unknown, and the
    error says why instead of only that no container matches."""
    fake = tmp_path / "podman"
    fake.write_text("#!/bin/sh\nexec /bin/sleep 5\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("TRACER_CLI_TIMEOUT", "0.3")
    with pytest.raises(TracerError) as e:
        containers.resolve(["web"])
    assert "no running container matches 'web'" in str(e.value)
    assert "podman did not answer within 0.3 s" in str(e.value) and "TRACER_CLI_TIMEOUT" in str(e.value)
    assert "\n" not in str(e.value)
    fake.write_text("#!/bin/sh\necho '[]'\n")
    with pytest.raises(TracerError) as e:
        containers.resolve(["web"])
    assert "did not answer" not in str(e.value)
