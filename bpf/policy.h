/* TracingPolicy programs: what every hook of a compiled policy shares.
 *
 * A policy is compiled at run time (tracer/policy/codegen.py) into one BCC module:
 * dispatch.c (slot_of(), fork following, the maps of maps.h), this file, and
 * policy_hook.h instantiated once per hook point with the #defines the plan made
 * for it. Each hook point has a front end (attached to the tracepoint, kprobe or
 * uprobe) that finds the process's handler-set slot and tail-calls that slot's
 * handler for the hook; the handler captures the typed arguments, runs the
 * selectors in the kernel and acts (post, signal, override).
 *
 * The record a handler submits (tracer/policy/record.py mirrors it): a struct
 * pol_event, then one struct pol_arg per captured argument, data padded to 8.
 */
#ifndef TRACER_POLICY_H
#define TRACER_POLICY_H

/* Generated before this file by tracer/policy/codegen.py from tracer/policy/types.py, the one
 * place they are written: the layout limits (POL_MAX_HOOKS, POL_MAX_STR, POL_OFF_MAX,
 * POL_DATA_MAX, POL_HELD, POL_RET_SLOT, POL_MAX_SUFFIXES), the argument types (T_INT ...),
 * the hook kinds (K_TP, K_SYS_TP, K_SYS_KP, K_KPROBE, K_UPROBE), the filter operators
 * (OP_EQ ...) and the actions (ACT_POST, ACT_SIGNAL, ACT_OVERRIDE). */
#define POL_PATH_DEPTH 16        /* directory levels a file/path argument shows */
#define POL_NAME_MAX 255

#define EVF_RET 1        /* the event carries a return value */

struct pol_event {
    u64 ts;
    u32 tgid;
    u32 tid;
    u64 cgroup;
    s64 ret;
    u64 fn;              /* syscall number, or the probed function's address */
    u16 hook;
    u16 size;
    u8 nargs;
    u8 flags;
    u8 action;
    u8 sel;
    u32 ppid;
    u32 pad;
    char comm[16];
};

struct pol_arg {
    u8 slot;             /* position in the hook's args list, POL_RET_SLOT: return value */
    u8 type;
    u8 trunc;
    u8 pad;
    u32 len;
};

/* Network endpoints as sock, skb and sockaddr arguments show them (host byte order ports). */
struct pol_sock {
    u16 family;
    u16 type;
    u16 protocol;
    u16 state;
    u16 sport;
    u16 dport;
    u32 len;             /* skb: the packet's length */
    u8 saddr[16];        /* IPv4 in the first 4 bytes */
    u8 daddr[16];
};

struct pol_cred {
    u32 uid, gid, suid, sgid, euid, egid, fsuid, fsgid;
    u64 cap_inheritable, cap_permitted, cap_effective;
    u32 user_ns;
    u32 pad;
};

/* What a handler knows about the arguments it captured, for its selectors. */
struct pol_state {
    u64 vals[6];         /* raw values; [5]: the return value */
    u16 off[6];          /* where each argument's data starts in the event */
    u16 len[6];
    u32 size;            /* event bytes so far */
    u32 pad;
};

#define POL_EV_AT (sizeof(struct pol_state))

struct pol_num_key {
    u32 filter;
    u32 pad;
    u64 value;
};

struct pol_str_key {
    u32 prefixlen;
    u32 filter;
    char data[POL_MAX_STR];
};

/* POL_MAX_SUFFIXES: different lengths among a Postfix filter's values (from policy/types.py,
 * through codegen) */
struct pol_suffixes {
    u32 n;
    u32 len[POL_MAX_SUFFIXES];
};

struct pol_addr_key {
    u32 prefixlen;
    u32 filter;
    u8 addr[16];
};

struct pol_held_key {
    u64 id;
    u32 hook;
    u32 pad;
};

struct pol_held {
    char d[POL_HELD];
};

struct pol_rate_key {
    u32 hook;
    u32 who;
};

/* Handlers by slot and hook point, one array per program type (a tail call keeps the
 * caller's type): [slot * POL_MAX_HOOKS + hook] at entry, and the same index in the
 * second half for the return side. */
