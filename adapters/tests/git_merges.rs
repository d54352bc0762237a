//! The history walk on merge histories (issue #17, R-4a, R-4d, R-9b): a
//! commit belongs to the first release whose tag reaches it and whose
//! predecessor's tag does not, which is `git log PREV..THIS`, however old
//! its committer date. Repositories are written with `git fast-import`, and
//! every expectation is what `git rev-list` says on the same repository.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};

use common::git;
use proptest::prelude::*;
use shipwarden::ports::Vcs;
use shipwarden_adapters::vcs::git::{GitRepo, History, HistoryOptions};

/// A history to write: each commit's parents (indices of earlier commits) and committer time.
#[derive(Debug, Clone, Default)]
struct Dag {
    commits: Vec<(Vec<usize>, i64)>,
    /// (commit, tag name, annotated).
    tags: Vec<(usize, String, bool)>,
}

impl Dag {
    fn commit(&mut self, parents: &[usize], time: i64) -> usize {
        self.commits.push((parents.to_vec(), time));
        self.commits.len() - 1
    }

    fn tag(&mut self, commit: usize, name: &str) {
        self.tags.push((commit, name.to_owned(), false));
    }

    /// Writes the history into a new repository at `dir` with `main` at `head`; returns each commit's id.
    fn write(&self, dir: &Path, head: usize) -> Vec<String> {
        git(dir.parent().expect("parent"), &["init", "-q", "-b", "main", dir.to_str().expect("utf-8")]);
        let mut stream = String::new();
        for (i, (parents, time)) in self.commits.iter().enumerate() {
            let message = format!("feat: change {i} SHOP-{i}\n");
            stream.push_str(&format!(
                "commit refs/heads/scratch\nmark :{}\nauthor Dev <dev@example.com> {time} +0000\n\
                 committer Dev <dev@example.com> {time} +0000\ndata {}\n{message}",
                i + 1,
                message.len()
            ));
            for (n, p) in parents.iter().enumerate() {
                stream.push_str(&format!("{} :{}\n", if n == 0 { "from" } else { "merge" }, p + 1));
            }
            stream.push('\n');
        }
        for (commit, name, annotated) in &self.tags {
            if *annotated {
                let message = format!("release {name}\n");
                let time = self.commits[*commit].1;
                stream.push_str(&format!(
                    "tag {name}\nfrom :{}\ntagger Dev <dev@example.com> {time} +0000\ndata {}\n{message}\n",
                    commit + 1,
                    message.len()
                ));
            } else {
                stream.push_str(&format!("reset refs/tags/{name}\nfrom :{}\n\n", commit + 1));
            }
        }
        stream.push_str(&format!("reset refs/heads/main\nfrom :{}\n\n", head + 1));
        let marks = dir.join(".git/dag-marks");
        let mut child = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["fast-import", "--quiet", &format!("--export-marks={}", marks.display())])
            .stdin(Stdio::piped())
            .spawn()
            .expect("git fast-import");
        std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), stream.as_bytes()).expect("stream");
        assert!(child.wait().expect("fast-import").success());
        git(dir, &["update-ref", "-d", "refs/heads/scratch"]);
        let marks = std::fs::read_to_string(marks).expect("marks");
        let by_mark: HashMap<usize, String> = marks
            .lines()
            .filter_map(|l| l.strip_prefix(':')?.split_once(' '))
            .map(|(m, id)| (m.parse().expect("mark"), id.to_owned()))
            .collect();
        (1..=self.commits.len()).map(|m| by_mark[&m].clone()).collect()
    }
}

/// What git says: the commits of `git rev-list ARGS`.
fn rev_list(dir: &Path, args: &[&str]) -> BTreeSet<String> {
    let mut all = vec!["rev-list"];
    all.extend_from_slice(args);
    git(dir, &all).lines().map(str::to_owned).collect()
}

/// Each release's tag (none: unreleased) and its commits' ids.
fn releases(history: &History) -> Vec<(Option<String>, BTreeSet<String>)> {
    history.releases.iter().map(|r| (r.tag.clone(), r.commits.iter().map(|c| c.sha.clone()).collect())).collect()
}

fn whole(dir: &Path) -> History {
    GitRepo::new(dir)
        .history_blocking(&HistoryOptions { tag_prefix: "v".into(), ..Default::default() })
        .expect("history")
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).clone()).collect()
}

fn tagged(tag: &str, ids: &[&String]) -> (Option<String>, BTreeSet<String>) {
    (Some(tag.to_owned()), set(ids))
}

