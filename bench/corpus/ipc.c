/* IPC: System V shared memory, semaphores, message queues; POSIX message queues; pipes, eventfd. */
#include "corpus.h"
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

static void corpus(void)
{
    int shm = syscall(SYS_shmget, IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    void *p = (void *)syscall(SYS_shmat, shm, NULL, 0);
    syscall(SYS_shmdt, p);
    syscall(SYS_shmctl, shm, IPC_RMID, NULL);
    syscall(SYS_shmget, IPC_PRIVATE, 0, 0);
    syscall(SYS_shmat, -1, NULL, SHM_RDONLY);
    syscall(SYS_shmdt, BAD);
    syscall(SYS_shmctl, -1, IPC_STAT, NULL);
    int sem = syscall(SYS_semget, IPC_PRIVATE, 1, IPC_CREAT | 0600);
    struct sembuf op = {0, 1, 0};
    syscall(SYS_semop, sem, &op, 1);
    syscall(SYS_semtimedop, sem, &op, 1, NULL);
    syscall(SYS_semctl, sem, 0, IPC_RMID, 0);
    syscall(SYS_semget, 12345, 1, 0);
    syscall(SYS_semop, -1, NULL, 0);
    int mq = syscall(SYS_msgget, IPC_PRIVATE, IPC_CREAT | 0600);
    struct { long type; char text[8]; } m = {1, "hi"};
    syscall(SYS_msgsnd, mq, &m, 3, 0);
    syscall(SYS_msgrcv, mq, &m, 8, 0, IPC_NOWAIT);
    syscall(SYS_msgrcv, mq, &m, 8, 0, IPC_NOWAIT);
    syscall(SYS_msgctl, mq, IPC_RMID, NULL);
    syscall(SYS_msgget, 12345, 0);
    syscall(SYS_mq_open, "/nonexistent-corpus", O_RDONLY, 0, NULL);
    syscall(SYS_mq_unlink, "/nonexistent-corpus");
    syscall(SYS_mq_timedsend, -1, "x", 1, 0, NULL);
    syscall(SYS_mq_timedreceive, -1, NULL, 0, NULL, NULL);
    syscall(SYS_mq_notify, -1, NULL);
    syscall(SYS_mq_getsetattr, -1, NULL, NULL);
    int pfd[2];
    syscall(SYS_pipe, pfd);
    syscall(SYS_write, pfd[1], "pipe", 4);
    syscall(SYS_read, pfd[0], (char[8]){0}, 8);
    syscall(SYS_close, pfd[0]);
    syscall(SYS_close, pfd[1]);
    syscall(SYS_pipe2, pfd, O_CLOEXEC | O_NONBLOCK);
    syscall(SYS_tee, pfd[0], pfd[1], 10, 0);
    syscall(SYS_splice, pfd[0], NULL, pfd[1], NULL, 10, 1 /* SPLICE_F_MOVE */);
    syscall(SYS_vmsplice, pfd[1], NULL, 0, 0);
    syscall(SYS_close, pfd[0]);
    syscall(SYS_close, pfd[1]);
    syscall(SYS_pipe2, pfd, 0x1);
    syscall(SYS_pipe, BAD);
    int efd = syscall(SYS_eventfd2, 3, 0x80000 | 0x800);
    unsigned long long cnt;
    syscall(SYS_read, efd, &cnt, 8);
    syscall(SYS_close, efd);
    efd = syscall(SYS_eventfd, 0);
    syscall(SYS_close, efd);
}
