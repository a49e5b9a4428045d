//! Interleaved runs, percentiles, and the JSON files `cargo xtask
//! bench-report` reads.
//!
//! Criterion measures one method after another, so a machine whose load
//! drifts (a shared VM) shifts whole methods against each other. An
//! interleaved run takes one sample of each method in turn, round after
//! round, so drift hits all methods alike: its ratios are the ones to
//! compare. Both are written; the report shows both.
//!
//! Files, under `<target>/criterion/exitmatrix/`:
//! - `<group>.json`: a [`GroupSummary`];
//! - `run.json`: a [`RunInfo`] (when, on what machine, with what command).

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// One way of doing the thing a group measures.
pub struct Method<'a> {
    /// Its name in criterion's results and in the report.
    pub name: &'static str,
    /// Does it once and returns what is measured (a round trip's wall time,
    /// a reap's latency).
    pub once: Box<dyn FnMut() -> Duration + 'a>,
}

impl std::fmt::Debug for Method<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Method").field("name", &self.name).finish()
    }
}

impl<'a> Method<'a> {
    /// A named method.
    pub fn new(name: &'static str, once: impl FnMut() -> Duration + 'a) -> Method<'a> {
        Method {
            name,
            once: Box::new(once),
        }
    }
}

/// Runs every method once per round, `rounds` times, in a new random order
/// each round (a method's cost can depend on what ran just before it: a
/// fork leaves copy-on-write pages behind, a directory removal leaves the
/// journal busy); `warm_up` rounds first are discarded. Returns each
/// method's samples in nanoseconds.
pub fn interleave(methods: &mut [Method<'_>], warm_up: usize, rounds: usize) -> Vec<Vec<f64>> {
    let n = methods.len();
    let mut samples = vec![Vec::with_capacity(rounds); n];
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for round in 0..warm_up + rounds {
        // Fisher–Yates.
        for i in (1..n).rev() {
            order.swap(i, rng.below(i + 1));
        }
        for &i in &order {
            let took = (methods[i].once)();
            if round >= warm_up {
                samples[i].push(took.as_secs_f64() * 1e9);
            }
        }
    }
    samples
}

/// Marsaglia's xorshift64: enough to shuffle, and reproducible.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).expect("below n")
    }
}

/// The value below which `p` (0..=1) of the sorted samples lie (nearest
/// rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One method's interleaved samples, summarised (nanoseconds).
#[derive(Clone, Debug, Serialize)]
pub struct MethodSummary {
    /// The method.
    pub name: String,
    /// How many samples.
    pub samples: usize,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Mean.
    pub mean: f64,
    /// Smallest.
    pub min: f64,
}

impl MethodSummary {
    /// Summarises `samples` (nanoseconds).
    pub fn of(name: &str, samples: &[f64]) -> MethodSummary {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        MethodSummary {
            name: name.to_owned(),
            samples: sorted.len(),
            p50: percentile(&sorted, 0.50),
            p99: percentile(&sorted, 0.99),
            mean: sorted.iter().sum::<f64>() / sorted.len().max(1) as f64,
            min: sorted.first().copied().unwrap_or(f64::NAN),
        }
    }
}

/// A group's interleaved run.
#[derive(Clone, Debug, Serialize)]
pub struct GroupSummary {
    /// Criterion's group name (`round-trip`, `reap-latency`, `probe-startup`).
    pub group: String,
    /// What one sample is, in words.
    pub measures: String,
    /// Rounds kept (each method sampled once per round).
    pub rounds: usize,
    /// The methods, in bench order.
    pub methods: Vec<MethodSummary>,
}

/// When and where the benches ran.
#[derive(Clone, Debug, Serialize)]
pub struct RunInfo {
    /// Seconds since the Unix epoch, at the end of the run.
    pub unix_time: u64,
    /// `uname -sr`.
    pub kernel: String,
    /// The CPU's model name.
    pub cpu: String,
    /// Logical CPUs available.
    pub cpus: usize,
    /// The command that ran the benches.
    pub command: String,
}

impl RunInfo {
    /// This machine, now.
    pub fn now() -> RunInfo {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpu = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown CPU".to_owned(), |(_, m)| m.trim().to_owned());
        RunInfo {
            unix_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            kernel: format!(
                "{} {}",
                read("/proc/sys/kernel/ostype").trim(),
                read("/proc/sys/kernel/osrelease").trim()
            ),
            cpu,
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            command: "cargo bench -p exitmatrix-benches".to_owned(),
        }
    }
}

/// `<target>/criterion/exitmatrix`, where criterion writes too.
pub fn output_dir() -> PathBuf {
    crate::children::target_dir()
        .join("criterion")
        .join("exitmatrix")
}

/// Writes `value` as `<output_dir>/<name>.json`.
pub fn write_json(name: &str, value: &impl Serialize) -> io::Result<PathBuf> {
    let dir = output_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.json"));
    let json = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    std::fs::write(&path, json + "\n")?;
    Ok(path)
}
