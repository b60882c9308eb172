//! `--upload FILE` and `--download FILE`, with progress bars on stderr and
//! resuming after the process died (`--resume`).
//!
//! Uploads the runtime sends resumably (over 5 MiB, or `--upload-protocol
//! resumable`) are driven chunk by chunk; after each chunk the server
//! confirms, the session (`gapi::ResumableSession`: URI, size, confirmed
//! offset) is saved in `<state>/uploads/<key>.json` (0600; the session URI
//! authorizes the upload), keyed by the method, the target URL and the
//! file's path, size and modification time. `--resume` reopens that session:
//! the server is asked how much it has, and the upload goes on from there,
//! the skipped bytes read through the hash so the object's CRC32C is still
//! checked. A finished upload removes its session.
//!
//! Downloads go to `FILE.part`, beside a record of what is downloaded
//! (`FILE.part.json`: the URL, ETag and size); `--resume` asks for the rest
//! with `Range: bytes=N-`, checks that the answer is that range of the same
//! object (206, total, ETag), appends, and renames `FILE.part` to `FILE`
//! once complete. Within one run, a connection that breaks is resumed by the
//! runtime itself.

use std::path::{Path, PathBuf};

use gapi::{Media, ResumableSession, ResumableUpload, UploadProtocol};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest as _;

use crate::config::{remove_private, write_private};
use crate::fail::{Failure, Result};

/// How to upload.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// The file.
    pub file: PathBuf,
    /// `--upload-content-type`.
    pub mime_type: Option<String>,
    /// `--upload-protocol`.
    pub protocol: UploadProtocol,
    /// `--chunk-size`.
    pub chunk_size: Option<usize>,
    /// `--resume`.
    pub resume: bool,
    /// Show progress.
    pub progress: bool,
}

/// What a saved upload session file holds.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    method: String,
    url: String,
    file: String,
    size: u64,
    modified: u64,
    session: ResumableSession,
}

fn bar(total: Option<u64>, show: bool, what: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
    {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_owned());
    pb
}

