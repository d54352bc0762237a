//! A git repository: history, tags and branches are read with gix, in
//! process; annotated tags are created and pushed with the `git` command, so
//! that users' credential helpers and SSH configuration apply.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use shipwarden::ports::{Commit, ErrorKind, PortError, Tag, Vcs};

const PORT: &str = "vcs git";

/// A git repository on disk, optionally pushing tags to a remote.
#[derive(Debug, Clone)]
pub struct GitRepo {
    path: PathBuf,
    remote: Option<String>,
    identity: Option<(String, String)>,
}

fn fail(operation: &str, message: impl std::fmt::Display) -> PortError {
    PortError::new(PORT, operation, ErrorKind::Other, message.to_string())
}

impl GitRepo {
    /// The repository whose work tree (or git folder) is `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), remote: None, identity: None }
    }

    /// Pushes created tags to this remote (`origin`).
    pub fn with_remote(mut self, remote: impl Into<String>) -> Self {
        self.remote = Some(remote.into());
        self
    }

    /// The tagger's name and email (otherwise git's own configuration).
    pub fn with_identity(mut self, name: impl Into<String>, email: impl Into<String>) -> Self {
        self.identity = Some((name.into(), email.into()));
        self
    }

    /// Runs gix work on a blocking thread.
    async fn read<T: Send + 'static>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&gix::Repository) -> Result<T, String> + Send + 'static,
    ) -> Result<T, PortError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let repo = gix::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            work(&repo)
        })
        .await
        .map_err(|e| fail(operation, e))?
        .map_err(|e| fail(operation, e))
    }

    /// Runs `git` with `args` in the repository; returns its trimmed stdout.
    async fn git(&self, operation: &str, args: &[&str]) -> Result<(bool, String, String), PortError> {
        let mut command = tokio::process::Command::new("git");
        command.arg("-C").arg(&self.path).args(args).stdin(std::process::Stdio::null());
        if let Some((name, email)) = &self.identity {
            command.env("GIT_COMMITTER_NAME", name).env("GIT_COMMITTER_EMAIL", email);
        }
        let out = command
            .output()
            .await
            .map_err(|e| PortError::new(PORT, operation, ErrorKind::Rejected, format!("cannot run git: {e}")))?;
        let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_owned();
        Ok((out.status.success(), text(&out.stdout), text(&out.stderr)))
    }

    /// The path of the repository.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The history split into releases by release tags, in one walk from the
    /// tip (R-4a, R-9b): a tagged commit starts its release, so the cost does
    /// not grow with the number of tags. Lightweight and annotated tags count;
    /// tags with the prefix that are not SemVer are listed as ignored.
    ///
    /// # Errors
    /// When the repository or a revision cannot be read.
    pub fn history_blocking(&self, options: &HistoryOptions) -> Result<History, PortError> {
        read_history(&self.path, options).map_err(|e| fail("history", e))
    }

    /// Like [`GitRepo::history_blocking`], handing each release to `sink` as
    /// soon as the walk has passed it (newest first), so that a consumer on
    /// another thread works while the walk goes on. Returns the ignored tags.
    ///
    /// # Errors
    /// When the repository or a revision cannot be read, or `sink` fails.
    pub fn history_streaming(
        &self,
        options: &HistoryOptions,
        sink: &mut dyn FnMut(ReleaseCommits) -> Result<(), String>,
    ) -> Result<Vec<String>, PortError> {
        stream_history(&self.path, options, sink).map_err(|e| fail("history", e))
    }

    /// [`GitRepo::history_blocking`] on a blocking thread.
    pub async fn history(&self, options: HistoryOptions) -> Result<History, PortError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || read_history(&path, &options))
            .await
            .map_err(|e| fail("history", e))?
            .map_err(|e| fail("history", e))
    }
}

/// What [`GitRepo::history`] reads.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// Release tags are this prefix plus a SemVer version (`v`, `api-v` for a monorepo package).
    pub tag_prefix: String,
    /// Start after this tag or revision (exclusive); none: from the first commit.
    pub from: Option<String>,
    /// End at this revision (inclusive); none: `HEAD`.
    pub to: Option<String>,
    /// Only commits that change one of these paths (relative to the repository root).
    pub paths: Vec<String>,
}

/// The commits of one release, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseCommits {
    /// The release tag, or none for commits after the last tag.
    pub tag: Option<String>,
    /// Its version.
    pub version: Option<shipwarden::Version>,
    /// The tagged commit's date (`2026-11-28`).
    pub date: Option<String>,
    /// The commits, newest first.
    pub commits: Vec<Commit>,
}

