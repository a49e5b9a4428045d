//! The report in the formats CI systems and people read besides JSON:
//! JUnit XML (one test case per cell, via quick-junit), Markdown (the
//! conformance table, [`crate::report::text::markdown`]) and one self-contained
//! HTML page (a coloured grid, details on hover).
//!
//! [`write_all`] writes all four next to each other, so a CI job uploads one
//! directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use crate::report::model::{Report, Row, Verdict};
use crate::report::text;

/// Why a report file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// A file could not be written.
    #[error("cannot write the report to {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// quick-junit could not serialise the JUnit document.
    #[error("cannot write JUnit XML: {0}")]
    Junit(#[source] quick_junit::SerializeError),
}

/// Writes the report as JSON at `json_path` and, beside it, as JUnit XML
/// (`.junit.xml`), Markdown (`.md`) and HTML (`.html`). Returns the paths
/// written, JSON first.
pub fn write_all(
    report: &Report,
    json: &str,
    json_path: &Path,
) -> Result<Vec<PathBuf>, FormatError> {
    let stem = json_path.with_extension("");
    let files = [
        (json_path.to_owned(), json.to_owned()),
        (stem.with_extension("junit.xml"), junit(report)?),
        (stem.with_extension("md"), text::markdown(report)),
        (stem.with_extension("html"), html(report)),
    ];
    let mut written = Vec::new();
    for (path, text) in files {
        std::fs::write(&path, text).map_err(|source| FormatError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// The JUnit document: one test suite per target, one test case per cell
/// and per own case.
/// A deviation or a cell without expectation is a failure, a cell that could
/// not be observed an error, and a known emulator divergence or an observer
/// that is not installed is skipped with the reason. Target, build,
/// observer, raw status, expectation and citation are properties, so a CI
/// system shows a failed cell with its diff.
pub fn junit(report: &Report) -> Result<String, FormatError> {
    let mut suite = TestSuite::new(format!("exitmatrix {}", report.target));
    suite.add_property(Property::new("target", report.target.as_str()));
    suite.add_property(Property::new("host", report.host.as_str()));
    suite.add_property(Property::new("profile", report.profile_chain.join(" → ")));
    suite.add_property(Property::new("incomplete", report.incomplete.to_string()));
    for row in report.cells.iter().chain(&report.cases) {
        suite.add_test_case(junit_case(report, row));
    }
    let mut doc = quick_junit::Report::new("exitmatrix");
    doc.add_test_suite(suite);
    doc.to_string().map_err(FormatError::Junit)
}

fn junit_case(report: &Report, cell: &Row) -> TestCase {
    let diff = cell.problems.join("\n");
    let mut status = match cell.verdict {
        Verdict::Conforms => TestCaseStatus::success(),
        Verdict::Deviates | Verdict::NoExpectation => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type(if cell.verdict == Verdict::Deviates {
                "deviation"
            } else {
                "no expectation"
            });
            s
        }
        Verdict::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("not observed");
            s
        }
        Verdict::NotInstalled | Verdict::KnownDivergence => {
            let mut s = TestCaseStatus::skipped();
            s.set_type(if cell.verdict == Verdict::NotInstalled {
                "not installed"
            } else {
                "known emulator divergence"
            });
            s
        }
    };
    if !diff.is_empty() {
        status.set_message(cell.problems.first().cloned().unwrap_or_default());
        status.set_description(diff);
    }
    let mut case = TestCase::new(cell.label(), status);
    case.set_classname(format!("{}.{}", report.target, cell.name));
    case.set_time(Duration::from_micros(
        u64::try_from(cell.micros).unwrap_or(u64::MAX),
    ));
    let raw: Vec<&str> = cell.observed.iter().map(|o| o.raw_text.as_str()).collect();
    let mut props = vec![
        ("target", report.target.clone()),
        (
            "build",
            cell.build()
                .map_or_else(|| "own case".to_owned(), |b| b.to_string()),
        ),
        ("observer", cell.observer.clone()),
        ("command", cell.command.clone()),
        ("observed", cell.observed_text.clone()),
        ("raw", raw.join(", ")),
    ];
    if let Some(e) = &cell.expected {
        props.push(("expected", e.outcome.join(" | ")));
        props.push(("citation", e.cite.clone()));
        props.push(("expectation", e.location.to_string()));
    }
    for (k, v) in props {
        case.add_property(Property::new(k, v));
    }
    if !cell.stdout.is_empty() {
        case.set_system_out(cell.stdout.as_str());
    }
    if !cell.stderr.is_empty() {
        case.set_system_err(cell.stderr.as_str());
    }
    case
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Conforms => "conforms",
        Verdict::Deviates => "deviates",
        Verdict::NoExpectation => "no-expectation",
        Verdict::Error => "error",
        Verdict::NotInstalled => "not-installed",
        Verdict::KnownDivergence => "divergence",
    }
}

