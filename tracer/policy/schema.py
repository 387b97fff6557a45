"""Read a TracingPolicy YAML file into checked dataclasses (Tetragon's schema, a subset).

Everything here is about the file alone: unknown fields, wrong types, bad
operators, too many values. What depends on the kernel (does this tracepoint,
function or symbol exist?) is checked in plan.py. Every error names the field
by its path in the file (`spec.kprobes[0].args[1].type`) and says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracer.errors import TracerError

API_VERSION = "cilium.io/v1alpha1"
KINDS = ("TracingPolicy", "TracingPolicyNamespaced")

NUMERIC = ("int", "uint32", "int64", "uint64", "size_t", "long", "syscall64", "capability", "fd",
           "uint8", "int8", "uint16", "int16", "s64", "u64", "s32", "u32")
STRINGS = ("string", "char_buf", "char_iovec", "file", "path", "filename")
SOCKETS = ("sockaddr", "sock", "skb")
TYPES = NUMERIC + STRINGS + SOCKETS + ("cred", "nop")

NUM_OPS = ("Equal", "NotEqual", "GT", "LT", "Mask", "InMap", "NotInMap")
STR_OPS = ("Equal", "NotEqual", "Prefix", "NotPrefix", "Postfix", "NotPostfix")
SOCK_OPS = ("SPort", "NotSPort", "DPort", "NotDPort", "SPortPriv", "NotSPortPriv", "DPortPriv",
            "NotDPortPriv", "SAddr", "NotSAddr", "DAddr", "NotDAddr", "Protocol", "Family")
ACTIONS = ("Post", "NoPost", "Sigkill", "Signal", "Override")
REFUSED_ACTIONS = ("FollowFD", "UnfollowFD", "CopyFD", "GetUrl", "DnsLookup", "TrackSock",
                   "UntrackSock", "NotifyEnforcer", "CleanupEnforcerNotification", "Set")
NAMESPACES = ("Uts", "Ipc", "Mnt", "Pid", "PidForChildren", "Net", "Time", "TimeForChildren",
              "Cgroup", "User")
CAP_TYPES = ("Effective", "Inheritable", "Permitted")
LIST_TYPES = ("syscalls", "generated_syscalls", "generated_ftrace")

MAX_ARGS = 5          # arguments per hook (Tetragon's limit too)
MAX_SELECTORS = 5     # selectors per hook
MAX_FILTERS = 4       # matchArgs / matchReturnArgs entries per selector
MAX_VALUES = 64       # values of one filter
MAX_STR = 240         # bytes of a string value a filter compares
MAX_BUF = 4096        # char_buf bytes by default; maxData raises it to MAX_DATA
MAX_DATA = 12288


@dataclass
class Arg:
    index: int
    type: str
    label: str = ""
    size_arg: int = 0       # sizeArgIndex: 1-based, 0 = none
    return_copy: bool = False
    max_data: bool = False
    path: str = ""          # where in the file, for errors found later


@dataclass
class Filter:           # one matchArgs / matchReturnArgs entry
    index: int
    operator: str
    values: list[Any]
    path: str = ""


@dataclass
class PidFilter:
    operator: str
    values: list[int]
    follow_forks: bool = False
    namespace_pid: bool = False  # the values are PIDs as the process's own PID namespace sees them


@dataclass
class BinFilter:
    operator: str
    values: list[str]
    path: str = ""


@dataclass
class NsFilter:
    namespace: str
    operator: str
    values: list[str]
    path: str = ""


@dataclass
class CapFilter:
    type: str
    operator: str
    values: list[str]


@dataclass
class Action:
    action: str
    arg_sig: int = 0
    arg_error: int = 0
    rate_limit_ns: int = 0


@dataclass
class Selector:
    pids: list[PidFilter] = field(default_factory=list)
    args: list[Filter] = field(default_factory=list)
    return_args: list[Filter] = field(default_factory=list)
    binaries: list[BinFilter] = field(default_factory=list)
    namespaces: list[NsFilter] = field(default_factory=list)
    capabilities: list[CapFilter] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


@dataclass
class Hook:
    kind: str                       # "kprobe" | "tracepoint" | "uprobe"
    path: str                       # where in the file: spec.kprobes[0]
    args: list[Arg] = field(default_factory=list)
    selectors: list[Selector] = field(default_factory=list)
    message: str = ""
    tags: list[str] = field(default_factory=list)
    # kprobe
    call: str = ""
    syscall: bool = False
    ret: bool = False
    ret_arg: Arg | None = None
    # tracepoint
    subsystem: str = ""
    event: str = ""
    # uprobe
    binary: str = ""
    symbols: list[str] = field(default_factory=list)


@dataclass
class PolicyList:
    name: str
    type: str
    values: list[str]
    pattern: str = ""
    path: str = ""


@dataclass
class Policy:
    name: str
    file: str
    description: str
    hooks: list[Hook]
    lists: dict[str, PolicyList]


class PolicyError(TracerError):
    pass


class _Ctx:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, why: str) -> PolicyError:
        return PolicyError(f"policy {self.file}: {where}: {why}")

    def mapping(self, node: Any, where: str, allowed: dict[str, type | tuple],
                required: tuple[str, ...] = (), ignored: tuple[str, ...] = ()) -> dict:
        if not isinstance(node, dict):
            raise self.fail(where, f"must be a mapping, not {_kind(node)}")
        for key, value in node.items():
            if key in ignored:
                continue
            if key not in allowed:
                hint = _closest(str(key), allowed)
                raise self.fail(f"{where}.{key}", "unknown field" + (f" (did you mean '{hint}'?)"
                                                                     if hint else
                                                                     f"; known: {', '.join(allowed)}"))
            want = allowed[key]
            if want is int and isinstance(value, bool) or not isinstance(value, want):
                raise self.fail(f"{where}.{key}", f"must be {_want(want)}, not {_kind(value)}")
        for key in required:
            if key not in node:
                raise self.fail(where, f"missing field '{key}'")
        return node

    def seq(self, node: Any, where: str, limit: int | None = None) -> list:
        if node is None:
            return []
        if not isinstance(node, list):
            raise self.fail(where, f"must be a list, not {_kind(node)}")
        if limit is not None and len(node) > limit:
            raise self.fail(where, f"too many entries ({len(node)}; at most {limit})")
        return node

    def choice(self, value: Any, where: str, options: tuple[str, ...]) -> str:
        if value not in options:
            raise self.fail(where, f"'{value}' is not one of {', '.join(options)}")
        return value


def _kind(v: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "empty"}.get(type(v), type(v).__name__)


def _want(t: type | tuple) -> str:
    ts = t if isinstance(t, tuple) else (t,)
    return " or ".join(_kind(x()) if x is not type(None) else "empty" for x in ts)


def _closest(key: str, known: dict) -> str | None:
    import difflib

    m = difflib.get_close_matches(key, list(known), n=1, cutoff=0.7)
    return m[0] if m else None


_DURATION = re.compile(r"(\d+)\s*(ms|s|m|h)?")


def parse_rate(text: str) -> int:
    """Tetragon's rateLimit ("1m", "5s", "100ms", a number of seconds) in nanoseconds."""
    m = _DURATION.fullmatch(str(text).strip())
    if not m:
        raise ValueError(text)
    scale = {"ms": 10**6, "s": 10**9, None: 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}[m.group(2)]
    return int(m.group(1)) * scale


