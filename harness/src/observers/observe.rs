//! Observers: a parent's view of how a probe ended.
//!
//! An observer runs a probe the way one kind of parent would and reports
//! what it saw. The direct reapers ([`crate::process::reap`]) spawn the probe
//! themselves, wait for it by pid and report wait states. The parents
//! ([`crate::observers::shell`], [`crate::observers::python`]) run it under a shell or Python and
//! report the values that parent gives (`$?`, `returncode`): a *view*
//! ([`crate::pure::view`]). Each observer is one column of the matrix.

use std::fmt;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use crate::observers::parent::Setting;
use crate::os::{self, GroupSignal};
use crate::process::orphans;
use crate::process::probe::Probe;
use crate::process::reap::{self, Control, Observed, Reapable, Reaper};
use crate::process::spawn::{Invocation, Leftovers};
use crate::process::watchdog::{Sent, Watchdog};
use crate::pure::catalogue::Behaviour;
use crate::pure::decode::WaitConventions;
use crate::pure::observers::ObserverKind;
use crate::pure::observers::OwnCase;
use crate::pure::view::Reported;
pub use crate::report::model::ObserverInfo;

/// What an observer needs to run one case.
#[derive(Clone, Copy, Debug)]
pub struct Case<'a> {
    /// The probe and its arguments.
    pub invocation: &'a Invocation,
    /// Whether the case expects a core dump (see [`crate::process::spawn::spawn`]).
    pub core: bool,
    /// The target's wait-status layout.
    pub wait: &'a WaitConventions,
    /// How long the probe may run before the watchdog sends SIGTERM.
    pub timeout: Duration,
    /// How long after SIGTERM the watchdog sends SIGKILL.
    pub grace: Duration,
    /// Whether a stopped probe is continued (else only the watchdog ends it).
    pub continue_stops: bool,
    /// The run's interrupt flag (see [`crate::process::watchdog::Watchdog::arm`]).
    pub interrupt: Option<&'a Arc<AtomicUsize>>,
}

/// What an observer saw.
#[derive(Clone, Debug, Default)]
pub struct Observation {
    /// The command line that ran, as the observer ran it.
    pub command: String,
    /// The states seen, the final one last.
    pub states: Vec<Observed>,
    /// The probe's output and core files.
    pub leftovers: Leftovers,
    /// The signals the watchdog had to send to the probe's process group
    /// (empty if it ended within its timeout).
    pub watchdog: Sent,
    /// What a view reported instead of wait states (`None` for a direct
    /// reaper, whose `states` say it all).
    pub reported: Option<Vec<Reported>>,
    /// What else a reader should know about how the case was observed.
    pub notes: Vec<String>,
    /// Processes that left the probe's process group, ended by the harness
    /// after the case (see [`crate::process::orphans`]).
    pub leaked: Vec<String>,
}

/// A parent's view of a probe's ending.
pub trait Observer: fmt::Debug + Send + Sync {
    /// The column name, as profiles and the command line use it.
    fn name(&self) -> &str;

    /// Runs the case and reports what this observer saw. An error is an
    /// infrastructure failure (the observer could not see anything): a
    /// lowercase fragment.
    fn observe(&self, case: &Case<'_>) -> Result<Observation, String>;

    /// Whether the observer can run on this machine. `Err` says what is
    /// missing (`not installed: no executable `zsh` in ...`); its cells are
    /// then "not installed", never a pass.
    fn available(&self) -> Result<(), String> {
        Ok(())
    }

    /// Whether this observer runs `behaviour` at all (the parents leave the
    /// hostile probes, which test the watchdog, to the reapers).
    fn runs(&self, _behaviour: &Behaviour) -> bool {
        true
    }

    /// What the report says about this observer.
    fn info(&self) -> ObserverInfo {
        ObserverInfo {
            name: self.name().to_owned(),
            kind: ObserverKind::Reaper,
            program: None,
            installed: self.available().is_ok(),
            how: String::new(),
        }
    }

    /// Rows of this observer's own, which no probe carries out (a shell's
    /// "command not found").
    fn own_cases(&self) -> Vec<OwnCase> {
        Vec::new()
    }

    /// Runs one of [`Observer::own_cases`].
    fn observe_own(&self, case: &OwnCase, _setting: &Setting<'_>) -> Result<Observation, String> {
        Err(format!("{} has no case `{}`", self.name(), case.name))
    }
}

/// A direct reaper as an observer: the harness spawns the probe itself and
/// waits for it by pid with the reaper.
///
/// The probe is started by [`crate::process::fastspawn`] (on Linux), unless the
/// reaper needs std's `Child` ([`Reaper::needs_std_child`]): then by
/// [`crate::process::spawn`], through std's `Command`, so that std's own spawn and
/// wait stay observable.
#[derive(Debug)]
pub struct Direct<R>(pub R);

impl<R: Reaper> Observer for Direct<R> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn info(&self) -> ObserverInfo {
        let how = match self.0.name() {
            "waitpid" => "waitpid(pid, &status, WUNTRACED | WCONTINUED), decoded by the harness",
            "waitid" => {
                "waitid(P_PID, pid, &info, WEXITED | WSTOPPED | WCONTINUED): si_code and si_status"
            }
            crate::pure::observers::GET_EXIT_CODE => {
                "WaitForSingleObject on the process handle, then GetExitCodeProcess: the 32-bit DWORD"
            }
            _ => "std::process::Child::wait, read through ExitStatus and ExitStatusExt",
        };
        ObserverInfo {
            name: self.0.name().to_owned(),
            kind: ObserverKind::Reaper,
            program: None,
            installed: true,
            how: how.to_owned(),
        }
    }

