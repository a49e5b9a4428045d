//! `cargo xtask bench-report`: criterion's results and the benches'
//! interleaved runs as Markdown ratio tables, and the goals of the benches
//! issue checked against them.
//!
//! Every figure is a ratio to the fastest method of the same group in the
//! same run: absolute times on a shared machine move by 20–30% from one run
//! to the next, ratios within one run do not. The fastest method's absolute
//! time is given once under each table, for scale.
//!
//! Inputs, under `<target>/criterion/`:
//! - `<group>/<method>/new/estimates.json`: criterion's estimates;
//! - `exitmatrix/<group>.json`: the interleaved run (p50, p99) written by
//!   `benches/benches/exit.rs`;
//! - `exitmatrix/run.json`: when and where `cargo bench` ran;
//! - `exitmatrix/matrix.json`: `-j1` against `-j2` of the native matrix,
//!   written by `bench-report --matrix`, with the JSON reports of its last
//!   runs in `exitmatrix/matrix-reports/j1` and `j2`; the per-column table
//!   (each column's median cell time over the `waitpid` column's, on the
//!   same probes) is read from the `-j1` report.
//!
//! Output: the Markdown on standard output, and the same Markdown as
//! `exitmatrix/bench-report.md` with one SVG bar chart per table beside it
//! (`bench-<group>.svg`, one bar per ratio), which the Markdown shows.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// Arguments of `bench-report`.
#[derive(Debug, clap::Args)]
pub struct BenchReportArgs {
    /// First measure matrix throughput: run the native matrix with `-j1` and
    /// `-j2` alternately (prebuilt probes), and record the speed-up.
    #[arg(long)]
    pub matrix: bool,
    /// Rounds of the matrix measurement; each runs `-j1` and `-j2` once.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub matrix_rounds: usize,
    /// Cargo target directory holding `criterion/` (default:
    /// `CARGO_TARGET_DIR`, else `target`).
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
}

/// The groups `cargo bench` runs, in report order, with a title each.
const GROUPS: [(&str, &str); 3] = [
    (
        "round-trip",
        "Spawn + exit + reap round trip (no-libc probe)",
    ),
    (
        "reap-latency",
        "Reap latency: child's last instruction to parent having reaped it",
    ),
    (
        "probe-startup",
        "Probe start-up: the same spawn + reap of each probe",
    ),
];

/// A goal of the benches issue: `method` against `baseline` in `group`.
struct Goal {
    what: &'static str,
    group: &'static str,
    method: &'static str,
    baseline: &'static str,
    stat: Stat,
    limit: f64,
}

#[derive(Clone, Copy)]
enum Stat {
    P50,
    P99,
    Mean,
}

const GOALS: [Goal; 4] = [
    Goal {
        what: "harness spawn + reap ÷ vfork-style floor, interleaved p50",
        group: "round-trip",
        method: "harness-default",
        baseline: "vfork-clone",
        stat: Stat::P50,
        limit: 1.10,
    },
    Goal {
        what: "harness spawn + reap ÷ vfork-style floor, criterion mean",
        group: "round-trip",
        method: "harness-default",
        baseline: "vfork-clone",
        stat: Stat::Mean,
        limit: 1.10,
    },
    Goal {
        what: "harness reap ÷ blocking waitid, p50",
        group: "reap-latency",
        method: "harness-default",
        baseline: "waitid",
        stat: Stat::P50,
        limit: 1.10,
    },
    Goal {
        what: "harness reap ÷ blocking waitid, p99",
        group: "reap-latency",
        method: "harness-default",
        baseline: "waitid",
        stat: Stat::P99,
        limit: 1.10,
    },
];

/// The matrix speed-up the issue asks for.
const MATRIX_SPEEDUP_GOAL: f64 = 1.8;

/// The most a shell or Python column's median cell may cost, in `waitpid`
/// cells of the same probes (issue #15).
const COLUMN_GOAL: f64 = 3.0;

#[derive(Debug, Deserialize)]
struct Interleaved {
    measures: String,
    rounds: usize,
    methods: Vec<Summary>,
}

