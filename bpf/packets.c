/* ebpf-packets: the packets of traced containers and processes, with the process that
 * owns each one. Compiled by BCC at run time (tracer/net/programs.py); the record
 * layout is mirrored by tracer/net/record.py.
 *
 * Two kinds of attachment point:
 *  - tc (clsact) on the host-side veth of a target's network namespace: sees every
 *    frame of that namespace's link (ARP, ICMP, forwarded traffic too). A frame that
 *    leaves the namespace crosses the veth and loses its socket, so the owner comes
 *    from flow_owner, which the cgroup programs fill.
 *  - cgroup programs on the target's cgroup v2 directory: they run with the socket in
 *    hand (or in the calling process), so they know who owns it. For targets without a
 *    network namespace of their own they also emit the packets (the capture variants).
 */
/* The few constants used, spelled out: including their uapi headers costs compile time. */
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ICMPV6 58
#define TC_ACT_UNSPEC (-1)
#define LOOPBACK_IFINDEX 1  /* lo, in every network namespace */
#include "generated.h"

#ifndef SNAP
#define SNAP 256            /* bytes of each packet copied for the capture file (a power of two) */
#endif
#define DIR_OUT 0           /* leaving the target */
#define DIR_IN 1            /* entering the target */
#define AT_TC 0             /* data starts with an Ethernet header */
#define AT_CGROUP 1         /* data starts with the IP header */

/* config array indexes: CFG_PROTO, CFG_PORT, CFG_OWNERS (generated.h) */

struct owner {
    u32 tgid;
    u32 tid;
    u64 cgid;               /* cgroup v2 id of the process when it used the socket */
    char comm[16];
    u8 kept;                /* its process was traced then (CFG_OWNERS): its packets stay kept
                               after it has ended, the FIN of a socket closed at exit too */
    u8 pad[7];
};

struct flow_key {           /* one direction-free flow, seen from the target's side */
    u8 local[16];
    u8 remote[16];
    u16 lport;
    u16 rport;
    u8 proto;
    u8 family;
    u8 pad[2];
};

struct pkt {
    u64 ts;
    u64 cgid;
    u32 ifindex;
    u32 len;                /* bytes of the whole packet (from the header `where` names) */
    u32 caplen;             /* bytes of it in data */
    u32 tgid;
    u32 tid;
    u8 dir;
    u8 where;
    u8 known;               /* 1: tgid/tid/comm/cgid name the owner */
    u8 pad;
    char comm[16];
    u8 data[SNAP];
};

BPF_ARRAY(config, u32, 4);
BPF_PERCPU_ARRAY(lost, u64, 1);
BPF_HASH(traced, u32, u8, 4096);   /* TGIDs of --pid targets (CFG_OWNERS); a task's ending clears its own */
BPF_TABLE("lru_hash", u64, struct owner, sock_owner, 16384);   /* socket cookie -> owner */
BPF_TABLE("lru_hash", struct flow_key, struct owner, flow_owner, 16384);
BPF_TABLE("lru_hash", u32, struct owner, port_owner, 4096);    /* proto << 16 | local port */
BPF_RINGBUF_OUTPUT(events, RINGBUF_PAGES);

static __always_inline u32 cfg(int i) {
    u32 *v = config.lookup(&i);
    return v ? *v : 0;
}

static __always_inline void me(struct owner *o) {
    u64 id = bpf_get_current_pid_tgid();
    o->tgid = id >> 32;
    o->tid = (u32)id;
    o->cgid = bpf_get_current_cgroup_id();
    bpf_get_current_comm(&o->comm, sizeof(o->comm));
    o->kept = traced.lookup(&o->tgid) != 0;
}

/* Read the flow of the packet at `l3` (IPv4 or IPv6, `family` from the link layer).
 * Returns 1 when it is IP and the key is filled; `flags` gets the TCP flags byte. */