fn modified_secs(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Uploads `opts.file` with `call` (its body is the metadata). `url` names
/// the call's target for the session key.
pub async fn upload(
    call: gapi::Call,
    url: &str,
    state_dir: &Path,
    opts: &UploadOptions,
) -> Result<Value> {
    let file = &opts.file;
    let meta = std::fs::metadata(file)
        .map_err(|e| Failure::input(format!("--upload {}: {e}", file.display())))?;
    if !meta.is_file() {
        return Err(Failure::input(format!(
            "--upload {}: not a file",
            file.display()
        )));
    }
    let size = meta.len();
    let mut media = Media::from_file(file).await?;
    if let Some(m) = &opts.mime_type {
        media = media.with_mime_type(m.clone());
    }
    let info = call.method().media_upload.ok_or_else(|| {
        Failure::input(format!(
            "{} does not take media (--upload)",
            call.method().id
        ))
    })?;
    let resumable = match opts.protocol {
        UploadProtocol::Resumable => true,
        UploadProtocol::Auto => size > gapi::RESUMABLE_THRESHOLD && info.resumable_path.is_some(),
        _ => false,
    };
    if !resumable {
        if opts.resume {
            return Err(Failure::input(
                "--resume: only resumable uploads resume (larger than 5 MiB, or --upload-protocol resumable)",
            ));
        }
        let pb = bar(Some(size), opts.progress, "uploading");
        let out = call.upload_with::<Value>(media, opts.protocol).await;
        pb.finish_and_clear();
        return Ok(out?);
    }
    let method = call.method().id.to_owned();
    let abs = std::fs::canonicalize(file).unwrap_or_else(|_| file.clone());
    let modified = modified_secs(&meta);
    let key = hex(&sha2::Sha256::digest(
        format!("{method}\n{url}\n{}\n{size}\n{modified}", abs.display()).as_bytes(),
    ))[..32]
        .to_owned();
    let session_file = state_dir.join("uploads").join(format!("{key}.json"));
    let saved: Option<Saved> = std::fs::read(&session_file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let client = call.service().client().clone();
    let chunk = opts.chunk_size.unwrap_or(gapi::DEFAULT_CHUNK_SIZE);
    let mut upload: ResumableUpload = match (opts.resume, saved) {
        (true, Some(s)) => {
            eprintln!(
                "Resuming the upload of {} ({} of {} bytes confirmed before)",
                file.display(),
                s.session.confirmed,
                size
            );
            ResumableUpload::resume_from(&client, s.session, media)?.chunk_size(chunk)
        }
        (true, None) => {
            return Err(Failure::input(format!(
                "--resume: no interrupted upload of {} to {method} was saved",
                file.display()
            )));
        }
        (false, saved) => {
            if saved.is_some() {
                eprintln!(
                    "gapi: note: an interrupted upload of {} can be resumed with --resume; starting a new one",
                    file.display()
                );
            }
            call.upload_resumable(media).chunk_size(chunk)
        }
    };
    let save = |upload: &ResumableUpload| -> Result<()> {
        if let Some(session) = upload.session() {
            let s = Saved {
                method: method.clone(),
                url: url.to_owned(),
                file: abs.display().to_string(),
                size,
                modified,
                session: session.clone(),
            };
            let bytes = serde_json::to_vec(&s).unwrap_or_default();
            write_private(&session_file, &bytes)
                .map_err(|e| Failure::run(format!("{}: {e}", session_file.display())))?;
        }
        Ok(())
    };
    let pb = bar(Some(size), opts.progress, "uploading");
    if !upload.is_complete() && upload.session().is_none() {
        upload.start().await?;
    }
    save(&upload)?;
    pb.set_position(upload.bytes_sent());
    let result = loop {
        match upload.next_chunk::<Value>().await {
            Ok(Some(resource)) => break Ok(resource),
            Ok(None) => {
                save(&upload)?;
                pb.set_position(upload.bytes_sent());
            }
            Err(e) => {
                // A session the server ended (or that committed something
                // else) cannot be resumed: forget it.
                if e.is_integrity() || matches!(e.status(), Some(404 | 410)) {
                    remove_private(&session_file);
                } else {
                    let _ = save(&upload);
                }
                break Err(e);
            }
        }
    };
    pb.finish_and_clear();
    let resource = result?;
    remove_private(&session_file);
    Ok(resource)
}

/// What `FILE.part.json` records about a partial download.
#[derive(Debug, Serialize, Deserialize)]
struct Partial {
    url: String,
    etag: Option<String>,
    total: Option<u64>,
}

fn part_paths(file: &Path) -> (PathBuf, PathBuf) {
    let mut part = file.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let mut meta = part.as_os_str().to_owned();
    meta.push(".json");
    (part, PathBuf::from(meta))
}

/// Downloads the media of `call` into `file`; returns the bytes written.
pub async fn download(
    mut call: gapi::Call,
    url: &str,
    file: &Path,
    resume: bool,
    progress: bool,
) -> Result<u64> {
    use std::io::Write as _;
    let (part, meta_path) = part_paths(file);
    let recorded: Option<Partial> = std::fs::read(&meta_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|p: &Partial| p.url == url);
    let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let offset = match (&recorded, resume) {
        (Some(_), true) if have > 0 => have,
        (None, true) => {
            return Err(Failure::input(format!(
                "--resume: no partial download of this object at {}",
                part.display()
            )));
        }
        _ => 0,
    };
    if offset > 0 {
        call.header("Range", format!("bytes={offset}-"));
    }
    let mut dl = call.download().await?;
    let total = dl.total_size();
    let mut append = offset > 0;
    if append {
        let rec = recorded.as_ref();
        let same_total = rec.and_then(|r| r.total) == total;
        let same_etag = match (rec.and_then(|r| r.etag.as_deref()), dl.etag()) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        let is_rest = match (total, dl.content_length()) {
            (Some(t), Some(len)) => t.checked_sub(offset) == Some(len),
            _ => false,
        };
        let whole = total.is_some() && dl.content_length() == total;
        if !(same_total && same_etag) {
            return Err(Failure::run(format!(
                "--resume: the object changed since {} was started (size or ETag); remove it and download again",
                part.display()
            )));
        }
        if whole {
            // The server sent all of it, ignoring Range: start over.
            append = false;
        } else if !is_rest {
            return Err(Failure::run(format!(
                "--resume: the server did not answer with the rest of the object from byte {offset}"
            )));
        }
    }
    let record = Partial {
        url: url.to_owned(),
        etag: dl.etag().map(str::to_owned),
        total,
    };
    write_private(&meta_path, &serde_json::to_vec(&record).unwrap_or_default())
        .map_err(|e| Failure::run(format!("{}: {e}", meta_path.display())))?;
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&part)
        .map_err(|e| Failure::run(format!("{}: {e}", part.display())))?;
    let start = if append { offset } else { 0 };
    let pb = bar(total, progress, "downloading");
    pb.set_position(start);
    let mut written = start;
    while let Some(chunk) = dl.chunk().await? {
        out.write_all(&chunk)
            .map_err(|e| Failure::run(format!("{}: {e}", part.display())))?;
        written += chunk.len() as u64;
        pb.set_position(written);
    }
    out.sync_all()
        .map_err(|e| Failure::run(format!("{}: {e}", part.display())))?;
    pb.finish_and_clear();
    if let Some(t) = total
        && written != t
    {
        return Err(Failure::run(format!(
            "the download ended at byte {written} of {t}; --resume goes on from there"
        )));
    }
    std::fs::rename(&part, file).map_err(|e| Failure::run(format!("{}: {e}", file.display())))?;
    remove_private(&meta_path);
    Ok(written)
}
