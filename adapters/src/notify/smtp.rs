//! Notices by mail (R-9a), sent with [`lettre`] over STARTTLS or implicit TLS.
//!
//! Each audience has its own recipients: teams and stakeholders are written
//! to (`To`), clients are blind-copied (`Bcc`), so one client never sees
//! another's address. A notice whose audiences have no recipients here is
//! not this channel's to send. Each message is `multipart/alternative`, plain
//! text and HTML, and its `Message-ID` is derived from the notice's key, so
//! mail systems and people can drop a repeat (notices are delivered at least
//! once).
//!
//! An approval request, reminder or expiry (a notice with an `ask`) also
//! goes, when `[approval_links]` is set, to each approver (a `[users]` person
//! holding one of the roles asked for and having an `email`) in a mail of
//! their own, with their own one-time Approve and Reject links to the
//! console ([`crate::links`]); its `Message-ID` is the notice's key plus the
//! user.
//!
//! Failures: a 4xx reply, a refused or cut connection are retryable, a
//! timeout too; a 5xx reply (a refused recipient, refused credentials) is
//! not. The password comes from an environment variable into a `secrecy`
//! type and is never in errors or `Debug`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use shipwarden::Role;
use shipwarden::ports::{ApprovalAsk, Audience, ErrorKind, Notice, Notifier, PortError};

use crate::links::{LinkClaims, LinkKey, Verdict};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS at all: only for a relay on loopback.
    None,
}

/// Where and how to send.
pub struct SmtpSettings {
    /// The server's host name (checked against its certificate).
    pub host: String,
    /// The port (587 for STARTTLS, 465 for TLS).
    pub port: u16,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// User and password, when the server asks for them.
    pub credentials: Option<(String, SecretString)>,
    /// Extra trusted CA certificates (PEM), for a relay with a private CA.
    pub extra_roots_pem: Vec<Vec<u8>>,
    /// How long each SMTP exchange may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

/// Sends notices as mail to each audience's recipients.
pub struct SmtpNotifier {
    name: String,
    from: Mailbox,
    recipients: BTreeMap<String, Vec<Mailbox>>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    links: Option<ApprovalLinks>,
}

/// What approval links are made with (issue #23).
struct ApprovalLinks {
    key: LinkKey,
    /// `{console_url}/console/confirm?t=`.
    base: String,
    ttl: jiff::SignedDuration,
    approvers: Vec<Approver>,
}

/// A person who may be asked for approvals by mail.
struct Approver {
    name: String,
    roles: Vec<Role>,
    mailbox: Mailbox,
}

impl std::fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("name", &self.name)
            .field("from", &self.from.to_string())
            .field("audiences", &self.recipients.keys().collect::<Vec<_>>())
            .field("approval_links", &self.links.as_ref().map(|l| l.approvers.len()))
            .finish_non_exhaustive()
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML part: the subject as a heading, the body's paragraphs, line breaks kept.
pub fn html_of(notice: &Notice) -> String {
    let paragraphs: String = notice
        .body
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>\n", escape_html(p.trim_end()).replace('\n', "<br>\n")))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif\">\n<h2>{}</h2>\n{paragraphs}\
         <p style=\"color:#888;font-size:smaller\">Sent by shipwarden for release {}.</p>\n</body></html>\n",
        escape_html(&notice.subject),
        escape_html(notice.release.as_str()),
    )
}

impl SmtpNotifier {
    /// Mail from `from` (`Releases <releases@example.com>`) through the server in `settings`.
    ///
    /// # Errors
    /// When an address or a CA certificate cannot be read, or TLS cannot be set up.
    pub fn new(from: &str, settings: SmtpSettings) -> Result<Self, PortError> {
        let name = format!("smtp {}:{}", settings.host, settings.port);
        let invalid = |message: String| PortError::new(name.clone(), "setup", ErrorKind::Invalid, message);
        let from: Mailbox = from.parse().map_err(|e| invalid(format!("sender {from:?}: {e}")))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
            .port(settings.port)
            .timeout(Some(settings.timeout));
        if settings.security != SmtpSecurity::None {
            let mut tls = TlsParameters::builder(settings.host.clone());
            for pem in &settings.extra_roots_pem {
                tls = tls.add_root_certificate(
                    Certificate::from_pem(pem).map_err(|e| invalid(format!("CA certificate: {e}")))?,
                );
            }
            let tls = tls.build_rustls().map_err(|e| invalid(format!("TLS: {e}")))?;
            builder = builder.tls(match settings.security {
                SmtpSecurity::Tls => Tls::Wrapper(tls),
                _ => Tls::Required(tls),
            });
        }
        if let Some((user, password)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
        }
        Ok(Self { name, from, recipients: BTreeMap::new(), transport: builder.build(), links: None })
    }

