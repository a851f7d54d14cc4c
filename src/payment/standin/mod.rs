//! Local stand-ins of the payment providers, for tests and `ivr demo`; never the real services.
//!
//! Each is an axum [`Router`](axum::Router) that can be mounted in another app or served on
//! its own (e.g. `127.0.0.1:0`); `ivr fake-provider` serves both on a configured address.

/// The stand-in shop's test key (the key of the provider's published example).
pub const STANDIN_TEST_KEY: &str = "1122334455667788";