/// History split into releases by their tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Newest release first; the first has no tag when commits follow the last tag.
    pub releases: Vec<ReleaseCommits>,
    /// Tags with the prefix that are not SemVer versions, ignored.
    pub ignored_tags: Vec<String>,
}

/// A tag, branch, `HEAD` or full commit id, as the commit it names.
fn resolve(repo: &gix::Repository, spec: &str) -> Result<gix::ObjectId, String> {
    if spec == "HEAD" {
        return repo.head_id().map(|id| id.detach()).map_err(|e| e.to_string());
    }
    if spec.len() == 40
        && let Ok(id) = gix::ObjectId::from_hex(spec.as_bytes())
    {
        return Ok(id);
    }
    let mut reference = repo
        .try_find_reference(spec)
        .map_err(|e| format!("`{spec}`: {e}"))?
        .ok_or_else(|| format!("`{spec}` is not a tag, branch, HEAD or full commit id"))?;
    reference.peel_to_id().map(|id| id.detach()).map_err(|e| format!("`{spec}`: {e}"))
}

/// Whether `commit` changes any of `paths` compared with its first parent.
fn touches(repo: &gix::Repository, commit: &gix::Commit<'_>, paths: &[String]) -> Result<bool, String> {
    let entry_ids = |c: &gix::Commit<'_>| -> Result<Vec<Option<gix::ObjectId>>, String> {
        let tree = c.tree().map_err(|e| e.to_string())?;
        paths
            .iter()
            .map(|p| tree.lookup_entry_by_path(p).map(|e| e.map(|e| e.object_id())).map_err(|e| e.to_string()))
            .collect()
    };
    let mine = entry_ids(commit)?;
    let parent = match commit.parent_ids().next() {
        Some(id) => entry_ids(&repo.find_commit(id).map_err(|e| e.to_string())?)?,
        None => vec![None; paths.len()],
    };
    Ok(mine != parent)
}

/// A commit read once: its committer time, what the port reports, its parents.
fn load(repo: &gix::Repository, id: gix::ObjectId) -> Result<(i64, Commit, Vec<gix::ObjectId>), String> {
    let object = repo.find_object(id).map_err(|e| e.to_string())?;
    let commit =
        gix::objs::CommitRef::from_bytes(&object.data, repo.object_hash()).map_err(|e| format!("{id}: {e}"))?;
    let time = commit.time().map_err(|e| e.to_string())?.seconds;
    let message = commit.message();
    let author = commit.author().map_err(|e| e.to_string())?.name.to_string();
    let parents: Vec<gix::ObjectId> = commit.parents().collect();
    let port = Commit {
        sha: id.to_string(),
        subject: message.title.to_string(),
        body: message.body.map(|b| b.to_string()).unwrap_or_default(),
        author,
        parents: parents.len(),
    };
    Ok((time, port, parents))
}

/// A commit waiting in the walk's frontier, ordered by committer time (then id).
struct Waiting {
    time: i64,
    id: gix::ObjectId,
    commit: Commit,
    parents: Vec<gix::ObjectId>,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.id) == (other.time, other.id)
    }
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.id).cmp(&(other.time, other.id))
    }
}

/// Splits commits, newest first, into releases: a tagged commit starts the
/// next (older) release. One pass; the cost does not grow with the tags.
struct Splitter<'a> {
    tagged: &'a std::collections::HashMap<gix::ObjectId, (shipwarden::Version, String)>,
    current: ReleaseCommits,
    sink: &'a mut dyn FnMut(ReleaseCommits) -> Result<(), String>,
}

impl<'a> Splitter<'a> {
    fn new(
        tagged: &'a std::collections::HashMap<gix::ObjectId, (shipwarden::Version, String)>,
        sink: &'a mut dyn FnMut(ReleaseCommits) -> Result<(), String>,
    ) -> Self {
        Self { tagged, current: ReleaseCommits::empty(), sink }
    }

    /// The walk reached commit `id`, committed at `time` (seconds).
    fn reach(&mut self, id: &gix::ObjectId, time: i64) -> Result<(), String> {
        if let Some((version, name)) = self.tagged.get(id) {
            self.flush()?;
            self.current.tag = Some(name.clone());
            self.current.version = Some(version.clone());
            self.current.date = jiff::Timestamp::from_second(time).ok().map(|t| t.strftime("%Y-%m-%d").to_string());
        }
        Ok(())
    }