/// The repository: a topic commit older than v1.0.0, merged after it, is a change of 1.1.0.
#[tokio::test]
async fn a_topic_commit_older_than_the_previous_tag_belongs_to_the_release_that_merged_it_r4a_r9b() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("repo");
    let mut dag = Dag::default();
    let a = dag.commit(&[], 100);
    let topic = dag.commit(&[a], 200);
    let b = dag.commit(&[a], 300);
    dag.tag(b, "v1.0.0");
    let merge = dag.commit(&[b, topic], 400);
    dag.tag(merge, "v1.1.0");
    let ids = dag.write(&dir, merge);
    let (a, topic, b, merge) = (&ids[a], &ids[topic], &ids[b], &ids[merge]);
    assert_eq!(
        releases(&whole(&dir)),
        vec![tagged("v1.1.0", &[merge, topic]), tagged("v1.0.0", &[b, a])],
        "as `git log v1.0.0..v1.1.0`"
    );
    assert_eq!(rev_list(&dir, &["v1.0.0..v1.1.0"]), set(&[merge, topic]));
    let repo = GitRepo::new(&dir);
    let between: BTreeSet<String> = repo
        .commits_between(Some("v1.0.0"), Some("v1.1.0"))
        .await
        .expect("between")
        .into_iter()
        .map(|c| c.sha)
        .collect();
    assert_eq!(between, set(&[merge, topic]), "the release's own commits (evidence bundle, R-9d)");
    // Its notes list the topic's change, not "No changes" (the merge itself is skipped).
    let history = whole(&dir);
    let subjects: Vec<&str> = history.releases[0].commits.iter().map(|c| c.subject.as_str()).collect();
    assert!(subjects.contains(&"feat: change 1 SHOP-1"), "{subjects:?}");
}

/// A branch that started before the previous tag and is merged after the
/// newest one is unreleased; the commits the plan and the R-4a gate see.
#[tokio::test]
async fn a_branch_started_before_earlier_tags_is_unreleased_until_tagged_r4a_r4d() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("repo");
    let mut dag = Dag::default();
    let a = dag.commit(&[], 100);
    dag.tag(a, "v1.0.0");
    let x = dag.commit(&[a], 200);
    let b = dag.commit(&[a], 300);
    dag.tag(b, "v1.1.0");
    let c = dag.commit(&[b], 400);
    dag.tag(c, "v1.2.0");
    let m = dag.commit(&[c, x], 500);
    let ids = dag.write(&dir, m);
    let (a, x, b, c, m) = (&ids[a], &ids[x], &ids[b], &ids[c], &ids[m]);
    assert_eq!(
        releases(&whole(&dir)),
        vec![(None, set(&[m, x])), tagged("v1.2.0", &[c]), tagged("v1.1.0", &[b]), tagged("v1.0.0", &[a]),]
    );
    let repo = GitRepo::new(&dir);
    let since: BTreeSet<String> =
        repo.commits_since(Some("v1.2.0")).await.expect("since").into_iter().map(|c| c.sha).collect();
    assert_eq!(since, rev_list(&dir, &["v1.2.0..HEAD"]));
    assert_eq!(since, set(&[m, x]));
    // A range from a tag: only what follows it, split the same way.
    let range = repo
        .history_blocking(&HistoryOptions { tag_prefix: "v".into(), from: Some("v1.1.0".into()), ..Default::default() })
        .expect("range");
    assert_eq!(releases(&range), vec![(None, set(&[m, x])), tagged("v1.2.0", &[c])]);
}

/// A topic merged into another topic, which is merged into main.
#[test]
fn merges_of_merges_belong_to_the_release_that_merges_them_r9b() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("repo");
    let mut dag = Dag::default();
    let a = dag.commit(&[], 100);
    dag.tag(a, "v1.0.0");
    let p = dag.commit(&[a], 200);
    let q = dag.commit(&[a], 300);
    let b = dag.commit(&[a], 400);
    dag.tag(b, "v1.1.0");
    let n = dag.commit(&[p, q], 500);
    let c = dag.commit(&[b], 600);
    let m = dag.commit(&[c, n], 700);
    dag.tag(m, "v1.2.0");
    let ids = dag.write(&dir, m);
    let r = |i: usize| &ids[i];
    assert_eq!(
        releases(&whole(&dir)),
        vec![tagged("v1.2.0", &[r(m), r(c), r(n), r(q), r(p)]), tagged("v1.1.0", &[r(b)]), tagged("v1.0.0", &[r(a)]),]
    );
}

