/* Shared definitions of tracer's BPF side: the record format the Python consumer
 * parses (tracer/ebpf/record.py, checked by layout.h), the per-syscall descriptor, and
 * the generated constants. Compiled by BCC at run time. */
#ifndef TRACER_H
#define TRACER_H

#include <uapi/linux/ptrace.h>

#ifndef NR_MAX
#define NR_MAX 512          /* syscall numbers per slot in the dispatch tables */
#endif
#ifndef MAX_SLOTS
#define MAX_SLOTS 64        /* handler sets: slot 0 is the default set */
#endif
#define PID_LIMIT 4194304   /* the kernel's PID_MAX_LIMIT on 64-bit: every possible pid_max */
#ifndef STR_MAX
#define STR_MAX 4096        /* longest string or buffer captured for one argument */
#endif
#ifndef MAX_CPUS
#define MAX_CPUS 1024       /* entries of cpu_slot: a CPU beyond them takes the uncached path */
#endif
#define SLOT_NONE 0xffffffff
#define SLOT_NEVER 255      /* pid_slot value of the tracer itself */
#define SCRATCH 32768       /* per-CPU event assembly buffer (the per-CPU value limit) */
#define OFF_MASK 16383      /* blob offsets stay below this: offset + STR_MAX fits SCRATCH */
#define ARGV_MAX 24
#define ARGV_STR 256
#define ENV_MAX 1024        /* envp entries counted */
#define IOV_MAX 8           /* iovec entries captured */
#define IOV_STR 32          /* bytes of data captured per iovec entry (strace's default -s) */
#define IOV_ENTRY 48        /* struct iovec (16 bytes) then IOV_STR bytes of its data */

/* CAP_* capture kinds, CAPW_* capture times, EV_* event flags, NR_* numbers and IS_FORK(nr):
 * generated from the syscall descriptions (tracer/ebpf/cheader.py) into every build */
#include "generated.h"

/* config array indexes, CFG_* (generated.h): CFG_DEFAULT, CFG_CGROUPS, CFG_FOLLOW, then
 * CFG_TASK_*, byte offsets in struct task_struct (0: unknown) for bpf/task_events.c */

struct desc {               /* what to capture for one syscall */
    u8 kind[6];
    u8 size_arg[6];
    u16 fixed[6];           /* FIXED: bytes; ARRAY, ARRAY_RET: bytes per element; BITS: most bytes */
    u8 at_enter;            /* captured at entry: the exit event carries the return value only */
    u8 entry;               /* its entry side runs (captures at entry): exit pairs with it */
    u8 when[6];             /* CAPW_ENTRY and/or CAPW_EXIT: when each argument is captured */
    u8 pad[2];
};

struct call {               /* one syscall in flight on one thread */
    u64 ts;
    u64 args[6];
    s64 ret;
    u32 nr;
    u16 slot;
    u16 flags;              /* EV_ENTER while `cur` holds a call at its entry */
};

struct cpu_slot {           /* the slot of the task on this CPU */
    /* gen << 8 | slot (0xff: none), valid while gen is config's; 0: not filled since the last
     * task switch. One word, written by one store: a program preempted between two stores
     * would leave one task's slot under another task's gen. */
    u64 state;
    u64 pad[7];             /* a cache line each: a switch on one CPU leaves the others' alone */
};

struct event {              /* head of every record; blobs follow */
    u64 ts;
    u32 tgid;
    u32 tid;
    u64 cgroup;
    s64 ret;
    u64 args[6];
    u16 nr;
    u16 flags;
    u16 size;
    u16 nblobs;
    char comm[16];
    u64 ts_exit;            /* when the call returned (0 for a record made at entry) */
};

struct blob {               /* one captured argument, data follows, padded to 8 bytes */
    u8 arg;
    u8 kind;
    u8 trunc;
    u8 pad;
    u32 len;
};

/* record.py's layout, asserted at compile time (generated) */
#include "layout.h"

struct scratch_buf {
    char d[SCRATCH];
};

/* A fresh blob header at `off` of an event being built. */
static __always_inline struct blob *blob_at(char *buf, u32 off, u8 arg, u8 kind)
{
    struct blob *b = (struct blob *)(buf + off);
    b->arg = arg;
    b->kind = kind;
    b->trunc = 0;
    b->pad = 0;
    b->len = 0;
    return b;
}

#endif
