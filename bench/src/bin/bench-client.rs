//! One benchmark client per process, so peak RSS is per client.
//!
//! `bench-client <SUBCOMMAND> --url http://127.0.0.1:PORT [options]`, printing
//! one JSON line with the result and the process's peak RSS (`VmHWM`).
//!
//! Requests (`GET tasks/v1/users/@me/lists`, a fixed ~1 KB `TaskLists`):
//!   `gapi`, `google-tasks1`, `reqwest` — `--mode seq|conc --secs S --conc N`.
//! Refresh storm (`--n 1000` concurrent calls on an expired token):
//!   `storm-gapi`, `storm-yup`.
//! Media (`--size BYTES`, generated on the fly, never held whole):
//!   `upload-gapi` (resumable, 8 MiB chunks, from an AsyncRead),
//!   `upload-gapi-multipart` (one streamed request), `upload-reqwest`,
//!   `download-gapi` (`Download::write_to`), `download-reqwest`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncRead, ReadBuf};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const TOKEN: &str = "ya29.bench-static-access-token";

struct Args {
    cmd: String,
    url: String,
    mode: String,
    secs: f64,
    conc: usize,
    n: usize,
    size: u64,
    dir: String,
    chunk_mib: usize,
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let cmd = it.next().expect("subcommand");
    let mut a = Args {
        cmd,
        url: String::new(),
        mode: "seq".into(),
        secs: 3.0,
        conc: 32,
        n: 1000,
        size: 1 << 30,
        dir: std::env::temp_dir().display().to_string(),
        chunk_mib: 0,
    };
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--url" => a.url = v.trim_end_matches('/').to_owned(),
            "--mode" => a.mode = v,
            "--secs" => a.secs = v.parse().unwrap(),
            "--conc" => a.conc = v.parse().unwrap(),
            "--n" => a.n = v.parse().unwrap(),
            "--size" => a.size = v.parse().unwrap(),
            "--dir" => a.dir = v,
            "--chunk-mib" => a.chunk_mib = v.parse().unwrap(),
            _ => panic!("unknown option {k}"),
        }
    }
    a
}

/// CPU time (user + system) this process has used so far, in seconds.
fn cpu_secs() -> f64 {
    // SAFETY: getrusage writes into the struct we pass.
    let mut ru: libc_rusage = unsafe { std::mem::zeroed() };
    unsafe { getrusage(0, &mut ru) };
    let tv = |t: [i64; 2]| t[0] as f64 + t[1] as f64 / 1e6;
    tv(ru.utime) + tv(ru.stime)
}

/// `struct rusage` (Linux x86_64/aarch64: two timevals then 14 longs).
#[repr(C)]
struct libc_rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    rest: [i64; 14],
}

unsafe extern "C" {
    fn getrusage(who: i32, usage: *mut libc_rusage) -> i32;
}

/// Peak resident set size of this process, in KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = parse_args();
    // The same runtime for every Rust client: multi-threaded, one worker per core.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let out = rt.block_on(run(&args));
    match out {
        Ok(mut v) => {
            v["client"] = args.cmd.clone().into();
            v["peak_rss_kib"] = peak_rss_kib().into();
            println!("{v}");
        }
        Err(e) => {
            println!(
                "{}",
                serde_json::json!({"client": args.cmd, "error": e.to_string(), "peak_rss_kib": peak_rss_kib()})
            );
            std::process::exit(1);
        }
    }
}

