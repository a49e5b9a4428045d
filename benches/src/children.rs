//! The child programs the benches start.

use std::path::{Path, PathBuf};

use exitmatrix::pure::catalogue::{Build, ProbeBin};

/// `_start` → `exit_group(0)`: no C library, no loader (`probes/noop.c`).
pub const NOOP: &str = env!("EXITMATRIX_BENCH_NOOP");
/// `int main(void) { return 0; }`, linked statically.
pub const C_STATIC: &str = env!("EXITMATRIX_BENCH_C_STATIC");
/// `int main(void) { return 0; }`, linked dynamically.
pub const C_DYNAMIC: &str = env!("EXITMATRIX_BENCH_C_DYNAMIC");
/// Stamps the time into a shared file, then exits (`probes/stamp.c`).
pub const STAMP: &str = env!("EXITMATRIX_BENCH_STAMP");

/// The workspace's target directory: `CARGO_TARGET_DIR`, else `target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || exitmatrix::toolchain::probes::workspace_root().join("target"),
        PathBuf::from,
    )
}

/// Builds the Rust probe `main-unit` (`fn main() {}`, profile
/// `probe-unwind`) into a target directory of the benches' own, so that the
/// build never waits on the lock of the `cargo bench` running it.
pub fn rust_main_unit() -> PathBuf {
    let dir = target_dir().join("bench-probes");
    let set = exitmatrix::toolchain::probes::build_native(&dir, &[Build::Unwind])
        .unwrap_or_else(|e| panic!("building the Rust probe into {}: {e}", dir.display()));
    set.path(Build::Unwind, ProbeBin::MainUnit)
        .expect("the unwind build was made")
}

/// `path` as a `Path`, for the constants above.
pub fn path(p: &'static str) -> &'static Path {
    Path::new(p)
}
