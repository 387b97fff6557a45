/* In-kernel syscall summary (strace -c): per process and syscall, counts, errors, total
 * time and a log2 histogram of call latencies. Nothing is sent per call; the tracer reads
 * the maps every few seconds. A CPU keeps, per syscall, the figures of the last process to
 * make it there (rows) and moves them into a per-CPU hash (stats) when another process makes
 * that syscall there: a process calling in a loop pays no hash lookup per call. */
#include <uapi/linux/ptrace.h>
#include "generated.h"

#define PID_LIMIT 4194304
#define NR_MAX 512
#define BUCKETS 24          /* log2(ns) buckets from 2^0 up: the last holds >= 8 s */
#ifndef MAX_CPUS
#define MAX_CPUS 1024
#endif
/* The cost floor (bench/run.py): built with -DTRACER_FLOOR the syscall programs return at once,
 * so the same programs on the same attach points measure what the kernel alone charges. */
#ifdef TRACER_FLOOR
#define FLOOR() return 0
#else
#define FLOOR()
#endif
/* Built with -DTRACER_NO_CLOCK (bench/run.py only), the programs read no clock: the difference
 * is what the two clock reads that give a call its latency cost. */
#ifdef TRACER_NO_CLOCK
#define NOW() 0
#else
#define NOW() bpf_ktime_get_ns()
#endif

struct key {
    u32 tgid;
    u32 nr;
};

struct stats {
    u64 calls;
    u64 errors;
    u64 ns;
    u64 hist[BUCKETS];
    char comm[16];
};

/* What a CPU knows of the task it runs, while gen is config's CFG_GEN: filled at the task's
 * first syscall after a task switch, so the calls after it need no helper call to find out
 * whether they are counted (each costs as much as the rest here, on CPUs with return-stack
 * mitigations); and the start of its call in flight, moved to the task itself when the task
 * is switched out before the call returns. */
struct cpu_state {
    /* Each a single word written by a single store: a program preempted between two stores
     * would leave one task's half under another task's other half. */
    u64 task;               /* gen << 32 | counted << 31 | tgid; 0: none since the last switch */
    u64 call;               /* a call in flight (CALL()); 0: none */
    u64 pad[6];             /* a cache line each */
};
/* A call's start in one word: nr + 1 above the low 48 bits of its start time in ns (durations
 * are taken modulo 2^48 ns, 78 hours). */
#define TS_MASK ((1ULL << 48) - 1)
#define CALL(nr, ts) (((u64)(nr) + 1) << 48 | ((ts) & TS_MASK))
#define TASK_COUNTED (1ULL << 31)

/* TGID -> 1: traced (fork following adds children). An array, as in dispatch.c: the
 * processes that are not traced pay one array lookup per syscall side. */
BPF_ARRAY(traced, u8, PID_LIMIT);
BPF_ARRAY(wanted, u8, NR_MAX);        /* nr -> 1: counted (all of them by default) */
BPF_ARRAY(config, u64, CFG_SIZE);     /* CFG_FOLLOW, CFG_CGROUPS (generated.h) */
BPF_HASH(cgroups, u64, u8, 64);       /* cgroup v2 id -> 1: a traced container's */
#ifdef TASK_STORAGE
/* The call in flight, kept with the task itself: no shared hash to update, look up and
 * delete on every call (tracing programs may use task storage from Linux 6.2). */
BPF_TASK_STORAGE(inflight, u64);  /* CALL() */

static __always_inline u64 *in_flight(u64 flags)
{
    return inflight.task_storage_get((struct task_struct *)bpf_get_current_task_btf(), 0, flags);
}
#else
BPF_HASH(inflight, u64, u64, 16384);  /* pid_tgid -> CALL() */
#endif
BPF_PERCPU_HASH(stats, struct key, struct stats, 65536);
struct row {
    u32 tgid;               /* whose figures these are; 0: nobody's yet */
    u32 pad;
    struct stats s;
};
/* nr -> the figures of the last process to make that syscall on this CPU, not yet in stats
 * (a per-CPU array: no hashing, and the kernel inlines its lookup from Linux 6.10) */
