//! Builds `csrc/waitshim.c`, the C library's own `<sys/wait.h>` macros and
//! `<signal.h>` constants, which the `decode` tests compare the harness with;
//! and tells the tests which optional parts this machine has.
//!
//! A test that needs an optional part (a shell, a foreign target, Chromium)
//! carries `#[cfg_attr(not(have_...), ignore = "...")]`: where the part is
//! missing, `cargo test` and `cargo nextest` list it as ignored with the
//! reason instead of passing it. `EXITMATRIX_REQUIRE_ALL=1` (what CI sets)
//! treats every part as present, so a missing one fails its tests instead
//! of skipping them. `EXITMATRIX_OBSERVER_PATH` is where the observers'
//! programs are looked up, as for `--observer-path`.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=csrc/waitshim.c");
    prerequisites();
    // The shim needs <sys/wait.h>; its tests are `#[cfg(unix)]` to match.
    if std::env::var_os("CARGO_CFG_UNIX").is_none() {
        return;
    }
    cc::Build::new()
        .file("csrc/waitshim.c")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("waitshim");
}

fn prerequisites() {
    for var in [
        "EXITMATRIX_OBSERVER_PATH",
        "EXITMATRIX_REQUIRE_ALL",
        "EXITMATRIX_CACHE_DIR",
        "EXITMATRIX_FOREIGN_DIR",
        "PATH",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let observer_path = std::env::var("EXITMATRIX_OBSERVER_PATH")
        .unwrap_or_else(|_| exitmatrix::observers::shell::DEFAULT_SEARCH_PATH.to_owned());
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest)
        .parent()
        .expect("suites/ is in the workspace");
    // What is installed changes with the directories programs live in.
    // Cargo walks a watched directory recursively (following links), so
    // only flat directories and the sysroots are watched: never the Wine
    // prefix, whose `z:` drive links back to `/`.
    let sysroots = exitmatrix::toolchain::runners::foreign_dir(root).join("sysroots");
    let watched = observer_path
        .split(':')
        .map(str::to_owned)
        .chain(["/usr/bin".to_owned(), sysroots.display().to_string()]);
    // A new target description adds a `have_target_*` cfg.
    println!("cargo:rerun-if-changed={}", root.join("targets").display());
    for dir in watched {
        if Path::new(&dir).is_dir() {
            println!("cargo:rerun-if-changed={dir}");
        }
    }
    let require_all = std::env::var("EXITMATRIX_REQUIRE_ALL").is_ok_and(|v| v == "1");
    let all = exitmatrix::engine::prereq::prerequisites(&observer_path, root);
    for p in &all {
        println!("cargo::rustc-check-cfg=cfg({})", p.cfg);
        match &p.missing {
            Some(why) if !require_all => {
                println!(
                    "cargo:warning=skipping the tests that need {}: {why} (install with `{}`)",
                    p.what, p.fix
                );
            }
            _ => println!("cargo:rustc-cfg={}", p.cfg),
        }
    }
}
