//! Observers: a parent's view of how a probe ended.
//!
//! An observer runs a probe the way one kind of parent would and reports
//! the states it saw. The direct reapers ([`crate::reap`]) spawn the probe
//! themselves and wait for it by pid; later observers run it under a shell,
//! Python or an in-target agent. Each observer is one column of the matrix.

use std::fmt;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use crate::decode::WaitConventions;
use crate::reap::{Control, Observed, Reaper};
use crate::spawn::{self, Invocation, Leftovers};
use crate::watchdog::{signal_group, Sent, Watchdog};

/// What an observer needs to run one case.
#[derive(Clone, Copy, Debug)]
pub struct Case<'a> {
    /// The probe and its arguments.
    pub invocation: &'a Invocation,
    /// Whether the case expects a core dump (see [`crate::spawn::spawn`]).
    pub core: bool,
    /// The target's wait-status layout.
    pub wait: &'a WaitConventions,
    /// How long the probe may run before the watchdog sends SIGTERM.
    pub timeout: Duration,
    /// How long after SIGTERM the watchdog sends SIGKILL.
    pub grace: Duration,
    /// Whether a stopped probe is continued (else only the watchdog ends it).
    pub continue_stops: bool,
    /// The run's interrupt flag (see [`crate::watchdog::Watchdog::arm`]).
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
}

/// A parent's view of a probe's ending.
pub trait Observer: fmt::Debug + Send + Sync {
    /// The column name, as profiles and the command line use it.
    fn name(&self) -> &str;

    /// Runs the case and reports what this observer saw. An error is an
    /// infrastructure failure (the observer could not see anything): a
    /// lowercase fragment.
    fn observe(&self, case: &Case<'_>) -> Result<Observation, String>;
}

/// A direct reaper as an observer: the harness spawns the probe itself and
/// waits for it by pid with the reaper.
#[derive(Debug)]
pub struct Direct<R>(pub R);

impl<R: Reaper> Observer for Direct<R> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn observe(&self, case: &Case<'_>) -> Result<Observation, String> {
        let command = case.invocation.display();
        let mut spawned = spawn::spawn(case.invocation, case.core)
            .map_err(|e| format!("cannot spawn {command}: {e}"))?;
        // The probe leads its own process group (spawn puts it there).
        let pgid = libc::pid_t::try_from(spawned.child.id()).expect("a pid fits in pid_t");
        let mut armed =
            Some(Watchdog::global().arm(pgid, case.timeout, case.grace, case.interrupt.cloned()));
        let mut watchdog = Sent::new();
        let mut before_reap = || {
            if let Some(armed) = armed.take() {
                watchdog = armed.disarm();
            }
            // Whatever the probe left in its group (a grandchild holding
            // its output, say) goes with it.
            signal_group(pgid, libc::SIGKILL);
        };
        let mut control = Control {
            continue_stops: case.continue_stops,
            before_reap: &mut before_reap,
        };
        let reaped = self.0.reap(&mut spawned.child, case.wait, &mut control);
        let states = match reaped {
            Ok(states) => states,
            Err(e) => {
                // Never leave a child behind: kill its group and reap it
                // before reporting (errors here add nothing to the first).
                signal_group(pgid, libc::SIGKILL);
                let _ = spawned.child.wait();
                return Err(format!("{} failed: {e}", self.0.name()));
            }
        };
        let leftovers = spawned
            .finish()
            .map_err(|e| format!("cannot collect the probe's output: {e}"))?;
        Ok(Observation {
            command,
            states,
            leftovers,
            watchdog,
        })
    }
}

/// The direct reapers as observers, in report order.
pub fn direct() -> Vec<Box<dyn Observer>> {
    vec![
        Box::new(Direct(crate::reap::WaitPid)),
        Box::new(Direct(crate::reap::WaitId)),
        Box::new(Direct(crate::reap::StdWait)),
    ]
}

/// Every observer name the harness knows, for checking profiles.
pub const NAMES: [&str; 3] = crate::reap::NAMES;

/// Looks an observer up by name.
pub fn by_name(name: &str) -> Option<Box<dyn Observer>> {
    direct().into_iter().find(|o| o.name() == name)
}
