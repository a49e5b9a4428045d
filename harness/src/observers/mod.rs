//! Observers: the parents whose view of an ending is a column of the matrix.
//!
//! `observe` defines the `Observer` trait and the direct reapers; `shell` and
//! `python` are the views; `parent` runs the observers' own cases.

pub mod observe;
pub mod parent;
pub mod python;
pub mod registry;
pub mod shell;
