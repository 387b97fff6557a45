/* The generic handler: one program for every syscall, driven by descs[nr] (built
 * from the tracefs format files and tracer/syscalls/specs.py). It copies the call
 * into an event and appends the user memory its arguments point to. */
#include "maps.h"

/* Close the record that ends at `off` and hand it to the event buffer. */
static __always_inline int send(void *ctx, struct event *e, u32 off, u16 nblobs)
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
    len &= (2 * STR_MAX - 1);
    if (len > STR_MAX)
        len = STR_MAX;
    if (bpf_probe_read_user(buf + off + sizeof(struct blob), (u32)len, (void *)ptr))
        return off;
    b->len = len;
    (*nblobs)++;
    return off + sizeof(struct blob) + (u32)len;
}

static __always_inline u32 put_argv(char *buf, u32 off, u8 arg, u64 ptr, u16 *nblobs)
{
    off = (off + 7) & ~7;
    if (off > OFF_MASK - sizeof(struct blob) - ARGV_MAX * ARGV_STR)
        return off;
    off &= OFF_MASK;
    struct blob *b = blob_at(buf, off, arg, CAP_STRV);
    u32 len = 0;
    /* ARGV_MAX * ARGV_STR stays below OFF_MASK minus the path before it: no bound check
     * per entry, and no branch the verifier would have to explore twice per entry. */
    for (int i = 0; i < ARGV_MAX; i++) {
        u64 p = 0;
        if (bpf_probe_read_user(&p, sizeof(p), (void *)(ptr + i * 8)) || !p)
            goto done;
        u32 at = (off + sizeof(struct blob) + len) & OFF_MASK;
        long n = bpf_probe_read_user_str(buf + at, ARGV_STR, (void *)p);
        if (n <= 0)
            goto done;
        b->trunc |= (u8)(n >> 8);  /* n == ARGV_STR (256): this entry was cut */
        len += n & (ARGV_STR * 2 - 1);
    }
    b->trunc |= 2;  /* more entries than we keep */
done:
    b->len = len;
    (*nblobs)++;
    return off + sizeof(struct blob) + len;
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
    bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* The call being handled, its descriptor, and a new record for it in the scratch buffer. */
static __always_inline struct event *begin(u16 flags, struct call **cp, struct desc **dp)
{
    u32 zero = 0;
    struct call *c = cur.lookup(&zero);
    struct scratch_buf *sb = scratch.lookup(&zero);
    if (!c || !sb)
        return 0;
    u32 nr = c->nr;
    struct desc *d = descs.lookup(&nr);
    if (!d)
        return 0;
    struct event *e = (struct event *)sb->d;
    fill_event(e, c, flags);
    *cp = c;
    *dp = d;
    return e;
}

static __always_inline int handle(void *ctx, u16 flags)
{
    struct call *c;
    struct desc *d;
    struct event *e = begin(flags, &c, &d);
    if (!e)
        return 0;
    char *buf = (char *)e;
    u16 nblobs = 0;
    u32 off = sizeof(struct event);
    u8 now = (flags & EV_ENTER) ? CAPW_ENTRY : CAPW_EXIT;
    for (int i = 0; i < 6; i++) {
        u8 kind = d->kind[i];
        if (kind == CAP_NONE || !(d->when[i] & now))
            continue;
        u64 ptr = c->args[i];
        if (!ptr)
            continue;
        u32 sa = d->size_arg[i];
        sa = sa < 6 ? sa : 0;
        sa &= 7;  /* the verifier's bound; the line above is the meaning */
        u64 len = 0;
        if (kind == CAP_STR) {
            off = put_str(buf, off, i, ptr, &nblobs);
        } else if (kind == CAP_STRV || kind == CAP_IOV || kind == CAP_MSGHDR) {
            continue;  /* handle_exec's and handle_iov's jobs: their loops would make this one too complex */
        } else {
            if (kind == CAP_BUF_IN)
                len = c->args[sa] + d->fixed[i];  /* a header before the counted bytes */
            else if (kind == CAP_BUF_RET)
                len = (flags & EV_ENTER) || c->ret <= 0 ? 0 : c->ret;
            else if (kind == CAP_FIXED)
                len = d->fixed[i];
            else if (kind == CAP_LENPTR) {
                u32 l = 0;
                if (c->args[sa])
                    bpf_probe_read_user(&l, sizeof(l), (void *)c->args[sa]);
                len = l;
            } else if (kind == CAP_ARRAY)
                len = (c->args[sa] & 0xffff) * d->fixed[i];
            else if (kind == CAP_ARRAY_RET)
                len = (flags & EV_ENTER) || c->ret <= 0 ? 0 : ((u64)c->ret & 0xffff) * d->fixed[i];
            else if (kind == CAP_BITS) {
                len = ((c->args[sa] & 0xffff) + 63) / 64 * 8;
                if (len > d->fixed[i])
                    len = d->fixed[i];
            }
            if (len)
                off = put_buf(buf, off, i, kind, ptr, len, &nblobs);
        }
    }
    return send(ctx, e, off, nblobs);
}

int handle_enter(void *ctx)
{
    return handle(ctx, EV_ENTER);
}

int handle_exit(void *ctx)
{
    return handle(ctx, 0);
}

/* The number of entries of a NULL-terminated pointer array (execve's envp, which strace
 * shows as a count): a 4-byte blob, marked cut when the array is longer than ENV_MAX. */
static __always_inline u32 put_count(char *buf, u32 off, u8 arg, u64 ptr, u16 *nblobs)
{
    off = (off + 7) & ~7;
    if (!ptr || off > OFF_MASK - sizeof(struct blob) - 8)
        return off;
    off &= OFF_MASK;
    struct blob *b = blob_at(buf, off, arg, CAP_FIXED);
    u32 n = 0;
    for (int i = 0; i < ENV_MAX; i++) {
        u64 p = 0;
        if (bpf_probe_read_user(&p, sizeof(p), (void *)(ptr + i * 8)) || !p)
            goto done;
        n++;
    }
    b->trunc = 1;
done:
    *(u32 *)(buf + off + sizeof(struct blob)) = n;
    b->len = 4;
    (*nblobs)++;
    return off + sizeof(struct blob) + 4;
}

/* execve/execveat: the path argument just before argv, argv itself, and how many
 * environment variables, in a record flagged `flags`. */
static __always_inline int exec_record(void *ctx, u16 flags)
{
    struct call *c;
    struct desc *d;
    struct event *e = begin(flags, &c, &d);
    if (!e)
        return 0;
    char *buf = (char *)e;
    u32 k = d->kind[2] == CAP_STRV ? 2 : 1;  /* execveat has a dirfd first */
    u16 nblobs = 0;
    u32 off = sizeof(struct event);
    off = put_str(buf, off, k - 1, c->args[k - 1], &nblobs);
    off = put_argv(buf, off, k, c->args[k], &nblobs);
    off = put_count(buf, off, k + 1, c->args[k + 1], &nblobs);
    return send(ctx, e, off, nblobs);
}

/* At entry: the old program's memory is gone once an execve succeeds. */
int handle_exec(void *ctx)
{
    return exec_record(ctx, EV_ENTER);
}

/* At exit. A failed execve gets its arguments read again: the caller's memory is still
 * there, and the kernel has faulted in the pages a read at entry (which cannot fault)
 * may have missed. A successful one returns only its value. */
int handle_exec_exit(void *ctx)
{
    u32 zero = 0;
    struct call *c = cur.lookup(&zero);
    if (c && c->ret < 0)
        return exec_record(ctx, 0);
    return handle(ctx, 0);
}

/* One iovec entry k of the array at ptr: its struct iovec then up to IOV_STR bytes of its data,
 * at a fixed stride from off. 0 when the entry cannot be read. */
static __always_inline int put_iov_entry(char *buf, u32 off, u64 ptr, int k)
{
    u64 e[2] = {};  /* iov_base, iov_len: read on the stack, stored into the record */
    if (bpf_probe_read_user(e, sizeof(e), (void *)(ptr + k * 16)))
        return 0;
    u32 at = (off + sizeof(struct blob) + k * IOV_ENTRY) & OFF_MASK;
    *(u64 *)(buf + at) = e[0];
    *(u64 *)(buf + at + 8) = e[1];
    u32 n = e[1] < IOV_STR ? (u32)e[1] : IOV_STR;
    n &= 2 * IOV_STR - 1;  /* a bound the verifier sees; a zero size is allowed */
    bpf_probe_read_user(buf + at + 16, n, (void *)e[0]);
    return 1;
}

/* An iovec array: its first IOV_MAX entries; marked cut when it has more. The entries are
 * written out one by one rather than in a loop: the compiler turns such a loop into one whose
 * exit compares two registers, which older verifiers cannot bound. */
static __always_inline u32 put_iov(char *buf, u32 off, u8 arg, u64 ptr, u64 count, u16 *nblobs)
{
    off = (off + 7) & ~7;
    if (!ptr || off > OFF_MASK - sizeof(struct blob) - IOV_MAX * IOV_ENTRY)
        return off;
    off &= OFF_MASK;
    struct blob *b = blob_at(buf, off, arg, CAP_IOV);
    u32 k = 0;
#define IOV_ONE(i) if (k == i && i < count && put_iov_entry(buf, off, ptr, i)) k = i + 1;
    IOV_ONE(0) IOV_ONE(1) IOV_ONE(2) IOV_ONE(3) IOV_ONE(4) IOV_ONE(5) IOV_ONE(6) IOV_ONE(7)
#undef IOV_ONE
    _Static_assert(IOV_MAX == 8, "put_iov writes out IOV_MAX entries");
    if (count > IOV_MAX)
        b->trunc = 1;
    b->len = k * IOV_ENTRY;
    (*nblobs)++;
    return off + sizeof(struct blob) + k * IOV_ENTRY;
}

/* Calls with iovec arrays (readv, writev, preadv ...) or a struct msghdr holding one
 * (sendmsg, recvmsg): the first such argument, captured at exit (one put_iov per program: the
 * verifier walks each unrolled copy, and six overflow its limit; process_vm_*'s second array
 * lives in another process and is not readable here anyway). A msghdr comes whole, then its
 * iovecs under the argument's index + MSG_IOV_KEY. */
int handle_iov(void *ctx)
{
    struct call *c;
    struct desc *d;
    struct event *e = begin(0, &c, &d);
    if (!e)
        return 0;
    char *buf = (char *)e;
    u16 nblobs = 0;
    u32 off = sizeof(struct event);
    int at = -1;
    for (int i = 0; i < 6; i++) {
        if (d->kind[i] == CAP_IOV || d->kind[i] == CAP_MSGHDR) {
            at = i;
            break;
        }
    }
    if (at < 0 || at >= 6)
        return send(ctx, e, off, nblobs);
    u64 iov = c->args[at], count = 0;
    u8 iov_arg = at;
    if (d->kind[at] == CAP_MSGHDR) {
        if (!iov)
            return send(ctx, e, off, nblobs);
        u64 msg[MSGHDR_SIZE / 8] = {};  /* name, namelen, iov, iovlen, control, controllen, flags */
        if (bpf_probe_read_user(msg, sizeof(msg), (void *)iov))
            return send(ctx, e, off, nblobs);
        struct blob *b = blob_at(buf, off, at, CAP_MSGHDR);
        __builtin_memcpy(buf + off + sizeof(struct blob), msg, sizeof(msg));
        b->len = sizeof(msg);
        nblobs++;
        off += sizeof(struct blob) + sizeof(msg);
        iov = msg[2];
        count = msg[3];
        iov_arg = at + MSG_IOV_KEY;
    } else {
        u32 sa = d->size_arg[at];
        sa = sa < 6 ? sa : 0;
        sa &= 7;
        count = c->args[sa];
    }
    off = put_iov(buf, off, iov_arg, iov, count, &nblobs);
    return send(ctx, e, off, nblobs);
}
