//! What the benches compare: ways to start a child and ways to wait for it,
//! the benches' own child programs, and the statistics they leave for
//! `cargo xtask bench-report`.
//!
//! Every method here is a raw system-call path written for measuring, not
//! for the harness: the harness's own paths (`exitmatrix::observers::observe::Direct`,
//! `exitmatrix::process::fastspawn`, `exitmatrix::process::spawn`, the reapers) are called as
//! they are, never copied.
//!
//! Linux only (clone, pidfds, signalfd, memfd).

#![cfg(target_os = "linux")]

pub mod children; // the benches' child programs
pub mod reap; // ways to wait, and the shared time stamp
pub mod spawn; // ways to start a child
pub mod stats; // percentiles, interleaved runs and the JSON files
