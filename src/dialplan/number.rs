//! Dialled numbers: the national form used to choose a dialplan.

/// Normalises a dialled number (the user part of the SIP Request-URI, or a number written
/// in a dialplan) to the French national form: `+33 4 76 54 99 85`, `0033476549985` and
/// `33476549985` all become `0476549985`. Spaces, dots, dashes and parentheses are dropped.
/// Short numbers (an extension such as `100`) stay as they are. `None` when something other
/// than digits remains, or nothing does.
pub fn normalize_number(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, trimmed),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' => {}
            _ => return None,
        }
    }
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    let national = if plus {
        digits.strip_prefix("33").map(|n| format!("0{n}"))
    } else if let Some(n) = digits.strip_prefix("0033") {
        Some(format!("0{n}"))
    } else if digits.len() == 11 && digits.starts_with("33") {
        Some(format!("0{}", &digits[2..]))
    } else {
        None
    };
    // A foreign number keeps its international form, with the "+".
    Some(national.unwrap_or_else(|| if plus { format!("+{digits}") } else { digits }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_forms_become_national() {
        for raw in [
            "0476549985",
            "04 76 54 99 85",
            "04.76.54.99.85",
            "+33476549985",
            "+33 4 76 54 99 85",
            "0033476549985",
            "33476549985",
        ] {
            assert_eq!(
                normalize_number(raw).as_deref(),
                Some("0476549985"),
                "{raw}"
            );
        }
    }

    #[test]
    fn other_numbers_are_kept_or_refused() {
        assert_eq!(normalize_number("100").as_deref(), Some("100"));
        assert_eq!(
            normalize_number("+41221234567").as_deref(),
            Some("+41221234567")
        );
        assert_eq!(normalize_number(""), None);
        assert_eq!(normalize_number("ivr"), None);
        assert_eq!(normalize_number("04765a"), None);
    }
}
