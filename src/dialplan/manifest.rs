//! The prompt manifest (`prompts/fr/manifest.toml`): every prompt id and its French text.
//!
//! Each id is a WAV file `<id>.wav` beside the manifest (8 kHz, mono, 16-bit PCM), so a town
//! can re-record any prompt by replacing one file. Dialplans are checked against the ids;
//! `ivr check` reads every file's header.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::dialplan::error::{DialplanError, Problem};
use crate::say;

/// The manifest's file name inside a prompt directory.
pub const MANIFEST_FILE: &str = "manifest.toml";
/// The sample rate of shipped prompts (G.711 and the telephone band).
pub const PROMPT_SAMPLE_RATE: u32 = 8000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    /// Prompt id → the French text it says.
    prompts: BTreeMap<String, String>,
}

/// The prompts of one language directory.
#[derive(Debug, Clone)]
pub struct PromptManifest {
    dir: PathBuf,
    prompts: BTreeMap<String, String>,
}

/// A prompt id is lower-case ASCII letters, digits and `_`: it is also a file name.
pub fn valid_prompt_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl PromptManifest {
    /// Reads `<dir>/manifest.toml`.
    pub fn load(dir: &Path) -> Result<Self, DialplanError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| DialplanError::Io {
            path: path.clone(),
            reason: source,
        })?;
        Self::parse(dir, &path, &text)
    }

    /// Parses manifest text; `dir` is where the WAV files are, `file` names it in errors.
    pub fn parse(dir: &Path, file: &Path, text: &str) -> Result<Self, DialplanError> {
        let problem = |node: Option<String>, message: String| Problem {
            file: file.to_owned(),
            node,
            message,
        };
        let parsed: ManifestFile = toml::from_str(text)
            .map_err(|e| DialplanError::Invalid(vec![problem(None, e.to_string())]))?;
        let mut problems = Vec::new();
        for (id, text) in &parsed.prompts {
            if !valid_prompt_id(id) {
                problems.push(problem(
                    None,
                    format!("identifiant de message « {id} » invalide (minuscules, chiffres et _)"),
                ));
            }
            if text.trim().is_empty() {
                problems.push(problem(
                    None,
                    format!("le message « {id} » n'a pas de texte"),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(DialplanError::Invalid(problems));
        }
        Ok(PromptManifest {
            dir: dir.to_owned(),
            prompts: parsed.prompts,
        })
    }

    /// The directory holding the WAV files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the manifest lists `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.prompts.contains_key(id)
    }

    /// The French text of a prompt.
    pub fn text(&self, id: &str) -> Option<&str> {
        self.prompts.get(id).map(String::as_str)
    }

    /// Every prompt id, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.prompts.keys().map(String::as_str)
    }

    /// Where the WAV file of `id` is.
    pub fn wav_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.wav"))
    }

    /// Checks every listed prompt's file (present, a readable WAV, 8 kHz mono 16-bit) and
    /// that the manifest holds every word the say module can produce.
    pub fn check_files(&self) -> Vec<PromptProblem> {
        let mut problems = Vec::new();
        for word in say::vocabulary() {
            if !self.contains(word) {
                problems.push(PromptProblem {
                    id: word.to_owned(),
                    path: self.dir.join(MANIFEST_FILE),
                    kind: PromptProblemKind::NotInManifest,
                });
            }
        }
        for id in self.ids() {
            let path = self.wav_path(id);
            let kind = match hound::WavReader::open(&path) {
                Err(hound::Error::IoError(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                    Some(PromptProblemKind::Missing)
                }
                Err(e) => Some(PromptProblemKind::Unreadable(e.to_string())),
                Ok(reader) => {
                    let spec = reader.spec();
                    let ok = spec.sample_rate == PROMPT_SAMPLE_RATE
                        && spec.channels == 1
                        && spec.bits_per_sample == 16
                        && spec.sample_format == hound::SampleFormat::Int;
                    if !ok {
                        Some(PromptProblemKind::WrongFormat {
                            sample_rate: spec.sample_rate,
                            channels: spec.channels,
                            bits: spec.bits_per_sample,
                        })
                    } else if reader.duration() == 0 {
                        Some(PromptProblemKind::Empty)
                    } else {
                        None
                    }
                }
            };
            if let Some(kind) = kind {
                problems.push(PromptProblem {
                    id: id.to_owned(),
                    path,
                    kind,
                });
            }
        }
        problems
    }
}

/// A prompt that cannot be played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptProblem {
    /// The prompt id.
    pub id: String,
    /// Its file (or the manifest, for a word missing from it).
    pub path: PathBuf,
    /// What is wrong.
    pub kind: PromptProblemKind,
}

/// What is wrong with a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptProblemKind {
    /// The file does not exist.
    Missing,
    /// The file is not a WAV file hound can read.
    Unreadable(String),
    /// The file is not 8 kHz mono 16-bit PCM.
    WrongFormat {
        /// Its sample rate.
        sample_rate: u32,
        /// Its channel count.
        channels: u16,
        /// Its bits per sample.
        bits: u16,
    },
    /// The file has no samples.
    Empty,
    /// A word the say module needs is not in the manifest.
    NotInManifest,
}

impl fmt::Display for PromptProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (id, path) = (&self.id, self.path.display());
        match &self.kind {
            PromptProblemKind::Missing => write!(f, "{path} : fichier absent (message « {id} »)"),
            PromptProblemKind::Unreadable(e) => {
                write!(f, "{path} : fichier illisible (message « {id} ») : {e}")
            }
            PromptProblemKind::WrongFormat {
                sample_rate,
                channels,
                bits,
            } => write!(
                f,
                "{path} : format {sample_rate} Hz, {channels} canal(aux), {bits} bits \
                 au lieu de 8000 Hz mono 16 bits (message « {id} »)"
            ),
            PromptProblemKind::Empty => write!(f, "{path} : fichier vide (message « {id} »)"),
            PromptProblemKind::NotInManifest => {
                write!(f, "{path} : le mot « {id} » manque au manifeste")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ids_and_empty_texts_are_refused() {
        let err = PromptManifest::parse(
            Path::new("p"),
            Path::new("p/manifest.toml"),
            "[prompts]\n\"Bad-Id\" = \"x\"\nvide = \" \"\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Bad-Id"), "{text}");
        assert!(text.contains("vide"), "{text}");
    }

    #[test]
    fn unknown_tables_are_refused() {
        let err = PromptManifest::parse(
            Path::new("p"),
            Path::new("p/manifest.toml"),
            "[prompt]\na = \"x\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("p/manifest.toml"));
    }
}
