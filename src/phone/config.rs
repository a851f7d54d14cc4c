//! The `[phone]` section of `ivr.toml`: the voice line's own settings (the staff line for
//! recording the announcement, where recordings are kept, how files are watched).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Settings of the voice line's flows.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhoneConfig {
    /// Directory where announcements recorded by phone are written (one WAV file each,
    /// under `announcements/`); created when needed.
    pub data_dir: PathBuf,
    /// Directory of the staff line's prompts (`manifest.toml` and WAV files).
    pub staff_prompts_dir: PathBuf,
    /// The number staff dial to record the town's announcement (any form: `8000`,
    /// `04 76 54 99 80`); unset, the staff line is off.
    pub staff_number: Option<String>,
    /// The staff PIN as an argon2 PHC string (`$argon2id$v=19$...`), made with
    /// `ivr phone hash-pin`; never the PIN itself. Unset, the staff line is off.
    pub staff_pin_hash: Option<String>,
    /// Longest recording made by phone (an announcement or a prompt), in seconds.
    pub max_announcement_secs: u64,
    /// How often the prompt and dialplan directories are checked for changes, in
    /// milliseconds (0: only on SIGHUP).
    pub reload_poll_ms: u64,
    /// Keep callers' numbers in the call records (the town's choice, to be declared in its
    /// data-protection register); off, a keyed hash of the number is kept instead, which
    /// still counts repeat callers but names nobody.
    pub keep_caller_numbers: bool,
    /// Days call records and the daily login figures are kept (0: for ever); older ones
    /// are deleted as new calls are recorded.
    pub call_records_days: u32,
}

impl Default for PhoneConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            staff_prompts_dir: PathBuf::from("prompts/staff"),
            staff_number: None,
            staff_pin_hash: None,
            max_announcement_secs: 120,
            reload_poll_ms: 2_000,
            keep_caller_numbers: false,
            call_records_days: 400,
        }
    }
}

impl std::fmt::Debug for PhoneConfig {
    /// The PIN hash is not shown: it is still a secret worth guessing against.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneConfig")
            .field("data_dir", &self.data_dir)
            .field("staff_prompts_dir", &self.staff_prompts_dir)
            .field("staff_number", &self.staff_number)
            .field(
                "staff_pin_hash",
                &self.staff_pin_hash.as_ref().map(|_| "***"),
            )
            .field("max_announcement_secs", &self.max_announcement_secs)
            .field("reload_poll_ms", &self.reload_poll_ms)
            .field("keep_caller_numbers", &self.keep_caller_numbers)
            .field("call_records_days", &self.call_records_days)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_unknown_keys() {
        let c: PhoneConfig = toml::from_str("staff_number = \"8000\"").unwrap();
        assert_eq!(c.staff_number.as_deref(), Some("8000"));
        assert_eq!(c.max_announcement_secs, 120);
        let e = toml::from_str::<PhoneConfig>("staff_pin = \"1234\"").unwrap_err();
        assert!(e.to_string().contains("staff_pin"), "{e}");
    }

    #[test]
    fn debug_hides_the_pin_hash() {
        let c = PhoneConfig {
            staff_pin_hash: Some("$argon2id$secret".into()),
            ..PhoneConfig::default()
        };
        assert!(!format!("{c:?}").contains("secret"));
    }
}
