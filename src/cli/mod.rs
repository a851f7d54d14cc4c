//! The subcommands of the `ivr` binary, one file each.

pub mod check;
