//! `cargo bench`: spawn + reap round trips, reap latency and probe start-up.
//!
//! Each group runs twice: criterion measures each method on its own (its
//! results are under `target/criterion/<group>/<method>/`), then an
//! interleaved run samples every method in turn and writes percentiles to
//! `target/criterion/exitmatrix/<group>.json`. `cargo xtask bench-report`
//! turns both into ratio tables.
//!
//! Groups (pass a group name to run only that one: `cargo bench -- reap`):
//! - `round-trip`: start the no-libc probe, let it exit, reap it; per method.
//! - `reap-latency`: from the child's last instruction (a time stamp in
//!   shared memory) to the parent having reaped it; per way of waiting.
//! - `probe-startup`: the same spawn and reap of different programs: how
//!   much of a matrix cell is the probe's own start.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use exitmatrix::observers::observe::{self, Case, Direct, Observer};
use exitmatrix::os::{signal_group, GroupSignal};
use exitmatrix::process::fastspawn;
use exitmatrix::process::reap::{Control, Observed, Reapable, Reaper, StdWait, WaitId};
use exitmatrix::process::spawn::{self, Invocation};
use exitmatrix::pure::decode::{StateChange, WaitConventions};
use exitmatrix_benches::children::{self, path};
use exitmatrix_benches::reap::{self, now_ns, Epoll, Sigchld, StampPage};
use exitmatrix_benches::spawn::{self as methods, Program, Vfork};
use exitmatrix_benches::stats::{self, GroupSummary, Method, MethodSummary, RunInfo};

/// What the command line asked for.
#[derive(Debug)]
struct Mode {
    /// A real benchmark run (`cargo bench`), not `cargo test --benches`.
    measuring: bool,
    /// Criterion's filter, if any: groups whose name does not contain it
    /// skip their interleaved run.
    filter: Option<String>,
}

impl Mode {
    fn from_args() -> Mode {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let has = |flag: &str| args.iter().any(|a| a == flag);
        Mode {
            measuring: has("--bench") && !has("--test") && !has("--list") && !has("--profile-time"),
            filter: args.iter().find(|a| !a.starts_with('-')).cloned(),
        }
    }

    fn interleaves(&self, group: &str) -> bool {
        self.measuring && self.filter.as_deref().is_none_or(|f| group.contains(f))
    }
}

fn ok<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Asserts a wait status says "exited 0".
fn exited_0(what: &str, status: libc::c_int) {
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{what}: child ended with status {status:#x}"
    );
}

/// Asserts the last state a reaper saw is "exited 0".
fn exited_0_states(what: &str, states: &[Observed]) {
    assert_eq!(
        states.last().map(|o| o.change),
        Some(StateChange::Exited { code: 0 }),
        "{what}: {states:?}"
    );
}

/// A matrix cell's case for `invocation`, with the run's default limits.
fn case(invocation: &Invocation) -> Case<'_> {
    let limits = exitmatrix::engine::matrix::Limits::default();
    Case {
        invocation,
        core: false,
        wait: &WaitConventions::LINUX,
        timeout: limits.timeout,
        grace: limits.grace,
        continue_stops: true,
        interrupt: None,
    }
}

/// `reaper` as `observe::reap_watched` runs it, without the watchdog: the
/// group is killed before the reap.
fn reap_unwatched(reaper: &dyn Reaper, child: &mut dyn Reapable) -> std::io::Result<Vec<Observed>> {
    let pgid = child.pid();
    let mut before_reap = || signal_group(pgid, GroupSignal::Kill);
    let mut control = Control {
        continue_stops: true,
        before_reap: &mut before_reap,
    };
    reaper.reap(child, &WaitConventions::LINUX, &mut control)
}

/// Runs `methods` under criterion in `group`, then interleaved.
fn run_group(
    c: &mut Criterion,
    mode: &Mode,
    name: &str,
    measures: &str,
    mut methods: Vec<Method<'_>>,
    configure: impl FnOnce(&mut BenchmarkGroup<'_, criterion::measurement::WallTime>),
    rounds: usize,
) {
    let mut group = c.benchmark_group(name);
    group.sampling_mode(SamplingMode::Flat);
    configure(&mut group);
    for method in &mut methods {
        group.bench_function(method.name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| black_box((method.once)())).sum());
        });
    }
    group.finish();
    if !mode.interleaves(name) {
        return;
    }
    let samples = stats::interleave(&mut methods, rounds / 20, rounds);
    let summary = GroupSummary {
        group: name.to_owned(),
        measures: measures.to_owned(),
        rounds,
        methods: methods
            .iter()
            .zip(&samples)
            .map(|(m, s)| MethodSummary::of(m.name, s))
            .collect(),
    };
    let path = ok("writing the summary", stats::write_json(name, &summary));
    eprintln!("{name}: interleaved, {rounds} rounds");
    let fastest = summary
        .methods
        .iter()
        .map(|m| m.p50)
        .fold(f64::INFINITY, f64::min);
    for m in &summary.methods {
        eprintln!(
            "  {:<20} p50 {:>5.2}x  p99 {:>5.2}x",
            m.name,
            m.p50 / fastest,
            m.p99 / fastest
        );
    }
    eprintln!("  (1.00x = {:.1} µs) -> {}", fastest / 1e3, path.display());
}

