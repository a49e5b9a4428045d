//! The shape of the code, as a test (after rust-analyzer's tidy test).
//!
//! The harness is built in layers (ARCHITECTURE.md, "Layers"); each layer
//! may import only the layers listed for it in [`LAYERS`], so every
//! dependency points one way and the layers form no cycle. This test walks
//! `harness/src` and fails when a file imports against that direction, has
//! no `//!` documentation, uses `unsafe` or names an operating system in a
//! `cfg` outside the OS and process layers, or is missing from
//! ARCHITECTURE.md's code map.

use std::fs;
use std::path::{Path, PathBuf};

/// Each layer and the layers it may import, lowest first. A layer may
/// always use its own modules.
const LAYERS: &[(&str, &[&str])] = &[
    ("pure", &[]),
    ("report", &["pure"]),
    ("os", &["pure"]),
    ("systems", &["pure", "os"]),
    ("assert", &["pure", "os", "systems"]),
    ("process", &["pure", "os"]),
    ("toolchain", &["pure", "os", "process"]),
    (
        "observers",
        &["pure", "os", "process", "toolchain", "report"],
    ),
    (
        "engine",
        &[
            "pure",
            "os",
            "process",
            "toolchain",
            "observers",
            "report",
            "systems",
        ],
    ),
    (
        "cli",
        &[
            "pure",
            "os",
            "process",
            "toolchain",
            "observers",
            "report",
            "systems",
            "engine",
        ],
    ),
    ("lib", &[]),
];

/// The layers where `unsafe` and `cfg(target_os/unix/windows)` may appear.
const SYSTEM_LAYERS: &[&str] = &["os", "process"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Every `.rs` file under `dir`, as (path relative to `dir`, text).
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The layer a file belongs to: its directory, or its stem for a file at
/// the top (`assert.rs`, `cli.rs`, `lib.rs`).
fn layer_of(rel: &str) -> &str {
    match rel.split_once('/') {
        Some((dir, _)) => dir,
        None => rel.trim_end_matches(".rs"),
    }
}

/// The module path ARCHITECTURE.md names a file by: `pure::decode` for
/// `pure/decode.rs`, `os` for `os/mod.rs`, `cli` for `cli.rs`.
fn module_path(rel: &str) -> String {
    let stem = rel.trim_end_matches(".rs").trim_end_matches("/mod");
    stem.replace('/', "::")
}

/// The code of a file without its comments: line comments (`//`, `///`,
/// `//!`) are dropped, so doc links do not count as imports.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let code = match line.find("//") {
            // A `//` inside a string literal (a URL) is rare in this
            // crate; treat the rest of the line as a comment anyway.
            Some(at) => &line[..at],
            None => line,
        };
        (!code.trim().is_empty()).then_some((i + 1, code))
    })
}

/// Whether `word` occurs in `code` as a whole word.
fn has_word(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        let boundary = |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        boundary(before) && boundary(after)
    })
}

/// The rule violations of one file, as `path:line: what` lines.
fn check_file(rel: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let layer = layer_of(rel);
    let Some(&(_, allowed)) = LAYERS.iter().find(|(name, _)| *name == layer) else {
        return vec![format!(
            "{rel}: layer `{layer}` is not in the tidy test's LAYERS"
        )];
    };
    if !text.starts_with("//!") {
        problems.push(format!("{rel}:1: no `//!` module documentation"));
    }
    let system = SYSTEM_LAYERS.contains(&layer);
    for (n, code) in code_lines(text) {
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let target: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if target.is_empty() || target == layer {
                continue;
            }
            if !allowed.contains(&target.as_str()) {
                problems.push(format!(
                    "{rel}:{n}: layer `{layer}` imports `{target}`, which it may not (allowed: {})",
                    if allowed.is_empty() {
                        "none".to_owned()
                    } else {
                        allowed.join(", ")
                    }
                ));
            }
        }
        if !system && has_word(code, "unsafe") {
            problems.push(format!(
                "{rel}:{n}: `unsafe` outside the OS and process layers"
            ));
        }
        let names_os = ["target_os", "unix", "windows", "target_family"]
            .iter()
            .any(|w| code.contains("cfg") && has_word(code, w));
        if !system && names_os {
            problems.push(format!(
                "{rel}:{n}: a `cfg` naming an OS outside the OS and process layers"
            ));
        }
    }
    problems
}

#[test]
fn the_harness_keeps_its_layers() {
    let src = root().join("harness/src");
    let problems: Vec<String> = sources(&src)
        .iter()
        .flat_map(|(rel, text)| check_file(rel, text))
        .collect();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_module_is_in_the_code_map() {
    let map = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let src = root().join("harness/src");
    let missing: Vec<String> = sources(&src)
        .iter()
        .map(|(rel, _)| module_path(rel))
        .filter(|m| m != "lib")
        .filter(|m| !map.contains(&format!("`{m}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map does not name: {}",
        missing.join(", ")
    );
    for (layer, _) in LAYERS.iter().filter(|(l, _)| *l != "lib") {
        assert!(
            map.contains(&format!("### `{layer}`")),
            "ARCHITECTURE.md has no section for layer `{layer}`"
        );
    }
}

#[test]
fn the_allowed_imports_form_no_cycle() {
    // Each layer may import only layers listed before it.
    for (i, (layer, allowed)) in LAYERS.iter().enumerate() {
        for a in *allowed {
            let j = LAYERS.iter().position(|(l, _)| l == a);
            assert!(
                j.is_some_and(|j| j < i),
                "`{layer}` may import `{a}`, which is not a lower layer"
            );
        }
    }
}

#[test]
fn nothing_imports_the_cli() {
    assert!(LAYERS.iter().all(|(_, allowed)| !allowed.contains(&"cli")));
}

#[rstest::rstest]
#[case::pure_imports_the_engine(
    "pure/decode.rs",
    "//! Doc.\nuse crate::engine::run::Request;\n",
    "layer `pure` imports `engine`"
)]
#[case::report_imports_observers(
    "report/text.rs",
    "//! Doc.\nuse crate::observers::observe::Observer;\n",
    "layer `report` imports `observers`"
)]
#[case::unsafe_in_the_engine(
    "engine/run.rs",
    "//! Doc.\nfn f() { unsafe { g() } }\n",
    "`unsafe` outside"
)]
#[case::cfg_in_observers(
    "observers/shell.rs",
    "//! Doc.\n#[cfg(target_os = \"linux\")]\nfn f() {}\n",
    "a `cfg` naming an OS"
)]
#[case::no_module_doc("pure/signal.rs", "use std::fmt;\n", "no `//!`")]
fn a_deliberate_violation_is_caught(#[case] rel: &str, #[case] text: &str, #[case] needle: &str) {
    let problems = check_file(rel, text);
    assert!(problems.iter().any(|p| p.contains(needle)), "{problems:?}");
}

#[test]
fn doc_links_are_not_imports() {
    let text = "//! See [`crate::engine::run`].\n/// Also [`crate::cli`].\nfn f() {}\n";
    assert_eq!(check_file("pure/decode.rs", text), Vec::<String>::new());
}
