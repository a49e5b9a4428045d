//! Shell observers: a probe's ending as a POSIX-family shell's `$?` shows it.
//!
//! Each shell runs the probe as the first command of a `-c` script and
//! writes `$?` to a file in the case directory:
//!
//! ```text
//! dash -c '"$@"; echo $? > .exitmatrix-status' sh PROBE ARGS...
//! ```
//!
//! - The probe and its arguments are the script's positional parameters, so
//!   no quoting is involved.
//! - `$?` goes to a file, not to standard output, so it never mixes with the
//!   probe's output, and the shell's own exit status cannot truncate it
//!   (ksh93 reports 256+N, yash 384+N).
//! - A command follows the probe, so no shell can replace itself with the
//!   probe (bash, ksh93, zsh, busybox sh and yash `exec` the last command of
//!   a `-c` script). The own case `sh-lone-command-killed` shows that
//!   difference on purpose.
//! - A shell that writes no file reports its own ending instead
//!   (`parent exit 2`): the own cases `sh-exit-256` and `sh-pipefail` use
//!   that.
//!
//! The shells are looked up by name on the observer search path
//! ([`DEFAULT_SEARCH_PATH`] unless `--observer-path` says otherwise), never
//! run to find out. A shell that is not there is "not installed": its cells
//! are neither passes nor deviations.
//!
//! Stops: a shell without job control waits without `WUNTRACED` and never
//! sees a stop; the harness continues a stopped probe (see
//! [`crate::observers::parent`]), so `$?` tells how the probe ended.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tempfile::TempDir;

use crate::observers::observe::{Case, Observation};
use crate::observers::parent::{self, ParentColumn, ParentRun, Setting};
use crate::process::spawn::Invocation;
use crate::pure::observers::{ObserverKind, OwnCase, SHELL_CASES};

/// Where observers' programs are looked up unless `--observer-path` says
/// otherwise: the distribution's own directories, so that the columns are
/// the system's shells and `python3`, not whatever comes first on `PATH`
/// (a pyenv shim, say, which does not even run in the probes' empty
/// environment).
pub const DEFAULT_SEARCH_PATH: &str = "/usr/bin:/bin";

/// The file the script writes `$?` to, in the case directory.
pub const STATUS_FILE: &str = ".exitmatrix-status";

/// The script every probe runs under.
pub const SCRIPT: &str = r#""$@"; echo $? > .exitmatrix-status"#;

/// The shell's `$0` (what it names itself in error messages).
const ARG0: &str = "sh";

/// One shell: how to start it and which Debian package has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShellKind {
    /// The observer name (a column).
    pub name: &'static str,
    /// The program looked up on the search path.
    pub program: &'static str,
    /// Words before `-c` (`sh` for busybox).
    pub before: &'static [&'static str],
    /// The Debian package that installs it.
    pub package: &'static str,
}

/// The shells, in column order.
pub const SHELLS: [ShellKind; 8] = [
    ShellKind {
        name: "dash",
        program: "dash",
        before: &[],
        package: "dash",
    },
    ShellKind {
        name: "bash",
        program: "bash",
        before: &[],
        package: "bash",
    },
    ShellKind {
        name: "ksh93",
        program: "ksh93",
        before: &[],
        package: "ksh93u+m",
    },
    ShellKind {
        name: "mksh",
        program: "mksh",
        before: &[],
        package: "mksh",
    },
    ShellKind {
        name: "zsh",
        program: "zsh",
        before: &[],
        package: "zsh",
    },
    ShellKind {
        name: "busybox-sh",
        program: "busybox",
        before: &["sh"],
        package: "busybox",
    },
    ShellKind {
        name: "yash",
        program: "yash",
        before: &[],
        package: "yash",
    },
    ShellKind {
        name: "posh",
        program: "posh",
        before: &[],
        package: "posh",
    },
];

/// The shells' names.
pub use crate::pure::observers::SHELLS as NAMES;

