//! The in-target agent's report: its line format, parsed totally, and the
//! observers that run a probe through the agent or through the bare runner.
//!
//! The agent (`agent/main.rs`, built for the target) and the WASI runner
//! script (`runners/wasi.mjs`) write a report file; its format is
//! documented in `agent/main.rs`. [`parse`] reads it: it is a parser of
//! outside input (an emulator, a foreign C library, a script), so it never
//! panics, bounds what it keeps, and says which line it could not read.
//!
//! One agent run serves several columns. On Unix the agent peeks at each
//! state with `waitid(..., WNOWAIT)` and then reaps it with `waitpid`, and
//! derives std's `ExitStatus` from the final word, so one probe process
//! gives the `waitpid`, `waitid` and `std` columns: the columns share the
//! run through a small cache ([`AgentContext`]).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;

use crate::observers::observe::{Case, Direct, Observation, Observer};
use crate::os::{self, GroupSignal};
use crate::process::orphans;
use crate::process::reap::{Control, Observed, Reaper, WaitPid};
use crate::process::spawn::{self, Invocation, Leftovers};
use crate::process::watchdog::Watchdog;
use crate::pure::decode::{self, RawStatus, StateChange, Trap, WaitConventions};
use crate::pure::observers::{AGENT, HOST_VIA_RUNNER};
use crate::pure::signal::{Signal, SignalTable};
use crate::pure::target::Family;

/// The report file's name, in the probe's own working directory.
pub const REPORT_FILE: &str = ".exitmatrix-agent";

/// The most lines a report may have (a probe is continued at most eight
/// times, so a real report has a few dozen at most).
pub const MAX_LINES: usize = 256;

/// What std's `ExitStatus` made of the final status, in the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StdView {
    /// `code()` was `Some`.
    Exit {
        /// The code.
        code: i32,
    },
    /// `signal()` was `Some`.
    Signal {
        /// The signal, in the target's numbering.
        signal: i32,
        /// `core_dumped()`.
        core: bool,
    },
    /// Neither: the raw word.
    Other {
        /// The status word.
        status: i32,
    },
}

/// The end of a WASI module's run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WasiEnd {
    /// `_start` returned this `proc_exit` code.
    Exit {
        /// The code as the embedding gave it.
        code: i64,
    },
    /// A trap escaped `_start`.
    Trap {
        /// Which.
        trap: Trap,
    },
}

/// A parsed agent report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AgentReport {
    /// `unix`, `windows` or `wasi`, from the first line.
    pub family: String,
    /// `waitid` lines: `(si_code, si_status, derived)`.
    pub waitid: Vec<(i32, i32, bool)>,
    /// `waitpid` lines: raw status words.
    pub waitpid: Vec<i32>,
    /// The `std` line.
    pub std: Option<StdView>,
    /// The `exit-code` line (Windows).
    pub exit_code: Option<u32>,
    /// The `wasi-exit` or `trap` line.
    pub wasi: Option<WasiEnd>,
    /// `watchdog` lines, in order.
    pub watchdog: Vec<&'static str>,
    /// The `error` line, if the agent could not do its job.
    pub error: Option<String>,
    /// `leaked` lines: what left the probe's process group and was ended
    /// by the agent, as `process <pid> (<name>)` (the pid is the target's).
    pub leaked: Vec<String>,
    /// The `group` line: the probe's process group, in the target.
    pub group: Option<i32>,
}

/// Why a report could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("agent report line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number (0: the report as a whole).
    pub line: usize,
    /// What is wrong, a lowercase fragment.
    pub message: String,
}

fn int<T: std::str::FromStr>(word: &str) -> Option<T> {
    word.parse().ok()
}

/// A number in decimal or in hex with `0x`; a 32-bit word, so `0xffffffff`
/// reads as -1 for an `i32`.
fn word32(word: &str) -> Option<u32> {
    match word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.len() <= 8 => u32::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None => word
            .parse::<u32>()
            .ok()
            .or_else(|| word.parse::<i32>().ok().map(|n| n as u32)),
    }
}

