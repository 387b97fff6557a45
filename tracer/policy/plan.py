"""Resolve a checked policy against this kernel: what each hook attaches to, where each
argument is read from, which filter values go into which BPF map.

Everything a user can get wrong about the kernel (an unknown tracepoint, function,
syscall or symbol, an argument index the event does not have, a kprobe this
kernel cannot place) is found here, before anything is loaded.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from tracer.errors import TracerError
from tracer.policy import names, schema
from tracer.policy import types as T
from tracer.policy.schema import PolicyError

FEW = 8  # syscalls a hook catches by their own tracepoints; more: the raw sys_enter one
ERROR_INJECTION_LIST = Path("/sys/kernel/debug/error_injection/list")


@dataclass
class ArgPlan:
    slot: int
    index: int
    type: str
    code: int
    label: str
    frm: int = 0            # tracepoint: field offset; else function argument number
    size: int = 8
    signed: bool = False
    user: int = 0           # 0 kernel memory, 1 user memory, 2 try kernel then user
    loc: bool = False
    array: bool = False
    size_arg: int = 0
    max: int = 4096
    retcopy: bool = False


@dataclass
class HookPlan:
    id: int
    spec: schema.Hook
    kind: int
    title: str              # what the output names: sys_openat, syscalls/sys_enter_openat, /bin/bash:readline
    attach: list[tuple[str, str, str]] = field(default_factory=list)  # (how, target, program)
    syscalls: list[int] = field(default_factory=list)   # a list hook's syscall numbers
    sysset: bool = False
    args: list[ArgPlan] = field(default_factory=list)
    ret: bool = False
    ret_code: int = 0
    ret_user: int = 0
    defines: dict[str, int | str] = field(default_factory=dict)
    override: bool = False


@dataclass
class Plan:
    policy: schema.Policy
    hooks: list[HookPlan]
    nums: list[tuple[int, int]] = field(default_factory=list)             # (filter, value)
    strs: list[tuple[int, bytes]] = field(default_factory=list)           # (filter, bytes)
    suffixes: dict[int, list[int]] = field(default_factory=dict)          # Postfix filter -> lengths
    addrs: list[tuple[int, bytes, int]] = field(default_factory=list)     # (filter, addr16, bits)
    follow: list[int] = field(default_factory=list)                       # matchPIDs followForks ids
    binaries: bool = False
    btf: dict[str, int] = field(default_factory=dict)
    fork_child_off: int = 0
    syscall_names: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SyscallRef:
    nr: int
    name: str
    event: str


class Kernel:
    """What plan() asks of the kernel; tests give a fake."""

    def __init__(self, tracefs: Path, kprobes: bool) -> None:
        self.tracefs = tracefs
        self.kprobes = kprobes and os.environ.get("TRACER_POLICY_SYSCALLS") != "tracepoint"
        self._funcs: set[str] | None = None
        self._syscalls: dict[str, SyscallRef] | None = None

    def syscalls(self) -> dict[str, SyscallRef]:
        """name -> syscall of every syscall this kernel has tracepoints for (numbers: x86_64 ABI).

        Only the event directories are listed: reading 700 format files would cost the
        manager's --get-all (which checks every policy) most of a second."""
        if self._syscalls is None:
            from tracer.syscalls.table import TRACEPOINT_ALIASES, numbers

            nums = numbers()
            found: dict[str, SyscallRef] = {}
            for d in (self.tracefs / "events/syscalls").glob("sys_enter_*"):
                event = d.name[len("sys_enter_"):]
                name = TRACEPOINT_ALIASES.get(event, event)
                if name in nums:
                    found[name] = SyscallRef(nums[name], name, event)
            self._syscalls = found
        return self._syscalls

    def tracepoint_format(self, subsystem: str, event: str) -> str | None:
        p = self.tracefs / "events" / subsystem / event / "format"
        try:
            return p.read_text()
        except OSError:
            return None

    def functions(self) -> set[str]:
        if self._funcs is None:
            found: set[str] = set()
            for p in (self.tracefs / "available_filter_functions", Path("/proc/kallsyms")):
                try:
                    text = p.read_text()
                except OSError:
                    continue
                for ln in text.splitlines():
                    parts = ln.split()
                    if not parts:
                        continue
                    name = parts[0] if p.name.startswith("available") else (parts[2] if len(parts) > 2
                                                                             else "")
                    found.add(name)
                if found:
                    break
            self._funcs = found
        return self._funcs

    def error_injectable(self) -> set[str] | None:
        """The functions the kernel lets a BPF program override; None: it tells of none (built
        without CONFIG_FUNCTION_ERROR_INJECTION, or debugfs is not mounted)."""
        try:
            text = ERROR_INJECTION_LIST.read_text()
        except OSError:
            return None
        return {ln.split()[0] for ln in text.splitlines() if ln.strip()}


