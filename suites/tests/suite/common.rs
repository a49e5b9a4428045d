//! Shared helpers: the probe set built once per test run.

use std::path::PathBuf;
use std::sync::OnceLock;

use exitmatrix::catalogue::Build;
use exitmatrix::probes::{self, ProbeSet};

/// The workspace root.
pub fn root() -> PathBuf {
    probes::workspace_root()
}

/// A cargo target directory of the suite's own, so building probes from a
/// test never waits on the lock of the `cargo test` that runs it.
pub fn target_dir() -> PathBuf {
    root().join("target").join("suites")
}

/// The probes, built once for all tests of this binary.
pub fn probes() -> &'static ProbeSet {
    static PROBES: OnceLock<ProbeSet> = OnceLock::new();
    PROBES.get_or_init(|| {
        probes::build_native(&target_dir(), &Build::ALL)
            .unwrap_or_else(|e| panic!("building the probes: {e}"))
    })
}
