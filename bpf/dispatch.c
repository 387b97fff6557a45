/* Per-PID tail-call dispatch: a syscall of a traced process
 * is handed at exit to the handler its slot has for that syscall, through
 * exit_progs[slot * NR_MAX + nr] (and at entry through enter_progs, for the calls
 * that need it). Three front ends feed the same dispatch: the raw sys_exit
 * tracepoint (all syscalls), per-syscall tracepoints (a few syscalls: untraced
 * processes pay least) and kprobes on the syscall functions (kernels that have
 * them). Python loads only the front end in use. */
#include "maps.h"

/* The cost floor (bench/run.py): built with -DTRACER_FLOOR every front end returns at
 * once, so the same programs on the same attach points measure what the kernel alone
 * charges a syscall; the dispatch's own cost is what it adds to that. */
#ifdef TRACER_FLOOR
#define FLOOR() return 0
#else
#define FLOOR()
#endif

static __always_inline u32 slot_of(u32 tgid)
{
    u8 *slot = pid_slot.lookup(&tgid);
    if (!slot)
        return SLOT_NONE;
    if (*slot == SLOT_NEVER)
        return SLOT_NONE;
    if (*slot)
        return *slot - 1;
    u32 k = CFG_CGROUPS;
    u64 *by_cgroup = config.lookup(&k);
    if (by_cgroup && *by_cgroup) {
        u64 cg = bpf_get_current_cgroup_id();
        u8 *s = cgroup_slot.lookup(&cg);
        if (s) {
            u8 v = *s;
            pid_slot.update(&tgid, &v);  /* its next calls take the cheap path */
            return v - 1;
        }
    }
    k = CFG_DEFAULT;
    u64 *on = config.lookup(&k);
    return on && *on ? 0 : SLOT_NONE;
}

/* The slot of the current task, as slot_of() says, but without a helper call while nothing
 * changed: every process of the machine runs the front ends on every syscall, and where each
 * call and return costs a return-stack mitigation, one bpf_get_current_pid_tgid() costs more
 * than the rest of the untraced path. Each CPU caches the answer for the task it runs; a task
 * switch (cpu_switch) and any change of the slot maps from user space (config's CFG_GEN) make
 * it stale. The slot maps change in the kernel only for tasks that are not running (a new
 * child) or that run here (slot_of itself), so those need no invalidation. */
static __always_inline u32 current_slot(void)
{
    u32 cpu = bpf_get_smp_processor_id();  /* inlined by the JIT, not a call */
    struct cpu_slot *cs = cpu_slot.lookup(&cpu);
    u32 k = CFG_GEN;
    u64 *gen = config.lookup(&k);
    if (!cs || !gen)
        return slot_of(bpf_get_current_pid_tgid() >> 32);
    u64 g = *gen;  /* read before slot_of: a change meanwhile leaves the entry stale */
    u64 st = *(volatile u64 *)&cs->state;  /* one load: a preemption cannot split it */
    if (st >> 8 == g) {
        u32 s = st & 0xff;
        return s < MAX_SLOTS ? s : SLOT_NONE;
    }
    u32 slot = slot_of(bpf_get_current_pid_tgid() >> 32);
    cs->state = g << 8 | (slot < MAX_SLOTS ? slot : 0xff);
    return slot;
}

/* sched_switch: another task runs on this CPU; its slot is looked up at its next syscall. */
int cpu_switch(struct bpf_raw_tracepoint_args *ctx)
{
    FLOOR();
    u32 cpu = bpf_get_smp_processor_id();
    struct cpu_slot *cs = cpu_slot.lookup(&cpu);
    if (cs)
        cs->state = 0;
    return 0;
}

/* Record a call of a traced process at entry and run its entry handler, if any. */
static __always_inline int record_enter(void *ctx, u64 id, u32 slot, u32 nr, u64 *args)
{
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
    cc->flags = EV_ENTER;
    enter_progs.call(ctx, idx);
    return 0;
}