    /// Mails approval requests to each of `people` (name, roles, address)
    /// holding a role asked for, with their own links to `confirm_base`
    /// (`{console_url}/console/confirm?t=`) signed with `key`, living `ttl`.
    ///
    /// # Errors
    /// When an address cannot be read.
    pub fn with_approval_links(
        mut self,
        key: LinkKey,
        confirm_base: String,
        ttl: jiff::SignedDuration,
        people: &[(String, Vec<Role>, String)],
    ) -> Result<Self, PortError> {
        let mut approvers = Vec::new();
        for (name, roles, address) in people {
            let mailbox = address.parse::<Mailbox>().map_err(|e| {
                PortError::new(self.name.clone(), "setup", ErrorKind::Invalid, format!("users.{name}.email: {e}"))
            })?;
            approvers.push(Approver { name: name.clone(), roles: roles.clone(), mailbox });
        }
        self.links = Some(ApprovalLinks { key, base: confirm_base, ttl, approvers });
        Ok(self)
    }

    /// One mail per approver of `notice`'s ask, each with their own links,
    /// made at `now`; none without `[approval_links]`, an ask, or the time
    /// the release entered its stage.
    pub fn approver_messages(&self, notice: &Notice, now: jiff::Timestamp) -> Result<Vec<Message>, PortError> {
        let (Some(links), Some(ask)) = (&self.links, &notice.ask) else { return Ok(Vec::new()) };
        let Some(entered) = ask.entered else { return Ok(Vec::new()) };
        let exp = now.checked_add(links.ttl).unwrap_or(jiff::Timestamp::MAX);
        let mut out = Vec::new();
        for approver in links.approvers.iter().filter(|a| a.roles.iter().any(|r| ask.roles.contains(r))) {
            let link = |verdict| -> Result<String, PortError> {
                let id = crate::links::new_id().map_err(|e| self.fail(ErrorKind::Unavailable, e.to_string()))?;
                let claims = LinkClaims {
                    v: crate::links::VERSION,
                    release: notice.release.to_string(),
                    approval: ask.approval.to_string(),
                    user: approver.name.clone(),
                    verdict,
                    stage: ask.stage.to_string(),
                    entered,
                    exp: exp.as_second(),
                    id,
                };
                Ok(format!("{}{}", links.base, links.key.sign(&claims)))
            };
            let (approve, reject) = (link(Verdict::Approve)?, link(Verdict::Reject)?);
            let body = personal_body(notice, ask, &approver.name, &approve, &reject, exp);
            let personal = Notice { body, ..notice.clone() };
            let id = format!("{}.{}", message_id_of(&notice.key), message_id_of(&approver.name));
            let message = Message::builder()
                .from(self.from.clone())
                .to(approver.mailbox.clone())
                .subject(notice.subject.clone())
                .message_id(Some(format!("<{id}@shipwarden>")))
                .multipart(parts(&personal, html_with_links(&personal, &approve, &reject)))
                .map_err(|e| self.fail(ErrorKind::Invalid, e.to_string()))?;
            out.push(message);
        }
        Ok(out)
    }

    /// Sends notices for `audience` (`teams`, `stakeholders`, `clients`, or a group's name) to `addresses`.
    ///
    /// # Errors
    /// When an address cannot be read.
    pub fn with_recipients(mut self, audience: &str, addresses: &[String]) -> Result<Self, PortError> {
        let mut boxes = Vec::new();
        for address in addresses {
            boxes.push(address.parse::<Mailbox>().map_err(|e| {
                PortError::new(self.name.clone(), "setup", ErrorKind::Invalid, format!("{audience} {address:?}: {e}"))
            })?);
        }
        self.recipients.entry(audience.to_owned()).or_default().extend(boxes);
        Ok(self)
    }

    fn fail(&self, kind: ErrorKind, message: impl Into<String>) -> PortError {
        PortError::new(self.name.clone(), "send", kind, message)
    }

