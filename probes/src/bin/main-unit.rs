//! Probe: `fn main() {}` falls off its end.
//!
//! Takes no arguments and ignores any it is given: the signature of `main` is
//! the whole behaviour.

fn main() {}
