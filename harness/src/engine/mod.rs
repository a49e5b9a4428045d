//! The run engine: a target's cells through spawn, reap, decode and expect.
//!
//! `matrix` runs the native cells, `foreign` a foreign target's through its
//! runner and the in-target `agent`; `target` knows the targets and finds
//! their runners.

pub mod agent;
pub mod error;
pub mod foreign;
pub mod matrix;
pub mod run;
