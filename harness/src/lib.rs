//! exitmatrix: a conformance harness for program exit behaviour.
//!
//! When a program ends, its parent learns how: an exit code, a signal, a
//! core dump, a stop. exitmatrix runs probes that end in one precise way
//! each, under many kinds of parent, and checks what each parent saw
//! against a cited expectation for the target being checked.
//!
//! Two parts of this crate are for you:
//!
//! - [`assert`](mod@assert): predicates and an [`assert_cmd`] extension for your own
//!   tests (`.signaled(Signal::ABRT)`, `.exited(255)`, `.core_dumped()`),
//!   which fail with a case tree saying what ended how.
//! - [`report`]: the report of a `cargo xtask test-matrix` run as data
//!   ([`report::model::Report`], the JSON schema of
//!   `docs/report-schema.md`) and its renderings.
//!
//! The words both use are re-exported here: [`StateChange`] (how a process
//! ended, stopped or continued), [`Signal`] and [`SignalTable`].
//!
//! With `default-features = false` only the assertions are built (and the
//! decoder, signal tables and OS layer they read, and `systems`' OpenVMS
//! decoder): the `engine` feature, on by default, adds `report` and the
//! machinery behind `cargo xtask test-matrix`.
//!
//! Everything else is the engine behind `cargo xtask test-matrix`, in
//! layers (see `ARCHITECTURE.md`): `pure` (what statuses mean), `os` (the
//! only home of FFI besides `process`), `process` (spawn, reap, watchdog),
//! `toolchain` (building probes, finding runners), `systems` (DOS, AmigaOS,
//! OpenVMS), `observers` (the parents), `engine` (one run of one target),
//! and `cli`. Those modules are public for the project's own
//! `xtask`, tests and benches and are hidden from the documentation: they
//! are not a stable API.

#![warn(missing_docs)]

pub mod assert;
#[cfg(feature = "engine")]
pub mod report;

#[cfg(feature = "engine")]
#[doc(hidden)]
pub mod cli;
#[cfg(feature = "engine")]
#[doc(hidden)]
pub mod engine;
#[cfg(feature = "engine")]
#[doc(hidden)]
pub mod observers;
#[doc(hidden)]
pub mod os;
#[cfg(feature = "engine")]
#[doc(hidden)]
pub mod process;
#[doc(hidden)]
pub mod pure;
#[doc(hidden)]
pub mod systems;
#[cfg(feature = "engine")]
#[doc(hidden)]
pub mod toolchain;

pub use pure::decode::{RawStatus, StateChange};
pub use pure::signal::{Signal, SignalTable};

/// The README's Rust examples, compiled and run as doctests so they cannot
/// rot.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
