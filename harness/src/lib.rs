//! exitmatrix: a conformance harness for program exit behaviour.
//!
//! See `ARCHITECTURE.md` at the repository root for the bird's-eye view.

pub mod assert;
pub mod cli;
pub mod engine;
pub mod observers;
pub mod process;
pub mod pure;
pub mod report;
pub mod toolchain;

/// The README's Rust examples, compiled and run as doctests so they cannot
/// rot.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
