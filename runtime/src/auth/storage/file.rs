//! [`FileStorage`] and [`FileKeyedStorage`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Storage, StorageGuard};
use crate::auth::UserCredentials;
use crate::clock::BoxFuture;
use crate::{Error, ErrorKind};

/// The default time to wait for another process's lock.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Credentials in one JSON file (the format of [`UserCredentials`]).
///
/// - The file is created with mode 0600 (its directory, when created, 0700).
/// - Writes are atomic: a temporary file in the same directory is written,
///   fsynced and renamed over the old one, then the directory is fsynced. A
///   failed write leaves the old file as it was.
/// - Symlinks (at the file or its lock) and non-regular files are refused.
/// - [`Storage::lock`] takes an exclusive `flock` on a separate `<file>.lock`
///   file, waiting up to the lock timeout ([`DEFAULT_LOCK_TIMEOUT`]). The lock
///   works across processes and between handles within one process.
/// - A file of an unknown (newer) format version is an error, and `put`
///   refuses to overwrite it.
/// - A crash in the middle of a write can leave a temporary file (0600)
///   beside the file; the next [`Storage::lock`] removes it.
/// - Unknown members of the stored JSON are written back as they were.
#[derive(Debug, Clone)]
pub struct FileStorage {
    path: PathBuf,
    lock_timeout: Duration,
}

impl FileStorage {
    /// A store at `path` (need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStorage {
            path: path.into(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// How long [`Storage::lock`] waits for another holder.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The credentials file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file: the credentials file's name with `.lock` appended.
    pub fn lock_path(&self) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".lock");
        self.path.with_file_name(name)
    }

    async fn acquire(&self) -> crate::Result<FileGuard> {
        let lock_path = self.lock_path();
        let file = {
            let lock_path = lock_path.clone();
            blocking(move || open_lock_file(&lock_path)).await?
        };
        let deadline = tokio::time::Instant::now() + self.lock_timeout;
        let mut pause = Duration::from_millis(2);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(Error::new(
                            ErrorKind::Timeout,
                            format!(
                                "timed out after {:?} waiting for the lock {}",
                                self.lock_timeout,
                                lock_path.display()
                            ),
                        ));
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(storage_err(&lock_path, "could not lock", e));
                }
            }
        }
        // Writers hold this lock, so a temporary file left now is what a
        // crashed writer left: it holds credentials, and nothing else will
        // ever remove it.
        let path = self.path.clone();
        blocking(move || {
            sweep_temp_files(&path);
            Ok(())
        })
        .await?;
        Ok(FileGuard {
            path: self.path.clone(),
            _lock: file,
        })
    }
}

impl Storage for FileStorage {
    fn lock(&self) -> BoxFuture<'_, crate::Result<Box<dyn StorageGuard + '_>>> {
        Box::pin(async move {
            let guard = self.acquire().await?;
            Ok(Box::new(guard) as Box<dyn StorageGuard>)
        })
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

/// The held lock of a [`FileStorage`]: the locked lock file stays open until
/// this is dropped.
struct FileGuard {
    path: PathBuf,
    _lock: File,
}

impl StorageGuard for FileGuard {
    fn get(&mut self) -> BoxFuture<'_, crate::Result<Option<UserCredentials>>> {
        let path = self.path.clone();
        Box::pin(blocking(move || read_credentials(&path)))
    }

    fn put<'a>(&'a mut self, credentials: &'a UserCredentials) -> BoxFuture<'a, crate::Result<()>> {
        let path = self.path.clone();
        let json = credentials.to_json();
        Box::pin(blocking(move || {
            refuse_newer_version(&path)?;
            write_atomically(&path, json.as_bytes())
        }))
    }

    fn delete(&mut self) -> BoxFuture<'_, crate::Result<()>> {
        let path = self.path.clone();
        Box::pin(blocking(move || {
            check_not_symlink(&path)?;
            match fs::remove_file(&path) {
                Ok(()) => sync_dir(&path),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(storage_err(&path, "could not delete", e)),
            }
        }))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> crate::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::new(ErrorKind::Storage, "a storage task failed").with_source(e))?
}

pub(super) fn storage_err(path: &Path, what: &str, e: io::Error) -> Error {
    Error::new(ErrorKind::Storage, format!("{what} {}", path.display())).with_source(e)
}