/// Parses an agent report. Total: any input gives `Ok` or a [`ParseError`],
/// never a panic. A report must start with `exitmatrix-agent 1 <family>`,
/// end with `end` (a report cut short is an error), and have no unknown
/// record; at most [`MAX_LINES`] lines are read.
pub fn parse(text: &str) -> Result<AgentReport, ParseError> {
    let err = |line: usize, message: String| ParseError { line, message };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let mut report = AgentReport::default();
    match lines.next() {
        Some((_, header)) => {
            let words: Vec<&str> = header.split(' ').collect();
            match words.as_slice() {
                ["exitmatrix-agent", "1", family @ ("unix" | "windows" | "wasi")] => {
                    report.family = (*family).to_owned();
                }
                ["exitmatrix-agent", version, ..] => {
                    return Err(err(1, format!("unsupported version `{}`", clip(version))))
                }
                _ => return Err(err(1, format!("not an agent report: `{}`", clip(header)))),
            }
        }
        None => return Err(err(0, "empty report".into())),
    }
    let mut ended = false;
    for (n, line) in lines {
        if n > MAX_LINES {
            return Err(err(n, format!("more than {MAX_LINES} lines")));
        }
        if ended {
            return Err(err(n, "a line after `end`".into()));
        }
        let (record, rest) = line.split_once(' ').unwrap_or((line, ""));
        let words: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split(' ').collect()
        };
        let bad = |what: &str| {
            err(
                n,
                format!("malformed `{record}` record ({what}): `{}`", clip(line)),
            )
        };
        match record {
            "waitid" => match words.as_slice() {
                [code, status] | [code, status, "derived"] => {
                    let (Some(code), Some(status)) = (int::<i32>(code), int::<i32>(status)) else {
                        return Err(bad("two decimal numbers"));
                    };
                    report.waitid.push((code, status, words.len() == 3));
                }
                _ => return Err(bad("si_code si_status [derived]")),
            },
            "waitpid" => match words.as_slice() {
                [status] => {
                    let status = word32(status).ok_or_else(|| bad("a 32-bit status word"))?;
                    report.waitpid.push(status as i32);
                }
                _ => return Err(bad("one status word")),
            },
            "std" => {
                if report.std.is_some() {
                    return Err(err(n, "a second `std` record".into()));
                }
                report.std = Some(match words.as_slice() {
                    ["exit", code] => StdView::Exit {
                        code: int(code).ok_or_else(|| bad("exit CODE"))?,
                    },
                    ["signal", sig] => StdView::Signal {
                        signal: int(sig).ok_or_else(|| bad("signal N"))?,
                        core: false,
                    },
                    ["signal", sig, "core"] => StdView::Signal {
                        signal: int(sig).ok_or_else(|| bad("signal N core"))?,
                        core: true,
                    },
                    ["other", status] => StdView::Other {
                        status: word32(status).ok_or_else(|| bad("other WORD"))? as i32,
                    },
                    _ => return Err(bad("exit N, signal N [core] or other WORD")),
                });
            }
            "exit-code" => match words.as_slice() {
                [code] if report.exit_code.is_none() => {
                    report.exit_code = Some(word32(code).ok_or_else(|| bad("a 32-bit code"))?);
                }
                [_] => return Err(err(n, "a second `exit-code` record".into())),
                _ => return Err(bad("one code")),
            },
            "wasi-exit" => match words.as_slice() {
                [code] if report.wasi.is_none() => {
                    report.wasi = Some(WasiEnd::Exit {
                        code: int(code).ok_or_else(|| bad("a whole number"))?,
                    });
                }
                [_] => return Err(err(n, "a second end of the module".into())),
                _ => return Err(bad("one code")),
            },
            "trap" => match words.first() {
                Some(kind) if report.wasi.is_none() => {
                    report.wasi = Some(WasiEnd::Trap {
                        trap: Trap::from_name(kind).unwrap_or(Trap::Other),
                    });
                }
                Some(_) => return Err(err(n, "a second end of the module".into())),
                None => return Err(bad("a trap kind")),
            },
            "watchdog" => {
                let what = match words.as_slice() {
                    ["SIGTERM"] => "SIGTERM",
                    ["SIGKILL"] => "SIGKILL",
                    ["TerminateProcess"] => "TerminateProcess",
                    ["TerminateJobObject"] => "TerminateJobObject",
                    _ => {
                        return Err(bad(
                            "SIGTERM, SIGKILL, TerminateProcess or TerminateJobObject",
                        ))
                    }
                };
                report.watchdog.push(what);
            }
            "error" => {
                report.error = Some(clip(rest).to_owned());
            }
            "group" => match words.as_slice() {
                [pgid] if report.group.is_none() => {
                    report.group = Some(int(pgid).ok_or_else(|| bad("a process group id"))?);
                }
                [_] => return Err(err(n, "a second `group` record".into())),
                _ => return Err(bad("one process group id")),
            },
            "leaked" => match rest.split_once(' ') {
                Some((pid, name)) if int::<u32>(pid).is_some() && !name.is_empty() => {
                    report
                        .leaked
                        .push(format!("process {pid} ({})", clip(name)));
                }
                _ => return Err(bad("PID NAME")),
            },
            "end" if words.is_empty() => ended = true,
            _ => return Err(err(n, format!("unknown record `{}`", clip(record)))),
        }
    }
    if !ended {
        return Err(err(0, "the report was cut short (no `end`)".into()));
    }
    Ok(report)
}