def kernel_of(caps: object) -> Kernel:
    """The Kernel of a capability probe (tracer.capabilities.Capabilities)."""
    from tracer import capabilities as cap

    if caps.tracefs is None:  # type: ignore[attr-defined]
        raise TracerError(caps.reason(cap.TRACEFS))  # type: ignore[attr-defined]
    return Kernel(caps.tracefs, caps.has(cap.KPROBES))  # type: ignore[attr-defined]


_FIELD = re.compile(r"field:(?P<decl>[^;]+);\s*offset:(?P<off>\d+);\s*size:(?P<size>\d+);"
                    r"\s*signed:(?P<signed>\d+);")


@dataclass
class TpField:
    name: str
    decl: str
    offset: int
    size: int
    signed: bool

    @property
    def loc(self) -> bool:
        return self.decl.startswith("__data_loc")

    @property
    def array(self) -> bool:
        return self.decl.endswith("]") and not self.loc

    @property
    def pointer(self) -> bool:
        return "*" in self.decl


def tp_fields(text: str) -> list[TpField]:
    out = []
    for m in _FIELD.finditer(text):
        decl = m["decl"].strip()
        name = re.sub(r"\[.*\]$", "", decl).split()[-1].lstrip("*")
        out.append(TpField(name, decl, int(m["off"]), int(m["size"]), m["signed"] == "1"))
    return out


def binary_aliases(values: list) -> list[str]:
    """Each path and the other names of the same file: the kernel records the path exec was
    given (/bin/cat) and /proc the resolved one (/usr/bin/cat) on merged-/usr systems."""
    out: list[str] = []
    for v in map(str, values):
        names = [v, os.path.realpath(v)]
        for short in ("/bin", "/sbin", "/lib", "/lib64"):
            if os.path.islink(short) and os.path.realpath(short) == "/usr" + short:
                if v.startswith("/usr" + short + "/"):
                    names.append(v[4:])
                elif v.startswith(short + "/"):
                    names.append("/usr" + v)
        out += [n for n in dict.fromkeys(names) if n not in out]
    return out


def syscall_name(call: str) -> str:
    """sys_openat, __x64_sys_openat, __se_sys_openat -> openat."""
    for prefix in ("__x64_sys_", "__se_sys_", "__do_sys_", "sys_"):
        if call.startswith(prefix):
            return call[len(prefix):]
    return call


