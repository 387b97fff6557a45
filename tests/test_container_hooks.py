"""Hooks run on a podman container by name: children included, each line tagged with its id."""

from __future__ import annotations

import json
import re
import time

import pytest
from bounds import lines_until
from containers_fixtures import busybox_container, busybox_image  # noqa: F401
from test_manager_contract import Run, stop_runs  # noqa: F401 (the fixture stops leftover runs)

LOOP = "while true; do cat /etc/hostname >/dev/null; sleep 0.2; done"


@pytest.mark.parametrize("sub,hook", [("ebpf", "ebpf-syscalls"), ("ftrace", "ftrace-syscalls")])
def test_trace_a_container_by_name(sub, hook, busybox_container, outdir):  # noqa: F811
    with busybox_container("loop", ["sh", "-c", LOOP]) as (c, _pid):
        run = Run(sub, hook, f"--container {c.name}")
        path = run.path()
        # the shell's children (cat, sleep) start after the trace began: followed too
        lines = lines_until(path, lambda ls: any(" cat" in ln or "cat-" in ln
                                                 for ln in ls if c.short_id in ln))
        rc, out, err, _ = run.stop()
    assert (rc, err) == (0, ""), err
    tagged = [ln for ln in lines if c.short_id in ln]
    assert tagged, lines[:5]
    if sub == "ebpf":
        # calls, and signal and exit lines (--- SIGCHLD {...} ---, +++ exited with 0 +++)
        shape = rf"^\d+\.\d{{9}} \S+ \d+/\d+ {c.short_id} (\w+\(|--- SIG|\+\+\+ )"
        assert all(re.match(shape, ln) for ln in tagged), tagged[:3]
        assert any(re.match(rf"^\S+ cat \d+/\d+ {c.short_id} ", ln) for ln in tagged)
    else:
        assert any(re.match(rf"^cat-\d+ {c.short_id} ", ln) for ln in tagged), tagged[:3]
    events = [ln for ln in lines if ln and not ln.startswith("#")]
    assert len(tagged) == len(events), "every event of a container process carries its id"


def test_json_has_a_container_field(busybox_container, outdir):  # noqa: F811
    with busybox_container("json", ["sh", "-c", LOOP]) as (c, _pid):
        run = Run("ebpf", "ebpf-files", f"--container {c.short_id} --format json")
        path = run.path()
        lines = lines_until(path, lambda ls: any("hostname" in ln for ln in ls))
        run.stop()
    objs = [json.loads(ln) for ln in lines if ln.startswith("{")]
    assert objs and all(o["container"] == c.short_id for o in objs)


def test_a_container_that_exits_mid_trace(busybox_container, outdir):  # noqa: F811
    from containers_fixtures import podman

    # Ended once the trace runs, not by a timer: an emulated machine may take longer than any
    # timer to start the session.
    with busybox_container("brief", ["sh", "-c", "sleep 1000"]) as (c, _pid):
        run = Run("ebpf", "ebpf-syscalls", f"--container {c.name}")
        path = run.path()
        podman("kill", c.name)
        lines = lines_until(path, lambda ls: any("exited during the trace" in ln for ln in ls), 8)
        assert run.proc.poll() is None, "the session goes on after its container exits"
        rc, _, err, _ = run.stop()
    assert (rc, err) == (0, "")
    notes = [ln for ln in lines if ln.startswith("# container") and "exited during the trace" in ln]
    assert notes and c.short_id in notes[0]


def test_unknown_container_is_one_line_error(outdir):
    from test_manager_contract import manager

    r = manager("ebpf", "--run", "ebpf-syscalls", "--args", "--container no-such-box")
    assert r.returncode != 0 and r.stdout == "" and len(r.stderr.splitlines()) == 1
    assert "no-such-box" in r.stderr


@pytest.mark.parametrize("sub,hook", [("ebpf", "ebpf-files"), ("ftrace", "ftrace-syscalls")])
def test_a_process_exec_d_into_the_container_later_is_traced(sub, hook, busybox_container, outdir):  # noqa: F811
    """`podman exec` starts a process that is no child of the container's: it is traced too."""
    from containers_fixtures import podman

    with busybox_container("exec", ["sh", "-c", "sleep 1000"]) as (c, _pid):
        run = Run(sub, hook, f"--container {c.name}")
        path = run.path()
        # Again and again: the session finds the new process within its rescan period, which an
        # emulated machine stretches past any fixed delay.
        podman("exec", "-d", c.name, "sh", "-c", "while :; do cat /etc/hostname > /dev/null; sleep 0.5; done")
        # busybox cat copies with sendfile; ftrace's comm column is looked up when the line is
        # read and may name the task "exe" (busybox runs its applets through /proc/self/exe)
        mark = "cat" if sub == "ebpf" else "sys_sendfile64("
        lines = lines_until(path, lambda ls: any(mark in ln and c.short_id in ln for ln in ls))
        run.stop()
    assert any(mark in ln and c.short_id in ln for ln in lines), lines[-5:]