/// At most 200 bytes of `s`, cut at a character boundary, for messages.
fn clip(s: &str) -> &str {
    let mut end = s.len().min(200);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Which part of a report a column shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Unix: the `waitpid` status words.
    WaitPid,
    /// Unix: the `waitid` siginfo fields.
    WaitId,
    /// Unix: std's `ExitStatus`.
    Std,
    /// Windows: `GetExitCodeProcess`.
    ExitCode,
    /// WASI: the embedding's `_start` result.
    Wasi,
}

impl View {
    /// The column name.
    pub fn name(self) -> &'static str {
        match self {
            View::WaitPid => "waitpid",
            View::WaitId => "waitid",
            View::Std => "std",
            View::ExitCode | View::Wasi => AGENT,
        }
    }

    /// The views of a family's agent, in column order.
    pub fn of(family: Family) -> &'static [View] {
        match family {
            Family::Unix => &[View::WaitPid, View::WaitId, View::Std],
            Family::Windows => &[View::ExitCode],
            Family::Wasi => &[View::Wasi],
        }
    }
}

/// The states `view` shows of `report`, decoded with the target's
/// conventions. Never fails: a part the report lacks is an error message.
pub fn states(
    report: &AgentReport,
    view: View,
    wait: &WaitConventions,
) -> Result<Vec<Observed>, String> {
    let states: Vec<Observed> = match view {
        View::WaitPid => report
            .waitpid
            .iter()
            .map(|&status| Observed {
                raw: RawStatus::WaitStatus { status },
                change: decode::decode_wait_status(status, wait),
            })
            .collect(),
        View::WaitId => report
            .waitid
            .iter()
            .map(|&(code, status, _)| Observed {
                raw: RawStatus::SigInfo { code, status },
                change: decode::decode_siginfo(code, status),
            })
            .collect(),
        View::Std => {
            let raw = RawStatus::WaitStatus {
                status: report.waitpid.last().copied().unwrap_or(0),
            };
            match report.std {
                Some(StdView::Exit { code }) => vec![Observed {
                    raw,
                    change: StateChange::Exited {
                        code: i64::from(code),
                    },
                }],
                Some(StdView::Signal { signal, core }) => vec![Observed {
                    raw,
                    change: StateChange::Signaled {
                        signal: Signal(signal),
                        core_dumped: core,
                    },
                }],
                Some(StdView::Other { status }) => vec![Observed {
                    raw: RawStatus::WaitStatus { status },
                    change: StateChange::Unrecognised {
                        raw: RawStatus::WaitStatus { status },
                    },
                }],
                None => Vec::new(),
            }
        }
        View::ExitCode => report
            .exit_code
            .iter()
            .map(|&code| Observed {
                raw: RawStatus::ExitCode { code },
                change: decode::decode_windows_exit_code(code),
            })
            .collect(),
        View::Wasi => report
            .wasi
            .iter()
            .map(|end| {
                let raw = match *end {
                    WasiEnd::Exit { code } => RawStatus::WasiExit { code },
                    WasiEnd::Trap { trap } => RawStatus::Trap { trap },
                };
                Observed {
                    raw,
                    change: decode::decode_wasi(raw),
                }
            })
            .collect(),
    };
    if let Some(error) = &report.error {
        return Err(format!("the agent could not run the probe: {error}"));
    }
    if states.is_empty() {
        return Err(format!(
            "the agent's report has no `{}` record",
            view.name()
        ));
    }
    Ok(states)
}

