//! What shipwarden sends Slack: answers posted to a click's `response_url`
//! (<https://api.slack.com/interactivity/handling#message_responses>: a
//! message replacing the original, or an ephemeral one to the person alone)
//! and the Reject dialog opened with `views.open`
//! (<https://api.slack.com/methods/views.open>,
//! <https://api.slack.com/reference/surfaces/views>).

use serde_json::{Value, json};

use super::payload::{REASON_INPUT, REJECT_CALLBACK, RejectContext};

/// Text for Slack's `mrkdwn`: `&`, `<` and `>` escaped, as
/// <https://api.slack.com/reference/surfaces/formatting#escaping> asks, so a
/// reason cannot mention `@channel` or hide a link.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The original message replaced by what happened, for everyone in the channel.
pub fn outcome(text: &str, context: &str) -> Value {
    json!({
        "replace_original": true,
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    })
}

/// An answer to the person who clicked alone; the original message stays.
pub fn ephemeral(text: &str) -> Value {
    json!({"response_type": "ephemeral", "replace_original": false, "text": text})
}

/// The Reject dialog: one multi-line input for the reason; `context` rides
/// along in `private_metadata` to the submission.
pub fn reject_dialog(context: &RejectContext) -> Value {
    let metadata = serde_json::to_string(context).unwrap_or_default();
    json!({
        "type": "modal",
        "callback_id": REJECT_CALLBACK,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Reject"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": format!("Reject *{}* of *{}*", escape(&context.approval.to_string()), escape(context.release.as_str())),
                },
            },
            {
                "type": "input",
                "block_id": REASON_INPUT,
                "label": {"type": "plain_text", "text": "Why? (kept in the audit trail)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_INPUT,
                    "multiline": true,
                    "max_length": super::payload::MAX_REASON,
                },
            },
        ],
    })
}

/// The answer to a dialog submission that keeps it open with `message` under the reason.
pub fn dialog_error(message: &str) -> Value {
    json!({"response_action": "errors", "errors": {REASON_INPUT: message}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrkdwn_is_escaped() {
        assert_eq!(escape("<!channel> & <http://x|y>"), "&lt;!channel&gt; &amp; &lt;http://x|y&gt;");
    }
}