    /// The message for `notice`, or `None` when none of its audiences has recipients here.
    pub fn message(&self, notice: &Notice) -> Result<Option<Message>, PortError> {
        // An approval request, reminder or expiry says what it asks for (issue #23).
        let asking;
        let notice = match &notice.ask {
            Some(ask) => {
                asking = Notice { body: format!("{}\n\n{}", notice.body, ask.text()), ..notice.clone() };
                &asking
            }
            None => notice,
        };
        let mut to: Vec<&Mailbox> = Vec::new();
        let mut bcc: Vec<&Mailbox> = Vec::new();
        for audience in &notice.audience {
            let list = if *audience == Audience::Clients { &mut bcc } else { &mut to };
            for mailbox in self.recipients.get(audience.as_str()).into_iter().flatten() {
                if !list.contains(&mailbox) {
                    list.push(mailbox);
                }
            }
        }
        if to.is_empty() && bcc.is_empty() {
            return Ok(None);
        }
        let id = message_id_of(&notice.key);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(notice.subject.clone())
            .message_id(Some(format!("<{id}@shipwarden>")));
        if to.is_empty() {
            // Only blind copies: the message is addressed to its sender.
            builder = builder.to(self.from.clone());
        }
        for mailbox in to {
            builder = builder.to(mailbox.clone());
        }
        for mailbox in bcc {
            builder = builder.bcc(mailbox.clone());
        }
        builder
            .multipart(parts(notice, html_of(notice)))
            .map(Some)
            .map_err(|e| self.fail(ErrorKind::Invalid, e.to_string()))
    }

    async fn deliver(&self, message: Message) -> Result<(), PortError> {
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            let kind = if e.is_timeout() {
                ErrorKind::Timeout
            } else if e.is_permanent() {
                ErrorKind::Rejected
            } else if e.is_tls() || e.to_string().contains("invalid peer certificate") {
                // A certificate that does not verify will not verify on the next try either
                // (rustls reports it inside lettre's connection error).
                ErrorKind::Rejected
            } else {
                ErrorKind::Unavailable
            };
            let code = e.status().map(|c| format!(" (reply {c})")).unwrap_or_default();
            self.fail(kind, format!("{e}{code}"))
        })
    }
}

/// A `Message-ID` local part from a key: letters, digits, `.-_`, the rest as `.`.
fn message_id_of(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '.' }).collect()
}

/// Plain text and HTML, as alternatives.
fn parts(notice: &Notice, html: String) -> MultiPart {
    MultiPart::alternative()
        .singlepart(lettre::message::SinglePart::builder().header(ContentType::TEXT_PLAIN).body(notice.body.clone()))
        .singlepart(lettre::message::SinglePart::builder().header(ContentType::TEXT_HTML).body(html))
}

/// An approver's own text: the notice, the ask, their two links and when they expire.
fn personal_body(
    notice: &Notice,
    ask: &ApprovalAsk,
    user: &str,
    approve: &str,
    reject: &str,
    exp: jiff::Timestamp,
) -> String {
    format!(
        "{}\n\n{}\nApprove as {user}: {approve}\n\nReject as {user}: {reject}\n\n\
         These links are yours alone (sign in as {user}), work once, and expire {exp}. \
         Opening one changes nothing: the console asks you to confirm.",
        notice.body,
        ask.text(),
        exp = exp.strftime("%Y-%m-%d %H:%M UTC"),
    )
}

/// The HTML part of an approver's mail: the text, and the links as buttons.
fn html_with_links(notice: &Notice, approve: &str, reject: &str) -> String {
    let buttons = format!(
        "<p><a href=\"{}\" style=\"padding:6px 12px;background:#1a7f37;color:#fff;text-decoration:none\">Approve</a> \
         <a href=\"{}\" style=\"padding:6px 12px;background:#cf222e;color:#fff;text-decoration:none\">Reject</a></p>\n",
        escape_html(approve),
        escape_html(reject),
    );
    html_of(notice).replacen("<p style=\"color:#888", &format!("{buttons}<p style=\"color:#888"), 1)
}

#[async_trait]
impl Notifier for SmtpNotifier {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, notice: &Notice) -> Result<(), PortError> {
        // Each approver's own mail first: the links are made now and live the policy's TTL.
        for message in self.approver_messages(notice, jiff::Timestamp::now())? {
            self.deliver(message).await?;
        }
        let Some(message) = self.message(notice)? else {
            tracing::debug!(notifier = %self.name, key = %notice.key, "no recipients for the notice's audiences");
            return Ok(());
        };
        self.deliver(message).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipwarden::ports::ApprovalAsk;

