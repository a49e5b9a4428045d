//! The compatibility table of several targets (`report::compat`): rows
//! grouped by kind, cells compared with the reference target, the page in
//! headless Chromium with its "differences only" filter, and `cargo xtask
//! compare` (exit 0 on the same report, 1 naming a changed cell, 2 with one
//! line on bad input).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock};

use exitmatrix::cli::ExitCode;
use exitmatrix::engine::matrix::Limits;
use exitmatrix::engine::run::{run_target, Request, Target};
use exitmatrix::pure::catalogue::catalogue;
use exitmatrix::pure::observers::own_case_names;
use exitmatrix::report::compat::{self, CellState, Group, LoadError};
use exitmatrix::report::model::Report;
use exitmatrix::systems::{amiga, dos};
use exitmatrix::toolchain::probes::HOST;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{dump_dom, matrix, probes, root, target_dir};

/// The second, made-up target of the tests.
const FAKE: &str = "fake-unknown-target";

/// A real native report of a few rows of several groups (exit codes, a
/// signal, a panic that splits the builds, a shell's own cases), run in
/// process once for all tests.
fn native() -> &'static Report {
    static REPORT: OnceLock<Report> = OnceLock::new();
    REPORT.get_or_init(|| {
        probes();
        let request = Request {
            behaviours: [
                "exit-25",
                "raise-SIGABRT",
                "panic-main",
                "sh-command-not-found",
            ]
            .map(String::from)
            .to_vec(),
            builds: Vec::new(),
            observers: ["waitpid", "waitid", "bash"].map(String::from).to_vec(),
            observer_path: crate::common::observer_path(),
            profile: None,
            profiles_dir: root().join("profiles"),
            target_dir: target_dir(),
            jobs: 2,
            limits: Limits::default(),
            core_pattern: None,
            no_build: true,
            runner: None,
            remote: None,
            bless: false,
            shard: None,
            shared: None,
        };
        let run = run_target(
            &request,
            Target::Native,
            &Arc::new(AtomicUsize::new(0)),
            &mut |_| {},
            &|| {},
        )
        .unwrap_or_else(|e| panic!("the native run: {e}"));
        run.report
    })
}

/// The native report as another target would give it: no shell column, and
/// `waitid` keeps the full exit status of `exit(256)`, as POSIX asks.
fn fake() -> Report {
    let mut r = native().clone();
    r.target = FAKE.to_owned();
    r.observers.retain(|o| o.name != "bash");
    r.cells.retain(|c| c.observer != "bash");
    r.cases.clear();
    for c in &mut r.cells {
        if c.name == "exit-256" && c.observer == "waitid" {
            c.observed_text = "exit 256".to_owned();
        }
    }
    r
}

fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

/// A report as its JSON file holds it.
fn json(report: &Report) -> Value {
    serde_json::to_value(report).unwrap()
}

#[test]
fn every_row_of_the_catalogue_has_a_group() {
    let names: Vec<String> = catalogue()
        .into_iter()
        .map(|b| b.name)
        .chain(own_case_names().into_iter().map(String::from))
        .collect();
    // Only the older systems' rows, `<system>:<case>`, hold a `:`.
    assert!(names.iter().all(|n| !n.contains(':')), "{names:?}");
    let names: Vec<String> = names
        .into_iter()
        .chain(dos::cases().into_iter().map(|c| format!("dos:{}", c.name)))
        .chain(
            amiga::cases()
                .into_iter()
                .map(|c| format!("amigaos:{}", c.name)),
        )
        .collect();
    let other: Vec<&String> = names
        .iter()
        .filter(|n| compat::group_of(n) == Group::Other)
        .collect();
    assert!(other.is_empty(), "rows in no group: {other:?}");
    for g in Group::ALL.into_iter().filter(|g| *g != Group::Other) {
        assert!(
            names.iter().any(|n| compat::group_of(n) == g),
            "no row is in {g}"
        );
        assert_eq!(Group::from_id(g.id()), Some(g));
    }
}

