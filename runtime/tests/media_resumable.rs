//! Resumable uploads against an in-process fake of Google's upload server,
//! written on raw TCP so a test can drop the socket in the middle of a chunk.
//!
//! The fake keeps what it received per session, checks every `Content-Range`
//! (a chunk must start exactly where the server is), answers 308 with
//! `Range: bytes=0-N`, and 200 with a JSON resource at the end. Faults are
//! scripted per chunk `PUT` (counted from 1): an error status, or a cut after
//! some bytes of the body (the server then keeps what arrived, rounded down to
//! 256 KiB, like Google does).

mod auth_support;
mod http_support;

use http_support::{RecordingClock, SVC};
use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use gapi::{
    Call, Client, Credentials, HttpMethod, Media, MediaUploadInfo, MethodInfo, ResumableSession,
    ResumableUpload, Service, UploadProgress, UploadProtocol,
};
use serde::Deserialize;
use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWriteExt as _, BufReader, ReadBuf,
};
use tokio::net::{TcpListener, TcpStream};

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

#[derive(Debug, Clone)]
enum Fault {
    /// Read the chunk, keep nothing, answer this status.
    Status(u16),
    /// Read this many bytes of the chunk's body, then drop the connection.
    CutAfter(usize),
    /// Answer 404: the session is gone.
    Gone,
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: HashMap<String, String>,
    /// Body bytes received (the whole body unless cut).
    body_len: usize,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Session {
    data: Vec<u8>,
    total: Option<u64>,
    done: bool,
}

#[derive(Default)]
struct State {
    requests: Vec<Seen>,
    sessions: HashMap<u32, Session>,
    next_session: u32,
    chunk_puts: usize,
    faults: HashMap<usize, Fault>,
    /// The initiation bodies (metadata), in order.
    metadata: Vec<Vec<u8>>,
    /// Like fake-gcs-server: a status query ends the upload, committing
    /// what arrived so far.
    commit_on_query: bool,
    /// Report a wrong `crc32c` for the stored object.
    wrong_crc: bool,
}

#[derive(Clone)]
struct Fake {
    base: String,
    state: Arc<Mutex<State>>,
}

impl Fake {
    async fn start() -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let fake = Fake {
            base,
            state: Arc::default(),
        };
        let f = fake.clone();
        tokio::spawn(async move {
            loop {
                let (sock, _) = listener.accept().await.unwrap();
                let f = f.clone();
                tokio::spawn(async move { f.connection(sock).await });
            }
        });
        fake
    }

    fn fault(&self, chunk_put: usize, fault: Fault) {
        self.state.lock().unwrap().faults.insert(chunk_put, fault);
    }

    fn requests(&self) -> Vec<Seen> {
        self.state.lock().unwrap().requests.clone()
    }

    fn data(&self, session: u32) -> Vec<u8> {
        self.state.lock().unwrap().sessions[&session].data.clone()
    }

    /// How much the server has of the most recent session.
    fn received(&self) -> usize {
        let st = self.state.lock().unwrap();
        st.sessions
            .get(&st.next_session)
            .map_or(0, |s| s.data.len())
    }

    /// The `Content-Range` of every PUT, in order.
    fn ranges(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .map(|r| r.header("content-range").unwrap_or("").to_owned())
            .collect()
    }

    /// The body sizes of every PUT carrying data.
    fn chunk_sizes(&self) -> Vec<usize> {
        self.requests()
            .iter()
            .filter(|r| r.method == "PUT" && r.body_len > 0)
            .map(|r| r.body_len)
            .collect()
    }

