//! What the CLI's integration tests share: a project folder with a real git
//! repository and a `shipwarden.toml`, and the real binary run in it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A project `shop` whose build and three environments (staging, test, prod,
/// one target each) run shell commands, with quick retries, no prod
/// readiness gates and no blackouts; `users` (TOML `[users.*]`) in between.
pub fn shop_with_three_environments(users: &str) -> String {
    format!("{SHOP_HEAD}{users}{THREE_ENVIRONMENTS}")
}

const SHOP_HEAD: &str = r#"
[project]
name = "shop"
ticket_prefix = "SHOP"
repository = "repo"

[engine]
lease_wait = "1s"
"#;

const THREE_ENVIRONMENTS: &str = r#"
[build]
command = ["sh", "-c", "mkdir -p dist && echo shop $SHIPWARDEN_VERSION > dist/shop-$SHIPWARDEN_VERSION.txt"]
artifacts = { "shop.txt" = "dist/shop-{version}.txt" }

[[environments.staging.targets]]
name = "staging-1"
deploy = ["sh", "-c", "echo deployed to staging-1"]
rollback = ["sh", "-c", "echo rolled back"]

[[environments.test.targets]]
name = "test-1"
deploy = ["sh", "-c", "echo deployed to test-1"]
rollback = ["sh", "-c", "echo rolled back"]

[[environments.prod.targets]]
name = "prod-1"
deploy = ["sh", "-c", "echo deployed to prod-1"]
rollback = ["sh", "-c", "echo rolled back"]

[policy.retry]
initial_backoff = "10ms"
max_backoff = "20ms"

[policy.transitions.prod_readiness]
gates = []
steps = []

[policy.calendar]
blackouts = []
"#;

/// Runs `program` in `cwd` with a fixed identity and no user or system git
/// configuration; the output, whatever the exit.
pub fn run(program: &str, args: &[&str], cwd: &Path) -> Output {
    std::process::Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

/// Runs `program` (as [`run`]), which must succeed; its standard output.
pub fn ok(program: &str, args: &[&str], cwd: &Path) -> String {
    let out = run(program, args, cwd);
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs git in `repo`, which must succeed.
pub fn git(repo: &Path, args: &[&str]) {
    ok("git", args, repo);
}

/// A project folder: `repo/` (a git repository) and `shipwarden.toml`.
pub struct Project {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Project {
    /// A project whose repository holds one commit per `(file, message)`, each
    /// adding `file`; no configuration yet (see [`write_config`](Self::write_config)).
    pub fn with_commits(commits: &[(&str, &str)]) -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).expect("mkdir");
        git(&repo, &["init", "-q", "-b", "main"]);
        for (file, message) in commits {
            std::fs::write(repo.join(file), file.split('.').next().unwrap_or(file)).expect("write");
            git(&repo, &["add", "."]);
            git(&repo, &["commit", "-q", "-m", message]);
        }
        Project { dir, env: Vec::new() }
    }

    /// Writes `config` as the project's `shipwarden.toml`.
    pub fn write_config(&self, config: &str) {
        std::fs::write(self.path().join("shipwarden.toml"), config).expect("write");
    }

    /// Sets `name` to `value` for every command run from now on.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.push((name.to_owned(), value.to_owned()));
    }

    /// The project folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The project's git repository.
    pub fn repo(&self) -> PathBuf {
        self.path().join("repo")
    }

    /// The path of `name` in the project folder, as text.
    pub fn file(&self, name: &str) -> String {
        self.path().join(name).display().to_string()
    }

    /// Runs `shipwarden args` in the project, with `env` set; without colours, the
    /// user's `SHIPWARDEN_*` variables or an ssh-agent.
    pub fn cmd(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::cargo_bin("shipwarden").expect("binary");
        cmd.args(args)
            .current_dir(self.path())
            .env("NO_COLOR", "1")
            .env_remove("SHIPWARDEN_USER")
            .env_remove("SHIPWARDEN_CONFIG")
            .env_remove("SSH_AUTH_SOCK");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run")
    }

    /// Runs with `env` and expects exit `code`; returns standard output and error together.
    pub fn expect_with(&self, code: i32, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.cmd(args, env);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(code), "shipwarden {}:\n{text}", args.join(" "));
        text
    }

    /// Runs and expects exit `code`; returns standard output and error together.
    pub fn expect(&self, code: i32, args: &[&str]) -> String {
        self.expect_with(code, args, &[])
    }

    /// Runs and expects success; returns standard output and error together.
    pub fn ok(&self, args: &[&str]) -> String {
        self.expect(0, args)
    }

    /// Standard output alone of a command that succeeds (warnings go to standard error).
    pub fn stdout(&self, args: &[&str]) -> String {
        let out = self.cmd(args, &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "shipwarden {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Standard output of a command, read as JSON (`--json`), whatever its exit.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.cmd(args, &[]);
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
    }
}
