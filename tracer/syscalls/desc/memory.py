"""Memory: mappings, protections, locking, NUMA policies."""

from tracer.syscalls.desc.model import call

CALLS = (
    call(9, "mmap", "addr:ptr len:ulong prot:prot flags:mmap_flags fd:int off:hex", "TD|TM|SI", ret="hex"),
    call(10, "mprotect", "start:ptr len:ulong prot:prot", "TM|SI"),
    call(11, "munmap", "addr:ptr len:ulong", "TM|SI"),
    call(12, "brk", "brk:ptr", "TM|SI", ret="hex"),
    call(25, "mremap", "addr:ptr old_len:ulong new_len:ulong flags:mremap_flags new_addr:ptr", "TM|SI", ret="hex"),
    call(26, "msync", "start:ptr len:ulong flags:ms_flags", "TM"),
    call(27, "mincore", "start:ptr len:ulong vec:ptr", "TM"),
    call(28, "madvise", "start:ptr len_in:ulong behavior:madv", "TM"),
    call(149, "mlock", "start:ptr len:ulong", "TM"),
    call(150, "munlock", "start:ptr len:ulong", "TM"),
    call(151, "mlockall", "flags:mcl_flags", "TM"),
    call(152, "munlockall", "", "TM"),
    call(206, "io_setup", "nr_events:uint ctxp:ptr", "TM"),
    call(207, "io_destroy", "ctx:ptr", "TM"),
    call(216, "remap_file_pages", "start:ptr size:ulong prot:prot pgoff:ulong flags:mmap_flags", "TM|SI"),
    call(237, "mbind", "start:ptr len:ulong mode:mpol nmask:ptr maxnode:ulong flags:uint", "TM"),
    call(238, "set_mempolicy", "mode:mpol nmask:ptr maxnode:ulong", "TM"),
    call(239, "get_mempolicy", "policy:ptr nmask:ptr maxnode:ulong addr:ptr flags:ulong", "TM"),
    call(256, "migrate_pages", "pid:int maxnode:ulong old_nodes:ptr new_nodes:ptr", "TM"),
    call(279, "move_pages", "pid:int nr_pages:ulong pages:ptr nodes:ptr status:ptr flags:int", "TM"),
    call(325, "mlock2", "start:ptr len:ulong flags:mlock2_flags", "TM"),
    call(329, "pkey_mprotect", "start:ptr len:ulong prot:prot pkey:int", "TM|SI"),
    call(330, "pkey_alloc", "flags:ulong init_val:ulong", ""),
    call(331, "pkey_free", "pkey:int", ""),
    call(427, "io_uring_register", "fd:fd opcode:io_uring_register_op arg:ptr nr_args:uint", "TD|TM"),
    call(450, "set_mempolicy_home_node", "start:ulong len:ulong home_node:ulong flags:ulong", "TM"),
    call(453, "map_shadow_stack", "addr:ptr size:ulong flags:hex", "TM"),
    call(462, "mseal", "start:ptr len:ulong flags:ulong", "TM"),
)