#[derive(Debug, Deserialize)]
struct Summary {
    name: String,
    p50: f64,
    p99: f64,
}

#[derive(Debug, Deserialize)]
struct Estimates {
    mean: Estimate,
}

#[derive(Debug, Deserialize)]
struct Estimate {
    point_estimate: f64,
}

#[derive(Debug, Deserialize)]
struct RunInfo {
    unix_time: u64,
    kernel: String,
    cpu: String,
    cpus: usize,
    command: String,
}

/// `-j1` against `-j2`: seconds of each run, and the processor seconds
/// (user and system) that each run and everything it reaped used.
#[derive(Debug, Serialize, Deserialize)]
struct MatrixRuns {
    unix_time: u64,
    command: String,
    j1: Vec<f64>,
    j2: Vec<f64>,
    /// Absent from reports of before they were measured.
    #[serde(default)]
    j1_cpu: Vec<f64>,
    #[serde(default)]
    j2_cpu: Vec<f64>,
}

/// How many processors a run kept busy on average: the median of its
/// processor seconds over the median of its wall seconds.
fn busy(cpu: &[f64], wall: &[f64]) -> Option<f64> {
    (!cpu.is_empty() && !wall.is_empty()).then(|| median(cpu) / median(wall))
}

/// One group's figures per method (nanoseconds).
#[derive(Debug, Default)]
struct Row {
    name: String,
    mean: Option<f64>,
    p50: Option<f64>,
    p99: Option<f64>,
}

impl Row {
    fn get(&self, stat: Stat) -> Option<f64> {
        match stat {
            Stat::P50 => self.p50,
            Stat::P99 => self.p99,
            Stat::Mean => self.mean,
        }
    }
}