/// Errors when `path` is a symlink or exists but is not a regular file.
/// Returns whether it exists.
fn check_not_symlink(path: &Path) -> crate::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(Error::new(
            ErrorKind::Storage,
            format!("refusing to use {}: it is a symbolic link", path.display()),
        )),
        Ok(m) if !m.is_file() => Err(Error::new(
            ErrorKind::Storage,
            format!(
                "refusing to use {}: it is not a regular file",
                path.display()
            ),
        )),
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(storage_err(path, "could not inspect", e)),
    }
}

fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    o
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(dir)
}

fn open_lock_file(lock_path: &Path) -> crate::Result<File> {
    check_not_symlink(lock_path)?;
    create_private_dir(&parent_dir(lock_path))
        .map_err(|e| storage_err(lock_path, "could not create the directory of", e))?;
    private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock_path)
        .map_err(|e| storage_err(lock_path, "could not open the lock file", e))
}

fn read_credentials(path: &Path) -> crate::Result<Option<UserCredentials>> {
    if !check_not_symlink(path)? {
        return Ok(None);
    }
    let mut text = String::new();
    private_options()
        .read(true)
        .open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|e| storage_err(path, "could not read", e))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    UserCredentials::from_json(&text).map(Some).map_err(|e| {
        Error::new(
            ErrorKind::Storage,
            format!(
                "{} does not hold valid credentials (delete it to sign in again)",
                path.display()
            ),
        )
        .with_source(e)
    })
}

/// The prefix of the temporary files of a write to `path`.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.tmp-")
}

/// Removes the temporary files a crashed write to `path` left behind.
fn sweep_temp_files(path: &Path) {
    let dir = parent_dir(path);
    let prefix = temp_prefix(path);
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let tmp = entry.path();
        match fs::remove_file(&tmp) {
            Ok(()) => {
                tracing::info!(file = %tmp.display(), "removed the temporary file of an interrupted credentials write")
            }
            Err(e) => {
                tracing::warn!(file = %tmp.display(), error = %e, "could not remove the temporary file of an interrupted credentials write")
            }
        }
    }
}

