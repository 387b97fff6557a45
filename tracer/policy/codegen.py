"""The BCC source of a planned policy: #defines made from the plan, around bpf/ templates.

No C is written here: bpf/policy.h holds the shared code and bpf/policy_hook.h the
code of one hook point, parameterised by the #defines this module generates
(and #undefs after each hook, so the next one starts clean).
"""

from __future__ import annotations

from tracer.ebpf import compile as bpfc
from tracer.policy import schema
from tracer.policy import types as T
from tracer.policy.plan import HookPlan, Plan

ARG_FIELDS = ("TYPE", "FROM", "SIZE", "SIGNED", "USER", "LOC", "SIZEARG", "MAX", "RETCOPY", "ARRAY")


def hook_defines(hp: HookPlan) -> dict[str, int | str]:
    held = hp.ret
    biggest = max([ap.max for ap in hp.args] + [256])
    d: dict[str, int | str] = {
        "HOOK": hp.id,
        "H_KIND": hp.kind,
        "H_RET": int(hp.ret),
        "H_RET_TYPE": hp.ret_code,
        "H_RET_USER": hp.ret_user,
        "H_NARGS": len(hp.args),
        "H_SYSSET": int(hp.sysset),
        "H_TP_PROGS": int(hp.kind in (T.K_TP, T.K_SYS_TP)),
        "H_OVERRIDE": int(hp.override),
        # a blob may start below H_END; everything must fit H_REGION (held events: POL_HELD)
        "H_END": (T.HELD - T.STATE_SIZE - 8 - biggest) if held else (T.OFF_MAX - 8 - biggest),
        "H_REGION": (T.HELD - T.STATE_SIZE) if held else T.OFF_MAX,
    }
    for n in range(schema.MAX_ARGS):
        ap = hp.args[n] if n < len(hp.args) else None
        vals = (ap.code, ap.frm, ap.size, int(ap.signed), ap.user, int(ap.loc), ap.size_arg, ap.max,
                int(ap.retcopy), int(ap.array)) if ap else (0,) * len(ARG_FIELDS)
        d.update({f"A{n}_{f}": v for f, v in zip(ARG_FIELDS, vals)})
    d.update(hp.defines)
    return d


def constant_defines() -> dict[str, int | str]:
    """The numbers bpf/policy.h shares with the planner and the reader: written once, in
    tracer/policy/types.py and schema.py."""
    d: dict[str, int | str] = {
        "POL_MAX_HOOKS": T.POL_MAX_HOOKS,
        "POL_MAX_SUFFIXES": T.POL_MAX_SUFFIXES,
        "POL_MAX_STR": schema.MAX_STR,
        "POL_OFF_MAX": T.OFF_MAX,
        "POL_DATA_MAX": schema.MAX_DATA,
        "POL_HELD": T.HELD,
        "POL_RET_SLOT": T.RET_SLOT,
        "K_TP": T.K_TP, "K_SYS_TP": T.K_SYS_TP, "K_SYS_KP": T.K_SYS_KP, "K_KPROBE": T.K_KPROBE,
        "K_UPROBE": T.K_UPROBE,
        "ACT_POST": T.ACT_POST, "ACT_SIGNAL": T.ACT_SIGNAL, "ACT_OVERRIDE": T.ACT_OVERRIDE,
    }
    d.update({f"T_{name.upper()}": code for code, name in T.TYPE_NAMES.items()})
    d.update({f"OP_{c_name}": code for code, c_name in T.OP_CODES.values()})
    return d


def global_defines(plan: Plan) -> dict[str, int | str]:
    d: dict[str, int | str] = {
        **constant_defines(),
        "POL_ANY_RET": int(any(hp.ret for hp in plan.hooks)),
        "POL_BINARIES": int(plan.binaries),
        "POL_NFOLLOW": len(plan.follow),
        "POL_FORK_CHILD_OFF": plan.fork_child_off,
    }
    d.update(plan.btf)
    return d


def _block(defs: dict[str, int | str]) -> str:
    return "".join(f"#define {k} {v}\n" for k, v in defs.items())


def source(plan: Plan) -> str:
    """The whole module: dispatch (slots, fork following), policy.h, one policy_hook.h per hook."""
    template = (bpfc.BPF_DIR / "policy_hook.h").read_text()
    parts = [_block(global_defines(plan)), bpfc.source("dispatch.c", "policy.h")]
    for hp in plan.hooks:
        defs = hook_defines(hp)
        parts.append(_block(defs) + '#line 1 "policy_hook.h"\n' + template
                     + "".join(f"#undef {k}\n" for k in defs))
    return "\n".join(parts)
