"""tc (clsact) attachments on our end of a target's veths: add, remove, and clear leftovers.

Ours is recognisable three ways: each filter's name is tracer_pkt_<owner pid>_<in|out>,
it sits at a priority the kernel gave it when we added it (so it shares its priority
with nobody's), and /run/tracer/net-<owner pid>.json records, before each change, what
the session adds, whether it created the clsact qdisc or found one, and the owner's
start time (a PID alone can be reused). A clsact qdisc that existed before us is never
removed: only our filters come off it; one we created goes once no filter of anyone
else's sits on it.
"""

from __future__ import annotations

import errno
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tracer import paths
from tracer.errors import TracerError

INGRESS, EGRESS = 0xFFFFFFF2, 0xFFFFFFF3
PARENTS = {"ingress": INGRESS, "egress": EGRESS}
ETH_P_ALL = 0x0003
HANDLE = 1
NAME = re.compile(r"tracer_pkt_(\d+)_(in|out)")


def filter_name(direction: str, pid: int | None = None) -> str:
    return f"tracer_pkt_{os.getpid() if pid is None else pid}_{direction}"


def start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat: with the PID, names one process for good."""
    try:
        stat = (paths.procfs() / str(pid) / "stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Filter:
    parent: str  # "ingress" | "egress"
    name: str
    prio: int = 0  # 0 until the kernel has given one


@dataclass
class Attachment:
    ifindex: int
    ifname: str
    qdisc: str = "creating"  # "creating" -> "created" (ours) | "existed" (someone else's)
    filters: list[Filter] = field(default_factory=list)


@dataclass
class Record:
    owner: int
    start: int | None
    attachments: list[Attachment] = field(default_factory=list)

    @staticmethod
    def path_of(owner: int) -> Path:
        return paths.STATE_DIR / f"net-{owner}.json"

    def save(self) -> None:
        paths.STATE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.path_of(self.owner)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        os.replace(tmp, path)

    def drop(self) -> None:
        self.path_of(self.owner).unlink(missing_ok=True)

    @staticmethod
    def load(path: Path) -> Record | None:
        try:
            d = json.loads(path.read_text())
            atts = [Attachment(a["ifindex"], a["ifname"], a["qdisc"], [Filter(**f) for f in a["filters"]])
                    for a in d["attachments"]]
            return Record(int(d["owner"]), d.get("start"), atts)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def owner_alive(self) -> bool:
        return self.owner != os.getpid() and start_time(self.owner) == self.start is not None


def _filters(ipr: object, ifindex: int, parent: int) -> list[tuple[int, int, str | None]]:
    """(prio, handle, bpf name) of the filters on one side of a clsact qdisc."""
    out = []
    try:
        dump = ipr.get_filters(index=ifindex, parent=parent)  # type: ignore[attr-defined]
    except Exception:  # no clsact (or no such link): nothing there
        return []
    for f in dump:
        opts = f.get_attr("TCA_OPTIONS")
        name = opts.get_attr("TCA_BPF_NAME") if opts and hasattr(opts, "get_attr") else None
        out.append((f["info"] >> 16, f["handle"], name))
    return out


def _has_clsact(ipr: object, ifindex: int) -> bool:
    return any(q.get_attr("TCA_KIND") == "clsact"
               for q in ipr.get_qdiscs(ifindex))  # type: ignore[attr-defined]


class TcSession:
    """The tc filters of one session, attached in our network namespace."""

    def __init__(self) -> None:
        from pyroute2 import IPRoute

        self.ipr = IPRoute()
        self.record = Record(os.getpid(), start_time(os.getpid()))

    def attach(self, ifindex: int, ifname: str, progs: dict[str, int]) -> None:
        """progs: parent ("ingress"/"egress") -> (direction name, program fd)."""
        from pyroute2.netlink.exceptions import NetlinkError

        att = Attachment(ifindex, ifname)
        self.record.attachments.append(att)
        self.record.save()
        try:
            self.ipr.tc("add", "clsact", ifindex)
            att.qdisc = "created"
        except NetlinkError as e:
            if e.code != errno.EEXIST:
                att.qdisc = "existed"  # nothing was created: never remove it
                raise TracerError(f"cannot add a clsact qdisc on {ifname}: {os.strerror(e.code)}") from None
            att.qdisc = "existed"
        self.record.save()
        for parent, (direction, fd) in progs.items():
            flt = Filter(parent, filter_name(direction))
            att.filters.append(flt)
            self.record.save()
            try:
                self.ipr.tc("add-filter", "bpf", ifindex, HANDLE, fd=fd, name=flt.name,
                            parent=PARENTS[parent], direct_action=True, protocol=ETH_P_ALL)
            except NetlinkError as e:
                raise TracerError(f"cannot add a tc filter on {ifname} {parent}:"
                                  f" {os.strerror(e.code)}") from None
            flt.prio = next((p for p, h, n in _filters(self.ipr, ifindex, PARENTS[parent])
                             if n == flt.name and h == HANDLE), 0)
            self.record.save()

    def close(self) -> list[str]:
        """Remove everything attached; return what could not be removed (normally nothing)."""
        problems = []
        for att in self.record.attachments:
            problems += remove(self.ipr, att)
        self.record.attachments = []
        self.record.drop()
        self.ipr.close()
        return problems


def remove(ipr: object, att: Attachment, owner: int | None = None) -> list[str]:
    """Our filters off one link, then the qdisc if we created it and it holds nothing else."""
    from pyroute2.netlink.exceptions import NetlinkError

    problems = []
    for flt in att.filters:
        parent = PARENTS[flt.parent]
        for prio, handle, name in _filters(ipr, att.ifindex, parent):
            if name != flt.name or handle != HANDLE or (flt.prio and prio != flt.prio):
                continue
            try:
                ipr.tc("del-filter", "bpf", att.ifindex, HANDLE, parent=parent,  # type: ignore[attr-defined]
                       prio=prio, protocol=ETH_P_ALL)
            except NetlinkError as e:
                if e.code not in (errno.ENOENT, errno.ENODEV, errno.EINVAL):
                    problems.append(f"tc filter {flt.name} on {att.ifname}: {os.strerror(e.code)}")
    if att.qdisc == "created":
        try:
            others = [n for p in (INGRESS, EGRESS) for _, h, n in _filters(ipr, att.ifindex, p) if h]
            if not others and _has_clsact(ipr, att.ifindex):
                ipr.tc("del", "clsact", att.ifindex)  # type: ignore[attr-defined]
        except NetlinkError as e:
            if e.code not in (errno.ENOENT, errno.ENODEV, errno.EINVAL):
                problems.append(f"clsact qdisc on {att.ifname}: {os.strerror(e.code)}")
    return problems


def ours_on_links(ipr: object) -> list[tuple[int, str, str, int, str, int]]:
    """(ifindex, ifname, parent, prio, name, owner pid) of every tracer_pkt filter in our namespace."""
    found = []
    for link in ipr.get_links():  # type: ignore[attr-defined]
        for parent_name, parent in PARENTS.items():
            for prio, handle, name in _filters(ipr, link["index"], parent):
                m = NAME.fullmatch(name or "")
                if m and handle == HANDLE:
                    found.append((link["index"], link.get_attr("IFLA_IFNAME"), parent_name, prio,
                                  name, int(m.group(1))))
    return found


def clear() -> list[str]:
    """--clear: the tc attachments of sessions that are gone (recorded, or named ours)."""
    from pyroute2 import IPRoute

    done: list[str] = []
    live: set[int] = set()
    with IPRoute() as ipr:
        records = sorted(paths.STATE_DIR.glob("net-*.json")) if paths.STATE_DIR.is_dir() else []
        for path in records:
            rec = Record.load(path)
            if rec is None:
                continue
            if rec.owner_alive():
                live.add(rec.owner)
                continue
            for att in rec.attachments:
                problems = remove(ipr, att)
                if problems:
                    raise TracerError(f"cannot remove {'; '.join(problems)}; retry --clear")
                done.append(f"removed tc filters {', '.join(f.name for f in att.filters)} from {att.ifname}"
                            + (" and the clsact qdisc added with them" if att.qdisc == "created" else ""))
            path.unlink(missing_ok=True)
        # Filters without a record (it was deleted, or /run was emptied): the qdisc they
        # sit on is left, since nothing says whose it is.
        for ifindex, ifname, parent, prio, name, owner in ours_on_links(ipr):
            if owner in live or (owner != os.getpid() and (paths.procfs() / str(owner)).is_dir()):
                continue
            remove(ipr, Attachment(ifindex, ifname, "existed", [Filter(parent, name, prio)]))
            done.append(f"removed tc filter {name} from {ifname} ({parent})")
    return done
