"""How Python sees a child's ending: exitmatrix's Python observers.

exitmatrix runs this script with the system python3 (`python3 -I`), in the
case's own directory and with an empty environment. It runs the probe (or
one of the multiprocessing cases below) the way a Python program would, and
writes what Python reported to RESULT as JSON:

    {"reported": [{"code": 143}, {"raised": "ValueError"}, ...]}

Usage:

    python_observer.py subprocess RESULT PROBE [ARGS...]
        subprocess.run([PROBE, ARGS...]).returncode
    python_observer.py spawn RESULT PROGRAM [ARGS...]
        as subprocess, but an OSError from starting PROGRAM is reported as
        its class name and errno (the spawn-failure cases)
    python_observer.py waitstatus RESULT continue|keep-stopped PROBE [ARGS...]
        os.waitpid(pid, os.WUNTRACED) until the probe ends, and
        os.waitstatus_to_exitcode() of every status (a stop raises
        ValueError); a stopped probe is sent SIGCONT unless keep-stopped
    python_observer.py mp-exec METHOD RESULT PROBE [ARGS...]
        multiprocessing.Process(target=os.execv, args=(PROBE, argv)).exitcode
        with start method METHOD
    python_observer.py mp-case METHOD RESULT CASE
        multiprocessing.Process(target=CASES[CASE]).exitcode, after
        Process.terminate() or kill() for the cases in ENDED_BY_PARENT
    python_observer.py list-cases
        the names of CASES, one a line
    python_observer.py serve
        the long-lived server (see `serve` below): runs each case it is sent
        as one of the commands above, in a fork of itself

The script's own failures end it with a traceback and status 1, which the
harness reports as the parent's own ending.
"""

import atexit
import json
import multiprocessing
import multiprocessing.process
import os
import resource
import signal
import subprocess
import sys
import time


# The seed tutorial's cases (a child function that returns, calls sys.exit()
# with no argument, None, an int or a string, or raises), plus out-of-range
# ints and a signal. Module-level functions, so that the spawn start method
# can find them by name in the child.


def returns():
    pass


def sys_exit_no_argument():
    sys.exit()


def sys_exit_none():
    sys.exit(None)


def sys_exit_1():
    sys.exit(1)


def sys_exit_256():
    sys.exit(256)


def sys_exit_2_pow_40():
    sys.exit(2**40)


def sys_exit_minus_1():
    sys.exit(-1)


def sys_exit_string():
    sys.exit("Something bad happened")


def raises():
    raise Exception("Something bad happened")


def killed_by_sigterm():
    os.kill(os.getpid(), signal.SIGTERM)


# Issue #16's cases: sys.exit with a bool or a list, and a child the parent
# ends with Process.terminate() or Process.kill().


def sys_exit_true():
    sys.exit(True)


def sys_exit_false():
    sys.exit(False)


def sys_exit_list():
    sys.exit([1, 2])


def sleeps():
    """Waits to be ended by its parent (the harness's watchdog ends it if
    the parent never does)."""
    time.sleep(60)


CASES = {
    "mp-returns": returns,
    "mp-sys-exit-no-argument": sys_exit_no_argument,
    "mp-sys-exit-none": sys_exit_none,
    "mp-sys-exit-1": sys_exit_1,
    "mp-sys-exit-256": sys_exit_256,
    "mp-sys-exit-2-pow-40": sys_exit_2_pow_40,
    "mp-sys-exit-minus-1": sys_exit_minus_1,
    "mp-sys-exit-string": sys_exit_string,
    "mp-raises": raises,
    "mp-killed-by-SIGTERM": killed_by_sigterm,
    "mp-sys-exit-true": sys_exit_true,
    "mp-sys-exit-false": sys_exit_false,
    "mp-sys-exit-list": sys_exit_list,
    "mp-terminate": sleeps,
    "mp-kill": sleeps,
}

# The cases whose parent ends the child: the Process method it calls once
# the child has started.
ENDED_BY_PARENT = {
    "mp-terminate": "terminate",
    "mp-kill": "kill",
}


def code(value):
    return {"code": value}


def run_subprocess(argv):
    return [code(subprocess.run(argv).returncode)]


def run_spawn(argv):
    """subprocess.run(argv).returncode, or, when the program cannot be
    started, the OSError subclass subprocess raises and its errno."""
    try:
        return [code(subprocess.run(argv).returncode)]
    except OSError as e:
        return [{"raised": type(e).__name__}, code(e.errno)]


