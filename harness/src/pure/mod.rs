//! The pure core: what exit behaviour *means*, with no process work.
//!
//! Signals and their tables, the decoding of raw statuses, the outcome words
//! of profiles and reports, the views' mappings (with Plan 9's wait
//! messages), the catalogue of behaviours, profiles and the emulator rules.
//! Nothing here spawns, waits, signals or reads the clock; nothing here is
//! `unsafe` or depends on the host's `cfg`. Everything above builds on these
//! values.

pub mod catalogue;
pub mod decode;
pub mod emulator;
pub mod observers;
pub mod outcome;
pub mod plan9;
pub mod profile;
pub mod remote;
pub mod signal;
pub mod target;
pub mod view;