STR_T = str
INT_T = int
ANY_SCALAR = (str, int)


def _arg(c: _Ctx, node: Any, where: str, ret: bool = False) -> Arg:
    allowed = {"index": int, "type": str, "label": str, "sizeArgIndex": int, "returnCopy": bool,
               "maxData": bool, "resolve": str, "btfType": str}
    c.mapping(node, where, allowed, () if ret else ("index", "type"))
    if "type" not in node:
        raise c.fail(where, "missing field 'type'")
    if node.get("resolve") or node.get("btfType"):
        raise c.fail(f"{where}.resolve", "BTF resolve paths are not supported; use a type that names"
                     " the structure (file, path, sock, cred ...)")
    t = c.choice(node["type"], f"{where}.type", TYPES)
    index = node.get("index", 0)
    if index < 0 or index > 15:
        raise c.fail(f"{where}.index", f"{index} is out of range (0 to 15)")
    size_arg = node.get("sizeArgIndex", 0)
    if size_arg and t not in ("char_buf", "char_iovec"):
        raise c.fail(f"{where}.sizeArgIndex", "only char_buf and char_iovec take a size argument")
    if size_arg < 0 or size_arg > 6:
        raise c.fail(f"{where}.sizeArgIndex", f"{size_arg} is out of range (1-based, 1 to 6)")
    if t in ("char_buf", "char_iovec") and not size_arg and not ret:
        raise c.fail(where, f"type {t} needs sizeArgIndex (the 1-based index of its size argument)")
    if (node.get("returnCopy") or node.get("maxData")) and t != "char_buf":
        raise c.fail(where, "returnCopy and maxData apply to char_buf only")
    if node.get("returnCopy") and node.get("maxData"):
        raise c.fail(f"{where}.maxData", "cannot be combined with returnCopy")
    return Arg(index, t, node.get("label", ""), size_arg, node.get("returnCopy", False),
               node.get("maxData", False), where)