/// Converts a host path into the form the target's programs take: `Z:\...`
/// for Wine, whose `Z:` drive is the Unix root.
pub fn target_path(family: Family, path: &Path) -> String {
    let text = path.display().to_string();
    match family {
        Family::Windows if text.starts_with('/') => format!("Z:{}", text.replace('/', "\\")),
        _ => text,
    }
}

/// How long the host waits past a case's own timeout and grace before it
/// ends the agent itself: an emulator needs time to start, and the agent
/// runs its own watchdog within the case's limits.
pub const BACKSTOP: Duration = Duration::from_secs(20);

/// One finished agent run, shared by the columns it serves.
#[derive(Clone, Debug)]
struct AgentRun {
    command: String,
    report: AgentReport,
    leftovers: Leftovers,
    /// What left the agent's process group (under Wine: Wine's own
    /// servers, if the run started them).
    leaked: Vec<String>,
}

type Slot = Arc<OnceLock<Result<AgentRun, String>>>;

/// A run is shared by the columns that ask for the same command line with
/// the same core setting.
type RunKey = (Vec<OsString>, bool);

/// What every agent column of a target shares: how to start the agent and
/// the runs in flight.
#[derive(Debug)]
pub struct AgentContext {
    family: Family,
    /// The runner words, then the agent (or the WASI script) and its
    /// options up to the probe: everything before the probe's own words.
    prefix: Vec<OsString>,
    /// What the agent puts before the probe (Unix: the runner words, since
    /// the host kernel cannot execute a foreign binary itself).
    probe_runner: Vec<String>,
    /// The target's SIGTERM, SIGKILL and SIGCONT.
    signals: (i32, i32, i32),
    /// Runs in flight, and how many columns have yet to take each.
    runs: Mutex<HashMap<RunKey, (Slot, usize)>>,
    /// What carries out the cases instead of a local agent process
    /// (`--remote`, an offline kit).
    backend: Option<Arc<dyn CaseRunner>>,
}

/// Carries out a case somewhere other than a local agent process: on a
/// remote agent ([`crate::engine::remote`]) or from an offline kit's
/// results ([`crate::engine::kit`]). It gives what a local agent run
/// gives: the command line for the report, the agent's report and the
/// probe's leftovers; an error makes the cell "not observed".
pub trait CaseRunner: fmt::Debug + Send + Sync {
    /// Carries out `case`; `signals` are the target's SIGTERM, SIGKILL and
    /// SIGCONT.
    fn run_case(
        &self,
        case: &Case<'_>,
        signals: (i32, i32, i32),
    ) -> Result<(String, AgentReport, Leftovers), String>;

    /// The first failure that affects more than one case (a lost
    /// connection), for the command's one line.
    fn failure(&self) -> Option<String> {
        None
    }

    /// For an agent server on this machine: the directory its cases run
    /// in, so that the host sweeps what a probe left in its group
    /// (`None`: the cases run elsewhere, the host cannot see them).
    fn local_dir(&self) -> Option<PathBuf> {
        None
    }
}

impl AgentContext {
    /// A context for `family`. `runner` are the runner's words; `agent` the
    /// agent binary (for WASI, `None`: the runner script reports itself);
    /// `table` the target's signal table.
    pub fn new(
        family: Family,
        runner: &[String],
        agent: Option<&Path>,
        table: &SignalTable,
    ) -> AgentContext {
        let mut prefix: Vec<OsString> = runner.iter().map(OsString::from).collect();
        if let Some(agent) = agent {
            prefix.push(agent.as_os_str().to_owned());
        }
        let probe_runner = match family {
            Family::Unix => runner.to_vec(),
            _ => Vec::new(),
        };
        let number = |name: &str, fallback: i32| table.number(name).map_or(fallback, |s| s.0);
        AgentContext {
            family,
            prefix,
            probe_runner,
            signals: (
                number("SIGTERM", 15),
                number("SIGKILL", 9),
                number("SIGCONT", 18),
            ),
            runs: Mutex::new(HashMap::new()),
            backend: None,
        }
    }