BPF_TABLE("prog", u32, u32, pol_tp_progs, 2 * MAX_SLOTS * POL_MAX_HOOKS);
BPF_TABLE("prog", u32, u32, pol_kp_progs, 2 * MAX_SLOTS * POL_MAX_HOOKS);
BPF_HASH(pol_nums, struct pol_num_key, u8, 4096);
BPF_LPM_TRIE(pol_strs, struct pol_str_key, u32, 4096);
BPF_LPM_TRIE(pol_addrs, struct pol_addr_key, u8, 1024);
BPF_HASH(pol_syscalls, u64, u8, 8192);          /* (hook << 32 | nr): a list hook's syscalls */
BPF_HASH(pol_rate, struct pol_rate_key, u64, 16384);
BPF_PERCPU_ARRAY(pol_key, struct pol_str_key, 1);
/* filter -> the lengths of its Postfix values (stored forward in pol_strs) */
BPF_HASH(pol_sufs, u32, struct pol_suffixes, 256);
#if POL_ANY_RET
BPF_TABLE("lru_hash", struct pol_held_key, struct pol_held, pol_inflight, 2048);
#endif
#if POL_BINARIES
/* tgid -> the path it executed (sched_process_exec), for matchBinaries */
BPF_TABLE("lru_hash", u32, struct pol_str_key, pol_bin, 32768);
BPF_PERCPU_ARRAY(pol_binkey, struct pol_str_key, 1);
#endif

/* Bound a variable offset into the event for the verifier: the empty asm keeps clang
 * from dropping a mask it believes redundant. */
#define POL_BOUND(x) ({ asm volatile("" : "+r"(x)); (x) &= POL_OFF_MAX; })

static __always_inline int pol_submit(void *ctx, void *data, u32 size)
{
    int err;
    /* Events are built to stay below POL_OFF_MAX (codegen's H_REGION); the empty asm
     * keeps clang from dropping the mask the verifier needs to see. */
    POL_BOUND(size);
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
    return 0;
}

/* A new blob header at st->size; returns its data offset, or 0 when the event is full. */
static __always_inline u32 pol_blob(char *ev, struct pol_state *st, u8 slot, u8 type, u32 end)
{
    u32 off = st->size;
    if (off > end || off > POL_OFF_MAX)
        return 0;
    struct pol_arg *a = (struct pol_arg *)(ev + off);
    a->slot = slot;
    a->type = type;
    a->trunc = 0;
    a->pad = 0;
    a->len = 0;
    return off + sizeof(struct pol_arg);
}

/* Close the blob whose data starts at `doff` with `len` bytes. */
static __always_inline void pol_close(char *ev, struct pol_state *st, u8 slot, u32 doff, u32 len,
                                      u8 trunc)
{
    u32 hoff = doff - sizeof(struct pol_arg);
    if (hoff > POL_OFF_MAX)
        return;
    struct pol_arg *a = (struct pol_arg *)(ev + hoff);
    a->len = len;
    a->trunc = trunc;
    if (slot < 6) {
        st->off[slot] = doff;
        st->len[slot] = len;
    }
    st->size = doff + ((len + 7) & ~7);
    struct pol_event *e = (struct pol_event *)ev;
    e->nargs++;
}

static __always_inline int pol_read(void *dst, u32 size, const void *src, int user)
{
    return user ? bpf_probe_read_user(dst, size, src) : bpf_probe_read_kernel(dst, size, src);
}

static __always_inline void pol_num(char *ev, struct pol_state *st, u8 slot, u8 type, u64 v, u32 end)
{
    u32 d = pol_blob(ev, st, slot, type, end);
    if (!d || d > POL_OFF_MAX)
        return;
    *(u64 *)(ev + d) = v;
    pol_close(ev, st, slot, d, 8, 0);
}

/* A NUL-terminated string (user or kernel memory), without its NUL. */
static __always_inline void pol_str(char *ev, struct pol_state *st, u8 slot, u8 type, u64 ptr,
                                    int user, u32 limit, u32 end)
{
    u32 d = pol_blob(ev, st, slot, type, end);
    if (!d || d > POL_OFF_MAX)
        return;
    if (limit > STR_MAX)
        limit = STR_MAX;
    int n = user ? bpf_probe_read_user_str(ev + d, limit, (void *)ptr)
                 : bpf_probe_read_kernel_str(ev + d, limit, (void *)ptr);
    u32 len = n > 0 ? n - 1 : 0;
    pol_close(ev, st, slot, d, len, n >= limit);
}

/* `size` bytes of a buffer, at most `max`. */
static __always_inline void pol_buf(char *ev, struct pol_state *st, u8 slot, u8 type, u64 ptr,
                                    s64 size, int user, u32 max, u32 end)
{
    u32 d = pol_blob(ev, st, slot, type, end);
    if (!d || d > POL_OFF_MAX)
        return;
    u8 trunc = 0;
    u32 n = 0;
    if (size > 0) {
        n = size;
        if (size > max) {
            n = max;
            trunc = 1;
        }
        if (n > POL_DATA_MAX)
            n = POL_DATA_MAX;
        if (n && pol_read(ev + d, n, (void *)ptr, user))
            n = 0;
    }
    pol_close(ev, st, slot, d, n, trunc);
}

