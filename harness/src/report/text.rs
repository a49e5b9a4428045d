//! The report as text for people: the terminal tables, the Markdown
//! conformance table the README holds, and the findings with the summary
//! line.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use comfy_table::{presets, Cell, ContentArrangement, Table};

use crate::pure::catalogue::Build;
use crate::pure::observers;
use crate::report::model::{Report, Row, Verdict};

/// The mark a verdict gets in the table.
fn mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Conforms => "✓",
        Verdict::Deviates => "✗",
        Verdict::NoExpectation => "?",
        Verdict::Error => "!",
        Verdict::NotInstalled => "-",
        Verdict::KnownDivergence => "≈",
    }
}

/// Whether the terminal table should be coloured: only when standard
/// output is a terminal, `NO_COLOR` is unset or empty (no-color.org), and
/// `CI` is unset.
pub fn color_wanted() -> bool {
    use std::io::IsTerminal;
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    std::io::stdout().is_terminal() && !set("NO_COLOR") && !set("CI")
}

/// A data cell, coloured by the verdict mark it starts with.
fn data_cell(text: String, color: bool) -> Cell {
    use comfy_table::Color;
    let cell = Cell::new(&text);
    if !color {
        return cell;
    }
    match text.chars().next() {
        Some('✓') => cell.fg(Color::Green),
        Some('✗') => cell.fg(Color::Red),
        Some('≈') | Some('?') => cell.fg(Color::Yellow),
        Some('!') => cell.fg(Color::Magenta),
        _ if text == "not installed" => cell.fg(Color::DarkGrey),
        _ => cell,
    }
}

/// What a terminal cell shows.
fn terminal_text(verdict: Verdict, observed: &str, watchdog: &[&str]) -> String {
    match verdict {
        Verdict::Error => format!("{} error", mark(verdict)),
        Verdict::NotInstalled => "not installed".into(),
        _ if !watchdog.is_empty() => format!(
            "{} {} (timed out: {})",
            mark(verdict),
            observed,
            watchdog.join(", ")
        ),
        _ => format!("{} {}", mark(verdict), observed),
    }
}