async fn run(a: &Args) -> Result<serde_json::Value, BoxError> {
    match a.cmd.as_str() {
        "gapi" => {
            let tasks = gapi_tasks(&a.url)?;
            let tasks = Arc::new(tasks);
            calls(a, move || {
                let tasks = tasks.clone();
                async move {
                    let lists = tasks.tasklists().list().send().await?;
                    Ok(lists.items.map_or(0, |i| i.len()))
                }
            })
            .await
        }
        "google-tasks1" => {
            // a static token through google-apis-common's `GetToken for String`
            let hub = Arc::new(peer_hub(&a.url, TOKEN.to_owned()));
            calls(a, move || {
                let hub = hub.clone();
                async move {
                    let (_, lists) = hub.tasklists().list().doit().await?;
                    Ok(lists.items.map_or(0, |i| i.len()))
                }
            })
            .await
        }
        "reqwest" => reqwest_calls(a, raw_reqwest()?).await,
        // reqwest as a newcomer uses it: `Client::new()`, the URL as text
        "reqwest-default" => reqwest_calls(a, reqwest::Client::new()).await,
        "reqwest-url" => {
            // as `reqwest`, with the URL parsed once (reqwest then skips its
            // per-request parse, host IDNA processing included)
            let http = raw_reqwest()?;
            let url = reqwest::Url::parse(&format!("{}/tasks/v1/users/@me/lists", a.url))?;
            calls(a, move || reqwest_list(http.get(url.clone()))).await
        }
        "hyper" => {
            // hyper-util's legacy client directly (what google-apis-rs runs on)
            use google_tasks1::hyper_util;
            use http_body_util::BodyExt as _;
            let client: hyper_util::client::legacy::Client<_, http_body_util::Empty<bytes::Bytes>> =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build(https_connector());
            let uri: hyper::Uri = format!("{}/tasks/v1/users/@me/lists", a.url).parse()?;
            calls(a, move || {
                let client = client.clone();
                let uri = uri.clone();
                async move {
                    let req = hyper::Request::get(uri)
                        .header("authorization", format!("Bearer {TOKEN}"))
                        .header("user-agent", "gapi/0.1.0")
                        .header("x-goog-api-client", "gl-rust/unknown gdcl/0.1.0")
                        .body(http_body_util::Empty::new())?;
                    let resp = client.request(req).await?;
                    if !resp.status().is_success() {
                        return Err(format!("HTTP {}", resp.status()).into());
                    }
                    let body = resp.into_body().collect().await?.to_bytes();
                    let lists: gapi_tasks_v1::schemas::TaskLists = serde_json::from_slice(&body)?;
                    Ok(lists.items.map_or(0, |i| i.len()))
                }
            })
            .await
        }
        "storm-gapi" => storm_gapi(a).await,
        "storm-yup" => storm_yup(a).await,
        "upload-gapi" => upload_gapi(a, gapi::UploadProtocol::Resumable).await,
        "upload-gapi-multipart" => upload_gapi(a, gapi::UploadProtocol::Multipart).await,
        "upload-reqwest" => upload_reqwest(a).await,
        "download-gapi" => download_gapi(a).await,
        "download-reqwest" => download_reqwest(a).await,
        "decode" => decode_micro(a),
        "decode-one" => decode_one(a),
        other => Err(format!("unknown subcommand {other}").into()),
    }
}

fn gapi_tasks(url: &str) -> Result<gapi_tasks_v1::TasksService, BoxError> {
    let client = gapi::Client::new(gapi::Credentials::access_token(TOKEN))?;
    Ok(gapi_tasks_v1::TasksService::new(client).with_root_url(url.to_owned()))
}

type PeerConnector =
    google_tasks1::hyper_rustls::HttpsConnector<google_tasks1::hyper_util::client::legacy::connect::HttpConnector>;

/// google-apis-rs's documented setup: hyper-util's legacy client over
/// hyper-rustls (native roots, http or https, HTTP/1 and HTTP/2).
fn peer_hub<A: google_tasks1::common::GetToken + 'static>(
    url: &str,
    auth: A,
) -> google_tasks1::TasksHub<PeerConnector> {
    use google_tasks1::hyper_util;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(https_connector());
    let mut hub = google_tasks1::TasksHub::new(client, auth);
    hub.base_url(format!("{url}/"));
    hub.root_url(format!("{url}/"));
    hub
}

fn https_connector() -> PeerConnector {
    google_tasks1::hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .unwrap()
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build()
}

/// The authenticator's HTTP client as google-apis-rs documents it
/// (`CustomHyperClientBuilder::from(hyper_util legacy client)`; google-tasks1
/// builds yup-oauth2 without its default client).
fn yup_client() -> google_tasks1::yup_oauth2::client::CustomHyperClientBuilder<PeerConnector> {
    use google_tasks1::hyper_util;
    google_tasks1::yup_oauth2::client::CustomHyperClientBuilder::from(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(https_connector()),
    )
}

