//! The report formats CI systems and people read: JUnit XML, Markdown and
//! HTML, written next to the JSON report; the HTML page rendered in
//! headless Chromium.

use std::fs;
use std::path::Path;

use exitmatrix::cli::ExitCode;
use exitmatrix::toolchain::probes::HOST;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{self, matrix, matrix_args, root, run_args, target_dir};

fn run(out: &Path, args: &[&str]) -> (u8, String) {
    let r = matrix(out, args);
    (r.code, r.stdout + &r.stderr)
}

fn read(out: &Path, ext: &str) -> String {
    fs::read_to_string(out.join(format!("report-{HOST}.{ext}"))).unwrap()
}

/// A profile copy in which exit-256's waitpid rule is wrong.
fn broken_profiles() -> TempDir {
    let dir = TempDir::new().unwrap();
    for entry in fs::read_dir(root().join("profiles")).unwrap().flatten() {
        if entry.path().is_file() {
            fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        } else {
            let sub = dir.path().join(entry.file_name());
            fs::create_dir_all(&sub).unwrap();
            for f in fs::read_dir(entry.path()).unwrap().flatten() {
                fs::copy(f.path(), sub.join(f.file_name())).unwrap();
            }
        }
    }
    let posix = dir.path().join("posix.toml");
    let text = fs::read_to_string(&posix).unwrap();
    let needle = "observers = [\"waitpid\", \"std\"]\noutcome = \"exit 0\"";
    assert!(text.contains(needle));
    fs::write(
        &posix,
        text.replacen(
            needle,
            "observers = [\"waitpid\", \"std\"]\noutcome = \"exit 7\"",
            1,
        ),
    )
    .unwrap();
    dir
}

/// Every format is written beside the JSON; JUnit has one test case per
/// cell, a deviation is a failure carrying its diff, and the target,
/// observer, raw status and citation are properties.
#[test]
fn junit_has_a_case_per_cell_and_a_failure_per_deviation() {
    let profiles = broken_profiles();
    let out = TempDir::new().unwrap();
    let (code, text) = run(
        out.path(),
        &[
            "--profiles",
            profiles.path().to_str().unwrap(),
            "-b",
            "exit-256",
            "--build",
            "unwind",
            "--observer",
            "waitpid",
            "--observer",
            "waitid",
        ],
    );
    assert_eq!(code, ExitCode::Deviates.code(), "{text}");
    let json: Value = serde_json::from_str(&read(out.path(), "json")).unwrap();
    let cells = json["cells"].as_array().unwrap().len();
    let xml = read(out.path(), "junit.xml");
    assert_eq!(xml.matches("<testcase ").count(), cells, "{xml}");
    assert!(xml.contains(r#"failures="1""#), "{xml}");
    assert!(
        xml.contains("outcome: expected exit 7, observed exit 0"),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<property name="observer" value="waitpid"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<property name="raw" value="0x0000"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<property name="citation" value="POSIX.1-2017 exit()"#),
        "{xml}"
    );
    let md = read(out.path(), "md");
    assert!(md.contains("exit-256"), "{md}");
}

/// The HTML page loads in a real browser and shows every cell, each with
/// its verdict class and hover details.
#[test]
#[cfg_attr(
    not(all(have_chromium, have_observer_bash)),
    ignore = "Chromium or bash is not installed: cargo xtask install observers"
)]
fn html_page_renders_every_cell_in_headless_chromium() {
    let out = TempDir::new().unwrap();
    let (code, text) = run(
        out.path(),
        &[
            "-b",
            "exit-1",
            "-b",
            "raise-SIGABRT",
            "--observer",
            "waitpid",
            "--observer",
            "std",
            "--observer",
            "bash",
        ],
    );
    assert_eq!(code, ExitCode::Conforms.code(), "{text}");
    let json: Value = serde_json::from_str(&read(out.path(), "json")).unwrap();
    // Every cell and every own case is a cell of the grid.
    let cells = json["cells"].as_array().unwrap().len() + json["cases"].as_array().unwrap().len();
    assert!(cells > 10, "{cells}");
    let page = out.path().join(format!("report-{HOST}.html"));
    let dom = common::dump_dom(&page, "");
    assert!(
        dom.contains("<table id=\"matrix\">"),
        "the page did not load: {dom}"
    );
    assert_eq!(
        dom.matches(r#"<td class="cell conforms""#).count(),
        cells,
        "{dom}"
    );
    assert_eq!(dom.matches(r#"<div class="tip">"#).count(), cells);
    assert!(
        dom.contains("cite: POSIX.1-2017"),
        "hover details carry the citation"
    );
}

/// The terminal table is coloured only when asked (a terminal without
/// NO_COLOR or CI); the same run without colour has no escape sequence.
#[test]
fn colour_only_when_asked() {
    let out = TempDir::new().unwrap();
    let render = |color: bool| {
        let mut args = matrix_args(
            &target_dir(),
            out.path(),
            &["-b", "exit-1", "--observer", "waitpid"],
        );
        args.color = color;
        let run = run_args(&args);
        assert_eq!(run.code, ExitCode::Conforms.code());
        run.stdout
    };
    let plain = render(false);
    let coloured = render(true);
    assert!(!plain.contains('\u{1b}'), "{plain}");
    assert!(coloured.contains("\u{1b}["), "{coloured}");
}
