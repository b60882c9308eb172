//! An API call, from the words of the command line to the output: load the
//! document, resolve the method, validate parameters and body, choose the
//! credentials, then send (or `--dry-run`), page, upload or download.

use std::io::Read as _;
use std::process::ExitCode;

use gapi::UploadProtocol;
use gapi_dynamic::{Args, Target, params_from_json};

use crate::args::{CallOptions, Common};
use crate::auth::{Choice, Plan};
use crate::config::Dirs;
use crate::dry_run::{self, Placeholder, Recorder};
use crate::fail::{Failure, Result};
use crate::load::{self, Loaded};
use crate::media::{self, UploadOptions};
use crate::output;

/// The user agent of the command line's requests (before the runtime's).
const USER_AGENT: &str = concat!("gapi-cli/", env!("CARGO_PKG_VERSION"));

/// Runs `gapi <api> <words…>`.
pub async fn run(
    words: &[String],
    opts: &CallOptions,
    common: &Common,
    help: bool,
    dirs: &Dirs,
) -> Result<ExitCode> {
    let source = load::Source {
        file: opts.discovery_file.clone(),
        fresh: opts.fresh,
        url_template: opts.discovery_url.clone(),
    };
    let loaded = load::load(&words[0], &source, dirs).await?;
    let d = &loaded.discovery;
    let target = d.resolve(&words[1..])?;
    let method = match target {
        Target::Method(m) if !help => m,
        Target::Method(m) => {
            print!("{}", crate::help::method(&m));
            return Ok(ExitCode::SUCCESS);
        }
        other => {
            let text = crate::help::target(d, &words[0], &other);
            if help {
                print!("{text}");
                return Ok(ExitCode::SUCCESS);
            }
            eprint!("{text}");
            return Err(Failure::input(format!(
                "{}: name a method (see above)",
                words.join(" ")
            )));
        }
    };
    let args = args(opts, &method)?;
    // Checked against the document before anything else happens: a bad
    // call fails here, with nothing sent.
    let validated = method.validate(&args)?;
    let info = method.info();
    let scopes: Vec<&str> = info.scopes.to_vec();
    let choice = Choice {
        anonymous: opts.anonymous,
        api_key: opts.api_key.as_ref().map(|s| s.0.clone()),
        access_token: opts.access_token.as_ref().map(|s| s.0.clone()),
        profile: common.profile.clone(),
    };
    let plan = match Plan::choose(&choice, dirs, &scopes) {
        Ok(p) => p,
        // A dry run shows the request of a user not signed in too.
        Err(e) if opts.dry_run && e.code == 2 => {
            eprintln!("gapi: note: {e}");
            Plan::Anonymous
        }
        Err(e) => return Err(e),
    };
    let root = opts
        .root_url
        .clone()
        .unwrap_or_else(|| d.document().root_url.clone());
    let protocol = match opts.upload_protocol.as_str() {
        "auto" => UploadProtocol::Auto,
        "simple" => UploadProtocol::Simple,
        "multipart" => UploadProtocol::Multipart,
        "resumable" => UploadProtocol::Resumable,
        other => {
            return Err(Failure::input(format!(
                "--upload-protocol {other:?}: one of auto, simple, multipart, resumable"
            )));
        }
    };
    if opts.upload.is_some() && info.media_upload.is_none() {
        return Err(Failure::input(format!(
            "{}: the method takes no media (--upload)",
            info.id
        )));
    }
    if opts.download.is_some() && !info.supports_media_download {
        return Err(Failure::input(format!(
            "{}: the method has no media to download (--download)",
            info.id
        )));
    }
    if opts.page_all && method.page_token_field().is_none() {
        return Err(Failure::input(format!(
            "{}: the method does not page (--page-all)",
            info.id
        )));
    }
    if opts.dry_run {
        let dry = DryRun {
            loaded: &loaded,
            method: &method,
            validated: &validated,
            opts,
            common,
            plan: &plan,
            root: &root,
            protocol,
        };
        return dry.run().await;
    }
    let credentials = plan.credentials(&scopes).await?;
    let client = gapi::Client::builder()
        .credentials(credentials)
        .user_agent(USER_AGENT)
        .build()?;
    let service = d.service(client).with_root_url(&root);
    let mut call = validated.call(&service);
    if let Some(f) = &opts.fields {
        call.query("fields", f.clone());
    }
    let key_url = format!("{root} {}", words.join(" "));
    let progress = !common.quiet;
    let mut stdout = std::io::stdout().lock();
    let io = |e: std::io::Error| Failure::run(format!("writing the output: {e}"));
    if let Some(file) = &opts.upload {
        let up = UploadOptions {
            file: file.clone(),
            mime_type: opts.upload_content_type.clone(),
            protocol,
            chunk_size: opts.chunk_size,
            resume: opts.resume,
            progress,
        };
        let v = media::upload(
            call,
            &format!("{key_url} {:?}", args.params),
            &dirs.state,
            &up,
        )
        .await?;
        output::print(&mut stdout, &v, common.format).map_err(io)?;
    } else if let Some(file) = &opts.download {
        let url = format!("{key_url} {:?}", args.params);
        let n = media::download(call, &url, file, opts.resume, progress).await?;
        eprintln!("Wrote {n} bytes to {}", file.display());
    } else if opts.page_all {
        use gapi::StreamExt as _;
        let mut pages = method.pages(call)?;
        let mut n = 0u64;
        while let Some(page) = pages.next().await {
            let page = page?;
            output::print_page(&mut stdout, &page, common.format, n == 0).map_err(io)?;
            std::io::Write::flush(&mut stdout).map_err(io)?;
            n += 1;
            if opts.page_limit.is_some_and(|l| n >= l) {
                break;
            }
        }
    } else {
        let v: serde_json::Value = call.send().await?;
        if !v.is_null() {
            output::print(&mut stdout, &v, common.format).map_err(io)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The parameters (`--params` first, then each `--param` in order) and the
/// body of the call.
fn args(opts: &CallOptions, method: &gapi_dynamic::MethodRef<'_>) -> Result<Args> {
    let mut params = Vec::new();
    if let Some(json) = &opts.params {
        params = params_from_json(json)
            .map_err(|e| Failure::input(format!("{}: --params: {e}", method.id())))?;
    }
    for p in &opts.param {
        let (k, v) = p.split_once('=').ok_or_else(|| {
            Failure::input(format!(
                "{}: --param {p:?}: expected NAME=VALUE",
                method.id()
            ))
        })?;
        params.push((k.to_owned(), gapi_dynamic::ParamValue::Text(v.to_owned())));
    }
    let body = match opts.body.as_deref() {
        None => None,
        Some(spec) => Some(body(spec, &method.id())?),
    };
    Ok(Args {
        params,
        body,
        lenient: opts.lenient,
    })
}

/// Reads `--body`: JSON text, `@FILE`, or `-` for standard input.
fn body(spec: &str, id: &str) -> Result<serde_json::Value> {
    let (text, origin) = if spec == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::input(format!("{id}: --body -: {e}")))?;
        (s, "standard input".to_owned())
    } else if let Some(path) = spec.strip_prefix('@') {
        let s = std::fs::read_to_string(path)
            .map_err(|e| Failure::input(format!("{id}: --body @{path}: {e}")))?;
        (s, path.to_owned())
    } else {
        (spec.to_owned(), "--body".to_owned())
    };
    serde_json::from_str(&text).map_err(|e| {
        Failure::input(format!(
            "{id}: the request body ({origin}) is not JSON: {e}"
        ))
    })
}

/// `--dry-run`: the call sent to a local recorder and printed.
struct DryRun<'a> {
    loaded: &'a Loaded,
    method: &'a gapi_dynamic::MethodRef<'a>,
    validated: &'a gapi_dynamic::Validated,
    opts: &'a CallOptions,
    common: &'a Common,
    plan: &'a Plan,
    root: &'a str,
    protocol: UploadProtocol,
}

