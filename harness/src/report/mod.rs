//! The report of a run: the model (`model`) and its renderings (`formats`).

pub mod formats;
pub mod model;
pub mod text;
