/* Building one record (struct event, then one blob per captured argument) in the per-CPU
 * scratch buffer: what the generic handlers (handlers.c) and the user handlers (api.h) share. */
#ifndef TRACER_RECORD_H
#define TRACER_RECORD_H
#include "maps.h"

/* Close the record that ends at `off` and hand it to the event buffer. */
static __always_inline int send_record(void *ctx, struct event *e, u32 off, u16 nblobs)
{
    e->nblobs = nblobs;
    off = (off + 7) & ~7;
    if (off > SCRATCH)
        off = SCRATCH;
    e->size = off;
    submit(ctx, e, off);
    return 0;
}

/* The string and buffer readers stay apart: clang would otherwise merge the two helper
 * calls into one indirect call, which BPF does not have. */
static __always_inline u32 put_str(char *buf, u32 off, u8 arg, u64 ptr, u16 *nblobs)
{
    off = (off + 7) & ~7;
    if (off > OFF_MASK - sizeof(struct blob))
        return off;  /* event full: later arguments are shown as pointers */
    off &= OFF_MASK;
    struct blob *b = blob_at(buf, off, arg, CAP_STR);
    /* two bytes more than we keep: a string of exactly STR_MAX bytes (a PATH_MAX path) reads
     * whole with its NUL, and only a longer one fills the read and is marked cut */
    long n = bpf_probe_read_user_str(buf + off + sizeof(struct blob), STR_MAX + 2, (void *)ptr);
    if (n <= 0)
        return off;
    if (n >= STR_MAX + 2) {
        b->trunc = 1;
        n = STR_MAX + 1;
    }
    b->len = n - 1;  /* without the NUL */
    (*nblobs)++;
    return off + sizeof(struct blob) + (u32)(n - 1);
}

static __always_inline u32 put_buf(char *buf, u32 off, u8 arg, u8 kind, u64 ptr, u64 len, u16 *nblobs)
{
    off = (off + 7) & ~7;
    if (off > OFF_MASK - sizeof(struct blob))
        return off;
    off &= OFF_MASK;
    struct blob *b = blob_at(buf, off, arg, kind);
    if (len > STR_MAX) {
        len = STR_MAX;
        b->trunc = 1;
    }
    len &= (2 * STR_MAX - 1);  /* the verifier's bound; the lines above are the meaning */
    if (len > STR_MAX)
        len = STR_MAX;
    if (bpf_probe_read_user(buf + off + sizeof(struct blob), (u32)len, (void *)ptr))
        return off;
    b->len = len;
    (*nblobs)++;
    return off + sizeof(struct blob) + (u32)len;
}

static __always_inline void fill_event(struct event *e, struct call *c, u16 flags)
{
    u64 id = bpf_get_current_pid_tgid();
    e->ts = c->ts;
    e->ts_exit = (flags & EV_ENTER) ? 0 : bpf_ktime_get_ns();
    e->tgid = id >> 32;
    e->tid = (u32)id;
    e->cgroup = bpf_get_current_cgroup_id();
    e->ret = (flags & EV_ENTER) ? 0 : c->ret;
#pragma unroll
    for (int i = 0; i < 6; i++)
        e->args[i] = c->args[i];
    e->nr = c->nr;
    e->flags = flags;
    e->nblobs = 0;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* The call being handled (`cur`, filled by the dispatch) and a new record for it in the
 * scratch buffer, flagged EV_ENTER when the call is at its entry. */
static __always_inline struct event *begin_record(struct call **cp)
{
    u32 zero = 0;
    struct call *c = cur.lookup(&zero);
    struct scratch_buf *sb = scratch.lookup(&zero);
    if (!c || !sb)
        return 0;
    struct event *e = (struct event *)sb->d;
    fill_event(e, c, c->flags & EV_ENTER);
    *cp = c;
    return e;
}
#endif