/// An octopus merge of two topics that both started before the previous tag.
#[test]
fn an_octopus_merge_brings_all_its_branches_r9b() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("repo");
    let mut dag = Dag::default();
    let a = dag.commit(&[], 100);
    dag.tag(a, "v1.0.0");
    let r1 = dag.commit(&[a], 200);
    let s1 = dag.commit(&[a], 300);
    let b = dag.commit(&[a], 400);
    dag.tag(b, "v1.1.0");
    let o = dag.commit(&[b, r1, s1], 500);
    dag.tag(o, "v1.2.0");
    let ids = dag.write(&dir, o);
    let r = |i: usize| &ids[i];
    assert_eq!(
        releases(&whole(&dir)),
        vec![tagged("v1.2.0", &[r(o), r(r1), r(s1)]), tagged("v1.1.0", &[r(b)]), tagged("v1.0.0", &[r(a)])]
    );
}

/// Commits come newest first, and never after one of their parents.
#[test]
fn commits_are_listed_children_before_parents_even_with_skewed_clocks_r9b() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("repo");
    let mut dag = Dag::default();
    let a = dag.commit(&[], 500);
    let b = dag.commit(&[a], 100); // a clock behind: older than its parent
    let c = dag.commit(&[b], 600);
    dag.tag(c, "v1.0.0");
    let ids = dag.write(&dir, c);
    let history = whole(&dir);
    let order: Vec<&str> = history.releases[0].commits.iter().map(|c| c.sha.as_str()).collect();
    assert_eq!(order, [&ids[c], &ids[b], &ids[a]]);
}

/// A shallow clone (CI checkouts): the walk stops at the boundary, as git does.
#[test]
fn a_shallow_clone_lists_the_commits_it_has_r9b() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("repo");
    let mut dag = Dag::default();
    let a = dag.commit(&[], 100);
    dag.tag(a, "v1.0.0");
    let topic = dag.commit(&[a], 200);
    let b = dag.commit(&[a], 300);
    let c = dag.commit(&[b], 400);
    let m = dag.commit(&[c, topic], 500);
    let d = dag.commit(&[m], 600);
    dag.write(&dir, d);
    let clone = root.path().join("clone");
    let url = format!("file://{}", dir.display());
    git(root.path(), &["clone", "-q", "--depth", "2", &url, clone.to_str().expect("utf-8")]);
    let history = whole(&clone);
    assert_eq!(releases(&history), vec![(None, rev_list(&clone, &["HEAD"]))]);
    assert_eq!(history.releases[0].commits.len(), 2, "d, and m at the boundary (its parents are not fetched)");
    // With a path filter (a monorepo package), the boundary commit counts as a first commit.
    let filtered = GitRepo::new(&clone)
        .history_blocking(&HistoryOptions { tag_prefix: "v".into(), paths: vec!["f".into()], ..Default::default() })
        .expect("a path filter on a shallow clone");
    assert!(filtered.releases.is_empty(), "no commit changes f: {:?}", releases(&filtered));
}

/// One step of a generated history (see [`generate`]).
type Step = (u8, u8, u8);

/// Builds a merge-heavy history from `steps`: commits on main and on topic
/// branches, topics started anywhere in main's history (often before earlier
/// tags) or on other topics, merges into main, merges of topics into topics,
/// octopus merges, and release tags on main. Clocks go forward by 0 to 2
/// seconds a commit (ties included). Returns the history, main's tip, and
/// the tags oldest first.
fn generate(steps: &[Step]) -> (Dag, usize, Vec<String>) {
    let mut dag = Dag::default();
    let mut time = 1_000;
    let mut main = dag.commit(&[], time);
    let mut line = vec![main]; // main's first-parent line
    let mut topics: Vec<(usize, bool)> = Vec::new(); // tip, has commits main lacks
    let mut tags = Vec::new();
    for &(op, a, b) in steps {
        time += i64::from(b % 3);
        let (a, b) = (usize::from(a), usize::from(b));
        match op % 9 {
            0 | 1 => {}
            2 => {
                let start =
                    if b % 3 == 0 && !topics.is_empty() { topics[a % topics.len()].0 } else { line[a % line.len()] };
                topics.push((start, false));
                continue;
            }
            3 | 4 if !topics.is_empty() => {
                let t = a % topics.len();
                topics[t] = (dag.commit(&[topics[t].0], time), true);
                continue;
            }
            5 if topics.iter().any(|t| t.1) => {
                let dirty: Vec<usize> = (0..topics.len()).filter(|&i| topics[i].1).collect();
                let t = dirty[a % dirty.len()];
                main = dag.commit(&[main, topics[t].0], time);
                topics[t].1 = false;
                line.push(main);
                continue;
            }
            6 if topics.len() >= 2 => {
                let (x, y) = (a % topics.len(), b % topics.len());
                if x != y && topics[y].0 != topics[x].0 {
                    topics[x] = (dag.commit(&[topics[x].0, topics[y].0], time), true);
                    continue;
                }
            }
            7 if topics.iter().filter(|t| t.1).count() >= 2 => {
                let dirty: Vec<usize> = (0..topics.len()).filter(|&i| topics[i].1).collect();
                let mut parents = vec![main];
                for &t in dirty.iter().take(2 + a % 2) {
                    parents.push(topics[t].0);
                    topics[t].1 = false;
                }
                main = dag.commit(&parents, time);
                line.push(main);
                continue;
            }
            8 => {
                if dag.tags.last().is_none_or(|t| t.0 != main) {
                    let name = format!("v1.{}.0", tags.len());
                    dag.tags.push((main, name.clone(), a % 2 == 0));
                    tags.push(name);
                }
                continue;
            }
            _ => {}
        }
        main = dag.commit(&[main], time);
        line.push(main);
    }
    (dag, main, tags)
}

