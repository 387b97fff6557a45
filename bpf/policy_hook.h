/* One hook point of a TracingPolicy: its front end, its handler, its return side.
 *
 * Included once per hook by tracer/policy/codegen.py after the #defines of the
 * plan for that hook (HOOK, H_*, A<n>_* per argument, S<s>_* per selector; every
 * name is defined, unused ones as 0) and followed by their #undefs. Constants
 * fold away what a hook does not use.
 */
#define POL_CAT_(a, b) a##_##b
#define POL_CAT(a, b) POL_CAT_(a, b)
#define FN(name) POL_CAT(name, HOOK)

/* the raw value of argument slot n of this hook */
static __always_inline void FN(pol_capture)(void *ctx, char *ev, struct pol_state *st, int n,
                                            int type, int from, int size, int is_signed, int user,
                                            int loc, int sizearg, u32 max, int array, int given,
                                            u64 gv)
{
    u64 v = 0;
    if (given) {
        v = gv;
    } else if (loc) {                  /* __data_loc field: the data sits in the record */
        u32 dl = (u32)pol_raw(ctx, K_TP, from, 4, 0);
        v = (u64)ctx + (dl & 0xffff);
    } else if (array) {         /* char name[N] inline in the record */
        v = (u64)ctx + from;
    } else {
        v = pol_raw(ctx, H_KIND, from, size, is_signed);
    }
    if (n < 6)
        st->vals[n] = v;
    s64 len = sizearg ? (s64)pol_raw(ctx, H_KIND, sizearg - 1, 8, 1) : 0;
    switch (type) {
    case T_STRING:
        pol_str(ev, st, n, type, v, user && !loc && !array, max, H_END);
        break;
    case T_CHAR_BUF:
        pol_buf(ev, st, n, type, v, len, user, max, H_END);
        break;
    case T_CHAR_IOVEC:
        pol_iovec(ev, st, n, v, len, user, max, H_END);
        break;
    case T_SOCKADDR:
        pol_sockaddr(ev, st, n, v, len > 0 ? len : 28, user, H_END);
        break;
#ifdef OFF_FILENAME_NAME
    case T_FILENAME:
        pol_str(ev, st, n, type, pol_kptr(v, OFF_FILENAME_NAME), 0, max, H_END);
        break;
#endif
#ifdef OFF_PATH_DENTRY
    case T_FILE:
        pol_path_names(ev, st, n, type, v + OFF_FILE_PATH, 0, 0, H_END, H_REGION);
        break;
    case T_PATH:
        pol_path_names(ev, st, n, type, v, 0, 0, H_END, H_REGION);
        break;
    case T_FD: {
        u64 file = pol_fd_file((s64)(s32)v);
        if (file)
            pol_path_names(ev, st, n, type, file + OFF_FILE_PATH, v, 1, H_END, H_REGION);
        else
            pol_num(ev, st, n, type, v, H_END);
        break;
    }
#endif
#ifdef OFF_SK_FAMILY
    case T_SOCK:
        pol_sock_arg(ev, st, n, v, H_END);
        break;
    case T_SKB:
        pol_skb_arg(ev, st, n, v, H_END);
        break;
#endif
#ifdef OFF_CRED_UID
    case T_CRED:
        pol_cred_of(ev, st, n, v, H_END);
        break;
#endif
    default:
        pol_num(ev, st, n, type, v, H_END);
    }
}