/// reqwest with gapi's transport settings (rustls/ring, gzip, timeouts, pool).
fn raw_reqwest() -> Result<reqwest::Client, BoxError> {
    // BENCH_REQWEST_PLAIN=1: reqwest's defaults (no gzip, no timeouts), to
    // see what the settings cost
    if std::env::var_os("BENCH_REQWEST_PLAIN").is_some() {
        return Ok(reqwest::Client::builder().gzip(false).build()?);
    }
    Ok(reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent("gapi/0.1.0")
        .gzip(true)
        .build()?)
}

/// The benchmark through raw reqwest, the URL given as text on every call.
async fn reqwest_calls(a: &Args, http: reqwest::Client) -> Result<serde_json::Value, BoxError> {
    let url: Arc<str> = format!("{}/tasks/v1/users/@me/lists", a.url).into();
    calls(a, move || reqwest_list(http.get(&*url))).await
}

/// One call through raw reqwest: the headers gapi sends, the body decoded
/// into gapi's generated struct.
async fn reqwest_list(rb: reqwest::RequestBuilder) -> Result<usize, BoxError> {
    let resp = rb
        .bearer_auth(TOKEN)
        .header("x-goog-api-client", "gl-rust/unknown gdcl/0.1.0")
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()).into());
    }
    let body = resp.bytes().await?;
    let lists: gapi_tasks_v1::schemas::TaskLists = serde_json::from_slice(&body)?;
    Ok(lists.items.map_or(0, |i| i.len()))
}