#[rstest::rstest]
#[case("main-unit", Group::ReturnFromMain)]
#[case("c-return-256", Group::ReturnFromMain)]
#[case("exit-256", Group::ExitCodes)]
#[case("c-_exit-minus-1", Group::ExitCodes)]
#[case("exit-from-thread-7", Group::ExitCodes)]
#[case("panic-in-drop-while-unwinding", Group::Panics)]
#[case("abort", Group::AbortsAndFaults)]
#[case("abort-after-partial-print", Group::AbortsAndFaults)]
#[case("stack-overflow", Group::AbortsAndFaults)]
#[case("raise-SIGABRT", Group::Signals)]
#[case("c-raise-SIGKILL", Group::Signals)]
#[case("sigpipe-default", Group::Signals)]
#[case("raise-SIGSTOP", Group::Stops)]
#[case("kill-SIGTTOU", Group::Stops)]
#[case("stop-then-exit-7", Group::Stops)]
#[case("hostile-stops-forever", Group::Watchdog)]
#[case("sh-command-not-found", Group::SpawnFailures)]
#[case("spawn-through-non-directory", Group::SpawnFailures)]
#[case("sh-job-stopped-by-sigtstp", Group::Shells)]
#[case("sh-exit-256", Group::Shells)]
#[case("mp-sys-exit-256", Group::Python)]
#[case("dos:exit-42", Group::Systems)]
#[case("amigaos:return-warn", Group::Systems)]
#[case("something-new", Group::Other)]
fn groups_follow_the_documented_patterns(#[case] name: &str, #[case] group: Group) {
    assert_eq!(compat::group_of(name), group);
}