static __always_inline int flow_of(struct __sk_buff *skb, u32 l3, u16 ethproto, u8 dir,
                                   struct flow_key *k, u8 *flags) {
    u8 proto = 0;
    u32 l4 = 0;
    u8 src[16] = {}, dst[16] = {};
    if (ethproto == ETH_P_IP) {
        u8 vihl = 0;
        u16 frag = 0;
        if (bpf_skb_load_bytes(skb, l3, &vihl, 1) < 0)
            return 0;
        bpf_skb_load_bytes(skb, l3 + 6, &frag, 2);
        bpf_skb_load_bytes(skb, l3 + 9, &proto, 1);
        bpf_skb_load_bytes(skb, l3 + 12, src, 4);
        bpf_skb_load_bytes(skb, l3 + 16, dst, 4);
        k->family = 4;
        l4 = (frag & bpf_htons(0x1fff)) ? 0 : l3 + (vihl & 0xf) * 4;  /* later fragments: no ports */
    } else if (ethproto == ETH_P_IPV6) {
        if (bpf_skb_load_bytes(skb, l3 + 6, &proto, 1) < 0)
            return 0;
        bpf_skb_load_bytes(skb, l3 + 8, src, 16);
        bpf_skb_load_bytes(skb, l3 + 24, dst, 16);
        k->family = 6;
        l4 = l3 + 40;       /* extension headers are not walked: such packets have no ports */
    } else {
        return 0;
    }
    k->proto = proto;
    u16 ports[2] = {};
    if (l4 && (proto == IPPROTO_TCP || proto == IPPROTO_UDP)) {
        bpf_skb_load_bytes(skb, l4, ports, 4);
        if (proto == IPPROTO_TCP)
            bpf_skb_load_bytes(skb, l4 + 13, flags, 1);
    }
    if (dir == DIR_OUT) {
        __builtin_memcpy(k->local, src, 16);
        __builtin_memcpy(k->remote, dst, 16);
        k->lport = bpf_ntohs(ports[0]);
        k->rport = bpf_ntohs(ports[1]);
    } else {
        __builtin_memcpy(k->local, dst, 16);
        __builtin_memcpy(k->remote, src, 16);
        k->lport = bpf_ntohs(ports[1]);
        k->rport = bpf_ntohs(ports[0]);
    }
    return 1;
}

/* --proto/--port, decided before anything is copied. */
static __always_inline int wanted(int ip, struct flow_key *k) {
    u32 proto = cfg(CFG_PROTO), port = cfg(CFG_PORT);
    if (proto) {
        if (!ip)
            return 0;
        if (proto == IPPROTO_ICMP ? (k->proto != IPPROTO_ICMP && k->proto != IPPROTO_ICMPV6)
                                  : k->proto != proto)
            return 0;
    }
    if (port && (!ip || (k->lport != port && k->rport != port)))
        return 0;
    return 1;
}

static __always_inline struct owner *owner_of_flow(int ip, struct flow_key *k) {
    if (!ip)
        return 0;
    struct owner *o = flow_owner.lookup(k);
    if (o)
        return o;
    u32 pk = ((u32)k->proto << 16) | k->lport;   /* a listener or a bound UDP socket */
    return port_owner.lookup(&pk);
}

static __always_inline void emit(struct __sk_buff *skb, u8 dir, u8 where, struct owner *o) {
    struct pkt *p = events.ringbuf_reserve(sizeof(struct pkt));
    if (!p) {
        int zero = 0;
        u64 *n = lost.lookup(&zero);
        if (n)
            (*n)++;
        return;
    }
    p->ts = bpf_ktime_get_ns();
    p->ifindex = skb->ifindex;
    p->len = skb->len;
    p->dir = dir;
    p->where = where;
    p->pad = 0;
    if (o) {
        p->known = 1;
        p->tgid = o->tgid;
        p->tid = o->tid;
        p->cgid = o->cgid;
        __builtin_memcpy(p->comm, o->comm, sizeof(p->comm));
    } else {
        p->known = 0;
        p->tgid = 0;
        p->tid = 0;
        p->cgid = 0;
        __builtin_memset(p->comm, 0, sizeof(p->comm));
    }
    u32 n = skb->len;
    p->caplen = 0;
    if (n > 0) {
        if (n > SNAP)
            n = SNAP;
        /* the same 1..SNAP (a power of two), in a form older verifiers bound from below too:
         * they refuse a size that may be zero */
        n = ((n - 1) & (SNAP - 1)) + 1;
        if (bpf_skb_load_bytes(skb, 0, p->data, n) == 0)
            p->caplen = n;
    }
    events.ringbuf_submit(p, 0);
}

/* tc: `dir` is from the target's side (host-side veth ingress = leaving the target). */
static __always_inline int on_tc(struct __sk_buff *skb, u8 dir) {
    u16 ethproto = bpf_ntohs(skb->protocol);
    struct flow_key k = {};
    u8 flags = 0;
    int ip = flow_of(skb, ETH_HLEN, ethproto, dir, &k, &flags);
    if (wanted(ip, &k))
        emit(skb, dir, AT_TC, owner_of_flow(ip, &k));
    return TC_ACT_UNSPEC;   /* never decide anything: the next filter, or the default, does */
}

int tracer_pkt_tc_out(struct __sk_buff *skb) { return on_tc(skb, DIR_OUT); }
int tracer_pkt_tc_in(struct __sk_buff *skb) { return on_tc(skb, DIR_IN); }

static __always_inline int kept(struct owner *o) {   /* --pid on a shared namespace: its own only */
    return !cfg(CFG_OWNERS) || (o && (o->kept || traced.lookup(&o->tgid)));
}

/* A loopback packet leaves one socket and enters another, both of them perhaps the
 * target's: it is taken as it leaves, and as it enters only when its sender is not kept. */
static __always_inline int taken_at_send(struct flow_key *k) {
    struct flow_key r = *k;
    __builtin_memcpy(r.local, k->remote, 16);
    __builtin_memcpy(r.remote, k->local, 16);
    r.lport = k->rport;
    r.rport = k->lport;
    struct owner *o = flow_owner.lookup(&r);
    return o && kept(o);
}