class _Builder:
    def __init__(self, policy: schema.Policy, kernel: Kernel) -> None:
        self.policy = policy
        self.k = kernel
        self.plan = Plan(policy, [])
        self.next_filter = 1

    def fail(self, where: str, why: str) -> PolicyError:
        return PolicyError(f"policy {self.policy.file}: {where}: {why}")

    # -- hooks ---------------------------------------------------------------------------------
    def build(self) -> Plan:
        for h in self.policy.hooks:
            if h.kind == "kprobe":
                self.kprobe(h)
            elif h.kind == "tracepoint":
                self.tracepoint(h)
            else:
                self.uprobe(h)
        if len(self.plan.hooks) > T.POL_MAX_HOOKS:
            raise self.fail("spec", f"{len(self.plan.hooks)} hook points; at most {T.POL_MAX_HOOKS}")
        return self.plan

    def new_hook(self, h: schema.Hook, kind: int, title: str) -> HookPlan:
        hp = HookPlan(len(self.plan.hooks), h, kind, title)
        self.plan.hooks.append(hp)
        return hp

    def calls(self, h: schema.Hook) -> tuple[list[str], bool]:
        """The functions a kprobe names (a list expanded) and whether they are syscalls."""
        if not h.call.startswith("list:"):
            return [h.call], h.syscall
        name = h.call[5:]
        lst = self.policy.lists.get(name)
        if lst is None:
            raise self.fail(f"{h.path}.call", f"no list named '{name}' in spec.lists")
        if lst.type == "generated_syscalls":
            return [f"sys_{n}" for n in sorted(self.k.syscalls())], True
        if lst.type == "generated_ftrace":
            pat = re.compile(lst.pattern)
            found = sorted(f for f in self.k.functions() if pat.search(f))
            if not self.k.kprobes:
                raise self.fail(f"{h.path}.call", f"list '{name}' (generated_ftrace) needs kprobes, which"
                                " this kernel lacks (CONFIG_KPROBES off); use syscalls or tracepoints")
            if not found:
                raise self.fail(f"{lst.path}.pattern", f"'{lst.pattern}' matches no kernel function")
            return found, False
        return lst.values, True

    def kprobe(self, h: schema.Hook) -> None:
        calls, is_syscall = self.calls(h)
        if is_syscall:
            tab = self.k.syscalls()
            scs = []
            for c in calls:
                if c.startswith("__ia32_") or c.startswith("__x32_"):
                    raise self.fail(f"{h.path}.call", f"'{c}': 32-bit syscalls are not supported")
                n = syscall_name(c)
                sc = tab.get(n)
                if sc is None:
                    raise self.fail(f"{h.path}.call", f"'{c}' is not a syscall of this kernel (no"
                                    f" syscalls/sys_enter_{n} tracepoint)")
                scs.append(sc)
            kind = T.K_SYS_KP if self.k.kprobes else T.K_SYS_TP
            title = f"sys_{scs[0].name}" if len(scs) == 1 else h.call
            hp = self.new_hook(h, kind, title)
            hp.syscalls = [sc.nr for sc in scs]
            self.plan.syscall_names.update({sc.nr: sc.name for sc in scs})
            if kind == T.K_SYS_KP:
                for sc in scs:
                    hp.attach.append(("kprobe", f"__x64_sys_{sc.event}", f"pol_front_{hp.id}"))
                    if h.ret:
                        hp.attach.append(("kretprobe", f"__x64_sys_{sc.event}", f"pol_rfront_{hp.id}"))
            elif len(scs) <= FEW:
                for sc in scs:
                    hp.attach.append(("tracepoint", f"syscalls:sys_enter_{sc.event}", f"pol_front_{hp.id}"))
                    if h.ret:
                        hp.attach.append(("tracepoint", f"syscalls:sys_exit_{sc.event}",
                                          f"pol_rfront_{hp.id}"))
            else:
                hp.sysset = True
                hp.attach.append(("tracepoint", "raw_syscalls:sys_enter", f"pol_front_{hp.id}"))
                if h.ret:
                    hp.attach.append(("tracepoint", "raw_syscalls:sys_exit", f"pol_rfront_{hp.id}"))
            self.func_args(hp, user=1)
            self.finish(hp)
            return
        if not self.k.kprobes:
            raise self.fail(f"{h.path}.call", f"kprobe on kernel function '{calls[0]}' needs kprobes, which"
                            " this kernel lacks (CONFIG_KPROBES off); only syscall: true kprobes run here"
                            " (on the syscall tracepoints), or use a tracepoint")
        known = self.k.functions()
        for c in calls:
            if c not in known:
                raise self.fail(f"{h.path}.call", f"'{c}' is not a kernel function of this kernel"
                                " (not in available_filter_functions or kallsyms)")
        for c in calls:
            hp = self.new_hook(h, T.K_KPROBE, c)
            hp.attach.append(("kprobe", c, f"pol_front_{hp.id}"))
            if h.ret:
                hp.attach.append(("kretprobe", c, f"pol_rfront_{hp.id}"))
            self.func_args(hp, user=2)
            self.finish(hp)

    def uprobe(self, h: schema.Hook) -> None:
        from tracer.ftrace import elfsyms

        path = Path(h.binary)
        if not path.is_absolute():
            raise self.fail(f"{h.path}.path", f"'{h.binary}' must be an absolute path")
        real = path.resolve()
        if not real.is_file():
            raise self.fail(f"{h.path}.path", f"'{h.binary}' is not a file")
        try:
            found = elfsyms.function_offsets(real, set(h.symbols))
        except TracerError as e:
            raise self.fail(f"{h.path}.path", str(e)) from None
        for s in h.symbols:
            if s not in found:
                raise self.fail(f"{h.path}.symbols", f"'{s}' is not a function {h.binary} exports")
        for s in h.symbols:
            hp = self.new_hook(h, T.K_UPROBE, f"{h.binary}:{s}")
            hp.attach.append(("uprobe", f"{real}:{s}", f"pol_front_{hp.id}"))
            if h.ret:
                hp.attach.append(("uretprobe", f"{real}:{s}", f"pol_rfront_{hp.id}"))
            self.func_args(hp, user=1)
            self.finish(hp)

    def tracepoint(self, h: schema.Hook) -> None:
        text = self.k.tracepoint_format(h.subsystem, h.event)
        if text is None:
            raise self.fail(f"{h.path}.event", f"no tracepoint {h.subsystem}/{h.event} on this kernel"
                            f" (see {self.k.tracefs}/events/{h.subsystem}/)")
        fields = tp_fields(text)
        hp = self.new_hook(h, T.K_TP, f"{h.subsystem}/{h.event}")
        hp.attach.append(("tracepoint", f"{h.subsystem}:{h.event}", f"pol_front_{hp.id}"))
        user = 1 if h.subsystem == "syscalls" else 2
        for slot, a in enumerate(h.args):
            if a.index >= len(fields):
                raise self.fail(f"{a.path}.index", f"{a.index} is past the last field of"
                                f" {h.subsystem}/{h.event} (it has {len(fields)}, counting the 4 common"
                                f" ones: {', '.join(f.name for f in fields)})")
            f = fields[a.index]
            code = T.TYPE_CODES[a.type]
            ap = ArgPlan(slot, a.index, a.type, code, a.label or f.name, frm=f.offset,
                         size=f.size, signed=f.signed, user=user, loc=f.loc, array=f.array)
            if code in T.NUMBERS:
                if f.loc or f.array:
                    raise self.fail(f"{a.path}.type", f"field {a.index} ({f.decl}) is not a number")
                size, signed = T.NUMBERS[code]
                ap.size, ap.signed = min(size, f.size), signed
            elif code in (10, 11, 12, 16) or code in T.POINTERS:
                if not (f.loc or f.array or f.pointer or f.size == 8):
                    raise self.fail(f"{a.path}.type", f"field {a.index} ({f.decl}) cannot be read as"
                                    f" {a.type}")
                if (f.loc or f.array) and code != 10 and code != 11:
                    raise self.fail(f"{a.path}.type", f"field {a.index} ({f.decl}) holds characters:"
                                    " use string")
                if f.array:
                    ap.code, ap.type = 10, "string"
                ap.size = 8
            self.arg_common(hp, a, ap)
            hp.args.append(ap)
        self.finish(hp)

    def func_args(self, hp: HookPlan, user: int) -> None:
        h = hp.spec
        for slot, a in enumerate(h.args):
            if a.index > 5:
                raise self.fail(f"{a.path}.index", f"{a.index} is out of range: functions have arguments"
                                " 0 to 5 here")
            code = T.TYPE_CODES[a.type]
            size, signed = T.NUMBERS.get(code, (8, False))
            mem = user
            if hp.kind == T.K_KPROBE and code in (11, 12, 16):
                mem = 2
            ap = ArgPlan(slot, a.index, a.type, code, a.label, frm=a.index, size=size, signed=signed,
                         user=mem)
            if hp.kind in (T.K_SYS_TP, T.K_SYS_KP, T.K_UPROBE) and code in (13, 14, 15, 17, 18, 19):
                raise self.fail(f"{a.path}.type", f"{a.type} is a kernel structure; a syscall or user"
                                " function argument cannot be one (use fd, string or sockaddr)")
            self.arg_common(hp, a, ap)
            hp.args.append(ap)

    def arg_common(self, hp: HookPlan, a: schema.Arg, ap: ArgPlan) -> None:
        ap.size_arg = a.size_arg
        ap.retcopy = a.return_copy
        if a.return_copy and not hp.spec.ret and hp.kind != T.K_TP:
            hp.spec.ret = True  # returnCopy reads the buffer when the call returns
            if hp.spec.ret_arg is None:
                hp.spec.ret_arg = schema.Arg(0, "int", "")
        if a.return_copy and hp.kind == T.K_TP:
            raise self.fail(f"{a.path}.returnCopy", "tracepoints have no return side")
        if a.size_arg and hp.kind == T.K_TP:
            raise self.fail(f"{a.path}.sizeArgIndex", "tracepoint arguments have no size argument; read"
                            " the buffer's field as string")
        if ap.code in (11, 12):
            ap.max = schema.MAX_DATA if a.max_data else schema.MAX_BUF
        if ap.code in (1, 8, 9) and hp.kind != T.K_TP:
            ap.size, ap.signed = 4, True

    def finish(self, hp: HookPlan) -> None:
        h = hp.spec
        hp.ret = h.ret and hp.kind != T.K_TP
        if hp.ret and h.ret_arg is not None:
            hp.ret_code = T.TYPE_CODES[h.ret_arg.type]
            if hp.kind in (T.K_SYS_TP, T.K_SYS_KP) and hp.ret_code not in T.NUMBERS:
                raise self.fail(f"{h.ret_arg.path}.type", f"a syscall returns a number, not {h.ret_arg.type}")
            hp.ret_user = 1 if hp.kind == T.K_UPROBE else 0
        if hp.ret:
            limit = (T.HELD - T.STATE_SIZE - 8 - 64) // max(1, len(hp.args) + 1)
            for ap in hp.args:
                ap.max = min(ap.max, 4096, max(64, 1 << (limit.bit_length() - 1)))
        self.selectors(hp)

    # -- selectors -----------------------------------------------------------------------------
    def fid(self) -> int:
        self.next_filter += 1
        return self.next_filter - 1

    def selectors(self, hp: HookPlan) -> None:
        d = hp.defines
        h = hp.spec
        for s in range(schema.MAX_SELECTORS):
            sel = h.selectors[s] if s < len(h.selectors) else schema.Selector()
            w = f"{h.path}.selectors[{s}]"
            p = f"S{s}_"
            d[p + "NPID"] = len(sel.pids)
            for i in range(2):
                pf = sel.pids[i] if i < len(sel.pids) else None
                fid = self.fid() if pf else 0
                d[f"{p}P{i}_ID"], d[f"{p}P{i}_NOT"] = fid, int(bool(pf and pf.operator == "NotIn"))
                d[f"{p}P{i}_NS"] = int(bool(pf and pf.namespace_pid))
                if pf:
                    self.plan.nums += [(fid, v) for v in pf.values]
                    if pf.follow_forks:
                        self.plan.follow.append(fid)
            d[p + "NARGF"] = len(sel.args)
            for i in range(schema.MAX_FILTERS):
                self.arg_filter(hp, f"{p}F{i}_", sel.args[i] if i < len(sel.args) else None, False)
            d[p + "NRETF"] = len(sel.return_args)
            for i in range(schema.MAX_FILTERS):
                self.arg_filter(hp, f"{p}R{i}_", sel.return_args[i] if i < len(sel.return_args) else None,
                                True)
            if sel.return_args and not hp.ret:
                raise self.fail(f"{w}.matchReturnArgs", "needs 'return: true' on the hook")
            b = sel.binaries[0] if sel.binaries else None
            d[p + "BIN"] = int(bool(b))
            d[p + "BIN_ID"] = self.fid() if b else 0
            d[p + "BIN_OP"] = T.OPS.get(b.operator, 0) if b else 0
            if b:
                self.plan.binaries = True
                self.add_strings(d[p + "BIN_ID"], binary_aliases(b.values),
                                 b.operator in ("Postfix", "NotPostfix"), f"{w}.matchBinaries.values")
            d[p + "NNS"] = len(sel.namespaces)
            for i in range(3):
                n = sel.namespaces[i] if i < len(sel.namespaces) else None
                fid = self.fid() if n else 0
                d[f"{p}N{i}_ID"], d[f"{p}N{i}_NOT"] = fid, int(bool(n and n.operator == "NotIn"))
                d[f"{p}N{i}_WHICH"] = names.NAMESPACES[n.namespace][0] if n else 0
                if n:
                    self.plan.nums += [(fid, self.ns_inum(n, v)) for v in n.values]
            c = sel.capabilities[0] if sel.capabilities else None
            d[p + "CAP"] = int(bool(c))
            d[p + "CAP_WHICH"] = ("Effective", "Inheritable", "Permitted").index(c.type) if c else 0
            mask = 0
            for v in (c.values if c else []):
                mask |= 1 << names.CAPABILITIES[v]
            d[p + "CAP_MASK"] = f"{mask:#x}ULL"
            d[p + "CAP_NOT"] = int(bool(c and c.operator == "NotIn"))
            act, sig, err, rate = T.ACT_POST, 0, 0, 0
            if sel.actions:
                act = 0
                names_ = {a.action for a in sel.actions}
                if names_ & {"Post", "Sigkill", "Signal", "Override"} and "NoPost" not in names_:
                    act |= T.ACT_POST
                for a in sel.actions:
                    if a.action in ("Sigkill", "Signal"):
                        act |= T.ACT_SIGNAL
                        sig = a.arg_sig or 9
                    if a.action == "Override":
                        self.check_override(hp, w)
                        act |= T.ACT_OVERRIDE
                        err = a.arg_error
                    if a.rate_limit_ns:
                        rate = a.rate_limit_ns
            d[p + "ACT"], d[p + "SIG"], d[p + "ERR"] = act, sig, err
            d[p + "RATE"] = f"{rate}ULL"
        d["H_NSEL"] = len(h.selectors)

    def check_override(self, hp: HookPlan, where: str) -> None:
        if hp.kind != T.K_KPROBE:
            raise self.fail(f"{where}.matchActions", "Override changes a kernel function's return value"
                            " through a kprobe; " + ("this kernel has no kprobes, so it cannot"
                                                     if not self.k.kprobes else
                                                     "use it on a kprobe with syscall: false"))
        allowed = self.k.error_injectable()
        if allowed is None:
            raise self.fail(f"{where}.matchActions", f"Override: this kernel offers no error injection"
                            f" (no {ERROR_INJECTION_LIST}: built without CONFIG_FUNCTION_ERROR_INJECTION"
                            " and CONFIG_BPF_KPROBE_OVERRIDE, or debugfs not mounted); use Sigkill")
        if hp.title not in allowed:
            raise self.fail(f"{where}.matchActions", f"Override: the kernel does not allow error"
                            f" injection into '{hp.title}' (not in {ERROR_INJECTION_LIST})")
        hp.override = True

    def ns_inum(self, n: schema.NsFilter, v: str) -> int:
        if v.isdigit():
            return int(v)
        # the host's: PID 1's, or the tracer's own where PID 1's are hidden (a tracer runs in the
        # host's namespaces: a node agent's DaemonSet uses hostPID)
        ns = names.NAMESPACES[n.namespace][1]
        for pid in ("1", "self"):
            try:
                return os.stat(f"/proc/{pid}/ns/{ns}").st_ino
            except OSError as e:
                err = e
        raise self.fail(f"{n.path}.values", f"host_ns: cannot read /proc/1/ns/{ns} ({err.strerror})")

    def add_strings(self, fid: int, values: list, postfix: bool, where: str) -> None:
        """A filter's strings, each stored as given: a Postfix filter also keeps the lengths
        of its values, the ends the BPF side reads (bpf/policy.h pol_ends_with)."""
        lengths = set()
        for v in values:
            b = str(v).encode()
            if len(b) > schema.MAX_STR:
                raise self.fail(where, f"value '{v}' is longer than {schema.MAX_STR} bytes")
            self.plan.strs.append((fid, b))
            lengths.add(len(b))
        if postfix:
            if len(lengths) > T.POL_MAX_SUFFIXES:
                raise self.fail(where, f"Postfix values of {len(lengths)} different lengths; at most"
                                f" {T.POL_MAX_SUFFIXES}: split them between selectors")
            self.plan.suffixes[fid] = sorted(lengths)

    def arg_filter(self, hp: HookPlan, p: str, f: schema.Filter | None, ret: bool) -> None:
        d = hp.defines
        d[p + "ID"] = d[p + "OP"] = d[p + "KIND"] = d[p + "SIGNED"] = d[p + "SLOT"] = 0
        d[p + "VAL"] = "0ULL"
        if f is None:
            return
        if ret:
            ap_code, signed, slot = hp.ret_code or 1, T.NUMBERS.get(hp.ret_code or 1, (8, True))[1], 5
        else:
            slot = self.filter_slot(hp, f)
            ap = hp.args[slot]
            ap_code, signed = ap.code, ap.signed
        fid = self.fid()
        op = f.operator
        kind = 2 if ap_code in T.STRINGLIKE else 3 if ap_code in T.SOCKETS else 1
        if ap_code == 9 and op in schema.STR_OPS and op not in ("Equal", "NotEqual"):
            raise self.fail(f"{f.path}.operator", "an fd argument is compared as a number; use a file"
                            " type to match paths")
        allowed = (schema.STR_OPS if kind == 2 else schema.SOCK_OPS if kind == 3 else schema.NUM_OPS)
        if op not in allowed:
            raise self.fail(f"{f.path}.operator", f"{op} does not apply to a {T.TYPE_NAMES[ap_code]}"
                            f" argument; use one of {', '.join(allowed)}")
        if ret and kind != 1:
            raise self.fail(f"{f.path}", "matchReturnArgs compares numbers only")
        d[p + "ID"], d[p + "OP"], d[p + "KIND"], d[p + "SIGNED"], d[p + "SLOT"] = (
            fid, T.OPS[op], kind, int(signed), slot)
        if kind == 2:
            self.add_strings(fid, f.values, op in ("Postfix", "NotPostfix"), f"{f.path}.values")
        elif kind == 3:
            self.sock_values(fid, op, f)
        elif op in ("GT", "LT", "Mask"):
            vals = [self.number(f, v, i, ap_code) for i, v in enumerate(f.values)]
            val = vals[0]
            if op == "Mask":
                val = 0
                for v in vals:
                    val |= v
            d[p + "VAL"] = f"{val & (1 << 64) - 1:#x}ULL"
        else:
            for i, v in enumerate(f.values):
                if ap_code == 7 and isinstance(v, str) and v.startswith("list:") and op in ("InMap",
                                                                                          "NotInMap"):
                    lst = self.policy.lists.get(v[5:])
                    if lst is None:
                        raise self.fail(f"{f.path}.values[{i}]", f"no list named '{v[5:]}'")
                    tab = self.k.syscalls()
                    nums = [tab[syscall_name(x)].nr for x in lst.values if syscall_name(x) in tab]
                else:
                    nums = [self.number(f, v, i, ap_code)]
                self.plan.nums += [(fid, n & (1 << 64) - 1) for n in nums]

    def filter_slot(self, hp: HookPlan, f: schema.Filter) -> int:
        h = hp.spec
        if hp.kind == T.K_TP:  # tracepoints: the position in args (Tetragon's convention there)
            if f.index >= len(hp.args):
                raise self.fail(f"{f.path}.index", f"{f.index} names no argument: the hook's args list"
                                f" has {len(hp.args)}")
            return f.index
        for ap in hp.args:
            if ap.index == f.index:
                return ap.slot
        raise self.fail(f"{f.path}.index", f"argument {f.index} is not in the hook's args"
                        f" ({', '.join(str(a.index) for a in h.args) or 'none'}): list it there with a type")

    def number(self, f: schema.Filter, v: object, i: int, code: int) -> int:
        if code == 8 and isinstance(v, str) and v in names.CAPABILITIES:
            return names.CAPABILITIES[v]
        if code == 7 and isinstance(v, str) and v.startswith("list:"):
            lst = self.policy.lists.get(v[5:])
            if lst is None:
                raise self.fail(f"{f.path}.values[{i}]", f"no list named '{v[5:]}'")
            raise self.fail(f"{f.path}.values[{i}]", "a list names several syscalls: use it with InMap")
        if code == 7 and isinstance(v, str) and syscall_name(v) in self.k.syscalls():
            return self.k.syscalls()[syscall_name(v)].nr
        try:
            return int(v, 0) if isinstance(v, str) else int(v)
        except ValueError:
            raise self.fail(f"{f.path}.values[{i}]", f"'{v}' is not a number") from None

    def sock_values(self, fid: int, op: str, f: schema.Filter) -> None:
        for i, v in enumerate(f.values):
            w = f"{f.path}.values[{i}]"
            if op.endswith("Priv"):
                continue
            if op in ("SAddr", "NotSAddr", "DAddr", "NotDAddr"):
                try:
                    net = ipaddress.ip_network(str(v), strict=False)
                except ValueError:
                    raise self.fail(w, f"'{v}' is not an address or CIDR") from None
                raw = net.network_address.packed.ljust(16, b"\0")
                self.plan.addrs.append((fid, raw, net.prefixlen))
            elif op == "Family":
                n = names.FAMILY_NUMBERS.get(str(v)) if isinstance(v, str) else v
                if n is None:
                    raise self.fail(w, f"'{v}' is not a family (AF_INET, AF_INET6, AF_UNIX)")
                self.plan.nums.append((fid, int(n)))
            elif op == "Protocol":
                n = names.PROTOCOLS.get(str(v)) if isinstance(v, str) and not str(v).isdigit() else int(v)
                if n is None:
                    raise self.fail(w, f"'{v}' is not a protocol (IPPROTO_TCP, IPPROTO_UDP)")
                self.plan.nums.append((fid, n))
            else:
                try:
                    port = int(v)
                except ValueError:
                    raise self.fail(w, f"'{v}' is not a port") from None
                if not 0 <= port <= 65535:
                    raise self.fail(w, f"port {port} is out of range")
                self.plan.nums.append((fid, port))


