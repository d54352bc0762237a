//! Chain heads published outside the store (R-9d, issue #19): a release's
//! signed checkpoints written where the team keeps records (the notes
//! folder or wiki repository, a comment on the release ticket), and read back
//! to check a chain against them.
//!
//! A checkpoint kept only in the store can be deleted with the events it
//! vouches for; a published one stays where the store's writer cannot reach
//! it. [`PublishedHeads::read`] accepts what each destination holds: the
//! notes' `<release>.heads.json`, one checkpoint as JSON, or a ticket comment
//! written by [`ticket_comment`] pasted into a file.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Checkpoint;
use crate::model::ParseError;

/// The format name and version of a published heads document.
pub const HEADS_FORMAT: &str = "shipwarden.heads.v1";

/// Where a release's signed checkpoints are published (`[evidence] publish_heads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HeadDestination {
    /// Beside the release notes, at every checkpoint: `<release>.heads.json` in
    /// the notes folder and the notes' git repository (wiki).
    Notes,
    /// A comment on the release ticket, when the release closes.
    Ticket,
}

impl HeadDestination {
    /// Every destination.
    pub const ALL: [HeadDestination; 2] = [HeadDestination::Notes, HeadDestination::Ticket];

    /// The name used in `shipwarden.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            HeadDestination::Notes => "notes",
            HeadDestination::Ticket => "ticket",
        }
    }
}

impl fmt::Display for HeadDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HeadDestination {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        HeadDestination::ALL
            .into_iter()
            .find(|d| d.as_str() == text)
            .ok_or_else(|| ParseError::new("head destination", text, "expected one of notes, ticket"))
    }
}

/// A release's signed checkpoints as published: the file name is
/// [`PublishedHeads::file_name`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedHeads {
    /// [`HEADS_FORMAT`].
    pub format: String,
    /// The release.
    pub release: String,
    /// Its checkpoints, by sequence.
    pub checkpoints: Vec<Checkpoint>,
}

/// Why a published record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a published chain head: {0}")]
pub struct PublishedError(String);

impl PublishedHeads {
    /// The document for `release` with `checkpoints` (sorted by sequence here).
    pub fn new(release: &str, mut checkpoints: Vec<Checkpoint>) -> Self {
        checkpoints.sort_by_key(|c| c.sequence);
        Self { format: HEADS_FORMAT.into(), release: release.to_owned(), checkpoints }
    }

    /// The name it is kept under beside the notes: `<release>.heads.json`.
    pub fn file_name(release: &str) -> String {
        format!("{release}.heads.json")
    }

    /// The document as pretty JSON, with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The newest checkpoint.
    pub fn newest(&self) -> Option<&Checkpoint> {
        self.checkpoints.iter().max_by_key(|c| c.sequence)
    }

    /// Reads a published record: a heads document, one checkpoint as JSON,
    /// or text holding a checkpoint in a fenced ```` ```json ```` block (a
    /// ticket comment by [`ticket_comment`]). Signatures are not checked here.
    ///
    /// # Errors
    /// The text holds none of those, or a document of another format.
    pub fn read(text: &str) -> Result<Self, PublishedError> {
        if let Ok(heads) = serde_json::from_str::<PublishedHeads>(text) {
            if heads.format != HEADS_FORMAT {
                return Err(PublishedError(format!("format is `{}`, expected `{HEADS_FORMAT}`", heads.format)));
            }
            return Ok(Self::new(&heads.release, heads.checkpoints));
        }
        let one = serde_json::from_str::<Checkpoint>(text).ok().or_else(|| {
            text.split("```json").skip(1).find_map(|block| {
                let json = block.split("```").next().unwrap_or_default();
                serde_json::from_str::<Checkpoint>(json.trim()).ok()
            })
        });
        match one {
            Some(c) => Ok(Self::new(&c.stream.clone(), vec![c])),
            None => Err(PublishedError(
                "expected a `<release>.heads.json` document, a checkpoint as JSON, or a release ticket comment \
                 holding one"
                    .into(),
            )),
        }
    }
}

/// The comment a release ticket gets when the release closes: the signed
/// head in words, the command that checks a chain against it, and the
/// checkpoint as JSON that [`PublishedHeads::read`] reads back.
pub fn ticket_comment(checkpoint: &Checkpoint) -> String {
    let json = serde_json::to_string_pretty(checkpoint).unwrap_or_default();
    format!(
        "shipwarden signed chain head (R-9d): {release} reached `{stage}` at sequence {sequence}.\n\
         head: {head}\nsigned: {algorithm} {key} at {at}\nsignature: {signature}\n\n\
         Check the release's audit trail against it: save this comment as a file, then run\n\
         `shipwarden audit {release} --verify --published FILE` (or `--head {head}`).\n\n```json\n{json}\n```\n",
        release = checkpoint.stream,
        stage = checkpoint.stage,
        sequence = checkpoint.sequence,
        head = checkpoint.head,
        algorithm = checkpoint.algorithm,
        key = checkpoint.public_key,
        at = checkpoint.at,
        signature = checkpoint.signature,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::ChainHash;
    use crate::model::Stage;

    fn checkpoint(sequence: u64) -> Checkpoint {
        Checkpoint {
            stream: "shop-1.0.0".into(),
            sequence,
            head: ChainHash::genesis(),
            stage: Stage::Closed,
            at: "2026-12-02T10:00:00Z".parse().expect("time"),
            algorithm: "ed25519".into(),
            public_key: "ab".repeat(32),
            signature: "cd".repeat(64),
        }
    }

    #[test]
    fn every_published_form_reads_back_r9d() {
        let heads = PublishedHeads::new("shop-1.0.0", vec![checkpoint(9), checkpoint(3)]);
        assert_eq!(heads.checkpoints[0].sequence, 3, "sorted by sequence");
        assert_eq!(PublishedHeads::read(&heads.to_json()), Ok(heads.clone()));
        let one = serde_json::to_string(&checkpoint(9)).expect("json");
        assert_eq!(PublishedHeads::read(&one).map(|h| h.newest().cloned()), Ok(Some(checkpoint(9))));
        let comment = ticket_comment(&checkpoint(9));
        assert!(comment.contains("--verify --published"), "{comment}");
        let read = PublishedHeads::read(&comment).expect("a comment reads back");
        assert_eq!((read.release.as_str(), read.checkpoints.len()), ("shop-1.0.0", 1));
        assert!(PublishedHeads::read("hello").is_err());
        let other = heads.to_json().replace(HEADS_FORMAT, "shipwarden.heads.v0");
        assert!(PublishedHeads::read(&other).is_err_and(|e| e.to_string().contains("v0")));
    }

    #[test]
    fn head_destinations_round_trip() {
        for d in HeadDestination::ALL {
            assert_eq!(d.as_str().parse::<HeadDestination>().ok(), Some(d));
        }
        assert!("wiki".parse::<HeadDestination>().is_err());
    }
}
