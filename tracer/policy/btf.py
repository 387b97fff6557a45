"""Structure member offsets of the running kernel, from its BTF (/sys/kernel/btf/vmlinux).

BCC compiles against whatever kernel headers are installed (here Debian 6.1's for
a 6.18 kernel), so a `struct file` from those headers may not be the running
kernel's. The BTF the kernel carries describes its own layout: the policy
compiler reads offsets from it and hands them to the BPF side as #defines.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

from tracer.errors import TracerError

VMLINUX = Path("/sys/kernel/btf/vmlinux")
_STRUCT, _UNION, _TYPEDEF, _VOLATILE, _CONST, _RESTRICT, _TYPE_TAG = 4, 5, 8, 9, 10, 11, 18
_QUALIFIERS = (_TYPEDEF, _VOLATILE, _CONST, _RESTRICT, _TYPE_TAG)
# bytes of kind-specific data after each type record, per member (vlen) and fixed
_PER_MEMBER = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
_FIXED = {1: 4, 3: 12, 14: 4, 17: 4}


class Btf:
    def __init__(self, data: bytes) -> None:
        magic, _ver, _flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from(
            "<HBBIIIII", data, 0)
        if magic != 0xEB9F:
            raise TracerError("the kernel's BTF has an unknown format")
        self.strings = data[hdr_len + str_off:hdr_len + str_off + str_len]
        self.types: list[tuple] = [(0, 0, 0, 0, 0, ())]  # id 0 is void
        self.by_name: dict[str, int] = {}
        pos, end = hdr_len + type_off, hdr_len + type_off + type_len
        while pos < end:
            name_off, info, size_type = struct.unpack_from("<III", data, pos)
            pos += 12
            kind, vlen, kflag = (info >> 24) & 0x1F, info & 0xFFFF, info >> 31
            members: tuple = ()
            if kind in (_STRUCT, _UNION):
                members = tuple(struct.unpack_from("<III", data, pos + 12 * i) for i in range(vlen))
            pos += _PER_MEMBER.get(kind, 0) * vlen + _FIXED.get(kind, 0)
            tid = len(self.types)
            self.types.append((kind, name_off, size_type, kflag, vlen, members))
            if kind in (_STRUCT, _UNION) and name_off:
                self.by_name.setdefault(self.name(name_off), tid)

    def name(self, off: int) -> str:
        return self.strings[off:self.strings.index(b"\0", off)].decode()

    def _resolve(self, tid: int) -> int:
        while self.types[tid][0] in _QUALIFIERS:
            tid = self.types[tid][2]
        return tid

    def _find(self, tid: int, member: str) -> tuple[int, int] | None:
        """(byte offset, type id) of `member` in struct/union `tid`, looking into anonymous members."""
        _kind, _n, _size, kflag, _vlen, members = self.types[tid]
        for name_off, mtype, moff in members:
            bits = moff & 0xFFFFFF if kflag else moff
            if name_off and self.name(name_off) == member:
                return bits // 8, mtype
            if not name_off:
                inner = self._resolve(mtype)
                if self.types[inner][0] in (_STRUCT, _UNION):
                    found = self._find(inner, member)
                    if found:
                        return bits // 8 + found[0], found[1]
        return None

    def offset(self, struct_name: str, path: str) -> int:
        """Byte offset of `path` (e.g. "f_path.dentry") in `struct struct_name`."""
        tid = self.by_name.get(struct_name)
        if tid is None:
            raise KeyError(f"struct {struct_name}")
        total = 0
        for part in path.split("."):
            found = self._find(self._resolve(tid), part)
            if found is None:
                raise KeyError(f"{struct_name}.{path}")
            total += found[0]
            tid = found[1]
        return total

    def has(self, struct_name: str) -> bool:
        return struct_name in self.by_name


@lru_cache(maxsize=1)
def kernel() -> Btf | None:
    try:
        return Btf(VMLINUX.read_bytes())
    except OSError:
        return None


# The members the BPF side reads, as #define name -> (struct, member path). Alternatives
# (kernels rename members) are tried in order.
OFFSETS: dict[str, list[tuple[str, str]]] = {
    "OFF_FILE_PATH": [("file", "f_path")],
    "OFF_PATH_MNT": [("path", "mnt")],
    "OFF_PATH_DENTRY": [("path", "dentry")],
    "OFF_DENTRY_NAME": [("dentry", "d_name.name")],
    "OFF_DENTRY_PARENT": [("dentry", "d_parent")],
    "OFF_VFSMOUNT_ROOT": [("vfsmount", "mnt_root")],
    "OFF_MOUNT_MNT": [("mount", "mnt")],
    "OFF_MOUNT_PARENT": [("mount", "mnt_parent")],
    "OFF_MOUNT_MOUNTPOINT": [("mount", "mnt_mountpoint")],
    "OFF_FILENAME_NAME": [("filename", "name")],
    "OFF_TASK_FILES": [("task_struct", "files")],
    "OFF_TASK_CRED": [("task_struct", "cred")],
    "OFF_TASK_NSPROXY": [("task_struct", "nsproxy")],
    "OFF_FILES_FDT": [("files_struct", "fdt")],
    "OFF_FDT_MAX": [("fdtable", "max_fds")],
    "OFF_FDT_FD": [("fdtable", "fd")],
    "OFF_SK_FAMILY": [("sock_common", "skc_family")],
    "OFF_SK_STATE": [("sock_common", "skc_state")],
    "OFF_SK_DADDR": [("sock_common", "skc_daddr")],
    "OFF_SK_SADDR": [("sock_common", "skc_rcv_saddr")],
    "OFF_SK_DPORT": [("sock_common", "skc_dport")],
    "OFF_SK_SPORT": [("sock_common", "skc_num")],
    "OFF_SK_V6_DADDR": [("sock_common", "skc_v6_daddr")],
    "OFF_SK_V6_SADDR": [("sock_common", "skc_v6_rcv_saddr")],
    "OFF_SK_PROTOCOL": [("sock", "sk_protocol")],
    "OFF_SK_TYPE": [("sock", "sk_type")],
    "OFF_SKB_LEN": [("sk_buff", "len")],
    "OFF_SKB_PROTOCOL": [("sk_buff", "protocol")],
    "OFF_SKB_HEAD": [("sk_buff", "head")],
    "OFF_SKB_NETWORK": [("sk_buff", "network_header")],
    "OFF_SKB_SK": [("sk_buff", "sk")],
    "OFF_CRED_UID": [("cred", "uid")],
    "OFF_CRED_GID": [("cred", "gid")],
    "OFF_CRED_SUID": [("cred", "suid")],
    "OFF_CRED_SGID": [("cred", "sgid")],
    "OFF_CRED_EUID": [("cred", "euid")],
    "OFF_CRED_EGID": [("cred", "egid")],
    "OFF_CRED_FSUID": [("cred", "fsuid")],
    "OFF_CRED_FSGID": [("cred", "fsgid")],
    "OFF_CRED_CAP_INH": [("cred", "cap_inheritable")],
    "OFF_CRED_CAP_PRM": [("cred", "cap_permitted")],
    "OFF_CRED_CAP_EFF": [("cred", "cap_effective")],
    "OFF_CRED_USERNS": [("cred", "user_ns")],
    "OFF_NS_UTS": [("nsproxy", "uts_ns")],
    "OFF_NS_IPC": [("nsproxy", "ipc_ns")],
    "OFF_NS_MNT": [("nsproxy", "mnt_ns")],
    "OFF_NS_PID": [("nsproxy", "pid_ns_for_children")],
    "OFF_NS_NET": [("nsproxy", "net_ns")],
    "OFF_NS_TIME": [("nsproxy", "time_ns")],
    "OFF_NS_CGROUP": [("nsproxy", "cgroup_ns")],
    "OFF_UTS_INUM": [("uts_namespace", "ns.inum")],
    "OFF_IPC_INUM": [("ipc_namespace", "ns.inum")],
    "OFF_MNT_INUM": [("mnt_namespace", "ns.inum")],
    "OFF_PID_INUM": [("pid_namespace", "ns.inum")],
    "OFF_NET_INUM": [("net", "ns.inum")],
    "OFF_TIME_INUM": [("time_namespace", "ns.inum")],
    "OFF_CGROUP_INUM": [("cgroup_namespace", "ns.inum")],
    "OFF_USER_INUM": [("user_namespace", "ns.inum")],
}


def offsets(names: set[str] | None = None) -> dict[str, int]:
    """{#define name: offset} for `names` (default: all); a member the kernel lacks is left out."""
    b = kernel()
    if b is None:
        raise TracerError(f"cannot read the kernel's BTF ({VMLINUX}): the file, path, sock, skb, cred"
                          " types and namespace/capability selectors need CONFIG_DEBUG_INFO_BTF")
    out = {}
    for define, choices in OFFSETS.items():
        if names is not None and define not in names:
            continue
        for struct_name, member in choices:
            try:
                out[define] = b.offset(struct_name, member)
                break
            except KeyError:
                continue
    return out
