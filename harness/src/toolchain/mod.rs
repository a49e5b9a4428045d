//! Building the probes: cargo for the host, Debian's rustc 1.63 and the
//! cross C compilers for foreign targets.

pub mod crossbuild;
pub mod probes;
pub mod runners;
