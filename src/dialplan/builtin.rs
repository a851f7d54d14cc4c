//! The shipped prompts and dialplans, built into the binary, so that it runs from any
//! folder: a configured folder that is one of the shipped ones (`prompts/fr`,
//! `prompts/staff`, `dialplans`) and does not exist where the server runs is read from the
//! built-in copy instead. The copy is written out once, under a folder named after its
//! contents, and the loaders, checks and reload watch read it as they read any folder; a
//! town's own folder, where it exists, is always the one used.

use std::io;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));

/// Where a configured folder is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The folder itself.
    Folder(PathBuf),
    /// The built-in copy of the shipped folder of that name, written out here.
    BuiltIn(PathBuf),
}

impl Source {
    /// The folder to read.
    pub fn path(&self) -> &Path {
        match self {
            Source::Folder(p) | Source::BuiltIn(p) => p,
        }
    }

    /// Says which it is, for the logs and `ivr check`.
    pub fn describe(&self, configured: &Path) -> String {
        match self {
            Source::Folder(p) => format!("dossier {}", p.display()),
            Source::BuiltIn(p) => format!(
                "copie intégrée au programme ({} absent ici ; écrite dans {})",
                configured.display(),
                p.display()
            ),
        }
    }
}

/// Where `configured` is read from: the folder when it exists or is not a shipped one;
/// else the built-in copy, written out under `cache` (created if need be).
pub fn resolve(configured: &Path, cache: &Path) -> io::Result<Source> {
    resolve_from(Path::new("."), configured, cache)
}

/// [`resolve`], relative paths starting from `base`.
fn resolve_from(base: &Path, configured: &Path, cache: &Path) -> io::Result<Source> {
    let prefix = shipped_prefix(configured);
    if base.join(configured).exists() || prefix.is_none() {
        return Ok(Source::Folder(configured.to_owned()));
    }
    let prefix = prefix.expect("checked above");
    let root = cache.join(format!("builtin-{FILES_ID}"));
    for (path, bytes) in FILES {
        if path.starts_with(&prefix) {
            write_once(&root.join(path), bytes)?;
        }
    }
    Ok(Source::BuiltIn(root.join(configured)))
}

/// `configured` as the prefix of its built-in files (`prompts/fr/`), when it names a shipped
/// folder the way the default configuration does.
fn shipped_prefix(configured: &Path) -> Option<String> {
    if configured.is_absolute() {
        return None;
    }
    let name = configured
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<Vec<_>>>()?
        .join("/");
    let prefix = format!("{name}/");
    FILES
        .iter()
        .any(|(path, _)| path.starts_with(&prefix))
        .then_some(prefix)
}

/// Writes `bytes` at `path` unless a file of that size is there: a file is written whole
/// under another name and renamed, so a reader never sees half of it.
fn write_once(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() == bytes.len() as u64) {
        return Ok(());
    }
    let dir = path.parent().expect("a file under the cache");
    std::fs::create_dir_all(dir)?;
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_folders_are_built_in_whole() {
        for folder in ["prompts/fr", "prompts/staff", "dialplans"] {
            let prefix = shipped_prefix(Path::new(folder)).expect(folder);
            let on_disk = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(folder))
                .unwrap()
                .count();
            let built_in = FILES.iter().filter(|(p, _)| p.starts_with(&prefix)).count();
            assert_eq!(built_in, on_disk, "{folder}");
        }
        assert_eq!(shipped_prefix(Path::new("/srv/prompts/fr")), None);
        assert_eq!(shipped_prefix(Path::new("prompts/de")), None);
    }

    #[test]
    fn a_missing_shipped_folder_is_read_from_the_copy_and_an_existing_one_from_itself() {
        let package = Path::new(env!("CARGO_MANIFEST_DIR"));
        let here = tempfile::tempdir().unwrap();
        let cache = here.path().join("cache");
        // A town's own folder is read where it is, whether it exists or not.
        let own = here.path().join("mine");
        assert_eq!(
            resolve_from(package, &own, &cache).unwrap(),
            Source::Folder(own.clone())
        );
        let other = Path::new("elsewhere/fr");
        assert_eq!(
            resolve_from(package, other, &cache).unwrap(),
            Source::Folder(other.to_owned())
        );
        // A shipped folder present where the server runs is read there.
        let staff = Path::new("prompts/staff");
        assert_eq!(
            resolve_from(package, staff, &cache).unwrap(),
            Source::Folder(staff.to_owned())
        );
        // Absent: from the built-in copy, the same bytes as shipped, written once.
        let copy = resolve_from(here.path(), staff, &cache).unwrap();
        let Source::BuiltIn(dir) = &copy else {
            panic!("the built-in copy, not {copy:?}")
        };
        assert!(dir.starts_with(&cache));
        for name in ["manifest.toml", "staff_accueil.wav"] {
            assert_eq!(
                std::fs::read(dir.join(name)).unwrap(),
                std::fs::read(package.join("prompts/staff").join(name)).unwrap(),
                "{name}"
            );
        }
        assert_eq!(resolve_from(here.path(), staff, &cache).unwrap(), copy);
        assert!(
            !cache.join("prompts").exists(),
            "only under the copy's own folder"
        );
    }
}