/// Runs `bench-report`: returns the Markdown, or what went wrong.
pub fn run(args: &BenchReportArgs) -> Result<String, String> {
    let target = args.target_dir.clone().unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(
            || exitmatrix::toolchain::probes::workspace_root().join("target"),
            PathBuf::from,
        )
    });
    let criterion = target.join("criterion");
    let ours = criterion.join("exitmatrix");
    if args.matrix {
        let runs = measure_matrix(&target, args.matrix_rounds)?;
        std::fs::create_dir_all(&ours)
            .and_then(|()| {
                let json = serde_json::to_string_pretty(&runs).map_err(std::io::Error::other)?;
                std::fs::write(ours.join("matrix.json"), json + "\n")
            })
            .map_err(|e| format!("cannot write {}: {e}", ours.join("matrix.json").display()))?;
    }

    let mut out = String::from("# exitmatrix bench report\n\n");
    match read_json::<RunInfo>(&ours.join("run.json")) {
        Some(run) => {
            let _ = writeln!(
                out,
                "Run of {}: {}, {} × {}; `{}`.\n",
                date(run.unix_time),
                run.kernel,
                run.cpus,
                run.cpu,
                run.command
            );
        }
        // A `--matrix` measurement alone still makes the matrix tables.
        None if args.matrix || ours.join("matrix.json").is_file() => {
            let _ = writeln!(
                out,
                "No `cargo bench` results in {}: the round-trip tables are left out.\n",
                ours.display()
            );
        }
        None => {
            return Err(format!(
                "no bench results in {} (run `cargo bench -p exitmatrix-benches` first)",
                ours.display()
            ))
        }
    }
    out.push_str(
        "Each figure is a ratio to the fastest method of its column in the same run \
         (1.00 = fastest, lower is better). *criterion*: criterion's mean, each method \
         measured on its own; *p50*/*p99*: the interleaved run, every method sampled in \
         turn, round after round, so that drift of a shared machine hits them alike.\n",
    );

    let mut groups = Vec::new();
    let mut charts = Vec::new();
    for (group, title) in GROUPS {
        let rows = rows(&criterion, &ours, group);
        if rows.is_empty() {
            let _ = writeln!(out, "\n## {title}\n\nNo results for `{group}`.");
            continue;
        }
        out.push_str(&table(group, title, &ours, &rows));
        let bars = group_bars(&rows);
        let _ = writeln!(out, "\n![{title}](bench-{group}.svg)");
        charts.push((
            group.to_owned(),
            svg_chart(title, &["criterion", "p50", "p99"], &bars),
        ));
        groups.push((group, rows));
    }
    let columns = read_matrix_report(&ours.join("matrix-reports").join("j1")).map(|r| columns(&r));
    if let Some(columns) = &columns {
        out.push_str(&columns_table(columns));
        let bars: Vec<Bar> = columns
            .iter()
            .map(|c| Bar {
                label: c.name.clone(),
                values: vec![Some(c.ratio)],
            })
            .collect();
        let _ = writeln!(out, "\n![Matrix columns](bench-matrix-columns.svg)");
        charts.push((
            "matrix-columns".to_owned(),
            svg_chart(
                "Median cell time ÷ waitpid's, same probes (-j1)",
                &["ratio"],
                &bars,
            ),
        ));
    }

    out.push_str("\n## Goals\n\n| goal | measured | limit | |\n|---|---:|---:|---|\n");
    for goal in &GOALS {
        let ratio = groups
            .iter()
            .find(|(g, _)| *g == goal.group)
            .and_then(|(_, rows)| {
                let get = |name: &str| rows.iter().find(|r| r.name == name)?.get(goal.stat);
                Some(get(goal.method)? / get(goal.baseline)?)
            });
        let _ = writeln!(
            out,
            "| {} (`{}` ÷ `{}`) | {} | ≤ {:.2} | {} |",
            goal.what,
            goal.method,
            goal.baseline,
            ratio.map_or_else(|| "–".to_owned(), |r| format!("{r:.2}")),
            goal.limit,
            verdict(ratio.map(|r| r <= goal.limit)),
        );
    }
    match read_json::<MatrixRuns>(&ours.join("matrix.json")) {
        Some(runs) => {
            let speedup = median(&runs.j1) / median(&runs.j2);
            let cpus = match (busy(&runs.j1_cpu, &runs.j1), busy(&runs.j2_cpu, &runs.j2)) {
                (Some(one), Some(two)) => {
                    format!("; processors busy: {one:.2} at `-j1`, {two:.2} at `-j2`")
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "| matrix throughput: `-j2` speed-up over `-j1` (median of {} runs each, {}{cpus}) | {speedup:.2} | ≥ {MATRIX_SPEEDUP_GOAL:.2} | {} |",
                runs.j1.len().min(runs.j2.len()),
                date(runs.unix_time),
                verdict(Some(speedup >= MATRIX_SPEEDUP_GOAL)),
            );
        }
        None => out.push_str(
            "| matrix throughput: `-j2` speed-up over `-j1` | not measured (`cargo xtask bench-report --matrix`) | ≥ 1.80 | |\n",
        ),
    }
    match columns.as_ref().map(|c| worst_goal_column(c)) {
        Some(Some(worst)) => {
            let _ = writeln!(
                out,
                "| every shell and Python column: median cell ÷ `waitpid`'s on the same probes (worst: `{}`) | {:.2} | ≤ {COLUMN_GOAL:.2} | {} |",
                worst.name,
                worst.ratio,
                verdict(Some(worst.ratio <= COLUMN_GOAL)),
            );
        }
        _ => out.push_str(
            "| every shell and Python column ÷ `waitpid` | not measured (`cargo xtask bench-report --matrix`) | ≤ 3.00 | |\n",
        ),
    }
    std::fs::create_dir_all(&ours)
        .and_then(|()| std::fs::write(ours.join("bench-report.md"), &out))
        .map_err(|e| {
            format!(
                "cannot write {}: {e}",
                ours.join("bench-report.md").display()
            )
        })?;
    for (group, svg) in charts {
        let path = ours.join(format!("bench-{group}.svg"));
        std::fs::write(&path, svg).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(out)
}

/// One column of the native matrix against `waitpid`.
#[derive(Debug, Clone, PartialEq)]
struct Column {
    name: String,
    kind: String,
    /// Cells compared (those whose probe `waitpid` also ran).
    cells: usize,
    /// Median cell time of the column, microseconds.
    median: f64,
    /// Median `waitpid` cell time over the same probes, microseconds.
    waitpid: f64,
    ratio: f64,
}

/// The parts of a matrix report the per-column table needs.
#[derive(Debug, Deserialize)]
struct MatrixReport {
    observers: Vec<ReportObserver>,
    cells: Vec<ReportCell>,
}

#[derive(Debug, Deserialize)]
struct ReportObserver {
    name: String,
    kind: String,
}

#[derive(Debug, Deserialize)]
struct ReportCell {
    behaviour: String,
    build: String,
    observer: String,
    micros: f64,
}

/// The one `report-*.json` in `dir`.
fn read_matrix_report(dir: &Path) -> Option<MatrixReport> {
    let path = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("report-") && n.ends_with(".json"))
        })?;
    read_json(&path)
}