/// What a shell case runs as its positional parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Args {
    /// Nothing.
    None,
    /// These words.
    Words(&'static [&'static str]),
    /// A fixture file of that name (see [`Fixtures`]).
    Fixture(&'static str),
    /// The shell itself, started with these further words.
    OwnShell(&'static [&'static str]),
}

/// A case only a shell has.
#[derive(Clone, Copy, Debug)]
struct ShellCase {
    case: OwnCase,
    script: &'static str,
    args: Args,
}

const NOT_EXECUTABLE: &str = "not-executable";
const EXEC_FORMAT_ERROR: &str = "exec-format-error";

const CASES: [ShellCase; 14] = [
    ShellCase {
        case: SHELL_CASES[0],
        script: SCRIPT,
        args: Args::Words(&["exitmatrix-no-such-command"]),
    },
    ShellCase {
        case: SHELL_CASES[1],
        script: SCRIPT,
        args: Args::Fixture(NOT_EXECUTABLE),
    },
    ShellCase {
        case: SHELL_CASES[2],
        script: SCRIPT,
        args: Args::Fixture(EXEC_FORMAT_ERROR),
    },
    ShellCase {
        case: SHELL_CASES[3],
        script: "exit 256",
        args: Args::None,
    },
    ShellCase {
        case: SHELL_CASES[4],
        script: "exit -1",
        args: Args::None,
    },
    ShellCase {
        case: SHELL_CASES[5],
        script: "set -o pipefail; false | true; echo $? > .exitmatrix-status",
        args: Args::None,
    },
    ShellCase {
        case: SHELL_CASES[6],
        script: r#""$@""#,
        args: Args::OwnShell(&["-c", "kill -TERM $$"]),
    },
    ShellCase {
        case: SHELL_CASES[7],
        script: "exit abc",
        args: Args::None,
    },
    ShellCase {
        case: SHELL_CASES[8],
        script: "exit 3 4",
        args: Args::None,
    },
    ShellCase {
        case: SHELL_CASES[9],
        script: "f() { return 256; }; f; echo $? > .exitmatrix-status",
        args: Args::None,
    },
    ShellCase {
        case: SHELL_CASES[10],
        script: "f() { return -1; }; f; echo $? > .exitmatrix-status",
        args: Args::None,
    },
    ShellCase {
        case: SHELL_CASES[11],
        script: "f() { return abc; }; f; echo $? > .exitmatrix-status",
        args: Args::None,
    },
    ShellCase {
        case: SHELL_CASES[12],
        script: "f() { return 3 4; }; f; echo $? > .exitmatrix-status",
        args: Args::None,
    },
    ShellCase {
        case: SHELL_CASES[13],
        // The helper sends SIGUSR1 every 50 ms until the shell is gone, so
        // one arrives while `wait` blocks, however late the shell gets
        // there (one that comes before only runs the trap). What is left
        // of the group when the shell ends is killed by the harness. PATH
        // is set because the shells start with an empty environment, and
        // yash then has no search path at all: `sleep` would not be found,
        // and `wait` would race the background job's 127.
        script: "PATH=/usr/bin:/bin; trap 'got=1' USR1; (while kill -USR1 $$ 2>/dev/null; do sleep 0.05; done) & h=$!; sleep 5 & w=$!; wait $w; s=$?; kill $h $w 2>/dev/null; echo $s > .exitmatrix-status",
        args: Args::None,
    },
];

/// The cases every shell runs besides the probes.
pub fn own_cases() -> Vec<OwnCase> {
    CASES.iter().map(|c| c.case).collect()
}

/// A shell as an observer.
#[derive(Debug)]
pub struct Shell {
    kind: ShellKind,
    /// The program, if found on the search path.
    path: Option<PathBuf>,
    search_path: String,
    fixtures: OnceLock<Result<Fixtures, String>>,
}

impl Shell {
    /// The shell `kind`, looked up on `search_path`.
    pub fn new(kind: ShellKind, search_path: &str) -> Shell {
        Shell {
            kind,
            path: parent::find_program(kind.program, search_path),
            search_path: search_path.to_owned(),
            fixtures: OnceLock::new(),
        }
    }

