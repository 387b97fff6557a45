"""Policy events as trace-file lines: one text line per event, or Tetragon's JSON export shape.

Text:  TIMESTAMP COMM PID/TID [CID] POLICY KIND FUNCTION(ARG, label=ARG, ...) [= RET] [ACTION]
JSON:  {"process_kprobe"|"process_tracepoint"|"process_uprobe": {process, function_name|subsys/event|
        path/symbol, args, return, action, policy_name}, "node_name", "time"}
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import socket
import struct
import time
from typing import Any, Callable

from tracer import paths
from tracer.policy import ksyms, names
from tracer.policy import types as T
from tracer.policy.plan import ArgPlan, HookPlan, Plan
from tracer.policy.record import Event, parse

SOCK = struct.Struct("<HHHHHHI16s16s")
CRED = struct.Struct("<8I3QI4x")
TCP_STATES = {1: "TCP_ESTABLISHED", 2: "TCP_SYN_SENT", 3: "TCP_SYN_RECV", 4: "TCP_FIN_WAIT1",
              5: "TCP_FIN_WAIT2", 6: "TCP_TIME_WAIT", 7: "TCP_CLOSE", 8: "TCP_CLOSE_WAIT",
              9: "TCP_LAST_ACK", 10: "TCP_LISTEN", 11: "TCP_CLOSING", 12: "TCP_NEW_SYN_RECV"}
SOCK_TYPES = {1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 5: "SOCK_SEQPACKET"}
ACTIONS = {"kprobe": "KPROBE_ACTION_", "tracepoint": "KPROBE_ACTION_", "uprobe": "KPROBE_ACTION_"}
CACHE = 4096


def _signed(v: int, size: int, signed: bool) -> int:
    v &= (1 << 8 * size) - 1
    return v - (1 << 8 * size) if signed and v >> (8 * size - 1) else v


def _path(data: bytes, trunc: bool) -> str:
    """A path as the kernel side built it ("/a/b/c"); a truncated one keeps its end."""
    return ("..." if trunc else "") + data.decode("utf-8", "backslashreplace")


def _addr(raw: bytes, family: int) -> str:
    if family == 10:
        return str(ipaddress.IPv6Address(raw[:16]))
    return str(ipaddress.IPv4Address(raw[:4]))


def _sock(data: bytes) -> dict[str, Any]:
    fam, typ, proto, state, sport, dport, length, sa, da = SOCK.unpack_from(data.ljust(SOCK.size, b"\0"))
    out: dict[str, Any] = {"family": names.FAMILIES.get(fam, str(fam))}
    if fam in (2, 10):
        out.update(saddr=_addr(sa, fam), daddr=_addr(da, fam), sport=sport, dport=dport)
    if typ:
        out["type"] = SOCK_TYPES.get(typ, str(typ))
    if proto:
        out["protocol"] = names.PROTOCOL_NAMES.get(proto, str(proto))
    if state:
        out["state"] = TCP_STATES.get(state, str(state))
    if length:
        out["len"] = length
    return out


def _sockaddr(data: bytes) -> dict[str, Any]:
    head, raw = data[:SOCK.size], data[SOCK.size:]
    fam = struct.unpack_from("<H", head)[0] if len(head) >= 2 else 0
    if fam == 1:
        return {"family": "AF_UNIX", "path": raw[2:].split(b"\0", 1)[0].decode("utf-8", "backslashreplace")
                or ("@" + raw[3:].split(b"\0", 1)[0].decode("utf-8", "backslashreplace"))}
    s = _sock(head)
    return {k: s[k] for k in ("family", "daddr", "dport") if k in s} if fam in (2, 10) else s


def _caps(mask: int) -> list[str]:
    return [names.CAP_NAMES.get(i, f"CAP_{i}") for i in range(64) if mask >> i & 1]


def _cred(data: bytes) -> dict[str, Any]:
    uid, gid, suid, sgid, euid, egid, fsuid, fsgid, inh, prm, eff, userns = CRED.unpack_from(
        data.ljust(CRED.size, b"\0"))
    return {"uid": uid, "gid": gid, "euid": euid, "egid": egid, "suid": suid, "sgid": sgid,
            "fsuid": fsuid, "fsgid": fsgid,
            "caps": {"permitted": _caps(prm), "effective": _caps(eff), "inheritable": _caps(inh)},
            "user_ns": {"inum": userns}}


class Decoder:
    """Typed values of one event's arguments, as text and as Tetragon's JSON args."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def value(self, ap: ArgPlan | None, code: int, data: bytes, trunc: bool) -> tuple[str, dict]:
        if code in T.NUMBERS and not (code == 9 and len(data) > 8):
            raw = struct.unpack_from("<Q", data.ljust(8, b"\0"))[0]
            size, signed = T.NUMBERS[code]
            v = _signed(raw, size, signed)
            if code == 7:
                name = self.plan.syscall_names.get(v) or _syscall_name(v)
                return (name or str(v)), {"syscall_id": {"id": v, "abi": "x64"}}
            if code == 8:
                name = names.CAP_NAMES.get(v, str(v))
                return name, {"capability_arg": {"value": v, "name": name}}
            if code in (4, 5, 2, 22, 24):
                return str(v), {"size_arg" if code == 5 else "uint_arg": v}
            if code in (3, 6):
                return str(v), {"long_arg": v}
            return str(v), {"int_arg": v}
        if code == 9:   # an fd with the file it points to
            fd = _signed(struct.unpack_from("<Q", data)[0], 4, True)
            p = _path(data[8:], trunc)
            return f"{fd}<{p}>", {"int_arg": fd, "file_arg": {"path": p}}
        if code in (10, 15):
            s = data.decode("utf-8", "backslashreplace")
            return json.dumps(s, ensure_ascii=False) + ("..." if trunc else ""), {"string_arg": s}
        if code in (11, 12):
            text = json.dumps(data.decode("latin-1"), ensure_ascii=True) + ("..." if trunc else "")
            key = "truncated_bytes_arg" if trunc else "bytes_arg"
            b64 = base64.b64encode(data).decode()
            return text, {key: {"bytes_arg": b64, "orig_size": len(data)} if trunc else b64}
        if code in (13, 14):
            p = _path(data, trunc)
            return json.dumps(p), {"file_arg" if code == 13 else "path_arg": {"path": p}}
        if code in (17, 18):
            s = _sock(data)
            return _sock_text(s), {"sock_arg" if code == 17 else "skb_arg": s}
        if code == 16:
            s = _sockaddr(data)
            return _sock_text(s), {"sockaddr_arg": s}
        if code == 19:
            c = _cred(data)
            return (f"{{uid={c['uid']} euid={c['euid']} gid={c['gid']} egid={c['egid']}"
                    f" caps={'|'.join(c['caps']['effective']) or '0'}}}"), {"process_credentials_arg": c}
        return data.hex(), {"bytes_arg": base64.b64encode(data).decode()}