/// Each column's median cell time over `waitpid`'s median on the same
/// (behaviour, build) cells, in the report's column order; `waitpid`
/// itself is 1.00 by definition and left out, as are columns with no cell
/// in common with it.
fn columns(report: &MatrixReport) -> Vec<Column> {
    let waitpid: std::collections::HashMap<(&str, &str), f64> = report
        .cells
        .iter()
        .filter(|c| c.observer == "waitpid")
        .map(|c| ((c.behaviour.as_str(), c.build.as_str()), c.micros))
        .collect();
    report
        .observers
        .iter()
        .filter(|o| o.name != "waitpid")
        .filter_map(|o| {
            let (mine, theirs): (Vec<f64>, Vec<f64>) = report
                .cells
                .iter()
                .filter(|c| c.observer == o.name)
                .filter_map(|c| {
                    let w = waitpid.get(&(c.behaviour.as_str(), c.build.as_str()))?;
                    Some((c.micros, *w))
                })
                .unzip();
            if mine.is_empty() {
                return None;
            }
            let (median_mine, median_theirs) = (median(&mine), median(&theirs));
            Some(Column {
                name: o.name.clone(),
                kind: o.kind.clone(),
                cells: mine.len(),
                median: median_mine,
                waitpid: median_theirs,
                ratio: median_mine / median_theirs,
            })
        })
        .collect()
}

/// The shell or Python column furthest from `waitpid`.
fn worst_goal_column(columns: &[Column]) -> Option<&Column> {
    columns
        .iter()
        .filter(|c| c.kind == "shell" || c.kind == "python")
        .max_by(|a, b| a.ratio.total_cmp(&b.ratio))
}

fn columns_table(columns: &[Column]) -> String {
    let mut out = String::from(
        "\n## Matrix columns against `waitpid`\n\n`matrix-columns`: each column's median cell \
         time ÷ the median `waitpid` cell time of the same probes (behaviour × build), from \
         the last `-j1` run of `--matrix`. Goal: every shell and Python column ≤ 3.00.\n\n\
         | column | kind | cells | median | `waitpid` median | ratio | |\n|---|---|---:|---:|---:|---:|---|\n",
    );
    for c in columns {
        let goal = if c.kind == "shell" || c.kind == "python" {
            verdict(Some(c.ratio <= COLUMN_GOAL))
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2} ms | {:.2} ms | {:.2} | {goal} |",
            c.name,
            c.kind,
            c.cells,
            c.median / 1e3,
            c.waitpid / 1e3,
            c.ratio
        );
    }
    out
}

/// One row of a chart: a label and one value per series (`None`: no bar).
#[derive(Debug, Clone)]
struct Bar {
    label: String,
    values: Vec<Option<f64>>,
}

/// A group's ratios as chart rows: criterion, p50, p99 per method.
fn group_bars(rows: &[Row]) -> Vec<Bar> {
    let fastest = |stat: Stat| {
        rows.iter()
            .filter_map(|r| r.get(stat))
            .fold(f64::INFINITY, f64::min)
    };
    let mins = [Stat::Mean, Stat::P50, Stat::P99].map(|s| (s, fastest(s)));
    rows.iter()
        .map(|r| Bar {
            label: r.name.clone(),
            values: mins
                .iter()
                .map(|&(stat, min)| r.get(stat).map(|v| v / min))
                .collect(),
        })
        .collect()
}

