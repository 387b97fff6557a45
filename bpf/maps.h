/* The maps shared by the dispatchers and every handler. */
#ifndef TRACER_MAPS_H
#define TRACER_MAPS_H
#include "tracer.h"

/* TGID -> 1 + its handler-set slot (0: none of its own). An array over every possible
 * PID rather than a hash: untraced processes pay this lookup on each syscall, and the
 * JIT turns an array lookup into a few instructions (4 MiB of kernel memory). */
BPF_ARRAY(pid_slot, u8, PID_LIMIT);
BPF_TABLE("lru_hash", u64, struct call, inflight, 16384);  /* pid_tgid -> call in flight */
BPF_PERCPU_ARRAY(cur, struct call, 1);              /* the call a handler works on */
BPF_ARRAY(descs, struct desc, NR_MAX);
BPF_ARRAY(wanted, u8, MAX_SLOTS * NR_MAX);          /* slot*NR_MAX+nr: record this call */
BPF_PROG_ARRAY(enter_progs, MAX_SLOTS * NR_MAX);    /* handlers run at entry */
BPF_PROG_ARRAY(exit_progs, MAX_SLOTS * NR_MAX);     /* handlers run at exit */
BPF_PERCPU_ARRAY(scratch, struct scratch_buf, 1);
BPF_PERCPU_ARRAY(lost, u64, 1);                     /* events the buffer had no room for */
BPF_ARRAY(config, u64, 4);
#ifdef USE_RINGBUF
BPF_RINGBUF_OUTPUT(events, RINGBUF_PAGES);
#else
BPF_PERF_OUTPUT(events);
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
    if (err) {
        u32 zero = 0;
        u64 *n = lost.lookup(&zero);
        if (n)
            (*n)++;
    }
}
#endif
