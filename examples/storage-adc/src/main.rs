//! Lists the Cloud Storage buckets of a project with the generated Storage
//! client and Application Default Credentials: the same binary runs on a
//! laptop (`gcloud auth application-default login`), in CI (a service
//! account key in `GOOGLE_APPLICATION_CREDENTIALS`) and on Google Cloud (the
//! metadata server), with no credential code of its own.
//!
//! ```text
//! storage-adc [--project ID] [--root-url URL] [--prefix P] [--max N]
//! ```
//!
//! - `--project`: the project whose buckets to list (default: the one ADC
//!   found: `GOOGLE_CLOUD_PROJECT`, the key file's, or the metadata server's).
//! - `--root-url`: the API root, e.g. `http://127.0.0.1:4443/storage/v1/`
//!   minus the service path, for a local emulator (default
//!   `https://storage.googleapis.com/`).
//! - With `--anonymous` no credentials are sent (emulators, public data);
//!   with `GAPI_API_KEY` set, that API key is (`Credentials::api_key`).
//!
//! Run: `cargo run -p gapi-example-storage-adc -- --project my-project`.

use gapi::StreamExt as _;
use gapi::auth::{ApplicationDefaultCredentials, Credentials};
use gapi_storage_v1::{StorageService, scopes};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Default)]
struct Args {
    project: Option<String>,
    root_url: Option<String>,
    prefix: Option<String>,
    max: Option<usize>,
    anonymous: bool,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> Result<String, BoxError> {
            it.next()
                .ok_or_else(|| format!("{name} needs a value").into())
        };
        match a.as_str() {
            "--project" => args.project = Some(value("--project")?),
            "--root-url" => args.root_url = Some(value("--root-url")?),
            "--prefix" => args.prefix = Some(value("--prefix")?),
            "--max" => args.max = Some(value("--max")?.parse()?),
            "--anonymous" => args.anonymous = true,
            "-h" | "--help" => {
                println!(
                    "storage-adc [--project ID] [--root-url URL] [--prefix P] [--max N] [--anonymous]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)").into()),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let args = parse_args()?;

    let (credentials, found_project) = if args.anonymous {
        (Credentials::anonymous(), None)
    } else if let Ok(key) = std::env::var("GAPI_API_KEY") {
        (Credentials::api_key(key), None)
    } else {
        let adc = ApplicationDefaultCredentials::builder()
            .with_scopes([scopes::DEVSTORAGE_READ_ONLY])
            .build()
            .await?;
        eprintln!(
            "credentials: {:?} from {:?}{}",
            adc.kind(),
            adc.source(),
            adc.quota_project()
                .map(|q| format!(", quota project {q}"))
                .unwrap_or_default()
        );
        let project = adc.project_id().map(str::to_owned);
        (adc.credentials(), project)
    };
    let project = args
        .project
        .or(found_project)
        .ok_or("no project: pass --project, or set GOOGLE_CLOUD_PROJECT")?;

    let client = gapi::Client::builder()
        .credentials(credentials)
        .user_agent("gapi-example-storage-adc/0.1")
        .build()?;
    let mut storage = StorageService::new(client);
    if let Some(url) = args.root_url {
        storage = storage.with_root_url(url);
    }

    let mut call = storage.buckets().list(project.clone());
    if let Some(p) = args.prefix {
        call = call.prefix(p);
    }
    let mut buckets = call.items();
    let mut n = 0;
    while let Some(bucket) = buckets.next().await {
        let bucket = bucket?;
        println!(
            "{}\t{}\t{}",
            bucket.name.as_deref().unwrap_or("?"),
            bucket.location.as_deref().unwrap_or("-"),
            bucket
                .time_created
                .as_ref()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default()
        );
        n += 1;
        if args.max.is_some_and(|m| n >= m) {
            break;
        }
    }
    eprintln!("{n} bucket(s) in project {project}");
    Ok(())
}
