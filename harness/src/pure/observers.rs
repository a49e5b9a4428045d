//! Observer names and kinds, and the observers' own cases, as data.
//!
//! Profiles, reports and the command line name observers (columns) by these
//! names; this module alone says which names exist and what kind each is.
//! The implementations that run them live in [`crate::observers`], whose
//! registry must agree with this list (a test checks it).

use std::fmt;

use serde::Serialize;

/// What kind of parent an observer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObserverKind {
    /// The harness waits for the probe itself (`waitpid`, `waitid`, std),
    /// or an in-target agent does: its column holds wait states.
    Reaper,
    /// A shell runs the probe: its column holds `$?` (rc's `$status`, a
    /// string).
    Shell,
    /// Python runs the probe: its column holds `returncode` or `exitcode`.
    Python,
    /// A Java program runs the probe: its column holds
    /// `Process.waitFor()`.
    Jvm,
    /// A language runtime's own process API runs the probe (Node.js's
    /// `child_process`, Perl's `system`, Go's `os/exec`, Ruby's
    /// `Process::Status`): its column holds what that API gives.
    Runtime,
}

impl ObserverKind {
    /// The name reports use (`reaper`, `shell`, `python`, `jvm`,
    /// `runtime`).
    pub fn name(self) -> &'static str {
        match self {
            ObserverKind::Reaper => "reaper",
            ObserverKind::Shell => "shell",
            ObserverKind::Python => "python",
            ObserverKind::Jvm => "jvm",
            ObserverKind::Runtime => "runtime",
        }
    }

    /// Whether observers of this kind report values of their own (a
    /// *view*, see [`crate::pure::view`]) rather than wait states.
    pub fn is_view(self) -> bool {
        !matches!(self, ObserverKind::Reaper)
    }
}

impl fmt::Display for ObserverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The direct reapers, in column order.
pub const REAPERS: [&str; 3] = ["waitpid", "waitid", "std"];

/// The POSIX-family shells, in column order.
pub const SHELLS: [&str; 8] = [
    "dash",
    "bash",
    "ksh93",
    "mksh",
    "zsh",
    "busybox-sh",
    "yash",
    "posh",
];

/// Plan 9's shell (9base's or plan9port's `rc`), whose `$status` is a
/// string: the column after the POSIX shells.
pub const RC: &str = "rc";

/// The Python views, in column order.
pub const PYTHONS: [&str; 4] = [
    "py-subprocess",
    "py-waitstatus",
    "py-mp-fork",
    "py-mp-spawn",
];

/// A Java program's `Process.waitFor()` (the system's `java`).
pub const JAVA: &str = "java";

/// The Windows host's own reaper: `WaitForSingleObject` on the probe's
/// process handle, then `GetExitCodeProcess`, the raw 32-bit `DWORD`.
pub const GET_EXIT_CODE: &str = "GetExitCodeProcess";

/// `cmd.exe`'s `%ERRORLEVEL%` (read as `!ERRORLEVEL!`), a view of the
/// Windows host.
pub const CMD: &str = "cmd";

/// Every column of a native run on a Windows host, in column order: std's
/// `Child::wait`, `GetExitCodeProcess`, then `cmd.exe`.
pub const WINDOWS_NATIVE: [&str; 3] = [REAPERS[2], GET_EXIT_CODE, CMD];

/// Node.js's `child_process.spawnSync` (`status` and `signal`).
pub const NODE: &str = "node";

/// Perl's `system` (`$?`, the raw wait word).
pub const PERL: &str = "perl";

/// Go's `os/exec` (`ProcessState.ExitCode()`).
pub const GO: &str = "go";

/// Ruby's `Process::Status` (`exitstatus`, `termsig`, `coredump?`).
pub const RUBY: &str = "ruby";

/// The language runtimes' parents, in column order: the last native
/// columns, after Java.
pub const RUNTIMES: [&str; 4] = [NODE, PERL, GO, RUBY];

/// The column of what the in-target agent of a Windows or WASI target saw.
pub const AGENT: &str = "agent";

/// The column of what the Linux host saw of a foreign target's runner.
pub const HOST_VIA_RUNNER: &str = "host-via-runner";

/// Every observer name a foreign run adds to the native ones.
pub const FOREIGN: [&str; 2] = [AGENT, HOST_VIA_RUNNER];

/// Every native observer name, in column order: the reapers, the POSIX
/// shells, rc, the Python views, Java, then the other runtimes.
pub const NATIVE: [&str; 21] = [
    REAPERS[0],
    REAPERS[1],
    REAPERS[2],
    SHELLS[0],
    SHELLS[1],
    SHELLS[2],
    SHELLS[3],
    SHELLS[4],
    SHELLS[5],
    SHELLS[6],
    SHELLS[7],
    RC,
    PYTHONS[0],
    PYTHONS[1],
    PYTHONS[2],
    PYTHONS[3],
    JAVA,
    RUNTIMES[0],
    RUNTIMES[1],
    RUNTIMES[2],
    RUNTIMES[3],
];

