/* tracer's handler API: a syscall handler in a few lines of C, for `tracer trace`.
 *
 *   // only report opens of files under /etc
 *   TRACER_HANDLER(openat)
 *   {
 *       if (!tracer_str_starts(1, "/etc/"))
 *           return 0;              // nothing reported for this call
 *       tracer_emit_str(1);        // the path, shown as openat's second argument
 *       return tracer_submit();
 *   }
 *
 * Load it with `tracer trace PID:/path/to/file.c` (or `tracer ctl add` while
 * tracing). The file needs no #include: this header is put in front of it.
 *
 * When it runs: when the syscall returns, in the context of the process that made
 * it, for the processes whose handler set holds the file. Arguments and return
 * value are both at hand (the entry and the exit of the call are paired for you).
 * A file may hold several handlers, one per syscall. execve, execveat, exit and
 * exit_group cannot have user handlers (their memory is gone, or they never return).
 *
 * The record a handler submits is the one every tracer handler emits (struct event
 * in tracer.h): the call's arguments and return value, plus the user memory the
 * handler chose to capture. It is printed like any other call, strace-style:
 *   TIMESTAMP COMM PID/TID openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3
 * A handler that returns without tracer_submit() reports nothing.
 *
 * Inside a handler:
 *   tracer_arg(i)            u64, argument i (0..5) as the caller passed it
 *   tracer_ret()             s64, the return value (negative: -errno)
 *   tracer_nr()              the syscall number
 *   tracer_pid(), tracer_tid()
 *   tracer_read_user(dst, size, ptr)   copy user memory onto the stack (0: done)
 *   tracer_str_starts(i, "literal")    1 if the user string argument i points to
 *                            starts with the literal (at most 63 characters)
 *   tracer_emit_str(i)       capture the NUL-terminated string argument i points to
 *   tracer_emit_buf(i, n)    capture n bytes (at most 4096) argument i points to,
 *                            e.g. tracer_emit_buf(1, tracer_arg(2)) for connect's address
 *   tracer_emit_int(i, v)    show the value v for argument i (e.g. one you read from
 *                            user memory) instead of what the caller passed
 *   tracer_submit()          send the record; returns 0
 * Captures are shown decoded as the syscall's own argument (a path, a sockaddr...).
 *
 * Compiled by BCC when loaded, against the maps of the running tracer (maps.h
 * with TRACER_EXTERN): compile errors are reported with this file's line numbers.
 */
#ifndef TRACER_API_H
#define TRACER_API_H
#include "record.h"

struct tracer_state {
    void *ctx;
    struct call *c;
    struct event *e;
    u32 off;
    u16 nblobs;
};

static __always_inline int tracer__begin(void *ctx, struct tracer_state *t)
{
    t->e = begin_record(&t->c);
    if (!t->e)
        return -1;
    t->ctx = ctx;
    t->off = sizeof(struct event);
    t->nblobs = 0;
    return 0;
}

static __always_inline void tracer__emit_str(struct tracer_state *t, u32 arg)
{
    if (arg < 6)
        t->off = put_str((char *)t->e, t->off, arg, t->c->args[arg & 7], &t->nblobs);
}

static __always_inline void tracer__emit_buf(struct tracer_state *t, u32 arg, u64 len)
{
    if (arg < 6 && len)
        t->off = put_buf((char *)t->e, t->off, arg, CAP_BUF_IN, t->c->args[arg & 7], len, &t->nblobs);
}

static __always_inline void tracer__emit_int(struct tracer_state *t, u32 arg, u64 v)
{
    if (arg < 6)
        t->e->args[arg] = v;
}

/* Unrolled with a literal: clang folds lit[k] to constants, no string in .rodata. */
static __always_inline int tracer__starts(struct tracer_state *t, u32 arg, const char *lit, u32 n)
{
    char s[64] = {};
    if (arg > 5)
        return 0;
    if (bpf_probe_read_user_str(s, sizeof(s), (void *)t->c->args[arg & 7]) <= 0)
        return 0;
#pragma unroll
    for (int k = 0; k < 63; k++) {
        if (k >= n)
            return 1;
        if (s[k] != lit[k])
            return 0;
    }
    return 1;
}

static __always_inline int tracer__submit(struct tracer_state *t)
{
    return send_record(t->ctx, t->e, t->off, t->nblobs);
}

/* The loader finds handlers by this name scheme (tracer/ebpf/userhandlers.py):
 * the program is tracer_h_<syscall>, the body a function of the state `__t`. */
#define TRACER_HANDLER(_name)                                                   \
    static __always_inline int tracer_body_##_name(struct tracer_state *__t);    \
    int tracer_h_##_name(void *ctx)                                             \
    {                                                                           \
        struct tracer_state __s = {};                                           \
        if (tracer__begin(ctx, &__s))                                           \
            return 0;                                                           \
        return tracer_body_##_name(&__s);                                       \
    }                                                                           \
    static __always_inline int tracer_body_##_name(struct tracer_state *__t)

#define tracer_arg(i) ((i) < 6 ? __t->c->args[(i) % 6] : 0)
#define tracer_ret() (__t->c->ret)
#define tracer_nr() (__t->c->nr)
#define tracer_pid() ((u32)(bpf_get_current_pid_tgid() >> 32))
#define tracer_tid() ((u32)bpf_get_current_pid_tgid())
#define tracer_read_user(dst, size, ptr) bpf_probe_read_user((dst), (size), (void *)(ptr))
#define tracer_str_starts(i, lit) tracer__starts(__t, (i), (lit), sizeof(lit) - 1)
#define tracer_emit_str(i) tracer__emit_str(__t, (i))
#define tracer_emit_buf(i, n) tracer__emit_buf(__t, (i), (n))
#define tracer_emit_int(i, v) tracer__emit_int(__t, (i), (v))
#define tracer_submit() tracer__submit(__t)

#endif
