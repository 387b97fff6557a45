"""The kernel struct members policy programs read, with their offsets in the running kernel
(from its BTF, tracer/ebpf/btf.py), handed to the BPF side as #defines."""

from __future__ import annotations

from tracer.ebpf.btf import VMLINUX, kernel
from tracer.errors import TracerError

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
    "OFF_TASK_GROUP_LEADER": [("task_struct", "group_leader")],
    "OFF_TASK_THREAD_PID": [("task_struct", "thread_pid")],
    "OFF_PID_LEVEL": [("pid", "level")],
    "OFF_PID_NUMBERS": [("pid", "numbers")],
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
