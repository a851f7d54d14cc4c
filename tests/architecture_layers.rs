//! The layers of `docs/architecture.md`, held against the code: every module of the library
//! imports only modules of lower layers (never one beside it or above it), so data flows
//! one way, from the edge to the core, and no import circle can form. Read from the source
//! text: each `crate::name` outside comments and test modules is an import of `name`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, top first; a module imports only modules of the layers below its own. The
/// same table stands in `docs/architecture.md`.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["config"],
    &["phone", "web", "mail", "load"],
    &["service"],
    &["store", "sip"],
    &["call", "dialplan", "invoice"],
    &["payment", "say", "core"],
    &["booking", "media", "clock", "metrics"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module of the library a file of `src/` belongs to (`src/web/parent/pay.rs` → `web`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// The code of a file without its comments and its inline test module.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules `code` names as `crate::name`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
            .collect();
        // `crate::name!` is a macro at the crate's root (`#[macro_export]`), not a module.
        let is_macro = rest[name.len()..].starts_with('!');
        if !name.is_empty() && !is_macro {
            out.insert(name);
        }
    }
    out
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    let mut unknown = BTreeSet::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        // The binary's entry and the crate root stand above every layer; test files of a
        // module (`tests.rs`, `proptests.rs`) may use anything.
        if name == "main.rs" || name == "lib.rs" || name == "tests.rs" || name == "proptests.rs" {
            continue;
        }
        let module = module_of(&src, file);
        let Some(own) = layer_of(&module) else {
            unknown.insert(module);
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable source");
        for imported in imports(&code_of(&text)) {
            if imported == module {
                continue;
            }
            match layer_of(&imported) {
                Some(layer) if layer > own => {}
                Some(_) => wrong.push(format!(
                    "{} ({module}) imports {imported}",
                    file.strip_prefix(&src).unwrap().display()
                )),
                None => {
                    unknown.insert(imported);
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "modules in no layer of docs/architecture.md: {unknown:?}"
    );
    assert!(
        wrong.is_empty(),
        "imports of a layer beside or above:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checker_sees_an_import_from_above() {
    let code = code_of(
        "//! See crate::web for the portal.\nuse crate::store::Store;\nfn f() { crate::web::serve(); }\n\
         crate::both_backends!(a);\n\
         #[cfg(test)]\nmod tests {\n    use crate::cli::x;\n}\n",
    );
    let found = imports(&code);
    assert_eq!(
        found,
        BTreeSet::from(["store".to_owned(), "web".to_owned()]),
        "comments, macros and the test module are not imports"
    );
    assert!(
        layer_of("web") < layer_of("store"),
        "web stands above store"
    );
}