/* struct iovec[cnt]: the buffers one after the other, at most `max` bytes, 8 vectors. */
static __always_inline void pol_iovec(char *ev, struct pol_state *st, u8 slot, u64 ptr, s64 cnt,
                                      int user, u32 max, u32 end)
{
    u32 d = pol_blob(ev, st, slot, T_CHAR_IOVEC, end);
    if (!d || d > POL_OFF_MAX)
        return;
    u32 total = 0;
    u8 trunc = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        if (i >= cnt)
            break;
        u64 iov[2] = {};
        if (pol_read(iov, sizeof(iov), (void *)(ptr + 16 * i), user))
            break;
        u32 room = max > total ? max - total : 0;
        u32 n = iov[1] > room ? room : iov[1];
        if (iov[1] > room)
            trunc = 1;
        if (n > STR_MAX)
            n = STR_MAX;
        if (total > STR_MAX)
            break;
        if (n && pol_read(ev + d + total, n, (void *)iov[0], user))
            break;
        total += n;
    }
    if (cnt > 8)
        trunc = 1;
    pol_close(ev, st, slot, d, total, trunc);
}

static __always_inline u64 pol_kptr(u64 base, u32 off)
{
    u64 v = 0;
    if (base)
        bpf_probe_read_kernel(&v, 8, (void *)(base + off));
    return v;
}

/* The raw value of an argument: a record field at `from` (tracepoints) or function
 * argument number `from` (syscalls, kprobes, uprobes). */
static __always_inline u64 pol_raw(void *ctx, int kind, int from, int size, int is_signed)
{
    u64 v = 0;
    if (kind == K_TP) {
        if (size > 8)
            size = 8;
        bpf_probe_read_kernel(&v, size, (char *)ctx + from);
    } else if (kind == K_SYS_TP) {
        bpf_probe_read_kernel(&v, 8, (char *)ctx + 16 + 8 * from);
    } else if (kind == K_SYS_KP) {
        struct pt_regs *regs = (struct pt_regs *)PT_REGS_PARM1((struct pt_regs *)ctx);
        switch (from) {
        case 0: bpf_probe_read_kernel(&v, 8, &regs->di); break;
        case 1: bpf_probe_read_kernel(&v, 8, &regs->si); break;
        case 2: bpf_probe_read_kernel(&v, 8, &regs->dx); break;
        case 3: bpf_probe_read_kernel(&v, 8, &regs->r10); break;
        case 4: bpf_probe_read_kernel(&v, 8, &regs->r8); break;
        case 5: bpf_probe_read_kernel(&v, 8, &regs->r9); break;
        }
    } else {
        struct pt_regs *r = (struct pt_regs *)ctx;
        switch (from) {
        case 0: v = PT_REGS_PARM1(r); break;
        case 1: v = PT_REGS_PARM2(r); break;
        case 2: v = PT_REGS_PARM3(r); break;
        case 3: v = PT_REGS_PARM4(r); break;
        case 4: v = PT_REGS_PARM5(r); break;
        case 5: v = r->r9; break;
        }
    }
    if (is_signed) {
        if (size == 1)
            v = (s64)(s8)v;
        else if (size == 2)
            v = (s64)(s16)v;
        else if (size == 4)
            v = (s64)(s32)v;
    }
    return v;
}

/* What the event's `fn` says: the syscall number, or the probed function's address. */
static __always_inline u64 pol_fn_id(void *ctx, int kind)
{
    u64 v = 0;
    if (kind == K_SYS_TP) {
        s32 nr = 0;
        bpf_probe_read_kernel(&nr, 4, (char *)ctx + 8);
        v = (u32)nr;
    } else if (kind == K_SYS_KP) {
        struct pt_regs *regs = (struct pt_regs *)PT_REGS_PARM1((struct pt_regs *)ctx);
        bpf_probe_read_kernel(&v, 8, &regs->orig_ax);
    } else if (kind != K_TP) {
        v = PT_REGS_IP((struct pt_regs *)ctx);
    }
    return v;
}

static __always_inline s64 pol_ret(void *ctx, int kind)
{
    s64 v = 0;
    if (kind == K_SYS_TP)
        bpf_probe_read_kernel(&v, 8, (char *)ctx + 16);
    else
        v = PT_REGS_RC((struct pt_regs *)ctx);
    return v;
}

#ifdef OFF_PATH_DENTRY
/* A path is built from the file up to the root, each name written before the last: it is
 * assembled from the end of this buffer, then copied into the event as "/a/b/c", the form
 * filters compare and lines show. */
