//! Configuration: `ivr.toml`, every key with a default, command-line flags on top.
