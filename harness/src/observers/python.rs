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
//!
//! # Started once
//! An interpreter's start-up (~30 ms) dwarfs a probe's (~1 ms), so the
//! script is not started per cell: `python3 -I python_observer.py serve`
//! runs once per worker (a pool of servers, [`spawn::Server`]), and each
//! cell is one request to it. The server forks ahead of the request (while
//! the case before runs, so that the fork's cost overlaps that case; the
//! server replies to it only once the fork is ready, so the cost is counted
//! in that cell and not in whatever runs next) and tells the harness that
//! fork's pid; the fork reads the request itself.
//! An idle server is stopped with a request that its waiting fork passes
//! on, so that the server reaps it.
//! The fork runs the script's own `sys.exit(main(argv))` with the words
//! above, in the case directory, in a process group of its own, with the
//! case's core limit and its output in the case's capture files: what
//! `python3 -I python_observer.py MODE ...` started there would be (the
//! script's `serve` says what it keeps equal), except that its report goes
//! to the server on a pipe rather than to the file [`RESULT_FILE`] (the
//! script writes it after the probe has ended, so the probe sees neither).
//! The harness guards that case process as [`parent::run`] guards a parent:
//! the watchdog on its group, stopped descendants continued, the group
//! killed once it has ended and before it is reaped. The report's command
//! is that equivalent command line.
//!
//! A cell is one request and one reply: the server answers with the case
//! process's wait status (from `waitid(WNOWAIT)`, before it reaps it), its
//! report and the pid of the fork for the next case. The harness kills what
//! is left of the group before it sends anything else to that server, and
//! the server reaps the case process once the next request has been read
//! (and checks that `waitpid` gives the status it replied).
//!
//! A server that dies, says something unexpected or does not answer in
//! [`REPLY_TIMEOUT`] makes its cell "not observed" (an error), never a
//! pass; it is killed, with what is left of the case's group, and the next
//! cell starts a fresh one. That holds for a server that failed while it
//! was idle too: the next cell that takes it is not observed.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::observers::observe::{Case, Observation, Observer, ObserverInfo};
use crate::observers::parent::{self, ParentEnd, Setting};
use crate::observers::served::{self, Pool};
use crate::os::{self, GroupSignal, Pid};
use crate::process::orphans;
use crate::process::reap::Observed;
use crate::process::spawn::{self, CaseDir, Invocation};
use crate::process::watchdog::Watchdog;
use crate::pure::catalogue::Behaviour;
use crate::pure::decode;
use crate::pure::observers::OwnCase;
use crate::pure::view::Reported;

