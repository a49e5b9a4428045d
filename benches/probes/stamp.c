/* The reap-latency child: maps the shared file named by argv[1], and as its
 * very last instruction before exit_group(0) stores CLOCK_MONOTONIC (in
 * nanoseconds) into its first 8 bytes. The parent subtracts that from the
 * moment it has reaped the child: the reap latency, with no spawn in it.
 *
 * Static, so that start-up is short; it exits with the raw system call so
 * that no atexit handler or stdio flush runs after the stamp. */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int fd = open(argv[1], O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return 3;
    volatile uint64_t *stamp = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (stamp == MAP_FAILED)
        return 4;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    *stamp = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    syscall(SYS_exit_group, 0);
    return 5;
}
