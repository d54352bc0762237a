//! The public keys each user signs with: `[users.NAME] ssh_keys` and git's
//! `allowed_signers` files (`principals [options] keytype base64 [comment]`).

use ssh_key::{HashAlg, PublicKey};

use super::IdentityError;

/// Users and the public keys listed for them.
#[derive(Debug, Clone, Default)]
pub struct AllowedSigners {
    entries: Vec<(String, PublicKey)>,
}

impl AllowedSigners {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lists `key` (an OpenSSH public key line, `ssh-ed25519 AAAA… comment`) for `user`.
    pub fn add(&mut self, user: &str, key: &str, place: &str) -> Result<(), IdentityError> {
        let key = PublicKey::from_openssh(key.trim()).map_err(|e| IdentityError::Config {
            place: place.to_owned(),
            problem: format!("not an OpenSSH public key: {e}"),
        })?;
        self.entries.push((user.to_owned(), key));
        Ok(())
    }

    /// Adds the entries of an `allowed_signers` file in git's format. Options
    /// are read for `namespaces="…"`: an entry limited to namespaces without
    /// `shipwarden` is skipped; `cert-authority` entries are not supported.
    pub fn add_file_text(&mut self, text: &str, file: &str) -> Result<(), IdentityError> {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let place = format!("{file} line {}", n + 1);
            let Some((principals, rest)) = line.split_once(char::is_whitespace) else {
                return Err(IdentityError::Config { place, problem: "expected `principals keytype base64`".into() });
            };
            let mut rest = rest.trim_start();
            let looks_like_key = |s: &str| s.starts_with("ssh-") || s.starts_with("ecdsa-") || s.starts_with("sk-");
            if !looks_like_key(rest) {
                let (options, key) = split_options(rest);
                let options = split_outside_quotes(options, ',');
                if options.iter().any(|o| o.eq_ignore_ascii_case("cert-authority")) {
                    return Err(IdentityError::Config {
                        place,
                        problem: "cert-authority entries are not supported".into(),
                    });
                }
                if let Some(namespaces) = options.iter().find_map(|o| o.strip_prefix("namespaces="))
                    && !namespaces.trim_matches('"').split(',').any(|ns| ns == super::NAMESPACE)
                {
                    continue;
                }
                rest = key.trim_start();
            }
            for principal in principals.split(',') {
                self.add(principal, rest, &place)?;
            }
        }
        Ok(())
    }

    /// The keys listed for `user`.
    pub fn keys_of<'a>(&'a self, user: &'a str) -> impl Iterator<Item = &'a PublicKey> + 'a {
        self.entries.iter().filter(move |(u, _)| u == user).map(|(_, k)| k)
    }

    /// The user a key (by its `SHA256:` fingerprint) is listed for, if any.
    pub fn owner_of(&self, fingerprint: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(_, k)| k.fingerprint(HashAlg::Sha256).to_string() == fingerprint)
            .map(|(u, _)| u.as_str())
    }

    /// True when the key with `fingerprint` is listed for `user`.
    pub fn is_listed(&self, user: &str, fingerprint: &str) -> bool {
        self.keys_of(user).any(|k| k.fingerprint(HashAlg::Sha256).to_string() == fingerprint)
    }
}

/// Splits `text` at each `separator` outside double quotes.
fn split_outside_quotes(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut quoted, mut start) = (false, 0);
    for (i, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == separator && !quoted {
            parts.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Splits `options key…` where options may hold quoted commas and spaces.
fn split_options(text: &str) -> (&str, &str) {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => return (&text[..i], &text[i..]),
            _ => {}
        }
    }
    (text, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL9JVZ+P2JlYsUpnzyFX2UcM/3dSL4EPFkfajZp8BETB paul@laptop";

    #[test]
    fn git_allowed_signers_lines_are_read() {
        let mut signers = AllowedSigners::new();
        let text = format!(
            "# team\npaul,paul@example.com {KEY}\ncasey namespaces=\"git\" {KEY}\nrita namespaces=\"git,shipwarden\" {KEY}\n"
        );
        signers.add_file_text(&text, "allowed_signers").expect("valid file");
        assert_eq!(signers.keys_of("paul").count(), 1);
        assert_eq!(signers.keys_of("paul@example.com").count(), 1);
        assert_eq!(signers.keys_of("casey").count(), 0, "limited to git");
        assert_eq!(signers.keys_of("rita").count(), 1);
    }

    #[test]
    fn a_broken_key_names_its_line() {
        let err = AllowedSigners::new().add_file_text("paul ssh-ed25519 AAAAnope\n", "signers").expect_err("broken");
        assert!(err.to_string().contains("signers line 1"), "{err}");
    }
}