/// The column order: the run's observers, or, for a report without that
/// list, the order in which cells name them.
fn columns(report: &Report) -> Vec<&str> {
    let mut names: Vec<&str> = report.observers.iter().map(|o| o.name.as_str()).collect();
    for name in report
        .cells
        .iter()
        .map(|c| c.observer.as_str())
        .chain(report.cases.iter().map(|c| c.observer.as_str()))
    {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The behaviours of the cells, in catalogue order, each with its builds.
fn behaviours(report: &Report) -> Vec<(&str, Vec<Build>)> {
    let mut rows: Vec<(&str, Vec<Build>)> = Vec::new();
    for c in &report.cells {
        let Some(build) = c.build() else { continue };
        match rows.iter_mut().find(|(name, _)| *name == c.name) {
            Some((_, builds)) => {
                if !builds.contains(&build) {
                    builds.push(build);
                }
            }
            None => rows.push((&c.name, vec![build])),
        }
    }
    rows
}

type Index<'a> = BTreeMap<(&'a str, Build, &'a str), &'a Row>;

fn index(report: &Report) -> Index<'_> {
    report
        .cells
        .iter()
        .filter_map(|c| Some(((c.name.as_str(), c.build()?, c.observer.as_str()), c)))
        .collect()
}

/// Renders the terminal tables. First the reapers: one table per group of
/// builds (Rust probes run as `unwind` and `abort`, C probes as `c`), rows
/// are behaviours and columns are build × reaper. Then the views (shells,
/// Python): rows are behaviours (one per build where the builds differ),
/// columns are views. Then the observers' own cases.
pub fn table(report: &Report) -> String {
    styled_table(report, false)
}

/// [`table`], with each cell coloured by its verdict when `color` is true
/// (for a terminal; see [`color_wanted`]).
pub fn styled_table(report: &Report, color: bool) -> String {
    let all = columns(report);
    let reapers: Vec<&str> = all
        .iter()
        .copied()
        .filter(|o| observers::is_reaper(o))
        .collect();
    let views: Vec<&str> = all
        .iter()
        .copied()
        .filter(|o| !observers::is_reaper(o))
        .collect();
    let index = index(report);
    let rows = behaviours(report);
    let mut out = String::new();

    // Group rows by the builds they run in, keeping catalogue order.
    let mut groups: Vec<(Vec<Build>, Vec<&str>)> = Vec::new();
    for (name, builds) in &rows {
        match groups.iter_mut().find(|(b, _)| b == builds) {
            Some((_, names)) => names.push(name),
            None => groups.push((builds.clone(), vec![name])),
        }
    }
    if !reapers.is_empty() {
        for (builds, names) in &groups {
            let mut header = vec![Cell::new("behaviour")];
            for b in builds {
                for r in &reapers {
                    header.push(Cell::new(format!("{b} · {r}")));
                }
            }
            let mut table = new_table(header, color);
            for &name in names {
                let mut row = vec![Cell::new(name)];
                for &b in builds {
                    for &r in &reapers {
                        row.push(data_cell(
                            match index.get(&(name, b, r)) {
                                Some(c) => terminal_text(c.verdict, &c.observed_text, &c.watchdog),
                                None => "—".into(),
                            },
                            color,
                        ));
                    }
                }
                table.add_row(row);
            }
            let _ = writeln!(out, "{table}");
        }
    }

    let ran_views: Vec<&str> = views
        .iter()
        .copied()
        .filter(|v| report.cells.iter().any(|c| c.observer == *v))
        .collect();
    if !ran_views.is_empty() {
        let mut header = vec![Cell::new("behaviour")];
        header.extend(ran_views.iter().map(Cell::new));
        let mut table = new_table(header, color);
        for (label, texts) in merged_rows(&rows, &ran_views, |name, build, o| {
            index
                .get(&(name, build, o))
                .map(|c| terminal_text(c.verdict, &c.observed_text, &c.watchdog))
        }) {
            let mut row = vec![Cell::new(label)];
            row.extend(
                texts
                    .into_iter()
                    .map(|t| data_cell(t.unwrap_or_else(|| "—".into()), color)),
            );
            table.add_row(row);
        }
        let _ = writeln!(out, "{table}");
    }

    if !report.cases.is_empty() {
        let case_columns: Vec<&str> = all
            .iter()
            .copied()
            .filter(|o| report.cases.iter().any(|c| c.observer == *o))
            .collect();
        let mut header = vec![Cell::new("own case")];
        header.extend(case_columns.iter().map(Cell::new));
        let mut table = new_table(header, color);
        for name in case_names(report) {
            let mut row = vec![Cell::new(name)];
            for &o in &case_columns {
                row.push(data_cell(
                    match report
                        .cases
                        .iter()
                        .find(|c| c.name == name && c.observer == o)
                    {
                        Some(c) => terminal_text(c.verdict, &c.observed_text, &c.watchdog),
                        None => "—".into(),
                    },
                    color,
                ));
            }
            table.add_row(row);
        }
        let _ = writeln!(out, "{table}");
    }
    out
}

fn new_table(header: Vec<Cell>, color: bool) -> Table {
    let mut table = Table::new();
    if !color {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    table
}

fn case_names(report: &Report) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for c in &report.cases {
        if !names.contains(&c.name.as_str()) {
            names.push(&c.name);
        }
    }
    names
}

/// Rows for `columns`: one per behaviour when its builds show the same text
/// in every column, else one per build (`panic-main · abort`).
fn merged_rows<'a>(
    rows: &[(&'a str, Vec<Build>)],
    columns: &[&'a str],
    text: impl Fn(&'a str, Build, &'a str) -> Option<String>,
) -> Vec<(String, Vec<Option<String>>)> {
    let mut out = Vec::new();
    for (name, builds) in rows {
        let per_build: Vec<Vec<Option<String>>> = builds
            .iter()
            .map(|&b| columns.iter().map(|&o| text(name, b, o)).collect())
            .collect();
        if per_build.windows(2).all(|w| w[0] == w[1]) {
            out.push((
                (*name).to_owned(),
                per_build.into_iter().next().unwrap_or_default(),
            ));
        } else {
            for (b, texts) in builds.iter().zip(per_build) {
                out.push((format!("{name} · {b}"), texts));
            }
        }
    }
    out
}

/// The conformance table as Markdown, one row per behaviour (one per build
/// where the builds differ) and one per own case, one column per observer.
/// This is what the README holds between its markers.
///
/// A cell shows what the observer saw, in profile words: wait states for a
/// reaper, the reported value for a shell or Python. A "continued" report
/// is left out, because whether a reaper sees it before the exit that
/// follows is a race POSIX leaves open. A cell that does not conform is
/// marked (`✗ 143 (expected 142)`, `? 143` for no expectation); one whose
/// observer is missing says `not installed`; `—` means the observer does
/// not run that row.
pub fn markdown(report: &Report) -> String {
    let columns = columns(report);
    let index = index(report);
    let rows = behaviours(report);
    let mut out = String::new();
    let _ = writeln!(out, "| behaviour | {} |", columns.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(columns.len()));
    let line = |out: &mut String, label: &str, texts: Vec<Option<String>>| {
        let cells: Vec<String> = texts
            .into_iter()
            .map(|t| t.unwrap_or_else(|| "—".into()).replace('|', "\\|"))
            .collect();
        let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
    };
    for (label, texts) in merged_rows(&rows, &columns, |name, build, o| {
        index.get(&(name, build, o)).map(|c| {
            markdown_text(
                c.verdict,
                &c.observed_text.replace(", continued", ""),
                &c.watchdog,
                c.expected.as_ref().map(|e| e.outcome.as_slice()),
            )
        })
    }) {
        line(&mut out, &label, texts);
    }
    for name in case_names(report) {
        let texts = columns
            .iter()
            .map(|&o| {
                report
                    .cases
                    .iter()
                    .find(|c| c.name == name && c.observer == o)
                    .map(|c| {
                        markdown_text(
                            c.verdict,
                            &c.observed_text,
                            &c.watchdog,
                            c.expected.as_ref().map(|e| e.outcome.as_slice()),
                        )
                    })
            })
            .collect();
        line(&mut out, name, texts);
    }
    out
}

fn markdown_text(
    verdict: Verdict,
    observed: &str,
    watchdog: &[&str],
    expected: Option<&[String]>,
) -> String {
    let observed = if watchdog.is_empty() {
        observed.to_owned()
    } else {
        format!("{observed} (timed out: {})", watchdog.join(", "))
    };
    match verdict {
        Verdict::Conforms => observed,
        Verdict::Deviates => format!(
            "✗ {observed} (expected {})",
            expected.unwrap_or_default().join(" or ")
        ),
        Verdict::NoExpectation => format!("? {observed}"),
        Verdict::Error => "error".into(),
        Verdict::NotInstalled => "not installed".into(),
        Verdict::KnownDivergence => format!(
            "≈ {observed} (emulator; real: {})",
            expected.unwrap_or_default().join(" or ")
        ),
    }
}

/// Lists every cell and own case that does not conform, with its
/// expected-vs-observed lines and the expectation's location and citation,
/// then a summary line. An observer that is not installed gets one line,
/// not one per cell.
pub fn findings(report: &Report) -> String {
    let mut out = String::new();
    let s = report.summary;
    struct Finding<'a> {
        verdict: Verdict,
        row: String,
        command: &'a str,
        problems: &'a [String],
        expected: Option<&'a crate::pure::profile::Expectation>,
    }
    let mut findings: Vec<Finding<'_>> = report
        .cells
        .iter()
        .filter(|c| !matches!(c.verdict, Verdict::Conforms | Verdict::NotInstalled))
        .map(|c| Finding {
            verdict: c.verdict,
            row: c.label(),
            command: &c.command,
            problems: &c.problems,
            expected: c.expected.as_ref(),
        })
        .chain(
            report
                .cases
                .iter()
                .filter(|c| !matches!(c.verdict, Verdict::Conforms | Verdict::NotInstalled))
                .map(|c| Finding {
                    verdict: c.verdict,
                    row: c.label(),
                    command: &c.command,
                    problems: &c.problems,
                    expected: c.expected.as_ref(),
                }),
        )
        .collect();
    findings.sort_by_key(|f| f.verdict != Verdict::Deviates);
    for f in findings {
        let label = match f.verdict {
            Verdict::Deviates => "deviation",
            Verdict::NoExpectation => "no expectation",
            Verdict::KnownDivergence => "known emulator divergence",
            _ => "error",
        };
        let _ = writeln!(out, "{label}: {}: {}", f.row, f.command);
        for p in f.problems {
            let _ = writeln!(out, "    {p}");
        }
        if let Some(e) = f.expected {
            let _ = writeln!(out, "    expectation: {} ({})", e.location, e.cite);
            if let Some(from) = &e.derived_from {
                let _ = writeln!(
                    out,
                    "    derived from the {} expectation at {} ({})",
                    from.observer, from.location, from.cite
                );
            }
        }
    }
    for o in report.observers.iter().filter(|o| !o.installed) {
        let count = report
            .cells
            .iter()
            .filter(|c| c.observer == o.name && c.verdict == Verdict::NotInstalled)
            .count()
            + report
                .cases
                .iter()
                .filter(|c| c.observer == o.name && c.verdict == Verdict::NotInstalled)
                .count();
        let why = report
            .cells
            .iter()
            .filter(|c| c.observer == o.name)
            .map(|c| &c.problems)
            .chain(
                report
                    .cases
                    .iter()
                    .filter(|c| c.observer == o.name)
                    .map(|c| &c.problems),
            )
            .find_map(|p| p.first())
            .map_or("", String::as_str);
        let why = why.strip_prefix("not installed: ").unwrap_or(why);
        let _ = writeln!(out, "not installed: {} ({count} cells): {why}", o.name);
    }
    let missing: Vec<&str> = report
        .observers
        .iter()
        .filter(|o| !o.installed)
        .map(|o| o.name.as_str())
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            out,
            "not installed here: {} (install with `cargo xtask install observers`; `--require all` makes them fail the run)",
            missing.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "{}: {} cells, {} conform ({} on cited rules, {} on blessed rules), {} deviate, {} without expectation, {} not observed, {} not applicable, {} not installed (profile {})",
        report.target,
        s.cells,
        s.conforms,
        s.conforms - s.conforms_blessed,
        s.conforms_blessed,
        s.deviates,
        s.no_expectation,
        s.errors,
        s.not_applicable,
        s.not_installed,
        report.profile_chain.join(" → ")
    );
    if s.core_unchecked > 0 {
        let _ = writeln!(
            out,
            "{}: the core flag was not checked in {} cells: core_pattern ({}) does not keep cores in the case's directory",
            report.target,
            s.core_unchecked,
            report.core_pattern.as_deref().unwrap_or("unreadable")
        );
    }
    if s.leaked > 0 {
        let _ = writeln!(
            out,
            "{}: {} rows left a process outside the probe's process group (ended by the harness; see `leaked` in the JSON)",
            report.target, s.leaked
        );
    }
    if !report.leaked_after_run.is_empty() {
        let _ = writeln!(
            out,
            "{}: after the run, the harness ended what had left the probes' process groups: {}",
            report.target,
            report.leaked_after_run.join(", ")
        );
    }
    if let Some(u) = &report.unverified {
        let _ = writeln!(out, "the profile is {u}");
    }
    if s.known_divergences > 0 {
        // Never folded into "conform": the real system is expected to differ.
        let _ = writeln!(
            out,
            "{}: {} known emulator divergences (not counted as conforming)",
            report.target, s.known_divergences
        );
    }
    out
}

/// The lines a foreign run adds below the findings: the runner, the tools,
/// and what did not apply.
pub fn foreign_lines(report: &Report) -> String {
    let Some(f) = &report.foreign else {
        return String::new();
    };
    let mut out = format!(
        "runner ({}): {}\ntools: {}\n",
        f.runner.source,
        if f.runner.words.is_empty() {
            "none (the host kernel runs the target's binaries)".to_owned()
        } else {
            f.runner.words.join(" ")
        },
        f.tools.join("; ")
    );
    if !f.canary.is_empty() {
        out.push_str(&format!("runner canary: {}\n", f.canary.join("; ")));
    }
    if !f.not_applicable.is_empty() {
        let mut by_need: Vec<(&str, Vec<&str>)> = Vec::new();
        for n in &f.not_applicable {
            match by_need.iter_mut().find(|(k, _)| *k == n.needs) {
                Some((_, v)) => v.push(&n.behaviour),
                None => by_need.push((n.needs, vec![&n.behaviour])),
            }
        }
        for (needs, list) in by_need {
            out.push_str(&format!(
                "not applicable to {} (need {needs}): {} behaviours: {}\n",
                f.family,
                list.len(),
                list.join(", ")
            ));
        }
    }
    if !f.builds_not_made.is_empty() {
        let names: Vec<&str> = f.builds_not_made.iter().map(|b| b.name()).collect();
        out.push_str(&format!(
            "builds the target does not support: {}\n",
            names.join(", ")
        ));
    }
    if report.summary.known_divergences > 0 {
        out.push_str(&format!(
            "{} cells are known emulator divergences: the real system is expected to differ (see above)\n",
            report.summary.known_divergences
        ));
    }
    out
}