BPF_PERCPU_ARRAY(rows, struct row, NR_MAX);
BPF_ARRAY(cpus, struct cpu_state, MAX_CPUS);

static __always_inline int is_traced(u32 tgid)
{
    u8 *t = traced.lookup(&tgid);
    return t && *t;
}

/* Whether the current task is counted: by its PID, or (with containers) by its cgroup, for
 * the processes that join a container later (podman exec) and descend from none of its own;
 * such a process is then known by its PID. */
static __always_inline int counted(u32 tgid)
{
    if (is_traced(tgid))
        return 1;
    u32 k = CFG_CGROUPS;
    u64 *by_cgroup = config.lookup(&k);
    if (!by_cgroup || !*by_cgroup)
        return 0;
    u64 cg = bpf_get_current_cgroup_id();
    if (!cgroups.lookup(&cg))
        return 0;
    u8 one = 1;
    traced.update(&tgid, &one);
    return 1;
}

/* This CPU's state and its task word, brought up to date for the current task. */
static __always_inline struct cpu_state *this_cpu(u64 *task)
{
    u32 cpu = bpf_get_smp_processor_id();  /* inlined by the JIT, not a call */
    struct cpu_state *cs = cpus.lookup(&cpu);
    u32 k = CFG_GEN;
    u64 *gen = config.lookup(&k);
    if (!cs || !gen)
        return 0;
    u64 g = *gen;  /* read before counted(): a change meanwhile leaves the word stale */
    u64 t = *(volatile u64 *)&cs->task;  /* one load: a preemption cannot split it */
    if (t >> 32 != g) {  /* a new task here, or the counted set changed */
        u32 tgid = bpf_get_current_pid_tgid() >> 32;
        t = g << 32 | (counted(tgid) ? TASK_COUNTED : 0) | tgid;
        cs->task = t;
    }
    *task = t;
    return cs;
}

/* Named programs, attached by tracer/views/summary.py: the names tests and `--clear` look for
 * are the same whether the kernel shows the BTF name or its 15-character cut. */
int sum_enter(struct bpf_raw_tracepoint_args *ctx)
{
    FLOOR();
    u64 task;
    struct cpu_state *cs = this_cpu(&task);
    if (!cs || !(task & TASK_COUNTED))
        return 0;
    u64 nr = ctx->args[1];
    if (nr >= NR_MAX)
        return 0;
    u32 n = nr;
    u8 *w = wanted.lookup(&n);
    if (!w || !*w)
        return 0;
    cs->call = CALL(nr, NOW());
    return 0;
}

/* The current task's call in flight (0: none), taken. */
static __always_inline u64 take_call(struct cpu_state *cs)
{
    u64 got = *(volatile u64 *)&cs->call;
    cs->call = 0;
    if (got)
        return got;  /* the call ran here from start to end */
#ifdef TASK_STORAGE
    u64 *s = in_flight(0);
#else
    u64 id = bpf_get_current_pid_tgid();
    u64 *s = inflight.lookup(&id);
#endif
    if (s) {
        got = *s;
        *s = 0;
    }
    return got;
}

/* sched_switch, in the task leaving (current is still prev): its call in flight, if any, goes
 * with it, and the next task's word is made at its next syscall. */
int sum_switch(struct bpf_raw_tracepoint_args *ctx)
{
    FLOOR();
    u32 cpu = bpf_get_smp_processor_id();
    struct cpu_state *cs = cpus.lookup(&cpu);
    if (!cs)
        return 0;
    u64 call = *(volatile u64 *)&cs->call;
    if (call) {
#ifdef TASK_STORAGE
        u64 *s = in_flight(BPF_LOCAL_STORAGE_GET_F_CREATE);
        if (s)
            *s = call;
#else
        u64 id = bpf_get_current_pid_tgid();
        inflight.update(&id, &call);
#endif
    }
    cs->task = 0;
    cs->call = 0;
    return 0;
}

