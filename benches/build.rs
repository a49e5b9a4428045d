//! Builds the benches' own child programs into `OUT_DIR` and passes their
//! paths to the bench as `EXITMATRIX_BENCH_<NAME>`:
//!
//! - `noop`: no C library, `_start` → `exit_group(0)` (probes/noop.c);
//! - `c-static` and `c-dynamic`: `int main(void) { return 0; }` (probes/cmain.c);
//! - `stamp`: the reap-latency child (probes/stamp.c), static.
//!
//! The compiler is the one the `cc` crate finds for the target (`CC`, then
//! `cc`), as for the C probe.

use std::path::Path;
use std::process::Command;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out);
    let compiler = cc::Build::new()
        .opt_level(2)
        .debug(false)
        .cargo_metadata(false)
        .get_compiler();
    let builds: [(&str, &str, &[&str]); 4] = [
        (
            "NOOP",
            "probes/noop.c",
            &[
                "-nostdlib",
                "-static",
                "-fno-stack-protector",
                "-fno-asynchronous-unwind-tables",
            ],
        ),
        ("C_STATIC", "probes/cmain.c", &["-static"]),
        ("C_DYNAMIC", "probes/cmain.c", &[]),
        ("STAMP", "probes/stamp.c", &["-static"]),
    ];
    for (name, source, flags) in builds {
        println!("cargo:rerun-if-changed={source}");
        let exe = out.join(name.to_lowercase().replace('_', "-"));
        // Only the target's own flags: the cc crate adds -fPIC and friends,
        // which a -static link does not want.
        #[expect(clippy::disallowed_methods, reason = "a compiler, not a probe")]
        let mut command = Command::new(compiler.path());
        command
            .args(["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror"])
            .args(flags)
            .arg("-o")
            .arg(&exe)
            .arg(source);
        let status = command
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", compiler.path().display()));
        assert!(status.success(), "{command:?} failed ({status})");
        println!("cargo:rustc-env=EXITMATRIX_BENCH_{name}={}", exe.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}