    async fn connection(&self, sock: TcpStream) {
        let mut sock = BufReader::new(sock);
        loop {
            let mut line = String::new();
            if sock.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or("").to_owned();
            let target = parts.next().unwrap_or("").to_owned();
            let mut headers = HashMap::new();
            loop {
                let mut h = String::new();
                if sock.read_line(&mut h).await.unwrap_or(0) == 0 {
                    return;
                }
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
            assert!(
                !headers.contains_key("transfer-encoding"),
                "the fake only reads Content-Length bodies"
            );
            let len: usize = headers
                .get("content-length")
                .map_or(0, |v| v.parse().unwrap());
            let is_chunk = method == "PUT" && len > 0;
            let fault = if is_chunk {
                let mut st = self.state.lock().unwrap();
                st.chunk_puts += 1;
                let n = st.chunk_puts;
                st.faults.remove(&n)
            } else {
                None
            };
            let read_len = match fault {
                Some(Fault::CutAfter(n)) => n.min(len),
                _ => len,
            };
            let mut body = vec![0u8; read_len];
            if sock.read_exact(&mut body).await.is_err() {
                return;
            }
            let seen = Seen {
                method,
                target,
                headers,
                body_len: body.len(),
                body,
            };
            self.state.lock().unwrap().requests.push(seen.clone());
            if let Some(Fault::CutAfter(_)) = fault {
                // Keep what arrived, rounded down to 256 KiB, then hang up.
                let mut st = self.state.lock().unwrap();
                let id = session_id(&seen.target).unwrap();
                let s = st.sessions.get_mut(&id).unwrap();
                let keep = (s.data.len() + seen.body_len) / (256 * KIB) * (256 * KIB);
                let keep_from_chunk = keep.saturating_sub(s.data.len());
                s.data.extend_from_slice(&seen.body[..keep_from_chunk]);
                return;
            }
            let (status, extra, body) = self.respond(&seen, fault);
            let reason = match status {
                200 => "OK",
                308 => "Permanent Redirect",
                404 => "Not Found",
                503 => "Service Unavailable",
                _ => "Whatever",
            };
            let mut out = format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nContent-Type: application/json\r\n",
                body.len()
            );
            for (k, v) in extra {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            if sock.get_mut().write_all(out.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    fn respond(&self, req: &Seen, fault: Option<Fault>) -> (u16, Vec<(String, String)>, String) {
        let mut st = self.state.lock().unwrap();
        if req.method != "PUT" {
            // Initiation.
            assert!(
                req.target.contains("uploadType=resumable"),
                "{}",
                req.target
            );
            st.next_session += 1;
            let id = st.next_session;
            let total = req
                .header("x-upload-content-length")
                .map(|v| v.parse().unwrap());
            st.sessions.insert(
                id,
                Session {
                    total,
                    ..Default::default()
                },
            );
            st.metadata.push(req.body.clone());
            let location = format!("{}upload/session/{id}?upload_id=secret{id}", self.base);
            return (200, vec![("Location".into(), location)], String::new());
        }
        match fault {
            Some(Fault::Status(code)) => {
                return (
                    code,
                    vec![],
                    format!(r#"{{"error":{{"code":{code},"message":"scripted"}}}}"#),
                );
            }
            Some(Fault::Gone) => {
                return (
                    404,
                    vec![],
                    r#"{"error":{"code":404,"message":"No such upload"}}"#.into(),
                );
            }
            _ => {}
        }
        let Some(id) = session_id(&req.target) else {
            return (404, vec![], "{}".into());
        };
        let (commit_on_query, wrong_crc) = (st.commit_on_query, st.wrong_crc);
        let Some(s) = st.sessions.get_mut(&id) else {
            return (404, vec![], "{}".into());
        };
        let range = req.header("content-range").unwrap_or("").to_owned();
        let rest = range
            .strip_prefix("bytes ")
            .expect("Content-Range: bytes ...");
        let (span, total) = rest.split_once('/').unwrap();
        let total: Option<u64> = (total != "*").then(|| total.parse().unwrap());
        if let (Some(a), Some(b)) = (s.total, total) {
            assert_eq!(a, b, "the total never changes");
        }
        if total.is_some() {
            s.total = total;
        }
        if span != "*" {
            let (a, b) = span.split_once('-').unwrap();
            let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
            if a != s.data.len() || b + 1 - a != req.body_len {
                return (
                    400,
                    vec![],
                    format!(
                        r#"{{"error":{{"code":400,"message":"bad range {range} at {} with {} bytes"}}}}"#,
                        s.data.len(),
                        req.body_len
                    ),
                );
            }
            s.data.extend_from_slice(&req.body);
        } else {
            assert_eq!(req.body_len, 0, "status queries are empty");
        }
        let query = req.body_len == 0;
        if s.total == Some(s.data.len() as u64) || (query && commit_on_query) {
            s.done = true;
            // Cloud Storage's object: size, CRC32C (base64, big-endian), MD5.
            let mut crc = crc32c::crc32c(&s.data);
            if wrong_crc {
                crc ^= 1;
            }
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::STANDARD;
            use md5::Digest as _;
            let body = format!(
                r#"{{"id":"obj{id}","size":"{}","crc32c":"{}","md5Hash":"{}"}}"#,
                s.data.len(),
                b64.encode(crc.to_be_bytes()),
                b64.encode(md5::Md5::digest(&s.data)),
            );
            return (200, vec![], body);
        }
        let mut h = vec![];
        if !s.data.is_empty() {
            h.push(("Range".into(), format!("bytes=0-{}", s.data.len() - 1)));
        }
        (308, h, String::new())
    }
}

fn session_id(target: &str) -> Option<u32> {
    let rest = target.strip_prefix("/upload/session/")?;
    rest.split('?').next()?.parse().ok()
}

static UPLOAD_INFO: MediaUploadInfo = MediaUploadInfo {
    accept: &["*/*"],
    max_size: None,
    simple_path: Some("/upload/things/v1/items"),
    resumable_path: Some("/resumable/upload/things/v1/items"),
};
static INSERT: MethodInfo = MethodInfo {
    id: "things.insert",
    http_method: HttpMethod::Post,
    path: "items",
    media_upload: Some(&UPLOAD_INFO),
    ..MethodInfo::DEFAULT
};
static LIMITED_INFO: MediaUploadInfo = MediaUploadInfo {
    accept: &["*/*"],
    max_size: Some(300 * 1024),
    simple_path: Some("/upload/things/v1/items"),
    resumable_path: Some("/resumable/upload/things/v1/items"),
};
static LIMITED: MethodInfo = MethodInfo {
    id: "things.insertSmall",
    http_method: HttpMethod::Post,
    path: "items",
    media_upload: Some(&LIMITED_INFO),
    ..MethodInfo::DEFAULT
};

#[derive(Deserialize, Debug, PartialEq)]
struct Obj {
    id: String,
    size: String,
}

fn client(clock: &RecordingClock) -> Client {
    Client::builder()
        .credentials(Credentials::access_token("tok"))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
}

fn service(fake: &Fake, clock: &RecordingClock) -> Service {
    Service::new(client(clock), &SVC).with_root_url(&fake.base)
}

/// Uploads `data` from a one-shot reader declared as `declared` bytes long,
/// in chunks of `chunk` bytes.
async fn upload_reader(
    svc: &Service,
    data: &[u8],
    declared: u64,
    chunk: usize,
) -> gapi::Result<Obj> {
    let reader = std::io::Cursor::new(data.to_vec());
    Call::new(svc, &INSERT)
        .upload_resumable(Media::from_reader(
            reader,
            Some(declared),
            "application/octet-stream",
        ))
        .chunk_size(chunk)
        .send()
        .await
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn uploads_in_chunks_with_content_ranges_and_progress() {
    let fake = Fake::start().await;
    let clock = RecordingClock::default();
    let svc = service(&fake, &clock);
    let data = payload(MIB + 100);
    let total = data.len();
    let mut call = Call::new(&svc, &INSERT);
    call.body(&serde_json::json!({"name": "big.bin"}));
    let seen_progress = Arc::new(Mutex::new(Vec::<UploadProgress>::new()));
    let sp = seen_progress.clone();
    let mut upload = call
        .upload_resumable(Media::from_bytes(data.clone(), "application/octet-stream"))
        .chunk_size(256 * KIB)
        .on_progress(move |p| sp.lock().unwrap().push(p));
    let watch = upload.progress();
    let obj: Obj = upload.send().await.unwrap();
    assert_eq!(
        obj,
        Obj {
            id: "obj1".into(),
            size: total.to_string()
        }
    );
    assert!(upload.is_complete());
    assert_eq!(fake.data(1), data);

    let reqs = fake.requests();
    let init = &reqs[0];
    assert_eq!(init.method, "POST");
    assert_eq!(init.target, "/upload/things/v1/items?uploadType=resumable");
    assert_eq!(
        init.header("x-upload-content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        init.header("x-upload-content-length"),
        Some(total.to_string().as_str())
    );
    assert_eq!(init.header("authorization"), Some("Bearer tok"));
    assert_eq!(init.body, br#"{"name":"big.bin"}"#);
    assert!(
        reqs[1..]
            .iter()
            .all(|r| r.header("x-guploader-no-308") == Some("yes"))
    );
    assert_eq!(
        fake.ranges(),
        [
            format!("bytes 0-262143/{total}"),
            format!("bytes 262144-524287/{total}"),
            format!("bytes 524288-786431/{total}"),
            format!("bytes 786432-1048575/{total}"),
            format!("bytes 1048576-{}/{total}", total - 1),
        ]
    );
    assert_eq!(
        fake.chunk_sizes(),
        [256 * KIB, 256 * KIB, 256 * KIB, 256 * KIB, 100]
    );
    let sent: Vec<u64> = seen_progress
        .lock()
        .unwrap()
        .iter()
        .map(|p| p.bytes_sent)
        .collect();
    assert_eq!(sent, [262144, 524288, 786432, 1048576, total as u64]);
    assert_eq!(
        *watch.borrow(),
        UploadProgress {
            bytes_sent: total as u64,
            total: Some(total as u64)
        }
    );
    assert!(clock.0.lock().unwrap().is_empty(), "no retries");
    assert!(
        upload
            .next_chunk::<Obj>()
            .await
            .unwrap_err()
            .to_string()
            .contains("already complete")
    );
}

#[tokio::test]
async fn a_503_mid_way_queries_the_status_and_resumes() {
    let fake = Fake::start().await;
    let clock = RecordingClock::default();
    let svc = service(&fake, &clock);
    let data = payload(3 * 256 * KIB);
    fake.fault(2, Fault::Status(503));
    let obj: Obj = upload_reader(&svc, &data, data.len() as u64, 256 * KIB)
        .await
        .unwrap();
    assert_eq!(obj.size, data.len().to_string());
    assert_eq!(fake.data(1), data);
    let t = data.len();
    assert_eq!(
        fake.ranges(),
        [
            format!("bytes 0-262143/{t}"),
            format!("bytes 262144-524287/{t}"), // answered 503
            format!("bytes */{t}"),             // where are you?
            format!("bytes 262144-524287/{t}"), // the same chunk again, from memory
            format!("bytes 524288-786431/{t}"),
        ]
    );
    let status_query = &fake.requests()[3];
    assert_eq!(status_query.body_len, 0);
    assert_eq!(status_query.header("content-length"), Some("0"));
    assert_eq!(clock.0.lock().unwrap().len(), 1, "one backoff sleep");
}

#[tokio::test]
async fn a_connection_cut_mid_chunk_resumes_from_what_the_server_kept() {
    let fake = Fake::start().await;
    let clock = RecordingClock::default();
    let svc = service(&fake, &clock);
    let data = payload(2 * MIB);
    // Chunks of 512 KiB; the second is cut after 300 KiB: the server keeps
    // 512 + 256 KiB, so the upload must go on from inside the chunk.
    fake.fault(2, Fault::CutAfter(300 * KIB));
    let obj: Obj = upload_reader(&svc, &data, data.len() as u64, 512 * KIB)
        .await
        .unwrap();
    assert_eq!(obj.size, data.len().to_string());
    assert_eq!(fake.data(1), data);
    let t = data.len();
    assert_eq!(
        fake.ranges(),
        [
            format!("bytes 0-524287/{t}"),
            format!("bytes 524288-1048575/{t}"), // cut after 300 KiB
            format!("bytes */{t}"),              // the server has 768 KiB
            format!("bytes 786432-1048575/{t}"), // the rest of that chunk
            format!("bytes 1048576-1572863/{t}"),
            format!("bytes 1572864-2097151/{t}"),
        ]
    );
    assert_eq!(clock.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_saved_session_is_resumed_by_a_new_client() {
    let fake = Fake::start().await;
    let data = payload(5 * 256 * KIB + 17);
    let t = data.len();

    // Process one: opens the session, sends two chunks, then "crashes".
    let json = {
        let clock = RecordingClock::default();
        let svc = service(&fake, &clock);
        let mut call = Call::new(&svc, &INSERT);
        call.body(&serde_json::json!({"name": "n"}));
        let mut upload = call
            .upload_resumable(Media::from_reader(
                std::io::Cursor::new(data.clone()),
                Some(t as u64),
                "video/mp4",
            ))
            .chunk_size(256 * KIB);
        let session = upload.start().await.unwrap().clone();
        assert!(session.uri.contains("/upload/session/1?upload_id=secret1"));
        assert_eq!(session.total, Some(t as u64));
        assert!(upload.next_chunk::<Obj>().await.unwrap().is_none());
        assert!(upload.next_chunk::<Obj>().await.unwrap().is_none());
        assert_eq!(upload.bytes_sent(), 2 * 256 * 1024);
        serde_json::to_string(upload.session().unwrap()).unwrap()
    };
    assert_eq!(fake.received(), 2 * 256 * KIB);
    let saved: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        saved["confirmed"],
        2 * 256 * KIB,
        "the session says what the server holds"
    );

    // Process two: a new client, the session from JSON, the media again from
    // its start.
    let clock = RecordingClock::default();
    let session: ResumableSession = serde_json::from_str(&json).unwrap();
    assert_eq!(session.mime_type, "video/mp4");
    assert_eq!(session.method_id, "things.insert");
    let progress = Arc::new(Mutex::new(Vec::new()));
    let p = progress.clone();
    let mut upload = ResumableUpload::resume_from(
        &client(&clock),
        session,
        Media::from_reader(std::io::Cursor::new(data.clone()), None, "video/mp4"),
    )
    .unwrap()
    .chunk_size(256 * KIB)
    .on_progress(move |x: UploadProgress| p.lock().unwrap().push(x.bytes_sent));
    let obj: Obj = upload.send().await.unwrap();
    assert_eq!(obj.id, "obj1");
    assert_eq!(fake.data(1), data);
    let ranges = fake.ranges();
    assert_eq!(
        ranges[2..],
        [
            format!("bytes */{t}"),
            format!("bytes 524288-786431/{t}"),
            format!("bytes 786432-1048575/{t}"),
            format!("bytes 1048576-1310719/{t}"),
            format!("bytes 1310720-{}/{t}", t - 1),
        ]
    );
    assert_eq!(
        progress.lock().unwrap()[0],
        524288,
        "the status query's answer"
    );
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        1
    );
    assert!(clock.0.lock().unwrap().is_empty());
}

/// A reader of `len` generated bytes that records how far it ran ahead of
/// what the server has received.
struct Gauge {
    len: u64,
    pos: u64,
    fake: Fake,
    max_ahead: Arc<AtomicU64>,
}

impl Gauge {
    /// A reader of `len` bytes of [`payload`] and the gauge of how far it
    /// ever read ahead of what `fake` received.
    fn new(fake: &Fake, len: u64) -> (Gauge, Arc<AtomicU64>) {
        let max_ahead = Arc::new(AtomicU64::new(0));
        let gauge = Gauge {
            len,
            pos: 0,
            fake: fake.clone(),
            max_ahead: max_ahead.clone(),
        };
        (gauge, max_ahead)
    }
}

impl AsyncRead for Gauge {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = (buf.remaining() as u64)
            .min(self.len - self.pos)
            .min(64 * 1024) as usize;
        let start = self.pos as usize;
        let bytes: Vec<u8> = (start..start + n).map(|i| (i * 7 % 251) as u8).collect();
        buf.put_slice(&bytes);
        self.pos += n as u64;
        let ahead = self.pos - self.fake.received() as u64;
        self.max_ahead.fetch_max(ahead, Ordering::SeqCst);
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn ten_mib_from_a_reader_of_unknown_size_holds_two_chunks_at_most() {
    let fake = Fake::start().await;
    let clock = RecordingClock::default();
    let svc = service(&fake, &clock);
    let (reader, max_ahead) = Gauge::new(&fake, 10 * MIB as u64);
    let mut upload = Call::new(&svc, &INSERT)
        .upload_resumable(Media::from_reader(reader, None, "application/octet-stream"))
        .chunk_size(MIB);
    let obj: Obj = upload.send().await.unwrap();
    assert_eq!(obj.size, (10 * MIB).to_string());
    assert_eq!(fake.data(1), payload(10 * MIB));
    assert_eq!(
        fake.chunk_sizes(),
        vec![MIB; 10],
        "every chunk exactly 1 MiB"
    );
    let ranges = fake.ranges();
    assert_eq!(ranges[0], "bytes 0-1048575/*");
    assert_eq!(ranges[9], "bytes 9437184-10485759/*");
    assert_eq!(
        ranges[10], "bytes */10485760",
        "the size, once found, closes the upload"
    );
    // The chunk on the wire and the next, read meanwhile: never more.
    let ahead = max_ahead.load(Ordering::SeqCst);
    assert!(
        ahead <= 2 * MIB as u64,
        "read {ahead} bytes ahead of the server"
    );
    assert!(
        ahead > MIB as u64,
        "the next chunk is read while one is sent: {ahead}"
    );
    assert!(
        fake.requests()[0]
            .header("x-upload-content-length")
            .is_none()
    );
    assert_eq!(upload.session().unwrap().total, Some(10 * MIB as u64));
}

#[tokio::test]
async fn a_reader_of_known_size_is_read_as_it_is_sent_one_chunk_at_most() {
    let fake = Fake::start().await;
    let clock = RecordingClock::default();
    let svc = service(&fake, &clock);
    let (reader, max_ahead) = Gauge::new(&fake, 10 * MIB as u64);
    let media = Media::from_reader(reader, Some(10 * MIB as u64), "application/octet-stream");
    let obj: Obj = Call::new(&svc, &INSERT)
        .upload_resumable(media)
        .chunk_size(4 * MIB)
        .send()
        .await
        .unwrap();
    assert_eq!(obj.size, (10 * MIB).to_string());
    assert_eq!(fake.data(1), payload(10 * MIB));
    let t = 10 * MIB;
    assert_eq!(
        fake.ranges(),
        [
            format!("bytes 0-4194303/{t}"),
            format!("bytes 4194304-8388607/{t}"),
            format!("bytes 8388608-10485759/{t}"),
        ]
    );
    // Each chunk is read as it goes out: never a chunk ahead of the server.
    let ahead = max_ahead.load(Ordering::SeqCst);
    assert!(
        ahead <= 4 * MIB as u64,
        "read {ahead} bytes ahead of the server"
    );
}

#[tokio::test]
async fn a_chunk_read_as_it_is_sent_and_cut_short_goes_on_from_what_the_server_kept() {
    let fake = Fake::start().await;
    let clock = RecordingClock::default();
    let svc = service(&fake, &clock);
    let data = payload(6 * MIB + 5);
    // The first 4 MiB chunk is cut after 1.5 MiB: the server keeps 1.5 MiB;
    // the reader cannot go back, so the rest comes from what was read.
    fake.fault(1, Fault::CutAfter(3 * MIB / 2));
    let obj: Obj = upload_reader(&svc, &data, data.len() as u64, 4 * MIB)
        .await
        .unwrap();
    assert_eq!(obj.size, data.len().to_string());
    assert_eq!(fake.data(1), data);
    let ranges = fake.ranges();
    let t = data.len();
    assert_eq!(ranges[0], format!("bytes 0-4194303/{t}"));
    assert_eq!(ranges[1], format!("bytes */{t}"));
    assert!(ranges[2].starts_with("bytes 1572864-"), "{ranges:?}");
    assert_eq!(
        ranges.last().unwrap(),
        &format!("bytes 4194304-{}/{t}", t - 1)
    );
    // Every chunk but the last is a multiple of 256 KiB.
    let sizes = fake.chunk_sizes();
    assert!(
        sizes[..sizes.len() - 1]
            .iter()
            .all(|n| n % (256 * KIB) == 0),
        "{sizes:?}"
    );
}

#[tokio::test]
async fn a_reader_shorter_or_longer_than_its_declared_size_fails_and_nothing_is_committed() {
    let fake = Fake::start().await;
    let clock = RecordingClock::default();
    let svc = service(&fake, &clock);
    // 600 KiB declared as 1 MiB: the third chunk ends early.
    let err = upload_reader(&svc, &payload(600 * KIB), MIB as u64, 256 * KIB)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), gapi::ErrorKind::Io, "{err}");
    assert!(
        err.to_string()
            .contains("ended after 614400 bytes; its declared size is 1048576"),
        "{err}"
    );
    assert_eq!(fake.data(1).len(), 512 * KIB, "the short chunk is not kept");

    // 600 KiB declared as 512 KiB: found before the last byte is sent.
    let err = upload_reader(&svc, &payload(600 * KIB), 512 * KIB as u64, 256 * KIB)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), gapi::ErrorKind::Io, "{err}");
    assert!(
        err.to_string()
            .contains("longer than its declared size 524288"),
        "{err}"
    );
    let st = fake.state.lock().unwrap();
    let s = &st.sessions[&2];
    assert!(!s.done, "the upload is not completed");
    assert_eq!(s.data.len(), 256 * KIB);
}

#[tokio::test]
async fn auto_protocol_goes_resumable_for_unknown_sizes_and_enforces_max_size() {
    let fake = Fake::start().await;
    let clock = RecordingClock::default();
    let svc = service(&fake, &clock);
    let data = payload(100 * KIB);
    let obj: Obj = Call::new(&svc, &INSERT)
        .upload(Media::from_reader(
            std::io::Cursor::new(data.clone()),
            None,
            "text/plain",
        ))
        .await
        .unwrap();
    assert_eq!(obj.size, data.len().to_string());
    assert_eq!(
        fake.ranges(),
        ["bytes 0-102399/102400"],
        "EOF inside the first chunk"
    );

    // maxSize 300 KiB, unknown size: the first 256 KiB go, the second chunk
    // would pass the limit and is never sent.
    let big = payload(600 * KIB);
    let err = Call::new(&svc, &LIMITED)
        .upload_resumable(Media::from_reader(
            std::io::Cursor::new(big),
            None,
            "text/plain",
        ))
        .chunk_size(256 * KIB)
        .send::<Obj>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), gapi::ErrorKind::Request);
    assert!(
        err.to_string()
            .contains("exceeds the maximum of 307200 bytes"),
        "{err}"
    );
    assert_eq!(fake.received(), 256 * KIB);

    // Known size over the limit: nothing is sent at all.
    let before = fake.requests().len();
    let err = Call::new(&svc, &LIMITED)
        .upload_with::<Obj>(
            Media::from_bytes(payload(400 * KIB), "text/plain"),
            UploadProtocol::Resumable,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exceeds the maximum"), "{err}");
    assert_eq!(fake.requests().len(), before);
}

#[tokio::test]
async fn a_gone_session_is_an_error_to_start_over() {
    let fake = Fake::start().await;
    let clock = RecordingClock::default();
    let svc = service(&fake, &clock);
    fake.fault(2, Fault::Gone);
    let mut upload = Call::new(&svc, &INSERT)
        .upload_resumable(Media::from_bytes(payload(600 * KIB), "a/b"))
        .chunk_size(256 * KIB);
    let err = upload.send::<Obj>().await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.to_string().contains("start a new upload"), "{err}");
    assert!(upload.next_chunk::<Obj>().await.is_err());
    assert!(clock.0.lock().unwrap().is_empty(), "404 is not retried");
}

#[tokio::test]
async fn a_file_source_of_exact_chunks_and_a_failed_send_can_be_resumed_in_process() {
    let fake = Fake::start().await;
    let clock = RecordingClock::default();
    let svc = service(&fake, &clock);
    let data = payload(2 * 256 * KIB);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    std::fs::write(&path, &data).unwrap();
    let media = Media::from_file(&path).await.unwrap();
    assert_eq!(media.mime_type(), "video/mp4");
    // Two 503s in a row with a policy of 2 attempts: send fails...
    fake.fault(2, Fault::Status(503));
    fake.fault(3, Fault::Status(503));
    let mut upload = Call::new(&svc, &INSERT)
        .upload_resumable(media)
        .chunk_size(256 * KIB)
        .retry_policy(gapi::RetryPolicy {
            max_attempts: 2,
            ..Default::default()
        });
    let err = upload.send::<Obj>().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    // ...and calling it again resumes: status query first, then the rest.
    let obj: Obj = upload.send().await.unwrap();
    assert_eq!(obj.size, data.len().to_string());
    assert_eq!(fake.data(1), data);
    let t = data.len();
    assert_eq!(
        fake.ranges(),
        [
            format!("bytes 0-262143/{t}"),
            format!("bytes 262144-524287/{t}"),
            format!("bytes */{t}"),
            format!("bytes 262144-524287/{t}"),
            format!("bytes */{t}"),
            format!("bytes 262144-524287/{t}"),
        ]
    );
}

#[tokio::test]
async fn an_access_token_that_expires_mid_upload_is_refreshed_and_the_upload_goes_on() {
    use gapi::auth::UserTokenSource;
    use gapi::clock::{Clock as _, ManualClock};
    use std::time::{Duration, SystemTime};

    let oauth = auth_support::FakeOAuth::start().await;
    let clock = ManualClock::new(SystemTime::now());
    let creds = oauth.credentials("at-old", clock.now() + Duration::from_secs(3600));
    let source = UserTokenSource::builder(creds)
        .with_clock(Arc::new(clock.clone()))
        .build();
    let client = Client::builder()
        .credentials(source.credentials())
        .clock(Arc::new(RecordingClock::default()))
        .build()
        .unwrap();
    let fake = Fake::start().await;
    let svc = Service::new(client, &SVC).with_root_url(&fake.base);
    let data = payload(5 * 256 * KIB);
    // The upload server rejects the token of the 4th chunk PUT (revoked
    // under our feet, say): a 401 in the middle of the upload.
    fake.fault(4, Fault::Status(401));
    let ticking = clock.clone();
    let obj: Obj = Call::new(&svc, &INSERT)
        .upload_resumable(Media::from_bytes(data.clone(), "application/octet-stream"))
        .chunk_size(256 * KIB)
        .on_progress(move |p| {
            // After the second chunk, two hours pass: the token expires
            // between chunks.
            if p.bytes_sent == 2 * 256 * KIB as u64 {
                ticking.advance(Duration::from_secs(2 * 3600));
            }
        })
        .send()
        .await
        .unwrap();
    assert_eq!(obj.size, data.len().to_string());
    assert_eq!(fake.data(1), data, "byte-identical");
    let auth: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        auth,
        [
            "Bearer at-old", // initiation
            "Bearer at-old", // chunk 1
            "Bearer at-old", // chunk 2, then the clock jumps
            "Bearer at-1",   // chunk 3: refreshed before it was sent
            "Bearer at-1",   // chunk 4: answered 401
            "Bearer at-2",   // chunk 4 again, after one refresh
            "Bearer at-2",   // chunk 5
        ]
    );
    assert_eq!(oauth.token_count(), 2);
}

/// Process one of a resumed upload: opens the session, sends `chunks`
/// chunks of `data`, and returns the saved session.
async fn send_some_and_save(fake: &Fake, data: &[u8], chunks: usize) -> ResumableSession {
    let clock = RecordingClock::default();
    let svc = service(fake, &clock);
    let mut upload = Call::new(&svc, &INSERT)
        .upload_resumable(Media::from_bytes(data.to_vec(), "application/octet-stream"))
        .chunk_size(256 * KIB);
    upload.start().await.unwrap();
    for _ in 0..chunks {
        assert!(upload.next_chunk::<Obj>().await.unwrap().is_none());
    }
    upload.session().unwrap().clone()
}

#[tokio::test]
async fn a_resumed_session_whose_server_commits_a_short_object_on_the_status_query_fails() {
    let fake = Fake::start().await;
    let data = payload(4 * 256 * KIB);
    let session = send_some_and_save(&fake, &data, 1).await;
    assert_eq!(session.confirmed, 256 * KIB as u64);
    // The server, like fake-gcs-server, takes the resumed process's status
    // query for the end and commits the first 256 KiB.
    fake.state.lock().unwrap().commit_on_query = true;
    let clock = RecordingClock::default();
    let mut upload = ResumableUpload::resume_from(
        &client(&clock),
        session,
        Media::from_bytes(data.clone(), "application/octet-stream"),
    )
    .unwrap();
    let e = upload.send::<Obj>().await.unwrap_err();
    assert!(e.is_integrity(), "{e}");
    assert!(
        e.to_string().contains(&format!(
            "`size` {} bytes, {} were sent",
            256 * KIB,
            data.len()
        )),
        "{e}"
    );
    assert!(!upload.is_complete());
    assert_eq!(fake.data(1).len(), 256 * KIB, "what the server kept");
}

#[tokio::test]
#[cfg(feature = "md5")]
async fn stored_checksums_are_compared_with_the_media_sent() {
    let fake = Fake::start().await;
    let clock = RecordingClock::default();
    let svc = service(&fake, &clock);
    let data = payload(3 * 256 * KIB + 5);
    // Correct size, CRC32C and MD5 (computed while streaming, from a reader).
    let media = || {
        Media::from_reader(
            std::io::Cursor::new(data.clone()),
            None,
            "application/octet-stream",
        )
        .with_md5(true)
    };
    let obj: Obj = Call::new(&svc, &INSERT)
        .upload_resumable(media())
        .chunk_size(256 * KIB)
        .send()
        .await
        .unwrap();
    assert_eq!(obj.size, data.len().to_string());
    // The server reports another CRC32C: an error, not Ok.
    fake.state.lock().unwrap().wrong_crc = true;
    let e = Call::new(&svc, &INSERT)
        .upload_resumable(media())
        .chunk_size(256 * KIB)
        .send::<Obj>()
        .await
        .unwrap_err();
    assert!(e.is_integrity() && e.to_string().contains("crc32c"), "{e}");
}

#[tokio::test]
#[cfg(feature = "md5")]
async fn a_resumed_upload_verifies_the_whole_media_with_the_skipped_part_hashed() {
    let fake = Fake::start().await;
    let data = payload(5 * 256 * KIB + 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("media.bin");
    std::fs::write(&path, &data).unwrap();
    let session = send_some_and_save(&fake, &data, 3).await;
    // Resumed from a file: the first 768 KiB are read through the hash, not
    // seeked over, so the CRC32C and MD5 of the whole object are checked.
    let clock = RecordingClock::default();
    let media = Media::from_file(&path).await.unwrap().with_md5(true);
    let obj: Obj = ResumableUpload::resume_from(&client(&clock), session.clone(), media)
        .unwrap()
        .chunk_size(256 * KIB)
        .send()
        .await
        .unwrap();
    assert_eq!(obj.size, data.len().to_string());
    assert_eq!(fake.data(1), data);
    // The digests really covered the whole media: a wrong CRC32C is caught
    // on a resumed upload too (with digests of part of it, it could not be).
    let session = send_some_and_save(&fake, &data, 3).await;
    fake.state.lock().unwrap().wrong_crc = true;
    let media = Media::from_file(&path).await.unwrap();
    let e = ResumableUpload::resume_from(&client(&clock), session, media)
        .unwrap()
        .chunk_size(256 * KIB)
        .send::<Obj>()
        .await
        .unwrap_err();
    assert!(e.is_integrity() && e.to_string().contains("crc32c"), "{e}");
}