def _sock_text(s: dict[str, Any]) -> str:
    if "path" in s:
        return f"{{{s['family']} {json.dumps(s['path'])}}}"
    if "saddr" in s:
        return f"{{{s.get('protocol', s['family'])} {s['saddr']}:{s['sport']} -> {s['daddr']}:{s['dport']}}}"
    if "daddr" in s:
        return f"{{{s['family']} {s['daddr']}:{s['dport']}}}"
    return "{" + " ".join(f"{k}={v}" for k, v in s.items()) + "}"


_SYSCALLS: dict[int, str] = {}


def _syscall_name(nr: int) -> str | None:
    if not _SYSCALLS:
        from tracer.syscalls.table import numbers

        _SYSCALLS.update({v: k for k, v in numbers().items()})
    return _SYSCALLS.get(nr)


class Processes:
    """binary, arguments and container of a PID, read from /proc once per PID."""

    def __init__(self, container_of: Callable[[int], str | None] | None) -> None:
        self.container_of = container_of
        self.cache: dict[int, tuple[str, str]] = {}

    def info(self, pid: int, comm: str) -> tuple[str, str]:
        got = self.cache.get(pid)
        if got is None:
            proc = paths.procfs() / str(pid)
            try:
                binary = os.readlink(proc / "exe")
            except OSError:
                binary = comm
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                args = " ".join(a.decode("utf-8", "backslashreplace") for a in argv[1:] if a)
            except OSError:
                args = ""
            if len(self.cache) > CACHE:
                self.cache.clear()
            got = self.cache[pid] = (binary, args)
        return got

    def container(self, pid: int, cgroup: int) -> str:
        if not self.container_of:
            from tracer.containers import cache

            return cache.container_of_cgroup(cgroup) or ""
        of_cgroup = getattr(self.container_of, "of_cgroup", None)
        return (of_cgroup(cgroup) if of_cgroup else None) or self.container_of(pid) or ""


