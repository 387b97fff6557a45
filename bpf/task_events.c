/* What happens to a traced task besides its syscalls: the signals it gets and how it ends,
 * as records of their own (EV_SIGNAL, EV_EXIT) in the same buffer as the calls. Attached to
 * raw tracepoints by the syscall dispatcher only (tracer/ebpf/dispatch.py), which compiles
 * dispatch.c with -DTASK_EVENTS: task_exit then also forgets the task that ends.
 *
 * task_struct fields are read at the offsets the kernel's BTF gives (tracer/ebpf/btf.py,
 * through config): compiling the kernel's headers would cost every start more than the
 * whole dispatcher. An offset of 0 means the kernel has no BTF: the field is not read. */
#include "maps.h"

#define SIGKILL 9
#define TRACE_SIGNAL_DELIVERED 0  /* enum trace_signal_result */
#define TRACE_SIGNAL_IGNORED 1
#define SIGINFO_SIZE 48         /* struct kernel_siginfo */

/* Whether the current task's calls are traced: the same test as the dispatch's. */
static __always_inline int traced(u32 tgid)
{
    return slot_of(tgid) < MAX_SLOTS;
}

/* The same for another task (a signal's target): by its own slot, or by the default set;
 * not by cgroup, which only the task itself can tell (it gets a slot at its next call). */
static __always_inline int traced_other(u32 tgid)
{
    u8 *slot = pid_slot.lookup(&tgid);
    if (!slot || *slot == SLOT_NEVER)
        return 0;
    return *slot || config_at(CFG_DEFAULT);
}

/* A record about task (tgid, tid), built on the stack: these programs can run in an
 * interrupt on top of a syscall handler that is filling the per-CPU scratch buffer. */
static __always_inline void task_record(void *ctx, u32 tgid, u32 tid, u16 flags, u16 nr, s64 ret,
                                        const void *info, const void *task)
{
    struct event e = {};
    e.ts = bpf_ktime_get_ns();
    e.tgid = tgid;
    e.tid = tid;
    e.ret = ret;
    e.nr = nr;
    e.flags = flags;
    e.size = sizeof(e);
    if (info)
        bpf_probe_read_kernel(e.args, SIGINFO_SIZE, info);
    u64 comm_at = config_at(CFG_TASK_COMM);
    if (task && comm_at) {
        bpf_probe_read_kernel(e.comm, sizeof(e.comm), (char *)task + comm_at);
    } else {
        bpf_get_current_comm(e.comm, sizeof(e.comm));
        e.cgroup = bpf_get_current_cgroup_id();
    }
    submit(ctx, &e, sizeof(e));
}

/* sched_process_exit(struct task_struct *p), p being the task that ends: its exit code as
 * wait(2) reports it (-1 when unknown). */
int task_exit(struct bpf_raw_tracepoint_args *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    if (traced(id >> 32)) {
        s32 code = -1;
        u64 at = config_at(CFG_TASK_EXIT_CODE);
        if (at)
            bpf_probe_read_kernel(&code, sizeof(code), (char *)ctx->args[0] + at);
        task_record(ctx, id >> 32, (u32)id, EV_EXIT, 0, code, 0, 0);
    }
    forget_task();
    return 0;
}

/* signal_deliver(int sig, struct kernel_siginfo *info, struct k_sigaction *ka), in the task
 * that takes the signal, as it does: the moment strace reports it. SIGKILL is never reported
 * (the task just ends). */
int sig_deliver(struct bpf_raw_tracepoint_args *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    int sig = (int)ctx->args[0];
    if (sig == SIGKILL || !ctx->args[1] || !traced(id >> 32))
        return 0;
    task_record(ctx, id >> 32, (u32)id, EV_SIGNAL, sig, 0, (void *)ctx->args[1], 0);
    return 0;
}

/* signal_generate(int sig, struct kernel_siginfo *info, struct task_struct *task, int group,
 * int result), in the sender. The signals the kernel drops at once because the target ignores
 * them (a SIGCHLD nobody handles): never delivered, yet strace shows them. And those queued
 * for delivery: a fatal one is turned into a SIGKILL, which is never delivered as itself either
 * (the consumer shows it only then, when the task dies of it). */
int sig_generate(struct bpf_raw_tracepoint_args *ctx)
{
    int sig = (int)ctx->args[0];
    u64 pid_at = config_at(CFG_TASK_PID), tgid_at = config_at(CFG_TASK_TGID);
    int result = (int)ctx->args[4];
    if ((result != TRACE_SIGNAL_IGNORED && result != TRACE_SIGNAL_DELIVERED) || sig == SIGKILL ||
        !pid_at || !tgid_at)
        return 0;
    void *task = (void *)ctx->args[2];
    u32 tid = 0, tgid = 0;
    bpf_probe_read_kernel(&tid, sizeof(tid), (char *)task + pid_at);
    bpf_probe_read_kernel(&tgid, sizeof(tgid), (char *)task + tgid_at);
    if (!traced_other(tgid))
        return 0;
    u64 info = ctx->args[1];
    /* SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1) stand for a siginfo the kernel makes up:
     * from the sender (kill's SI_USER) or from the kernel (SI_KERNEL) */
    u64 made[6] = {};
    if (info <= 1) {
        made[0] = (u32)sig;
        made[1] = info ? 0x80 : 0;
        if (!info)
            made[2] = (bpf_get_current_pid_tgid() >> 32) | (bpf_get_current_uid_gid() << 32);
    }
    /* whether the target sleeps (in a call, most likely) or runs: the consumer shows a dropped
     * signal after that call, or before the next one */
    u32 state = 0;
    u64 state_at = config_at(CFG_TASK_STATE);
    if (state_at)
        bpf_probe_read_kernel(&state, sizeof(state), (char *)task + state_at);
    u16 flags = result == TRACE_SIGNAL_IGNORED ? EV_SIGNAL | EV_LATE : EV_SENT;
    task_record(ctx, tgid, tid, flags, sig, state != 0, info > 1 ? (void *)info : (void *)made, task);
    return 0;
}
