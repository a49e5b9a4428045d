/*
 * The C library's own answers, for exitmatrix's differential tests.
 *
 * Each function applies one real macro of <sys/wait.h> or returns one real
 * constant of <signal.h>, so that the tests compare the harness's pure Rust
 * decoder and signal tables with what the host's C headers say, not with a
 * second copy of the same assumptions written in Rust.
 *
 * References:
 * - POSIX.1-2017 <sys/wait.h>, <signal.h>
 * - glibc bits/waitstatus.h, bits/signum-generic.h, bits/signum-arch.h
 */

/* WCOREDUMP, SIGSTKFLT, SIGPWR and the CLD_* codes are extensions. */
#define _GNU_SOURCE 1

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

int em_wifexited(int status) { return WIFEXITED(status); }
int em_wexitstatus(int status) { return WEXITSTATUS(status); }
int em_wifsignaled(int status) { return WIFSIGNALED(status); }
int em_wtermsig(int status) { return WTERMSIG(status); }
int em_wcoredump(int status) { return WCOREDUMP(status); }
int em_wifstopped(int status) { return WIFSTOPPED(status); }
int em_wstopsig(int status) { return WSTOPSIG(status); }
int em_wifcontinued(int status) { return WIFCONTINUED(status); }

int em_cld_exited(void) { return CLD_EXITED; }
int em_cld_killed(void) { return CLD_KILLED; }
int em_cld_dumped(void) { return CLD_DUMPED; }
int em_cld_trapped(void) { return CLD_TRAPPED; }
int em_cld_stopped(void) { return CLD_STOPPED; }
int em_cld_continued(void) { return CLD_CONTINUED; }

struct em_signal {
    const char *name;
    int number;
};

/* The 28 signals of POSIX.1-2017 <signal.h>, then the Linux extras that the
 * harness's tables name. Names a libc may lack are guarded, so that an
 * absent one reads as unknown (-1) rather than breaking the build. */
static const struct em_signal em_signals[] = {
    {"SIGABRT", SIGABRT},
    {"SIGALRM", SIGALRM},
    {"SIGBUS", SIGBUS},
    {"SIGCHLD", SIGCHLD},
    {"SIGCONT", SIGCONT},
    {"SIGFPE", SIGFPE},
    {"SIGHUP", SIGHUP},
    {"SIGILL", SIGILL},
    {"SIGINT", SIGINT},
    {"SIGKILL", SIGKILL},
    {"SIGPIPE", SIGPIPE},
    {"SIGQUIT", SIGQUIT},
    {"SIGSEGV", SIGSEGV},
    {"SIGSTOP", SIGSTOP},
    {"SIGTERM", SIGTERM},
    {"SIGTSTP", SIGTSTP},
    {"SIGTTIN", SIGTTIN},
    {"SIGTTOU", SIGTTOU},
    {"SIGUSR1", SIGUSR1},
    {"SIGUSR2", SIGUSR2},
#ifdef SIGPOLL
    {"SIGPOLL", SIGPOLL},
#endif
    {"SIGPROF", SIGPROF},
    {"SIGSYS", SIGSYS},
    {"SIGTRAP", SIGTRAP},
    {"SIGURG", SIGURG},
    {"SIGVTALRM", SIGVTALRM},
    {"SIGXCPU", SIGXCPU},
    {"SIGXFSZ", SIGXFSZ},
#ifdef SIGSTKFLT
    {"SIGSTKFLT", SIGSTKFLT},
#endif
#ifdef SIGWINCH
    {"SIGWINCH", SIGWINCH},
#endif
#ifdef SIGPWR
    {"SIGPWR", SIGPWR},
#endif
#ifdef SIGIO
    {"SIGIO", SIGIO},
#endif
#ifdef SIGIOT
    {"SIGIOT", SIGIOT},
#endif
/* Removed from glibc 2.26's headers; known only where the libc still has it. */
#ifdef SIGUNUSED
    {"SIGUNUSED", SIGUNUSED},
#endif
#ifdef SIGCLD
    {"SIGCLD", SIGCLD},
#endif
#ifdef SIGEMT
    {"SIGEMT", SIGEMT},
#endif
};

int em_signum(const char *name) {
    size_t i;
    if (name == NULL) {
        return -1;
    }
    for (i = 0; i < sizeof em_signals / sizeof em_signals[0]; i++) {
        if (strcmp(em_signals[i].name, name) == 0) {
            return em_signals[i].number;
        }
    }
    return -1;
}