static __always_inline int run_exit(void *ctx, u32 idx)
{
    if (idx < MAX_SLOTS * NR_MAX)
        exit_progs.call(ctx, idx);
    return 0;
}

static __always_inline int on_exit(void *ctx, s64 ret)
{
    if (current_slot() == SLOT_NONE)
        return 0;  /* the cheap answer for untraced processes, before any hash lookup */
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
    cc->flags = 0;
    inflight.delete(&id);
    return run_exit(ctx, cc->slot * NR_MAX + cc->nr);
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

/* rt_sigreturn's argument as strace shows it: the signal mask it restores, from the signal
 * frame at the user's stack pointer (struct ucontext, uc_sigmask 296 bytes in). a[1] says
 * whether it could be read. */
#define UC_SIGMASK 296
static __always_inline void sigreturn_mask(struct pt_regs *regs, u64 *a)
{
    u64 sp = 0;
    if (!regs || bpf_probe_read_kernel(&sp, sizeof(sp), &regs->sp))
        return;
    a[1] = bpf_probe_read_user(&a[0], sizeof(a[0]), (void *)(sp + UC_SIGMASK)) == 0;
}

/* The user registers of the current task, in a tracepoint that does not pass them
 * (bpf_task_pt_regs: 5.15 and later, with BTF; -DHAVE_TASK_PT_REGS says so). Before, they
 * are where the kernel's task_pt_regs() finds them: at the top of the task's kernel stack
 * (x86-64 leaves no padding above them), task->stack read at its offset from BTF. */
#ifndef THREAD_SIZE
#define THREAD_SIZE 16384
#endif
static __always_inline struct pt_regs *user_regs(void)
{
#ifdef HAVE_TASK_PT_REGS
    return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
#else
    u64 at = config_at(CFG_TASK_STACK), stack = 0;
    if (!at || bpf_probe_read_kernel(&stack, sizeof(stack), (void *)(bpf_get_current_task() + at)) || !stack)
        return 0;
    return (struct pt_regs *)(stack + THREAD_SIZE) - 1;
#endif
}

/* Raw syscall tracepoint, exit only: every process of the machine runs this on every
 * syscall, so it does the least it can. On x86-64 the argument registers saved in
 * pt_regs are still the caller's at exit, so one program sees the whole call. The
 * calls whose arguments are gone by then (execve) or that never return (exit_group)
 * are caught at entry by their own tracepoints (tp_enterN) and paired here. */
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
    FLOOR();
    u32 slot = current_slot();
    if (slot >= MAX_SLOTS)
        return 0;
    u64 id = bpf_get_current_pid_tgid();
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    u64 nr = 0;
    bpf_probe_read_kernel(&nr, 8, &regs->orig_ax);
    struct call *c = NULL;
    if (nr >= NR_MAX) {
        /* rt_sigreturn restored the registers (orig_ax is -1): its entry was recorded */
        c = inflight.lookup(&id);
        if (!c)
            return 0;
        nr = c->nr;
        if (nr >= NR_MAX)
            return 0;
    }
    u32 idx = slot * NR_MAX + (u32)nr;
    u8 *want = wanted.lookup(&idx);
    if (!want || !*want)
        return 0;
    /* A new process returning 0 from clone/fork/vfork/clone3: the call is the parent's. */
    if (ctx->args[1] == 0 && IS_FORK(nr))
        return 0;
    u32 zero = 0;
    struct call *cc = cur.lookup(&zero);
    if (!cc)
        return 0;
    u32 n = (u32)nr;
    struct desc *d = descs.lookup(&n);
    if (!c && d && (d->at_enter || d->entry))
        c = inflight.lookup(&id);
    if (c) {
        *cc = *c;
        inflight.delete(&id);
    } else if (d && d->at_enter) {
        return 0;
    } else {
        /* raw_enter, when loaded, noted when the call began */
        u64 *began = entry_ts.lookup(&id);
        if (began) {
            cc->ts = *began;
            entry_ts.delete(&id);
        } else {
            cc->ts = bpf_ktime_get_ns();
        }
        user_args(regs, cc->args);
        cc->nr = n;
        cc->slot = slot;
    }
    cc->ret = (s64)ctx->args[1];
    cc->flags = 0;
    return run_exit(ctx, idx);
}