/// Runs `call` sequentially or from `--conc` tasks for `--secs` seconds after
/// a short warm-up, and reports calls per second.
async fn calls<F, Fut>(a: &Args, call: F) -> Result<serde_json::Value, BoxError>
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<usize, BoxError>> + Send + 'static,
{
    let conc = if a.mode == "seq" { 1 } else { a.conc };
    // warm-up: open the connections, fill caches
    let warm = Instant::now() + Duration::from_millis(300);
    let mut handles = Vec::new();
    for _ in 0..conc {
        let call = call.clone();
        handles.push(tokio::spawn(async move {
            while Instant::now() < warm {
                let n = call().await?;
                if n != 3 {
                    return Err::<(), BoxError>(format!("expected 3 task lists, got {n}").into());
                }
            }
            Ok(())
        }));
    }
    for h in handles {
        h.await??;
    }
    let count = Arc::new(AtomicU64::new(0));
    let cpu0 = cpu_secs();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(a.secs);
    let mut handles = Vec::new();
    for _ in 0..conc {
        let call = call.clone();
        let count = count.clone();
        handles.push(tokio::spawn(async move {
            while Instant::now() < end {
                call().await?;
                count.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), BoxError>(())
        }));
    }
    for h in handles {
        h.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    let n = count.load(Ordering::Relaxed);
    Ok(serde_json::json!({
        "mode": a.mode, "conc": conc, "calls": n, "secs": secs, "calls_per_s": n as f64 / secs,
        "cpu_us_per_call": cpu * 1e6 / n.max(1) as f64,
    }))
}

// ---------------------------------------------------------------- refresh storm

async fn storm_gapi(a: &Args) -> Result<serde_json::Value, BoxError> {
    use gapi::auth::{AccessToken, ClientSecret, RefreshToken, UserCredentials, UserTokenSource};
    // Credentials as a storage would hold them an hour after the last run:
    // the access token expired, the refresh token good.
    let creds = UserCredentials::new(
        "bench-client.apps.googleusercontent.com",
        Some(ClientSecret::new("bench-secret")),
        Some(RefreshToken::new("1//bench-refresh-token")),
    )
    .with_token_uri(format!("{}/token", a.url))
    .with_access_token(
        AccessToken::new("ya29.expired"),
        Some(SystemTime::now() - Duration::from_secs(3600)),
    )
    .with_scopes(["https://www.googleapis.com/auth/tasks.readonly"]);
    let source = UserTokenSource::builder(creds).build();
    let client = gapi::Client::new(source.credentials())?;
    let tasks = Arc::new(gapi_tasks_v1::TasksService::new(client).with_root_url(a.url.clone()));
    let start = Instant::now();
    let handles: Vec<_> = (0..a.n)
        .map(|_| {
            let tasks = tasks.clone();
            tokio::spawn(async move { tasks.tasklists().list().send().await.map(|_| ()) })
        })
        .collect();
    let (mut ok, mut failed, mut first_err) = (0, 0, None);
    for h in handles {
        match h.await? {
            Ok(()) => ok += 1,
            Err(e) => {
                failed += 1;
                first_err.get_or_insert(e.to_string());
            }
        }
    }
    Ok(serde_json::json!({
        "calls": a.n, "ok": ok, "failed": failed, "first_error": first_err,
        "secs": start.elapsed().as_secs_f64(),
    }))
}

async fn storm_yup(a: &Args) -> Result<serde_json::Value, BoxError> {
    use google_tasks1::yup_oauth2::{self, InstalledFlowAuthenticator, InstalledFlowReturnMethod, storage::TokenInfo};
    // A real installed-app setup: client_secret.json (token_uri pointing at
    // the loopback token endpoint) and the token file the installed flow
    // persisted on an earlier run, its access token now expired.
    let dir = std::path::Path::new(&a.dir);
    let secret_path = dir.join("yup-client_secret.json");
    let tokens_path = dir.join("yup-tokencache.json");
    let secret = serde_json::json!({"installed": {
        "client_id": "bench-client.apps.googleusercontent.com",
        "client_secret": "bench-secret",
        "auth_uri": format!("{}/o/oauth2/auth", a.url),
        "token_uri": format!("{}/token", a.url),
        "redirect_uris": ["http://localhost"],
        "project_id": "bench",
    }});
    std::fs::write(&secret_path, secret.to_string())?;
    let expired = TokenInfo {
        access_token: Some("ya29.expired".into()),
        refresh_token: Some("1//bench-refresh-token".into()),
        expires_at: Some(time::OffsetDateTime::now_utc() - time::Duration::hours(1)),
        id_token: None,
    };
    let stored = serde_json::json!([{
        "scopes": ["https://www.googleapis.com/auth/tasks.readonly"],
        "token": expired,
    }]);
    std::fs::write(&tokens_path, stored.to_string())?;
    let app_secret = yup_oauth2::read_application_secret(&secret_path).await?;
    let auth = InstalledFlowAuthenticator::with_client(app_secret, InstalledFlowReturnMethod::HTTPRedirect, yup_client())
        .persist_tokens_to_disk(&tokens_path)
        .build()
        .await?;
    let hub = Arc::new(peer_hub(&a.url, auth));
    let start = Instant::now();
    let handles: Vec<_> = (0..a.n)
        .map(|_| {
            let hub = hub.clone();
            tokio::spawn(async move {
                // bounded: a failed refresh makes yup-oauth2 fall back to the
                // interactive flow, which would wait for a browser forever
                match tokio::time::timeout(Duration::from_secs(60), hub.tasklists().list().doit()).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("timed out after 60 s".to_owned()),
                }
            })
        })
        .collect();
    let (mut ok, mut failed, mut first_err) = (0, 0, None);
    for h in handles {
        match h.await? {
            Ok(()) => ok += 1,
            Err(e) => {
                failed += 1;
                first_err.get_or_insert(e);
            }
        }
    }
    Ok(serde_json::json!({
        "calls": a.n, "ok": ok, "failed": failed, "first_error": first_err,
        "secs": start.elapsed().as_secs_f64(),
    }))
}

// ----------------------------------------------------------------------- media

/// `len` bytes of a repeating pattern, produced on the fly (like reading a
/// file from the page cache, without the disk).
struct PatternReader {
    pattern: Arc<Vec<u8>>,
    pos: u64,
    len: u64,
}

