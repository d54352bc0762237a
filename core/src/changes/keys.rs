//! Ticket keys in commit messages (R-4a, R-4b).

use std::collections::HashSet;

use crate::model::TicketKey;

/// Every ticket key in `text`: `PROJ-123` (an uppercase letter, then
/// uppercase letters or digits, `-`, digits) or `#123`, each where it is not
/// part of a longer word. In order of appearance, without repeats.
///
/// Linear in the text: repeats are found with a set, so a message listing
/// 100,000 keys parses in milliseconds (issue #18).
pub fn ticket_keys(text: &str) -> Vec<TicketKey> {
    let mut keys = Vec::new();
    let mut seen = HashSet::new();
    extend_keys(text, &mut keys, &mut seen);
    keys
}

/// Appends the keys of `text` not yet in `seen` to `keys`, in order of appearance.
pub(crate) fn extend_keys(text: &str, keys: &mut Vec<TicketKey>, seen: &mut HashSet<TicketKey>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let boundary =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b'-');
        let end = if boundary { key_end(bytes, i) } else { None };
        match end {
            Some(end) => {
                if let Ok(key) = text[i..end].parse::<TicketKey>()
                    && !seen.contains(&key)
                {
                    seen.insert(key.clone());
                    keys.push(key);
                }
                i = end;
            }
            None => i += 1,
        }
    }
}

/// The end of a key starting at `start`, if one does and is not followed by a word character.
fn key_end(bytes: &[u8], start: usize) -> Option<usize> {
    let digits_from = |mut j: usize| {
        let first = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        (j > first).then_some(j)
    };
    let end = if bytes[start] == b'#' {
        digits_from(start + 1)?
    } else {
        if !bytes[start].is_ascii_uppercase() {
            return None;
        }
        let mut j = start + 1;
        while j < bytes.len() && (bytes[j].is_ascii_uppercase() || bytes[j].is_ascii_digit()) {
            j += 1;
        }
        if j - start < 2 || bytes.get(j) != Some(&b'-') {
            return None;
        }
        digits_from(j + 1)?
    };
    let after_ok = bytes.get(end).is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
    after_ok.then_some(end)
}
