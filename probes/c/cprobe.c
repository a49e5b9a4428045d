/*
 * cprobe: the C library's own ways of ending a process, to tell them apart
 * from Rust's runtime. `cprobe <verb> [args]` ends the process in the one way
 * the verb names; `cprobe --list` prints the verbs.
 *
 *   return <int>          main returns the number
 *   exit <int>            exit(n)
 *   _exit <int>           _exit(n)
 *   _Exit <int>           _Exit(n) (C99 7.20.4.4, C11 7.22.4.5)
 *   quick_exit <int>      printf("partial line"), then quick_exit(n) with a
 *                         handler registered by at_quick_exit (it runs and
 *                         says so on stderr) and one by atexit (it must not)
 *   exit-from-atexit <outer> <inner>
 *                         printf("partial line"), then exit(outer); the last
 *                         registered atexit handler calls exit(inner) (once),
 *                         an earlier one only says it ran. Undefined in C;
 *                         glibc's exit() is written to allow it
 *   abort                 abort()
 *   abort-handler-returns abort() with a SIGABRT handler that returns
 *   abort-ignored         abort() with SIGABRT set to SIG_IGN
 *   abort-blocked         abort() with SIGABRT blocked (POSIX only)
 *   raise <SIGNAME>       raise(SIGNAME) with its disposition reset to SIG_DFL
 *                         and the signal unblocked; returns 0 if raise returns
 *   raise-blocked <SIGNAME>
 *                         blocks the signal (default disposition), raises it,
 *                         prints "pending" or "not pending" (sigpending), then
 *                         unblocks it; prints "unblocked" and returns 0 if
 *                         still alive (POSIX only)
 *   exit-after-printf     printf("partial line") with no newline, then exit(0)
 *   _exit-after-printf    printf("partial line") with no newline, then _exit(0)
 *   _Exit-after-printf    printf("partial line") with no newline, then _Exit(0)
 *   abort-after-printf    printf("partial line") with no newline, then abort()
 *   signum <SIGNAME>      prints the signal's number from <signal.h>
 *   --list                prints the verbs, one per line
 *
 * Signal names are resolved with this C library's <signal.h>, which makes the
 * probe an independent check of the harness's signal tables. A usage error
 * (unknown verb or signal name, missing, extra or malformed argument) prints
 * one line on stderr and exits with 120, like every probe. A verb that cannot
 * be carried out here (no signal mask on Windows, no quick_exit in the C
 * library, a raise() that fails) prints one line on stderr and exits with
 * 121, as the Rust probe does.
 *
 * C11 or C99 with POSIX.1-2008 and the XSI option (for SIGPOLL and friends):
 *   cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror cprobe.c
 * It also builds for Windows with mingw-w64 (x86_64-w64-mingw32-gcc), whose
 * C runtime has the six C11 signals and no signal mask.
 */

/* XSI (POSIX.1-2008 with the X/Open System Interfaces) defines all 28
 * signals of <signal.h>, SIGPOLL included; glibc hides some without it. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _WIN32
#include <io.h>
#endif

/* The status for a usage error, shared by every probe. */
#define USAGE_ERROR 120

/* The status for a verb that cannot be carried out here, as in the Rust
 * probe. */
#define CANNOT 121

/* quick_exit and at_quick_exit are C11 (7.22.4.3, 7.22.4.7). glibc has them
 * since 2.10 and musl too; Microsoft's msvcrt.dll, which mingw-w64 links by
 * default, does not (the UCRT does). */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && \
    (defined(__GLIBC__) || (defined(__linux__) && !defined(__ANDROID__)) || \
     defined(_UCRT))
#define HAVE_QUICK_EXIT 1
#else
#define HAVE_QUICK_EXIT 0
#endif

struct signame {
    const char *name;
    int num;
};

/* The signals of POSIX.1-2017 <signal.h>, in its order; each is guarded
 * since a C library may lack some (SIGPOLL is obsolescent). */
