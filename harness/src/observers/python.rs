//! Python observers: a probe's ending as the system `python3` reports it.
//!
//! The Python side is `observers/python_observer.py`, run as
//! `python3 -I observers/python_observer.py MODE ...` in the case directory;
//! it writes what Python reported to a JSON file there. Nothing of Python is
//! imitated in Rust. The columns:
//!
//! - `py-subprocess`: `subprocess.run(argv).returncode`.
//! - `py-waitstatus`: `os.waitstatus_to_exitcode()` of every status
//!   `os.waitpid(pid, os.WUNTRACED)` gives; a stop raises `ValueError`, and
//!   the script continues the stopped probe itself.
//! - `py-mp-fork`: `multiprocessing.Process.exitcode` of a child started
//!   with the `fork` method that `os.execv`s the probe (with Python's
//!   ignored SIGPIPE and SIGXFSZ, which only `subprocess` restores); it also
//!   runs the seed tutorial's cases (a child function that returns, calls
//!   `sys.exit()` with nothing, `None`, an int or a string, or raises).
//! - `py-mp-spawn`: the same cases with the `spawn` start method (no
//!   probes: a spawned child is a whole new interpreter, too slow to run
//!   the catalogue under).
//!
//! `python3` is looked up on the observer search path
//! ([`crate::observers::shell::DEFAULT_SEARCH_PATH`] by default).

use std::ffi::OsString;
use std::path::PathBuf;

use serde::Deserialize;

use crate::observers::observe::{Case, Observation, Observer, ObserverInfo};
use crate::observers::parent::{self, ParentEnd, ParentRun, Setting};
use crate::process::spawn::Invocation;
use crate::pure::catalogue::Behaviour;
use crate::pure::observers::OwnCase;
use crate::pure::view::Reported;

/// The file the script writes its report to, in the case directory.
pub const RESULT_FILE: &str = ".exitmatrix-reported.json";

/// The Python observers' names, in column order.
pub use crate::pure::observers::PYTHONS as NAMES;

pub use crate::pure::observers::MP_CASES;

/// Which Python view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `subprocess.run().returncode`.
    Subprocess,
    /// `os.waitstatus_to_exitcode()` of each `os.waitpid()` status.
    WaitStatus,
    /// `multiprocessing.Process.exitcode` with the start method named.
    Multiprocessing(&'static str),
}

/// A Python observer.
#[derive(Debug)]
pub struct Python {
    name: &'static str,
    mode: Mode,
    /// `python3`, if found on the search path.
    path: Option<PathBuf>,
    search_path: String,
    script: PathBuf,
}

impl Python {
    /// Every Python observer, with `python3` looked up on `search_path`.
    pub fn all(search_path: &str) -> Vec<Python> {
        let path = parent::find_program("python3", search_path);
        let script = script_path();
        [
            ("py-subprocess", Mode::Subprocess),
            ("py-waitstatus", Mode::WaitStatus),
            ("py-mp-fork", Mode::Multiprocessing("fork")),
            ("py-mp-spawn", Mode::Multiprocessing("spawn")),
        ]
        .into_iter()
        .map(|(name, mode)| Python {
            name,
            mode,
            path: path.clone(),
            search_path: search_path.to_owned(),
            script: script.clone(),
        })
        .collect()
    }

    fn python(&self) -> Result<&PathBuf, String> {
        self.path.as_ref().ok_or_else(|| {
            format!(
                "not installed: no executable `python3` in {} (Debian package python3)",
                self.search_path
            )
        })
    }

    /// `python3 -I python_observer.py` followed by `words`.
    fn runner(&self, words: &[&str]) -> Result<Vec<OsString>, String> {
        let python = self.python()?;
        if !self.script.is_file() {
            return Err(format!(
                "the observer script {} is missing",
                self.script.display()
            ));
        }
        let mut runner = vec![
            python.as_os_str().to_owned(),
            "-I".into(),
            self.script.as_os_str().to_owned(),
        ];
        runner.extend(words.iter().map(OsString::from));
        Ok(runner)
    }

