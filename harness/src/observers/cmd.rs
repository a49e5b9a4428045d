//! `cmd.exe` as an observer: a probe's ending as `%ERRORLEVEL%`, the
//! Windows host's shell view.
//!
//! The probe runs as the first command of a `/c` line, and the value is
//! written to a file in the case directory by the second:
//!
//! ```text
//! cmd.exe /d /v:on /c PROBE ARGS... & >.exitmatrix-status echo !ERRORLEVEL!
//! ```
//!
//! - `/d` skips the AutoRun commands of the registry, `/v:on` turns on
//!   delayed expansion, so `!ERRORLEVEL!` is read when `echo` runs, after
//!   the probe (Microsoft Learn, cmd: "/v:on Enables delayed environment
//!   variable expansion ... !variable! ... expanded at execution time";
//!   `%ERRORLEVEL%` would be expanded when the line is read). Wine's cmd
//!   expands `%ERRORLEVEL%` per `&` command instead, so `!ERRORLEVEL!` is
//!   the form both read alike.
//! - The redirection comes first, so no digit of the value can be taken
//!   for a handle number (`echo 3>file` redirects handle 3).
//! - The words are joined by std's `Command`, which quotes only words with
//!   spaces, tabs or quotes: the probe's path must have none (cmd's `/c`
//!   strips the first and last quote of such a line).
//! - `%ERRORLEVEL%` is an `int`: the exit code's 32 bits read signed
//!   (`int32(N)` in `profiles/windows.toml`).
//!
//! cmd is found through `ComSpec` (Microsoft Learn, cmd: "the path of the
//! command interpreter ... in the ComSpec environment variable"), else
//! `%SystemRoot%\System32\cmd.exe`. It is a Windows column only
//! ([`crate::os::NATIVE_OBSERVERS`]).

use std::ffi::OsString;
use std::path::PathBuf;

use crate::observers::observe::{Case, Observation};
use crate::observers::parent::{self, ParentColumn, ParentRun, Setting};
use crate::observers::shell::STATUS_FILE;
use crate::process::spawn::Invocation;
use crate::pure::decode::{decode_windows_exit_code, RawStatus};
use crate::pure::observers::{ObserverKind, CMD};

/// The words after the probe.
const AFTER: [&str; 4] = ["&", ">.exitmatrix-status", "echo", "!ERRORLEVEL!"];

/// The words before the probe, after cmd itself.
const BEFORE: [&str; 3] = ["/d", "/v:on", "/c"];

/// `cmd.exe` as an observer.
#[derive(Debug)]
pub struct Cmd {
    /// cmd's path, or why it is not installed.
    found: Result<PathBuf, String>,
}

impl Cmd {
    /// cmd.exe, looked up through `ComSpec` and `SystemRoot`.
    pub fn new() -> Cmd {
        Cmd { found: locate() }
    }

    fn program(&self) -> Result<&PathBuf, String> {
        self.found.as_ref().map_err(Clone::clone)
    }
}

impl Default for Cmd {
    fn default() -> Cmd {
        Cmd::new()
    }
}

fn locate() -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = std::env::var_os("ComSpec")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            std::env::var_os("SystemRoot")
                .map(|root| PathBuf::from(root).join("System32").join("cmd.exe")),
        )
        .collect();
    candidates
        .iter()
        .find(|p| parent::is_executable(p))
        .cloned()
        .ok_or_else(|| "not installed: no cmd.exe in ComSpec or %SystemRoot%\\System32".to_owned())
}

impl ParentColumn for Cmd {
    fn column(&self) -> &str {
        CMD
    }

    fn kind(&self) -> ObserverKind {
        ObserverKind::Shell
    }

    fn shown_program(&self) -> Option<String> {
        self.found.as_ref().ok().map(|p| p.display().to_string())
    }

    fn found(&self) -> Result<(), String> {
        self.program().map(drop)
    }

    fn how(&self) -> String {
        format!(
            "cmd.exe {} PROBE ARGS... {}",
            BEFORE.join(" "),
            AFTER.join(" ")
        )
    }

    fn observe_under(&self, case: &Case<'_>) -> Result<Observation, String> {
        let program = self.program()?;
        let mut runner: Vec<OsString> = vec![program.clone().into_os_string()];
        runner.extend(BEFORE.iter().map(OsString::from));
        runner.extend(case.invocation.runner.iter().cloned());
        let mut args = case.invocation.args.clone();
        args.extend(AFTER.iter().map(|w| (*w).to_owned()));
        let invocation = Invocation {
            runner,
            program: case.invocation.program.clone(),
            args,
        };
        let command = invocation.display();
        let mut end = parent::run(&ParentRun {
            invocation: &invocation,
            core: case.core,
            continue_stops: case.continue_stops,
            result_file: STATUS_FILE,
            setting: Setting::of(case),
        })?;
        // cmd's own ending is an exit code, not a wait status.
        if let RawStatus::WaitStatus { status } = end.ending.raw {
            let code = status as u32;
            end.ending.raw = RawStatus::ExitCode { code };
            end.ending.change = decode_windows_exit_code(code);
        }
        end.number_or_ending(command)
    }
}
