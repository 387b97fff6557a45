/* Signals: handlers, masks, pending, suspend-free waits, alternate stacks, signalfd, delivery. */
#include "corpus.h"
#include <sys/signalfd.h>

static void handler(int sig) { (void)sig; }

struct ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

static void corpus(void)
{
    struct ksigaction sa = {.handler = handler, .flags = 0x04000000 | SA_RESTART}, old;
    syscall(SYS_rt_sigaction, SIGUSR2, NULL, &old, 8);
    syscall(SYS_rt_sigaction, SIGKILL, &sa, NULL, 8);
    syscall(SYS_rt_sigaction, 99, NULL, &old, 8);
    syscall(SYS_rt_sigaction, SIGUSR2, NULL, NULL, 4);
    unsigned long set = 1UL << (SIGUSR1 - 1) | 1UL << (SIGTERM - 1), oset;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &oset, 8);
    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, 8);
    syscall(SYS_rt_sigprocmask, 9, &set, NULL, 8);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &oset, 8);
    unsigned long pend;
    syscall(SYS_rt_sigpending, &pend, 8);
    syscall(SYS_rt_sigpending, NULL, 8);
    stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0}, oss;
    syscall(SYS_sigaltstack, NULL, &oss);
    syscall(SYS_sigaltstack, &ss, NULL);
    syscall(SYS_sigaltstack, NULL, &oss);
    int sfd = syscall(SYS_signalfd4, -1, &set, 8, SFD_CLOEXEC | SFD_NONBLOCK);
    syscall(SYS_signalfd, -1, &set, 8);
    syscall(SYS_close, sfd);
    struct timespec ts = {0, 0};
    siginfo_t si;
    syscall(SYS_rt_sigtimedwait, &set, &si, &ts, 8);
    syscall(SYS_rt_sigqueueinfo, 999999, SIGUSR1, &si);
    syscall(SYS_rt_tgsigqueueinfo, 999999, 999999, SIGUSR1, &si);
    struct ksigaction h = {.handler = handler, .flags = 0x04000000 | SA_SIGINFO, .restorer = NULL};
    (void)h;
    signal(SIGUSR1, handler);
    syscall(SYS_kill, syscall(SYS_getpid), SIGUSR1);
    syscall(SYS_tgkill, syscall(SYS_getpid), syscall(SYS_gettid), SIGUSR1);
    syscall(SYS_kill, syscall(SYS_getpid), 0);
    syscall(SYS_kill, syscall(SYS_getpid), 99);
}