/// Rows, columns and the comparison with the reference: only the row where
/// the second target saw something else differs, the builds of a panic
/// split, and the table made of the reports is the one made of their JSON.
#[test]
fn differences_are_marked_against_the_reference_target() {
    let reports = [native().clone(), fake()];
    let table = compat::table(&reports);
    assert_eq!(table.reference.as_deref(), Some(HOST));
    assert_eq!(
        table.columns.len(),
        3 + 2,
        "{:?}",
        table.columns.iter().map(|c| c.label()).collect::<Vec<_>>()
    );
    for row in &table.rows {
        assert_eq!(row.cells.len(), table.columns.len(), "{}", row.name);
        assert_eq!(row.group, compat::group_of(&row.name));
    }
    let differing: Vec<(&str, &[String])> = table
        .differing_rows()
        .map(|r| (r.name.as_str(), r.builds.as_slice()))
        .collect();
    assert_eq!(
        differing,
        [("exit-256", &["unwind".to_owned(), "abort".to_owned()][..])],
        "only exit-256 differs, its builds merged"
    );
    let row = table.differing_rows().next().unwrap();
    assert_eq!(row.differs, [FAKE]);
    let marked: Vec<&compat::CompatCell> =
        row.cells.iter().flatten().filter(|c| c.differs).collect();
    assert_eq!(marked.len(), 1, "only the fake target's waitid cell");
    assert_eq!(marked[0].value, "exit 256");
    assert_eq!(marked[0].reference.as_deref(), Some("exit 0"));
    assert_eq!(marked[0].entries.len(), 2, "one entry per build");
    assert_eq!(table.targets[1].differing, 1);
    assert_eq!(table.targets[0].differing, 0);

    // panic-main: exit 101 when unwinding, SIGABRT with panic=abort.
    let panic: Vec<&[String]> = table
        .rows
        .iter()
        .filter(|r| r.name == "panic-main")
        .map(|r| r.builds.as_slice())
        .collect();
    assert_eq!(panic, [["unwind".to_owned()], ["abort".to_owned()]]);

    // The own case: bash only, so the fake target's columns are empty.
    let case = table
        .rows
        .iter()
        .find(|r| r.name == "sh-command-not-found")
        .unwrap();
    assert!(case.own_case);
    assert_eq!(case.group, Group::SpawnFailures);
    assert_eq!(case.cells.iter().flatten().count(), 1);

    // Groups come in table order.
    let order: Vec<usize> = table
        .rows
        .iter()
        .map(|r| Group::ALL.iter().position(|g| *g == r.group).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");

    // The same table from the JSON reports.
    let dir = TempDir::new().unwrap();
    let paths = [
        write_json(dir.path(), "a.json", &json(&reports[0])),
        write_json(dir.path(), "b.json", &json(&reports[1])),
    ];
    assert_eq!(compat::table_from_files(&paths).unwrap(), table);

    // Two runs of one target side by side: told apart, and the same.
    let twice = compat::table(&[native().clone(), native().clone()]);
    let names: Vec<&str> = twice.targets.iter().map(|t| t.target.as_str()).collect();
    assert_eq!(names, [HOST.to_owned(), format!("{HOST} (2)")]);
    assert_eq!(twice.differing_rows().count(), 0);
}

/// A column whose observer the reference does not have (Windows' `agent`)
/// is compared with the reference's first column, and says so.
#[test]
fn a_column_the_reference_lacks_is_compared_with_its_first() {
    let mut agent = fake();
    agent.observers.retain(|o| o.name == "waitid");
    agent.cells.retain(|c| c.observer == "waitid");
    for c in &mut agent.cells {
        c.observer = "agent".to_owned();
    }
    let table = compat::table(&[native().clone(), agent]);
    let column = table.columns.last().unwrap();
    assert_eq!(column.observer, "agent");
    assert_eq!(column.compared_with.as_deref(), Some("waitpid"));
    let differing: Vec<&str> = table.differing_rows().map(|r| r.name.as_str()).collect();
    assert_eq!(differing, ["exit-256"]);
    let page = compat::render_html(&table);
    assert!(page.contains(&format!("compared with {HOST} · waitpid")));
}

/// A behaviour that does not apply to a target shows `n/a` with what it
/// needs, and never counts as a difference.
#[test]
fn a_behaviour_that_does_not_apply_is_na() {
    let dir = TempDir::new().unwrap();
    let mut fake: Value = json(&fake());
    fake["cells"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["behaviour"] != "raise-SIGABRT");
    fake["foreign"] = serde_json::json!({
        "not_applicable": [{ "behaviour": "raise-SIGABRT", "needs": "posix-signals" }],
        "builds_not_made": []
    });
    let paths = [
        write_json(dir.path(), "a.json", &json(native())),
        write_json(dir.path(), "b.json", &fake),
    ];
    let table = compat::table_from_files(&paths).unwrap();
    let row = table
        .rows
        .iter()
        .find(|r| r.name == "raise-SIGABRT")
        .unwrap();
    assert!(row.differs.is_empty());
    let na: Vec<&compat::CompatCell> = row
        .cells
        .iter()
        .flatten()
        .filter(|c| c.state == CellState::NotApplicable)
        .collect();
    assert_eq!(na.len(), 2, "the fake target's waitpid and waitid");
    assert!(na[0].note.as_deref().unwrap().contains("posix-signals"));
}

/// The Markdown has a section per group present, and marks the one value
/// that differs.
#[test]
fn markdown_marks_the_difference() {
    let md = compat::markdown(&[native().clone(), fake()]);
    for heading in [
        "## exit codes",
        "## signals",
        "## panics",
        "## spawn failures",
    ] {
        assert!(md.contains(heading), "{heading}: {md}");
    }
    assert_eq!(md.matches("≠ ").count(), 1, "{md}");
    assert!(md.contains("≠ exit 256"), "{md}");
}

/// The page loads in a real browser with one cell per row and column, the
/// differing cell highlighted, and its filters read from the URL fragment:
/// `#diff` leaves only the rows where a target differs.
#[test]
#[cfg_attr(
    not(have_chromium),
    ignore = "Chromium is not installed: cargo xtask install observers"
)]
fn html_page_renders_and_filters_in_headless_chromium() {
    let reports = [native().clone(), fake()];
    let table = compat::table(&reports);
    let out = TempDir::new().unwrap();
    let written = compat::write(&reports, out.path()).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["compat.html", "compat.md", "compat.json"]);
    let page = out.path().join("compat.html");
    let text = fs::read_to_string(&page).unwrap();
    assert!(
        !text.contains("http://") && !text.contains("https://"),
        "no network"
    );

    let all = dump_dom(&page, "");
    assert!(
        all.contains("<table id=\"compat\">"),
        "the page did not load: {all}"
    );
    let cells = table.rows.len() * table.columns.len();
    assert_eq!(all.matches("<td class=\"c ").count(), cells, "{all}");
    assert_eq!(all.matches("<td class=\"c diff\"").count(), 1, "{all}");
    assert!(
        all.contains(&format!("differs from {HOST} · waitid: exit 0")),
        "{all}"
    );
    assert_eq!(visible_rows(&all), table.rows.len(), "no filter: every row");

    let diff = dump_dom(&page, "#diff");
    assert_eq!(visible_rows(&diff), table.differing_rows().count());
    assert_eq!(visible_rows(&diff), 1);

    let panics = dump_dom(&page, "#group=panics");
    assert_eq!(
        visible_rows(&panics),
        table
            .rows
            .iter()
            .filter(|r| r.group == Group::Panics)
            .count()
    );
    // A target: its columns and the reference's it is compared with
    // (waitpid and waitid, not bash), in every row; with `#diff`, the one
    // row where it differs.
    let target = dump_dom(&page, &format!("#target={FAKE}"));
    assert_eq!(visible_rows(&target), table.rows.len());
    assert_eq!(visible_cells(&target), table.rows.len() * 4, "{target}");
    let target = dump_dom(&page, &format!("#diff&target={FAKE}"));
    assert_eq!(visible_rows(&target), 1);
}

