//! The watchdog: every case has a deadline, and a probe that outlives it is
//! stopped, gently then firmly, with its whole process group.
//!
//! One thread watches every running case. When a case's deadline passes it
//! sends SIGTERM to the case's process group, waits a grace period, then
//! sends SIGKILL. The reaper blocked on that child then returns with the
//! ending the signals caused, and the cell reports which signals it took.
//!
//! The pid-reuse hazard is closed by the order of operations: a case is
//! disarmed while its leader is still unreaped (a zombie keeps its pid, and a
//! pid that names a process group is not reused while the group lives), so
//! the watchdog can never signal a recycled pid. The types hold callers to
//! it: [`Watchdog::arm`] returns an [`Armed`] guard that must be used, and
//! dropping the guard disarms, so an early return or a `?` between arming
//! and reaping cannot leave a deadline behind. A caller that reaps on an
//! error path disarms first ([`Armed::disarm`], or dropping the guard).
//!
//! The watchdog thread is woken only when a new deadline comes before the
//! time it already means to wake at (at most 50 ms away): a case armed
//! with the usual seconds-long timeout costs a lock and a push, not a
//! wake-up of another thread on the core the probe needs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::os::{self, GroupSignal, Pid};

/// The signals the watchdog sent to a case, in order.
pub type Sent = Vec<&'static str>;

#[derive(Debug)]
struct Entry {
    id: u64,
    pgid: Pid,
    deadline: Instant,
    grace: Duration,
    sent: Sent,
    /// The run's interrupt flag: once non-zero, the group is killed at once.
    interrupt: Option<Arc<AtomicUsize>>,
}

impl Entry {
    fn interrupted(&self) -> bool {
        self.interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::SeqCst) != 0)
    }

    fn kill(&mut self) {
        let kill = GroupSignal::Kill;
        if self.sent.last() != Some(&kill.name()) {
            os::signal_group(self.pgid, kill);
            self.sent.push(kill.name());
        }
    }
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    entries: Vec<Entry>,
    /// When the watchdog thread, now waiting, wakes up by itself; `None`
    /// while it is not waiting (it then looks at every entry before it
    /// waits again).
    wakes_at: Option<Instant>,
}

/// Whether a case whose deadline is `deadline` must wake a watchdog that
/// will wake by itself at `wakes_at` (`None`: it is not waiting, and will
/// see the new entry before it waits). Waking it late is never right;
/// waking it early only costs a wake-up.
#[doc(hidden)]
pub fn must_wake(wakes_at: Option<Instant>, deadline: Instant) -> bool {
    wakes_at.is_some_and(|at| deadline < at)
}

/// The process-wide watchdog.
#[derive(Debug)]
pub struct Watchdog {
    state: Mutex<State>,
    wake: Condvar,
}

/// How often the watchdog looks at the interrupt flag while nothing is due.
const POLL: Duration = Duration::from_millis(50);

impl Watchdog {
    /// The one watchdog, started on first use.
    pub fn global() -> &'static Watchdog {
        static WATCHDOG: OnceLock<&'static Watchdog> = OnceLock::new();
        WATCHDOG.get_or_init(|| {
            let dog: &'static Watchdog = Box::leak(Box::new(Watchdog {
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
            }));
            std::thread::Builder::new()
                .name("exitmatrix-watchdog".into())
                .spawn(move || dog.run())
                .expect("the watchdog thread starts");
            dog
        })
    }

    /// Starts watching process group `pgid`, which must be the group of an
    /// unreaped child of this process. Once `interrupt` (the run's flag:
    /// the number of the signal that interrupted it) is non-zero, the group
    /// is killed within [`POLL`].
    #[must_use = "dropping the guard disarms at once; keep it until the probe has ended"]
    pub fn arm(
        &'static self,
        pgid: Pid,
        timeout: Duration,
        grace: Duration,
        interrupt: Option<Arc<AtomicUsize>>,
    ) -> Armed {
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id += 1;
        let mut entry = Entry {
            id,
            pgid,
            deadline: Instant::now() + timeout,
            grace,
            sent: Vec::new(),
            interrupt,
        };
        if entry.interrupted() {
            entry.kill();
        }
        let wake = must_wake(state.wakes_at, entry.deadline);
        state.entries.push(entry);
        drop(state);
        if wake {
            self.wake.notify_one();
        }
        Armed {
            dog: self,
            id,
            live: true,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the list is still
        // consistent (every mutation is a single push or remove).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether process group `pgid` is being watched now.
    #[doc(hidden)]
    pub fn watches(&self, pgid: Pid) -> bool {
        self.lock().entries.iter().any(|e| e.pgid == pgid)
    }

    fn remove(&self, id: u64) -> Sent {
        let mut state = self.lock();
        let pos = state.entries.iter().position(|e| e.id == id);
        pos.map(|i| state.entries.swap_remove(i).sent)
            .unwrap_or_default()
    }

    fn run(&self) {
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            let mut next = now + POLL;
            for e in &mut state.entries {
                if e.interrupted() {
                    e.kill();
                } else if e.deadline <= now {
                    if e.sent.is_empty() {
                        os::signal_group(e.pgid, GroupSignal::Terminate);
                        e.sent.push(GroupSignal::Terminate.name());
                    } else {
                        e.kill();
                    }
                    // After SIGKILL there is nothing more to send; the entry
                    // stays until its case disarms it.
                    e.deadline = now + e.grace;
                }
                next = next.min(e.deadline);
            }
            let wait = next.saturating_duration_since(Instant::now());
            state.wakes_at = Some(next);
            state = self
                .wake
                .wait_timeout(state, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            state.wakes_at = None;
        }
    }
}

/// A watched case: the guard [`Watchdog::arm`] returns. Disarm it once the
/// leader has ended but before reaping it, with [`Armed::disarm`] (which
/// tells what the watchdog sent) or by dropping it.
#[derive(Debug)]
#[must_use = "dropping the guard disarms at once; keep it until the probe has ended"]
pub struct Armed {
    dog: &'static Watchdog,
    id: u64,
    /// Cleared by [`Armed::disarm`], so that `Drop` does nothing twice.
    live: bool,
}

impl Armed {
    /// Stops watching and returns the signals the watchdog sent.
    pub fn disarm(mut self) -> Sent {
        self.live = false;
        self.dog.remove(self.id)
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        if self.live {
            self.dog.remove(self.id);
        }
    }
}
