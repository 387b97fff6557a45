/* Everything else: polling and epoll, select, inotify/fanotify, memfd, random, uname, sysinfo,
 * keys, modules, bpf, perf, io_uring, system calls that fail harmlessly as root. */
#include "corpus.h"
#include <poll.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/select.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

static void corpus(void)
{
    char buf[64];
    int pfd[2];
    syscall(SYS_pipe2, pfd, 0);
    syscall(SYS_write, pfd[1], "z", 1);
    struct pollfd pf[2] = {{pfd[0], POLLIN, 0}, {pfd[1], POLLOUT | POLLIN, 0}};
    syscall(SYS_poll, pf, 2, 0);
    syscall(SYS_poll, NULL, 0, 0);
    struct pollfd none = {pfd[0], POLLPRI, 0};
    syscall(SYS_poll, &none, 1, 0);
    struct timespec ts = {0, 0};
    syscall(SYS_ppoll, pf, 2, &ts, NULL, 8);
    fd_set rs, ws;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_SET(pfd[0], &rs);
    FD_SET(pfd[1], &ws);
    struct timeval tv = {0, 0};
    syscall(SYS_select, pfd[1] + 1, &rs, &ws, NULL, &tv);
    FD_ZERO(&rs);
    syscall(SYS_select, pfd[1] + 1, &rs, NULL, NULL, &tv);
    syscall(SYS_select, 0, NULL, NULL, NULL, &tv);
    syscall(SYS_pselect6, 0, NULL, NULL, NULL, &ts, NULL);
    int ep = syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
    syscall(SYS_epoll_create, 1);
    syscall(SYS_epoll_create, 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 7};
    syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, pfd[0], &ev);
    syscall(SYS_epoll_ctl, ep, EPOLL_CTL_MOD, pfd[0], &ev);
    syscall(SYS_epoll_ctl, ep, 9, pfd[0], &ev);
    struct epoll_event out[4];
    syscall(SYS_epoll_wait, ep, out, 4, 0);
    syscall(SYS_epoll_pwait, ep, out, 4, 0, NULL, 8);
    syscall(SYS_epoll_pwait2, ep, out, 4, &ts, NULL, 8);
    syscall(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, pfd[0], NULL);
    syscall(SYS_epoll_wait, ep, out, 4, 0);
    syscall(SYS_close, ep);
    syscall(SYS_close, pfd[0]);
    syscall(SYS_close, pfd[1]);
    int in = syscall(SYS_inotify_init1, IN_NONBLOCK | IN_CLOEXEC);
    int wd = syscall(SYS_inotify_add_watch, in, ".", IN_CREATE | IN_DELETE);
    syscall(SYS_inotify_rm_watch, in, wd);
    syscall(SYS_inotify_add_watch, in, "nope", IN_ALL_EVENTS);
    syscall(SYS_close, in);
    syscall(SYS_inotify_init);
    syscall(SYS_fanotify_init, 0, 0);
    int mfd = syscall(SYS_memfd_create, "corpus", 1 /* MFD_CLOEXEC */);
    syscall(SYS_close, mfd);
    syscall(SYS_memfd_create, "bad", 0x1000);
    syscall(SYS_getrandom, buf, 8, 0x2);
    syscall(SYS_getrandom, buf, 0, 0);
    syscall(SYS_getrandom, NULL, 8, 0x10);
    struct utsname un;
    syscall(SYS_uname, &un);
    syscall(SYS_uname, NULL);
    syscall(SYS_sysinfo, NULL);
    syscall(SYS_sethostname, "x", -1);
    syscall(SYS_setdomainname, "x", -1);
    syscall(SYS_syslog, 99, NULL, 0);
    syscall(SYS_reboot, 0, 0, 0, NULL);
    syscall(SYS_iopl, 9);
    syscall(SYS_swapon, "nope", 0);
    syscall(SYS_pivot_root, "nope", "nope");
    syscall(SYS_quotactl, 0, NULL, 0, NULL);
    syscall(SYS_add_key, NULL, NULL, NULL, 0, 0);
    syscall(SYS_request_key, NULL, NULL, NULL, 0);
    syscall(SYS_keyctl, 999, 0, 0, 0, 0);
    syscall(SYS_bpf, 999, NULL, 0);
    syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
    syscall(SYS_io_setup, 0, NULL);
    syscall(SYS_io_destroy, 0);
    syscall(SYS_io_submit, 0, 0, NULL);
    syscall(SYS_io_cancel, 0, NULL, NULL);
    syscall(SYS_io_getevents, 0, 0, 0, NULL, NULL);
    syscall(SYS_io_uring_setup, 0, NULL);
    syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0);
    syscall(SYS_io_uring_register, -1, 0, NULL, 0);
    syscall(SYS_userfaultfd, 0x7fffffff);
    syscall(SYS_name_to_handle_at, AT_FDCWD, "nope", NULL, NULL, 0);
    syscall(SYS_open_by_handle_at, -1, NULL, 0);
    syscall(SYS_copy_file_range, -1, NULL, -1, NULL, 0, 0);
    syscall(SYS_finit_module, -1, "", 0);
    syscall(SYS_delete_module, "nope", 0);
    syscall(SYS_landlock_create_ruleset, NULL, 0, 1);
    syscall(SYS_fsopen, "nope", 0);
    syscall(SYS_open_tree, -1, "nope", 0);
    syscall(SYS_rseq, NULL, 0, 0, 0);
    syscall(SYS_set_tid_address, NULL);
    syscall(SYS_lookup_dcookie, 0, NULL, 0);
}