    /// A context whose cases `backend` carries out.
    pub fn with_backend(
        family: Family,
        backend: Arc<dyn CaseRunner>,
        table: &SignalTable,
    ) -> AgentContext {
        AgentContext {
            backend: Some(backend),
            ..AgentContext::new(family, &[], None, table)
        }
    }

    /// The target's SIGTERM, SIGKILL and SIGCONT numbers.
    pub fn signals(&self) -> (i32, i32, i32) {
        self.signals
    }

    /// The observers of this context, one per view, in column order.
    pub fn observers(self: &Arc<Self>) -> Vec<Box<dyn Observer>> {
        View::of(self.family)
            .iter()
            .map(|&view| {
                Box::new(AgentObserver {
                    view,
                    context: Arc::clone(self),
                }) as Box<dyn Observer>
            })
            .collect()
    }

    fn invocation(&self, case: &Case<'_>) -> Invocation {
        let inv = case.invocation;
        let mut args: Vec<String> = Vec::new();
        args.extend(["--report".to_owned(), REPORT_FILE.to_owned()]);
        if self.family != Family::Wasi {
            let (term, kill, cont) = self.signals;
            args.extend([
                "--timeout-ms".to_owned(),
                case.timeout.as_millis().to_string(),
                "--grace-ms".to_owned(),
                case.grace.as_millis().to_string(),
                "--sigterm".to_owned(),
                term.to_string(),
                "--sigkill".to_owned(),
                kill.to_string(),
                "--sigcont".to_owned(),
                cont.to_string(),
            ]);
            if !case.continue_stops {
                args.push("--stay-stopped".to_owned());
            }
            args.push("--".to_owned());
            args.extend(self.probe_runner.iter().cloned());
        }
        args.push(target_path(self.family, &inv.program));
        args.extend(inv.args.iter().cloned());
        let (program, runner) = match self.prefix.split_last() {
            Some((program, runner)) => (PathBuf::from(program), runner.to_vec()),
            None => (PathBuf::new(), Vec::new()),
        };
        Invocation {
            runner,
            program,
            args,
        }
    }

    /// Runs the agent for `case` once, however many columns ask.
    fn run(&self, case: &Case<'_>) -> Result<AgentRun, String> {
        let key = (case.invocation.argv(), case.core);
        let slot = {
            let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            let views = View::of(self.family).len();
            let entry = runs
                .entry(key.clone())
                .or_insert_with(|| (Arc::new(OnceLock::new()), views));
            entry.1 -= 1;
            let slot = Arc::clone(&entry.0);
            if entry.1 == 0 {
                runs.remove(&key);
            }
            slot
        };
        slot.get_or_init(|| self.run_once(case)).clone()
    }

