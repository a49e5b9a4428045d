//! exitmatrix: a conformance harness for program exit behaviour.
//!
//! See `ARCHITECTURE.md` at the repository root for the bird's-eye view.

pub mod agent;
pub mod assert;
pub mod catalogue;
pub mod cli;
pub mod crossbuild;
pub mod decode;
pub mod emulator;
pub mod fastspawn;
pub mod foreign;
pub mod formats;
pub mod matrix;
pub mod observe;
pub mod outcome;
pub mod parent;
pub mod probes;
pub mod profile;
pub mod python;
pub mod reap;
pub mod report;
pub mod shell;
pub mod signal;
pub mod spawn;
pub mod target;
pub mod view;
pub mod watchdog;

/// The README's Rust examples, compiled and run as doctests so they cannot
/// rot.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
