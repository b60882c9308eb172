//! Where gapi keeps things: the config directory (profiles, credentials),
//! the cache (fetched discovery documents) and the state directory (upload
//! sessions and partial downloads).
//!
//! The config directory is `--config-dir`, else `GAPI_CONFIG_DIR`, else
//! `$XDG_CONFIG_HOME/gapi`, else `~/.config/gapi`. The cache and the state
//! live under it when it was given explicitly (tests, portable setups);
//! otherwise under `$XDG_CACHE_HOME/gapi` (`~/.cache/gapi`) and
//! `$XDG_STATE_HOME/gapi` (`~/.local/state/gapi`). Directories holding
//! secrets are made 0700 and their files 0600.

use std::path::{Path, PathBuf};

use crate::fail::{Failure, Result};

/// The directories of one run.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// Profiles and their credentials.
    pub config: PathBuf,
    /// Fetched discovery documents.
    pub cache: PathBuf,
    /// Upload sessions and partial downloads' records.
    pub state: PathBuf,
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn xdg(var: &str, fallback: &[&str]) -> Option<PathBuf> {
    if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(v).join("gapi"));
    }
    let mut p = home()?;
    for part in fallback {
        p.push(part);
    }
    Some(p.join("gapi"))
}

impl Dirs {
    /// The directories for `--config-dir` (or the environment).
    pub fn new(config_dir: Option<&Path>) -> Result<Dirs> {
        let explicit = config_dir
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("GAPI_CONFIG_DIR").map(PathBuf::from));
        if let Some(config) = explicit {
            return Ok(Dirs {
                cache: config.join("cache"),
                state: config.join("state"),
                config,
            });
        }
        let none = || Failure::input("no home directory: set GAPI_CONFIG_DIR or --config-dir");
        Ok(Dirs {
            config: xdg("XDG_CONFIG_HOME", &[".config"]).ok_or_else(none)?,
            cache: xdg("XDG_CACHE_HOME", &[".cache"]).ok_or_else(none)?,
            state: xdg("XDG_STATE_HOME", &[".local", "state"]).ok_or_else(none)?,
        })
    }

    /// The directory of a profile.
    pub fn profile(&self, name: &str) -> PathBuf {
        self.config.join("profiles").join(name)
    }

    /// The stored credentials of a profile.
    pub fn credentials(&self, profile: &str) -> PathBuf {
        self.profile(profile).join("credentials.json")
    }

    /// The copy of the `client_secret.json` a profile signed in with.
    pub fn client_secret(&self, profile: &str) -> PathBuf {
        self.profile(profile).join("client_secret.json")
    }

    /// The profiles that exist, sorted.
    pub fn profiles(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.config.join("profiles")) else {
            return Vec::new();
        };
        let mut out: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        out.sort();
        out
    }
}

/// Checks a profile name: letters, digits, `-`, `_` and `.`, not starting
/// with `.` (it names a directory).
pub fn check_profile(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Failure::input(format!(
            "profile {name:?}: use letters, digits, `-`, `_` and `.`"
        )))
    }
}

/// Writes `bytes` to `path` with mode 0600 in a 0700 directory, through a
/// temporary file renamed into place.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        gapi_dynamic::fetch::create_private_dir(dir)?;
    }
    let tmp = path.with_extension(format!("{TMP_EXTENSION}{}", std::process::id()));
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        std::io::Write::write_all(&mut f, bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// The extension of [`write_private`]'s temporary files, before the pid.
const TMP_EXTENSION: &str = "tmp";

/// Removes a file [`write_private`] wrote, and the temporary files of it that
/// a run killed between writing and renaming left beside it (`NAME.tmpPID`).
/// Errors are ignored: what cannot be removed is retried next time.
pub fn remove_private(path: &Path) {
    let _ = std::fs::remove_file(path);
    let (Some(dir), Some(stem)) = (path.parent(), path.file_stem()) else {
        return;
    };
    let mut prefix = stem.to_os_string();
    prefix.push(".");
    prefix.push(TMP_EXTENSION);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .zip(prefix.to_str())
            .and_then(|(n, p)| n.strip_prefix(p))
        else {
            continue;
        };
        if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_a_private_file_takes_the_temporaries_a_killed_run_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/uploads/abc.json");
        write_private(&path, b"{}").unwrap();
        let uploads = path.parent().unwrap();
        // what a run killed between writing and renaming leaves
        std::fs::write(uploads.join("abc.tmp4242"), b"{\"half\"").unwrap();
        // not ours: another key's file and temporary, a name that only looks alike
        for other in ["abd.json", "abd.tmp4242", "abc.tmpfile", "abc.tmp"] {
            std::fs::write(uploads.join(other), b"").unwrap();
        }
        remove_private(&path);
        let mut left: Vec<String> = std::fs::read_dir(uploads)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["abc.tmp", "abc.tmpfile", "abd.json", "abd.tmp4242"]);
        // nothing there: no error
        remove_private(&path);
    }
}
