//! The run engine: one target's cells and own cases through spawn, reap,
//! decode and expect, native or foreign alike.
//!
//! `run` is the one pipeline (`run_target`); `matrix` is its pool of
//! workers and the comparisons; `foreign` prepares a foreign target (runner,
//! canary, profile, cross-built probes), settles its cells and blesses its
//! profile; `remote` runs a foreign target's cases on a device's agent
//! (`--remote`) and `kit` records them into an offline kit or reads its
//! results back; `agent` holds the in-target agent's columns; `error` maps every
//! failure to its exit code; `prereq` lists the optional parts this machine
//! has.

pub mod agent;
pub mod error;
pub mod foreign;
pub mod kit;
pub mod matrix;
pub mod prereq;
pub mod remote;
pub mod run;
pub mod systems;