def _values(c: _Ctx, node: Any, where: str) -> list:
    vals = c.seq(node, where, MAX_VALUES)
    for i, v in enumerate(vals):
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise c.fail(f"{where}[{i}]", f"must be a string or an integer, not {_kind(v)}")
    return vals


def _filters(c: _Ctx, node: Any, where: str) -> list[Filter]:
    out = []
    for i, f in enumerate(c.seq(node, where, MAX_FILTERS)):
        w = f"{where}[{i}]"
        c.mapping(f, w, {"index": int, "operator": str, "values": list, "args": list}, ("operator",))
        if "args" in f:
            raise c.fail(f"{w}.args", "multi-argument filters are not supported; use index")
        op = c.choice(f["operator"], f"{w}.operator", tuple(dict.fromkeys(NUM_OPS + STR_OPS + SOCK_OPS)))
        vals = _values(c, f.get("values"), f"{w}.values")
        if not vals:
            raise c.fail(f"{w}.values", "needs at least one value")
        if op in ("GT", "LT") and len(vals) != 1:
            raise c.fail(f"{w}.values", f"{op} takes exactly one value")
        out.append(Filter(f.get("index", 0), op, vals, w))
    return out


def _selector(c: _Ctx, node: Any, where: str) -> Selector:
    allowed = {"matchPIDs": list, "matchArgs": list, "matchReturnArgs": list, "matchBinaries": list,
               "matchNamespaces": list, "matchCapabilities": list, "matchActions": list,
               "matchReturnActions": list, "matchNamespaceChanges": list,
               "matchCapabilityChanges": list}
    c.mapping(node, where, allowed)
    for unsupported in ("matchNamespaceChanges", "matchCapabilityChanges", "matchReturnActions"):
        if unsupported in node:
            raise c.fail(f"{where}.{unsupported}", "is not supported by this tracer")
    sel = Selector()
    for i, p in enumerate(c.seq(node.get("matchPIDs"), f"{where}.matchPIDs", 2)):
        w = f"{where}.matchPIDs[{i}]"
        c.mapping(p, w, {"operator": str, "values": list, "followForks": bool, "isNamespacePID": bool},
                  ("operator", "values"))
        op = c.choice(p["operator"], f"{w}.operator", ("In", "NotIn"))
        if p.get("isNamespacePID") and p.get("followForks"):
            raise c.fail(f"{w}.followForks", "cannot follow forks of PIDs given inside their PID"
                         " namespace (isNamespacePID: true); give one or the other")
        vals = _values(c, p["values"], f"{w}.values")
        if not vals or not all(isinstance(v, int) and v > 0 for v in vals):
            raise c.fail(f"{w}.values", "must be a list of positive PIDs")
        sel.pids.append(PidFilter(op, vals, p.get("followForks", False), p.get("isNamespacePID", False)))
    sel.args = _filters(c, node.get("matchArgs"), f"{where}.matchArgs")
    sel.return_args = _filters(c, node.get("matchReturnArgs"), f"{where}.matchReturnArgs")
    for i, b in enumerate(c.seq(node.get("matchBinaries"), f"{where}.matchBinaries", 1)):
        w = f"{where}.matchBinaries[{i}]"
        c.mapping(b, w, {"operator": str, "values": list, "followChildren": bool}, ("operator", "values"))
        if b.get("followChildren"):
            raise c.fail(f"{w}.followChildren", "is not supported; children of a matched binary are"
                         " matched by their own binary")
        op = c.choice(b["operator"], f"{w}.operator",
                      ("In", "NotIn", "Prefix", "NotPrefix", "Postfix", "NotPostfix"))
        vals = _values(c, b["values"], f"{w}.values")
        if not vals or not all(isinstance(v, str) and 0 < len(v) <= MAX_STR for v in vals):
            raise c.fail(f"{w}.values", f"must be a list of paths of 1 to {MAX_STR} bytes")
        sel.binaries.append(BinFilter(op, vals, w))
    for i, n in enumerate(c.seq(node.get("matchNamespaces"), f"{where}.matchNamespaces", 3)):
        w = f"{where}.matchNamespaces[{i}]"
        c.mapping(n, w, {"namespace": str, "operator": str, "values": list},
                  ("namespace", "operator", "values"))
        ns = c.choice(n["namespace"], f"{w}.namespace", NAMESPACES)
        op = c.choice(n["operator"], f"{w}.operator", ("In", "NotIn"))
        vals = [str(v) for v in _values(c, n["values"], f"{w}.values")]
        for j, v in enumerate(vals):
            if v != "host_ns" and not v.isdigit():
                raise c.fail(f"{w}.values[{j}]", f"'{v}' is neither a namespace inode number nor host_ns")
        sel.namespaces.append(NsFilter(ns, op, vals, w))
    for i, k in enumerate(c.seq(node.get("matchCapabilities"), f"{where}.matchCapabilities", 1)):
        w = f"{where}.matchCapabilities[{i}]"
        c.mapping(k, w, {"type": str, "operator": str, "values": list, "isNamespaceCapability": bool},
                  ("operator", "values"))
        if k.get("isNamespaceCapability"):
            raise c.fail(f"{w}.isNamespaceCapability", "is not supported")
        from tracer.policy import names

        vals = [str(v) for v in _values(c, k["values"], f"{w}.values")]
        for j, v in enumerate(vals):
            if v not in names.CAPABILITIES:
                raise c.fail(f"{w}.values[{j}]", f"unknown capability '{v}' (e.g. CAP_SYS_ADMIN)")
        sel.capabilities.append(CapFilter(c.choice(k.get("type", "Effective"), f"{w}.type", CAP_TYPES),
                                          c.choice(k["operator"], f"{w}.operator", ("In", "NotIn")), vals))
    for i, a in enumerate(c.seq(node.get("matchActions"), f"{where}.matchActions", 3)):
        w = f"{where}.matchActions[{i}]"
        c.mapping(a, w, {"action": str, "argSig": int, "argError": int, "rateLimit": (str, int),
                         "rateLimitScope": str, "kernelStackTrace": bool, "userStackTrace": bool,
                         "argFd": int, "argName": int, "argUrl": str, "argFqdn": str, "imaHash": bool},
                  ("action",))
        name = a["action"]
        if name in REFUSED_ACTIONS:
            raise c.fail(f"{w}.action", f"{name} is not supported by this tracer")
        name = c.choice(name, f"{w}.action", ACTIONS)
        for unsupported in ("kernelStackTrace", "userStackTrace", "imaHash", "argFd", "argName",
                            "argUrl", "argFqdn"):
            if a.get(unsupported):
                raise c.fail(f"{w}.{unsupported}", "is not supported")
        if name == "Signal" and not 1 <= a.get("argSig", 0) <= 64:
            raise c.fail(f"{w}.argSig", "Signal needs argSig, a signal number 1 to 64")
        if a.get("rateLimitScope", "thread") not in ("thread", "process", "global"):
            raise c.fail(f"{w}.rateLimitScope", "must be thread, process or global")
        rate = 0
        if "rateLimit" in a:
            if name != "Post":
                raise c.fail(f"{w}.rateLimit", "applies to the Post action only")
            try:
                rate = parse_rate(a["rateLimit"])
            except ValueError:
                raise c.fail(f"{w}.rateLimit", f"'{a['rateLimit']}' is not a duration such as 5s, 1m"
                             " or 100ms") from None
        sel.actions.append(Action(name, a.get("argSig", 9 if name == "Sigkill" else 0),
                                  a.get("argError", 0), rate))
    return sel