#define POL_PATH_BUF 4096
struct pol_path_buf {
    char path[POL_PATH_BUF + POL_NAME_MAX + 1];
    char name[POL_NAME_MAX + 1];
};
BPF_PERCPU_ARRAY(pol_pathbuf, struct pol_path_buf, 1);

/* The path (an 8-byte `prefix` first with has_prefix: an fd's number), crossing mount points;
 * a path deeper than POL_PATH_DEPTH names, or longer than the buffer or the event's room, keeps
 * its end and is marked truncated. */
static __always_inline void pol_path_names(char *ev, struct pol_state *st, u8 slot, u8 type,
                                           u64 pathp, u64 prefix, int has_prefix, u32 end,
                                           u32 region)
{
    u32 zero = 0;
    struct pol_path_buf *b = pol_pathbuf.lookup(&zero);
    if (!b)
        return;
    u32 d = pol_blob(ev, st, slot, type, end);
    if (!d || d > POL_OFF_MAX)
        return;
    u32 len = 0;
    if (has_prefix) {
        *(u64 *)(ev + d) = prefix;
        len = 8;
    }
    u64 dentry = pol_kptr(pathp, OFF_PATH_DENTRY);
    u64 vfsmnt = pol_kptr(pathp, OFF_PATH_MNT);
    u64 mnt = vfsmnt - OFF_MOUNT_MNT;
    u8 trunc = 1;
    u32 pos = POL_PATH_BUF;     /* the path so far is path[pos..POL_PATH_BUF) */
    for (int i = 0; i < POL_PATH_DEPTH; i++) {
        if (!dentry)
            break;
        u64 mroot = pol_kptr(vfsmnt, OFF_VFSMOUNT_ROOT);
        u64 parent = pol_kptr(dentry, OFF_DENTRY_PARENT);
        if (dentry == mroot || dentry == parent) {
            u64 mparent = pol_kptr(mnt, OFF_MOUNT_PARENT);
            if (dentry != mroot || !vfsmnt || mparent == mnt || !mparent) {
                trunc = 0;      /* the root of everything */
                break;
            }
            dentry = pol_kptr(mnt, OFF_MOUNT_MOUNTPOINT);
            mnt = mparent;
            vfsmnt = mnt + OFF_MOUNT_MNT;
            continue;
        }
        int n = bpf_probe_read_kernel_str(b->name, sizeof(b->name),
                                          (void *)pol_kptr(dentry, OFF_DENTRY_NAME));
        if (n <= 1)
            break;
        u32 l = (u32)(n - 1) & POL_NAME_MAX;
        if (l + 1 > pos)
            break;              /* the buffer is full: what is there is the path's end */
        pos -= l;
        pos &= POL_PATH_BUF - 1;
        bpf_probe_read_kernel(b->path + pos, l, b->name);
        pos = (pos - 1) & (POL_PATH_BUF - 1);
        b->path[pos] = '/';
        dentry = parent;
    }
    if (pos == POL_PATH_BUF) {  /* the root itself */
        pos = POL_PATH_BUF - 1;
        b->path[pos] = '/';
    }
    u32 n = POL_PATH_BUF - pos;
    u32 at = d + len;
    u32 room = 0;
    if (at < region && at < SCRATCH - POL_EV_AT)
        room = (region < SCRATCH - POL_EV_AT ? region : SCRATCH - POL_EV_AT) - at;
    if (n > room) {
        pos += n - room;        /* keep the end: the file's own name */
        n = room;
        trunc = 1;
    }
    n &= POL_PATH_BUF - 1 | POL_PATH_BUF;
    pos &= POL_PATH_BUF - 1 | POL_PATH_BUF;
    POL_BOUND(at);
    if (n && pos + n <= POL_PATH_BUF)
        bpf_probe_read_kernel(ev + at, n, b->path + pos);
    pol_close(ev, st, slot, d, len + n, trunc);
}
#endif

#ifdef OFF_TASK_FILES
/* The struct file an fd of the current process points to, or 0. */
static __always_inline u64 pol_fd_file(s64 fd)
{
    if (fd < 0)
        return 0;
    u64 task = bpf_get_current_task();
    u64 fdt = pol_kptr(pol_kptr(task, OFF_TASK_FILES), OFF_FILES_FDT);
    u32 max = 0;
    if (!fdt || bpf_probe_read_kernel(&max, 4, (void *)(fdt + OFF_FDT_MAX)) || fd >= max)
        return 0;
    u64 fds = pol_kptr(fdt, OFF_FDT_FD);
    return pol_kptr(fds, 8 * fd);
}
#endif

