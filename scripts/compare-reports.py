#!/usr/bin/env python3
"""Compares two JSON reports of the same target apart from what varies by
design from run to run: timings (`micros`), pids and thread ids in stderr,
ASLR addresses, the probes' line numbers in panic messages, and temporary
directory names. Prints the fields that differ and exits 1, or says
"identical apart from timings" and exits 0.

    scripts/compare-reports.py OLD.json NEW.json

Used to show that a refactoring changed no observation (see the redesign in
the git log). `cargo xtask compare` is the user-facing regression check.
"""
import json,sys,re
def load(p):
    r = json.load(open(p))
    def norm(x):
        if isinstance(x, dict):
            return {k: (re.sub(r' *\b\d{3,}\b', ' N', norm(v)) if k == 'stderr' else norm(v)) for k,v in x.items() if k not in ('micros',)}
        if isinstance(x, list): return [norm(v) for v in x]
        if isinstance(x, str):
            x = re.sub(r'0x[0-9a-f]{6,}', '0xADDR', x)
            x = re.sub(r"thread '<unnamed>' \(\d+\)", "thread '<unnamed>' (N)", x)
            x = re.sub(r"\(\d+\) panicked", "(N) panicked", x)
            x = re.sub(r"probe.rs:\d+:\d+", "probe.rs:L:C", x)
            x = re.sub(r"exitmatrix-fixtures-\w+", "exitmatrix-fixtures-X", x)
            return x
        return x
    return norm(r)
a, b = load(sys.argv[1]), load(sys.argv[2])
if a == b: print("identical apart from timings"); sys.exit(0)
for k in a:
    if a[k] != b.get(k):
        if isinstance(a[k], list):
            n = 0
            for x,y in zip(a[k], b[k]):
                if x != y:
                    n += 1
                    if n <= 3:
                        for kk in x:
                            if x.get(kk) != y.get(kk): print(k, kk, repr(x.get(kk))[:200], '|', repr(y.get(kk))[:200])
            print(k, 'differs in', n, 'of', len(a[k]), len(b[k]))
        else: print(k, a[k], b.get(k))
sys.exit(1)
