"""The numbers the BPF side uses for types, kinds, operators, actions and its layout limits:
the one place they are written (tracer/policy/codegen.py makes them bpf/policy.h's #defines)."""

from __future__ import annotations

TYPE_CODES = {
    "int": 1, "uint32": 2, "int64": 3, "uint64": 4, "size_t": 5, "long": 6, "syscall64": 7,
    "capability": 8, "fd": 9, "string": 10, "char_buf": 11, "char_iovec": 12, "file": 13, "path": 14,
    "filename": 15, "sockaddr": 16, "sock": 17, "skb": 18, "cred": 19, "nop": 20,
    "int16": 21, "uint16": 22, "int8": 23, "uint8": 24,
    # Tetragon's aliases
    "s64": 3, "u64": 4, "s32": 1, "u32": 2,
}
TYPE_NAMES = {1: "int", 2: "uint32", 3: "int64", 4: "uint64", 5: "size_t", 6: "long", 7: "syscall64",
              8: "capability", 9: "fd", 10: "string", 11: "char_buf", 12: "char_iovec", 13: "file",
              14: "path", 15: "filename", 16: "sockaddr", 17: "sock", 18: "skb", 19: "cred", 20: "nop",
              21: "int16", 22: "uint16", 23: "int8", 24: "uint8"}
# (bytes read, signed) of the numeric types
NUMBERS = {1: (4, True), 2: (4, False), 3: (8, True), 4: (8, False), 5: (8, False), 6: (8, True),
           7: (8, False), 8: (4, True), 9: (4, True), 20: (8, False), 21: (2, True), 22: (2, False),
           23: (1, True), 24: (1, False)}
STRINGLIKE = {10, 11, 12, 13, 14, 15}   # filters compare them as strings
SOCKETS = {16, 17, 18}
POINTERS = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}

# where a hook's arguments come from
K_TP = 1        # a tracepoint record: arguments are fields at offsets
K_SYS_TP = 2    # a syscall caught by its (or the raw) sys_enter tracepoint
K_SYS_KP = 3    # a kprobe on __x64_sys_NAME(struct pt_regs *)
K_KPROBE = 4    # a kprobe on a kernel function
K_UPROBE = 5    # a uprobe on a user function

# operator -> (code, its name in C: OP_<name>)
OP_CODES = {"Equal": (1, "EQ"), "NotEqual": (2, "NEQ"), "Prefix": (3, "PREFIX"),
            "NotPrefix": (4, "NPREFIX"), "Postfix": (5, "POSTFIX"), "NotPostfix": (6, "NPOSTFIX"),
            "GT": (7, "GT"), "LT": (8, "LT"), "Mask": (9, "MASK"), "SPort": (10, "SPORT"),
            "NotSPort": (11, "NSPORT"), "DPort": (12, "DPORT"), "NotDPort": (13, "NDPORT"),
            "SAddr": (14, "SADDR"), "NotSAddr": (15, "NSADDR"), "DAddr": (16, "DADDR"),
            "NotDAddr": (17, "NDADDR"), "Protocol": (18, "PROTOCOL"), "Family": (19, "FAMILY"),
            "SPortPriv": (20, "SPORTPRIV"), "NotSPortPriv": (21, "NSPORTPRIV"),
            "DPortPriv": (22, "DPORTPRIV"), "NotDPortPriv": (23, "NDPORTPRIV")}
# set membership (InMap, matchPIDs' In, ...) is Equal / NotEqual against a set of values
OPS = {**{op: code for op, (code, _) in OP_CODES.items()}, "InMap": 1, "NotInMap": 2, "In": 1, "NotIn": 2}

ACT_POST, ACT_SIGNAL, ACT_OVERRIDE = 1, 2, 4   # the matched selector's action (pol_event.action)
RET_SLOT = 255

# the BPF side's layout limits
POL_MAX_HOOKS = 64      # hook points of one policy
POL_MAX_SUFFIXES = 8    # different lengths of one filter's Postfix values
OFF_MAX = 16383         # a blob starts below this offset of the event
HELD = 8192             # event bytes kept between entry and return
SCRATCH = 32768
STATE_SIZE = 48 + 12 + 12 + 8   # struct pol_state
