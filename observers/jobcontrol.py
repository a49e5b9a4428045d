"""A terminal for an interactive shell: exitmatrix's job-control own case.

exitmatrix runs this script with the system python3 (`python3 -I`), in the
case's own directory and with an empty environment, as

    jobcontrol.py RESULT SHELL [WORDS...]

It gives SHELL WORDS (an interactive shell: `-i`, and whatever keeps its
start-up files away) a pseudo-terminal as its controlling terminal, the way
a terminal emulator does: a new session (setsid), the terminal's slave side
made the controlling terminal (TIOCSCTTY) and descriptors 0, 1 and 2. Then
it types, as a user would:

    /bin/sleep 30          a foreground job
    ^Z                     the terminal's VSUSP character: the line
                           discipline sends SIGTSTP to the terminal's
                           foreground process group
    echo STATUS=$?         what the shell says of the stopped job

and writes the number after STATUS= to RESULT. A line that gets no
answer within a second is typed again (see RETYPE: a shell may discard
what was typed before it took the terminal back); the first answer
counts. `/bin/sleep` by path, since
ksh93 has a built-in `sleep` that would be stopped inside the shell itself.
A shell with job control puts the job in a process group of its own and
makes it the terminal's foreground group (tcsetpgrp), so ^Z stops the job
and not the shell. A shell without job control leaves the job in its own
group, and ^Z stops the shell with it: no `$?` can be read then.

Exit status: 0 with RESULT written; 3 if the shell itself was stopped (it
has no job control and does not ignore SIGTSTP); 6 if it said nothing while
its job, in the shell's session, is stopped (a shell without job control
that ignores SIGTSTP and waits for the job without WUNTRACED: it would wait
for ever); 7 if the job stayed in the shell's own process group and
nothing stopped (a shell without job control: that group, the session
leader's, is orphaned, and Linux discards a terminal's SIGTSTP in an
orphaned group, kernel/signal.c get_signal: "The job control signals do
nothing in an orphaned pgrp"); 4 if it said no STATUS= within the time
allowed otherwise; 5 if the terminal could not be set up. Every wait has a deadline, and the
shell's session and the job's group are killed on every path, so nothing
is left behind and nothing hangs.
"""

import ctypes
import fcntl
import os
import pty
import re
import select
import signal
import sys
import termios
import time

# linux/prctl.h
PR_SET_CHILD_SUBREAPER = 36

# How long the shell may take to start, to make the job the terminal's
# foreground group (a job-control shell does it at once), and to answer.
START = 5.0
JOB = 3.0
ANSWER = 5.0
# How long to wait for an answer before typing the line again. ksh93 takes
# the terminal back from a stopped job with tcsetattr(TCSAFLUSH), which
# discards what was typed before it (strace of ksh93u+m 1.0.4 on Debian 12:
# TIOCSPGRP to itself, then TCSETSF); on a loaded machine that came more
# than 0.5 s after the ^Z, and the line typed meanwhile was lost (a CI run
# on 2026-12-04 reported 4 for ksh93). A user would type it again too.
RETYPE = 1.0