#ifdef OFF_SK_FAMILY
static __always_inline void pol_sock_of(struct pol_sock *s, u64 sk)
{
    bpf_probe_read_kernel(&s->family, 2, (void *)(sk + OFF_SK_FAMILY));
    u8 state = 0;
    bpf_probe_read_kernel(&state, 1, (void *)(sk + OFF_SK_STATE));
    s->state = state;
    bpf_probe_read_kernel(&s->type, 2, (void *)(sk + OFF_SK_TYPE));
    bpf_probe_read_kernel(&s->protocol, 2, (void *)(sk + OFF_SK_PROTOCOL));
    bpf_probe_read_kernel(&s->sport, 2, (void *)(sk + OFF_SK_SPORT));
    u16 dport = 0;
    bpf_probe_read_kernel(&dport, 2, (void *)(sk + OFF_SK_DPORT));
    s->dport = ntohs(dport);
    if (s->family == 10) {
        bpf_probe_read_kernel(s->saddr, 16, (void *)(sk + OFF_SK_V6_SADDR));
        bpf_probe_read_kernel(s->daddr, 16, (void *)(sk + OFF_SK_V6_DADDR));
    } else {
        bpf_probe_read_kernel(s->saddr, 4, (void *)(sk + OFF_SK_SADDR));
        bpf_probe_read_kernel(s->daddr, 4, (void *)(sk + OFF_SK_DADDR));
    }
}
#endif

#ifdef OFF_SK_FAMILY
static __always_inline void pol_sock_arg(char *ev, struct pol_state *st, u8 slot, u64 sk, u32 end)
{
    u32 d = pol_blob(ev, st, slot, T_SOCK, end);
    if (!d || d > POL_OFF_MAX)
        return;
    struct pol_sock *s = (struct pol_sock *)(ev + d);
    __builtin_memset(s, 0, sizeof(*s));
    if (sk)
        pol_sock_of(s, sk);
    pol_close(ev, st, slot, d, sizeof(*s), 0);
}

/* A packet: length, and addresses, protocol and ports from its IP header. */
static __always_inline void pol_skb_arg(char *ev, struct pol_state *st, u8 slot, u64 skb, u32 end)
{
    u32 d = pol_blob(ev, st, slot, T_SKB, end);
    if (!d || d > POL_OFF_MAX)
        return;
    struct pol_sock *s = (struct pol_sock *)(ev + d);
    __builtin_memset(s, 0, sizeof(*s));
    bpf_probe_read_kernel(&s->len, 4, (void *)(skb + OFF_SKB_LEN));
    u64 head = pol_kptr(skb, OFF_SKB_HEAD);
    u16 nh = 0;
    bpf_probe_read_kernel(&nh, 2, (void *)(skb + OFF_SKB_NETWORK));
    u8 ip[40] = {};
    if (head && nh != 0xffff && !bpf_probe_read_kernel(ip, sizeof(ip), (void *)(head + nh))) {
        u8 version = ip[0] >> 4;
        u32 l4 = 0;
        if (version == 4) {
            s->family = 2;
            s->protocol = ip[9];
            __builtin_memcpy(s->saddr, ip + 12, 4);
            __builtin_memcpy(s->daddr, ip + 16, 4);
            l4 = (ip[0] & 15) * 4;
        } else if (version == 6) {
            s->family = 10;
            s->protocol = ip[6];
            __builtin_memcpy(s->saddr, ip + 8, 16);
            __builtin_memcpy(s->daddr, ip + 24, 16);
            l4 = 40;
        }
        u16 ports[2] = {};
        if (l4 && (s->protocol == 6 || s->protocol == 17) &&
            !bpf_probe_read_kernel(ports, 4, (void *)(head + nh + l4))) {
            s->sport = ntohs(ports[0]);
            s->dport = ntohs(ports[1]);
        }
    }
    pol_close(ev, st, slot, d, sizeof(*s), 0);
}
#endif

/* struct sockaddr (in or in6, else the family alone) as a pol_sock, then its raw bytes. */
static __always_inline void pol_sockaddr(char *ev, struct pol_state *st, u8 slot, u64 ptr, s64 size,
                                         int user, u32 end)
{
    u32 d = pol_blob(ev, st, slot, T_SOCKADDR, end);
    if (!d || d > POL_OFF_MAX)
        return;
    struct pol_sock *s = (struct pol_sock *)(ev + d);
    __builtin_memset(s, 0, sizeof(*s));
    u8 raw[28] = {};
    pol_read(raw, sizeof(raw), (void *)ptr, user);
    s->family = *(u16 *)raw;
    if (s->family == 2 || s->family == 10)
        s->dport = ntohs(*(u16 *)(raw + 2));
    if (s->family == 2)
        __builtin_memcpy(s->daddr, raw + 4, 4);
    else if (s->family == 10)
        __builtin_memcpy(s->daddr, raw + 8, 16);
    u32 n = size > 0 && size < 112 ? size : (size >= 112 ? 112 : 0);
    if (n && pol_read(ev + d + sizeof(*s), n, (void *)ptr, user))
        n = 0;
    pol_close(ev, st, slot, d, sizeof(*s) + n, 0);
}