def _common(c: _Ctx, node: dict, where: str, hook: Hook) -> None:
    hook.args = [_arg(c, a, f"{where}.args[{i}]")
                 for i, a in enumerate(c.seq(node.get("args"), f"{where}.args", MAX_ARGS))]
    seen: set[int] = set()
    for a in hook.args:
        if a.index in seen and hook.kind != "tracepoint":
            raise c.fail(f"{a.path}.index", f"argument {a.index} is listed twice")
        seen.add(a.index)
    hook.selectors = [_selector(c, s, f"{where}.selectors[{i}]")
                      for i, s in enumerate(c.seq(node.get("selectors"), f"{where}.selectors",
                                                  MAX_SELECTORS))]
    hook.message = node.get("message", "")
    hook.tags = [str(t) for t in c.seq(node.get("tags"), f"{where}.tags", 16)]


HOOK_COMMON = {"args": list, "selectors": list, "message": str, "tags": list}


def _kprobe(c: _Ctx, node: Any, where: str) -> Hook:
    c.mapping(node, where, {**HOOK_COMMON, "call": str, "syscall": bool, "return": bool,
                            "returnArg": dict, "returnArgAction": str, "ignore": dict}, ("call",))
    if node.get("returnArgAction"):
        raise c.fail(f"{where}.returnArgAction", "socket tracking is not supported")
    h = Hook("kprobe", where, call=node["call"], syscall=node.get("syscall", False),
             ret=node.get("return", False))
    if "returnArg" in node:
        h.ret_arg = _arg(c, node["returnArg"], f"{where}.returnArg", ret=True)
        if not h.ret:
            raise c.fail(f"{where}.returnArg", "needs 'return: true'")
    if h.ret and h.ret_arg is None:
        h.ret_arg = Arg(0, "int", "", path=f"{where}.returnArg")
    _common(c, node, where, h)
    return h