# Short-lived processes as fast as the shell forks them: each is gone long before its lines are read.
FAST = "while true; do {cmd} /etc/hostname >/dev/null; /bin/true; done"
EVENT = {"ebpf": re.compile(r"^\d+\.\d{9} (\S+) \d+/\d+ (?:([0-9a-f]{12}) )?"),
         "ftrace": re.compile(r"^(.*?)-\d+ (?:([0-9a-f]{12}) )?\s*(?:\(\s*[\d-]+\)\s+)?\[\d+\]")}


def tagged_lines(sub: str, path) -> list[tuple[str, str | None]]:
    """(comm, container id or None) of every event line of a finished trace."""
    out = []
    for ln in path.read_text().splitlines():
        if not ln or ln.startswith("#") or ln.startswith("LOST"):
            continue
        m = EVENT[sub].match(ln)
        assert m, f"unexpected line shape: {ln!r}"
        out.append((m.group(1), m.group(2)))
    return out


@pytest.mark.parametrize("sub,hook", [("ebpf", "ebpf-syscalls"), ("ebpf", "ebpf-process"),
                                      ("ftrace", "ftrace-syscalls"), ("ftrace", "ftrace-sched")])
def test_every_line_of_short_lived_processes_is_tagged(sub, hook, busybox_container, outdir):  # noqa: F811
    """Two containers forking fast: every line carries the id of its own task's container."""
    with busybox_container("fast-a", ["sh", "-c", FAST.format(cmd="cat")]) as (a, _), \
            busybox_container("fast-b", ["sh", "-c", FAST.format(cmd="wc -c")]) as (b, _):
        for containers in ([a], [a, b]):
            run = Run(sub, hook, "--container " + " ".join(c.name for c in containers))
            try:
                path = run.path()
                time.sleep(2)
            finally:
                rc, _, err, _ = run.stop()
            assert (rc, err) == (0, ""), err
            got = tagged_lines(sub, path)
            ids = {c.short_id for c in containers}
            untagged = [comm for comm, cid in got if cid not in ids]
            print(f"{hook} {len(containers)} container(s): {len(got) - len(untagged)}/{len(got)} tagged")
            text = path.read_text().splitlines()
            stray = [ln for ln in text
                     if ln and not ln.startswith(("#", "LOST")) and not any(i in ln for i in ids)]
            lost = [ln for ln in text if ln.startswith("LOST")]
            # A task whose fork event the kernel dropped (the trace says LOST) cannot be tagged
            # once it is gone: only then may a line go untagged.
            assert len(got) > 100 and (not untagged or lost), \
                f"{hook} {len(containers)} container(s): {len(untagged)} of {len(got)} lines untagged" \
                f" ({len(lost)} LOST lines: {lost[:2]}): {stray[:3]}"
            assert {"cat"} <= {comm for comm, cid in got if cid == a.short_id}
            if len(containers) == 2:
                assert {"wc"} <= {comm for comm, cid in got if cid == b.short_id}
                if sub == "ebpf":  # ftrace prints a comm looked up when the line is read, in a
                    # 128-entry table by PID: another task's name at times, or "<...>"
                    for comm, c in (("cat", a), ("wc", b)):
                        wrong = [ln for ln in text if (m := EVENT[sub].match(ln)) and m[1] == comm
                                 and m[2] != c.short_id]
                        assert not wrong, f"{len(wrong)} {comm} lines not tagged {c.short_id}" \
                            f" ({len(lost)} LOST lines: {lost[:2]}): {wrong[:3]}"


def test_summary_of_a_container_counts_its_processes_and_those_exec_d_later(busybox_container, outdir):  # noqa: F811
    """ebpf-summary --container: the container's processes, their children, and a process
    `podman exec` adds later (found by its cgroup), each in a table of its own."""
    from containers_fixtures import podman

    with busybox_container("summary", ["sh", "-c", "sleep 1000"]) as (c, pid):
        run = Run("ebpf", "ebpf-summary", f"--container {c.name} --interval 1")
        path = run.path()
        podman("exec", c.name, "sh", "-c", "for i in 1 2 3; do cat /etc/hostname; done > /dev/null")
        time.sleep(1.5)
        rc, _out, err, _ = run.stop()
    assert (rc, err) == (0, ""), err
    text = path.read_text()
    last = text[text.rindex("# summary at"):]
    tables = re.findall(r"^# pid (\d+) \((\S+)\)$", last, re.M)
    assert any(int(p) != pid for p, _ in tables), tables  # the exec'd shell or its cats
    assert any(comm == "cat" for _, comm in tables) or "sendfile" in last, last[:2000]
