/* The strace-match workload: one deterministic run of ~60 different syscalls.
 *
 * Run as `workload DIR`: it re-executes itself without address randomisation and with a
 * fixed environment (so pointers, mmap/brk results and the stack are the same under
 * strace and under our tracer), then waits for one byte on stdin (the tracer attaches
 * meanwhile) and works inside DIR. Raw syscall() is used where glibc would pick another
 * syscall (open -> openat, stat -> newfstatat, fork -> clone ...) so each one appears.
 * The line `read(0, "g", 1) = 1` marks the start of the comparable part. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT_SRV 47311
#define PORT_CLI 47312
#define PORT_UDP 47313

static const char *workdir;
static char *const clean_env[] = {"PATH=/usr/bin:/bin", "LANG=C", NULL};

static void files(void)
{
    char buf[256];
    struct stat st;
    long fd = syscall(SYS_open, "data.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    write(fd, "hello world\n", 12);
    /* longer than strace's 32-byte string limit, with bytes it escapes */
    write(fd, "line two\twith tab and \"quotes\" and \\ backslash\n\001\377end\n", 52);
    lseek(fd, 0, SEEK_SET);
    fsync(fd);
    ftruncate(fd, 64);
    close(fd);
    fd = openat(AT_FDCWD, "data.txt", O_RDONLY | O_CLOEXEC);
    read(fd, buf, 5);
    pread64(fd, buf, 8, 6);
    syscall(SYS_fstat, fd, &st);
    lseek(fd, -4, SEEK_END);
    close(fd);
    openat(AT_FDCWD, "missing.txt", O_RDONLY);
    syscall(SYS_stat, "data.txt", &st);
    syscall(SYS_stat, "missing.txt", &st);
    syscall(SYS_lstat, "data.txt", &st);
    syscall(SYS_newfstatat, AT_FDCWD, "data.txt", &st, AT_SYMLINK_NOFOLLOW);
    syscall(SYS_access, "data.txt", R_OK | W_OK);
    syscall(SYS_access, "missing.txt", F_OK);
    syscall(SYS_faccessat, AT_FDCWD, "data.txt", X_OK);
    truncate("data.txt", 32);
    syscall(SYS_chmod, "data.txt", 0600);
    syscall(SYS_chown, "data.txt", 0, 0);
    syscall(SYS_symlink, "data.txt", "link.txt");
    syscall(SYS_readlink, "link.txt", buf, sizeof(buf));
    syscall(SYS_readlinkat, AT_FDCWD, "link.txt", buf, sizeof(buf));
    syscall(SYS_rename, "data.txt", "moved.txt");
    syscall(SYS_link, "moved.txt", "hard.txt");
    syscall(SYS_unlink, "link.txt");
    syscall(SYS_unlinkat, AT_FDCWD, "hard.txt", 0);
    syscall(SYS_mkdir, "sub", 0750);
    syscall(SYS_mkdirat, AT_FDCWD, "sub2", 0700);
    syscall(SYS_rmdir, "sub2");
    syscall(SYS_unlinkat, AT_FDCWD, "sub", AT_REMOVEDIR);
    syscall(SYS_rmdir, "missing.dir");
    struct statx stx;
    syscall(SYS_statx, AT_FDCWD, "moved.txt", AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, &stx);
    syscall(SYS_unlink, "moved.txt");
    syscall(SYS_getcwd, buf, sizeof(buf));
    syscall(SYS_creat, "made.txt", 0644);
    syscall(SYS_chdir, "/");
    syscall(SYS_chdir, workdir);
}

static void fds(void)
{
    int p[2], q[2];
    char buf[64];
    syscall(SYS_pipe2, p, O_CLOEXEC);
    syscall(SYS_pipe, q);
    write(p[1], "through the pipe", 16);
    read(p[0], buf, sizeof(buf));
    int d = syscall(SYS_dup, p[0]);
    syscall(SYS_dup2, d, 20);
    syscall(SYS_dup3, d, 21, O_CLOEXEC);
    fcntl(d, F_GETFD);
    fcntl(d, F_SETFD, FD_CLOEXEC);
    fcntl(d, F_GETFL);
    fcntl(d, F_SETFL, O_NONBLOCK);
    fcntl(d, F_DUPFD_CLOEXEC, 30);
    read(d, buf, sizeof(buf));  /* EAGAIN: nonblocking and empty */
    close(99);                  /* EBADF */
    close(d);
    close(20);
    close(21);
    close(30);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
}