    fn finish(end: ParentEnd, command: String) -> Result<Observation, String> {
        let reported = match end.result.as_deref() {
            None => vec![Reported::Parent {
                ending: end.ending.change,
            }],
            Some(text) => parse_result(text)?,
        };
        Ok(end.observation(command, reported))
    }
}

/// `observers/python_observer.py` in the workspace.
pub fn script_path() -> PathBuf {
    crate::toolchain::probes::workspace_root().join("observers/python_observer.py")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResult {
    reported: Vec<RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum RawValue {
    Code(i64),
    Raised(String),
}

/// Reads the script's JSON report.
pub fn parse_result(text: &str) -> Result<Vec<Reported>, String> {
    let raw: RawResult = serde_json::from_str(text)
        .map_err(|e| format!("cannot read the Python observer's report {text:?}: {e}"))?;
    Ok(raw
        .reported
        .into_iter()
        .map(|v| match v {
            RawValue::Code(value) => Reported::Code { value },
            RawValue::Raised(exception) => Reported::Raised { exception },
        })
        .collect())
}

impl Observer for Python {
    fn name(&self) -> &str {
        self.name
    }

    fn available(&self) -> Result<(), String> {
        self.python().map(drop)
    }

    fn runs(&self, behaviour: &Behaviour) -> bool {
        // Hostile probes stay with the reapers (the watchdog signals the
        // whole group, Python included); a spawned interpreter per probe
        // would make the matrix far slower for nothing new.
        behaviour.timeout.is_none() && self.mode != Mode::Multiprocessing("spawn")
    }

    fn info(&self) -> ObserverInfo {
        let how = match self.mode {
            Mode::Subprocess => "subprocess.run([PROBE, ARGS...]).returncode".to_owned(),
            Mode::WaitStatus => {
                "os.waitstatus_to_exitcode(status) of each os.waitpid(pid, os.WUNTRACED)".to_owned()
            }
            Mode::Multiprocessing(method) => {
                format!("multiprocessing.get_context({method:?}).Process(target=...).exitcode")
            }
        };
        ObserverInfo {
            name: self.name.to_owned(),
            kind: crate::pure::observers::ObserverKind::Python,
            program: self.path.as_ref().map(|p| p.display().to_string()),
            installed: self.path.is_some(),
            how,
        }
    }

    fn observe(&self, case: &Case<'_>) -> Result<Observation, String> {
        let stops = if case.continue_stops {
            "continue"
        } else {
            "keep-stopped"
        };
        let words: Vec<&str> = match self.mode {
            Mode::Subprocess => vec!["subprocess", RESULT_FILE],
            Mode::WaitStatus => vec!["waitstatus", RESULT_FILE, stops],
            Mode::Multiprocessing(method) => vec!["mp-exec", method, RESULT_FILE],
        };
        let runner = self.runner(&words)?;
        // The waitstatus script sees stops and continues the probe
        // itself; the others never hear of a stop.
        let (end, command) = parent::run_probe(
            runner,
            case,
            RESULT_FILE,
            case.continue_stops && self.mode != Mode::WaitStatus,
        )?;
        Python::finish(end, command)
    }

    fn own_cases(&self) -> Vec<OwnCase> {
        match self.mode {
            Mode::Multiprocessing(_) => MP_CASES.to_vec(),
            _ => Vec::new(),
        }
    }

    fn observe_own(&self, case: &OwnCase, setting: &Setting<'_>) -> Result<Observation, String> {
        let Mode::Multiprocessing(method) = self.mode else {
            return Err(format!("{} has no case `{}`", self.name, case.name));
        };
        let mut runner = self.runner(&["mp-case", method, RESULT_FILE])?;
        let last = runner.pop().expect("the runner has words");
        let invocation = Invocation {
            runner,
            program: PathBuf::from(last),
            args: vec![case.name.to_owned()],
        };
        let command = parent::display_command(&invocation);
        let end = parent::run(&ParentRun {
            invocation: &invocation,
            core: false,
            continue_stops: true,
            result_file: RESULT_FILE,
            setting: *setting,
        })?;
        Python::finish(end, command)
    }
}