/// Refuses to replace a file written in a newer format version (a newer
/// gapi's data would be lost). A file that does not parse at all is not
/// protected: it holds nothing to keep.
fn refuse_newer_version(path: &Path) -> crate::Result<()> {
    let Ok(text) = fs::read_to_string(path) else {
        return Ok(());
    };
    let version = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("version").and_then(serde_json::Value::as_u64));
    match version {
        Some(v) if v > u64::from(crate::auth::CREDENTIALS_FORMAT_VERSION) => Err(Error::new(
            ErrorKind::Storage,
            format!(
                "refusing to overwrite {}: it holds credentials of format version {v}, newer than this gapi's {}",
                path.display(),
                crate::auth::CREDENTIALS_FORMAT_VERSION
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
thread_local! {
    /// Test hook: fail a write after the temporary file is written, before
    /// the rename (as a crash or a full disk would).
    static FAIL_BEFORE_RENAME: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn write_atomically(path: &Path, contents: &[u8]) -> crate::Result<()> {
    check_not_symlink(path)?;
    let dir = parent_dir(path);
    create_private_dir(&dir).map_err(|e| storage_err(&dir, "could not create", e))?;
    let mut suffix = [0u8; 8];
    crate::random::fill(&mut suffix);
    let tmp = dir.join(format!("{}{}", temp_prefix(path), hex(&suffix)));
    let result = (|| {
        let mut f = private_options()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| storage_err(&tmp, "could not create", e))?;
        f.write_all(contents)
            .and_then(|()| f.sync_all())
            .map_err(|e| storage_err(&tmp, "could not write", e))?;
        drop(f);
        #[cfg(test)]
        if FAIL_BEFORE_RENAME.with(|c| c.get()) {
            return Err(Error::new(
                ErrorKind::Storage,
                "injected failure before rename",
            ));
        }
        fs::rename(&tmp, path).map_err(|e| storage_err(path, "could not replace", e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    sync_dir(path)
}

/// Makes a rename or removal in `path`'s directory durable.
fn sync_dir(path: &Path) -> crate::Result<()> {
    #[cfg(unix)]
    {
        let dir = parent_dir(path);
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| storage_err(&dir, "could not sync the directory", e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AccessToken, RefreshToken};

    fn creds(token: &str) -> UserCredentials {
        UserCredentials::new("cid", None, Some(RefreshToken::new("1//r")))
            .with_access_token(AccessToken::new(token), None)
    }

    #[tokio::test]
    async fn put_get_delete_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/creds.json");
        let s = FileStorage::new(&path);
        assert!(s.get().await.unwrap().is_none());
        s.put(&creds("a")).await.unwrap();
        assert_eq!(s.get().await.unwrap(), Some(creds("a")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let mode = fs::metadata(s.lock_path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let mode = fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o700);
        }
        s.delete().await.unwrap();
        assert!(s.get().await.unwrap().is_none());
        s.delete().await.unwrap();
    }

    #[tokio::test]
    async fn failed_write_leaves_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("creds.json");
        let c = creds("old");
        write_atomically(&path, c.to_json().as_bytes()).unwrap();
        FAIL_BEFORE_RENAME.with(|f| f.set(true));
        let r = write_atomically(&path, creds("new").to_json().as_bytes());
        FAIL_BEFORE_RENAME.with(|f| f.set(false));
        assert!(r.is_err());
        assert_eq!(read_credentials(&path).unwrap(), Some(c));
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("creds.json")]);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn refuses_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.json");
        fs::write(&target, creds("a").to_json()).unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let s = FileStorage::new(&link);
        let e = s.get().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Storage);
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(s.put(&creds("b")).await.is_err());
        assert_eq!(fs::read_to_string(&target).unwrap(), creds("a").to_json());
        // A symlinked lock file is refused too.
        let s2 = FileStorage::new(dir.path().join("x.json"));
        std::os::unix::fs::symlink(&target, s2.lock_path()).unwrap();
        assert!(s2.lock().await.is_err());
    }

    #[tokio::test]
    async fn refuses_directory_and_bad_content() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileStorage::new(dir.path());
        assert!(s.get().await.is_err());
        let p = dir.path().join("bad.json");
        fs::write(&p, "{not json").unwrap();
        let e = FileStorage::new(&p).get().await.unwrap_err();
        assert!(e.to_string().contains("bad.json"), "{e}");
        fs::write(&p, r#"{"version": 9, "client_id": "x"}"#).unwrap();
        let e = FileStorage::new(&p).get().await.unwrap_err();
        let chain = crate::error::chain(&e);
        assert!(chain.contains("version 9"), "{chain}");
    }

    #[tokio::test]
    async fn temp_files_of_a_crashed_write_are_swept_at_the_next_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("creds.json");
        let s = FileStorage::new(&path);
        s.put(&creds("a")).await.unwrap();
        // what a writer killed before its rename leaves, and a stranger's file
        let left = dir.path().join(".creds.json.tmp-0123456789abcdef");
        fs::write(&left, creds("secret").to_json()).unwrap();
        let other = dir.path().join(".other.json.tmp-0123456789abcdef");
        fs::write(&other, "x").unwrap();
        assert_eq!(s.get().await.unwrap(), Some(creds("a")));
        assert!(!left.exists(), "the leftover with credentials is gone");
        assert!(
            other.exists(),
            "other files' temporaries are theirs to sweep"
        );
    }

    #[tokio::test]
    async fn put_refuses_to_overwrite_a_newer_format_and_keeps_unknown_members() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("creds.json");
        let newer = r#"{"version": 2, "client_id": "x", "refresh_token": "1//keep"}"#;
        fs::write(&path, newer).unwrap();
        let e = FileStorage::new(&path).put(&creds("a")).await.unwrap_err();
        assert!(e.to_string().contains("format version 2"), "{e}");
        assert_eq!(fs::read_to_string(&path).unwrap(), newer, "left as it was");

        // Members this version does not know survive a read-modify-write.
        let mut v: serde_json::Value = serde_json::from_str(&creds("a").to_json()).unwrap();
        v["universe_domain"] = "example-universe.test".into();
        v["future"] = serde_json::json!({"nested": [1, 2]});
        fs::write(&path, v.to_string()).unwrap();
        let s = FileStorage::new(&path);
        let read = s.get().await.unwrap().unwrap();
        s.put(&read).await.unwrap();
        let back: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back["universe_domain"], "example-universe.test");
        assert_eq!(back["future"]["nested"][1], 2);
        assert!(!format!("{read:?}").contains("example-universe"));
    }

    #[tokio::test]
    async fn lock_excludes_and_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let a = FileStorage::new(&path);
        let b = FileStorage::new(&path).with_lock_timeout(Duration::from_millis(100));
        let held = a.lock().await.unwrap();
        let e = match b.lock().await {
            Ok(_) => panic!("second lock acquired while the first is held"),
            Err(e) => e,
        };
        assert!(e.is_timeout(), "{e}");
        drop(held);
        let _g = b.lock().await.unwrap();
    }
}
