//! What this machine has of the optional parts: each observer's program,
//! each foreign target's toolchain and runner, the older systems' emulators
//! and Chromium.
//!
//! The project's own test suite reads this list at build time
//! (`suites/build.rs`) and marks a test whose prerequisite is missing as
//! ignored, with the reason, so `cargo test` and `cargo nextest` show it
//! as skipped rather than passed. (`cargo xtask install --check` asks each
//! install script instead, which checks the same parts by package.)

use std::path::Path;

use crate::observers::registry;
use crate::pure::target;
use crate::toolchain::runners;

/// The command that installs the optional observers.
pub const INSTALL_OBSERVERS: &str = "cargo xtask install observers";

/// The command that installs the private Rust 1.96 (and the shim Wine
/// needs for its programs); Wine and mingw-w64 come with the targets.
pub const INSTALL_PLATFORMS: &str = "cargo xtask install targets platforms";

/// The command that installs the older systems' emulators.
pub const INSTALL_SYSTEMS: &str = "cargo xtask install systems";

/// One optional part and whether it is here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prerequisite {
    /// The `cfg` name the test suite uses (`have_observer_zsh`,
    /// `have_target_aarch64_unknown_linux_gnu`, `have_chromium`).
    pub cfg: String,
    /// What it is, for people (`observer zsh`).
    pub what: String,
    /// Why it is missing, or `None` if it is here.
    pub missing: Option<String>,
    /// The command that installs it.
    pub fix: &'static str,
}

/// `name` as a `cfg` identifier: lower case, `-` and `.` as `_`.
fn ident(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Every optional part, looked up without running anything: observers on
/// `observer_path`, foreign targets as `--target` would find them (from
/// the workspace at `root`), the older systems' emulators, and Chromium.
pub fn prerequisites(observer_path: &str, root: &Path) -> Vec<Prerequisite> {
    let mut out = Vec::new();
    let mut all_observers = None;
    for o in registry::all(observer_path) {
        let missing = o.available().err();
        if all_observers.is_none() {
            all_observers = missing.clone().map(|m| format!("{}: {m}", o.name()));
        }
        out.push(Prerequisite {
            cfg: format!("have_observer_{}", ident(o.name())),
            what: format!("observer {}", o.name()),
            missing,
            fix: INSTALL_OBSERVERS,
        });
    }
    out.push(Prerequisite {
        cfg: "have_all_observers".into(),
        what: "every observer".into(),
        missing: all_observers,
        fix: INSTALL_OBSERVERS,
    });
    let foreign = runners::foreign_dir(root);
    let specs = match target::load_all(&root.join("targets")) {
        Ok(specs) => specs,
        Err(e) => {
            out.push(Prerequisite {
                cfg: "have_target_descriptions".into(),
                what: "the target descriptions (targets/*.toml)".into(),
                missing: Some(e.to_string()),
                fix: "fix the file the error names",
            });
            Vec::new()
        }
    };
    for spec in &specs {
        let missing = match runners::resolve_runner(spec, None, |_| None, &[], root, &foreign) {
            Ok(runner) => runners::check_installed(spec, &runner, &foreign)
                .err()
                .map(|m| m.what.join(", ")),
            Err(e) => Some(e),
        };
        out.push(Prerequisite {
            cfg: format!("have_target_{}", ident(spec.triple)),
            what: format!("target {}", spec.triple),
            missing,
            fix: runners::install_command(spec),
        });
    }
    for (name, found, cfg) in [
        (
            "DOSBox",
            crate::systems::dos::find_dosbox().err(),
            "have_dosbox",
        ),
        (
            "vamos",
            crate::systems::amiga::find_vamos().err(),
            "have_vamos",
        ),
    ] {
        out.push(Prerequisite {
            cfg: cfg.into(),
            what: format!("{name} (runs the older systems' probes)"),
            missing: found.map(|e| e.to_string()),
            fix: INSTALL_SYSTEMS,
        });
    }
    // `cargo xtask wine-host`: Wine, mingw-w64, the private Rust 1.96 and
    // the ProcessPrng shim its install script builds.
    let cache = runners::cache_dir(root);
    let wine_host_missing = [
        Path::new(runners::WINE64).to_owned(),
        Path::new("/usr/bin/x86_64-w64-mingw32-gcc").to_owned(),
        cache.join("rust-web/.complete"),
        cache.join("prng-shim/bcryptprimitives.dll"),
    ]
    .into_iter()
    .find(|p| !p.exists())
    .map(|p| format!("no {}", p.display()));
    out.push(Prerequisite {
        cfg: "have_wine_host".into(),
        what: "a Windows host under Wine (cargo xtask wine-host)".into(),
        missing: wine_host_missing,
        fix: INSTALL_PLATFORMS,
    });
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    out.push(Prerequisite {
        cfg: "have_chromium".into(),
        what: "Chromium (renders the HTML reports in tests)".into(),
        missing: chromium
            .is_none()
            .then(|| "no /usr/bin/chromium or /usr/bin/chromium-browser".to_owned()),
        fix: INSTALL_OBSERVERS,
    });
    out
}
