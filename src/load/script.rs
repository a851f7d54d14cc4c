//! What each load call does: the scripts (the full parent call, the short call) and the
//! per-call codes they type, read from the file `bench/families.py` writes.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};

/// How long one key press lasts on the wire (six RFC 4733 packets, 20 ms apart).
pub const PRESS: Duration = Duration::from_millis(120);

/// The pause after each key press before the next one: a brisk but human pace (about 5
/// keys a second, as SIPp's INFO scenario types).
pub const BETWEEN_KEYS: Duration = Duration::from_millis(80);

/// One step of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Listen for this long.
    Wait(Duration),
    /// Type these keys (`0`-`9`, `*`, `#`), one press every [`PRESS`] + [`BETWEEN_KEYS`].
    Keys(String),
}

impl Step {
    /// How long the step takes.
    pub fn duration(&self) -> Duration {
        match self {
            Step::Wait(d) => *d,
            Step::Keys(keys) => (PRESS + BETWEEN_KEYS) * keys.len() as u32,
        }
    }
}

/// Which call every caller places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Script {
    /// The full parent call of the capacity benchmark: welcome; child code and `#`; payer
    /// code and `#`; 1 (book); 3 and the date as DDMM; 1 (the meal); the read-back, 1
    /// confirms; the confirmation is heard; hang up. One new booking per call. The same
    /// keys and pauses as `sipp-scenarios/parent-call-info.xml`.
    Parent,
    /// Answer, one second of the welcome prompt, hang up (the call-rate steps).
    Short,
}

/// The codes one parent call types. Test data made by `bench/families.py`, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct CallCodes {
    /// The child's code.
    pub child: String,
    /// The payer's code.
    pub payer: String,
    /// The day to book, as DDMM.
    pub date: String,
}

impl std::fmt::Debug for CallCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Codes are secrets, even in a debug print.
        f.write_str("CallCodes { .. }")
    }
}

impl Script {
    /// The steps of one call; `codes` is needed by the parent call only.
    pub fn steps(self, codes: Option<&CallCodes>) -> anyhow::Result<Vec<Step>> {
        let ms = |n| Step::Wait(Duration::from_millis(n));
        let keys = |s: &str| Step::Keys(s.to_string());
        Ok(match self {
            Script::Short => vec![ms(1000)],
            Script::Parent => {
                let c = codes.context("the parent call needs codes (--codes FILE)")?;
                vec![
                    ms(1500),
                    keys(&format!("{}#", c.child)),
                    ms(800),
                    keys(&format!("{}#", c.payer)),
                    ms(2000),
                    keys("1"),
                    ms(1000),
                    keys("3"),
                    ms(800),
                    keys(&c.date),
                    ms(1000),
                    keys("1"),
                    ms(1500),
                    keys("1"),
                    ms(3000),
                ]
            }
        })
    }
}

/// Reads the codes file: a header `child_code;payer_code;date_ddmm`, then one line per call.
/// Every field must be digits (the date exactly four); a bad line is an error naming it.
pub fn read_codes(path: &Path) -> anyhow::Result<Vec<CallCodes>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("lecture de {}", path.display()))?;
    parse_codes(&text).with_context(|| format!("fichier de codes {}", path.display()))
}

/// Parses the text of a codes file (see [`read_codes`]).
pub fn parse_codes(text: &str) -> anyhow::Result<Vec<CallCodes>> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim() == "child_code;payer_code;date_ddmm" => {}
        _ => bail!("line 1: expected the header child_code;payer_code;date_ddmm"),
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.trim().split(';').collect();
        let [child, payer, date] = fields[..] else {
            bail!("line {}: expected three fields separated by ';'", i + 1);
        };
        if !(digits(child) && digits(payer) && digits(date) && date.len() == 4) {
            bail!(
                "line {}: the codes must be digits and the date DDMM (four digits)",
                i + 1
            );
        }
        out.push(CallCodes {
            child: child.into(),
            payer: payer.into(),
            date: date.into(),
        });
    }
    if out.is_empty() {
        bail!("no call in the file");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_call_types_the_codes_between_the_same_pauses_as_the_sipp_scenario() {
        let codes = parse_codes("child_code;payer_code;date_ddmm\n400001;500001;1412\n").unwrap();
        let steps = Script::Parent.steps(Some(&codes[0])).unwrap();
        let typed: String = steps
            .iter()
            .filter_map(|s| match s {
                Step::Keys(k) => Some(k.as_str()),
                Step::Wait(_) => None,
            })
            .collect();
        assert_eq!(typed, "400001#500001#13141211");
        let total: Duration = steps.iter().map(Step::duration).sum();
        // 11.6 s of pauses and 22 presses of 200 ms.
        assert_eq!(total, Duration::from_millis(11_600 + 22 * 200));
        assert!(Script::Parent.steps(None).is_err());
    }

    #[test]
    fn bad_codes_files_name_the_line() {
        for (text, want) in [
            ("", "line 1"),
            ("child;payer\n", "line 1"),
            ("child_code;payer_code;date_ddmm\n", "no call"),
            ("child_code;payer_code;date_ddmm\n1;2;0101\n1;2\n", "line 3"),
            ("child_code;payer_code;date_ddmm\n1;2a;0101\n", "line 2"),
            ("child_code;payer_code;date_ddmm\n1;2;101\n", "line 2"),
        ] {
            let err = parse_codes(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn codes_do_not_show_in_debug_output() {
        let codes = parse_codes("child_code;payer_code;date_ddmm\n400001;500001;1412\n").unwrap();
        assert!(!format!("{codes:?}").contains("400001"));
    }
}