/// The details a cell shows on hover.
fn details(cell: &Row) -> String {
    let mut d = format!("{}\nobserved: {}", cell.label(), cell.observed_text);
    let raw: Vec<&str> = cell.observed.iter().map(|o| o.raw_text.as_str()).collect();
    if !raw.is_empty() {
        let _ = write!(d, "\nraw: {}", raw.join(", "));
    }
    if let Some(e) = &cell.expected {
        let _ = write!(
            d,
            "\nexpected: {}\ncite: {}\nrule: {}",
            e.outcome.join(" | "),
            e.cite,
            e.location
        );
    }
    for p in cell.problems.iter().chain(&cell.notes) {
        let _ = write!(d, "\n{p}");
    }
    if !cell.watchdog.is_empty() {
        let _ = write!(d, "\nwatchdog sent: {}", cell.watchdog.join(", "));
    }
    let _ = write!(d, "\ncommand: {}", cell.command);
    d
}

/// One self-contained HTML page: the conformance matrix as a coloured grid
/// (rows behaviour · build, then the observers' own cases; columns
/// observers), each cell's details in a tooltip on hover. No script, no
/// external resource.
pub fn html(report: &Report) -> String {
    let mut observers: Vec<&str> = Vec::new();
    let mut rows: Vec<(String, String)> = Vec::new();
    for c in report.cells.iter().chain(&report.cases) {
        if !observers.contains(&c.observer.as_str()) {
            observers.push(&c.observer);
        }
        let row = (c.name.clone(), build_text(c));
        if !rows.contains(&row) {
            rows.push(row);
        }
    }
    let index: std::collections::HashMap<(&str, String, &str), &Row> = report
        .cells
        .iter()
        .chain(&report.cases)
        .map(|c| ((c.name.as_str(), build_text(c), c.observer.as_str()), c))
        .collect();
    let s = report.summary;
    let mut page = String::new();
    let _ = write!(
        page,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>exitmatrix: {target}</title>
<style>
body {{ font: 13px/1.35 system-ui, sans-serif; margin: 1.5em; color: #222; }}
h1 {{ font-size: 1.3em; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; white-space: nowrap; }}
th {{ background: #f4f4f4; position: sticky; top: 0; }}
td.cell {{ position: relative; font-family: ui-monospace, monospace; }}
td.conforms {{ background: #d9f2d9; }}
td.deviates {{ background: #f8c9c9; }}
td.no-expectation {{ background: #fbe3b8; }}
td.error {{ background: #e0c8f0; }}
td.not-installed {{ background: #e6e6e6; color: #777; }}
td.divergence {{ background: #fff3a8; }}
td.cell .tip {{ display: none; position: absolute; z-index: 2; left: 0; top: 100%; background: #222; color: #eee;
  padding: 6px 8px; white-space: pre; border-radius: 4px; font-size: 12px; }}
td.cell:hover .tip {{ display: block; }}
.legend span {{ padding: 1px 6px; margin-right: 6px; border: 1px solid #ccc; }}
</style></head><body>
<h1>exitmatrix: {target}</h1>
<p>{tool} on {host}; profile {chain}. {cells} cells: {conf} conform, {dev} deviate, {noexp} without expectation,
{err} not observed, {ni} not installed, {div} known emulator divergences{incomplete}.</p>
<p class="legend"><span class="conforms" style="background:#d9f2d9">conforms</span><span style="background:#f8c9c9">deviates</span><span style="background:#fbe3b8">no expectation</span><span style="background:#e0c8f0">not observed</span><span style="background:#e6e6e6">not installed</span><span style="background:#fff3a8">known emulator divergence</span> Hover a cell for its details.</p>
<table id="matrix"><thead><tr><th>behaviour</th><th>build</th>"#,
        target = esc(&report.target),
        tool = esc(&report.tool),
        host = esc(&report.host),
        chain = esc(&report.profile_chain.join(" → ")),
        cells = s.cells,
        conf = s.conforms,
        dev = s.deviates,
        noexp = s.no_expectation,
        err = s.errors,
        ni = s.not_installed,
        div = s.known_divergences,
        incomplete = if report.incomplete {
            " (incomplete: interrupted)"
        } else {
            ""
        },
    );
    for o in &observers {
        let _ = write!(page, "<th>{}</th>", esc(o));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for (behaviour, build) in &rows {
        let _ = write!(
            page,
            "<tr><th>{}</th><td>{}</td>",
            esc(behaviour),
            esc(build)
        );
        for o in &observers {
            match index.get(&(behaviour.as_str(), build.clone(), *o)) {
                Some(c) => {
                    let text = if c.verdict == Verdict::NotInstalled {
                        "not installed"
                    } else {
                        &c.observed_text
                    };
                    let _ = write!(
                        page,
                        r#"<td class="cell {}" data-verdict="{}">{}<div class="tip">{}</div></td>"#,
                        verdict_class(c.verdict),
                        verdict_class(c.verdict),
                        esc(text),
                        esc(&details(c)),
                    );
                }
                None => page.push_str("<td></td>"),
            }
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table>\n</body></html>\n");
    page
}

/// The build column of the HTML grid: the build, or `own case`.
fn build_text(row: &Row) -> String {
    row.build()
        .map_or_else(|| "own case".to_owned(), |b| b.to_string())
}