impl PatternReader {
    fn new(len: u64) -> Self {
        let pattern: Vec<u8> = (0..1024 * 1024u32).map(|i| (i * 31 % 251) as u8).collect();
        PatternReader { pattern: Arc::new(pattern), pos: 0, len }
    }
}

impl AsyncRead for PatternReader {
    fn poll_read(mut self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let left = self.len - self.pos;
        let off = (self.pos % self.pattern.len() as u64) as usize;
        let n = (left as usize).min(buf.remaining()).min(self.pattern.len() - off);
        let pattern = self.pattern.clone();
        buf.put_slice(&pattern[off..off + n]);
        self.pos += n as u64;
        Poll::Ready(Ok(()))
    }
}

fn media_result(a: &Args, bytes: u64, secs: f64, cpu0: f64) -> serde_json::Value {
    serde_json::json!({
        "size": a.size, "bytes": bytes, "secs": secs,
        "mib_per_s": bytes as f64 / (1024.0 * 1024.0) / secs,
        "cpu_secs": cpu_secs() - cpu0,
    })
}

fn storage(a: &Args) -> Result<gapi_storage_v1::StorageService, BoxError> {
    let client = gapi::Client::new(gapi::Credentials::access_token(TOKEN))?;
    Ok(gapi_storage_v1::StorageService::new(client).with_root_url(a.url.clone()))
}

async fn upload_gapi(a: &Args, protocol: gapi::UploadProtocol) -> Result<serde_json::Value, BoxError> {
    let storage = storage(a)?;
    let media = gapi::Media::from_reader(PatternReader::new(a.size), Some(a.size), "application/octet-stream");
    let meta = gapi_storage_v1::schemas::Object { name: Some("upload".into()), ..Default::default() };
    let (cpu0, start) = (cpu_secs(), Instant::now());
    // Resumable: 8 MiB chunks, each confirmed. Multipart: one streamed request
    // (metadata + media), as a simple upload would be (with the Object
    // metadata it is multipart, not simple).
    let call = storage.objects().insert("bench", meta);
    let obj = if a.chunk_mib > 0 && protocol == gapi::UploadProtocol::Resumable {
        // --chunk-mib: a resumable upload with another chunk size than 8 MiB
        call.upload_resumable(media).chunk_size(a.chunk_mib << 20).send().await?
    } else {
        call.upload_with(media, protocol).await?
    };
    let secs = start.elapsed().as_secs_f64();
    let size: u64 = obj.size.unwrap_or_default();
    // a multipart body also carries its part headers and metadata
    if size < a.size || (protocol == gapi::UploadProtocol::Resumable && size != a.size) {
        return Err(format!("server got {size} bytes, sent {}", a.size).into());
    }
    Ok(media_result(a, a.size, secs, cpu0))
}

async fn upload_reqwest(a: &Args) -> Result<serde_json::Value, BoxError> {
    let http = raw_reqwest()?;
    let stream = tokio_util::io::ReaderStream::with_capacity(PatternReader::new(a.size), 64 * 1024);
    let (cpu0, start) = (cpu_secs(), Instant::now());
    let resp = http
        .post(format!("{}/upload/storage/v1/b/bench/o?uploadType=media&name=upload", a.url))
        .bearer_auth(TOKEN)
        .header("content-type", "application/octet-stream")
        .header("content-length", a.size)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await?
        .error_for_status()?;
    let obj: serde_json::Value = serde_json::from_slice(&resp.bytes().await?)?;
    let secs = start.elapsed().as_secs_f64();
    let size: u64 = obj["size"].as_str().unwrap_or("0").parse()?;
    if size != a.size {
        return Err(format!("server got {size} bytes, sent {}", a.size).into());
    }
    Ok(media_result(a, size, secs, cpu0))
}

async fn download_gapi(a: &Args) -> Result<serde_json::Value, BoxError> {
    let storage = storage(a)?;
    let (cpu0, start) = (cpu_secs(), Instant::now());
    let dl = storage.objects().get("bench", format!("obj-{}", a.size)).download().await?;
    let n = dl.write_to(&mut tokio::io::sink()).await?;
    let secs = start.elapsed().as_secs_f64();
    if n != a.size {
        return Err(format!("got {n} bytes, expected {}", a.size).into());
    }
    Ok(media_result(a, n, secs, cpu0))
}