#define CAPTURE(n)                                                                       \
    if (H_NARGS > n && !A##n##_RETCOPY)                                                  \
        FN(pol_capture)(ctx, ev, st, n, A##n##_TYPE, A##n##_FROM, A##n##_SIZE,           \
                        A##n##_SIGNED, A##n##_USER, A##n##_LOC, A##n##_SIZEARG,          \
                        A##n##_MAX, A##n##_ARRAY, 0, 0);

#define CAPTURE_AT_RETURN(n)                                                             \
    if (H_NARGS > n && A##n##_RETCOPY)                                                   \
        pol_buf(ev, st, n, A##n##_TYPE, st->vals[n], ret, A##n##_USER, A##n##_MAX, H_END);

#define ARGF(s, f)                                                                       \
    (S##s##_NARGF <= f || pol_arg_op(S##s##_F##f##_ID, S##s##_F##f##_OP, S##s##_F##f##_KIND, \
                                     S##s##_F##f##_SIGNED, S##s##_F##f##_VAL, ev, st,   \
                                     S##s##_F##f##_SLOT))
#define RETF(s, f)                                                                       \
    (S##s##_NRETF <= f || pol_arg_op(S##s##_R##f##_ID, S##s##_R##f##_OP, S##s##_R##f##_KIND, \
                                     S##s##_R##f##_SIGNED, S##s##_R##f##_VAL, ev, st, 5))
#define PIDF(s, p) (S##s##_NPID <= p || pol_pid_op(S##s##_P##p##_ID, S##s##_P##p##_NOT, \
                                                  S##s##_P##p##_NS))
#define NSF(s, k)                                                                        \
    (S##s##_NNS <= k || (pol_num_in(S##s##_N##k##_ID, pol_ns_inum(S##s##_N##k##_WHICH))  \
                         != S##s##_N##k##_NOT))
#define CAPF(s) (!S##s##_CAP || (((pol_caps(S##s##_CAP_WHICH) & S##s##_CAP_MASK) != 0)    \
                                 != S##s##_CAP_NOT))
#define BINF(s) (!S##s##_BIN || pol_bin_op(S##s##_BIN_ID, S##s##_BIN_OP))

/* At entry: everything but the return value. */
#define SEL_ENTRY(s)                                                                     \
    (PIDF(s, 0) && PIDF(s, 1) && BINF(s) && NSF(s, 0) && NSF(s, 1) && NSF(s, 2) &&      \
     CAPF(s) && ARGF(s, 0) && ARGF(s, 1) && ARGF(s, 2) && ARGF(s, 3))
#define SEL_RETURN(s) (RETF(s, 0) && RETF(s, 1) && RETF(s, 2) && RETF(s, 3))

/* The first selector whose entry part matches (selectors are OR'ed), -1: none. */
static __always_inline int FN(pol_select)(void *ctx, char *ev, struct pol_state *st)
{
    if (H_NSEL == 0)
        return 0;
    if (H_NSEL > 0 && SEL_ENTRY(0))
        return 0;
    if (H_NSEL > 1 && SEL_ENTRY(1))
        return 1;
    if (H_NSEL > 2 && SEL_ENTRY(2))
        return 2;
    if (H_NSEL > 3 && SEL_ENTRY(3))
        return 3;
    if (H_NSEL > 4 && SEL_ENTRY(4))
        return 4;
    return -1;
}

static __always_inline int FN(pol_select_ret)(char *ev, struct pol_state *st, int sel)
{
    switch (sel) {
    case 0: return H_NSEL == 0 || SEL_RETURN(0);
    case 1: return SEL_RETURN(1);
    case 2: return SEL_RETURN(2);
    case 3: return SEL_RETURN(3);
    case 4: return SEL_RETURN(4);
    }
    return 0;
}

#define SEL_ACT(s) S##s##_ACT
#define SEL_SIG(s) S##s##_SIG
#define SEL_RATE(s) S##s##_RATE
#define SEL_ERR(s) S##s##_ERR

/* The matched selector's actions; the event goes out unless NoPost (or rate limited). */
static __always_inline int FN(pol_act)(void *ctx, char *ev, struct pol_state *st, int sel)
{
    int act = ACT_POST, sig = 0;
    u64 rate = 0;
    s64 err = 0;
    if (H_NSEL > 0) {
        switch (sel) {
        case 0: act = SEL_ACT(0); sig = SEL_SIG(0); rate = SEL_RATE(0); err = SEL_ERR(0); break;
        case 1: act = SEL_ACT(1); sig = SEL_SIG(1); rate = SEL_RATE(1); err = SEL_ERR(1); break;
        case 2: act = SEL_ACT(2); sig = SEL_SIG(2); rate = SEL_RATE(2); err = SEL_ERR(2); break;
        case 3: act = SEL_ACT(3); sig = SEL_SIG(3); rate = SEL_RATE(3); err = SEL_ERR(3); break;
        case 4: act = SEL_ACT(4); sig = SEL_SIG(4); rate = SEL_RATE(4); err = SEL_ERR(4); break;
        }
    }
    struct pol_event *e = (struct pol_event *)ev;
    e->action = act;
    e->sel = sel;
    if (act & ACT_SIGNAL)
        bpf_send_signal(sig);
#if H_OVERRIDE
    if (act & ACT_OVERRIDE)
        bpf_override_return(ctx, err);
#endif
    if (!(act & ACT_POST))
        return 0;
    if (rate && !pol_rate_ok(HOOK, rate))
        return 0;
    e->size = st->size;
    return pol_submit(ctx, ev, st->size);
}

/* The handler of this hook, at entry (tail-called by the front end for a slot). */
int FN(pol_enter)(void *ctx)
{
    u32 zero = 0;
    struct scratch_buf *sb = scratch.lookup(&zero);
    if (!sb)
        return 0;
    struct pol_state *st = (struct pol_state *)sb->d;
    char *ev = sb->d + POL_EV_AT;
    __builtin_memset(st, 0, sizeof(*st));
    struct pol_event *e = (struct pol_event *)ev;
    __builtin_memset(e, 0, sizeof(*e));
    u64 id = bpf_get_current_pid_tgid();
    e->ts = bpf_ktime_get_ns();
    e->tgid = id >> 32;
    e->tid = (u32)id;
    e->cgroup = bpf_get_current_cgroup_id();
    e->hook = HOOK;
    e->fn = pol_fn_id(ctx, H_KIND);
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    st->size = sizeof(struct pol_event);
    CAPTURE(0)
    CAPTURE(1)
    CAPTURE(2)
    CAPTURE(3)
    CAPTURE(4)
    int sel = FN(pol_select)(ctx, ev, st);
    if (sel < 0)
        return 0;
#if H_RET
    e->sel = sel;
    struct pol_held_key k = {};
    k.id = id;
    k.hook = HOOK;
    pol_inflight.update(&k, (struct pol_held *)sb->d);
    return 0;
#else
    return FN(pol_act)(ctx, ev, st, sel);
#endif
}

#if H_RET
/* The return side: the held entry, the return value, returnCopy buffers, matchReturnArgs. */
int FN(pol_return)(void *ctx)
{
    u32 zero = 0;
    struct scratch_buf *sb = scratch.lookup(&zero);
    if (!sb)
        return 0;
    struct pol_held_key k = {};
    k.id = bpf_get_current_pid_tgid();
    k.hook = HOOK;
    struct pol_held *h = pol_inflight.lookup(&k);
    if (!h)
        return 0;
    bpf_probe_read_kernel(sb->d, sizeof(struct pol_held), h);
    pol_inflight.delete(&k);
    struct pol_state *st = (struct pol_state *)sb->d;
    char *ev = sb->d + POL_EV_AT;
    struct pol_event *e = (struct pol_event *)ev;
    s64 ret = pol_ret(ctx, H_KIND);
    e->ret = ret;
    e->flags |= EVF_RET;
    CAPTURE_AT_RETURN(0)
    CAPTURE_AT_RETURN(1)
    CAPTURE_AT_RETURN(2)
    CAPTURE_AT_RETURN(3)
    CAPTURE_AT_RETURN(4)
    st->vals[5] = ret;
    if (H_RET_TYPE == T_INT)
        st->vals[5] = (u64)(s64)(s32)ret;
    if (H_RET_TYPE == T_SOCK || H_RET_TYPE == T_FILE || H_RET_TYPE == T_CRED ||
        H_RET_TYPE == T_STRING || H_RET_TYPE == T_FILENAME)
        FN(pol_capture)(ctx, ev, st, POL_RET_SLOT, H_RET_TYPE, 0, 8, 0, H_RET_USER, 0, 0, STR_MAX, 0,
                        1, ret);
    int sel = e->sel;
    if (!FN(pol_select_ret)(ev, st, sel))
        return 0;
    return FN(pol_act)(ctx, ev, st, sel);
}
#endif

/* The front ends: find the process's slot, hand over to that slot's handler. */
int FN(pol_front)(void *ctx)
{
    u32 slot = slot_of(bpf_get_current_pid_tgid() >> 32);
    if (slot >= MAX_SLOTS)
        return 0;
#if H_SYSSET
    u64 key = ((u64)HOOK << 32) | (u32)pol_fn_id(ctx, H_KIND);
    if (!pol_syscalls.lookup(&key))
        return 0;
#endif
#if H_TP_PROGS
    pol_tp_progs.call(ctx, slot * POL_MAX_HOOKS + HOOK);
#else
    pol_kp_progs.call(ctx, slot * POL_MAX_HOOKS + HOOK);
#endif
    return 0;
}

#if H_RET
int FN(pol_rfront)(void *ctx)
{
    u32 slot = slot_of(bpf_get_current_pid_tgid() >> 32);
    if (slot >= MAX_SLOTS)
        return 0;
#if H_TP_PROGS
    pol_tp_progs.call(ctx, (MAX_SLOTS + slot) * POL_MAX_HOOKS + HOOK);
#else
    pol_kp_progs.call(ctx, (MAX_SLOTS + slot) * POL_MAX_HOOKS + HOOK);
#endif
    return 0;
}
#endif

#undef CAPTURE
#undef CAPTURE_AT_RETURN
#undef ARGF
#undef RETF
#undef PIDF
#undef NSF
#undef CAPF
#undef BINF
#undef SEL_ENTRY
#undef SEL_RETURN
#undef SEL_ACT
#undef SEL_SIG
#undef SEL_RATE
#undef SEL_ERR
#undef FN
