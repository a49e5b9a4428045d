/*
 * cprobe: the C library's own ways of ending a process, to tell them apart
 * from Rust's runtime. `cprobe <verb> [args]` ends the process in the one way
 * the verb names; `cprobe --list` prints the verbs.
 *
 *   return <int>          main returns the number
 *   exit <int>            exit(n)
 *   _exit <int>           _exit(n)
 *   abort                 abort()
 *   raise <SIGNAME>       raise(SIGNAME) with its disposition reset to SIG_DFL
 *                         and the signal unblocked; returns 0 if raise returns
 *   exit-after-printf     printf("partial line") with no newline, then exit(0)
 *   _exit-after-printf    printf("partial line") with no newline, then _exit(0)
 *   signum <SIGNAME>      prints the signal's number from <signal.h>
 *   --list                prints the verbs, one per line
 *
 * Signal names are resolved with this C library's <signal.h>, which makes the
 * probe an independent check of the harness's signal tables. A usage error
 * (unknown verb or signal name, missing, extra or malformed argument) prints
 * one line on stderr and exits with 120, like every probe.
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

/* The status for a usage error, shared by every probe. */
#define USAGE_ERROR 120

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
    {"abort", ""},
    {"raise", " <SIGNAME>"},
    {"exit-after-printf", ""},
    {"_exit-after-printf", ""},
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
    fprintf(stderr, "cprobe: %s: unknown signal name: %s\n", verb, name);
    exit(USAGE_ERROR);
}

/* raise(sig) with the disposition reset to SIG_DFL and the signal unblocked.
 * Failures of the set-up are ignored: SIGKILL and SIGSTOP cannot be caught
 * or blocked anyway. */
static void raise_default(int sig)
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
    (void)raise(sig);
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
    } else if (strcmp(verb, "abort") == 0 && nargs == 0) {
        abort();
    } else if (strcmp(verb, "raise") == 0 && nargs == 1) {
        raise_default(signal_arg(verb, argv[2]));
        return 0;
    } else if (strcmp(verb, "exit-after-printf") == 0 && nargs == 0) {
        printf("partial line");
        exit(0);
    } else if (strcmp(verb, "_exit-after-printf") == 0 && nargs == 0) {
        printf("partial line");
        _exit(0);
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
