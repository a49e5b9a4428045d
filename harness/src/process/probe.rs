//! A probe started for a direct reaper: by the fast path where the OS has
//! one (Linux's `clone(CLONE_VM | CLONE_VFORK)`), else through std's
//! `Command`.

use std::io;

use crate::process::reap::Reapable;
use crate::process::spawn::{Invocation, Leftovers};

/// A probe started for a direct reaper.
#[derive(Debug)]
pub enum Probe {
    /// Started through std's `Command` ([`crate::process::spawn::spawn`]).
    Std(crate::process::spawn::Spawned),
    /// Started by the fast path ([`crate::process::fastspawn::spawn`]).
    #[cfg(target_os = "linux")]
    Fast(crate::process::fastspawn::FastSpawned),
}

impl Probe {
    /// Starts `invocation` through std's `Command` if `std_child`, else by
    /// the fast path where there is one.
    pub fn spawn(std_child: bool, invocation: &Invocation, core: bool) -> io::Result<Probe> {
        #[cfg(target_os = "linux")]
        if !std_child {
            return crate::process::fastspawn::spawn(invocation, core).map(Probe::Fast);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = std_child;
        crate::process::spawn::spawn(invocation, core).map(Probe::Std)
    }

    /// The child, for a reaper.
    pub fn child(&mut self) -> &mut dyn Reapable {
        match self {
            Probe::Std(spawned) => &mut spawned.child,
            #[cfg(target_os = "linux")]
            Probe::Fast(spawned) => spawned,
        }
    }

    /// The directory the probe runs in.
    pub fn dir(&self) -> &std::path::Path {
        match self {
            Probe::Std(spawned) => spawned.dir(),
            #[cfg(target_os = "linux")]
            Probe::Fast(spawned) => spawned.dir(),
        }
    }

    /// The output and core files; call once the probe has been reaped.
    pub fn finish(self) -> io::Result<Leftovers> {
        match self {
            Probe::Std(spawned) => spawned.finish(),
            #[cfg(target_os = "linux")]
            Probe::Fast(spawned) => spawned.finish(),
        }
    }
}