    fn push(&mut self, commit: Commit) {
        self.current.commits.push(commit);
    }

    /// Hands over the release being filled, if it has anything.
    fn flush(&mut self) -> Result<(), String> {
        if self.current.tag.is_some() || !self.current.commits.is_empty() {
            (self.sink)(std::mem::replace(&mut self.current, ReleaseCommits::empty()))?;
        }
        Ok(())
    }
}

impl ReleaseCommits {
    fn empty() -> Self {
        ReleaseCommits { tag: None, version: None, date: None, commits: Vec::new() }
    }
}

/// The whole history from `tip`, newest first by committer time, each
/// commit read exactly once (no object cache needed): the frontier is a heap
/// of commits already read, so parents are read when first reached.
fn walk_all(
    repo: &gix::Repository,
    tip: gix::ObjectId,
    tagged: &std::collections::HashMap<gix::ObjectId, (shipwarden::Version, String)>,
    sink: &mut dyn FnMut(ReleaseCommits) -> Result<(), String>,
) -> Result<(), String> {
    let mut seen: std::collections::HashSet<gix::ObjectId> = std::collections::HashSet::new();
    let mut frontier = std::collections::BinaryHeap::new();
    let (time, commit, parents) = load(repo, tip)?;
    seen.insert(tip);
    frontier.push(Waiting { time, id: tip, commit, parents });
    let mut releases = Splitter::new(tagged, sink);
    while let Some(Waiting { time, id, commit, parents }) = frontier.pop() {
        releases.reach(&id, time)?;
        releases.push(commit);
        for parent in parents {
            if seen.insert(parent) {
                let (t, c, p) = load(repo, parent)?;
                frontier.push(Waiting { time: t, id: parent, commit: c, parents: p });
            }
        }
    }
    releases.flush()
}

fn read_history(path: &Path, options: &HistoryOptions) -> Result<History, String> {
    let mut releases = Vec::new();
    let ignored_tags = stream_history(path, options, &mut |r| {
        releases.push(r);
        Ok(())
    })?;
    Ok(History { releases, ignored_tags })
}

/// Reads the history, handing each release to `sink` as soon as it is
/// complete (newest first); returns the ignored tags.
fn stream_history(
    path: &Path,
    options: &HistoryOptions,
    sink: &mut dyn FnMut(ReleaseCommits) -> Result<(), String>,
) -> Result<Vec<String>, String> {
    let mut repo = gix::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut ignored_tags = Vec::new();
    let mut tagged: std::collections::HashMap<gix::ObjectId, (shipwarden::Version, String)> = Default::default();
    for tag in tags_of(&repo)? {
        let Some(rest) = tag.name.strip_prefix(options.tag_prefix.as_str()) else { continue };
        let Ok(version) = rest.parse::<shipwarden::Version>() else {
            ignored_tags.push(tag.name);
            continue;
        };
        let id = gix::ObjectId::from_hex(tag.target.as_bytes()).map_err(|e| e.to_string())?;
        match tagged.get(&id) {
            Some((v, _)) if v >= &version => {}
            _ => {
                tagged.insert(id, (version, tag.name));
            }
        }
    }
    let tip = match &options.to {
        Some(spec) => resolve(&repo, spec)?,
        None => repo.head_id().map_err(|e| e.to_string())?.detach(),
    };
    let hidden = match &options.from {
        Some(spec) => vec![resolve(&repo, spec)?],
        None => Vec::new(),
    };
    ignored_tags.sort();
    if hidden.is_empty() && options.paths.is_empty() {
        walk_all(&repo, tip, &tagged, sink)?;
        return Ok(ignored_tags);
    }
    // The walk reads each commit, and the loop again for its message: keep them cached.
    repo.object_cache_size(4 * 1024 * 1024);
    let walk = repo.rev_walk([tip]).with_hidden(hidden).all().map_err(|e| e.to_string())?;
    let mut releases = Splitter::new(&tagged, sink);
    for info in walk {
        let info = info.map_err(|e| e.to_string())?;
        // Read through the object cache: the walk has just read this commit.
        let (time, commit, _) = load(&repo, info.id)?;
        releases.reach(&info.id, time)?;
        if !options.paths.is_empty() && !touches(&repo, &info.object().map_err(|e| e.to_string())?, &options.paths)? {
            continue;
        }
        releases.push(commit);
    }
    releases.flush()?;
    Ok(ignored_tags)
}