/* Raw syscall tracepoint, entry: attached only when durations are wanted (--format
 * strace, json), so the default raw mode costs every process one program per call, not
 * two. Only the calls raw_exit will record get their start time noted. */
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
    FLOOR();
    u32 slot = current_slot();
    if (slot >= MAX_SLOTS)
        return 0;
    u64 id = bpf_get_current_pid_tgid();
    u64 nr = ctx->args[1];
    if (nr >= NR_MAX)
        return 0;
    u32 idx = slot * NR_MAX + (u32)nr;
    u8 *want = wanted.lookup(&idx);
    if (!want || !*want)
        return 0;
    u64 ts = bpf_ktime_get_ns();
    entry_ts.update(&id, &ts);
    return 0;
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

/* The kernel refuses to attach a program that reads past the record of the event
 * (getppid's has no arguments), so there is one entry function per argument count. */
#define TP_ENTER(N)                                                     \
    int tp_enter##N(struct tp_enter_rec *ctx)                           \
    {                                                                   \
        FLOOR();                                                        \
        u32 slot = current_slot();                                      \
        if (slot >= MAX_SLOTS)                                          \
            return 0;                                                   \
        u64 id = bpf_get_current_pid_tgid();                            \
        u64 a[6] = {};                                                  \
        _Pragma("unroll") for (int i = 0; i < N; i++)                   \
            a[i] = ctx->args[i];                                        \
        if (N == 0 && ctx->nr == NR_rt_sigreturn)                       \
            sigreturn_mask(user_regs(), a);                             \
        return record_enter(ctx, id, slot, (u32)ctx->nr, a);            \
    }
TP_ENTER(0)
TP_ENTER(1)
TP_ENTER(2)
TP_ENTER(3)
TP_ENTER(4)
TP_ENTER(5)
TP_ENTER(6)

int tp_exit(struct tp_exit_rec *ctx)
{
    FLOOR();
    return on_exit(ctx, ctx->ret);
}

/* kprobe on __x64_sys_NAME(const struct pt_regs *regs): the user registers hold the
 * arguments and orig_ax the syscall number; the kretprobe gives the return value. */
int kp_enter(struct pt_regs *ctx)
{
    FLOOR();
    u32 slot = current_slot();
    if (slot >= MAX_SLOTS)
        return 0;
    u64 id = bpf_get_current_pid_tgid();
    struct pt_regs *regs = (struct pt_regs *)PT_REGS_PARM1(ctx);
    u64 a[6] = {};
    u64 nr = 0;
    user_args(regs, a);
    bpf_probe_read_kernel(&nr, 8, &regs->orig_ax);
    if (nr == NR_rt_sigreturn)
        sigreturn_mask(regs, a);
    return record_enter(ctx, id, slot, (u32)nr, a);
}

int kp_exit(struct pt_regs *ctx)
{
    FLOOR();
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
    u8 *slot = pid_slot.lookup(&parent);
    if (!slot || !*slot || *slot == SLOT_NEVER)
        return 0;
    u32 child = args->child_pid;
    u8 s = *slot;
    pid_slot.update(&child, &s);
    return 0;
}

/* A task ends: what was kept for it goes, and its number no longer selects a slot. */
static __always_inline void forget_task(void)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    inflight.delete(&id);
    entry_ts.delete(&id);
    u8 *slot = pid_slot.lookup(&tid);
    if (slot && *slot != SLOT_NEVER)
        *slot = 0;
}

/* With -DTASK_EVENTS, bpf/task_events.c's task_exit does this once it has recorded the end. */
#ifndef TASK_EVENTS
TRACEPOINT_PROBE(sched, sched_process_exit)
{
    forget_task();
    return 0;
}
#endif
