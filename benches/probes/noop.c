/* The smallest program a spawn can start: no C library, no dynamic loader,
 * one page of code. `_start` calls exit_group(0) and nothing else, so timing
 * a spawn of it measures the spawn, not the program's start-up.
 *
 * Built with -nostdlib -static by benches/build.rs. */

void _start(void) __attribute__((noreturn));

void _start(void)
{
#if defined(__x86_64__)
    __asm__ volatile("syscall" : : "a"(231 /* exit_group */), "D"(0) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = 94; /* exit_group */
    register long x0 __asm__("x0") = 0;
    __asm__ volatile("svc #0" : : "r"(x8), "r"(x0) : "memory");
#else
#error "noop.c: add this architecture's exit_group system call"
#endif
    __builtin_unreachable();
}