    const KEY: &str = "a link key for the tests, 32 bytes or more";

    fn key() -> LinkKey {
        LinkKey::new(&SecretString::from(KEY.to_owned())).expect("key")
    }

    fn notifier() -> SmtpNotifier {
        let settings = SmtpSettings {
            host: "localhost".into(),
            port: 2525,
            security: SmtpSecurity::None,
            credentials: None,
            extra_roots_pem: Vec::new(),
            timeout: Duration::from_secs(1),
        };
        let people = vec![
            ("quinn".to_owned(), vec![Role::QaLead], "quinn@example.com".to_owned()),
            ("paul".to_owned(), vec![Role::ProductOwner], "paul@example.com".to_owned()),
        ];
        SmtpNotifier::new("Releases <releases@example.com>", settings)
            .expect("notifier")
            .with_recipients("teams", &["eng@example.com".to_owned()])
            .expect("teams")
            .with_approval_links(
                key(),
                "https://releases.example.com/console/confirm?t=".into(),
                jiff::SignedDuration::from_hours(24),
                &people,
            )
            .expect("links")
    }

    fn request(entered: Option<jiff::Timestamp>) -> Notice {
        Notice {
            key: "shop-1.4.0:duty:approval-request:qa_signoff#1".into(),
            release: "shop-1.4.0".parse().expect("id"),
            subject: "Approval needed: `qa_signoff` of shop 1.4.0".into(),
            body: "shop 1.4.0 waits in staging_deployed for `qa_signoff`.".into(),
            audience: vec![Audience::Teams],
            ask: Some(ApprovalAsk {
                approval: shipwarden::ApprovalId::QaSignoff,
                roles: vec![Role::QaLead],
                needed: 1,
                have: 0,
                stage: shipwarden::Stage::StagingDeployed,
                entered,
                project: "shop".into(),
                version: "1.4.0".into(),
                kind: shipwarden::ReleaseKind::Minor,
                tickets: vec!["SHOP-1".into()],
                gates: Vec::new(),
                missing: Vec::new(),
            }),
        }
    }

    fn text(message: &Message) -> String {
        String::from_utf8_lossy(&message.formatted()).replace("=\r\n", "").replace("=3D", "=")
    }

    #[test]
    fn each_approver_holding_a_role_asked_for_gets_their_own_links_r2b() {
        let entered: jiff::Timestamp = "2026-12-03T07:00:00Z".parse().expect("time");
        let now: jiff::Timestamp = "2026-12-03T08:00:00Z".parse().expect("time");
        let mails = notifier().approver_messages(&request(Some(entered)), now).expect("mails");
        assert_eq!(mails.len(), 1, "quinn only: paul holds no role asked for");
        let mail = text(&mails[0]);
        assert!(mail.contains("To: quinn@example.com"), "{mail}");
        assert!(
            mail.contains("Message-ID: <shop-1.4.0.duty.approval-request.qa_signoff.1.quinn@shipwarden>"),
            "{mail}"
        );
        for (label, verdict) in [("Approve", Verdict::Approve), ("Reject", Verdict::Reject)] {
            let marker = format!("{label} as quinn: https://releases.example.com/console/confirm?t=");
            let token: String = mail
                .split(&marker)
                .nth(1)
                .expect("the link")
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            let claims = key().verify(&token).expect("signed");
            assert_eq!(claims.verdict, verdict);
            assert_eq!(
                (claims.user.as_str(), claims.approval.as_str(), claims.stage.as_str()),
                ("quinn", "qa_signoff", "staging_deployed")
            );
            assert_eq!(claims.entered, entered);
            assert_eq!(claims.exp, now.as_second() + 24 * 3600);
        }
        // The team's mail is unchanged: the ask's text, no links.
        let team = text(&notifier().message(&request(Some(entered))).expect("message").expect("for the team"));
        assert!(team.contains("eng@example.com") && !team.contains("confirm?t="), "{team}");
    }

    #[test]
    fn no_links_without_the_time_the_stage_was_entered_or_an_ask() {
        let now = jiff::Timestamp::now();
        assert!(notifier().approver_messages(&request(None), now).expect("none").is_empty());
        let plain = Notice { ask: None, ..request(Some(now)) };
        assert!(notifier().approver_messages(&plain, now).expect("none").is_empty());
        assert!(!format!("{:?}", notifier()).contains(KEY));
    }
}
