/* Shared start of every corpus program (bench/strace_match.py --corpus).
 *
 * Run as `PROG DIR`: it re-executes itself without address randomisation and with a fixed
 * environment (so pointers and mmap results are the same under strace and under our
 * tracer), waits for one byte on stdin (the tracer attaches meanwhile), works inside DIR,
 * and ends with exit_group(0). The line `read(0, "g", 1) = 1` marks the comparable part.
 * Raw syscall() is used where glibc would pick another syscall, so each one appears. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BAD ((void *)1)  /* an address nothing is mapped at: EFAULT */

static void corpus(void);

int main(int argc, char **argv)
{
    static char *const env[] = {"PATH=/usr/bin:/bin", "LANG=C", NULL};
    if (argc < 3 || strcmp(argv[1], "run") != 0) {
        if (argc < 2)
            return 2;
        personality(ADDR_NO_RANDOMIZE);
        char *args[] = {"corpus", "run", argv[1], NULL};
        execve("/proc/self/exe", args, env);
        return 1;
    }
    if (chdir(argv[2]) < 0)
        return 1;
    char go;
    if (read(0, &go, 1) != 1)  /* the tracer attaches before this byte arrives */
        return 1;
    corpus();
    syscall(SYS_exit_group, 0);
    return 0;
}
