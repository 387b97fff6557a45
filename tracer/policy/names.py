"""Names the policy language uses for kernel numbers: capabilities, namespaces."""

from __future__ import annotations

CAPABILITIES = {
    name: i for i, name in enumerate((
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
        "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE"))
}
CAP_NAMES = {v: k for k, v in CAPABILITIES.items()}

# matchNamespaces name -> (index the BPF side uses, /proc/PID/ns file)
NAMESPACES = {
    "Uts": (0, "uts"), "Ipc": (1, "ipc"), "Mnt": (2, "mnt"), "Pid": (3, "pid"),
    "PidForChildren": (3, "pid_for_children"), "Net": (4, "net"), "Time": (5, "time"),
    "TimeForChildren": (5, "time_for_children"), "Cgroup": (6, "cgroup"), "User": (7, "user"),
}

FAMILIES = {1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK", 17: "AF_PACKET"}
FAMILY_NUMBERS = {v: k for k, v in FAMILIES.items()}
PROTOCOLS = {"IPPROTO_TCP": 6, "IPPROTO_UDP": 17, "IPPROTO_ICMP": 1, "IPPROTO_ICMPV6": 58,
             "IPPROTO_RAW": 255}
PROTOCOL_NAMES = {v: k for k, v in PROTOCOLS.items()}
