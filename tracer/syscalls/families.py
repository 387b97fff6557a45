"""Named sets of syscalls: the ebpf-* hooks and `tracer trace` families use them."""

FILES = (
    "open", "openat", "openat2", "creat", "close", "close_range", "dup", "dup2", "dup3",
    "stat", "lstat", "fstat", "newfstatat", "statx", "access", "faccessat", "faccessat2",
    "readlink", "readlinkat", "unlink", "unlinkat", "rename", "renameat", "renameat2",
    "mkdir", "mkdirat", "rmdir", "chdir", "fchdir", "getcwd", "chmod", "fchmod", "fchmodat",
    "fchmodat2", "chown", "fchown", "lchown", "fchownat", "truncate", "ftruncate", "link",
    "linkat", "symlink", "symlinkat", "mknod", "mknodat", "utimensat", "getdents64",
)
PROCESS = (
    "fork", "vfork", "clone", "clone3", "execve", "execveat", "exit", "exit_group",
    "wait4", "waitid", "kill", "tkill", "tgkill", "setsid", "setpgid", "prctl",
)
NETWORK = (
    "socket", "socketpair", "bind", "listen", "connect", "accept", "accept4", "sendto",
    "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockname",
    "getpeername", "setsockopt", "getsockopt",
)
FAMILIES = {"files": FILES, "process": PROCESS, "network": NETWORK}