/// Checks the walk against `git rev-list` on a generated history.
fn check_against_git(steps: &[Step]) -> Result<(), TestCaseError> {
    let (dag, head, tags) = generate(steps);
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("repo");
    let ids = dag.write(&dir, head);
    let mut expected: Vec<(Option<String>, BTreeSet<String>)> = Vec::new();
    let newest = tags.last().cloned();
    let unreleased = match &newest {
        Some(t) => rev_list(&dir, &[&format!("{t}..HEAD")]),
        None => rev_list(&dir, &["HEAD"]),
    };
    if !unreleased.is_empty() {
        expected.push((None, unreleased));
    }
    for (i, tag) in tags.iter().enumerate().rev() {
        let commits =
            if i == 0 { rev_list(&dir, &[tag]) } else { rev_list(&dir, &[&format!("{}..{tag}", tags[i - 1])]) };
        expected.push((Some(tag.clone()), commits));
    }
    let history = whole(&dir);
    prop_assert_eq!(releases(&history), expected, "{} commits, tags {:?}", ids.len(), tags);
    // Children before parents within each release.
    for release in &history.releases {
        let position: HashMap<&str, usize> =
            release.commits.iter().enumerate().map(|(i, c)| (c.sha.as_str(), i)).collect();
        for (i, (parents, _)) in dag.commits.iter().enumerate() {
            for p in parents {
                if let (Some(child), Some(parent)) = (position.get(ids[i].as_str()), position.get(ids[*p].as_str())) {
                    prop_assert!(child < parent, "{} listed after its parent {}", ids[i], ids[*p]);
                }
            }
        }
    }
    // A range after a tag (`notes --from`, `changes check --from`), and commits_since (plan scope, R-4a/R-4d gates).
    if let Some(from) = tags.get(tags.len() / 2) {
        let range = GitRepo::new(&dir)
            .history_blocking(&HistoryOptions {
                tag_prefix: "v".into(),
                from: Some(from.clone()),
                ..Default::default()
            })
            .expect("range");
        let all: BTreeSet<String> =
            range.releases.iter().flat_map(|r| r.commits.iter().map(|c| c.sha.clone())).collect();
        prop_assert_eq!(all, rev_list(&dir, &[&format!("{from}..HEAD")]));
        let later: Vec<(Option<String>, BTreeSet<String>)> =
            releases(&whole(&dir)).into_iter().take_while(|(t, _)| t.as_ref() != Some(from)).collect();
        prop_assert_eq!(releases(&range), later);
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let since = runtime.block_on(GitRepo::new(&dir).commits_since(Some(from))).expect("since");
        let since: BTreeSet<String> = since.into_iter().map(|c| c.sha).collect();
        prop_assert_eq!(since, rev_list(&dir, &[&format!("{from}..HEAD")]));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random merge-heavy histories: every release's commits are exactly
    /// `git rev-list PREV..THIS` (`git rev-list FIRST` for the first,
    /// `NEWEST..HEAD` unreleased).
    #[test]
    fn releases_equal_git_rev_list_on_random_merge_histories_r4a_r4d_r9b(
        steps in prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>()), 10..120)
    ) {
        check_against_git(&steps)?;
    }
}
