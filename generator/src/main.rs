//! `gapi-gen`: generates one client crate per discovery document.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::{Parser, Subcommand};
use gapi_gen::{CrateOptions, Error, Generator, ResourceFeatures, Runtime, crate_dir_name};

// Generation allocates many small token trees; mimalloc makes the whole
// corpus run about a third faster than the system allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Generates typed Rust clients from Google API discovery documents.
#[derive(Parser)]
#[command(name = "gapi-gen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes one standalone crate per document under --out (e.g. `tasks-v1/`).
    Generate {
        /// The directory to write crates into.
        #[arg(long)]
        out: PathBuf,
        /// Depend on the gapi runtime at this path (written relative to each
        /// crate, beside the version requirement, which is what a published
        /// crate keeps).
        #[arg(long)]
        runtime_path: Option<PathBuf>,
        /// The runtime version requirement (default: this generator's own
        /// version, the runtime it writes code for).
        #[arg(long, default_value = gapi_gen::RUNTIME_VERSION)]
        runtime_version: String,
        /// The crates' version, MAJOR.MINOR.PATCH; the document's revision
        /// is added as build metadata (`0.1.0+20251216`).
        #[arg(long, default_value = "0.1.0")]
        crate_version: String,
        /// `repository` (and `homepage`) of the crates' manifests.
        #[arg(long)]
        repository: Option<String>,
        /// Add an empty `[workspace]` table to each crate so it is not taken
        /// for a member of an enclosing workspace.
        #[arg(long)]
        standalone_workspace: bool,
        /// One cargo feature per top-level resource for APIs with more
        /// methods than this and two top-level resources or more (`full`,
        /// the default feature, enables them all); `off` for none.
        #[arg(long, value_name = "METHODS|off", default_value = "100", value_parser = parse_resource_features)]
        resource_features: ResourceFeatures,
        /// Worker threads (default: available parallelism).
        #[arg(long, short = 'j')]
        jobs: Option<usize>,
        /// Discovery documents (JSON). Files that are not REST descriptions
        /// (e.g. index.json) are skipped with a note.
        #[arg(required = true)]
        docs: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate {
            out,
            runtime_path,
            runtime_version,
            crate_version,
            repository,
            standalone_workspace,
            resource_features,
            jobs,
            docs,
        } => {
            let options = CrateOptions {
                runtime: match runtime_path {
                    Some(p) => Runtime::PathAndVersion(p, runtime_version),
                    None => Runtime::Version(runtime_version),
                },
                standalone_workspace,
                version: Some(crate_version),
                repository,
                resource_features,
            };
            generate(&out, &options, jobs, &docs)
        }
    }
}

/// `--resource-features`: a number of methods, or `off`.
fn parse_resource_features(s: &str) -> Result<ResourceFeatures, String> {
    if s == "off" {
        return Ok(ResourceFeatures::Off);
    }
    s.parse()
        .map(ResourceFeatures::Above)
        .map_err(|_| format!("expected a number of methods or `off`, got {s:?}"))
}

enum Outcome {
    Written(String),
    Skipped(String),
    Failed(Error),
}

fn generate(
    out: &std::path::Path,
    options: &CrateOptions,
    jobs: Option<usize>,
    docs: &[PathBuf],
) -> ExitCode {
    let jobs = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, 64)
        .min(docs.len().max(1));
    let progress = if docs.len() > 1 && std::io::stderr().is_terminal() {
        let pb = indicatif::ProgressBar::new(docs.len() as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(pb)
    } else {
        None
    };
    let generator = Generator::new();
    // Pass 1 (cheap): which crate directory each document claims, in input
    // order, so duplicates (same API and version) are resolved deterministically.
    let mut plan: Vec<Result<Option<String>, String>> = Vec::with_capacity(docs.len());
    let mut claimed: HashMap<String, usize> = HashMap::new();
    for (i, doc) in docs.iter().enumerate() {
        plan.push(match generator.identity(doc) {
            Ok(None) => Err("skipped, not a REST description".to_string()),
            Ok(Some(dir)) => match claimed.get(&dir) {
                Some(&first) => Err(format!(
                    "skipped, same API and version ({dir}) as {}",
                    docs[first].display()
                )),
                None => {
                    claimed.insert(dir.clone(), i);
                    Ok(Some(dir))
                }
            },
            // Reported by pass 2 with the full error.
            Err(_) => Ok(None),
        });
    }
    // Largest documents first, so the last ones to finish are small.
    let mut order: Vec<usize> = (0..docs.len()).collect();
    let size = |i: &usize| std::fs::metadata(&docs[*i]).map_or(0, |m| m.len());
    order.sort_by_key(|i| std::cmp::Reverse(size(i)));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let doc = &docs[i];
                    let outcome = match &plan[i] {
                        Err(note) => Outcome::Skipped(format!("{}: {note}", doc.display())),
                        Ok(_) => one(&generator, doc, out, options),
                    };
                    if let Some(pb) = &progress {
                        pb.set_message(doc.display().to_string());
                        pb.inc(1);
                    }
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, outcome));
                }
            });
        }
    });
    if let Some(pb) = &progress {
        pb.finish_and_clear();
    }
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let (mut written, mut skipped, mut failed) = (0, 0, 0);
    for (_, outcome) in &results {
        match outcome {
            Outcome::Written(_) => written += 1,
            Outcome::Skipped(note) => {
                skipped += 1;
                eprintln!("note: {note}");
            }
            Outcome::Failed(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if docs.len() > 1 || failed > 0 {
        eprintln!("{written} crates written, {skipped} skipped, {failed} failed");
    } else if let Some((_, Outcome::Written(dir))) = results.first() {
        eprintln!("wrote {dir}");
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn one(
    generator: &Generator,
    doc: &std::path::Path,
    out: &std::path::Path,
    options: &CrateOptions,
) -> Outcome {
    let api = match generator.load(doc) {
        Ok(api) => api,
        Err(Error::NotRestDescription { file, kind }) => {
            return Outcome::Skipped(format!(
                "{file}: skipped, not a REST description (kind {})",
                kind.as_deref().unwrap_or("missing")
            ));
        }
        Err(e) => return Outcome::Failed(e),
    };
    let dir = out.join(crate_dir_name(&api));
    match generator.write_crate(&doc.display().to_string(), &api, &dir, options) {
        Ok(_) => Outcome::Written(dir.display().to_string()),
        Err(e) => Outcome::Failed(e),
    }
}
