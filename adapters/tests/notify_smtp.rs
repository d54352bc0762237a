//! The SMTP notifier against a real SMTP server (`scripts/test` starts
//! aiosmtpd on loopback, once with STARTTLS required and once with implicit
//! TLS, both saving what they receive in one maildir) (R-9a).

mod common;

use std::time::Duration;

use shipwarden::ports::{Audience, Notice, Notifier};
use shipwarden_adapters::notify::smtp::{SmtpNotifier, SmtpSecurity, SmtpSettings};

struct Smtp {
    starttls: u16,
    tls: u16,
    maildir: std::path::PathBuf,
    ca: Vec<u8>,
}

fn smtp() -> Option<Smtp> {
    Some(Smtp {
        starttls: common::server_env("SHIPWARDEN_TEST_SMTP_STARTTLS_PORT")?.parse().expect("port"),
        tls: common::server_env("SHIPWARDEN_TEST_SMTP_TLS_PORT")?.parse().expect("port"),
        maildir: common::server_env("SHIPWARDEN_TEST_SMTP_MAILDIR")?.into(),
        ca: std::fs::read(common::server_env("SHIPWARDEN_TEST_SMTP_CA")?).expect("ca"),
    })
}

fn settings(port: u16, security: SmtpSecurity, ca: Option<&[u8]>) -> SmtpSettings {
    SmtpSettings {
        host: "localhost".into(),
        port,
        security,
        credentials: None,
        extra_roots_pem: ca.map(|c| vec![c.to_vec()]).unwrap_or_default(),
        timeout: Duration::from_secs(10),
    }
}

fn notifier(port: u16, security: SmtpSecurity, ca: Option<&[u8]>) -> SmtpNotifier {
    SmtpNotifier::new("Releases <releases@example.com>", settings(port, security, ca))
        .expect("notifier")
        .with_recipients("teams", &["eng@example.com".into()])
        .expect("teams")
        .with_recipients("stakeholders", &["Product <product@example.com>".into()])
        .expect("stakeholders")
        .with_recipients("clients", &["ops@client-a.example".into(), "it@client-b.example".into()])
        .expect("clients")
}

fn notice(key: &str, audience: Vec<Audience>) -> Notice {
    Notice {
        key: key.into(),
        release: "shop-3.0.0".parse().expect("release"),
        subject: "Released shop 3.0.0".into(),
        body: "Major release.\n\n## Features\n- <checkout> & payments (SHOP-7)".into(),
        audience,
        ask: None,
    }
}

/// The delivered message whose Message-ID holds `key`'s text, waiting up to 5 s for it.
fn delivered(maildir: &std::path::Path, id: &str) -> Option<String> {
    for _ in 0..50 {
        for entry in std::fs::read_dir(maildir.join("new")).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if text.contains(id) {
                return Some(text);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

fn header<'a>(message: &'a str, name: &str) -> Vec<&'a str> {
    message
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(": ").filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v))
        .collect()
}

#[tokio::test]
async fn a_major_release_notice_reaches_teams_stakeholders_and_clients_over_starttls_r9a() {
    let Some(smtp) = smtp() else { return };
    let key = common::unique("notify-major-");
    let all = vec![Audience::Teams, Audience::Clients, Audience::Stakeholders];
    notifier(smtp.starttls, SmtpSecurity::StartTls, Some(&smtp.ca)).send(&notice(&key, all)).await.expect("send");
    let message = delivered(&smtp.maildir, &key).expect("delivered");
    assert_eq!(header(&message, "Subject"), ["Released shop 3.0.0"]);
    assert_eq!(header(&message, "Message-ID"), [format!("<{key}@shipwarden>").as_str()]);
    // Envelope recipients (aiosmtpd records them as X-RcptTo): everyone; the To header: no client.
    let rcpt = header(&message, "X-RcptTo").join(",");
    for who in ["eng@example.com", "product@example.com", "ops@client-a.example", "it@client-b.example"] {
        assert!(rcpt.contains(who), "{who} not in {rcpt}");
    }
    let to = header(&message, "To").join(",");
    assert!(to.contains("eng@example.com") && to.contains("product@example.com"), "{to}");
    assert!(!message.contains("client-a.example>") && !to.contains("client"), "clients are blind-copied: {to}");
    // Plain text and HTML, the HTML escaped.
    assert!(message.contains("multipart/alternative"));
    assert!(message.contains("text/plain") && message.contains("text/html"));
    assert!(message.contains("&lt;checkout&gt; &amp; payments"), "{message}");
}

#[tokio::test]
async fn implicit_tls_works_and_a_notice_for_nobody_here_sends_nothing() {
    let Some(smtp) = smtp() else { return };
    let key = common::unique("notify-teams-");
    notifier(smtp.tls, SmtpSecurity::Tls, Some(&smtp.ca))
        .send(&notice(&key, vec![Audience::Teams]))
        .await
        .expect("send");
    let message = delivered(&smtp.maildir, &key).expect("delivered");
    assert_eq!(header(&message, "X-RcptTo").join(","), "eng@example.com");
    let key = common::unique("notify-nobody-");
    notifier(smtp.tls, SmtpSecurity::Tls, Some(&smtp.ca))
        .send(&notice(&key, vec![Audience::Group("finance".into())]))
        .await
        .expect("nothing to send");
    assert!(
        std::fs::read_dir(smtp.maildir.join("new"))
            .expect("maildir")
            .flatten()
            .all(|e| { !std::fs::read_to_string(e.path()).unwrap_or_default().contains(&key) })
    );
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_and_a_down_server_is_retryable() {
    let Some(smtp) = smtp() else { return };
    // Without the test CA the server's certificate does not verify: not retryable.
    let err = notifier(smtp.starttls, SmtpSecurity::StartTls, None)
        .send(&notice("k-untrusted", vec![Audience::Teams]))
        .await
        .expect_err("untrusted");
    assert!(!err.retryable, "{err}");
    assert!(err.to_string().starts_with(&format!("smtp localhost:{} send", smtp.starttls)), "{err}");
    // Nothing listening: retryable.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let err = notifier(port, SmtpSecurity::StartTls, Some(&smtp.ca))
        .send(&notice("k-down", vec![Audience::Teams]))
        .await
        .expect_err("down");
    assert!(err.retryable, "{err}");
}

#[test]
fn the_password_is_never_shown() {
    let mut s = settings(25, SmtpSecurity::StartTls, None);
    s.credentials = Some(("mailer".into(), "pa55-w0rd-secret".to_owned().into()));
    assert!(!format!("{s:?}").contains("pa55"));
    let n = SmtpNotifier::new("releases@example.com", s).expect("notifier");
    assert!(!format!("{n:?}").contains("pa55"));
}
