//! Placeholder until the benches issue: criterion benches of spawn and reap.