/// The file the script writes its report to, in the case directory, when it
/// runs on its own (its argument RESULT; a served case process sends the
/// same text to the server instead).
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

    /// Runs `invocation` (this script's command line: python, `-I`, the
    /// script, then its words) as one request to a server, and returns how
    /// its case process ended, as [`parent::run`] does for a fresh parent.
    fn run_served(
        &self,
        invocation: &Invocation,
        core: bool,
        continue_stops: bool,
        setting: &Setting<'_>,
    ) -> Result<ParentEnd, String> {
        let words: Vec<String> = invocation
            .argv()
            .into_iter()
            .skip(3)
            .map(|w| {
                w.into_string()
                    .map_err(|w| format!("{w:?} is not UTF-8, which the Python server needs"))
            })
            .collect::<Result<_, _>>()?;
        let dir = case_dir().map_err(|e| format!("cannot make the case directory: {e}"))?;
        let request = serde_json::json!({
            "argv": words,
            "dir": dir.path(),
            "stdout": dir.stdout_path(),
            "stderr": dir.stderr_path(),
            "core": core,
        })
        .to_string();
        let python = self.python()?.clone();
        let (mut server, pid) = self.server(&python)?;
        match serve_case(&mut server, pid, &request, continue_stops, setting) {
            Ok(served) => {
                SERVERS.put(python, server);
                let ending = Observed {
                    raw: decode::RawStatus::WaitStatus {
                        status: served.status,
                    },
                    change: decode::decode_wait_status(served.status, setting.wait),
                };
                // The case process has ended and its group is dead (the
                // server reaps it once the next request has come): what
                // left its group is ended before its directory goes.
                let leaked = orphans::sweep_cell(pid, dir.path());
                let leftovers = dir
                    .finish()
                    .map_err(|e| format!("cannot collect the output: {e}"))?;
                Ok(ParentEnd {
                    ending,
                    result: served.result,
                    leftovers,
                    watchdog: served.watchdog,
                    continued: served.continued,
                    leaked,
                })
            }
            Err(e) => {
                // The server's group first: the case process is in it until
                // it has read its case, and leaves it for a group of its
                // own (killed next) before it starts anything; killed in
                // the other order, it could leave in between.
                let error = failed(server.server, &e);
                // The case process may outlive a dead server (it is then an
                // orphan): end its group. It is the server's child, which
                // the server reaps only after the next request, so the
                // group id is its own unless the server died and the case
                // process was reaped in between.
                if os::pidfd_open(pid).is_some() {
                    os::signal_group(pid, GroupSignal::Kill);
                }
                Err(error)
            }
        }
    }

    /// A ready server for `python` and the pid of the process that takes
    /// its next case: one from the pool, else a new one.
    fn server(&self, python: &std::path::Path) -> Result<(Served, Pid), String> {
        let served = match SERVERS.take(python) {
            Some(served) => served,
            None => {
                let runner = self.runner(&[])?;
                let invocation = Invocation {
                    runner: runner[..2].to_vec(),
                    program: self.script.clone(),
                    args: vec!["serve".to_owned()],
                };
                let mut server = spawn::spawn_server(&invocation)
                    .map_err(|e| format!("cannot start the Python server: {e}"))?;
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Ready {
                    ready: bool,
                    next: Pid,
                }
                match reply::<Ready>(&mut server, "readiness") {
                    Ok(Ready { ready: true, next }) => Served { server, next },
                    other => {
                        let log = server.log(600);
                        server.kill();
                        return Err(format!(
                            "the Python server did not start ({}); its last words: {log}",
                            other.err().unwrap_or_else(|| "not ready".to_owned())
                        ));
                    }
                }
            }
        };
        let next = served.next;
        if next <= 1 {
            return Err(failed(
                served.server,
                &format!("{next} is not a case process's pid"),
            ));
        }
        Ok((served, next))
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

/// Where the case directories go when it is there: a memory file system,
/// where making and removing a directory and its capture files costs a
/// fraction of what it costs on a disk-backed `/tmp` (~1 ms a cell here).
/// The case process cannot take the fast path's memfds (it opens its
/// capture files by path), and a probe sees a directory of its own either
/// way.
pub const CASE_DIR_BASE: &str = "/dev/shm";

/// A new case directory: in [`CASE_DIR_BASE`] if one can be made there,
/// else in the temporary directory.
fn case_dir() -> std::io::Result<CaseDir> {
    CaseDir::new_in(std::path::Path::new(CASE_DIR_BASE)).or_else(|_| CaseDir::new())
}

/// How long the harness waits for a server's reply that does not depend on
/// the probe (ready at start).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// A server and the pid of its fork that takes the next case.
#[derive(Debug)]
struct Served {
    server: spawn::Server,
    next: Pid,
}

/// Idle servers, with the `python3` each runs on.
static SERVERS: Pool<PathBuf, Served> = Pool::new(stop);

/// Kills a server that failed (with what is left of the fork waiting for
/// its next case, in its group) and returns the cell's error.
fn failed(server: spawn::Server, error: &str) -> String {
    served::failed(server, "the Python server", error)
}

/// How long an idle server may take to end the fork it made for its next
/// case.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// Ends an idle server: asks it to stop, so that it reaps the fork waiting
/// for its next case (killed with the server's group instead, that fork
/// would be an orphan of the harness's), then kills its group and reaps it.
fn stop(mut served: Served) {
    if served.server.send(r#"{"stop": true}"#).is_ok() {
        let _ = served.server.receive(STOP_TIMEOUT);
    }
    served.server.kill();
}

/// Ends every idle server (see [`crate::observers::stop_servers`]).
pub fn stop_servers() {
    SERVERS.stop_all();
}

/// The pids of the idle servers that run on `python` (for tests that kill
/// one).
pub fn idle_server_pids(python: &std::path::Path) -> Vec<u32> {
    SERVERS.pids(|p| p == python, |s| s.server.pid())
}

/// The next reply of `server`, as a `T`.
fn reply<T: for<'de> Deserialize<'de>>(
    server: &mut spawn::Server,
    what: &str,
) -> Result<T, String> {
    let line = server
        .receive(REPLY_TIMEOUT)
        .map_err(|e| format!("no {what}: {e}"))?
        .ok_or_else(|| format!("no {what} within {REPLY_TIMEOUT:?}"))?;
    serde_json::from_str(&line).map_err(|_| format!("{line:?} is not the {what}"))
}

/// How a served case ended.
struct ServedEnd {
    /// The case process's wait status.
    status: i32,
    /// The report it sent, if it sent one.
    result: Option<String>,
    watchdog: crate::process::watchdog::Sent,
    continued: usize,
}

/// One case on `server`, whose fork `pid` takes it: guards the case
/// process's group (watchdog, stopped descendants continued, the group
/// killed once the case process has ended and before it is reaped), sends
/// `request`, and returns the case process's wait status and report, the
/// watchdog's signals and how many times it was continued. The server
/// reaps the case process once the next request has come, so the group is
/// killed here before anything else is sent.
fn serve_case(
    server: &mut Served,
    pid: Pid,
    request: &str,
    continue_stops: bool,
    setting: &Setting<'_>,
) -> Result<ServedEnd, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Ended {
        status: i32,
        result: Option<String>,
        next: Pid,
    }
    // Armed before the case is sent: the group is the case process's as
    // soon as it has read the case (until then there is none to signal).
    let armed = Watchdog::global().arm(
        pid,
        setting.timeout,
        setting.grace,
        setting.interrupt.cloned(),
    );
    let sent = server
        .server
        .send(request)
        .map_err(|e| format!("cannot send the case: {e}"));
    let mut continued = 0;
    // The watchdog ends the case process by then; a server that still says
    // nothing is stuck.
    let deadline = std::time::Instant::now() + setting.timeout + setting.grace + REPLY_TIMEOUT;
    let ended = sent.and_then(|()| loop {
        if std::time::Instant::now() > deadline {
            break Err("no end of the case although the watchdog has ended it".to_owned());
        }
        match server.server.receive(parent::TICK) {
            Ok(Some(line)) => {
                break serde_json::from_str::<Ended>(&line)
                    .map_err(|_| format!("{line:?} is not the case's end"))
            }
            Ok(None) => {
                if continue_stops && parent::any_descendant_stopped(pid) {
                    os::signal_group(pid, GroupSignal::Continue);
                    continued += 1;
                }
            }
            Err(e) => break Err(format!("no end of the case: {e}")),
        }
    });
    let watchdog = armed.disarm();
    let ended = ended?;
    // Ended, not reaped: the group id is still the case process's.
    os::signal_group(pid, GroupSignal::Kill);
    server.next = ended.next;
    Ok(ServedEnd {
        status: ended.status,
        result: ended.result,
        watchdog,
        continued,
    })
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
        let mut runner = self.runner(&words)?;
        runner.extend(case.invocation.runner.iter().cloned());
        let invocation = Invocation {
            runner,
            program: case.invocation.program.clone(),
            args: case.invocation.args.clone(),
        };
        let command = parent::display_command(&invocation);
        // The waitstatus script sees stops and continues the probe
        // itself; the others never hear of a stop.
        let end = self.run_served(
            &invocation,
            case.core,
            case.continue_stops && self.mode != Mode::WaitStatus,
            &Setting {
                wait: case.wait,
                timeout: case.timeout,
                grace: case.grace,
                interrupt: case.interrupt,
            },
        )?;
        Python::finish(end, command)
    }

    fn own_cases(&self) -> Vec<OwnCase> {
        match self.mode {
            Mode::Multiprocessing(_) => MP_CASES.to_vec(),
            Mode::Subprocess => crate::pure::observers::SPAWN_CASES.to_vec(),
            Mode::WaitStatus => Vec::new(),
        }
    }

    fn observe_own(&self, case: &OwnCase, setting: &Setting<'_>) -> Result<Observation, String> {
        if self.mode == Mode::Subprocess && crate::pure::observers::is_spawn_case(case.name) {
            // `python_observer.py spawn`: the fixture's path is the probe.
            let fixtures = crate::observers::spawnfail::Fixtures::create()?;
            let probe = fixtures.invocation(case.name)?;
            let mut runner = self.runner(&["spawn", RESULT_FILE])?;
            runner.extend(probe.runner.iter().cloned());
            let invocation = Invocation {
                runner,
                program: probe.program,
                args: Vec::new(),
            };
            let command = parent::display_command(&invocation);
            let end = self.run_served(&invocation, false, true, setting)?;
            return Python::finish(end, command);
        }
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
        let end = self.run_served(&invocation, false, true, setting)?;
        Python::finish(end, command)
    }
}
