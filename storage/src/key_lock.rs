//! Per-key OS file locks (for SQLite): one lock file per entry in a
//! directory beside the database, locked with `flock` (`LockFileEx` on
//! Windows) while a guard holds the entry.
//!
//! - The directory is `<database file>.locks` (mode 0700), the files
//!   `<16 hex digits>.lock` (mode 0600), named after a 64-bit hash of table
//!   and key: two entries that collide share a lock, which is harmless. The
//!   files are never removed (removing a lock file that another process has
//!   open would let two processes lock "the same" key at once).
//! - The OS drops the lock when its holder exits or dies, at once.
//! - A holder writes `pid <pid> since <unix ms>` into its lock file after
//!   taking the lock and empties it before giving it back, so a waiter that
//!   times out can say who holds the lock and since when.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Holder;
use crate::util::{lock_id, unix_millis};

/// The lock directory of the database at `db`, or `None` when `db` has no
/// file name.
pub(crate) fn lock_dir(db: &Path) -> Option<PathBuf> {
    let mut name = db.file_name()?.to_os_string();
    name.push(".locks");
    Some(db.with_file_name(name))
}

/// The lock file of `key` in `table`.
pub(crate) fn lock_path(dir: &Path, table: &str, key: &str) -> PathBuf {
    dir.join(format!("{:016x}.lock", lock_id(table, key) as u64))
}

/// A held per-key lock. Dropping it unlocks (the file is closed).
#[derive(Debug)]
pub(crate) struct KeyLock {
    file: File,
    path: PathBuf,
    /// The file's identity when locked, to notice a lock file that was
    /// removed or replaced under us.
    #[cfg(unix)]
    id: (u64, u64),
}

/// Why [`acquire`] failed.
pub(crate) enum AcquireError {
    /// Held by another for the whole timeout.
    Timeout(Holder),
    /// The lock file could not be opened or locked.
    Io(&'static str, std::io::Error),
}

/// Takes the lock at `path`, polling with backoff for up to `timeout`.
pub(crate) async fn acquire(path: PathBuf, timeout: Duration) -> Result<KeyLock, AcquireError> {
    let file = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || open_lock_file(&path))
            .await
            .map_err(|e| {
                AcquireError::Io("could not open the lock file", std::io::Error::other(e))
            })?
            .map_err(|e| AcquireError::Io("could not open the lock file", e))?
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(AcquireError::Timeout(read_holder(&path)));
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(TryLockError::Error(e)) => return Err(AcquireError::Io("could not lock", e)),
        }
    }
    #[cfg(unix)]
    let id = {
        use std::os::unix::fs::MetadataExt as _;
        let m = file
            .metadata()
            .map_err(|e| AcquireError::Io("could not stat the lock file", e))?;
        (m.dev(), m.ino())
    };
    let lock = KeyLock {
        file,
        path,
        #[cfg(unix)]
        id,
    };
    // Only informative (for a waiter's timeout message): a failure is not
    // the lock's.
    if let Err(e) = lock.write_marker(&format!(
        "pid {} since {}\n",
        std::process::id(),
        unix_millis()
    )) {
        tracing::debug!(error = %e, path = %lock.path.display(), "could not note the lock's holder");
    }
    Ok(lock)
}

impl KeyLock {
    /// Whether the lock file at the path is still the one locked (not
    /// removed or replaced since): only then does the lock exclude others.
    pub(crate) fn still_held(&self) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            match std::fs::metadata(&self.path) {
                Ok(m) => (m.dev(), m.ino()) == self.id,
                Err(_) => false,
            }
        }
        #[cfg(not(unix))]
        {
            self.path.exists()
        }
    }

    fn write_marker(&self, text: &str) -> std::io::Result<()> {
        let mut f = &self.file;
        f.set_len(0)?;
        f.seek(SeekFrom::Start(0))?;
        f.write_all(text.as_bytes())
    }

    /// Empties the marker and unlocks.
    pub(crate) fn release(self) {
        let _ = self.write_marker("");
        if let Err(e) = self.file.unlock() {
            // Closing the file (dropping `self`) unlocks it anyway.
            tracing::debug!(error = %e, path = %self.path.display(), "could not unlock");
        }
    }
}

/// Opens (creating) a lock file, mode 0600, in a directory of mode 0700.
fn open_lock_file(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            b.mode(0o700);
        }
        b.create(dir)?;
    }
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o.open(path)
}

/// What the holder of the lock at `path` wrote about itself.
fn read_holder(path: &Path) -> Holder {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    parse_marker(&text, unix_millis())
}

fn parse_marker(text: &str, now_ms: i64) -> Holder {
    let mut words = text.split_whitespace();
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some("pid"), Some(pid), Some("since"), Some(ms)) => {
            let held_for = ms
                .parse::<i64>()
                .ok()
                .map(|since| Duration::from_millis(now_ms.saturating_sub(since).max(0) as u64));
            Holder {
                held_for,
                who: pid.parse::<u32>().ok().map(|p| format!("process {p}")),
            }
        }
        _ => Holder::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        let h = parse_marker("pid 42 since 1000\n", 2500);
        assert_eq!(h.held_for, Some(Duration::from_millis(1500)));
        assert_eq!(h.who.as_deref(), Some("process 42"));
        let h = parse_marker("", 2500);
        assert!(h.held_for.is_none() && h.who.is_none());
        let h = parse_marker("pid x since y", 2500);
        assert!(h.held_for.is_none() && h.who.is_none());
        assert_eq!(
            lock_dir(Path::new("/a/b.sqlite")).unwrap(),
            Path::new("/a/b.sqlite.locks")
        );
        assert!(lock_dir(Path::new("/")).is_none());
    }

    #[tokio::test]
    async fn excludes_says_who_and_goes_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(&dir.path().join("db.locks"), "t", "k");
        let held = acquire(path.clone(), Duration::ZERO).await.ok().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
        match acquire(path.clone(), Duration::from_millis(20)).await {
            Err(AcquireError::Timeout(h)) => {
                assert_eq!(h.who, Some(format!("process {}", std::process::id())));
                assert!(h.held_for.is_some());
            }
            _ => panic!("a second lock was taken"),
        }
        assert!(held.still_held());
        held.release();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        let again = acquire(path.clone(), Duration::ZERO).await.ok().unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(!again.still_held());
    }
}
