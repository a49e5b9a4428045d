//! exitmatrix's own tests, in one binary so the suite links once.

mod assertions; // the assertion library, as another crate would use it
mod catalogue; // the catalogue and the probes agree
mod cli; // test-matrix end to end: exit codes, reports, diffs
mod common; // the probe set, built once
mod decode; // the decoder against the C macros and std
mod hygiene; // interrupts, zombies, orphans, cores, determinism, bad input
mod outcome; // profile outcome words
mod profile; // profile loading and errors
mod spawn; // the spawn path's guarantees and the reapers