/// Escapes text for XML.
fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart, hand-written SVG: one `<rect class="bar">` per
/// value (with its ratio as text and in a `<title>`), grouped by row, one
/// colour per series, a dashed line at 1.00 and a legend.
fn svg_chart(title: &str, series: &[&str], bars: &[Bar]) -> String {
    const COLOURS: [&str; 3] = ["#4e79a7", "#f28e2b", "#59a14f"];
    const LABEL_W: f64 = 170.0;
    const PLOT_W: f64 = 420.0;
    const BAR_H: f64 = 12.0;
    const TOP: f64 = 48.0;
    let max = bars
        .iter()
        .flat_map(|b| b.values.iter().flatten())
        .copied()
        .filter(|v| v.is_finite())
        .fold(1.0_f64, f64::max);
    let scale = PLOT_W / max;
    let row_h = BAR_H * series.len() as f64 + 8.0;
    let height = TOP + row_h * bars.len() as f64 + 10.0;
    let width = LABEL_W + PLOT_W + 60.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <title>{}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"8\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>\n",
        xml_text(title),
        xml_text(title)
    );
    for (i, name) in series.iter().enumerate() {
        let x = LABEL_W + 90.0 * i as f64;
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"26\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"35\">{}</text>",
            COLOURS[i % COLOURS.len()],
            x + 14.0,
            xml_text(name)
        );
    }
    for (row, bar) in bars.iter().enumerate() {
        let y0 = TOP + row_h * row as f64;
        let _ = writeln!(
            svg,
            "<g class=\"row\"><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            LABEL_W - 6.0,
            y0 + row_h / 2.0,
            xml_text(&bar.label)
        );
        for (i, value) in bar.values.iter().enumerate() {
            let Some(value) = value.filter(|v| v.is_finite()) else {
                continue;
            };
            let y = y0 + BAR_H * i as f64;
            let w = (value * scale).max(1.0);
            let _ = writeln!(
                svg,
                "<rect class=\"bar\" x=\"{LABEL_W}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"><title>{} {}: {value:.2}</title></rect><text x=\"{:.1}\" y=\"{}\">{value:.2}</text>",
                BAR_H - 2.0,
                COLOURS[i % COLOURS.len()],
                xml_text(&bar.label),
                xml_text(series.get(i).copied().unwrap_or("")),
                LABEL_W + w + 3.0,
                y + BAR_H - 3.0
            );
        }
        svg.push_str("</g>\n");
    }
    let one = LABEL_W + scale;
    let _ = writeln!(
        svg,
        "<line x1=\"{one:.1}\" y1=\"{}\" x2=\"{one:.1}\" y2=\"{}\" stroke=\"#555\" stroke-dasharray=\"3,3\"/>\n</svg>",
        TOP - 4.0,
        height - 6.0
    );
    svg
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "**not met**",
        None => "no data",
    }
}

/// A group's rows: the interleaved run's methods (in bench order), with
/// criterion's mean for each; else whatever criterion has.
fn rows(criterion: &Path, ours: &Path, group: &str) -> Vec<Row> {
    let mean = |method: &str| {
        read_json::<Estimates>(
            &criterion
                .join(group)
                .join(method)
                .join("new")
                .join("estimates.json"),
        )
        .map(|e| e.mean.point_estimate)
    };
    if let Some(run) = read_json::<Interleaved>(&ours.join(format!("{group}.json"))) {
        return run
            .methods
            .into_iter()
            .map(|m| Row {
                mean: mean(&m.name),
                p50: Some(m.p50),
                p99: Some(m.p99),
                name: m.name,
            })
            .collect();
    }
    let mut names: Vec<String> = std::fs::read_dir(criterion.join(group))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n != "report")
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| Row {
            mean: mean(&name),
            name,
            ..Row::default()
        })
        .collect()
}

