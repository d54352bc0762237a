//! What Slack sends to the interactivity endpoint, and what shipwarden puts
//! in its buttons and dialogs. Only the fields used are read; Slack adds
//! fields freely, so unknown ones are ignored.
//!
//! Shapes: <https://api.slack.com/reference/interaction-payloads/block-actions>
//! and <https://api.slack.com/reference/interaction-payloads/views>.

use serde::{Deserialize, Serialize};
use shipwarden::{ApprovalId, ReleaseId};

/// The largest button value read (Slack allows 2000 characters; ours are far shorter).
pub const MAX_VALUE: usize = 512;
/// The largest `private_metadata` read (Slack's own limit is 3000 characters).
pub const MAX_METADATA: usize = 3000;
/// The longest reason kept from the Reject dialog (its input allows no more).
pub const MAX_REASON: usize = 2000;

/// An interaction payload: the `payload` field of the form Slack posts.
#[derive(Debug, Deserialize)]
pub struct Payload {
    /// `block_actions`, `view_submission`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The workspace.
    pub team: Option<Team>,
    /// Who clicked or submitted.
    pub user: Option<User>,
    /// Where to answer a click (block actions on a message).
    pub response_url: Option<String>,
    /// For opening a dialog, within 3 seconds of the click.
    pub trigger_id: Option<String>,
    /// The message clicked on.
    pub container: Option<Container>,
    /// The channel of the message.
    pub channel: Option<Channel>,
    /// The buttons clicked (one for a click).
    #[serde(default)]
    pub actions: Vec<BlockAction>,
    /// The dialog submitted (`view_submission`).
    pub view: Option<View>,
}

/// `team`.
#[derive(Debug, Deserialize)]
pub struct Team {
    /// `T0123ABC`.
    pub id: String,
}

/// `user`.
#[derive(Debug, Deserialize)]
pub struct User {
    /// `U0123ABC`.
    pub id: String,
}

/// `container`: the message a block action came from.
#[derive(Debug, Deserialize)]
pub struct Container {
    /// The message's `ts`.
    pub message_ts: Option<String>,
    /// Its channel.
    pub channel_id: Option<String>,
}

/// `channel`.
#[derive(Debug, Deserialize)]
pub struct Channel {
    /// `C0123ABC`.
    pub id: String,
}

/// One of `actions`.
#[derive(Debug, Deserialize)]
pub struct BlockAction {
    /// `approve` or `reject` on shipwarden's buttons.
    pub action_id: String,
    /// The button's value: a [`ButtonValue`] as JSON.
    pub value: Option<String>,
}

/// `view`: the dialog submitted.
#[derive(Debug, Deserialize)]
pub struct View {
    /// [`REJECT_CALLBACK`] for shipwarden's Reject dialog.
    pub callback_id: Option<String>,
    /// A [`RejectContext`] as JSON.
    #[serde(default)]
    pub private_metadata: String,
    /// What was typed: `values[block_id][action_id].value`.
    pub state: Option<ViewState>,
}

/// `view.state`.
#[derive(Debug, Deserialize)]
pub struct ViewState {
    /// By block, by action.
    #[serde(default)]
    pub values: std::collections::BTreeMap<String, std::collections::BTreeMap<String, InputValue>>,
}

/// One input's state.
#[derive(Debug, Deserialize)]
pub struct InputValue {
    /// The text typed (absent when nothing was).
    pub value: Option<String>,
}

/// The `callback_id` of the Reject dialog.
pub const REJECT_CALLBACK: &str = "shipwarden_reject";
/// The `block_id` and `action_id` of the dialog's reason input.
pub const REASON_INPUT: &str = "reason";

/// What an Approve or Reject button names: `{"release": "shop-1.4.0", "approval": "qa_signoff"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ButtonValue {
    /// The release.
    pub release: ReleaseId,
    /// The approval given or rejected.
    pub approval: ApprovalId,
}

impl ButtonValue {
    /// The value of a button, read strictly: at most [`MAX_VALUE`] bytes of
    /// JSON with exactly a release id and an approval id.
    pub fn parse(text: &str) -> Result<ButtonValue, String> {
        if text.len() > MAX_VALUE {
            return Err(format!("the button's value is {} bytes, more than {MAX_VALUE}", text.len()));
        }
        serde_json::from_str(text).map_err(|e| format!("the button's value is not a release and an approval: {e}"))
    }

    /// As the button carries it.
    pub fn to_value(&self) -> String {
        serde_json::json!({"release": self.release, "approval": self.approval}).to_string()
    }
}

/// What the Reject dialog carries from the click to the submission
/// (`private_metadata`): the button's release and approval, the message
/// clicked on and where to answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectContext {
    /// The release.
    pub release: ReleaseId,
    /// The approval rejected.
    pub approval: ApprovalId,
    /// The message clicked on, `<channel>/<ts>`.
    pub message: Option<String>,
    /// The click's `response_url`.
    pub response_url: String,
}

impl RejectContext {
    /// Reads `private_metadata`, at most [`MAX_METADATA`] bytes.
    pub fn parse(text: &str) -> Result<RejectContext, String> {
        if text.len() > MAX_METADATA {
            return Err(format!("the dialog's metadata is {} bytes, more than {MAX_METADATA}", text.len()));
        }
        serde_json::from_str(text).map_err(|e| format!("the dialog's metadata is not shipwarden's: {e}"))
    }
}

impl Payload {
    /// `<channel>/<ts>` of the message a block action came from.
    pub fn message(&self) -> Option<String> {
        let container = self.container.as_ref()?;
        let ts = container.message_ts.as_deref()?;
        let channel = container.channel_id.as_deref().or(self.channel.as_ref().map(|c| c.id.as_str()))?;
        Some(format!("{channel}/{ts}"))
    }

    /// The reason typed in the Reject dialog, trimmed; empty when none.
    pub fn reason(&self) -> String {
        self.view
            .as_ref()
            .and_then(|v| v.state.as_ref())
            .and_then(|s| s.values.get(REASON_INPUT))
            .and_then(|b| b.get(REASON_INPUT))
            .and_then(|i| i.value.as_deref())
            .map(|r| r.trim().to_owned())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_button_value_is_read_strictly() {
        let v = ButtonValue::parse(r#"{"release":"shop-1.4.0","approval":"qa_signoff"}"#).expect("good");
        assert_eq!(v.release.as_str(), "shop-1.4.0");
        assert_eq!(ButtonValue::parse(&v.to_value()).ok(), Some(v));
        for bad in [
            "",
            "shop-1.4.0",
            r#"{"release":"shop-1.4.0"}"#,
            r#"{"release":"shop-1.4.0","approval":"qa_signoff","role":"cto"}"#,
            r#"{"release":"../../etc","approval":"qa_signoff"}"#,
        ] {
            assert!(ButtonValue::parse(bad).is_err(), "{bad}");
        }
        let huge = format!(r#"{{"release":"shop-1.4.0","approval":"{}"}}"#, "a".repeat(600));
        assert!(ButtonValue::parse(&huge).is_err_and(|e| e.contains("more than")));
    }
}