    fn own_cases(&self) -> Vec<OwnCase> {
        // std's `Command` is the one reaper whose spawn is a runtime's own
        // (its `io::Error`); the others start probes the harness's way. The
        // cases are `execve`'s errors: a Windows host has none of them.
        if self.0.name() == crate::pure::observers::REAPERS[2] && os::spawns_by_execve() {
            crate::pure::observers::SPAWN_CASES.to_vec()
        } else {
            Vec::new()
        }
    }

    fn observe_own(&self, case: &OwnCase, setting: &Setting<'_>) -> Result<Observation, String> {
        if !self.own_cases().contains(case) {
            return Err(format!("{} has no case `{}`", self.name(), case.name));
        }
        crate::observers::spawnfail::observe_std(case.name, setting)
    }

    fn observe(&self, case: &Case<'_>) -> Result<Observation, String> {
        let mut probe = Probe::spawn(self.0.needs_std_child(), case.invocation, case.core)
            .map_err(|e| format!("cannot spawn {}: {e}", case.invocation.display()))?;
        let pgid = probe.child().pid();
        // Made while the probe runs, not before it starts.
        let command = case.invocation.display();
        let reaped = reap_watched(&self.0, probe.child(), case);
        // The probe is reaped (or reaping failed and it was killed): what
        // left its group is ended before its directory goes.
        let leaked = orphans::sweep_cell(pgid, probe.dir());
        let (states, watchdog) = reaped?;
        let leftovers = probe
            .finish()
            .map_err(|e| format!("cannot collect the probe's output: {e}"))?;
        Ok(Observation {
            command,
            states,
            leftovers,
            watchdog,
            reported: None,
            notes: Vec::new(),
            leaked: leaked.iter().map(ToString::to_string).collect(),
        })
    }
}

/// Reaps a probe as a direct observer does, with the case's watchdog armed
/// for the probe's process group (the probe leads it, as both spawn paths
/// make it). Once the probe has ended, and before it is reaped (so its pid,
/// and the group id, cannot be reused), the watchdog is disarmed and
/// whatever is left of the group (a grandchild holding the output, say) is
/// killed. Returns the states and the signals the watchdog sent.
///
/// If reaping fails, the watchdog is disarmed, the group killed and the
/// probe reaped, in that order, before the error is returned: no child is
/// left behind and no deadline outlives the probe either way.
pub fn reap_watched(
    reaper: &dyn Reaper,
    child: &mut dyn Reapable,
    case: &Case<'_>,
) -> Result<(Vec<Observed>, Sent), String> {
    let pgid = child.pid();
    let mut armed =
        Some(Watchdog::global().arm(pgid, case.timeout, case.grace, case.interrupt.cloned()));
    let mut watchdog = Sent::new();
    let mut before_reap = || {
        if let Some(armed) = armed.take() {
            watchdog = armed.disarm();
        }
        os::signal_group(pgid, GroupSignal::Kill);
    };
    let mut control = Control {
        continue_stops: case.continue_stops,
        before_reap: &mut before_reap,
    };
    match reaper.reap(child, case.wait, &mut control) {
        Ok(states) => Ok((states, watchdog)),
        Err(e) => {
            // The reaper failed before the probe's end was seen: disarm
            // while the probe is still unreaped (its group id cannot have
            // been reused), then kill and reap. Errors here add nothing to
            // the first.
            drop(armed.take());
            os::signal_group(pgid, GroupSignal::Kill);
            let _ = reap::discard(child);
            Err(format!("{} failed: {e}", reaper.name()))
        }
    }
}