fn table(group: &str, title: &str, ours: &Path, rows: &[Row]) -> String {
    let fastest = |stat: Stat| {
        rows.iter()
            .filter_map(|r| r.get(stat))
            .fold(None, |min: Option<f64>, v| {
                Some(min.map_or(v, |m| m.min(v)))
            })
    };
    let columns = [Stat::Mean, Stat::P50, Stat::P99].map(|s| (s, fastest(s)));
    let mut out = format!(
        "\n## {title}\n\n`{group}`\n\n| method | criterion | p50 | p99 |\n|---|---:|---:|---:|\n"
    );
    for row in rows {
        let cells = columns.map(|(stat, min)| match (row.get(stat), min) {
            (Some(v), Some(min)) => format!("{:.2}", v / min),
            _ => "–".to_owned(),
        });
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            row.name, cells[0], cells[1], cells[2]
        );
    }
    let scale: Vec<String> = columns
        .iter()
        .zip(["criterion", "p50", "p99"])
        .filter_map(|((_, min), label)| min.map(|m| format!("{} ({label})", micros(m))))
        .collect();
    let _ = write!(out, "\n1.00 = {}", scale.join(", "));
    if let Some(run) = read_json::<Interleaved>(&ours.join(format!("{group}.json"))) {
        let _ = write!(
            out,
            "; interleaved: {} rounds of {}",
            run.rounds, run.measures
        );
    }
    out.push_str(".\n");
    out
}

fn micros(ns: f64) -> String {
    format!("{:.1} µs", ns / 1e3)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs the native matrix `rounds` times with `-j1` and with `-j2`,
/// alternating which goes first, after one untimed run that builds the
/// probes. Each run is this very `xtask` binary's `test-matrix`, in a
/// process of its own.
fn measure_matrix(target: &Path, rounds: usize) -> Result<MatrixRuns, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find xtask itself: {e}"))?;
    let out_dir = target
        .join("criterion")
        .join("exitmatrix")
        .join("matrix-reports");
    // (wall seconds, processor seconds of the run and all it reaped)
    let run = |jobs: &str, build: bool| -> Result<(f64, Option<f64>), String> {
        let out_dir = out_dir.join(format!("j{jobs}"));
        #[expect(
            clippy::disallowed_methods,
            reason = "runs the harness itself, not a probe"
        )]
        let mut command = std::process::Command::new(&exe);
        command
            .args(["test-matrix", "--format", "summary", "--jobs", jobs])
            .arg("--out-dir")
            .arg(&out_dir)
            .stdout(std::process::Stdio::null());
        if !build {
            command.arg("--no-build");
        }
        let cpu_before = exitmatrix::os::reaped_children_cpu();
        let start = Instant::now();
        let status = command
            .status()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        let took = start.elapsed().as_secs_f64();
        // The run is reaped: its processor time (and its children's, which
        // it reaped) is in this process's RUSAGE_CHILDREN now.
        let cpu = exitmatrix::os::reaped_children_cpu()
            .zip(cpu_before)
            .map(|(after, before)| after - before);
        // 0 conforms, 1 deviates, 3 some cell not observed: all complete runs.
        match status.code() {
            Some(0 | 1 | 3) => Ok((took, cpu)),
            _ => Err(format!("test-matrix -j{jobs} failed ({status})")),
        }
    };
    eprintln!("matrix throughput: one untimed run (builds the probes), then {rounds} × (-j1, -j2)");
    run("2", true)?;
    let (mut j1, mut j2) = (Vec::new(), Vec::new());
    let (mut j1_cpu, mut j2_cpu) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            ["2", "1"]
        } else {
            ["1", "2"]
        };
        for jobs in order {
            let (took, cpu) = run(jobs, false)?;
            match cpu {
                Some(cpu) => eprintln!(
                    "  -j{jobs}: {took:.1} s, {cpu:.1} processor seconds ({:.2} processors busy)",
                    cpu / took
                ),
                None => eprintln!("  -j{jobs}: {took:.1} s"),
            }
            let (wall, busy) = if jobs == "1" {
                (&mut j1, &mut j1_cpu)
            } else {
                (&mut j2, &mut j2_cpu)
            };
            wall.push(took);
            busy.extend(cpu);
        }
    }
    Ok(MatrixRuns {
        unix_time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        command: "cargo xtask test-matrix --no-build -j1 / -j2".to_owned(),
        j1,
        j2,
        j1_cpu,
        j2_cpu,
    })
}