class PolicyLines:
    """Collects the lines of the records handed to handle(); take() hands them over."""

    def __init__(self, plan: Plan, as_json: bool = False,
                 container_of: Callable[[int], str | None] | None = None) -> None:
        self.plan = plan
        self.as_json = as_json
        self.dec = Decoder(plan)
        self.procs = Processes(container_of)
        self.tag = container_of is not None
        self.wall = time.time_ns() - time.monotonic_ns()
        self.node = socket.gethostname()
        self.out: list[str] = []
        self.count = 0
        # list hook id -> the functions it attached (a line names the alias among them)
        self.attached = {hp.id: frozenset(t for _, t, _ in hp.attach) for hp in plan.hooks
                         if hp.kind == T.K_KPROBE and hp.spec.call.startswith("list:")}

    def handle(self, buf: Any, offs: list[int]) -> None:
        for off in offs:
            self.out.append(self.line(parse(buf, off)))
        self.count += len(offs)

    def _name(self, hp: HookPlan, ev: Event) -> str:
        if hp.kind in (T.K_SYS_TP, T.K_SYS_KP):
            name = self.plan.syscall_names.get(ev.fn) or _syscall_name(ev.fn) or f"syscall_{ev.fn}"
            return f"sys_{name}"
        if hp.kind == T.K_KPROBE and hp.spec.call.startswith("list:"):
            return ksyms.attached_name(ev.fn, self.attached[hp.id]) or hp.title
        return hp.title

    def _args(self, hp: HookPlan, ev: Event) -> tuple[list[str], list[dict], tuple[str, dict] | None]:
        texts, objs = [], []
        for ap in hp.args:
            got = ev.args.get(ap.slot)
            if got is None:
                continue
            text, obj = self.dec.value(ap, got[0], got[1], got[2])
            if ap.label:
                obj = {**obj, "label": ap.label}
            texts.append(f"{ap.label}={text}" if ap.label else text)
            objs.append(obj)
        ret = None
        if ev.ret is not None:
            got = ev.args.get(T.RET_SLOT)
            if got is not None:
                ret = self.dec.value(None, got[0], got[1], got[2])
            else:
                code = hp.ret_code or 1
                ret = self.dec.value(None, code, struct.pack("<q", ev.ret), False)
                if code in (1, 3, 6) and ev.ret < 0 and hp.kind in (T.K_SYS_TP, T.K_SYS_KP):
                    err = -ev.ret
                    ret = (f"{ev.ret} {_errno(err)}", ret[1])
        return texts, objs, ret

    def _action(self, ev: Event) -> str:
        if ev.action & T.ACT_OVERRIDE:
            return "Override"
        if ev.action & T.ACT_SIGNAL:
            return "Signal"
        return "Post"

    def line(self, ev: Event) -> str:
        hp = self.plan.hooks[ev.hook]
        texts, objs, ret = self._args(hp, ev)
        stamp = "%d.%09d" % divmod(ev.ts + self.wall, 1_000_000_000)  # noqa: UP031
        action = self._action(ev)
        if hp.spec.selectors and any(a.action == "Sigkill" for s in hp.spec.selectors for a in s.actions) \
                and action == "Signal":
            action = "Sigkill"
        cid = self.procs.container(ev.tgid, ev.cgroup) if (self.tag or self.as_json) else ""
        name = self._name(hp, ev)
        if not self.as_json:
            kind = {T.K_TP: "tracepoint", T.K_UPROBE: "uprobe"}.get(hp.kind, "kprobe")
            text = (f"{stamp} {ev.comm} {ev.tgid}/{ev.tid}{' ' + cid if cid and self.tag else ''}"
                    f" {self.plan.policy.name} {kind} {name}({', '.join(texts)})")
            if ret is not None:
                text += f" = {ret[0]}"
            if action != "Post":
                text += f" [{action}]"
            return text + "\n"
        binary, arguments = self.procs.info(ev.tgid, ev.comm)
        process = {"pid": ev.tgid, "tid": ev.tid, "binary": binary, "arguments": arguments,
                   "comm": ev.comm}
        if cid:
            process["docker"] = cid
        body: dict[str, Any] = {"process": process}
        if hp.kind == T.K_TP:
            body["subsys"], body["event"] = hp.spec.subsystem, hp.spec.event
            key = "process_tracepoint"
        elif hp.kind == T.K_UPROBE:
            body["path"], body["symbol"] = hp.title.rsplit(":", 1)
            key = "process_uprobe"
        else:
            body["function_name"] = name if hp.kind == T.K_KPROBE else f"__x64_{name}"
            key = "process_kprobe"
        body["args"] = objs
        if ret is not None:
            body["return"] = ret[1]
        body["action"] = "KPROBE_ACTION_" + action.upper()
        body["policy_name"] = self.plan.policy.name
        if hp.spec.message:
            body["message"] = hp.spec.message
        if hp.spec.tags:
            body["tags"] = hp.spec.tags
        t = datetime.datetime.fromtimestamp((ev.ts + self.wall) / 1e9, datetime.timezone.utc)
        return json.dumps({key: body, "node_name": self.node,
                           "time": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}) + "\n"

    def flush(self) -> None:
        """At the end of a trace: nothing is held back here (the consumer's interface)."""

    def take(self) -> tuple[str, int]:
        text, n = "".join(self.out), self.count
        self.out.clear()
        self.count = 0
        return text, n


def _errno(err: int) -> str:
    import errno as _e

    name = _e.errorcode.get(err)
    return f"{name} ({os.strerror(err)})" if name else ""