/* ---- selectors -------------------------------------------------------------------------- */

static __always_inline int pol_num_in(u32 filter, u64 v)
{
    struct pol_num_key k = {};
    k.filter = filter;
    k.value = v;
    return pol_nums.lookup(&k) != 0;
}

/* Whether the `len` bytes at src[base..] end with one of the filter's values: for each
 * length among the values, one read of that many last bytes and one exact lookup (the
 * entry found is the value itself when its length is the one read). No loop over the
 * bytes, which older verifiers walk one by one. */
static __always_inline int pol_ends_with(u32 filter, struct pol_str_key *k, char *src, u32 base,
                                         u32 len)
{
    struct pol_suffixes *s = pol_sufs.lookup(&filter);
    if (!s)
        return 0;
    k->filter = filter;
#pragma unroll
    for (int i = 0; i < POL_MAX_SUFFIXES; i++) {
        if (i >= s->n)
            break;
        u32 l = s->len[i];
        if (l == 0 || l > len || l > POL_MAX_STR)
            continue;
        u32 at = base + len - l;
        POL_BOUND(at);
        k->prefixlen = 32 + 8 * l;
        if (bpf_probe_read_kernel(k->data, l, src + at) < 0)
            continue;
        u32 *stored = pol_strs.lookup(k);
        if (stored && *stored == l)
            return 1;
    }
    return 0;
}

/* Equal, NotEqual, Prefix or NotPrefix of a `len`-byte string whose first `n` bytes the caller
 * put in k->data: one LPM lookup (Equal also wants the entry's length to be the string's). */
static __always_inline int pol_head_op(u32 filter, int op, struct pol_str_key *k, u32 n, u32 len)
{
    k->filter = filter;
    k->prefixlen = 32 + 8 * n;
    u32 *stored = pol_strs.lookup(k);
    int hit = stored != 0;
    if (op == OP_EQ || op == OP_NEQ)
        hit = stored && *stored == len;
    return (op == OP_NEQ || op == OP_NPREFIX) ? !hit : hit;
}

/* Postfix or NotPostfix of the `len` bytes at src[base..]. */
static __always_inline int pol_tail_op(u32 filter, int op, struct pol_str_key *k, char *src,
                                       u32 base, u32 len)
{
    int hit = pol_ends_with(filter, k, src, base, len);
    return op == OP_NPOSTFIX ? !hit : hit;
}

/* The string at ev[off..off+len) against the filter's LPM entries. */
static __always_inline int pol_str_op(u32 filter, int op, char *ev, u32 off, u32 len)
{
    u32 zero = 0;
    struct pol_str_key *k = pol_key.lookup(&zero);
    if (!k)
        return 0;
    if (op == OP_POSTFIX || op == OP_NPOSTFIX)
        return pol_tail_op(filter, op, k, ev, off, len);
    u32 n = len > POL_MAX_STR ? POL_MAX_STR : len;
    POL_BOUND(off);
    bpf_probe_read_kernel(k->data, n & 0xff, ev + off);
    return pol_head_op(filter, op, k, n, len);
}

static __always_inline int pol_addr_in(u32 filter, u8 *addr, int v6)
{
    struct pol_addr_key k = {};
    k.filter = filter;
    k.prefixlen = 32 + (v6 ? 128 : 32);
    __builtin_memcpy(k.addr, addr, 16);
    return pol_addrs.lookup(&k) != 0;
}

static __always_inline int pol_sock_op(u32 filter, int op, struct pol_sock *s)
{
    switch (op) {
    case OP_SPORT: return pol_num_in(filter, s->sport);
    case OP_NSPORT: return !pol_num_in(filter, s->sport);
    case OP_DPORT: return pol_num_in(filter, s->dport);
    case OP_NDPORT: return !pol_num_in(filter, s->dport);
    case OP_SPORTPRIV: return s->sport < 1024;
    case OP_NSPORTPRIV: return s->sport >= 1024;
    case OP_DPORTPRIV: return s->dport < 1024;
    case OP_NDPORTPRIV: return s->dport >= 1024;
    case OP_SADDR: return pol_addr_in(filter, s->saddr, s->family == 10);
    case OP_NSADDR: return !pol_addr_in(filter, s->saddr, s->family == 10);
    case OP_DADDR: return pol_addr_in(filter, s->daddr, s->family == 10);
    case OP_NDADDR: return !pol_addr_in(filter, s->daddr, s->family == 10);
    case OP_PROTOCOL: return pol_num_in(filter, s->protocol);
    case OP_FAMILY: return pol_num_in(filter, s->family);
    }
    return 0;
}

