//! Rebuild when a migration is added, so that `sqlx::migrate!` embeds it; and mark the
//! PostgreSQL halves of the tests ignored when `TEST_DATABASE_URL` is unset, so that
//! `cargo test` counts and lists them ("ignored, TEST_DATABASE_URL is unset") instead of
//! passing them silently.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(ivr_no_test_database)");
    if std::env::var_os("TEST_DATABASE_URL").is_none() {
        println!("cargo:rustc-cfg=ivr_no_test_database");
    }
}
