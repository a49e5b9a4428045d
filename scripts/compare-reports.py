#!/usr/bin/env python3
"""Compares two JSON reports of the same target apart from what varies by
design from run to run: timings (`micros`), pids and thread ids in stderr,
ASLR addresses, the probes' line numbers in panic messages, and temporary
directory names. Prints the fields that differ and exits 1, or says
"identical apart from timings" and exits 0.

    scripts/compare-reports.py [--root OLD_DIR NEW_DIR] [--ignore FIELD]... OLD.json NEW.json

`--root` treats paths under two checkouts as the same (a run of another
worktree, as a back-to-back benchmark makes); `--ignore` leaves out a
cell field (`command`: how the cell was carried out, which the agent
server changed on purpose) or a report field (`leaked_after_run`). The
runner canary's nonce and exit code are drawn afresh in every run.
`--continued-race` leaves "continued" reports out and counts the cells
that differ only there: Linux replaces a continued state nobody collected
yet with the exit (wait(2)), so whether it is seen varies from run to run.

Used to show that a refactoring changed no observation (see the redesign in
the git log). `cargo xtask compare` is the user-facing regression check.
"""
import json,sys,re
args = sys.argv[1:]
roots, ignored, race = [], set(), False
while args and args[0].startswith('--'):
    if args[0] == '--root': roots.append((args[1], args[2])); args = args[3:]
    elif args[0] == '--ignore': ignored.add(args[1]); args = args[2:]
    elif args[0] == '--continued-race': race = True; args = args[1:]
    else: sys.exit(f"unknown option {args[0]}")
def load(p, root):
    r = json.load(open(p))
    for k in ignored: r.pop(k, None)
    def norm(x):
        if isinstance(x, dict):
            return {k: (re.sub(r' *\b\d{3,}\b', ' N', norm(v)) if k == 'stderr' else norm(v)) for k,v in x.items() if k not in ('micros',) and k not in ignored}
        if isinstance(x, list): return [norm(v) for v in x]
        if isinstance(x, str):
            if root: x = x.replace(root, 'ROOT')
            x = re.sub(r'^exit \d+ with a nonce', 'exit N with a nonce', x)
            x = re.sub(r'0x[0-9a-f]{6,}', '0xADDR', x)
            x = re.sub(r"thread '<unnamed>' \(\d+\)", "thread '<unnamed>' (N)", x)
            x = re.sub(r"\(\d+\) panicked", "(N) panicked", x)
            x = re.sub(r"probe.rs:\d+:\d+", "probe.rs:L:C", x)
            x = re.sub(r"exitmatrix-fixtures-\w+", "exitmatrix-fixtures-X", x)
            x = re.sub(r"exitmatrix-spawn-\w+", "exitmatrix-spawn-X", x)
            x = re.sub(r"\(thread [0-9a-f]{4}\)", "(thread N)", x)
            x = re.sub(r"wasm://wasm/[0-9a-f]+", "wasm://wasm/N", x)
            return x
        return x
    r = norm(r)
    if race:
        # Linux replaces a continued state nobody has collected yet with
        # the exit (wait(2)), a race POSIX leaves open: with
        # --continued-race a "continued" report is left out of each cell,
        # and the cells where that was the only difference are counted.
        for c in r.get('cells', []):
            c['raced'] = c.get('observed_text', '')
            c['observed'] = [o for o in c.get('observed', []) if o.get('decoded', {}).get('kind') != 'continued']
            c['observed_text'] = c.get('observed_text', '').replace(', continued', '')
    return r
a = load(args[0], roots[0][0] if roots else None)
b = load(args[1], roots[0][1] if roots else None)
if race:
    n = sum(1 for x, y in zip(a['cells'], b['cells']) if x.pop('raced') != y.pop('raced'))
    if n: print(f"{n} cells differ only in whether a continued report was seen (--continued-race)")
if a == b: print("identical apart from timings"); sys.exit(0)
for k in a:
    if a[k] != b.get(k):
        if isinstance(a[k], list) and isinstance(b.get(k), list):
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