def _tracepoint(c: _Ctx, node: Any, where: str) -> Hook:
    c.mapping(node, where, {**HOOK_COMMON, "subsystem": str, "event": str, "raw": bool},
              ("subsystem", "event"))
    if node.get("raw"):
        raise c.fail(f"{where}.raw", "raw tracepoints are not supported; leave raw out")
    h = Hook("tracepoint", where, subsystem=node["subsystem"], event=node["event"])
    _common(c, node, where, h)
    return h


def _uprobe(c: _Ctx, node: Any, where: str) -> Hook:
    c.mapping(node, where, {**HOOK_COMMON, "path": str, "symbols": list, "symbol": str,
                            "return": bool, "returnArg": dict, "offsets": list,
                            "refCtrOffsets": list}, ("path",))
    for unsupported in ("offsets", "refCtrOffsets"):
        if node.get(unsupported):
            raise c.fail(f"{where}.{unsupported}", "is not supported; name symbols")
    symbols = [str(s) for s in c.seq(node.get("symbols"), f"{where}.symbols", 16)]
    if node.get("symbol"):
        symbols.append(node["symbol"])
    if not symbols:
        raise c.fail(where, "needs 'symbols' (the functions of the binary to hook)")
    h = Hook("uprobe", where, binary=node["path"], symbols=symbols, ret=node.get("return", False))
    if "returnArg" in node:
        h.ret_arg = _arg(c, node["returnArg"], f"{where}.returnArg", ret=True)
    if h.ret and h.ret_arg is None:
        h.ret_arg = Arg(0, "int", "", path=f"{where}.returnArg")
    _common(c, node, where, h)
    return h


