//! Real implementations of shipwarden's ports, one cargo feature each.
//!
//! | feature | what |
//! |---|---|
//! | `sqlite` (default) | [`store::sqlite::SqliteStore`]: the event store in one SQLite file |
//! | `postgres` | [`store::postgres::PostgresStore`]: the event store in PostgreSQL |
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod store;
