/* The generic handlers: one program for every syscall, driven by descs[nr] (built
 * from the syscall descriptions, tracer/syscalls/specs.py). It copies the call into a
 * record and appends the user memory its arguments point to: handle_call at exit,
 * handle_entry at entry; execve's and iovecs' have their own. */
#include "record.h"

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

/* The call being handled, its descriptor, and a new record for it. */
static __always_inline struct event *begin(struct call **cp, struct desc **dp)
{
    struct event *e = begin_record(cp);
    if (!e)
        return 0;
    u32 nr = (*cp)->nr;
    *dp = descs.lookup(&nr);
    return *dp ? e : 0;
}

/* A fixed-size struct or a bitmap argument `i` points to (len 0: none). */
static __always_inline u64 fixed_len(struct call *c, struct desc *d, int i, u8 kind, u32 sa)
{
    if (kind == CAP_FIXED)
        return d->fixed[i];
    if (kind == CAP_BITS) {
        u64 len = ((c->args[sa] & 0xffff) + 63) / 64 * 8;
        return len > d->fixed[i] ? d->fixed[i] : len;
    }
    return 0;
}

/* Index of the argument that holds argument i's length, bounded for the verifier. */
static __always_inline u32 size_arg(struct desc *d, int i)
{
    u32 sa = d->size_arg[i];
    sa = sa < 6 ? sa : 0;
    return sa & 7;  /* the verifier's bound; the line above is the meaning */
}

/* At exit: every argument the descriptor captures when the call returns. */
int handle_call(void *ctx)
{
    struct call *c;
    struct desc *d;
    struct event *e = begin(&c, &d);
    if (!e)
        return 0;
    char *buf = (char *)e;
    u16 nblobs = 0;
    u32 off = sizeof(struct event);
    for (int i = 0; i < 6; i++) {
        u8 kind = d->kind[i];
        if (kind == CAP_NONE || !(d->when[i] & CAPW_EXIT))
            continue;
        u64 ptr = c->args[i];
        if (!ptr)
            continue;
        u32 sa = size_arg(d, i);
        u64 len = 0;
        if (kind == CAP_STR) {
            off = put_str(buf, off, i, ptr, &nblobs);
            continue;
        }
        if (kind == CAP_STRV || kind == CAP_IOV || kind == CAP_MSGHDR)
            continue;  /* handle_exec's and handle_iov's jobs: their loops would make this one too complex */
        if (kind == CAP_BUF_IN)
            len = c->args[sa] + d->fixed[i];  /* a header before the counted bytes */
        else if (kind == CAP_BUF_RET)
            len = c->ret <= 0 ? 0 : c->ret;
        else if (kind == CAP_LENPTR) {
            u32 l = 0;
            if (c->args[sa])
                bpf_probe_read_user(&l, sizeof(l), (void *)c->args[sa]);
            len = l;
        } else if (kind == CAP_ARRAY)
            len = (c->args[sa] & 0xffff) * d->fixed[i];
        else if (kind == CAP_ARRAY_RET)
            len = c->ret <= 0 ? 0 : ((u64)c->ret & 0xffff) * d->fixed[i];
        else
            len = fixed_len(c, d, i, kind, sa);
        if (len)
            off = put_buf(buf, off, i, kind, ptr, len, &nblobs);
    }
    return send_record(ctx, e, off, nblobs);
}

/* At entry: what a call passes in that it may change before it returns, which is only ever a
 * fixed-size struct or a bitmap (a timeout, an fd_set, a socklen: tests/test_syscall_desc.py
 * checks the descriptions say so). A small program of its own: the verifier walks it in a
 * fraction of handle_call's time. exit and exit_group, which never return, come here too. */
int handle_entry(void *ctx)
{
    struct call *c;
    struct desc *d;
    struct event *e = begin(&c, &d);
    if (!e)
        return 0;
    u16 nblobs = 0;
    u32 off = sizeof(struct event);
    for (int i = 0; i < 6; i++) {
        u8 kind = d->kind[i];
        if (!(d->when[i] & CAPW_ENTRY) || !c->args[i])
            continue;
        u64 len = fixed_len(c, d, i, kind, size_arg(d, i));
        if (len)
            off = put_buf((char *)e, off, i, kind, c->args[i], len, &nblobs);
    }
    return send_record(ctx, e, off, nblobs);
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
 * environment variables. At entry: the old program's memory is gone once an execve
 * succeeds, so a successful one's exit record has its return value only. A failed one's
 * arguments are read again at exit: the caller's memory is still there, and the kernel
 * has faulted in the pages a read at entry (which cannot fault) may have missed. */
int handle_exec(void *ctx)
{
    struct call *c;
    struct desc *d;
    struct event *e = begin(&c, &d);
    if (!e)
        return 0;
    char *buf = (char *)e;
    u16 nblobs = 0;
    u32 off = sizeof(struct event);
    if (!(e->flags & EV_ENTER) && c->ret >= 0)
        return send_record(ctx, e, off, nblobs);
    u32 k = d->kind[2] == CAP_STRV ? 2 : 1;  /* execveat has a dirfd first */
    off = put_str(buf, off, k - 1, c->args[k - 1], &nblobs);
    off = put_argv(buf, off, k, c->args[k], &nblobs);
    off = put_count(buf, off, k + 1, c->args[k + 1], &nblobs);
    return send_record(ctx, e, off, nblobs);
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
    struct event *e = begin(&c, &d);
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
        return send_record(ctx, e, off, nblobs);
    u64 iov = c->args[at], count = 0;
    u8 iov_arg = at;
    if (d->kind[at] == CAP_MSGHDR) {
        if (!iov)
            return send_record(ctx, e, off, nblobs);
        u64 msg[MSGHDR_SIZE / 8] = {};  /* name, namelen, iov, iovlen, control, controllen, flags */
        if (bpf_probe_read_user(msg, sizeof(msg), (void *)iov))
            return send_record(ctx, e, off, nblobs);
        struct blob *b = blob_at(buf, off, at, CAP_MSGHDR);
        __builtin_memcpy(buf + off + sizeof(struct blob), msg, sizeof(msg));
        b->len = sizeof(msg);
        nblobs++;
        off += sizeof(struct blob) + sizeof(msg);
        iov = msg[2];
        count = msg[3];
        iov_arg = at + MSG_IOV_KEY;
    } else {
        count = c->args[size_arg(d, at)];
    }
    off = put_iov(buf, off, iov_arg, iov, count, &nblobs);
    return send_record(ctx, e, off, nblobs);
}