def _lists(c: _Ctx, node: Any) -> dict[str, PolicyList]:
    out: dict[str, PolicyList] = {}
    for i, n in enumerate(c.seq(node, "spec.lists", 16)):
        w = f"spec.lists[{i}]"
        c.mapping(n, w, {"name": str, "type": str, "values": list, "pattern": str, "validated": bool},
                  ("name",))
        t = c.choice(n.get("type", "syscalls"), f"{w}.type", LIST_TYPES)
        vals = [str(v) for v in c.seq(n.get("values"), f"{w}.values", 512)]
        if t == "syscalls" and not vals:
            raise c.fail(f"{w}.values", "a syscalls list needs values")
        if t == "generated_ftrace":
            if not n.get("pattern"):
                raise c.fail(w, "a generated_ftrace list needs 'pattern' (a regular expression)")
            try:
                re.compile(n["pattern"])
            except re.error as e:
                raise c.fail(f"{w}.pattern", f"not a regular expression: {e}") from None
        if n["name"] in out:
            raise c.fail(f"{w}.name", f"list '{n['name']}' is defined twice")
        out[n["name"]] = PolicyList(n["name"], t, vals, n.get("pattern", ""), w)
    return out


def parse(data: Any, file: str) -> Policy:
    """The checked policy in `data` (a parsed YAML document) read from `file`."""
    c = _Ctx(file)
    c.mapping(data, "the document", {"apiVersion": str, "kind": str, "metadata": dict, "spec": dict},
              ("apiVersion", "kind", "metadata", "spec"))
    if data["apiVersion"] != API_VERSION:
        raise c.fail("apiVersion", f"'{data['apiVersion']}' is not {API_VERSION}")
    c.choice(data["kind"], "kind", KINDS)
    meta = c.mapping(data["metadata"], "metadata", {"name": str, "namespace": str, "annotations": dict,
                                                     "labels": dict}, ("name",))
    if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?", meta["name"]):
        raise c.fail("metadata.name", f"'{meta['name']}' is not a DNS name (lowercase letters, digits,"
                     " '-', '.')")
    spec = c.mapping(data["spec"], "spec", {"kprobes": list, "tracepoints": list, "uprobes": list,
                                            "lists": list, "options": list, "podSelector": dict,
                                            "containerSelector": dict, "loader": bool,
                                            "enforcers": list})
    for unsupported in ("podSelector", "containerSelector", "loader", "enforcers"):
        if spec.get(unsupported):
            raise c.fail(f"spec.{unsupported}", "is not supported by this tracer; target pods with"
                         " --container or --pid")
    for i, o in enumerate(c.seq(spec.get("options"), "spec.options", 16)):
        c.mapping(o, f"spec.options[{i}]", {"name": str, "value": (str, int, bool)}, ("name",))
    hooks = [_kprobe(c, k, f"spec.kprobes[{i}]")
             for i, k in enumerate(c.seq(spec.get("kprobes"), "spec.kprobes", 64))]
    hooks += [_tracepoint(c, t, f"spec.tracepoints[{i}]")
              for i, t in enumerate(c.seq(spec.get("tracepoints"), "spec.tracepoints", 64))]
    hooks += [_uprobe(c, u, f"spec.uprobes[{i}]")
              for i, u in enumerate(c.seq(spec.get("uprobes"), "spec.uprobes", 64))]
    if not hooks:
        raise c.fail("spec", "defines no hook: give kprobes, tracepoints or uprobes")
    annotations = meta.get("annotations") or {}
    desc = str(annotations.get("description", "")) or next((h.message for h in hooks if h.message), "")
    return Policy(meta["name"], file, desc, hooks, _lists(c, spec.get("lists")))


def load(path: str | Path) -> Policy:
    """Read and check the policy file at `path` (one YAML document)."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise PolicyError(f"policy {path}: {e.strerror or e}") from None
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "the file"
        raise PolicyError(f"policy {path}: {where}: not valid YAML ({getattr(e, 'problem', e)})") from None
    if len(docs) != 1:
        raise PolicyError(f"policy {path}: holds {len(docs)} YAML documents; give exactly one TracingPolicy")
    return parse(docs[0], str(path))