    fn run_once(&self, case: &Case<'_>) -> Result<AgentRun, String> {
        if let Some(backend) = &self.backend {
            let (command, report, leftovers) = backend.run_case(case, self.signals)?;
            // What a probe leaves behind on a remote device is the device
            // agent's to end (it reports it); a server on this machine
            // leaves the probe's group to the harness if it cannot adopt.
            let mut leaked = report.leaked.clone();
            let group = report.group.and_then(|g| os::pid_from_raw(i64::from(g)));
            if let (Some(dir), Some(group)) = (backend.local_dir(), group) {
                leaked.extend(
                    orphans::sweep_cell(group, &dir)
                        .iter()
                        .map(ToString::to_string),
                );
            }
            return Ok(AgentRun {
                command,
                leaked,
                report,
                leftovers,
            });
        }
        let invocation = self.invocation(case);
        let command = invocation.display();
        let mut spawned = spawn::spawn(&invocation, case.core)
            .map_err(|e| format!("cannot spawn the agent {command}: {e}"))?;
        let pgid = os::child_pid(&spawned.child);
        // The agent runs its own watchdog within the case's limits; the
        // host's only ends an agent that hangs.
        let backstop = case.timeout + case.grace + BACKSTOP;
        let mut armed =
            Some(Watchdog::global().arm(pgid, backstop, case.grace, case.interrupt.cloned()));
        let mut host_watchdog = Vec::new();
        let mut before_reap = || {
            if let Some(armed) = armed.take() {
                host_watchdog = armed.disarm();
            }
            os::signal_group(pgid, GroupSignal::Kill);
        };
        let mut control = Control {
            continue_stops: true,
            before_reap: &mut before_reap,
        };
        let reaped = WaitPid.reap(&mut spawned.child, &WaitConventions::LINUX, &mut control);
        let agent_states = match reaped {
            Ok(states) => states,
            Err(e) => {
                // Disarm before reaping, while the group id is still ours.
                drop(armed.take());
                os::signal_group(pgid, GroupSignal::Kill);
                let _ = spawned.child.wait();
                return Err(format!("waiting for the agent failed: {e}"));
            }
        };
        let mut leaked: Vec<String> = orphans::sweep_cell(pgid, spawned.dir())
            .iter()
            .map(ToString::to_string)
            .collect();
        let report_text = std::fs::read(spawned.dir().join(REPORT_FILE));
        let spawned_dir = &spawned.dir().to_owned();
        let leftovers = spawned
            .finish()
            .map_err(|e| format!("cannot collect the probe's output: {e}"))?;
        let ended = agent_states.last().map_or_else(
            || "nothing".to_owned(),
            |o| {
                o.change
                    .display(&crate::pure::signal::LINUX_GENERIC)
                    .to_string()
            },
        );
        if !host_watchdog.is_empty() {
            return Err(format!(
                "the agent outlived its backstop ({} s) and was ended by the host's watchdog ({}); it had ended with {ended}",
                backstop.as_secs(),
                host_watchdog.join(", ")
            ));
        }
        let text = match report_text {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => {
                let stderr = String::from_utf8_lossy(&leftovers.stderr);
                return Err(format!(
                    "the agent wrote no report (it ended with {ended}); stderr: {}",
                    clip(stderr.trim())
                ));
            }
        };
        let report = parse(&text).map_err(|e| e.to_string())?;
        // What the agent found outside the probe's group, in the target.
        leaked.extend(report.leaked.iter().cloned());
        // The agent ran on this machine: what is left of the probe's own
        // group went to the harness if the agent could not adopt it.
        if let Some(group) = report.group.and_then(|g| os::pid_from_raw(i64::from(g))) {
            leaked.extend(
                orphans::sweep_cell(group, spawned_dir)
                    .iter()
                    .map(ToString::to_string),
            );
        }
        Ok(AgentRun {
            command,
            report,
            leftovers,
            leaked,
        })
    }
}

/// One column of an agent run: a view of the report.
#[derive(Debug)]
pub struct AgentObserver {
    view: View,
    context: Arc<AgentContext>,
}

impl Observer for AgentObserver {
    fn name(&self) -> &str {
        self.view.name()
    }

    fn observe(&self, case: &Case<'_>) -> Result<Observation, String> {
        let run = self.context.run(case)?;
        let states = states(&run.report, self.view, case.wait)?;
        Ok(Observation {
            command: run.command,
            states,
            leftovers: run.leftovers,
            watchdog: run.report.watchdog.clone(),
            leaked: run.leaked,
            ..Observation::default()
        })
    }
}

/// What the Linux host sees of the runner: the probe is started through the
/// runner by the harness and reaped with `waitpid`, and the status is
/// decoded with the *host's* conventions (a qemu-mips process stopped by
/// SIGSTOP is stopped by the host's SIGSTOP, 19, not MIPS's 23).
#[derive(Debug)]
pub struct HostViaRunner {
    runner: Vec<OsString>,
}

impl HostViaRunner {
    /// The column for `runner`'s words.
    pub fn new(runner: &[String]) -> HostViaRunner {
        HostViaRunner {
            runner: runner.iter().map(OsString::from).collect(),
        }
    }

    /// The host's signal table: the statuses this column reads are the
    /// host kernel's.
    pub fn signals() -> &'static SignalTable {
        &crate::pure::signal::LINUX_GENERIC
    }
}

impl Observer for HostViaRunner {
    fn name(&self) -> &str {
        HOST_VIA_RUNNER
    }

    fn observe(&self, case: &Case<'_>) -> Result<Observation, String> {
        // The program as cargo would pass it to the runner: a host path.
        let invocation = Invocation {
            runner: self.runner.clone(),
            program: case.invocation.program.clone(),
            args: case.invocation.args.clone(),
        };
        let host = Case {
            invocation: &invocation,
            wait: &WaitConventions::LINUX,
            ..*case
        };
        Direct(WaitPid).observe(&host)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
