"""The numbers the BPF side uses for types, kinds and operators (bpf/policy.h mirrors them)."""

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

K_TP, K_SYS_TP, K_SYS_KP, K_KPROBE, K_UPROBE = 1, 2, 3, 4, 5

OPS = {"Equal": 1, "NotEqual": 2, "Prefix": 3, "NotPrefix": 4, "Postfix": 5, "NotPostfix": 6,
       "GT": 7, "LT": 8, "Mask": 9, "SPort": 10, "NotSPort": 11, "DPort": 12, "NotDPort": 13,
       "SAddr": 14, "NotSAddr": 15, "DAddr": 16, "NotDAddr": 17, "Protocol": 18, "Family": 19,
       "SPortPriv": 20, "NotSPortPriv": 21, "DPortPriv": 22, "NotDPortPriv": 23,
       "InMap": 1, "NotInMap": 2, "In": 1, "NotIn": 2}

ACT_POST, ACT_SIGNAL, ACT_OVERRIDE = 1, 2, 4
RET_SLOT = 255

# the BPF side's layout limits (bpf/policy.h)
POL_MAX_HOOKS = 64
POL_MAX_SUFFIXES = 8
OFF_MAX = 16383
HELD = 8192
SCRATCH = 32768
STATE_SIZE = 48 + 12 + 12 + 8   # struct pol_state