/// Every observer name a profile or emulator note may use: the native ones
/// and the foreign columns.
pub fn all_names() -> Vec<&'static str> {
    NATIVE
        .iter()
        .chain(FOREIGN.iter())
        .chain([GET_EXIT_CODE, CMD].iter())
        .copied()
        .collect()
}

/// The kind of the observer called `name`; `None` for a name no observer
/// has. The agent and the runner see wait states, as reapers do.
pub fn kind_of(name: &str) -> Option<ObserverKind> {
    if SHELLS.contains(&name) || name == RC || name == CMD {
        Some(ObserverKind::Shell)
    } else if PYTHONS.contains(&name) {
        Some(ObserverKind::Python)
    } else if name == JAVA {
        Some(ObserverKind::Jvm)
    } else if RUNTIMES.contains(&name) {
        Some(ObserverKind::Runtime)
    } else if REAPERS.contains(&name) || FOREIGN.contains(&name) || name == GET_EXIT_CODE {
        Some(ObserverKind::Reaper)
    } else {
        None
    }
}

/// Whether `name` is a view: a shell, Python, Java or another runtime, whose column holds
/// the values that parent reports (`143`, `-15`, `'signal: kill'`) rather
/// than wait states.
pub fn is_view(name: &str) -> bool {
    kind_of(name).is_some_and(ObserverKind::is_view)
}

/// Whether `name` sees wait states (a direct reaper, or a foreign target's
/// agent or runner): every observer that is not a view.
pub fn is_reaper(name: &str) -> bool {
    !is_view(name)
}

/// A row of an observer's own: something only that kind of parent does
/// (a shell's `command not found`, a `multiprocessing` child's
/// `sys.exit("message")`), carried out without a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OwnCase {
    /// The row name, unique among rows (catalogue behaviours included).
    pub name: &'static str,
    /// One line saying what happens.
    pub summary: &'static str,
}

/// The cases every POSIX shell runs besides the probes (rc runs none).
pub const SHELL_CASES: [OwnCase; 14] = [
    OwnCase {
        name: "sh-command-not-found",
        summary: "runs `exitmatrix-no-such-command`, which no directory of the default PATH holds",
    },
    OwnCase {
        name: "sh-not-executable",
        summary: "runs a file by its path that has no execute permission (mode 0644)",
    },
    OwnCase {
        name: "sh-exec-format-error",
        summary: "runs an executable file holding a 64-byte ELF header for no machine (EM_NONE), which execve refuses with ENOEXEC",
    },
    OwnCase {
        name: "sh-exit-256",
        summary: "the script is `exit 256`: the shell's own exit builtin, seen as the shell's exit status",
    },
    OwnCase {
        name: "sh-exit-minus-1",
        summary: "the script is `exit -1`: a negative operand to the shell's own exit builtin",
    },
    OwnCase {
        name: "sh-pipefail",
        summary: "`set -o pipefail; false | true`, then `$?` (a shell without pipefail quits at `set`)",
    },
    OwnCase {
        name: "sh-lone-command-killed",
        summary: "the script is only `\"$@\"`, a second shell that kills itself with SIGTERM: the first shell's own ending",
    },
    OwnCase {
        name: "sh-exit-non-numeric",
        summary: "the script is `exit abc`: an operand that is not a number, seen as the shell's exit status",
    },
    OwnCase {
        name: "sh-exit-two-operands",
        summary: "the script is `exit 3 4`: more operands than exit takes, seen as the shell's exit status",
    },
    OwnCase {
        name: "sh-return-256",
        summary: "a function runs `return 256`, then `$?` of the call",
    },
    OwnCase {
        name: "sh-return-minus-1",
        summary: "a function runs `return -1`, then `$?` of the call",
    },
    OwnCase {
        name: "sh-return-non-numeric",
        summary: "a function runs `return abc`, then `$?` of the call",
    },
    OwnCase {
        name: "sh-return-two-operands",
        summary: "a function runs `return 3 4`, then `$?` of the call",
    },
    OwnCase {
        name: "sh-wait-interrupted-by-trap",
        summary: "`wait` for a background `sleep 5` while a helper sends the shell SIGUSR1, which is trapped, until it returns; then `$?` of wait",
    },
];

