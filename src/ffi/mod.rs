//! The C boundary: the only place that exports `extern "C"` symbols and turns raw pointers
//! from C into Rust references.

pub mod core;
pub mod lua;
pub mod malloc;
pub mod socket;