static void sockets(void)
{
    int one = 1;
    char buf[64];
    struct sockaddr_in srv = {.sin_family = AF_INET, .sin_port = htons(PORT_SRV)};
    struct sockaddr_in cli = {.sin_family = AF_INET, .sin_port = htons(PORT_CLI)};
    inet_pton(AF_INET, "127.0.0.1", &srv.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &cli.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    bind(s, (struct sockaddr *)&srv, sizeof(srv));
    listen(s, 8);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    bind(c, (struct sockaddr *)&cli, sizeof(cli));
    connect(c, (struct sockaddr *)&srv, sizeof(srv));
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    int a = accept4(s, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
    len = sizeof(peer);
    getsockname(c, (struct sockaddr *)&peer, &len);
    len = sizeof(peer);
    getpeername(c, (struct sockaddr *)&peer, &len);
    sendto(c, "ping", 4, 0, NULL, 0);
    recvfrom(a, buf, sizeof(buf), 0, NULL, NULL);
    sendto(a, "pong", 4, MSG_NOSIGNAL, NULL, 0);
    recvfrom(c, buf, sizeof(buf), MSG_PEEK, NULL, NULL);
    recvfrom(c, buf, sizeof(buf), 0, NULL, NULL);
    shutdown(c, SHUT_WR);
    close(a);
    close(c);
    close(s);

    /* UDP with addresses on both sides: recvfrom fills the sender's */
    struct sockaddr_in u = {.sin_family = AF_INET, .sin_port = htons(PORT_UDP)};
    inet_pton(AF_INET, "127.0.0.1", &u.sin_addr);
    int us = socket(AF_INET, SOCK_DGRAM, 0);
    bind(us, (struct sockaddr *)&u, sizeof(u));
    sendto(us, "datagram", 8, 0, (struct sockaddr *)&u, sizeof(u));
    len = sizeof(peer);
    recvfrom(us, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);
    close(us);

    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(PORT_UDP)};
    inet_pton(AF_INET6, "::1", &s6.sin6_addr);
    int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
    bind(u6, (struct sockaddr *)&s6, sizeof(s6));
    close(u6);

    struct sockaddr_un un = {.sun_family = AF_UNIX};
    strcpy(un.sun_path, "unix.sock");
    int x = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(x, (struct sockaddr *)&un, sizeof(un));
    connect(x, (struct sockaddr *)&un, sizeof(un));  /* EINVAL: not listening (own socket) */
    close(x);
    unlink("unix.sock");
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    close(sv[0]);
    close(sv[1]);
}

static void memory_and_time(void)
{
    void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(m, 4096, PROT_READ);
    munmap(m, 8192);
    syscall(SYS_brk, 0);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    ts.tv_nsec = 1000;
    clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    struct utsname u;
    uname(&u);
    umask(022);
    umask(027);
}

static void processes(char *self)
{
    getpid();
    getppid();
    getuid();
    getgid();
    geteuid();
    getegid();
    kill(getpid(), 0);
    kill(999999, SIGTERM);  /* ESRCH */
    sched_yield();
    long pid = syscall(SYS_fork);
    if (pid == 0) {
        char *argv[] = {"workload", "child", "with \"quote\"", NULL};
        getpid();
        execve("/nonexistent/prog", argv, clean_env);
        execve(self, argv, clean_env);
        _exit(127);
    }
    int status;
    wait4(pid, &status, 0, NULL);
    wait4(-1, &status, WNOHANG, NULL);  /* ECHILD */
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        getppid();
        syscall(SYS_exit_group, 3);
    }
    if (argc < 3 || strcmp(argv[1], "run") != 0) {
        /* the fixed-layout re-execution: no ASLR, fixed argv and environment */
        if (argc < 2)
            return 2;
        personality(ADDR_NO_RANDOMIZE);
        char *args[] = {"workload", "run", argv[1], NULL};
        execve("/proc/self/exe", args, clean_env);
        return 1;
    }
    char self[256];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n < 0 || chdir(argv[2]) < 0)
        return 1;
    self[n] = 0;
    workdir = argv[2];
    char go;
    if (read(0, &go, 1) != 1)  /* the tracer attaches before this byte arrives */
        return 1;
    files();
    fds();
    sockets();
    memory_and_time();
    processes(self);
    syscall(SYS_exit_group, 0);
}