/// Times `f`: a round trip's wall time.
fn timed<'a>(mut f: impl FnMut() + 'a) -> impl FnMut() -> Duration + 'a {
    move || {
        let start = Instant::now();
        f();
        start.elapsed()
    }
}

/// Spawn + exit + reap of the no-libc probe, per method.
fn round_trip(c: &mut Criterion, mode: &Mode) {
    let noop = Program::new(path(children::NOOP), &[]);
    let invocation = Invocation {
        runner: Vec::new(),
        program: path(children::NOOP).to_owned(),
        args: Vec::new(),
    };
    let mut vfork = Vfork::new();
    let mut vfork_reset = Vfork::new();
    let mut vfork_pidfd = Vfork::new();
    let mut vfork_open = Vfork::new();
    let methods = vec![
        Method::new(
            "vfork-clone",
            timed(|| {
                let pid = ok("clone", vfork.spawn(&noop));
                exited_0("vfork-clone", ok("waitpid", reap::waitpid(pid)));
            }),
        ),
        Method::new(
            "vfork-reset-signals",
            timed(|| {
                // The floor plus the harness's signal reset in the child: the
                // cost of that guarantee alone.
                let pid = ok("clone", vfork_reset.spawn_reset_signals(&noop));
                exited_0("vfork-reset-signals", ok("waitpid", reap::waitpid(pid)));
            }),
        ),
        Method::new(
            "clone-pidfd",
            timed(|| {
                let (_, pidfd) = ok("clone", vfork_pidfd.spawn_pidfd(&noop));
                assert_eq!(ok("waitid", reap::waitid_pidfd(&pidfd)), 0);
            }),
        ),
        Method::new(
            "pidfd-open",
            timed(|| {
                let pid = ok("clone", vfork_open.spawn(&noop));
                let pidfd = ok("pidfd_open", methods::pidfd_open(pid));
                assert_eq!(ok("waitid", reap::waitid_pidfd(&pidfd)), 0);
            }),
        ),
        Method::new(
            "posix-spawn",
            timed(|| {
                let pid = ok("posix_spawn", methods::posix_spawn(&noop));
                exited_0("posix-spawn", ok("waitpid", reap::waitpid(pid)));
            }),
        ),
        Method::new(
            "std-command",
            timed(|| {
                let status = ok("Command::status", methods::std_status(noop.path()));
                assert!(status.success(), "std-command: {status}");
            }),
        ),
        Method::new(
            "fork-exec",
            timed(|| {
                let pid = ok("fork", methods::fork_exec(&noop));
                exited_0("fork-exec", ok("waitpid", reap::waitpid(pid)));
            }),
        ),
        Method::new(
            "harness-default",
            timed(|| {
                // A cell of the matrix's `waitid` column, as the matrix runs
                // it: the fast spawn path, the watchdog, the reaper and the
                // output.
                let seen = ok("observing", Direct(WaitId).observe(&case(&invocation)));
                exited_0_states("harness-default", &seen.states);
            }),
        ),
        Method::new(
            "harness-unwatched",
            timed(|| {
                // The same without the watchdog: what arming it costs.
                let mut spawned = ok("fastspawn", fastspawn::spawn(&invocation, false));
                let states = ok("reaping", reap_unwatched(&WaitId, &mut spawned));
                exited_0_states("harness-unwatched", &states);
                ok("finish", spawned.finish());
            }),
        ),
        Method::new(
            "harness-std",
            timed(|| {
                // The `std` column: std's Command (which forks, since
                // `pre_exec` rules out its posix_spawn path) and Child::wait.
                let seen = ok("observing", Direct(StdWait).observe(&case(&invocation)));
                exited_0_states("harness-std", &seen.states);
            }),
        ),
    ];
    run_group(
        c,
        mode,
        "round-trip",
        "wall time of spawn + exit + reap of the no-libc probe",
        methods,
        |g| {
            g.sample_size(50)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(2));
        },
        2000,
    );
}

