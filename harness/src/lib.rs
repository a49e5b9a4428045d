//! exitmatrix: a conformance harness for program exit behaviour.
//!
//! See `ARCHITECTURE.md` at the repository root for the bird's-eye view.

pub mod assert;
pub mod catalogue;
pub mod cli;
pub mod decode;
pub mod matrix;
pub mod observe;
pub mod outcome;
pub mod probes;
pub mod profile;
pub mod reap;
pub mod report;
pub mod signal;
pub mod spawn;
pub mod watchdog;

/// The README's Rust examples, compiled and run as doctests so they cannot
/// rot.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
