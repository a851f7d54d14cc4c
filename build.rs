//! Rebuild when a migration is added, so that `sqlx::migrate!` embeds it; build the shipped
//! prompts and dialplans into the binary (`dialplan::builtin`); and mark the PostgreSQL
//! halves of the tests ignored when `TEST_DATABASE_URL` is unset, so that `cargo test`
//! counts and lists them ("ignored, TEST_DATABASE_URL is unset") instead of passing them
//! silently.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The folders whose every file is built in, relative to the package.
const BUILT_IN: [&str; 2] = ["prompts", "dialplans"];

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(ivr_no_test_database)");
    if std::env::var_os("TEST_DATABASE_URL").is_none() {
        println!("cargo:rustc-cfg=ivr_no_test_database");
    }
    built_in_files();
}

/// Writes `$OUT_DIR/builtin_files.rs`: `FILES`, each file's path (with `/`) and bytes, and
/// `FILES_ID`, a hash of them all that names the folder they are written out to.
fn built_in_files() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    for top in BUILT_IN {
        println!("cargo:rerun-if-changed={top}");
        walk(&root, &root.join(top), &mut files);
    }
    files.sort();
    // FNV-1a over paths and contents: a name for this set of files, not a security check.
    let mut id: u64 = 0xcbf2_9ce4_8422_2325;
    let mut code = String::from("pub(crate) static FILES: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        let bytes = std::fs::read(abs).expect("a built-in file is readable");
        for b in rel.as_bytes().iter().chain(&bytes) {
            id = (id ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        writeln!(
            code,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    writeln!(code, "pub(crate) const FILES_ID: &str = \"{id:016x}\";").unwrap();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("builtin_files.rs"), code).expect("OUT_DIR is writable");
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir).expect("a built-in folder is readable");
    for entry in entries {
        let path = entry.expect("a built-in folder is readable").path();
        if path.is_dir() {
            walk(root, &path, files);
        } else {
            let rel = path.strip_prefix(root).expect("under the package");
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push((rel, path));
        }
    }
}