async fn download_reqwest(a: &Args) -> Result<serde_json::Value, BoxError> {
    use tokio::io::AsyncWriteExt as _;
    let http = raw_reqwest()?;
    let (cpu0, start) = (cpu_secs(), Instant::now());
    let mut resp = http
        .get(format!("{}/storage/v1/b/bench/o/obj-{}?alt=media", a.url, a.size))
        .bearer_auth(TOKEN)
        .send()
        .await?
        .error_for_status()?;
    let mut sink = tokio::io::sink();
    let mut n = 0u64;
    while let Some(chunk) = resp.chunk().await? {
        sink.write_all(&chunk).await?;
        n += chunk.len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    if n != a.size {
        return Err(format!("got {n} bytes, expected {}", a.size).into());
    }
    Ok(media_result(a, n, secs, cpu0))
}

// ------------------------------------------------------------- decode micro

/// The cost of decoding the TaskLists body into the generated struct with
/// plain serde_json and with serde_path_to_error (what gapi's decode did on
/// every response before the fast path), into google-tasks1's serde-derived
/// struct, and of encoding both back.
fn decode_micro(a: &Args) -> Result<serde_json::Value, BoxError> {
    use gapi_tasks_v1::schemas::TaskLists;
    let body = std::fs::read(format!("{}/tasklists.json", a.dir))?;
    let n = a.n.max(1);
    let time = |f: &dyn Fn() -> usize| {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let mut k = 0;
            for _ in 0..n {
                k += f();
            }
            assert_eq!(k, 3 * n);
            best = best.min(t.elapsed().as_secs_f64() * 1e9 / n as f64);
        }
        best
    };
    // gapi's own decode path (what every response goes through)
    let plain = time(&|| {
        let v: TaskLists = gapi::wire::from_json(&body).unwrap();
        v.items.map_or(0, |i| i.len())
    });
    let tracked = time(&|| {
        let de = &mut serde_json::Deserializer::from_slice(&body);
        let v: TaskLists = serde_path_to_error::deserialize(de).unwrap();
        v.items.map_or(0, |i| i.len())
    });
    // the peer's own types (serde derives; `updated` parsed into chrono)
    let peer = time(&|| {
        // the same work as gapi's: UTF-8 checked once, then parsed as text
        // (google-apis-rs itself adds `String::from_utf8_lossy`, ~7k
        // instructions more for this body)
        let v: google_tasks1::api::TaskLists = serde_json::from_str(std::str::from_utf8(&body).unwrap()).unwrap();
        v.items.map_or(0, |i| i.len())
    });
    // and back: gapi's TaskLists to JSON
    let value: TaskLists = serde_json::from_slice(&body)?;
    let encode = time(&|| {
        let out = serde_json::to_vec(&value).unwrap();
        3 * usize::from(!out.is_empty())
    });
    let peer_value: google_tasks1::api::TaskLists = serde_json::from_slice(&body)?;
    let peer_encode = time(&|| {
        let out = serde_json::to_vec(&peer_value).unwrap();
        3 * usize::from(!out.is_empty())
    });
    let drive = |name: &str| -> Result<serde_json::Value, BoxError> {
        let body = std::fs::read(format!("{}/{name}", a.dir))?;
        drive_micro(&body, (n / 100).max(20))
    };
    Ok(serde_json::json!({"bytes": body.len(), "plain_ns": plain, "path_tracked_ns": tracked,
        "peer_ns": peer, "encode_ns": encode, "peer_encode_ns": peer_encode,
        "drive_common": drive("filelist_common.json")?, "drive_full": drive("filelist_full.json")?}))
}

