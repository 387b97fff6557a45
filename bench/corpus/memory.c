/* Memory: mappings, protections, advice, locking, NUMA policies. */
#include "corpus.h"
#include <sys/mman.h>

static void corpus(void)
{
    unsigned char vec[4];
    char *p = (char *)syscall(SYS_mmap, NULL, 16384, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    syscall(SYS_mmap, NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_PRIVATE, -1, 0);
    syscall(SYS_mmap, NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    syscall(SYS_mprotect, p, 4096, PROT_READ);
    syscall(SYS_mprotect, p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    syscall(SYS_mprotect, p + 1, 4096, PROT_READ);
    syscall(SYS_pkey_mprotect, p, 4096, PROT_READ, -1);
    syscall(SYS_madvise, p, 4096, MADV_DONTNEED);
    syscall(SYS_madvise, p, 4096, MADV_WILLNEED);
    syscall(SYS_madvise, p, 4096, 999);
    syscall(SYS_mincore, p, 16384, vec);
    syscall(SYS_mincore, p + 1, 4096, vec);
    syscall(SYS_msync, p, 4096, MS_SYNC);
    syscall(SYS_msync, p, 4096, MS_ASYNC | MS_INVALIDATE);
    syscall(SYS_mlock, p, 4096);
    syscall(SYS_munlock, p, 4096);
    syscall(SYS_mlock2, p, 4096, 1 /* MLOCK_ONFAULT */);
    syscall(SYS_munlock, p, 4096);
    syscall(SYS_mlockall, MCL_CURRENT);
    syscall(SYS_munlockall);
    syscall(SYS_mlockall, 0);
    char *q = (char *)syscall(SYS_mremap, p, 16384, 32768, MREMAP_MAYMOVE);
    syscall(SYS_mremap, q, 4096, 8192, 0);
    syscall(SYS_remap_file_pages, q, 4096, 0, 0, 0);
    syscall(SYS_munmap, q, 32768);
    syscall(SYS_munmap, (void *)1, 4096);
    syscall(SYS_brk, NULL);
    syscall(SYS_pkey_alloc, 0, 0);
    syscall(SYS_pkey_free, 1);
    syscall(SYS_pkey_free, 99);
    syscall(SYS_set_mempolicy, 0, NULL, 0);
    syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0);
    syscall(SYS_mbind, p, 4096, 0, NULL, 0, 0);
    syscall(SYS_migrate_pages, 0, 0, NULL, NULL);
    syscall(SYS_move_pages, 0, 0, NULL, NULL, NULL, 0);
    syscall(SYS_membarrier, 0, 0, 0);
    syscall(SYS_process_madvise, -1, NULL, 0, 0, 0);
    syscall(462 /* mseal */, p, 4096, 0);
}