static const struct signame SIGNALS[] = {
#ifdef SIGABRT
    {"SIGABRT", SIGABRT},
#endif
#ifdef SIGALRM
    {"SIGALRM", SIGALRM},
#endif
#ifdef SIGBUS
    {"SIGBUS", SIGBUS},
#endif
#ifdef SIGCHLD
    {"SIGCHLD", SIGCHLD},
#endif
#ifdef SIGCONT
    {"SIGCONT", SIGCONT},
#endif
#ifdef SIGFPE
    {"SIGFPE", SIGFPE},
#endif
#ifdef SIGHUP
    {"SIGHUP", SIGHUP},
#endif
#ifdef SIGILL
    {"SIGILL", SIGILL},
#endif
#ifdef SIGINT
    {"SIGINT", SIGINT},
#endif
#ifdef SIGKILL
    {"SIGKILL", SIGKILL},
#endif
#ifdef SIGPIPE
    {"SIGPIPE", SIGPIPE},
#endif
#ifdef SIGQUIT
    {"SIGQUIT", SIGQUIT},
#endif
#ifdef SIGSEGV
    {"SIGSEGV", SIGSEGV},
#endif
#ifdef SIGSTOP
    {"SIGSTOP", SIGSTOP},
#endif
#ifdef SIGTERM
    {"SIGTERM", SIGTERM},
#endif
#ifdef SIGTSTP
    {"SIGTSTP", SIGTSTP},
#endif
#ifdef SIGTTIN
    {"SIGTTIN", SIGTTIN},
#endif
#ifdef SIGTTOU
    {"SIGTTOU", SIGTTOU},
#endif
#ifdef SIGUSR1
    {"SIGUSR1", SIGUSR1},
#endif
#ifdef SIGUSR2
    {"SIGUSR2", SIGUSR2},
#endif
#ifdef SIGPOLL
    {"SIGPOLL", SIGPOLL},
#endif
#ifdef SIGPROF
    {"SIGPROF", SIGPROF},
#endif
#ifdef SIGSYS
    {"SIGSYS", SIGSYS},
#endif
#ifdef SIGTRAP
    {"SIGTRAP", SIGTRAP},
#endif
#ifdef SIGURG
    {"SIGURG", SIGURG},
#endif
#ifdef SIGVTALRM
    {"SIGVTALRM", SIGVTALRM},
#endif
#ifdef SIGXCPU
    {"SIGXCPU", SIGXCPU},
#endif
#ifdef SIGXFSZ
    {"SIGXFSZ", SIGXFSZ},
#endif
    /* Not POSIX; some systems have them (Linux: SIGSTKFLT, SIGPWR and
     * SIGWINCH; MIPS and the BSDs: SIGEMT). SIGRTMIN and SIGRTMAX are not
     * constants and are looked up in signal_arg. */
#ifdef SIGEMT
    {"SIGEMT", SIGEMT},
#endif
#ifdef SIGPWR
    {"SIGPWR", SIGPWR},
#endif
#ifdef SIGSTKFLT
    {"SIGSTKFLT", SIGSTKFLT},
#endif
#ifdef SIGWINCH
    {"SIGWINCH", SIGWINCH},
#endif
};

#define NSIGNALS (sizeof SIGNALS / sizeof SIGNALS[0])

struct verb {
    const char *name;
    const char *synopsis;
};

/* Every verb with the synopsis of its arguments, in --list order. */
static const struct verb VERBS[] = {
    {"return", " <int>"},
    {"exit", " <int>"},
    {"_exit", " <int>"},
    {"_Exit", " <int>"},
    {"quick_exit", " <int>"},
    {"exit-from-atexit", " <outer int> <inner int>"},
    {"abort", ""},
    {"abort-handler-returns", ""},
    {"abort-ignored", ""},
    {"abort-blocked", ""},
    {"raise", " <SIGNAME>"},
    {"raise-blocked", " <SIGNAME>"},
    {"exit-after-printf", ""},
    {"_exit-after-printf", ""},
    {"_Exit-after-printf", ""},
    {"abort-after-printf", ""},
    {"signum", " <SIGNAME>"},
    {"--list", ""},
};

#define NVERBS (sizeof VERBS / sizeof VERBS[0])

/* Prints the usage line of `verb` (or the general one if it is NULL or
 * unknown) and exits with USAGE_ERROR. */
static void usage(const char *verb)
{
    size_t i;

    if (verb != NULL) {
        for (i = 0; i < NVERBS; i++) {
            if (strcmp(VERBS[i].name, verb) == 0) {
                fprintf(stderr, "cprobe: usage: cprobe %s%s\n", VERBS[i].name,
                        VERBS[i].synopsis);
                exit(USAGE_ERROR);
            }
        }
    }
    fprintf(stderr, "cprobe: usage: cprobe <verb> [args...]; `cprobe --list` prints the verbs\n");
    exit(USAGE_ERROR);
}

/* Says on stderr why `verb` cannot be carried out here, and exits with
 * CANNOT. */
static void cannot(const char *verb, const char *why)
{
    fprintf(stderr, "cprobe: %s: %s\n", verb, why);
    exit(CANNOT);
}