fn tags_of(repo: &gix::Repository) -> Result<Vec<Tag>, String> {
    let platform = repo.references().map_err(|e| e.to_string())?;
    let mut tags = Vec::new();
    for reference in platform.tags().map_err(|e| e.to_string())? {
        let mut reference = reference.map_err(|e| e.to_string())?;
        let name = reference.name().shorten().to_string();
        // Annotated tags peel to the commit they tag; lightweight tags already name it.
        let target = reference.peel_to_id().map_err(|e| format!("{name}: {e}"))?.to_string();
        tags.push(Tag { name, target });
    }
    Ok(tags)
}

#[async_trait]
impl Vcs for GitRepo {
    async fn head(&self) -> Result<String, PortError> {
        self.read("head", |repo| repo.head_id().map(|id| id.to_string()).map_err(|e| e.to_string())).await
    }

    async fn tags(&self) -> Result<Vec<Tag>, PortError> {
        self.read("tags", tags_of).await
    }

    async fn commits_since(&self, tag: Option<&str>) -> Result<Vec<Commit>, PortError> {
        let tag = tag.map(str::to_owned);
        self.read("commits_since", move |repo| {
            let head = repo.head_id().map_err(|e| e.to_string())?.detach();
            let mut hidden = Vec::new();
            if let Some(tag) = &tag {
                let target =
                    tags_of(repo)?.into_iter().find(|t| &t.name == tag).ok_or_else(|| format!("no tag {tag}"))?.target;
                hidden.push(gix::ObjectId::from_hex(target.as_bytes()).map_err(|e| e.to_string())?);
            }
            let walk = repo.rev_walk([head]).with_hidden(hidden).all().map_err(|e| e.to_string())?;
            let mut commits = Vec::new();
            for info in walk {
                let info = info.map_err(|e| e.to_string())?;
                let commit = info.object().map_err(|e| e.to_string())?;
                let message = commit.message().map_err(|e| e.to_string())?;
                let author = commit.author().map_err(|e| e.to_string())?.name.to_string();
                commits.push(Commit {
                    sha: info.id.to_string(),
                    subject: message.title.to_string(),
                    body: message.body.map(|b| b.to_string()).unwrap_or_default(),
                    author,
                    parents: commit.parent_ids().count(),
                });
            }
            Ok(commits)
        })
        .await
    }

    async fn commits_between(&self, from: Option<&str>, to: Option<&str>) -> Result<Vec<Commit>, PortError> {
        let options = HistoryOptions { from: from.map(str::to_owned), to: to.map(str::to_owned), ..Default::default() };
        let history = self.history(options).await?;
        Ok(history.releases.into_iter().flat_map(|r| r.commits).collect())
    }

    async fn branch_exists(&self, name: &str) -> Result<bool, PortError> {
        let name = name.to_owned();
        self.read("branch_exists", move |repo| {
            for full in [format!("refs/heads/{name}"), format!("refs/remotes/origin/{name}")] {
                if repo.try_find_reference(full.as_str()).map_err(|e| e.to_string())?.is_some() {
                    return Ok(true);
                }
            }
            Ok(false)
        })
        .await
    }

    async fn create_tag(&self, name: &str, message: &str, target: &str) -> Result<(), PortError> {
        let reject = |message: String| PortError::new(PORT, "create_tag", ErrorKind::Rejected, message);
        let (exists, current, _) =
            self.git("create_tag", &["rev-parse", "-q", "--verify", &format!("refs/tags/{name}^{{commit}}")]).await?;
        if exists && current != target {
            return Err(reject(format!(
                "tag {name} already points at {current}, not {target}; release tags never move"
            )));
        }
        if !exists {
            let (ok, _, err) = self.git("create_tag", &["tag", "-a", name, "-m", message, target]).await?;
            if !ok {
                return Err(reject(format!("git tag {name}: {err}")));
            }
        }
        if let Some(remote) = &self.remote {
            let (ok, _, err) = self.git("push_tag", &["push", remote, &format!("refs/tags/{name}")]).await?;
            if !ok {
                // A remote that cannot be reached may be back later.
                return Err(PortError::new(
                    PORT,
                    "push_tag",
                    ErrorKind::Unavailable,
                    format!("git push {remote} {name}: {err}"),
                ));
            }
        }
        Ok(())
    }
}
