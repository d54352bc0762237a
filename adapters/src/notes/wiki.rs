//! Publishes release notes to a wiki that is a git repository (GitHub and
//! GitLab wikis are): a page per release, committed and pushed with the
//! `git` command, so users' credential helpers and SSH configuration apply
//! (R-9b). Publishing the same notes again changes nothing; new notes for
//! the same release replace the page in a new commit.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use shipwarden::ports::{ErrorKind, NotesPublisher, PortError};
use shipwarden::{ReleaseId, Version};

const PORT: &str = "notes wiki";

/// A wiki git repository, cloned into a working folder.
#[derive(Debug, Clone)]
pub struct WikiNotes {
    remote: String,
    workdir: PathBuf,
    branch: String,
    page: String,
    identity: (String, String),
}

impl WikiNotes {
    /// The wiki at `remote` (a URL or path git understands), worked on in `workdir`.
    /// Pages are `Release-notes-{version}.md` on branch `master` (the wikis' default).
    pub fn new(remote: impl Into<String>, workdir: impl Into<PathBuf>) -> Self {
        Self {
            remote: remote.into(),
            workdir: workdir.into(),
            branch: "master".into(),
            page: "Release-notes-{version}.md".into(),
            identity: ("shipwarden".into(), "shipwarden@localhost".into()),
        }
    }

    /// The branch to push to.
    pub fn with_branch(mut self, branch: impl Into<String>) -> Self {
        self.branch = branch.into();
        self
    }

    /// The page name, with `{version}` and `{release}`.
    pub fn with_page(mut self, page: impl Into<String>) -> Self {
        self.page = page.into();
        self
    }

    /// The committer.
    pub fn with_identity(mut self, name: impl Into<String>, email: impl Into<String>) -> Self {
        self.identity = (name.into(), email.into());
        self
    }

    async fn git(&self, dir: &Path, args: &[&str]) -> Result<(bool, String), PortError> {
        let out = tokio::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", &self.identity.0)
            .env("GIT_AUTHOR_EMAIL", &self.identity.1)
            .env("GIT_COMMITTER_NAME", &self.identity.0)
            .env("GIT_COMMITTER_EMAIL", &self.identity.1)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(|e| PortError::new(PORT, "git", ErrorKind::Rejected, format!("cannot run git: {e}")))?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        Ok((out.status.success(), text.trim().to_owned()))
    }

    async fn must(&self, dir: &Path, args: &[&str], kind: ErrorKind) -> Result<String, PortError> {
        match self.git(dir, args).await? {
            (true, out) => Ok(out),
            (false, out) => Err(PortError::new(
                PORT,
                args.first().copied().unwrap_or("git"),
                kind,
                format!("git {}: {out}", args.join(" ")),
            )),
        }
    }

    /// Brings the working folder to the remote's branch (cloning it the first time).
    async fn sync(&self) -> Result<(), PortError> {
        if !self.workdir.join(".git").exists() {
            if let Some(parent) = self.workdir.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|e| PortError::new(PORT, "clone", ErrorKind::Unavailable, e.to_string()))?;
            }
            let dir = self.workdir.display().to_string();
            self.must(Path::new("."), &["clone", "-q", &self.remote, &dir], ErrorKind::Unavailable).await?;
        }
        self.must(&self.workdir, &["fetch", "-q", "origin"], ErrorKind::Unavailable).await?;
        let remote_branch = format!("origin/{}", self.branch);
        let (exists, _) = self.git(&self.workdir, &["rev-parse", "-q", "--verify", &remote_branch]).await?;
        if exists {
            self.must(&self.workdir, &["checkout", "-q", "-B", &self.branch, &remote_branch], ErrorKind::Other).await?;
        } else {
            // An empty wiki: the first page starts the branch.
            self.must(&self.workdir, &["checkout", "-q", "--orphan", &self.branch], ErrorKind::Other).await.ok();
        }
        Ok(())
    }

    /// Writes `file` (one name, at the top of the repository), commits it
    /// with `message` and pushes; a push that loses a race with another
    /// writer syncs and tries once more. Nothing changed: no commit.
    async fn commit_file(&self, file: &str, contents: &[u8], message: &str) -> Result<String, PortError> {
        for attempt in 0..2 {
            self.sync().await?;
            let path = self.workdir.join(file);
            tokio::fs::write(&path, contents)
                .await
                .map_err(|e| PortError::new(PORT, "publish", ErrorKind::Unavailable, e.to_string()))?;
            self.must(&self.workdir, &["add", "--", file], ErrorKind::Other).await?;
            let (unchanged, _) = self.git(&self.workdir, &["diff", "--cached", "--quiet"]).await?;
            if unchanged {
                return Ok(format!("{} {file} (unchanged)", self.remote));
            }
            self.must(&self.workdir, &["commit", "-q", "-m", message], ErrorKind::Other).await?;
            let target = format!("HEAD:refs/heads/{}", self.branch);
            match self.git(&self.workdir, &["push", "-q", "origin", &target]).await? {
                (true, _) => return Ok(format!("{} {file}", self.remote)),
                (false, out) if attempt == 0 => tracing::warn!(%out, "wiki push rejected; syncing and trying again"),
                (false, out) => {
                    return Err(PortError::new(PORT, "push", ErrorKind::Unavailable, format!("git push: {out}")));
                }
            }
        }
        Err(PortError::new(PORT, "push", ErrorKind::Unavailable, "the wiki kept moving"))
    }
}

#[async_trait]
impl NotesPublisher for WikiNotes {
    async fn publish(&self, release: &ReleaseId, version: &Version, markdown: &str) -> Result<String, PortError> {
        let page = self.page.replace("{version}", &version.to_string()).replace("{release}", release.as_str());
        if page.contains('/') || page.starts_with('.') {
            return Err(PortError::new(
                PORT,
                "publish",
                ErrorKind::Invalid,
                format!("page name `{page}`: one file name"),
            ));
        }
        let message = format!("Release notes {release} ({version})");
        self.commit_file(&page, markdown.as_bytes(), &message).await
    }

    /// Keeps the release's signed chain heads as `<release>.heads.json` in
    /// the wiki repository, committed and pushed (R-9d): a record the
    /// store's writer cannot rewrite unnoticed.
    async fn publish_heads(&self, release: &ReleaseId, heads: &[u8]) -> Result<Option<String>, PortError> {
        let file = shipwarden::audit::PublishedHeads::file_name(release.as_str());
        let message = format!("Signed chain heads of {release} (R-9d)");
        self.commit_file(&file, heads, &message).await.map(Some)
    }
}
