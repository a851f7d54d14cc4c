//! The `[dialplan]` section of the configuration: where the dialplans and prompts are.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::dialplan::error::DialplanError;
use crate::dialplan::manifest::PromptManifest;
use crate::dialplan::set::DialplanSet;

/// Where the voice line finds its call flows and recorded prompts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialplanConfig {
    /// Directory of the dialplan files: `default.toml`, and one file per other dialled line.
    pub dialplans_dir: PathBuf,
    /// Directory of the prompts: `manifest.toml` and one WAV file (8 kHz mono 16-bit) per id.
    pub prompts_dir: PathBuf,
}

impl Default for DialplanConfig {
    fn default() -> Self {
        DialplanConfig {
            dialplans_dir: PathBuf::from("dialplans"),
            prompts_dir: PathBuf::from("prompts/fr"),
        }
    }
}

impl DialplanConfig {
    /// Reads the prompt manifest, then loads and checks every dialplan against it. This is
    /// what a (re)load does: on error, keep the set already running.
    pub fn load(&self) -> Result<(PromptManifest, DialplanSet), DialplanError> {
        let manifest = PromptManifest::load(&self.prompts_dir)?;
        let set = DialplanSet::load_dir(&self.dialplans_dir, &manifest)?;
        Ok((manifest, set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_files_load_from_the_default_places() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let config = DialplanConfig {
            dialplans_dir: root.join(DialplanConfig::default().dialplans_dir),
            prompts_dir: root.join(DialplanConfig::default().prompts_dir),
        };
        let (manifest, set) = config.load().unwrap_or_else(|e| panic!("{e}"));
        assert!(manifest.contains("bienvenue"));
        assert_eq!(set.select("0476549985").name(), "default");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<DialplanConfig>("prompt_dir = \"x\"").unwrap_err();
        assert!(err.to_string().contains("prompt_dir"), "{err}");
        let partial: DialplanConfig = toml::from_str("prompts_dir = \"/srv/prompts\"").unwrap();
        assert_eq!(partial.dialplans_dir, PathBuf::from("dialplans"));
    }
}