/// One case of the decode benchmark, `--n` times, for an instruction
/// count under callgrind (deterministic where wall time on a shared
/// machine is not): `BENCH_CASE` = `ours`/`theirs` × `decode`/`encode`,
/// `BENCH_BODY` = a file in `--dir`.
fn decode_one(a: &Args) -> Result<serde_json::Value, BoxError> {
    use gapi_drive_v3::schemas::FileList as Ours;
    use google_drive3::api::FileList as Theirs;
    let case = std::env::var("BENCH_CASE").unwrap_or_default();
    let name = std::env::var("BENCH_BODY").unwrap_or_else(|_| "filelist_common.json".into());
    let body = std::fs::read(format!("{}/{name}", a.dir))?;
    let tasks = name.starts_with("tasklists");
    let mut k = 0usize;
    for _ in 0..a.n {
        k += match (tasks, case.as_str()) {
            (false, "ours-decode") => gapi::wire::from_json::<Ours>(&body)?.files.map_or(0, |f| f.len()),
            (false, "theirs-decode") => serde_json::from_str::<Theirs>(std::str::from_utf8(&body)?)?.files.map_or(0, |f| f.len()),
            (true, "ours-decode") => gapi::wire::from_json::<gapi_tasks_v1::schemas::TaskLists>(&body)?.items.map_or(0, |f| f.len()),
            (true, "theirs-decode") => serde_json::from_str::<google_tasks1::api::TaskLists>(std::str::from_utf8(&body)?)?.items.map_or(0, |f| f.len()),
            (false, "ours-encode") => serde_json::to_vec(&gapi::wire::from_json::<Ours>(&body)?)?.len(),
            (false, "theirs-encode") => serde_json::to_vec(&serde_json::from_str::<Theirs>(std::str::from_utf8(&body)?)?)?.len(),
            (true, "ours-encode") => serde_json::to_vec(&gapi::wire::from_json::<gapi_tasks_v1::schemas::TaskLists>(&body)?)?.len(),
            (true, "theirs-encode") => serde_json::to_vec(&serde_json::from_str::<google_tasks1::api::TaskLists>(std::str::from_utf8(&body)?)?)?.len(),
            _ => return Err(format!("BENCH_CASE {case:?}").into()),
        };
    }
    Ok(serde_json::json!({"case": case, "body": name, "n": a.n, "k": k}))
}

/// Decode and encode of a Drive `FileList` body: gapi's generated types
/// against google-drive3's serde derives, interleaved round by round (the
/// best round of each counts).
fn drive_micro(body: &[u8], n: usize) -> Result<serde_json::Value, BoxError> {
    use gapi_drive_v3::schemas::FileList as Ours;
    use google_drive3::api::FileList as Theirs;
    let ours: Ours = serde_json::from_slice(body)?;
    let theirs: Theirs = serde_json::from_slice(body)?;
    let files = ours.files.as_ref().map_or(0, Vec::len);
    assert_eq!(theirs.files.as_ref().map_or(0, Vec::len), files);
    let once = |f: &dyn Fn() -> usize| {
        let t = Instant::now();
        let mut k = 0;
        for _ in 0..n {
            k += f();
        }
        assert_eq!(k, files * n);
        t.elapsed().as_secs_f64() * 1e9 / n as f64
    };
    let cases: [(&str, &dyn Fn() -> usize); 4] = [
        ("decode_ns", &|| gapi::wire::from_json::<Ours>(body).unwrap().files.map_or(0, |f| f.len())),
        ("peer_decode_ns", &|| serde_json::from_str::<Theirs>(std::str::from_utf8(body).unwrap()).unwrap().files.map_or(0, |f| f.len())),
        ("encode_ns", &|| files * usize::from(!serde_json::to_vec(&ours).unwrap().is_empty())),
        ("peer_encode_ns", &|| files * usize::from(!serde_json::to_vec(&theirs).unwrap().is_empty())),
    ];
    let mut best = [f64::MAX; 4];
    for _ in 0..9 {
        for (i, (_, f)) in cases.iter().enumerate() {
            best[i] = best[i].min(once(*f));
        }
    }
    let mut out = serde_json::json!({"bytes": body.len(), "files": files});
    for (i, (name, _)) in cases.iter().enumerate() {
        out[*name] = best[i].into();
    }
    Ok(out)
}