impl DryRun<'_> {
    async fn run(self) -> Result<ExitCode> {
        let opts = self.opts;
        let recorder = Recorder::start().await?;
        let client = gapi::Client::builder()
            .credentials(gapi::Credentials::from_source(
                Placeholder::new(self.plan).await,
            ))
            .user_agent(USER_AGENT)
            .no_proxy()
            .retry_policy(gapi::RetryPolicy {
                max_attempts: 1,
                ..Default::default()
            })
            .build()?;
        let service = self
            .loaded
            .discovery
            .service(client)
            .with_root_url(recorder.root_for(self.root));
        let mut call = self.validated.call(&service);
        if let Some(f) = &opts.fields {
            call.query("fields", f.clone());
        }
        // The outcome is the recorder's answer, not the API's: ignored.
        if let Some(file) = &opts.upload {
            let mut media = gapi::Media::from_file(file)
                .await
                .map_err(|e| Failure::input(format!("--upload: {e}")))?;
            if let Some(m) = &opts.upload_content_type {
                media = media.with_mime_type(m.clone());
            }
            let _ = call
                .upload_with::<serde_json::Value>(media, self.protocol)
                .await;
        } else if opts.download.is_some() {
            let _ = call.download().await;
        } else {
            let _ = call.send::<serde_json::Value>().await;
        }
        let origin = url::Url::parse(self.root)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| self.root.trim_end_matches('/').to_owned());
        let recorded: Vec<dry_run::Described> = recorder
            .take()
            .iter()
            .map(|r| dry_run::describe(r, &origin))
            .collect();
        if recorded.is_empty() {
            return Err(Failure::run(format!(
                "{}: --dry-run: no request was made",
                self.method.id()
            )));
        }
        eprintln!(
            "gapi: dry run: not sent; credentials: {}",
            self.plan.describe()
        );
        dry_run::print(&recorded, self.common.format)?;
        Ok(ExitCode::SUCCESS)
    }
}
