"""How Python sees a child's ending: exitmatrix's Python observers.

exitmatrix runs this script with the system python3 (`python3 -I`), in the
case's own directory and with an empty environment. It runs the probe (or
one of the multiprocessing cases below) the way a Python program would, and
writes what Python reported to RESULT as JSON:

    {"reported": [{"code": 143}, {"raised": "ValueError"}, ...]}

Usage:

    python_observer.py subprocess RESULT PROBE [ARGS...]
        subprocess.run([PROBE, ARGS...]).returncode
    python_observer.py waitstatus RESULT continue|keep-stopped PROBE [ARGS...]
        os.waitpid(pid, os.WUNTRACED) until the probe ends, and
        os.waitstatus_to_exitcode() of every status (a stop raises
        ValueError); a stopped probe is sent SIGCONT unless keep-stopped
    python_observer.py mp-exec METHOD RESULT PROBE [ARGS...]
        multiprocessing.Process(target=os.execv, args=(PROBE, argv)).exitcode
        with start method METHOD
    python_observer.py mp-case METHOD RESULT CASE
        multiprocessing.Process(target=CASES[CASE]).exitcode
    python_observer.py list-cases
        the names of CASES, one a line

The script's own failures end it with a traceback and status 1, which the
harness reports as the parent's own ending.
"""

import json
import multiprocessing
import os
import signal
import subprocess
import sys


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
}


def code(value):
    return {"code": value}


def run_subprocess(argv):
    return [code(subprocess.run(argv).returncode)]


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


def run_process(method, target, args=()):
    context = multiprocessing.get_context(method)
    process = context.Process(target=target, args=args)
    process.start()
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
        reported = run_process(method, CASES[case])
    else:
        raise SystemExit(f"unknown mode `{mode}`")
    with open(result, "w", encoding="utf-8") as f:
        json.dump({"reported": reported}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
