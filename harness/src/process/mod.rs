//! The process layer: starting a probe in a known state, waiting for it by
//! pid, and ending it when it overstays.
//!
//! `spawn` is the portable path, `fastspawn` Linux's vfork-style one; `reap`
//! turns what the kernel reports into [`RawStatus`](crate::pure::decode::RawStatus)
//! values; `watchdog` kills a probe's process group at its deadline. This is
//! the only layer besides the OS layer that may contain `unsafe`.

pub mod fastspawn;
pub mod probe;
pub mod reap;
pub mod spawn;
pub mod watchdog;