def run_waitstatus(argv, keep_stopped):
    child = subprocess.Popen(argv)
    reported = []
    while True:
        _, status = os.waitpid(child.pid, os.WUNTRACED)
        try:
            reported.append(code(os.waitstatus_to_exitcode(status)))
        except ValueError as e:
            reported.append({"raised": type(e).__name__})
        if os.WIFSTOPPED(status):
            if not keep_stopped:
                os.kill(child.pid, signal.SIGCONT)
            continue
        # Popen must not wait for a child this script has reaped.
        child.returncode = 0
        return reported


def run_process(method, target, args=(), end=None):
    context = multiprocessing.get_context(method)
    process = context.Process(target=target, args=args)
    process.start()
    if end is not None:
        getattr(process, end)()
    process.join()
    return [code(process.exitcode)]


def main(argv):
    mode = argv[1]
    if mode == "list-cases":
        print("\n".join(CASES))
        return 0
    if mode == "subprocess":
        result, probe = argv[2], argv[3:]
        reported = run_subprocess(probe)
    elif mode == "spawn":
        result, probe = argv[2], argv[3:]
        reported = run_spawn(probe)
    elif mode == "waitstatus":
        result, stops, probe = argv[2], argv[3], argv[4:]
        if stops not in ("continue", "keep-stopped"):
            raise SystemExit(f"waitstatus: `{stops}` is not continue or keep-stopped")
        reported = run_waitstatus(probe, stops == "keep-stopped")
    elif mode == "mp-exec":
        method, result, probe = argv[2], argv[3], argv[4:]
        reported = run_process(method, os.execv, (probe[0], probe))
    elif mode == "mp-case":
        method, result, case = argv[2], argv[3], argv[4]
        reported = run_process(method, CASES[case], end=ENDED_BY_PARENT.get(case))
    else:
        raise SystemExit(f"unknown mode `{mode}`")
    deliver(result, {"reported": reported})
    return 0


# Where a served case process sends its report instead of RESULT (a pipe to
# the server, see `serve`); None when the script runs on its own.
SERVED_REPORT = None


def deliver(result, report):
    """Writes `report` to RESULT, or, in a served case process, to the
    server: the same JSON, in one write, with a newline."""
    if SERVED_REPORT is None:
        with open(result, "w", encoding="utf-8") as f:
            json.dump(report, f)
        return
    data = (json.dumps(report) + "\n").encode()
    while data:
        data = data[os.write(SERVED_REPORT, data):]


# The server. Starting an interpreter costs ~30 ms, far more than a probe,
# so the harness starts this script once per worker (`serve`) and sends it
# one case at a time, as a JSON line on standard input:
#
#     {"argv": [MODE, ...], "dir": D, "stdout": F, "stderr": G, "core": C}
#
# A fork of the server runs each case. The server forks it ahead (at start,
# and for the next case while a case runs: forking a Python process costs
# ~1-2 ms, off the cell's path that way, but the server replies to a case
# only once the next fork is ready, so that this cost is the case's and
# does not slow whatever the harness runs next), and that fork reads the request
# from standard input itself, so a case goes from the harness to the
# process that runs it without passing through the server. The fork is a
# copy of the same server, whose state no case changes (each runs in a fork
# of its own; the server only reads what its forks send it and writes
# replies), so it is the process a fork made when the case came would be;
# it touches nothing before its case comes (it stays in /, in the server's
# group, writes nothing).
# The fork (the case process) is what
# `python3 -I python_observer.py MODE ...` started in D would be: it leads
# its own process group, works in D, has RLIMIT_CORE's soft limit at the
# hard limit if C is true, else at one byte, file
# descriptors 0 (/dev/null), 1 (F) and 2 (G) and no other inheritable one,
# and it leaves `serve` and runs the script's `sys.exit(main(sys.argv))`,
# ending as the script would (see `end_case` for the one difference). The server itself never touches a
# signal disposition, the environment or its own descriptors 0-2 once
# started, so the case process inherits exactly what a fresh interpreter
# has (SIGPIPE and SIGXFSZ ignored by Python's start-up, nothing else).
# One more difference, invisible to the probe: its report goes to the
# server on a pipe (close-on-exec, like every descriptor Python opens), not
# to RESULT in D. The script writes RESULT only after the probe has ended,
# so the probe never sees it either way.
#
# Replies, one JSON line each on standard output:
#     {"ready": true, "next": P}   once, at start: P is the pid of the fork
#                                  that takes the first request
#     {"status": S, "result": R, "next": Q}
#                                  the case process has ended, with wait
#                                  status S, and is not reaped yet; R is the
#                                  report it sent (the text RESULT would
#                                  hold), or null if it sent none; Q is the
#                                  fork that takes the next request
# The harness, once it has the status, kills what is left of the case's
# group, and only then sends another request; so the server reaps a case
# process once the next fork has read a request (and checks that waitpid
# gives the status it replied).
#
#     {"stop": true}           instead of a case: the waiting fork passes it
#                              to the server and exits; the server reaps
#                              both, replies {"stopped": true} and exits
#
# Anything else, or the end of standard input, ends the server (after it
# has reaped its forks). The harness sends a request only once it has the
# reply to the one before, so the fork that reads standard input finds
# exactly one line there.