/// Cells (`<td class="c ...">`) the page's script did not hide.
fn visible_cells(dom: &str) -> usize {
    dom.match_indices("<td class=\"c ")
        .filter(|(at, _)| {
            let tag = &dom[*at..];
            !tag[..tag.find('>').unwrap()].contains(" hidden")
        })
        .count()
}

/// `<tr class="row" ...>` elements the page's script left visible.
fn visible_rows(dom: &str) -> usize {
    dom.match_indices("<tr class=\"row\"")
        .filter(|(at, _)| {
            let tag = &dom[*at..];
            let tag = &tag[..tag.find('>').unwrap()];
            !tag.contains(" hidden")
        })
        .count()
}

/// A real `test-matrix` run's report compared with itself: no change, exit
/// 0. A copy with one observation changed, one with an expectation changed
/// and one with a cell removed: exit 1, naming the cell. A copy that differs
/// only in timings, commands and output: exit 0.
#[test]
fn compare_names_the_cells_that_changed() {
    let out = TempDir::new().unwrap();
    let run = matrix(
        out.path(),
        &[
            "-b",
            "exit-25",
            "--build",
            "c",
            "--observer",
            "waitpid",
            "--observer",
            "std",
        ],
    );
    assert_eq!(
        run.code,
        ExitCode::Conforms.code(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let path = out.path().join(format!("report-{HOST}.json"));
    let report: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let cells = report["cells"].as_array().unwrap().len();
    assert!(cells >= 8, "{cells}");

    let same = compat::compare_files(&path, &path).unwrap();
    assert_eq!(same.exit_code(), 0, "{}", same.render());
    assert!(same.render().starts_with("no change"), "{}", same.render());

    let edited = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut copy = report.clone();
        edit(&mut copy);
        write_json(out.path(), name, &copy)
    };
    let first = &report["cells"][0];
    let key = format!(
        "{HOST}: {} [c · {}]",
        first["behaviour"].as_str().unwrap(),
        first["observer"].as_str().unwrap()
    );
    let was = first["observed_text"].as_str().unwrap().to_owned();

    let observed = edited("observed.json", &|r| {
        r["cells"][0]["observed_text"] = "exit 9".into();
    });
    let c = compat::compare_files(&path, &observed).unwrap();
    assert_eq!(c.exit_code(), 1);
    let text = c.render();
    assert_eq!(
        text.lines().filter(|l| l.starts_with("changed: ")).count(),
        1,
        "{text}"
    );
    assert!(
        text.contains(&format!("changed: {key}: value {was} → exit 9")),
        "{text}"
    );

    let expected = edited("expected.json", &|r| {
        r["cells"][0]["expected"]["outcome"] = serde_json::json!(["exit 7"]);
        r["cells"][0]["verdict"] = "deviates".into();
    });
    let text = compat::compare_files(&path, &expected).unwrap().render();
    assert!(
        text.contains(&format!(
            "changed: {key}: verdict conforms → deviates; expected "
        )),
        "{text}"
    );
    assert!(text.contains("→ exit 7"), "{text}");

    let rule = edited("rule.json", &|r| {
        r["cells"][0]["expected"]["location"]["line"] = 9999.into();
    });
    let text = compat::compare_files(&path, &rule).unwrap().render();
    assert!(
        text.contains(&format!("changed: {key}: rule ")) && text.contains(":9999:"),
        "{text}"
    );

    let removed = edited("removed.json", &|r| {
        r["cells"].as_array_mut().unwrap().remove(0);
    });
    let c = compat::compare_files(&path, &removed).unwrap();
    assert_eq!(c.exit_code(), 1);
    assert!(
        c.render()
            .contains(&format!("removed: {key}: {was} (conforms)")),
        "{}",
        c.render()
    );
    let c = compat::compare_files(&removed, &path).unwrap();
    assert!(
        c.render().contains(&format!("added: {key}")),
        "{}",
        c.render()
    );

    let noise = edited("noise.json", &|r| {
        for cell in r["cells"].as_array_mut().unwrap() {
            cell["micros"] = 123_456.into();
            cell["command"] = "/elsewhere/cprobe".into();
            cell["stderr"] = "pid 4242".into();
        }
        r["summary"]["conforms"] = 0.into();
        r["tool"] = "exitmatrix 9.9.9".into();
    });
    let c = compat::compare_files(&path, &noise).unwrap();
    assert_eq!(c.exit_code(), 0, "{}", c.render());
}

/// `compat.json` holds the same cells as the reports it was made of, so
/// either can be compared with the other.
#[test]
fn compat_json_compares_with_the_reports_it_was_made_of() {
    let dir = TempDir::new().unwrap();
    let reports = [native().clone(), fake()];
    compat::write(&reports, dir.path()).unwrap();
    let compat_json = dir.path().join("compat.json");
    let a = write_json(dir.path(), "a.json", &json(&reports[0]));
    let b = write_json(dir.path(), "b.json", &json(&reports[1]));

    let same = compat::compare_files(&compat_json, &compat_json).unwrap();
    assert_eq!(same.exit_code(), 0, "{}", same.render());

    let mut both: BTreeMap<_, _> = compat::load(&a).unwrap().cells;
    both.extend(compat::load(&b).unwrap().cells);
    let loaded = compat::load(&compat_json).unwrap();
    assert_eq!(loaded.kind, compat::LoadedKind::Compat);
    assert_eq!(loaded.targets, [HOST, FAKE]);
    assert_eq!(loaded.cells, both);

    // A single-target report against the table: the other target's cells
    // are "added", nothing else.
    let c = compat::compare_files(&a, &compat_json).unwrap();
    assert_eq!(c.exit_code(), 1);
    assert!(c
        .changes
        .iter()
        .all(|ch| ch.key.target == FAKE && matches!(ch.kind, compat::ChangeKind::Added(_))));
}

/// Unreadable or invalid input is an error of one line, never a panic.
#[test]
fn compare_rejects_bad_input_in_one_line() {
    let dir = TempDir::new().unwrap();
    let good = write_json(dir.path(), "good.json", &json(native()));
    let mut newer: Value = json(native());
    newer["schema"] = 99.into();
    let mut no_name: Value = json(native());
    no_name["cells"][0]
        .as_object_mut()
        .unwrap()
        .remove("behaviour");
    let cases: Vec<(PathBuf, &str)> = vec![
        (dir.path().join("missing.json"), "cannot read"),
        (
            {
                let p = dir.path().join("text.json");
                fs::write(&p, "not json\n").unwrap();
                p
            },
            "not a valid exitmatrix report",
        ),
        (
            write_json(dir.path(), "other.json", &serde_json::json!({"a": 1})),
            "neither",
        ),
        (
            write_json(
                dir.path(),
                "cells.json",
                &serde_json::json!({"schema": 1, "cells": 3}),
            ),
            "not a valid exitmatrix report",
        ),
        (
            write_json(dir.path(), "newer.json", &newer),
            "report schema 99",
        ),
        (
            write_json(dir.path(), "noname.json", &no_name),
            "no `behaviour`",
        ),
        (
            write_json(
                dir.path(),
                "compat.json",
                &serde_json::json!({"kind": "exitmatrix-compat", "schema": 2}),
            ),
            "compat table schema 2",
        ),
    ];
    for (bad, needle) in cases {
        for (old, new) in [(&good, &bad), (&bad, &good)] {
            let e: LoadError = compat::compare_files(old, new).unwrap_err();
            let line = format!("error: {e}");
            assert!(line.contains(needle), "{line}");
            assert!(!line.contains('\n'), "{line}");
            assert!(
                line.contains(&bad.display().to_string()),
                "names the file: {line}"
            );
        }
    }
}

/// A report as an older system gives it (`engine::systems`): no catalogue
/// cells, own cases named as the system names them, profile chain
/// `systems/<name>`. Its case `exit-256` shares the catalogue's name.
fn older_system(name: &str) -> Report {
    let mut r = native().clone();
    r.target = name.to_owned();
    r.profile_chain = vec![format!("systems/{name}")];
    r.foreign = None;
    let mut case = r
        .cells
        .iter()
        .find(|c| c.name == "exit-256" && c.observer == "waitpid")
        .expect("the native report has exit-256 for waitpid")
        .clone();
    case.kind = exitmatrix::report::model::RowKind::OwnCase;
    case.observer = format!("{name}-errorlevel");
    case.observed_text = "0".to_owned();
    r.cells.clear();
    r.cases = vec![case];
    r.observers.clear();
    r
}

/// DOS's and AmigaOS's cases are rows of their own group, `<system>:<case>`,
/// and never cells of the catalogue row of the same name.
#[test]
fn older_systems_have_their_own_rows_and_group() {
    assert_eq!(compat::group_of("dos:exit-42"), Group::Systems);
    assert_eq!(compat::group_of("amigaos:return-warn"), Group::Systems);
    let reports = [native().clone(), older_system("dos")];
    let table = compat::table(&reports);
    let dos_columns: Vec<usize> = (0..table.columns.len())
        .filter(|&c| table.columns[c].target == "dos")
        .collect();
    assert_eq!(dos_columns.len(), 1, "{:?}", table.columns);
    let row = table
        .rows
        .iter()
        .find(|r| r.name == "dos:exit-256")
        .expect("the DOS case has its own row");
    assert_eq!((row.group, row.own_case), (Group::Systems, true));
    let cell = row.cells[dos_columns[0]].as_ref().unwrap();
    assert_eq!(cell.value, "0");
    assert!(!cell.differs, "nothing to compare it with");
    let catalogue_rows: Vec<_> = table.rows.iter().filter(|r| r.name == "exit-256").collect();
    assert!(!catalogue_rows.is_empty());
    for r in catalogue_rows {
        assert!(r.cells[dos_columns[0]].is_none(), "{r:?}");
    }
    // The JSON files give the same rows.
    let dir = TempDir::new().unwrap();
    let files = [
        write_json(dir.path(), "native.json", &json(&reports[0])),
        write_json(dir.path(), "dos.json", &json(&reports[1])),
    ];
    let from_files = compat::table_from_files(&files).unwrap();
    let names = |t: &compat::CompatTable| t.rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&from_files), names(&table));
}