/* One matchArgs/matchReturnArgs entry on a captured argument. */
static __always_inline int pol_arg_op(u32 filter, int op, int kind, int is_signed, u64 val,
                                      char *ev, struct pol_state *st, int slot)
{
    if (slot < 0 || slot > 5)
        return 0;
    if (kind == 2) {        /* a string */
        u32 off = st->off[slot];
        if (!off)
            return 0;
        return pol_str_op(filter, op, ev, off, st->len[slot]);
    }
    if (kind == 3) {        /* a socket */
        u32 off = st->off[slot];
        if (!off)
            return 0;
        POL_BOUND(off);
        return pol_sock_op(filter, op, (struct pol_sock *)(ev + off));
    }
    u64 v = st->vals[slot];
    switch (op) {
    case OP_EQ: return pol_num_in(filter, v);
    case OP_NEQ: return !pol_num_in(filter, v);
    case OP_GT: return is_signed ? (s64)v > (s64)val : v > val;
    case OP_LT: return is_signed ? (s64)v < (s64)val : v < val;
    case OP_MASK: return (v & val) != 0;
    }
    return 0;
}

#ifdef OFF_PID_NUMBERS
/* The current process's PID as its own PID namespace sees it: its group leader's struct pid
 * holds one number per namespace level, the deepest (its own) last. */
static __always_inline u32 pol_ns_tgid(void)
{
    u64 leader = pol_kptr(bpf_get_current_task(), OFF_TASK_GROUP_LEADER);
    u64 pid = pol_kptr(leader, OFF_TASK_THREAD_PID);
    u32 level = 0, nr = 0;
    if (!pid || bpf_probe_read_kernel(&level, 4, (void *)(pid + OFF_PID_LEVEL)))
        return 0;
    /* struct upid { int nr; struct pid_namespace *ns; }: 16 bytes */
    bpf_probe_read_kernel(&nr, 4, (void *)(pid + OFF_PID_NUMBERS + 16 * (u64)(level & 63)));
    return nr;
}
#else
static __always_inline u32 pol_ns_tgid(void) { return 0; }
#endif

/* matchPIDs: In/NotIn a set (followForks: the set grows with forks, see pol_fork); `ns`: the
 * set holds PIDs inside the process's own PID namespace (isNamespacePID). */
static __always_inline int pol_pid_op(u32 filter, int not, int ns)
{
    u32 tgid = ns ? pol_ns_tgid() : bpf_get_current_pid_tgid() >> 32;
    int in = pol_num_in(filter, tgid);
    return not ? !in : in;
}

#if POL_BINARIES
static __always_inline int pol_bin_op(u32 filter, int op)
{
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    struct pol_str_key *b = pol_bin.lookup(&tgid);
    if (!b)
        return op == OP_NEQ || op == OP_NPREFIX || op == OP_NPOSTFIX;
    u32 zero = 0;
    struct pol_str_key *k = pol_binkey.lookup(&zero);
    if (!k)
        return 0;
    u32 len = b->prefixlen;  /* pol_bin keeps the length in prefixlen */
    if (len > POL_MAX_STR)
        len = POL_MAX_STR;
    if (op == OP_POSTFIX || op == OP_NPOSTFIX)
        return pol_tail_op(filter, op, k, b->data, 0, len);
    __builtin_memcpy(k->data, b->data, POL_MAX_STR);
    return pol_head_op(filter, op, k, len, len);
}
#else
static __always_inline int pol_bin_op(u32 filter, int op) { return 0; }
#endif

#ifdef OFF_TASK_NSPROXY
static __always_inline u32 pol_ns_inum(int which)
{
    u64 task = bpf_get_current_task();
    u64 nsp = pol_kptr(task, OFF_TASK_NSPROXY);
    u64 ns = 0;
    u32 inum = 0;
    u32 off = 0;
    switch (which) {
    case 0: ns = pol_kptr(nsp, OFF_NS_UTS); off = OFF_UTS_INUM; break;
    case 1: ns = pol_kptr(nsp, OFF_NS_IPC); off = OFF_IPC_INUM; break;
    case 2: ns = pol_kptr(nsp, OFF_NS_MNT); off = OFF_MNT_INUM; break;
    case 3: ns = pol_kptr(nsp, OFF_NS_PID); off = OFF_PID_INUM; break;
    case 4: ns = pol_kptr(nsp, OFF_NS_NET); off = OFF_NET_INUM; break;
    case 5: ns = pol_kptr(nsp, OFF_NS_TIME); off = OFF_TIME_INUM; break;
    case 6: ns = pol_kptr(nsp, OFF_NS_CGROUP); off = OFF_CGROUP_INUM; break;
    case 7: ns = pol_kptr(pol_kptr(task, OFF_TASK_CRED), OFF_CRED_USERNS); off = OFF_USER_INUM; break;
    }
    if (ns)
        bpf_probe_read_kernel(&inum, 4, (void *)(ns + off));
    return inum;
}