/* cgroup_skb: the socket is known here; remember its flow for tc, and emit in the
 * capture variants, and for loopback, which no tc of ours sees. Always return 1 (let the
 * packet through). */
static __always_inline int on_cgroup(struct __sk_buff *skb, u8 dir, int capture) {
    u16 ethproto = bpf_ntohs(skb->protocol);
    struct flow_key k = {};
    u8 flags = 0;
    int ip = flow_of(skb, 0, ethproto, dir, &k, &flags);
    u64 cookie = bpf_get_socket_cookie(skb);
    struct owner *o = cookie ? sock_owner.lookup(&cookie) : 0;
    if (!o)
        o = owner_of_flow(ip, &k);
    else if (ip)
        flow_owner.update(&k, o);
    int lo = skb->ifindex == LOOPBACK_IFINDEX;
    if (!(capture || lo) || !wanted(ip, &k) || !kept(o))
        return 1;
    if (lo && dir == DIR_IN && ip && taken_at_send(&k))
        return 1;
    emit(skb, dir, AT_CGROUP, o);
    return 1;
}

int tracer_pkt_cg_out(struct __sk_buff *skb) { return on_cgroup(skb, DIR_OUT, 0); }
int tracer_pkt_cg_in(struct __sk_buff *skb) { return on_cgroup(skb, DIR_IN, 0); }
int tracer_pkt_cgc_out(struct __sk_buff *skb) { return on_cgroup(skb, DIR_OUT, 1); }
int tracer_pkt_cgc_in(struct __sk_buff *skb) { return on_cgroup(skb, DIR_IN, 1); }

/* Who owns a socket: whoever created it, then whoever last connected or sent with an
 * address through it (a socket passed to another process, or inherited). */
int tracer_pkt_sock(struct bpf_sock *sk) {
    u64 cookie = bpf_get_socket_cookie(sk);
    struct owner o = {};
    me(&o);
    sock_owner.update(&cookie, &o);
    return 1;
}

static __always_inline int bound(struct bpf_sock *sk) {   /* post_bind: a listener owns its port */
    u64 cookie = bpf_get_socket_cookie(sk);
    struct owner o = {};
    me(&o);
    sock_owner.update(&cookie, &o);
    u32 pk = ((u32)sk->protocol << 16) | (sk->src_port & 0xffff);
    port_owner.update(&pk, &o);
    return 1;
}

static __always_inline int used(struct bpf_sock_addr *ctx) {   /* connect, sendmsg with an address */
    u64 cookie = bpf_get_socket_cookie(ctx);
    struct owner o = {};
    me(&o);
    sock_owner.update(&cookie, &o);
    return 1;
}

/* One function per attach type: a program is loaded for one expected attach type. */
int tracer_pkt_bind4(struct bpf_sock *sk) { return bound(sk); }
int tracer_pkt_bind6(struct bpf_sock *sk) { return bound(sk); }
int tracer_pkt_conn4(struct bpf_sock_addr *ctx) { return used(ctx); }
int tracer_pkt_conn6(struct bpf_sock_addr *ctx) { return used(ctx); }
int tracer_pkt_send4(struct bpf_sock_addr *ctx) { return used(ctx); }
int tracer_pkt_send6(struct bpf_sock_addr *ctx) { return used(ctx); }

#ifdef OWNERS
/* A mark names a number, not a process: it goes when the task ends, so a process given the
 * number later is not taken for the target. Keyed by the ending thread's own id: the
 * process's mark goes with its main thread, a mark the fork handler gave a thread goes with
 * that thread. The main thread also ends when another thread execs, and the process keeps
 * its number: `ended` holds such a number until a new task is given it. */
BPF_TABLE("lru_hash", u32, u8, ended, 4096);

TRACEPOINT_PROBE(sched, sched_process_exit) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    if (tid == id >> 32 && traced.lookup(&tid)) {   /* every task's exit: the cheap test first */
        u8 one = 1;
        ended.update(&tid, &one);
    }
    traced.delete(&tid);
    return 0;
}

TRACEPOINT_PROBE(sched, sched_process_exec) {
    u32 old = args->old_pid, pid = args->pid;
    if (old == pid)
        return 0;
    if (ended.lookup(&pid) || traced.lookup(&old)) {
        u8 one = 1;
        traced.update(&pid, &one);
    }
    ended.delete(&pid);
    traced.delete(&old);   /* that number is free now, with no exit of its own */
    return 0;
}

TRACEPOINT_PROBE(sched, sched_process_fork) {
    u32 child = args->child_pid;
    ended.delete(&child);  /* the number names a new task: the process that had it is gone */
#ifdef FOLLOW_FORKS
    u32 parent = bpf_get_current_pid_tgid() >> 32;   /* the forking thread's process */
    if (traced.lookup(&parent)) {
        u8 one = 1;
        traced.update(&child, &one);
    }
#endif
    return 0;
}
#endif
