use std::fmt;
use std::str::FromStr;

use super::{ParseError, serde_via_str};

/// A ticket key (R-4a): a Jira-style key `PROJ-123` (`[A-Z][A-Z0-9]+-\d+`)
/// or an issue number `#123`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TicketKey {
    /// `PROJ-123`: project key and number.
    Project {
        /// The project key, e.g. `PAY`.
        project: String,
        /// The number within the project.
        number: u64,
    },
    /// `#123`: an issue number in the VCS host's tracker.
    Issue(u64),
}

impl TicketKey {
    /// The project part of a `PROJ-123` key, if any.
    pub fn project(&self) -> Option<&str> {
        match self {
            TicketKey::Project { project, .. } => Some(project),
            TicketKey::Issue(_) => None,
        }
    }
}

const EXPECTED: &str =
    "expected `PROJ-123` (uppercase letter, then uppercase letters or digits, `-`, digits) or `#123`";

fn digits(text: &str, whole: &str) -> Result<u64, ParseError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new("ticket key", whole, EXPECTED));
    }
    text.parse().map_err(|_| ParseError::new("ticket key", whole, "the number is too large"))
}

impl FromStr for TicketKey {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        if let Some(number) = text.strip_prefix('#') {
            return digits(number, text).map(TicketKey::Issue);
        }
        let (project, number) = text.split_once('-').ok_or_else(|| ParseError::new("ticket key", text, EXPECTED))?;
        let mut chars = project.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_uppercase());
        let rest: Vec<char> = chars.collect();
        if !first_ok || rest.is_empty() || !rest.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
            return Err(ParseError::new("ticket key", text, EXPECTED));
        }
        Ok(TicketKey::Project { project: project.to_owned(), number: digits(number, text)? })
    }
}

impl fmt::Display for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TicketKey::Project { project, number } => write!(f, "{project}-{number}"),
            TicketKey::Issue(number) => write!(f, "#{number}"),
        }
    }
}

serde_via_str!(TicketKey);
