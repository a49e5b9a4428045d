//! A quick loop for comparing builds of the spawn path on a busy machine:
//! `cargo run --release -p exitmatrix-benches --example phases -- [N] [Q]`.
//!
//! Each of N rounds (default 2000) runs, in turn: the floor (`vfork-clone`
//! and `waitpid`), the floor with the signal resets in the child, the floor
//! with two capture memfds made and closed by the parent after `clone`,
//! and a matrix cell of the `waitid` column (`Direct(WaitId)`, as the
//! `harness-default` bench row runs it). It prints quantile Q (default 0.5)
//! of each, in µs, and each as a ratio to the floor. Run two builds'
//! binaries one after the other, several times, and compare ratios; the
//! criterion benches (`cargo bench`) are the reference.

use std::time::{Duration, Instant};

use exitmatrix::engine::matrix::Limits;
use exitmatrix::observers::observe::{Case, Direct, Observer};
use exitmatrix::process::reap::WaitId;
use exitmatrix::process::spawn::Invocation;
use exitmatrix::pure::decode::WaitConventions;
use exitmatrix_benches::children::{self, path};
use exitmatrix_benches::reap;
use exitmatrix_benches::spawn::{Program, Vfork};

/// Creates and closes two memfds, as a spawn's capture files.
fn two_memfds() {
    for name in [c"stdout", c"stderr"] {
        // SAFETY: a valid C string; the descriptor, if any, is closed at once.
        unsafe {
            let fd = libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC);
            assert!(fd >= 0, "memfd_create failed");
            libc::close(fd);
        }
    }
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args
        .next()
        .map_or(2000, |a| a.parse().expect("N is a count"));
    let quantile: f64 = args
        .next()
        .map_or(0.5, |a| a.parse().expect("Q is a number"));
    let noop = Program::new(path(children::NOOP), &[]);
    let invocation = Invocation {
        runner: Vec::new(),
        program: path(children::NOOP).to_owned(),
        args: Vec::new(),
    };
    let limits = Limits::default();
    let case = Case {
        invocation: &invocation,
        core: false,
        wait: &WaitConventions::LINUX,
        timeout: limits.timeout,
        grace: limits.grace,
        continue_stops: true,
        interrupt: None,
    };
    let mut vfork = Vfork::new();
    let names = ["floor", "floor+resets", "floor+memfds", "harness-default"];
    let mut times: [Vec<Duration>; 4] = Default::default();
    for _ in 0..rounds {
        times[0].push(timed(|| {
            let pid = vfork.spawn(&noop).expect("clone");
            reap::waitpid(pid).expect("waitpid");
        }));
        times[1].push(timed(|| {
            let pid = vfork.spawn_reset_signals(&noop).expect("clone");
            reap::waitpid(pid).expect("waitpid");
        }));
        times[2].push(timed(|| {
            let pid = vfork.spawn(&noop).expect("clone");
            two_memfds();
            reap::waitpid(pid).expect("waitpid");
        }));
        times[3].push(timed(|| {
            Direct(WaitId).observe(&case).expect("observing");
        }));
    }
    let at = |v: &mut Vec<Duration>| {
        v.sort();
        let i = ((v.len() as f64 * quantile) as usize).min(v.len() - 1);
        v[i].as_secs_f64() * 1e6
    };
    let values: Vec<f64> = times.iter_mut().map(at).collect();
    for (name, value) in names.iter().zip(&values) {
        println!("{name:<16} {value:>7.1} µs  {:.3}", value / values[0]);
    }
}
