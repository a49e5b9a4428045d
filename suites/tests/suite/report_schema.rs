//! The JSON report matches its documentation (docs/report-schema.md): every
//! field a report has is documented, and every documented field that is not
//! marked optional is there.

use std::collections::BTreeSet;
use std::fs;

use exitmatrix::toolchain::probes::HOST;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{matrix, root};

/// The fields of one table of the document: (name, optional?). A row like
/// "| `stdout`, `stderr` | strings | ..." documents both names.
fn documented(section: &str) -> Vec<(String, bool)> {
    let doc = fs::read_to_string(root().join("docs/report-schema.md")).unwrap();
    let start = doc
        .find(&format!("## {section}\n"))
        .unwrap_or_else(|| panic!("no section {section}"));
    let body = &doc[start..];
    let body = &body[..body[3..].find("\n## ").map_or(body.len(), |i| i + 3)];
    let mut fields = Vec::new();
    for line in body.lines().filter(|l| l.starts_with("| `")) {
        let cols: Vec<&str> = line.split('|').collect();
        let optional = cols[2].contains("optional");
        for name in cols[1].split(',') {
            fields.push((name.trim().trim_matches('`').to_owned(), optional));
        }
    }
    assert!(!fields.is_empty(), "{section}");
    fields
}

fn check(section: &str, object: &Value) {
    let fields = documented(section);
    let have: BTreeSet<&str> = object
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let known: BTreeSet<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    let undocumented: Vec<_> = have.difference(&known).collect();
    assert!(
        undocumented.is_empty(),
        "{section}: undocumented fields {undocumented:?}"
    );
    for (name, optional) in &fields {
        assert!(
            *optional || have.contains(name.as_str()),
            "{section}: documented field `{name}` is missing"
        );
    }
}

#[test]
fn a_report_has_exactly_the_documented_fields() {
    let out = TempDir::new().unwrap();
    matrix(
        out.path(),
        &[
            "-b",
            "exit-256",
            "-b",
            "abort",
            "--observer",
            "waitpid",
            "--observer",
            "bash",
        ],
    );
    let report: Value = serde_json::from_str(
        &fs::read_to_string(out.path().join(format!("report-{HOST}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(report["schema"], exitmatrix::report::model::SCHEMA_VERSION);
    check("Top level", &report);
    for cell in report["cells"].as_array().unwrap() {
        check("A cell", cell);
    }
}
