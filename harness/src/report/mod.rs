//! The report of a run: the model (`model`), its renderings for people
//! (`text`: tables, Markdown, findings) and for CI (`formats`: JUnit,
//! HTML), and the combined compatibility table of several targets
//! (`compat`).

pub mod compat;
pub mod formats;
pub mod model;
pub mod text;
