//! [`PromptLibrary`]: every prompt of the server, keyed by id, and [`SharedPrompts`], the
//! handle that swaps a whole library atomically (a reload, a new announcement) without
//! touching calls in progress: they keep the `Arc<Prompt>`s they already hold.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::error::MediaError;
use super::prompt::Prompt;

/// An immutable set of prompts keyed by id (the WAV file stem).
#[derive(Debug, Default, Clone)]
pub struct PromptLibrary {
    dir: Option<PathBuf>,
    prompts: HashMap<String, Arc<Prompt>>,
}

impl PromptLibrary {
    /// An empty library (prompts added with [`PromptLibrary::insert`]).
    pub fn new() -> PromptLibrary {
        PromptLibrary::default()
    }

    /// Loads every `*.wav` of `dir` (not recursive); the id of each is its file stem. Fails
    /// if the directory cannot be listed or any WAV cannot be loaded, naming every bad file.
    pub fn load_dir(dir: &Path) -> Result<PromptLibrary, MediaError> {
        let dir_err = |source| MediaError::PromptDir {
            path: dir.to_owned(),
            source,
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(dir_err)? {
            let path = entry.map_err(dir_err)?.path();
            let is_wav = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
            if is_wav && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut lib = PromptLibrary {
            dir: Some(dir.to_owned()),
            prompts: HashMap::new(),
        };
        let mut errors = Vec::new();
        for path in paths {
            match Prompt::from_wav_file(&path) {
                Ok(p) => {
                    lib.prompts.insert(p.name().to_owned(), Arc::new(p));
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(lib)
        } else {
            Err(MediaError::Prompts(errors))
        }
    }

    /// The prompt `id`, shared (cloning the `Arc` does not copy audio).
    #[inline]
    pub fn get(&self, id: &str) -> Option<&Arc<Prompt>> {
        self.prompts.get(id)
    }

    /// Checks that every id exists; the error names the file each missing one should be.
    pub fn require<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Result<(), MediaError> {
        let missing: Vec<MediaError> = ids
            .into_iter()
            .filter(|id| !self.prompts.contains_key(*id))
            .map(|id| MediaError::MissingPrompt {
                id: id.to_owned(),
                path: self
                    .dir
                    .clone()
                    .unwrap_or_default()
                    .join(format!("{id}.wav")),
            })
            .collect();
        match missing.len() {
            0 => Ok(()),
            1 => Err(missing.into_iter().next().expect("one")),
            _ => Err(MediaError::Prompts(missing)),
        }
    }

    /// Adds or replaces a prompt under its name.
    pub fn insert(&mut self, prompt: Arc<Prompt>) {
        self.prompts.insert(prompt.name().to_owned(), prompt);
    }

    /// Number of prompts.
    pub fn len(&self) -> usize {
        self.prompts.len()
    }

    /// Whether the library has no prompt.
    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }

    /// The ids, sorted.
    pub fn ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.prompts.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }
}

/// The server's current library, replaced atomically. Reading is lock-free (`arc-swap`), so
/// a new call picks up the current library without contending with anyone.
#[derive(Debug)]
pub struct SharedPrompts {
    current: ArcSwap<PromptLibrary>,
}

impl SharedPrompts {
    /// Starts with `library`.
    pub fn new(library: PromptLibrary) -> SharedPrompts {
        SharedPrompts {
            current: ArcSwap::from_pointee(library),
        }
    }

    /// The library now; a call takes it once at start (or each prompt it needs from it).
    pub fn current(&self) -> Arc<PromptLibrary> {
        self.current.load_full()
    }

    /// The prompt `id` of the current library.
    pub fn get(&self, id: &str) -> Option<Arc<Prompt>> {
        self.current.load().get(id).cloned()
    }

    /// Replaces the whole library (e.g. after reloading the directory).
    pub fn replace(&self, library: PromptLibrary) {
        self.current.store(Arc::new(library));
    }

    /// Adds or replaces one prompt (e.g. a new announcement recorded by the staff).
    pub fn upsert(&self, prompt: Arc<Prompt>) {
        self.current.rcu(|lib| {
            let mut next = PromptLibrary::clone(lib);
            next.insert(prompt.clone());
            next
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::wav::write_wav;

    fn write_tone(path: &Path, ms: usize) {
        let samples: Vec<i16> = (0..ms * 8).map(|i| ((i % 16) as i16 - 8) * 500).collect();
        let mut f = std::fs::File::create(path).unwrap();
        write_wav(&mut f, &samples, 8000).unwrap();
    }

    #[test]
    fn loads_a_directory_by_stem() {
        let dir = tempfile::tempdir().unwrap();
        write_tone(&dir.path().join("welcome.wav"), 100);
        write_tone(&dir.path().join("bye.WAV"), 60);
        std::fs::write(dir.path().join("manifest.toml"), "ignored").unwrap();
        let lib = PromptLibrary::load_dir(dir.path()).unwrap();
        assert_eq!(lib.ids(), ["bye", "welcome"]);
        assert_eq!(lib.get("welcome").unwrap().duration().as_millis(), 100);
        lib.require(["welcome", "bye"]).unwrap();
        let e = lib.require(["welcome", "menu"]).unwrap_err();
        assert!(
            e.to_string()
                .contains(&dir.path().join("menu.wav").display().to_string()),
            "{e}"
        );
    }

    #[test]
    fn every_unreadable_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        write_tone(&dir.path().join("ok.wav"), 40);
        std::fs::write(dir.path().join("broken.wav"), b"not a wav").unwrap();
        std::fs::write(dir.path().join("empty.wav"), b"").unwrap();
        let e = PromptLibrary::load_dir(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("broken.wav") && e.contains("empty.wav") && e.starts_with("2 "),
            "{e}"
        );
        let e = PromptLibrary::load_dir(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope"), "{e}");
    }

    #[test]
    fn swapping_does_not_touch_prompts_in_use() {
        let first = Arc::new(Prompt::from_pcm("welcome", &[1000; 800], 8000).unwrap());
        let mut lib = PromptLibrary::new();
        lib.insert(first.clone());
        let shared = SharedPrompts::new(lib);
        let in_call = shared.get("welcome").unwrap();

        let second = Arc::new(Prompt::from_pcm("welcome", &[1000; 1600], 8000).unwrap());
        shared.upsert(second);
        shared.upsert(Arc::new(Prompt::from_pcm("news", &[5; 80], 8000).unwrap()));
        assert_eq!(
            in_call.duration().as_millis(),
            100,
            "the call keeps its prompt"
        );
        assert_eq!(shared.get("welcome").unwrap().duration().as_millis(), 200);
        assert_eq!(shared.current().len(), 2);

        shared.replace(PromptLibrary::new());
        assert!(shared.get("welcome").is_none());
        assert!(Arc::ptr_eq(&in_call, &first));
    }
}