/// A real DOS run in DOSBox: every case is a row of the older systems
/// group, named `dos:<case>`.
#[test]
#[cfg_attr(
    not(have_dosbox),
    ignore = "DOSBox is not installed: cargo xtask install systems"
)]
fn a_dos_run_joins_the_table_in_its_own_group() {
    let out = TempDir::new().unwrap();
    let run = matrix(out.path(), &["--target", "dos", "--format", "summary"]);
    assert_eq!(run.code, ExitCode::Conforms.code(), "{run:?}");
    let dos_json = out.path().join("report-dos.json");
    let dir = TempDir::new().unwrap();
    let native_json = write_json(dir.path(), "native.json", &json(native()));
    let table = compat::table_from_files(&[native_json, dos_json.clone()]).unwrap();
    let report: Value = serde_json::from_str(&fs::read_to_string(&dos_json).unwrap()).unwrap();
    let cases = report["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let name = format!("dos:{}", case["case"].as_str().unwrap());
        let row = table.rows.iter().find(|r| r.name == name);
        assert_eq!(row.map(|r| r.group), Some(Group::Systems), "{name}");
    }
    assert!(table
        .rows
        .iter()
        .filter(|r| r.group == Group::Systems)
        .all(|r| r.name.starts_with("dos:")));
}