/* Parses a whole decimal `int` argument of `verb`, or ends with a usage
 * error: no empty string, no trailing characters, no overflow. */
static int int_arg(const char *verb, const char *arg)
{
    char *end = NULL;
    long n;

    errno = 0;
    n = strtol(arg, &end, 10);
    if (end == arg || *end != '\0' || errno != 0 || n < INT_MIN || n > INT_MAX) {
        usage(verb);
    }
    return (int)n;
}

/* Looks a signal name up in SIGNALS, or ends with a usage error. */
static int signal_arg(const char *verb, const char *name)
{
    size_t i;

    for (i = 0; i < NSIGNALS; i++) {
        if (strcmp(SIGNALS[i].name, name) == 0) {
            return SIGNALS[i].num;
        }
    }
    /* glibc's and musl's SIGRTMIN and SIGRTMAX are function calls, since
     * the C library keeps the first few real-time signals for itself. */
#ifdef SIGRTMIN
    if (strcmp(name, "SIGRTMIN") == 0) {
        return SIGRTMIN;
    }
#endif
#ifdef SIGRTMAX
    if (strcmp(name, "SIGRTMAX") == 0) {
        return SIGRTMAX;
    }
#endif
    fprintf(stderr, "cprobe: %s: unknown signal name: %s\n", verb, name);
    exit(USAGE_ERROR);
}

/* raise(sig) with the disposition reset to SIG_DFL and the signal unblocked.
 * Failures of the set-up are ignored: SIGKILL and SIGSTOP cannot be caught
 * or blocked anyway. A raise() that fails ends with CANNOT. */
static void raise_default(const char *verb, int sig)
{
#ifdef _WIN32
    /* Windows' C runtime has no signal mask (and no sigset_t). */
    (void)signal(sig, SIG_DFL);
#else
    sigset_t set;

    (void)signal(sig, SIG_DFL);
    (void)sigemptyset(&set);
    (void)sigaddset(&set, sig);
    (void)sigprocmask(SIG_UNBLOCK, &set, NULL);
#endif
    if (raise(sig) != 0) {
        cannot(verb, strerror(errno));
    }
}

/* Writes a string literal to stderr with write(2) (_write on Windows), which
 * a signal handler may call. */
#ifdef _WIN32
#define SAY_RAW(msg) ((void)_write(2, (msg), (unsigned)(sizeof(msg) - 1)))
#else
#define SAY_RAW(msg)                                                 \
    do {                                                             \
        if (write(2, (msg), sizeof(msg) - 1) < 0) {                  \
            /* Nothing more can be done in a signal handler. */      \
        }                                                            \
    } while (0)
#endif

/* abort-handler-returns: a SIGABRT handler that says so and returns. */
static void sigabrt_returns(int sig)
{
    (void)sig;
    SAY_RAW("cprobe: SIGABRT handler returns\n");
}

/* quick_exit: the handlers, on stderr (unbuffered, so nothing is lost). */
#if HAVE_QUICK_EXIT
static void at_quick_exit_says(void)
{
    fputs("cprobe: at_quick_exit handler ran\n", stderr);
}
#endif

static void atexit_says(void)
{
    fputs("cprobe: atexit handler ran\n", stderr);
}

/* exit-from-atexit: the status of the inner exit(), and whether the handler
 * has run before (so that a C library which ran it again cannot loop). */
static int inner_status;
static int exiting_handler_ran;

static void atexit_exits(void)
{
    if (exiting_handler_ran) {
        fputs("cprobe: exiting atexit handler ran again\n", stderr);
        return;
    }
    exiting_handler_ran = 1;
    fputs("cprobe: atexit handler calls exit\n", stderr);
    exit(inner_status);
}

/* raise-blocked: blocks `sig` with its default disposition, raises it, says
 * whether it is pending, then unblocks it. POSIX (sigprocmask): "If there
 * are any pending unblocked signals after the call to sigprocmask(), at
 * least one of those signals shall be delivered before the call to
 * sigprocmask() returns." */
static void raise_blocked(const char *verb, int sig)
{
#ifdef _WIN32
    (void)sig;
    cannot(verb, "Windows' C runtime has no signal mask");
#else
    sigset_t set;
    sigset_t pending;

    (void)signal(sig, SIG_DFL);
    (void)sigemptyset(&set);
    (void)sigaddset(&set, sig);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
        cannot(verb, strerror(errno));
    }
    if (raise(sig) != 0) {
        cannot(verb, strerror(errno));
    }
    (void)sigemptyset(&pending);
    if (sigpending(&pending) != 0) {
        cannot(verb, strerror(errno));
    }
    printf("%s\n", sigismember(&pending, sig) == 1 ? "pending" : "not pending");
    (void)fflush(stdout);
    (void)sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("unblocked\n");
