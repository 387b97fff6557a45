/* A deterministic workload for the summary tests: after one byte on stdin, a fixed number
 * of calls the dynamic loader never makes, some failing, in the process and in a child. */
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char c;
    int n = argc > 1 ? 1000 : 1000;
    if (read(0, &c, 1) != 1)
        return 1;
    for (int i = 0; i < n; i++)
        getppid();
    for (int i = 0; i < 50; i++)
        chdir("/nonexistent-dir");      /* ENOENT each time */
    for (int i = 0; i < 20; i++)
        umask(022);
    pid_t p = fork();
    if (p == 0) {
        for (int i = 0; i < 300; i++)
            getppid();
        for (int i = 0; i < 7; i++)
            chdir("/nonexistent-dir");
        _exit(0);
    }
    waitpid(p, 0, 0);
    return 0;
}