def stopped_in_session(session):
    """Whether a process of `session` other than its leader is stopped
    (state T in /proc/PID/stat, proc(5)): the job of a shell that waits
    for it without WUNTRACED and so never answers."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == session:
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the name: state, ppid, pgrp, session, ...
        if int(fields[3]) == session and fields[0] == "T":
            return True
    return False


def execed_sleep(group):
    """Whether the leader of process group `group` (the job's first
    process, whose pid is the group's id) runs /bin/sleep yet. A job
    becomes the terminal's foreground group before its process execs, and
    until then it may still ignore SIGTSTP as the interactive shell does
    (it resets the disposition just before exec): a ^Z typed then is
    discarded, the job runs on, and the shell answers only when it ends."""
    try:
        return os.path.basename(os.readlink(f"/proc/{group}/exe")) == "sleep"
    except OSError:
        return False


def become_subreaper():
    """prctl(PR_SET_CHILD_SUBREAPER, 1) (prctl(2)): the shell's children
    that outlive it are re-parented to this script, which reaps them,
    rather than to whoever started it."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def main(argv):
    result, words = argv[1], argv[2:]
    try:
        become_subreaper()
    except OSError:
        return 5
    master, slave = pty.openpty()
    shell = os.fork()
    if shell == 0:
        try:
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            os.close(master)
            os.close(slave)
            env = {
                "PATH": "/usr/bin:/bin",
                "TERM": "dumb",
                "HOME": os.getcwd(),
                "ENV": "/dev/null",
                "PS1": "$ ",
            }
            os.execve(words[0], words, env)
        finally:
            os._exit(5)
    os.close(slave)
    job = None
    output = b""

    closed = False

    def read(pattern, seconds):
        """Reads the terminal until `pattern` matches what it said, or
        `seconds` pass, or the shell closes it; returns the match."""
        nonlocal output, closed
        end = time.monotonic() + seconds
        while True:
            found = re.search(pattern, output) if pattern else None
            left = end - time.monotonic()
            if found or left <= 0 or closed:
                return found
            ready, _, _ = select.select([master], [], [], min(left, 0.05))
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    data = b""
                if not data:
                    closed = True
                    return None
                output += data

    def ask(line, pattern, seconds):
        """Types `line` and reads until `pattern` matches, typing it again
        every RETYPE seconds without an answer, for `seconds` at most.
        The first match counts: a line typed twice and run twice answers
        first for the state it was typed in."""
        end = time.monotonic() + seconds
        while True:
            os.write(master, line)
            found = read(pattern, min(RETYPE, end - time.monotonic()))
            if found or closed or time.monotonic() >= end:
                return found

    def stopped():
        """Whether the shell itself is stopped (it then had no job
        control); a shell that stopped is reported once, so remember it."""
        pid, status = os.waitpid(shell, os.WUNTRACED | os.WNOHANG)
        return pid == shell and os.WIFSTOPPED(status)

    try:
        # The shell is ready when it has run a command: `RE""ADY` echoes
        # as typed, and only its output says READY.
        if not ask(b'echo RE""ADY\n', rb"READY\r?\n", START):
            return 4
        os.write(master, b"/bin/sleep 30\n")
        # A shell with job control makes the job the foreground group.
        end = time.monotonic() + JOB
        while time.monotonic() < end:
            foreground = os.tcgetpgrp(master)
            if foreground != shell and execed_sleep(foreground):
                job = foreground
                break
            time.sleep(0.01)
        else:
            # No new foreground group: give the job time to start in the
            # shell's own group.
            time.sleep(0.3)
        os.write(master, b"\x1a")
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            if stopped():
                return 3
            read(None, 0.05)
        if job is None and not stopped_in_session(shell):
            # The job runs in the shell's own group, the session leader's,
            # which is orphaned (the leader's parent, this script, is in
            # another session), and the kernel discards a terminal's
            # SIGTSTP there: nothing stopped.
            return 7
        found = ask(b'echo ST""ATUS=$?\n', rb"STATUS=(-?\d+)", ANSWER)
        if stopped():
            return 3
        if not found:
            return 6 if stopped_in_session(shell) else 4
        with open(result, "w", encoding="utf-8") as f:
            f.write(found.group(1).decode() + "\n")
        return 0
    finally:
        # The job first, then the shell; once the shell is reaped, what it
        # left is this script's (a child subreaper) and is reaped by group.
        for group in (job, shell):
            if group is not None:
                try:
                    os.killpg(group, signal.SIGKILL)
                except OSError:
                    pass
        try:
            os.waitpid(shell, 0)
        except ChildProcessError:
            pass
        for group in (job, shell):
            while group is not None:
                try:
                    os.waitpid(-group, 0)
                except ChildProcessError:
                    break
        os.close(master)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