/// The spawn failures (issue #16): a program that cannot be started,
/// as each parent reports it. std's `Command::spawn` gives an `io::Error`
/// (its `ErrorKind` and `raw_os_error`), `subprocess.run` raises an
/// `OSError` subclass (its class and `errno`), a shell sets `$?` (127,
/// 126, or whatever the file did when the shell ran it as a script). The
/// files are made fresh in a temporary directory and named by absolute
/// path, so no `PATH` search is involved (`sh-command-not-found` is the
/// search).
pub const SPAWN_CASES: [OwnCase; 6] = [
    OwnCase {
        name: "spawn-not-found",
        summary: "starts a path in an existing directory that holds no such file (execve: ENOENT)",
    },
    OwnCase {
        name: "spawn-not-executable",
        summary: "starts a text file without execute permission, mode 0644 (execve: EACCES)",
    },
    OwnCase {
        name: "spawn-through-non-directory",
        summary: "starts `FILE/program`, where FILE is a regular file (execve: ENOTDIR)",
    },
    OwnCase {
        name: "spawn-name-too-long",
        summary: "starts a path whose last component is 256 bytes, one more than NAME_MAX (execve: ENAMETOOLONG)",
    },
    OwnCase {
        name: "spawn-text-without-shebang",
        summary: "starts an executable text file `exit 7` with no `#!` line (execve: ENOEXEC; a shell runs it as a script)",
    },
    OwnCase {
        name: "spawn-exec-format-error",
        summary: "starts an executable 64-byte ELF header for no machine, EM_NONE (execve: ENOEXEC)",
    },
];

/// The job-control case every POSIX shell runs (issue #16): an interactive
/// shell on a pseudo-terminal whose foreground job is stopped by the
/// terminal's ^Z (`observers/jobcontrol.py` is the terminal).
pub const JOB_CONTROL_CASES: [OwnCase; 1] = [OwnCase {
    name: "sh-job-stopped-by-sigtstp",
    summary: "an interactive shell on a pseudo-terminal runs `/bin/sleep 30`, the terminal's ^Z sends SIGTSTP to its foreground group, then `echo $?`",
}];

/// The `multiprocessing` cases, as `python_observer.py list-cases` names
/// them.
pub const MP_CASES: [OwnCase; 15] = [
    OwnCase {
        name: "mp-returns",
        summary: "the child function returns",
    },
    OwnCase {
        name: "mp-sys-exit-no-argument",
        summary: "the child calls sys.exit()",
    },
    OwnCase {
        name: "mp-sys-exit-none",
        summary: "the child calls sys.exit(None)",
    },
    OwnCase {
        name: "mp-sys-exit-1",
        summary: "the child calls sys.exit(1)",
    },
    OwnCase {
        name: "mp-sys-exit-256",
        summary: "the child calls sys.exit(256)",
    },
    OwnCase {
        name: "mp-sys-exit-2-pow-40",
        summary: "the child calls sys.exit(2**40)",
    },
    OwnCase {
        name: "mp-sys-exit-minus-1",
        summary: "the child calls sys.exit(-1)",
    },
    OwnCase {
        name: "mp-sys-exit-string",
        summary: "the child calls sys.exit('Something bad happened')",
    },
    OwnCase {
        name: "mp-raises",
        summary: "the child raises Exception('Something bad happened')",
    },
    OwnCase {
        name: "mp-killed-by-SIGTERM",
        summary: "the child sends itself SIGTERM (os.kill(os.getpid(), SIGTERM))",
    },
    OwnCase {
        name: "mp-sys-exit-true",
        summary: "the child calls sys.exit(True)",
    },
    OwnCase {
        name: "mp-sys-exit-false",
        summary: "the child calls sys.exit(False)",
    },
    OwnCase {
        name: "mp-sys-exit-list",
        summary: "the child calls sys.exit([1, 2])",
    },
    OwnCase {
        name: "mp-terminate",
        summary: "the parent ends the sleeping child with Process.terminate()",
    },
    OwnCase {
        name: "mp-kill",
        summary: "the parent ends the sleeping child with Process.kill()",
    },
];

/// Every observer's own cases (rows without a probe): the shells', the
/// `multiprocessing` ones, the spawn failures, then job control.
pub fn own_cases() -> impl Iterator<Item = OwnCase> {
    SHELL_CASES
        .into_iter()
        .chain(MP_CASES)
        .chain(SPAWN_CASES)
        .chain(JOB_CONTROL_CASES)
}

/// Whether `name` is one of the [`SPAWN_CASES`].
pub fn is_spawn_case(name: &str) -> bool {
    SPAWN_CASES.iter().any(|c| c.name == name)
}

/// The names of every observer's own cases.
pub fn own_case_names() -> Vec<&'static str> {
    own_cases().map(|c| c.name).collect()
}
