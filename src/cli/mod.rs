//! The binary's subcommands (see `main.rs`).

pub mod fake_provider;
