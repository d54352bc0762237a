//! Database migrations (R-7e, R-8b): the [`Migrator`](shipwarden::ports::Migrator)
//! port as a built-in runner of SQL files for PostgreSQL, and as any migration
//! tool (Flyway, Liquibase, sqlx, Alembic…) behind a command.

pub mod command;
#[cfg(feature = "config")]
pub mod config;
pub mod postgres;

use std::path::{Path, PathBuf};

use shipwarden::Sha256;
use shipwarden::ports::{ErrorKind, MigrationScript, MigrationSet, PortError};

/// A migration as read from the release's folder, with its scripts' text.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    pub meta: MigrationScript,
    pub up: String,
    pub down: Option<String>,
}

/// Orders ids by their leading number, then by text (`2_x` before `10_y`).
fn order_key(id: &str) -> (u128, String) {
    let digits: String = id.chars().take_while(char::is_ascii_digit).collect();
    (digits.parse().unwrap_or(u128::MAX), id.to_owned())
}

/// Reads `<id>.up.sql` and `<id>.down.sql` files from `dir` (the convention
/// of golang-migrate and sqlx's reversible migrations), in order. Any other
/// `.sql` file, or a rollback script without its forward one, is an error.
pub(crate) fn read_sql_dir(port: &str, dir: &Path) -> Result<Vec<Script>, PortError> {
    let bad = |kind: ErrorKind, message: String| PortError::new(port, "read migrations", kind, message);
    let entries = std::fs::read_dir(dir)
        .map_err(|e| bad(ErrorKind::NotFound, format!("cannot read the migrations folder {}: {e}", dir.display())))?;
    let mut ups = std::collections::BTreeMap::new();
    let mut downs = std::collections::BTreeMap::new();
    for entry in entries {
        let path = entry.map_err(|e| bad(ErrorKind::Other, e.to_string()))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
        if !name.ends_with(".sql") || !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| bad(ErrorKind::Invalid, format!("{}: cannot read it as UTF-8 text: {e}", path.display())))?;
        if let Some(id) = name.strip_suffix(".up.sql") {
            ups.insert(id.to_owned(), text);
        } else if let Some(id) = name.strip_suffix(".down.sql") {
            downs.insert(id.to_owned(), text);
        } else {
            return Err(bad(
                ErrorKind::Invalid,
                format!("{}: expected `<id>.up.sql` or `<id>.down.sql`, e.g. `0001_orders.up.sql`", path.display()),
            ));
        }
    }
    if let Some(orphan) = downs.keys().find(|id| !ups.contains_key(*id)) {
        return Err(bad(ErrorKind::Invalid, format!("{orphan}.down.sql has no {orphan}.up.sql")));
    }
    let mut scripts: Vec<Script> = ups
        .into_iter()
        .map(|(id, up)| {
            let down = downs.remove(&id);
            Script {
                meta: MigrationScript {
                    id,
                    up: Sha256::of(up.as_bytes()),
                    down: down.as_ref().map(|d| Sha256::of(d.as_bytes())),
                },
                up,
                down,
            }
        })
        .collect();
    scripts.sort_by_key(|s| order_key(&s.meta.id));
    Ok(scripts)
}

/// Every file under `dir`, each a migration named by its relative path, for
/// tools whose files shipwarden does not interpret: the set's digest still
/// says exactly which files ran.
pub(crate) fn read_any_dir(port: &str, dir: &Path) -> Result<MigrationSet, PortError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.is_file() {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, &mut files).map_err(|e| {
        PortError::new(
            port,
            "read migrations",
            ErrorKind::NotFound,
            format!("cannot read the migrations folder {}: {e}", dir.display()),
        )
    })?;
    let mut scripts = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).map_err(|e| {
            PortError::new(port, "read migrations", ErrorKind::Other, format!("{}: {e}", path.display()))
        })?;
        let id = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        scripts.push(MigrationScript { id, up: Sha256::of(&bytes), down: None });
    }
    scripts.sort_by_key(|s| order_key(&s.id));
    Ok(MigrationSet { scripts })
}

/// The set of scripts read from a folder.
pub(crate) fn set_of(scripts: &[Script]) -> MigrationSet {
    MigrationSet { scripts: scripts.iter().map(|s| s.meta.clone()).collect() }
}

/// Refuses to run when the files differ from the set the engine asks for.
pub(crate) fn check_same(
    port: &str,
    operation: &str,
    found: &MigrationSet,
    asked: &MigrationSet,
) -> Result<(), PortError> {
    if found.digest() == asked.digest() {
        return Ok(());
    }
    Err(PortError::new(
        port,
        operation,
        ErrorKind::Invalid,
        format!("the migration files changed since they were checked: {}", found.differences(asked).join("; ")),
    ))
}