#endif
}

/* abort-blocked: abort() with SIGABRT blocked. */
static void abort_blocked(const char *verb)
{
#ifdef _WIN32
    cannot(verb, "Windows' C runtime has no signal mask");
#else
    sigset_t set;

    (void)sigemptyset(&set);
    (void)sigaddset(&set, SIGABRT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
        cannot(verb, strerror(errno));
    }
    abort();
#endif
}

int main(int argc, char **argv)
{
    const char *verb;
    int nargs;
    size_t i;

    if (argc < 2) {
        usage(NULL);
    }
    verb = argv[1];
    nargs = argc - 2;

    /* Every argument is checked before anything happens, so a usage error
     * never ends the process halfway through a behaviour. */
    if (strcmp(verb, "return") == 0 && nargs == 1) {
        return int_arg(verb, argv[2]);
    } else if (strcmp(verb, "exit") == 0 && nargs == 1) {
        exit(int_arg(verb, argv[2]));
    } else if (strcmp(verb, "_exit") == 0 && nargs == 1) {
        _exit(int_arg(verb, argv[2]));
    } else if (strcmp(verb, "_Exit") == 0 && nargs == 1) {
        _Exit(int_arg(verb, argv[2]));
    } else if (strcmp(verb, "quick_exit") == 0 && nargs == 1) {
#if HAVE_QUICK_EXIT
        int status = int_arg(verb, argv[2]);

        if (atexit(atexit_says) != 0 || at_quick_exit(at_quick_exit_says) != 0) {
            cannot(verb, "cannot register the handlers");
        }
        printf("partial line");
        quick_exit(status);
#else
        (void)int_arg(verb, argv[2]);
        cannot(verb, "this C library has no quick_exit");
#endif
    } else if (strcmp(verb, "exit-from-atexit") == 0 && nargs == 2) {
        int outer = int_arg(verb, argv[2]);

        inner_status = int_arg(verb, argv[3]);
        /* Handlers run in the reverse order of registration: atexit_exits
         * first, then (in the inner exit) atexit_says. */
        if (atexit(atexit_says) != 0 || atexit(atexit_exits) != 0) {
            cannot(verb, "cannot register the handlers");
        }
        printf("partial line");
        exit(outer);
    } else if (strcmp(verb, "abort") == 0 && nargs == 0) {
        abort();
    } else if (strcmp(verb, "abort-handler-returns") == 0 && nargs == 0) {
        if (signal(SIGABRT, sigabrt_returns) == SIG_ERR) {
            cannot(verb, strerror(errno));
        }
        abort();
    } else if (strcmp(verb, "abort-ignored") == 0 && nargs == 0) {
        if (signal(SIGABRT, SIG_IGN) == SIG_ERR) {
            cannot(verb, strerror(errno));
        }
        abort();
    } else if (strcmp(verb, "abort-blocked") == 0 && nargs == 0) {
        abort_blocked(verb);
    } else if (strcmp(verb, "raise") == 0 && nargs == 1) {
        raise_default(verb, signal_arg(verb, argv[2]));
        return 0;
    } else if (strcmp(verb, "raise-blocked") == 0 && nargs == 1) {
        raise_blocked(verb, signal_arg(verb, argv[2]));
        return 0;
    } else if (strcmp(verb, "exit-after-printf") == 0 && nargs == 0) {
        printf("partial line");
        exit(0);
    } else if (strcmp(verb, "_exit-after-printf") == 0 && nargs == 0) {
        printf("partial line");
        _exit(0);
    } else if (strcmp(verb, "_Exit-after-printf") == 0 && nargs == 0) {
        printf("partial line");
        _Exit(0);
    } else if (strcmp(verb, "abort-after-printf") == 0 && nargs == 0) {
        printf("partial line");
        abort();
    } else if (strcmp(verb, "signum") == 0 && nargs == 1) {
        printf("%d\n", signal_arg(verb, argv[2]));
        return 0;
    } else if (strcmp(verb, "--list") == 0 && nargs == 0) {
        for (i = 0; i < NVERBS; i++) {
            printf("%s\n", VERBS[i].name);
        }
        return 0;
    }
    usage(verb);
    return USAGE_ERROR;
}
