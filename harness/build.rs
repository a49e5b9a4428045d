//! Records the host triple, which the probe build needs to find the C
//! compiler for the native target.
fn main() {
    let target = std::env::var("TARGET").expect("cargo sets TARGET for build scripts");
    println!("cargo:rustc-env=EXITMATRIX_HOST={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
