//! A git repository: history, tags and branches are read with gix, in
//! process; annotated tags are created and pushed with the `git` command, so
//! that users' credential helpers and SSH configuration apply.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
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

    /// The history split into releases by release tags (R-4a, R-9b): a
    /// commit belongs to the oldest release whose tag reaches it, i.e. to
    /// `git log PREV..THIS`, whatever its date; commits no tag reaches are
    /// unreleased (`git log NEWEST..HEAD`). Each commit is read once, and the
    /// cost does not grow with the number of tags. Lightweight and annotated
    /// tags count; tags with the prefix that are not SemVer are listed as ignored.
    ///
    /// # Errors
    /// When the repository or a revision cannot be read.
    pub fn history_blocking(&self, options: &HistoryOptions) -> Result<History, PortError> {
        read_history(&self.path, options).map_err(|e| fail("history", e))
    }

    /// Like [`GitRepo::history_blocking`], handing each release to `sink`
    /// (newest first) as soon as the history is split, so that a consumer on
    /// another thread works on one release while the next is handed over.
    /// Returns the ignored tags.
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
    /// The commits, newest first, each before its parents (`git log --date-order`).
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
/// A shallow clone's boundary commit (its parent absent) counts as a first commit, as in git.
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
        Some(id) => match repo.try_find_object(id).map_err(|e| e.to_string())? {
            Some(object) => entry_ids(&object.try_into_commit().map_err(|e| e.to_string())?)?,
            None if repo.is_shallow().unwrap_or(false) => vec![None; paths.len()],
            None => return Err(format!("commit {id} (parent of {}) is missing", commit.id)),
        },
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

/// Release tags by the commit they name: the highest version when a commit has several.
type Tagged = HashMap<gix::ObjectId, (shipwarden::Version, String)>;

/// A commit no release has claimed (yet).
const UNCLAIMED: u32 = u32::MAX;

/// The commits reachable from some tips, each read exactly once (no object
/// cache needed): what the port reports, the committer time, and the parents
/// as indices into the same lists. Commit `0` is the first tip.
struct Graph {
    ids: Vec<gix::ObjectId>,
    times: Vec<i64>,
    commits: Vec<Option<Commit>>,
    /// Commit `i`'s parents are `parents[spans[i].0..spans[i].1]`.
    spans: Vec<(usize, usize)>,
    parents: Vec<u32>,
    index: HashMap<gix::ObjectId, u32>,
}

impl Graph {
    /// Reads every commit reachable from `tips`. A shallow clone's boundary
    /// commits are read without their (absent) parents.
    fn read(repo: &gix::Repository, tips: &[gix::ObjectId]) -> Result<Self, String> {
        let shallow: HashSet<gix::ObjectId> = match repo.shallow_commits().map_err(|e| e.to_string())? {
            Some(boundary) => boundary.iter().copied().collect(),
            None => HashSet::new(),
        };
        let mut graph = Graph {
            ids: Vec::new(),
            times: Vec::new(),
            commits: Vec::new(),
            spans: Vec::new(),
            parents: Vec::new(),
            index: HashMap::new(),
        };
        let mut unread = Vec::new();
        for tip in tips {
            if let (i, true) = graph.number(*tip)? {
                unread.push(i);
            }
        }
        unread.reverse();
        while let Some(i) = unread.pop() {
            let i = i as usize;
            let (time, commit, parents) = load(repo, graph.ids[i])?;
            let start = graph.parents.len();
            if !shallow.contains(&graph.ids[i]) {
                // First parents first: the walk follows the main line before its side branches.
                for parent in parents.into_iter().rev() {
                    let (p, new) = graph.number(parent)?;
                    graph.parents.push(p);
                    if new {
                        unread.push(p);
                    }
                }
                graph.parents[start..].reverse();
            }
            graph.times[i] = time;
            graph.commits[i] = Some(commit);
            graph.spans[i] = (start, graph.parents.len());
        }
        Ok(graph)
    }