/* floor(log2(v)) (0 for 0 and 1), at most BUCKETS - 1: six halvings, not a loop per bit */
static __always_inline u32 log2_bucket(u64 v)
{
    u32 b = 0;
    if (v >> 32) { v >>= 32; b += 32; }
    if (v >> 16) { v >>= 16; b += 16; }
    if (v >> 8) { v >>= 8; b += 8; }
    if (v >> 4) { v >>= 4; b += 4; }
    if (v >> 2) { v >>= 2; b += 2; }
    if (v >> 1)
        b += 1;
    return b < BUCKETS - 1 ? b : BUCKETS - 1;
}

/* A row's figures added to its process's entry in stats (lost if stats is full, as a
 * process's first calls would be). */
static __always_inline void flush(struct row *r, u32 nr)
{
    struct key k = {r->tgid, nr};
    struct stats zero = {};
    struct stats *st = stats.lookup_or_try_init(&k, &zero);
    if (!st)
        return;
    if (!st->calls)
        __builtin_memcpy(st->comm, r->s.comm, sizeof(st->comm));
    st->calls += r->s.calls;
    st->errors += r->s.errors;
    st->ns += r->s.ns;
#pragma unroll
    for (int i = 0; i < BUCKETS; i++)
        st->hist[i] += r->s.hist[i];
}

int sum_exit(struct bpf_raw_tracepoint_args *ctx)
{
    FLOOR();
    u64 task;
    struct cpu_state *cs = this_cpu(&task);
    if (!cs || !(task & TASK_COUNTED))
        return 0;
    u64 call = take_call(cs);
    if (!call)
        return 0;
    u64 ns = (NOW() - call) & TS_MASK;
    struct key k = {(u32)task & (TASK_COUNTED - 1), (u32)(call >> 48) - 1};
    s64 ret = (s64)ctx->args[1];
    /* a new process returning 0 from fork/clone: the call is its parent's */
    if (ret == 0 && IS_FORK(k.nr))
        return 0;
    struct row *r = rows.lookup(&k.nr);
    if (!r)
        return 0;
    if (r->tgid != k.tgid) {  /* another process's row: move it to stats, start ours */
        if (r->tgid)
            flush(r, k.nr);
        __builtin_memset(&r->s, 0, sizeof(r->s));
        r->tgid = k.tgid;
        bpf_get_current_comm(r->s.comm, sizeof(r->s.comm));
    }
    struct stats *st = &r->s;
    st->calls++;
    if (ret < 0 && ret > -4096)
        st->errors++;
    st->ns += ns;
    u32 b = log2_bucket(ns);
    if (b < BUCKETS)
        st->hist[b]++;
    return 0;
}

/* Calls that never return (exit_group) are not counted, as strace -c does not. */
TRACEPOINT_PROBE(sched, sched_process_exit)
{
    u64 id = bpf_get_current_pid_tgid();
#ifndef TASK_STORAGE
    inflight.delete(&id);  /* task storage goes with its task */
#endif
    /* the PID may be reused by a process nobody asked for */
    u32 tid = (u32)id;
    u8 *t = traced.lookup(&tid);
    if (t)
        *t = 0;
    return 0;
}

TRACEPOINT_PROBE(sched, sched_process_fork)
{
    u32 k = CFG_FOLLOW;
    u64 *follow = config.lookup(&k);
    if (!follow || !*follow)
        return 0;
    u32 parent = bpf_get_current_pid_tgid() >> 32;
    if (!is_traced(parent))
        return 0;
    u32 child = args->child_pid;
    u8 one = 1;
    traced.update(&child, &one);
    return 0;
}