static __always_inline u64 pol_caps(int which)
{
    u64 cred = pol_kptr(bpf_get_current_task(), OFF_TASK_CRED);
    u32 off = which == 0 ? OFF_CRED_CAP_EFF : which == 1 ? OFF_CRED_CAP_INH : OFF_CRED_CAP_PRM;
    return pol_kptr(cred, off);
}

static __always_inline void pol_cred_of(char *ev, struct pol_state *st, u8 slot, u64 cred, u32 end)
{
    u32 d = pol_blob(ev, st, slot, T_CRED, end);
    if (!d || d > POL_OFF_MAX)
        return;
    struct pol_cred *c = (struct pol_cred *)(ev + d);
    __builtin_memset(c, 0, sizeof(*c));
    bpf_probe_read_kernel(&c->uid, 32, (void *)(cred + OFF_CRED_UID));
    c->cap_inheritable = pol_kptr(cred, OFF_CRED_CAP_INH);
    c->cap_permitted = pol_kptr(cred, OFF_CRED_CAP_PRM);
    c->cap_effective = pol_kptr(cred, OFF_CRED_CAP_EFF);
    u64 uns = pol_kptr(cred, OFF_CRED_USERNS);
    if (uns)
        bpf_probe_read_kernel(&c->user_ns, 4, (void *)(uns + OFF_USER_INUM));
    pol_close(ev, st, slot, d, sizeof(*c), 0);
}
#else
/* Without BTF offsets the plan uses no namespace or capability selector. */
static __always_inline u32 pol_ns_inum(int which) { return 0; }
static __always_inline u64 pol_caps(int which) { return 0; }
#endif

/* Post at most once per window per hook and process (rateLimit). */
static __always_inline int pol_rate_ok(u32 hook, u64 window)
{
    struct pol_rate_key k = {hook, bpf_get_current_pid_tgid() >> 32};
    u64 now = bpf_ktime_get_ns();
    u64 *last = pol_rate.lookup(&k);
    if (last && now - *last < window)
        return 0;
    pol_rate.update(&k, &now);
    return 1;
}

#if POL_BINARIES
TRACEPOINT_PROBE(sched, sched_process_exec)
{
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    u32 zero = 0;
    struct pol_str_key *k = pol_binkey.lookup(&zero);
    if (!k)
        return 0;
    __builtin_memset(k, 0, sizeof(*k));
    u16 loc = args->data_loc_filename & 0xffff;
    int n = bpf_probe_read_kernel_str(k->data, POL_MAX_STR, (char *)args + loc);
    k->prefixlen = n > 0 ? n - 1 : 0;
    pol_bin.update(&tgid, k);
    return 0;
}
#endif


/* Forks: a child inherits its parent's executable (matchBinaries) and joins the PID
 * sets of matchPIDs with followForks. Attached to sched:sched_process_fork. */
BPF_ARRAY(pol_follow, u32, 8);
int pol_fork(void *ctx)
{
    u32 parent = bpf_get_current_pid_tgid() >> 32;
    u32 child = 0;
    bpf_probe_read_kernel(&child, 4, (char *)ctx + POL_FORK_CHILD_OFF);
#if POL_BINARIES
    struct pol_str_key *b = pol_bin.lookup(&parent);
    if (b) {
        u32 zero = 0;
        struct pol_str_key *k = pol_binkey.lookup(&zero);
        if (k) {
            __builtin_memcpy(k, b, sizeof(*k));
            pol_bin.update(&child, k);
        }
    }
#endif
#pragma unroll
    for (int i = 0; i < 8; i++) {
        if (i >= POL_NFOLLOW)
            break;
        int idx = i;
        u32 *f = pol_follow.lookup(&idx);
        if (!f)
            break;
        struct pol_num_key k = {};
        k.filter = *f;
        k.value = parent;
        if (pol_nums.lookup(&k)) {
            u8 one = 1;
            k.value = child;
            pol_nums.update(&k, &one);
        }
    }
    return 0;
}

#endif
