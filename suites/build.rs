//! Builds `csrc/waitshim.c`, the C library's own `<sys/wait.h>` macros and
//! `<signal.h>` constants, which the `decode` tests compare the harness with.

fn main() {
    println!("cargo:rerun-if-changed=csrc/waitshim.c");
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
