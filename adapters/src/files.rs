//! Files a person names (a config, a key, a signature, a bundle), read with a
//! size limit: `/dev/zero`, a FIFO that never ends or a 10 GiB file gives a
//! clear error in bounded memory, not an exhausted machine.

use std::io::Read;
use std::path::Path;

/// A `shipwarden.toml`, an `allowed_signers` file, a release-notes template.
pub const CONFIG_LIMIT: u64 = 4 * 1024 * 1024;
/// A key file, a signed statement, a signature.
pub const SMALL_LIMIT: u64 = 256 * 1024;
/// An evidence bundle (a release's whole trail, as JSON).
pub const BUNDLE_LIMIT: u64 = 128 * 1024 * 1024;

/// Reads the UTF-8 text of `path`, refusing more than `limit` bytes.
///
/// # Errors
/// The file cannot be opened or read, is larger than `limit` (`InvalidData`,
/// naming the limit), or is not UTF-8.
pub fn read_text(path: &Path, limit: u64) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    // One byte past the limit tells "exactly the limit" from "more".
    file.take(limit.saturating_add(1)).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {} (the most shipwarden reads of such a file)", human(limit)),
        ));
    }
    Ok(text)
}

/// `limit` in KiB, MiB or GiB.
fn human(limit: u64) -> String {
    match limit {
        l if l >= 1 << 30 => format!("{} GiB", l >> 30),
        l if l >= 1 << 20 => format!("{} MiB", l >> 20),
        l => format!("{} KiB", l >> 10),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_or_oversized_file_is_refused_in_bounded_memory() {
        let err = read_text(Path::new("/dev/zero"), SMALL_LIMIT).expect_err("endless");
        assert!(err.to_string().contains("larger than 256 KiB"), "{err}");
        let dir = tempfile::tempdir().expect("tempdir");
        let exact = dir.path().join("exact");
        std::fs::write(&exact, "x".repeat(1024)).expect("write");
        assert_eq!(read_text(&exact, 1024).expect("exactly the limit").len(), 1024);
        assert!(read_text(&exact, 1023).is_err());
        std::fs::write(&exact, b"ok\xff").expect("write");
        assert_eq!(read_text(&exact, 1024).expect_err("not UTF-8").kind(), std::io::ErrorKind::InvalidData);
    }
}