def wait_status(info):
    """The wait status waitpid() gives for a process that ended as waitid's
    `info` says (CLD_EXITED: the code in bits 8-15; CLD_KILLED: the signal;
    CLD_DUMPED: the signal and the core flag 0x80; the traditional layout
    of <sys/wait.h> that os.WEXITSTATUS and os.WTERMSIG decode)."""
    if info.si_code == os.CLD_EXITED:
        return (info.si_status & 0xFF) << 8
    if info.si_code == os.CLD_KILLED:
        return info.si_status & 0x7F
    if info.si_code == os.CLD_DUMPED:
        return (info.si_status & 0x7F) | 0x80
    raise SystemExit(f"serve: waitid reported si_code {info.si_code}, not an end")


def serve():
    """Serves cases; returns only in a case process, with its argv."""
    # A descriptor the harness leaked into this process by accident (one
    # opened without close-on-exec by another thread while it spawned the
    # server) would otherwise reach every case; a fresh interpreter has only
    # 0, 1 and 2 from the harness.
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    requests = os.dup(0)
    replies = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    # The server's own stray output goes where its errors go.
    os.dup2(2, 1)

    def reply(message):
        data = (json.dumps(message) + "\n").encode()
        while data:
            data = data[os.write(replies, data):]

    def request_line():
        """The next request line (b"" at the end of standard input)."""
        line = b""
        while not line.endswith(b"\n"):
            chunk = os.read(requests, 65536)
            if not chunk:
                return b""
            line += chunk
        return line

    # What every `mp-exec` and `mp-case` case process would import at its
    # first Process.start() (popen_fork, and through it multiprocessing.util
    # and weakref), imported once here instead of in every fork: ~1-2 ms a
    # case. Importing them earlier changes nothing a case reports: the
    # modules hold no per-process state until used (util's registries are
    # empty, the server never starts a Process), and the one side effect,
    # util's `atexit.register(_exit_function)`, registers the same handler
    # a case would, the only one the script ever registers, so `end_case`
    # runs the same handlers in the same order.
    import multiprocessing.popen_fork  # noqa: F401

    # The JSON every case process decodes (its request) and encodes (its
    # report), run here first. A case process is a fork: the first write to
    # a page it shares with the server copies the page, and running code
    # writes (reference counts, Python 3.11's in-place warm-up of bytecode,
    # the allocator's free lists). Warmed here, a case process copies ~20-30
    # pages fewer (measured with getrusage's ru_minflt in the fork; a copy
    # costs ~5-10 us on the shared builders). Both calls only build and drop
    # objects.
    for _ in range(16):
        json.loads(json.dumps({"argv": ["a"], "core": False, "reported": [{"code": 0}]}))

    def fork_waiting(running=None):
        """Forks the process for the next case (while the case process
        whose pipe is `running` runs). Returns (pid, pipe) in the server,
        the pipe on which the fork sends what it read and its report; in
        the fork, reads the next request, sets the case up and returns its
        argv (it exits if the request is not a case)."""
        global SERVED_REPORT
        back, back_w = os.pipe()
        pid = os.fork()
        if pid != 0:
            os.close(back_w)
            return pid, back
        os.close(back)
        if running is not None:
            os.close(running)
        os.close(replies)
        # Forked and set up (Python's at-fork handlers have run): the
        # server waits for this before it replies to the case before.
        os.write(back_w, b"waiting\n")
        line = request_line()
        os.close(requests)
        if not line:
            # The harness has gone: nothing to tell.
            os._exit(0)
        try:
            case = json.loads(line)
        except ValueError:
            case = None
        if not isinstance(case, dict) or "argv" not in case:
            # Not a case: the server reads it.
            while line:
                line = line[os.write(back_w, line):]
            os._exit(0)
        # It took the case: the server knows then that whatever it ends
        # with is the case's ending.
        os.write(back_w, b"case\n")
        for fd, path in ((1, case["stdout"]), (2, case["stderr"])):
            opened = os.open(path, os.O_WRONLY)
            os.dup2(opened, fd)
            os.close(opened)
        os.setpgid(0, 0)
        os.chdir(case["dir"])
        # What multiprocessing recorded at import, as a fresh start in the
        # case directory would have it.
        multiprocessing.process.ORIGINAL_DIR = os.path.abspath(os.getcwd())
        # As the harness sets it for every parent: the hard limit if the
        # case may dump core, else one byte (which dumps nothing).
        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        if case["core"]:
            soft = hard
        elif hard == resource.RLIM_INFINITY:
            soft = 1
        else:
            soft = min(hard, 1)
        resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))
        SERVED_REPORT = back_w
        sys.argv[1:] = [str(word) for word in case["argv"]]
        return sys.argv

    def took(back):
        """The first line the fork wrote on its pipe (b"case" once it has
        read a case, else the request it read; b"" if it ended without
        writing) and what came after it."""
        data = b""
        while b"\n" not in data:
            chunk = os.read(back, 65536)
            if not chunk:
                break
            data += chunk
        line, _, rest = data.partition(b"\n")
        return line, rest

    def ready(back):
        """Waits until the fork whose pipe is `back` is ready to read its
        request."""
        line, rest = took(back)
        if line != b"waiting" or rest:
            raise SystemExit(f"serve: the waiting fork said {line + rest!r}")

    def report(back, rest):
        """What the ended case process sent after b"case" (a process it
        left behind may hold the pipe open: only what is there now
        counts)."""
        os.set_blocking(back, False)
        data = rest
        while True:
            try:
                chunk = os.read(back, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        os.close(back)
        return data.removesuffix(b"\n").decode() if data else None

    def reap(pid, status):
        _, reaped = os.waitpid(pid, 0)
        if reaped != status:
            raise SystemExit(f"serve: waitpid gave {reaped}, waitid {status}")

    # The last case process, ended but not reaped (its status), until the
    # harness has killed what is left of its group.
    ended = None
    waiting = fork_waiting()
    if isinstance(waiting, list):
        return waiting
    ready(waiting[1])
    reply({"ready": True, "next": waiting[0]})
    while True:
        pid, back = waiting
        line, rest = took(back)
        if ended is not None and line:
            # The fork has read a request: the harness has killed what was
            # left of the last case's group.
            reap(*ended)
            ended = None
        if line != b"case":
            # It ended without a case: the end of standard input, a stop,
            # something else, or it was killed while it waited.
            os.close(back)
            _, status = os.waitpid(pid, 0)
            if line == b"" and status == 0:
                raise SystemExit(0)
            if line == b"":
                raise SystemExit(f"serve: the waiting fork ended with status {status}")
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if message == {"stop": True}:
                reply({"stopped": True})
                raise SystemExit(0)
            raise SystemExit("serve: expected a case")
        # The fork for the next case, made while this one runs.
        waiting = fork_waiting(back)
        if isinstance(waiting, list):
            return waiting
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        status = wait_status(info)
        ended = (pid, status)
        # The next fork's own cost counts in this case's time, not in
        # whatever the harness runs next.
        ready(waiting[1])
        reply({"status": status, "result": report(back, rest), "next": waiting[0]})


def end_case(ended):
    """Ends a case process whose `sys.exit(main(sys.argv))` raised `ended`
    as the interpreter's exit would (the exit status SystemExit gives, a
    traceback and 1 for another exception, atexit handlers, stdio flushed),
    but with os._exit: the interpreter's final tear-down (garbage
    collection, module teardown) would write to every page a fork shares
    with the server, ~20 ms a case, and nothing of it reaches what a parent
    reports."""
    if isinstance(ended, SystemExit):
        code = ended.code
    else:
        sys.excepthook(type(ended), ended, ended.__traceback__)
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code & 0xFF)


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve()
        # A case process. The same line as below, so that a traceback
        # through it reads as the script's own.
        try:
            sys.exit(main(sys.argv))
        except BaseException as ended:  # every ending, as the interpreter
            end_case(ended)
    sys.exit(main(sys.argv))
