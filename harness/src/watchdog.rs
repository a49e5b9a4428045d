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
//! the watchdog can never signal a recycled pid.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The signals the watchdog sent to a case, in order.
pub type Sent = Vec<&'static str>;

#[derive(Debug)]
struct Entry {
    id: u64,
    pgid: libc::pid_t,
    deadline: Instant,
    grace: Duration,
    sent: Sent,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    entries: Vec<Entry>,
    /// Set once an interrupt was seen: every group is killed at once and
    /// every new case is killed as soon as it is armed.
    killing_all: bool,
}

/// The process-wide watchdog.
#[derive(Debug)]
pub struct Watchdog {
    state: Mutex<State>,
    wake: Condvar,
    interrupt: OnceLock<Arc<AtomicBool>>,
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
                interrupt: OnceLock::new(),
            }));
            std::thread::Builder::new()
                .name("exitmatrix-watchdog".into())
                .spawn(move || dog.run())
                .expect("the watchdog thread starts");
            dog
        })
    }

    /// Makes the watchdog kill every watched group (and every one armed
    /// later) once `flag` becomes true. Only the first call has an effect.
    pub fn kill_all_on(&self, flag: Arc<AtomicBool>) {
        let _ = self.interrupt.set(flag);
    }

    /// Starts watching process group `pgid`, which must be the group of an
    /// unreaped child of this process.
    pub fn arm(&'static self, pgid: libc::pid_t, timeout: Duration, grace: Duration) -> Armed {
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id += 1;
        let mut entry = Entry {
            id,
            pgid,
            deadline: Instant::now() + timeout,
            grace,
            sent: Vec::new(),
        };
        if state.killing_all {
            signal_group(pgid, libc::SIGKILL);
            entry.sent.push("SIGKILL");
        }
        state.entries.push(entry);
        drop(state);
        self.wake.notify_one();
        Armed { dog: self, id }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the list is still
        // consistent (every mutation is a single push or remove).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run(&self) {
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            let interrupted = self
                .interrupt
                .get()
                .is_some_and(|f| f.load(Ordering::SeqCst));
            if interrupted && !state.killing_all {
                state.killing_all = true;
                for e in &mut state.entries {
                    signal_group(e.pgid, libc::SIGKILL);
                    e.sent.push("SIGKILL");
                }
            }
            let mut next = now + POLL;
            for e in &mut state.entries {
                if e.deadline <= now {
                    let sig = if e.sent.is_empty() {
                        libc::SIGTERM
                    } else {
                        libc::SIGKILL
                    };
                    if e.sent.last() != Some(&"SIGKILL") {
                        signal_group(e.pgid, sig);
                        e.sent.push(if sig == libc::SIGTERM {
                            "SIGTERM"
                        } else {
                            "SIGKILL"
                        });
                    }
                    // After SIGKILL there is nothing more to send; look again
                    // only at the poll interval.
                    e.deadline = now + e.grace;
                }
                next = next.min(e.deadline);
            }
            let wait = next.saturating_duration_since(Instant::now());
            state = self
                .wake
                .wait_timeout(state, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// A watched case; [`Armed::disarm`] it once its leader has ended but
/// before reaping it.
#[derive(Debug)]
pub struct Armed {
    dog: &'static Watchdog,
    id: u64,
}

impl Armed {
    /// Stops watching and returns the signals the watchdog sent.
    pub fn disarm(self) -> Sent {
        let mut state = self.dog.lock();
        let pos = state.entries.iter().position(|e| e.id == self.id);
        pos.map(|i| state.entries.swap_remove(i).sent)
            .unwrap_or_default()
    }
}

/// `kill(-pgid, sig)`: signals every process of the group.
pub fn signal_group(pgid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: kill(2) with a negative pid signals a process group and has no
    // memory effects; ESRCH (the group is gone) is fine.
    unsafe { libc::kill(-pgid, sig) };
}
