/* The maps shared by the dispatchers and every handler. */
#ifndef TRACER_MAPS_H
#define TRACER_MAPS_H
#include "tracer.h"

/* Every map is public (BCC's BPF_TABLE_PUBLIC): a module compiled later in the same
 * process with -DTRACER_EXTERN (a user's handler file, see api.h) declares them
 * "extern" and shares them, so its programs can sit in these prog arrays and use
 * the same `cur`, scratch buffer and event buffer as the generic handlers. */
#ifdef TRACER_EXTERN
#define TRACER_MAP(_type, _key, _leaf, _name, _n) BPF_TABLE("extern", _key, _leaf, _name, _n)
#else
#define TRACER_MAP(_type, _key, _leaf, _name, _n) BPF_TABLE_PUBLIC(_type, _key, _leaf, _name, _n)
#endif

/* TGID -> 1 + its handler-set slot (0: none of its own). An array over every possible
 * PID rather than a hash: untraced processes pay this lookup on each syscall, and the
 * JIT turns an array lookup into a few instructions (4 MiB of kernel memory). */
TRACER_MAP("array", int, u8, pid_slot, PID_LIMIT);
/* CPU -> the slot of the task running there (dispatch.c current_slot) */
TRACER_MAP("array", int, struct cpu_slot, cpu_slot, MAX_CPUS);
TRACER_MAP("lru_hash", u64, struct call, inflight, 16384);   /* pid_tgid -> call in flight */
/* pid_tgid -> entry time of the call in flight, raw mode with durations only (raw_enter) */
TRACER_MAP("lru_hash", u64, u64, entry_ts, 16384);
TRACER_MAP("percpu_array", int, struct call, cur, 1);         /* the call a handler works on */
TRACER_MAP("array", int, struct desc, descs, NR_MAX);
TRACER_MAP("array", int, u8, wanted, MAX_SLOTS * NR_MAX);     /* slot*NR_MAX+nr: record this call */
TRACER_MAP("prog", u32, u32, enter_progs, MAX_SLOTS * NR_MAX); /* handlers run at entry */
TRACER_MAP("prog", u32, u32, exit_progs, MAX_SLOTS * NR_MAX);  /* handlers run at exit */
TRACER_MAP("percpu_array", int, struct scratch_buf, scratch, 1);
TRACER_MAP("percpu_array", int, u64, lost, 1);                /* events the buffer had no room for */
TRACER_MAP("array", int, u64, config, CFG_SIZE);
static __always_inline u64 config_at(u32 k)
{
    u64 *v = config.lookup(&k);
    return v ? *v : 0;
}
/* cgroup v2 id -> 1 + slot: a container's processes, even those that join it later
 * (podman exec) and so descend from none of its processes. */
TRACER_MAP("hash", u64, u8, cgroup_slot, 256);

/* The event buffer: BCC's output macros have no PUBLIC form, so the export (or
 * extern) declaration is spelled out; the struct is the one the macros define. */
#ifdef USE_RINGBUF
#ifdef TRACER_EXTERN
struct events_table_t {
    int key;
    u32 leaf;
    int (*ringbuf_output) (void *, u64, u64);
    void *(*ringbuf_reserve) (u64);
    void (*ringbuf_discard) (void *, u64);
    void (*ringbuf_submit) (void *, u64);
    u32 max_entries;
};
__attribute__((section("maps/extern"))) struct events_table_t events = { .max_entries = 0 };
#else
BPF_RINGBUF_OUTPUT(events, RINGBUF_PAGES);
__attribute__((section("maps/export"))) struct events_table_t __events;
#endif
#else
#ifdef TRACER_EXTERN
struct events_table_t {
    int key;
    u32 leaf;
    int (*perf_submit) (void *, void *, u32);
    int (*perf_submit_skb) (void *, u32, void *, u32);
    u32 max_entries;
};
__attribute__((section("maps/extern"))) struct events_table_t events = { .max_entries = 0 };
#else
BPF_PERF_OUTPUT(events);
__attribute__((section("maps/export"))) struct events_table_t __events;
#endif
#endif

static __always_inline void submit(void *ctx, void *data, u32 size)
{
    int err;
    size &= (SCRATCH - 1);
#ifdef USE_RINGBUF
    err = events.ringbuf_output(data, size, 0);
#else
    err = events.perf_submit(ctx, data, size);
#endif
    /* Count every event that did not fit, in both buffers: the ring buffer drops
     * silently, and the perf buffer reports a drop only when a later event fits. */
    if (err) {
        u32 zero = 0;
        u64 *n = lost.lookup(&zero);
        if (n)
            (*n)++;
    }
}
#endif
