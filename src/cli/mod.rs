//! Subcommands of the `ivr` binary that live in the library (so tests can drive them).

pub mod fake_provider;