    /// Every shell, looked up on `search_path`.
    pub fn all(search_path: &str) -> Vec<Shell> {
        SHELLS.iter().map(|&k| Shell::new(k, search_path)).collect()
    }

    fn program(&self) -> Result<&Path, String> {
        self.path.as_deref().ok_or_else(|| self.missing())
    }

    fn missing(&self) -> String {
        format!(
            "not installed: no executable `{}` in {} (Debian package {})",
            self.kind.program, self.search_path, self.kind.package
        )
    }

    /// The fixtures, made the first time they are needed.
    fn fixtures(&self) -> Result<&Fixtures, String> {
        self.fixtures
            .get_or_init(|| {
                Fixtures::create().map_err(|e| format!("cannot make the shell fixtures: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The words that start the shell, before `-c`.
    fn start(&self, program: &Path) -> Vec<OsString> {
        let mut words = vec![program.as_os_str().to_owned()];
        words.extend(self.kind.before.iter().map(OsString::from));
        words
    }

    /// `<shell> -c SCRIPT sh` followed by `rest`'s runner and program.
    fn invocation(&self, program: &Path, script: &str, rest: &Invocation) -> Invocation {
        let mut runner = self.start(program);
        runner.extend([OsString::from("-c"), script.into(), ARG0.into()]);
        runner.extend(rest.runner.iter().cloned());
        Invocation {
            runner,
            program: rest.program.clone(),
            args: rest.args.clone(),
        }
    }
}

impl ParentColumn for Shell {
    fn column(&self) -> &str {
        self.kind.name
    }

    fn kind(&self) -> ObserverKind {
        ObserverKind::Shell
    }

    fn shown_program(&self) -> Option<String> {
        self.path.as_ref().map(|p| p.display().to_string())
    }

    fn found(&self) -> Result<(), String> {
        self.program().map(drop)
    }

    fn how(&self) -> String {
        format!(
            "{} -c {} sh PROBE ARGS...",
            [self.kind.program]
                .iter()
                .chain(self.kind.before)
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
            parent::shell_quote(SCRIPT)
        )
    }

    fn observe_under(&self, case: &Case<'_>) -> Result<Observation, String> {
        let program = self.program()?;
        let invocation = self.invocation(program, SCRIPT, case.invocation);
        let command = parent::display_command(&invocation);
        let end = parent::run(&ParentRun {
            invocation: &invocation,
            core: case.core,
            continue_stops: case.continue_stops,
            result_file: STATUS_FILE,
            setting: Setting::of(case),
        })?;
        end.number_or_ending(command)
    }

    fn parent_cases(&self) -> Vec<OwnCase> {
        // The engine asks before its workers start: the fixtures are made
        // now, while no other thread of the harness forks. A file this
        // process still has open for writing while another thread forks is
        // open in that child too until it execs, and a shell that execs the
        // file then fails with ETXTBSY instead of the error the case
        // observes (the likely cause of mksh's 126 for its 1 in
        // `sh-exec-format-error`, seen once when the own cases ran first
        // in a run). An error shows in the cases that need them.
        if self.path.is_some() {
            let _ = self.fixtures();
        }
        let mut cases = own_cases();
        cases.extend(crate::pure::observers::SPAWN_CASES);
        cases.extend(crate::pure::observers::JOB_CONTROL_CASES);
        cases
    }

    fn observe_parent_case(
        &self,
        case: &OwnCase,
        setting: &Setting<'_>,
    ) -> Result<Observation, String> {
        let program = self.program()?;
        if crate::pure::observers::JOB_CONTROL_CASES.contains(case) {
            let mut shell = self.start(program);
            shell.extend(
                crate::observers::jobcontrol::interactive_words(self.kind.name)
                    .iter()
                    .map(OsString::from),
            );
            let invocation = crate::observers::jobcontrol::invocation(&self.search_path, shell)?;
            let command = parent::display_command(&invocation);
            // The stop is the case: the harness must not continue the job.
            let end = parent::run(&ParentRun {
                invocation: &invocation,
                core: false,
                continue_stops: false,
                result_file: STATUS_FILE,
                setting: *setting,
            })?;
            return end.number_or_ending(command);
        }
        // The spawn failures' files live as long as `fixtures`: until the
        // shell has run.
        let fixtures;
        let invocation = if crate::pure::observers::is_spawn_case(case.name) {
            // The spawn failures: the fixture's path is the probe.
            fixtures = crate::observers::spawnfail::Fixtures::create()?;
            self.invocation(program, SCRIPT, &fixtures.invocation(case.name)?)
        } else {
            self.case_invocation(program, case)?
        };
        let command = parent::display_command(&invocation);
        let end = parent::run(&ParentRun {
            invocation: &invocation,
            core: false,
            continue_stops: true,
            result_file: STATUS_FILE,
            setting: *setting,
        })?;
        end.number_or_ending(command)
    }
}

impl Shell {
    /// The invocation of one of the shell's own cases ([`CASES`]).
    fn case_invocation(&self, program: &Path, case: &OwnCase) -> Result<Invocation, String> {
        let shell_case = CASES
            .iter()
            .find(|c| c.case.name == case.name)
            .ok_or_else(|| format!("{} has no case `{}`", self.kind.name, case.name))?;
        let words: Vec<OsString> = match shell_case.args {
            Args::None => Vec::new(),
            Args::Words(words) => words.iter().map(OsString::from).collect(),
            Args::Fixture(name) => vec![self.fixtures()?.path(name).into_os_string()],
            Args::OwnShell(words) => {
                let mut all = self.start(program);
                all.extend(words.iter().map(OsString::from));
                all
            }
        };
        let mut runner = self.start(program);
        runner.extend([OsString::from("-c"), shell_case.script.into(), ARG0.into()]);
        let (program_word, args) = match words.split_first() {
            Some((first, rest)) => (
                PathBuf::from(first),
                rest.iter()
                    .map(|w| w.to_string_lossy().into_owned())
                    .collect(),
            ),
            None => {
                // The last runner word becomes the program: the command line
                // is the same.
                let last = runner.pop().expect("the runner has words");
                (PathBuf::from(last), Vec::new())
            }
        };
        Ok(Invocation {
            runner,
            program: program_word,
            args,
        })
    }
}

/// Files the shell cases run: made once per observer in a temporary
/// directory (removed with the observer), so that no permission bit depends
/// on how the repository was checked out.
#[derive(Debug)]
struct Fixtures {
    dir: TempDir,
}

impl Fixtures {
    fn create() -> std::io::Result<Fixtures> {
        let dir = tempfile::Builder::new()
            .prefix("exitmatrix-fixtures-")
            .tempdir()?;
        let not_executable = dir.path().join(NOT_EXECUTABLE);
        std::fs::write(&not_executable, "echo this file is not executable\n")?;
        crate::os::set_mode(&not_executable, 0o644)?;
        let exec_format = dir.path().join(EXEC_FORMAT_ERROR);
        std::fs::write(&exec_format, elf_header_for_no_machine())?;
        crate::os::set_mode(&exec_format, 0o755)?;
        Ok(Fixtures { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A 64-byte ELF64 little-endian header of an executable for machine
/// `EM_NONE` (0), with no program headers. execve(2) fails with ENOEXEC
/// ("exec format error"): the kernel's ELF loader refuses a foreign machine,
/// and no binfmt_misc handler (qemu-user, say) claims `EM_NONE`.
pub fn elf_header_for_no_machine() -> [u8; 64] {
    let mut h = [0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // ELFCLASS64
    h[5] = 1; // ELFDATA2LSB
    h[6] = 1; // EV_CURRENT
    h[16] = 2; // e_type = ET_EXEC
    h[18] = 0; // e_machine = EM_NONE
    h[20] = 1; // e_version = EV_CURRENT
    h[52] = 64; // e_ehsize
    h[54] = 56; // e_phentsize
    h[58] = 64; // e_shentsize
    h
}
