/* Per-PID tail-call dispatch (the traceleft design): a syscall of a traced process
 * is recorded at entry and handed at exit to the handler its slot has for that
 * syscall, through exit_progs[slot * NR_MAX + nr]. Three front ends feed the same
 * dispatch: raw syscall tracepoints (all syscalls), per-syscall tracepoints (a
 * few syscalls: untraced processes pay least) and kprobes on the syscall
 * functions (kernels that have them). Python loads only the front end in use. */
#include "maps.h"

static __always_inline u32 slot_of(u32 tgid)
{
    u32 *slot = pid_slot.lookup(&tgid);
    if (slot)
        return *slot;
    u32 k = CFG_DEFAULT;
    u64 *on = config.lookup(&k);
    if (!on || !*on)
        return SLOT_NONE;
    k = CFG_SELF;
    u64 *self = config.lookup(&k);
    if (self && *self == tgid)
        return SLOT_NONE;
    return 0;
}

static __always_inline int on_enter(void *ctx, u32 nr, u64 *args)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 slot = slot_of(id >> 32);
    if (slot >= MAX_SLOTS || nr >= NR_MAX)
        return 0;
    u32 idx = slot * NR_MAX + nr;
    u8 *want = wanted.lookup(&idx);
    if (!want || !*want)
        return 0;
    struct call c = {};
    c.ts = bpf_ktime_get_ns();
#pragma unroll
    for (int i = 0; i < 6; i++)
        c.args[i] = args[i];
    c.nr = nr;
    c.slot = slot;
    inflight.update(&id, &c);
    u32 zero = 0;
    struct call *cc = cur.lookup(&zero);
    if (!cc)
        return 0;
    *cc = c;
    enter_progs.call(ctx, idx);
    return 0;
}

static __always_inline int on_exit(void *ctx, s64 ret)
{
    u64 id = bpf_get_current_pid_tgid();
    struct call *c = inflight.lookup(&id);
    if (!c)
        return 0;
    u32 zero = 0;
    struct call *cc = cur.lookup(&zero);
    if (!cc)
        return 0;
    *cc = *c;
    cc->ret = ret;
    inflight.delete(&id);
    u32 idx = cc->slot * NR_MAX + cc->nr;
    if (idx < MAX_SLOTS * NR_MAX)
        exit_progs.call(ctx, idx);
    return 0;
}

static __always_inline void user_args(struct pt_regs *regs, u64 *a)
{
    bpf_probe_read_kernel(&a[0], 8, &regs->di);
    bpf_probe_read_kernel(&a[1], 8, &regs->si);
    bpf_probe_read_kernel(&a[2], 8, &regs->dx);
    bpf_probe_read_kernel(&a[3], 8, &regs->r10);
    bpf_probe_read_kernel(&a[4], 8, &regs->r8);
    bpf_probe_read_kernel(&a[5], 8, &regs->r9);
}

/* raw_syscalls:sys_enter/sys_exit as raw tracepoints: args[0] is the user pt_regs */
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
    u64 a[6] = {};
    user_args((struct pt_regs *)ctx->args[0], a);
    return on_enter(ctx, (u32)ctx->args[1], a);
}

int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
    return on_exit(ctx, (s64)ctx->args[1]);
}

/* syscalls:sys_enter_NAME / sys_exit_NAME: one program serves every syscall, since
 * all their records share this layout (see any events/syscalls/<name>/format). */
struct tp_enter_rec {
    u64 common;
    s32 nr;
    u32 pad;
    u64 args[6];
};
struct tp_exit_rec {
    u64 common;
    s32 nr;
    u32 pad;
    s64 ret;
};

int tp_enter(struct tp_enter_rec *ctx)
{
    u64 a[6];
#pragma unroll
    for (int i = 0; i < 6; i++)
        a[i] = ctx->args[i];
    return on_enter(ctx, (u32)ctx->nr, a);
}

int tp_exit(struct tp_exit_rec *ctx)
{
    return on_exit(ctx, ctx->ret);
}

/* kprobe on __x64_sys_NAME(const struct pt_regs *regs): the user registers hold the
 * arguments and orig_ax the syscall number; the kretprobe gives the return value. */
int kp_enter(struct pt_regs *ctx)
{
    struct pt_regs *regs = (struct pt_regs *)PT_REGS_PARM1(ctx);
    u64 a[6] = {};
    u64 nr = 0;
    user_args(regs, a);
    bpf_probe_read_kernel(&nr, 8, &regs->orig_ax);
    return on_enter(ctx, (u32)nr, a);
}

int kp_exit(struct pt_regs *ctx)
{
    return on_exit(ctx, (s64)PT_REGS_RC(ctx));
}

/* Fork following: the child (current is the parent here) gets the parent's slot.
 * For a new thread child_pid is a TID; the entry is harmless while the thread lives
 * (no process can own that number meanwhile) and is removed when it exits. */
TRACEPOINT_PROBE(sched, sched_process_fork)
{
    u32 k = CFG_FOLLOW;
    u64 *follow = config.lookup(&k);
    if (!follow || !*follow)
        return 0;
    u32 parent = bpf_get_current_pid_tgid() >> 32;
    u32 *slot = pid_slot.lookup(&parent);
    if (!slot)
        return 0;
    u32 child = args->child_pid;
    u32 s = *slot;
    pid_slot.update(&child, &s);
    return 0;
}

TRACEPOINT_PROBE(sched, sched_process_exit)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    inflight.delete(&id);
    pid_slot.delete(&tid);
    return 0;
}