/// `YYYY-MM-DD HH:MM UTC` from Unix seconds (days to civil date: Howard
/// Hinnant's algorithm).
fn date(unix: u64) -> String {
    let days = i64::try_from(unix / 86_400).unwrap_or(0);
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01 00:00 UTC");
        assert_eq!(date(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(date(1_700_000_000), "2023-11-14 22:13 UTC");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    /// Counts the `<rect class="bar">` elements of an SVG, failing if it is
    /// not well-formed XML.
    fn bars_in(svg: &str) -> usize {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(svg);
        let mut bars = 0;
        loop {
            match reader.read_event().expect("the SVG is well-formed XML") {
                Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"rect" => {
                    let class = e
                        .try_get_attribute("class")
                        .expect("attributes parse")
                        .map(|a| a.value.into_owned());
                    if class.as_deref() == Some(b"bar".as_slice()) {
                        bars += 1;
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        bars
    }

    #[test]
    fn the_chart_is_xml_with_one_bar_per_ratio() {
        let rows = vec![
            Row {
                name: "floor".into(),
                mean: Some(100.0),
                p50: Some(120.0),
                p99: Some(200.0),
            },
            Row {
                name: "a <b> & \"c\"".into(),
                mean: Some(150.0),
                p50: None,
                p99: Some(300.0),
            },
        ];
        let bars = group_bars(&rows);
        // Five ratios: three for the first row, two for the second.
        assert_eq!(bars[1].values, [Some(1.5), None, Some(1.5)]);
        let svg = svg_chart("round <trip>", &["criterion", "p50", "p99"], &bars);
        assert_eq!(bars_in(&svg), 5, "{svg}");
        let columns = [Column {
            name: "dash".into(),
            kind: "shell".into(),
            cells: 2,
            median: 3.0,
            waitpid: 1.0,
            ratio: 3.0,
        }];
        let bars: Vec<Bar> = columns
            .iter()
            .map(|c| Bar {
                label: c.name.clone(),
                values: vec![Some(c.ratio)],
            })
            .collect();
        assert_eq!(bars_in(&svg_chart("columns", &["ratio"], &bars)), 1);
    }

    #[test]
    fn a_column_is_compared_with_waitpid_on_its_own_probes() {
        let cell = |behaviour: &str, observer: &str, micros: f64| ReportCell {
            behaviour: behaviour.into(),
            build: "c".into(),
            observer: observer.into(),
            micros,
        };
        let report = MatrixReport {
            observers: ["waitpid", "dash", "py-mp-spawn"]
                .map(|n| ReportObserver {
                    name: n.into(),
                    kind: if n == "dash" { "shell" } else { "python" }.into(),
                })
                .into(),
            cells: vec![
                cell("a", "waitpid", 1000.0),
                cell("b", "waitpid", 2000.0),
                // Only waitpid runs c (a hostile probe): it is not dash's.
                cell("c", "waitpid", 500_000.0),
                cell("a", "dash", 5000.0),
                cell("b", "dash", 7000.0),
            ],
        };
        let columns = columns(&report);
        // dash: median(5000, 7000) = 6000 over median(1000, 2000) = 1500;
        // py-mp-spawn shares no probe with waitpid and is left out.
        assert_eq!(columns.len(), 1);
        assert_eq!(columns[0].name, "dash");
        assert_eq!(columns[0].cells, 2);
        assert!((columns[0].ratio - 4.0).abs() < 1e-9);
        assert_eq!(worst_goal_column(&columns).map(|c| c.ratio), Some(4.0));
    }
}