    /// The number of commit `id`, and whether it is new.
    fn number(&mut self, id: gix::ObjectId) -> Result<(u32, bool), String> {
        if let Some(&i) = self.index.get(&id) {
            return Ok((i, false));
        }
        let i = u32::try_from(self.ids.len()).map_err(|_| "more than 4 billion commits".to_owned())?;
        self.index.insert(id, i);
        self.ids.push(id);
        self.times.push(0);
        self.commits.push(None);
        self.spans.push((0, 0));
        Ok((i, true))
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    /// The numbers of commits already read.
    fn numbers(&self, ids: &[gix::ObjectId]) -> Result<Vec<u32>, String> {
        ids.iter().map(|id| self.index.get(id).copied().ok_or_else(|| format!("commit {id} was not read"))).collect()
    }

    fn parents_of(&self, i: usize) -> &[u32] {
        let (start, end) = self.spans[i];
        &self.parents[start..end]
    }

    /// Sets `marks[c] = label` for every commit `c` reachable from `from`
    /// whose mark is `UNCLAIMED`, not crossing commits already marked: they
    /// and their ancestors belong to an earlier claim.
    fn claim(&self, from: u32, label: u32, marks: &mut [u32]) {
        if marks[from as usize] != UNCLAIMED {
            return;
        }
        marks[from as usize] = label;
        let mut stack = vec![from];
        while let Some(i) = stack.pop() {
            for &p in self.parents_of(i as usize) {
                if marks[p as usize] == UNCLAIMED {
                    marks[p as usize] = label;
                    stack.push(p);
                }
            }
        }
    }

    /// The commits where `keep` is set, children before parents, and the
    /// newest (committer time) first wherever the graph leaves a choice, as
    /// `git log --date-order` lists them.
    fn date_order(&self, keep: &[bool]) -> Vec<u32> {
        let mut children = vec![0u32; self.len()];
        for i in (0..self.len()).filter(|&i| keep[i]) {
            for &p in self.parents_of(i) {
                children[p as usize] += 1;
            }
        }
        let mut ready: BinaryHeap<(i64, Reverse<u32>)> = (0..self.len())
            .filter(|&i| keep[i] && children[i] == 0)
            .map(|i| (self.times[i], Reverse(i as u32)))
            .collect();
        let mut order = Vec::with_capacity(ready.len());
        while let Some((_, Reverse(i))) = ready.pop() {
            order.push(i);
            for &p in self.parents_of(i as usize) {
                let left = &mut children[p as usize];
                *left -= 1;
                if *left == 0 && keep[p as usize] {
                    ready.push((self.times[p as usize], Reverse(p)));
                }
            }
        }
        order
    }

    /// Which commits are reachable from `tip` and from none of `hidden`: `git log ^HIDDEN TIP`.
    fn range(&self, tip: u32, hidden: &[u32]) -> Vec<bool> {
        let mut marks = vec![UNCLAIMED; self.len()];
        for &h in hidden {
            self.claim(h, 0, &mut marks);
        }
        self.claim(tip, 1, &mut marks);
        marks.iter().map(|&m| m == 1).collect()
    }

    /// Takes commit `i` out of the graph (each is handed over once).
    fn take(&mut self, i: u32) -> Result<Commit, String> {
        self.commits[i as usize].take().ok_or_else(|| format!("commit {} handed over twice", self.ids[i as usize]))
    }
}

/// The commits of `git log ^HIDDEN TIP`, newest first and children before parents.
fn commits_in_range(
    repo: &gix::Repository,
    tip: gix::ObjectId,
    hidden: &[gix::ObjectId],
) -> Result<Vec<Commit>, String> {
    let mut tips = vec![tip];
    tips.extend_from_slice(hidden);
    let mut graph = Graph::read(repo, &tips)?;
    let hidden = graph.numbers(hidden)?;
    let keep = graph.range(0, &hidden);
    graph.date_order(&keep).into_iter().map(|i| graph.take(i)).collect()
}

fn read_history(path: &Path, options: &HistoryOptions) -> Result<History, String> {
    let mut releases = Vec::new();
    let ignored_tags = stream_history(path, options, &mut |r| {
        releases.push(r);
        Ok(())
    })?;
    Ok(History { releases, ignored_tags })
}

/// Reads the history and splits it into releases by reachability (R-4a,
/// R-9b): release tags are taken oldest version first, and each claims the
/// commits its tag reaches that no older release claimed, so a release holds
/// `git log PREV..THIS` however old its commits' dates (a branch started
/// before the previous tag and merged after it belongs to the release that
/// merged it). Commits no tag reaches are unreleased: `git log NEWEST..HEAD`.
/// Each commit is read once; the cost does not grow with the number of tags.
/// Hands each release to `sink`, newest first; returns the ignored tags.
fn stream_history(
    path: &Path,
    options: &HistoryOptions,
    sink: &mut dyn FnMut(ReleaseCommits) -> Result<(), String>,
) -> Result<Vec<String>, String> {
    let repo = gix::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut ignored_tags = Vec::new();
    let mut tagged = Tagged::default();
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
    ignored_tags.sort();
    let tip = match &options.to {
        Some(spec) => resolve(&repo, spec)?,
        None => repo.head_id().map_err(|e| e.to_string())?.detach(),
    };
    let hidden = match &options.from {
        Some(spec) => vec![resolve(&repo, spec)?],
        None => Vec::new(),
    };
    let mut tips = vec![tip];
    tips.extend_from_slice(&hidden);
    let mut graph = Graph::read(&repo, &tips)?;
    let hidden = graph.numbers(&hidden)?;
    let keep = graph.range(0, &hidden);
    let reachable = graph.range(0, &[]);
    // The release tags the tip reaches, oldest version first; each claims in turn.
    let mut releases: Vec<(u32, &shipwarden::Version, &String)> = tagged
        .iter()
        .filter_map(|(id, (version, name))| graph.index.get(id).map(|&i| (i, version, name)))
        .filter(|(i, ..)| reachable[*i as usize])
        .collect();
    releases.sort_by(|a, b| a.1.cmp(b.1).then_with(|| a.2.cmp(b.2)));
    let mut owner = vec![UNCLAIMED; graph.len()];
    for (label, (i, ..)) in releases.iter().enumerate() {
        graph.claim(*i, label as u32, &mut owner);
    }
    // Each release's commits, in date order; the last list is the unreleased one.
    let mut lists: Vec<Vec<u32>> = vec![Vec::new(); releases.len() + 1];
    for i in graph.date_order(&keep) {
        if !options.paths.is_empty() {
            let commit = repo.find_commit(graph.ids[i as usize]).map_err(|e| e.to_string())?;
            if !touches(&repo, &commit, &options.paths)? {
                continue;
            }
        }
        let list = match owner[i as usize] {
            UNCLAIMED => releases.len(),
            label => label as usize,
        };
        lists[list].push(i);
    }
    let unreleased = std::mem::take(&mut lists[releases.len()]);
    if !unreleased.is_empty() {
        let commits = unreleased.into_iter().map(|i| graph.take(i)).collect::<Result<_, _>>()?;
        sink(ReleaseCommits { tag: None, version: None, date: None, commits })?;
    }
    for (label, (i, version, name)) in releases.iter().enumerate().rev() {
        // A release outside the range (at or before `from`) is not listed.
        if !keep[*i as usize] {
            continue;
        }
        let time = graph.times[*i as usize];
        let date = jiff::Timestamp::from_second(time).ok().map(|t| t.strftime("%Y-%m-%d").to_string());
        let commits = std::mem::take(&mut lists[label]).into_iter().map(|c| graph.take(c)).collect::<Result<_, _>>()?;
        sink(ReleaseCommits { tag: Some((*name).clone()), version: Some((*version).clone()), date, commits })?;
    }
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
            commits_in_range(repo, head, &hidden)
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