# What the BPF side reads through kernel structures, at offsets taken from BTF: arguments and
# return values of these types, and the selectors on namespaces, capabilities and namespace PIDs.
BTF_ARGS = {T.TYPE_CODES[n] for n in ("fd", "file", "path", "filename", "sock", "skb", "cred")}
BTF_RETURNS = {T.TYPE_CODES[n] for n in ("file", "sock", "cred")}


def needs_btf(plan: Plan) -> bool:
    selectors = [sel for hp in plan.hooks for sel in hp.spec.selectors]
    return any(ap.code in BTF_ARGS for hp in plan.hooks for ap in hp.args) \
        or any(hp.ret_code in BTF_RETURNS for hp in plan.hooks) \
        or any(sel.namespaces or sel.capabilities or any(pf.namespace_pid for pf in sel.pids)
               for sel in selectors)


def make(policy: schema.Policy, kernel: Kernel, resolve_btf: bool = True) -> Plan:
    """The plan of `policy` on `kernel`, or a PolicyError naming the field and the reason."""
    plan = _Builder(policy, kernel).build()
    if resolve_btf and needs_btf(plan):
        from tracer.policy import offsets

        plan.btf = offsets.offsets()
    fork = kernel.tracepoint_format("sched", "sched_process_fork") or ""
    child = next((f for f in tp_fields(fork) if f.name == "child_pid"), None)
    plan.fork_child_off = child.offset if child else 0
    return plan