/// From the child's exit stamp to the parent having reaped it.
fn reap_latency(c: &mut Criterion, mode: &Mode) {
    let page = ok("the stamp page", StampPage::new());
    let stamp_path = page.path();
    let stamp = Program::new(path(children::STAMP), &[&stamp_path]);
    let latency = |reaped: u64, page: &StampPage| {
        let stamped = page.read();
        assert!(stamped != 0, "the stamp child did not stamp");
        Duration::from_nanos(reaped.saturating_sub(stamped))
    };
    let epoll = ok("epoll", Epoll::new());
    let sigchld = ok("signalfd", Sigchld::new());
    let invocation = Invocation {
        runner: Vec::new(),
        program: path(children::STAMP).to_owned(),
        args: vec![stamp_path.clone()],
    };
    let mut vfork = Vfork::new();
    let vfork = std::cell::RefCell::new(&mut vfork);
    let spawn = || {
        page.clear();
        ok("clone", vfork.borrow_mut().spawn(&stamp))
    };
    let spawn_pidfd = || {
        page.clear();
        ok("clone", vfork.borrow_mut().spawn_pidfd(&stamp))
    };
    let methods = vec![
        Method::new("waitpid", || {
            let pid = spawn();
            exited_0("waitpid", ok("waitpid", reap::waitpid(pid)));
            latency(now_ns(), &page)
        }),
        Method::new("waitid", || {
            let pid = spawn();
            assert_eq!(ok("waitid", reap::waitid(pid)), 0);
            latency(now_ns(), &page)
        }),
        Method::new("pidfd-poll", || {
            let (_, pidfd) = spawn_pidfd();
            let (_, status) = ok("poll", reap::pidfd_poll(&pidfd));
            assert_eq!(status, 0);
            latency(now_ns(), &page)
        }),
        Method::new("pidfd-epoll", || {
            let (_, pidfd) = spawn_pidfd();
            let (_, status) = ok("epoll", epoll.wait(&pidfd));
            assert_eq!(status, 0);
            latency(now_ns(), &page)
        }),
        Method::new("sigchld-signalfd", || {
            sigchld.drain();
            let pid = spawn();
            let (_, status) = ok("signalfd", sigchld.wait(pid));
            exited_0("sigchld-signalfd", status);
            latency(now_ns(), &page)
        }),
        Method::new("wnohang-poll", || {
            let pid = spawn();
            exited_0("wnohang-poll", ok("waitpid", reap::wnohang_poll(pid)));
            latency(now_ns(), &page)
        }),
        Method::new("harness-default", || {
            // The fast spawn path, reaped as a matrix cell of the `waitid`
            // column reaps it (`observe::reap_watched`: the watchdog armed,
            // the peek with WNOWAIT, the watchdog disarmed and the group
            // killed, the reap).
            page.clear();
            let mut spawned = ok("fastspawn", fastspawn::spawn(&invocation, false));
            let case = case(&invocation);
            let reaped = observe::reap_watched(&WaitId, &mut spawned, &case);
            let took = latency(now_ns(), &page);
            let (states, _) = ok("reaping", reaped);
            exited_0_states("harness-default", &states);
            ok("finish", spawned.finish());
            took
        }),
        Method::new("harness-std", || {
            // The `std` column: std's Command and Child::wait. std forks, so
            // the parent wakes to copy-on-write faults.
            page.clear();
            let mut spawned = ok("spawn", spawn::spawn(&invocation, false));
            let case = case(&invocation);
            let reaped = observe::reap_watched(&StdWait, &mut spawned.child, &case);
            let took = latency(now_ns(), &page);
            let (states, _) = ok("reaping", reaped);
            exited_0_states("harness-std", &states);
            ok("finish", spawned.finish());
            took
        }),
    ];
    run_group(
        c,
        mode,
        "reap-latency",
        "child's exit stamp to the parent having reaped it",
        methods,
        |g| {
            g.sample_size(50)
                .warm_up_time(Duration::from_millis(200))
                .measurement_time(Duration::from_millis(500));
        },
        2000,
    );
}

/// The same spawn and reap (vfork-style clone + waitpid) of each probe.
fn probe_startup(c: &mut Criterion, mode: &Mode) {
    let rust = children::rust_main_unit();
    let programs = [
        ("no-libc", Program::new(path(children::NOOP), &[])),
        ("c-static", Program::new(path(children::C_STATIC), &[])),
        ("c-dynamic", Program::new(path(children::C_DYNAMIC), &[])),
        ("rust-main-unit", Program::new(&rust, &[])),
    ];
    let methods = programs
        .iter()
        .map(|&(name, ref program)| {
            let mut vfork = Vfork::new();
            Method::new(name, move || {
                let start = Instant::now();
                let pid = ok("clone", vfork.spawn(program));
                exited_0(name, ok("waitpid", reap::waitpid(pid)));
                start.elapsed()
            })
        })
        .collect();
    run_group(
        c,
        mode,
        "probe-startup",
        "wall time of spawn + run + reap of each probe",
        methods,
        |g| {
            g.sample_size(50)
                .warm_up_time(Duration::from_millis(300))
                .measurement_time(Duration::from_secs(1));
        },
        1000,
    );
}

fn main() {
    // Before criterion starts any thread: see `block_sigchld`.
    ok("blocking SIGCHLD", reap::block_sigchld());
    let mode = Mode::from_args();
    let mut c = Criterion::default().configure_from_args();
    round_trip(&mut c, &mode);
    reap_latency(&mut c, &mode);
    probe_startup(&mut c, &mode);
    c.final_summary();
    if mode.measuring {
        ok(
            "writing run.json",
            stats::write_json("run", &RunInfo::now()),
        );
    }
}
