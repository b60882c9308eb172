//! Fuzzing the generator: structure-aware mutants of real discovery
//! documents (`plan.rs`, `mutate.rs`) go through the whole pipeline (load, emit,
//! format, crate files) and must
//!
//! 1. never panic: each mutant is accepted (code) or refused (a
//!    `gapi_gen::Error` naming the file and a JSON path), and accepted code
//!    and crate files carry no control or bidirectional-text character;
//! 2. compile when accepted: a sample of accepted mutants of the small seeds
//!    is written as modules of one crate (plus a few as crates of their own)
//!    and checked with one `cargo check`.
//!
//! Mutation plans are proptest strategies drawn from a ChaCha `TestRng`
//! seeded by `GAPI_FUZZ_SEED` and the mutant's number, so every mutant can be
//! rebuilt from those two. proptest (over bolero or a bare `arbitrary`)
//! because it is well kept, runs on stable inside `cargo test` with no engine
//! to install, and its strategies (weighted choices, regex-generated and
//! arbitrary Unicode strings) describe the mutations declaratively.
//!
//! The default run is bounded for CI (`cargo test --workspace`); a longer one:
//!
//! ```text
//! GAPI_FUZZ_MUTANTS=5000 GAPI_FUZZ_COMPILE=60 GAPI_FUZZ_SEED=0x5eed \
//!   cargo test -p gapi-gen --release --test fuzz -- --nocapture
//! ```
//!
//! Environment: `GAPI_FUZZ_SEED` (decimal or `0x` hex), `GAPI_FUZZ_MUTANTS`
//! (no-panic mutants, default 1500), `GAPI_FUZZ_COMPILE` (modules in the
//! compile sample, default 15), `GAPI_FUZZ_CRATES` (of which also written as
//! crates, default 3), `GAPI_FUZZ_SHARED` (corpus seeds, default 24),
//! `GAPI_FUZZ_VERBOSE=1` (print every mutant and its outcome). Failing
//! mutants are written to `$CARGO_TARGET_TMPDIR/gapi-fuzz/failures/`.

mod compile;
mod hostile;
mod mutate;
mod plan;
mod seeds;

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use gapi_gen::{CrateOptions, Error, Generator, Runtime, Source};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use seeds::Seed;

/// The run's settings, from the environment.
pub struct Settings {
    pub seed: u64,
    pub mutants: usize,
    pub compile: usize,
    pub crates: usize,
}

fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        }
        Err(_) => default,
    }
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            seed: env_num("GAPI_FUZZ_SEED", 0x6a70_6921),
            mutants: env_num("GAPI_FUZZ_MUTANTS", 1500) as usize,
            compile: env_num("GAPI_FUZZ_COMPILE", 15) as usize,
            crates: env_num("GAPI_FUZZ_CRATES", 3) as usize,
        }
    }
}

/// `GAPI_FUZZ_VERBOSE=1`: print every mutant and its outcome.
fn verbose() -> bool {
    std::env::var_os("GAPI_FUZZ_VERBOSE").is_some_and(|v| v == "1")
}

/// Where the fuzz test keeps its files (cached between runs).
pub fn work_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gapi-fuzz")
}

/// The runtime crate generated code depends on.
pub fn runtime_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../runtime")
}

/// One mutant: its id (`stream:number`), seed, what was done, the JSON.
pub struct Mutant {
    pub id: String,
    pub seed_name: String,
    pub ops: Vec<String>,
    pub json: String,
}

impl Mutant {
    /// How to find and rebuild this mutant.
    pub fn describe(&self, settings: &Settings) -> String {
        format!(
            "mutant {} (GAPI_FUZZ_SEED={:#x}) of {}: {}",
            self.id,
            settings.seed,
            self.seed_name,
            self.ops.join("; ")
        )
    }

    /// Writes the mutant's JSON under `failures/`; returns the path.
    pub fn save(&self) -> PathBuf {
        let dir = work_dir().join("failures");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{}.json", self.id.replace(':', "-")));
        let _ = std::fs::write(&path, &self.json);
        path
    }
}

/// splitmix64: spreads (seed, stream, number) into the RNG's 32-byte seed.
fn rng_seed(seed: u64, stream: &str, n: usize) -> [u8; 32] {
    let mut x = seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in stream.bytes() {
        x = x.rotate_left(5) ^ u64::from(b);
    }
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

/// Builds mutant `n` of `stream` from the seeds in `pool`.
pub fn mutant(
    seeds: &[Seed],
    pool: &[usize],
    settings: &Settings,
    stream: &str,
    n: usize,
) -> Mutant {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &rng_seed(settings.seed, stream, n));
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let plan = plan::plan()
        .new_tree(&mut runner)
        .expect("mutation plans have no filters")
        .current();
    let seed = &seeds[pool[plan.seed as usize % pool.len()]];
    let mut doc = seed.doc.clone();
    let ops = mutate::apply(&mut doc, &plan);
    Mutant {
        id: format!("{stream}:{n}"),
        seed_name: seed.name.clone(),
        ops,
        json: serde_json::to_string(&doc).expect("a JSON value serializes"),
    }
}

/// What the pipeline made of a mutant.
pub enum Outcome {
    /// Accepted: the module source.
    Ok(String),
    /// Refused with a proper error.
    Refused(String),
    /// A panic (message and location).
    Panic(String),
    /// A broken promise: an error without file or JSON path, a generator
    /// bug reported as such, or unsafe characters in the output.
    Bug(String),
}

thread_local! {
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A panic hook that records panics of the pipeline (on threads running
/// it) instead of printing them; other panics go to the previous hook.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CATCHING.get() {
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(info.to_string()));
            } else {
                previous(info);
            }
        }));
    });
}

/// Characters that may not appear in generated text (string literals
/// escape them).
fn unsafe_chars(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        c != '\n'
            && (c.is_control()
                || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    })
}

fn check_error(file: &str, e: &Error) -> Result<(), String> {
    match e {
        Error::Json {
            file: f, json_path, ..
        }
        | Error::Invalid {
            file: f, json_path, ..
        } => {
            if f != file {
                return Err(format!("error names file {f:?}, not {file:?}: {e}"));
            }
            if !json_path.starts_with('$') {
                return Err(format!("error has no JSON path: {e}"));
            }
            Ok(())
        }
        Error::NotRestDescription { file: f, .. } if f == file => Ok(()),
        other => Err(format!("unexpected error: {other}")),
    }
}

/// The pipeline on one document, with everything it promises checked.
fn pipeline(file: &str, json: &str, crate_dir: &Path) -> Result<Result<String, String>, String> {
    let generator = Generator::new();
    let source = Source::Json {
        name: file.to_string(),
        json: json.to_string(),
    };
    if let Err(e) = generator.identity(source) {
        check_error(file, &e)?;
    }
    let api = match generator.load_bytes(file, json.as_bytes()) {
        Ok(api) => api,
        Err(e) => return check_error(file, &e).map(|()| Err(e.to_string())),
    };
    let package = gapi_gen::crate_name(&api);
    let valid = package.len() <= 64
        && package
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !package.ends_with('-');
    if !valid {
        return Err(format!("invalid package name {package:?}"));
    }
    // Crate mode writes the module as src/api.rs: emitted and formatted
    // once here; for small documents also through `module_source` (the
    // build.rs path), which must give the same text.
    let options = CrateOptions {
        runtime: Runtime::Path(runtime_dir()),
        standalone_workspace: true,
        // The code is also checked as a module (`include!`d, no features):
        // no `cfg`s, so it is the same text as `module_source` gives.
        resource_features: gapi_gen::ResourceFeatures::Off,
        ..Default::default()
    };
    generator
        .write_crate(file, &api, crate_dir, &options)
        .map_err(|e| e.to_string())?;
    for f in ["Cargo.toml", "README.md", "src/lib.rs", "src/api.rs"] {
        let text = std::fs::read_to_string(crate_dir.join(f)).map_err(|e| format!("{f}: {e}"))?;
        if let Some(c) = unsafe_chars(&text) {
            return Err(format!("crate file {f} holds {c:?}"));
        }
    }
    let code = std::fs::read_to_string(crate_dir.join("src/api.rs")).map_err(|e| e.to_string())?;
    if json.len() <= seeds::SMALL {
        let direct = generator
            .module_source(file, &api)
            .map_err(|e| e.to_string())?;
        if direct != code {
            return Err("module_source differs from crate mode's src/api.rs".to_string());
        }
    }
    syn::parse_file(&code).map_err(|e| format!("module source does not parse: {e}"))?;
    Ok(Ok(code))
}

/// Runs the pipeline on a mutant, catching panics.
pub fn run(m: &Mutant, crate_dir: &Path) -> Outcome {
    install_panic_hook();
    let file = format!("{}.json", m.id.replace(':', "-"));
    CATCHING.set(true);
    let result = catch_unwind(AssertUnwindSafe(|| pipeline(&file, &m.json, crate_dir)));
    CATCHING.set(false);
    match result {
        Ok(Ok(Ok(code))) => Outcome::Ok(code),
        Ok(Ok(Err(error))) => Outcome::Refused(error),
        Ok(Err(bug)) => Outcome::Bug(bug),
        Err(_) => Outcome::Panic(
            LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| "panic".to_string()),
        ),
    }
}

#[test]
fn mutants_never_panic() {
    let settings = Settings::from_env();
    let (seeds, shared) = seeds::load();
    // Big seeds cost more per mutant: small ones get more turns.
    let pool: Vec<usize> = (0..seeds.len())
        .flat_map(|i| std::iter::repeat_n(i, (120_000 / seeds[i].bytes.max(1)).clamp(1, 8)))
        .collect();
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let counts = [AtomicUsize::new(0), AtomicUsize::new(0)];
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let slowest: Mutex<Option<(std::time::Duration, String)>> = Mutex::new(None);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for t in 0..threads {
            let (seeds, pool, settings) = (&seeds, &pool, &settings);
            let (next, counts, failures, slowest) = (&next, &counts, &failures, &slowest);
            s.spawn(move || {
                let dir = work_dir().join(format!("scratch-{t}"));
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= settings.mutants {
                        break;
                    }
                    let m = mutant(seeds, pool, settings, "panic", n);
                    let started = Instant::now();
                    let outcome = run(&m, &dir);
                    let took = started.elapsed();
                    {
                        let mut slowest = slowest.lock().unwrap();
                        if slowest.as_ref().is_none_or(|(t, _)| took > *t) {
                            *slowest = Some((took, m.describe(settings)));
                        }
                    }
                    let failure = match outcome {
                        Outcome::Ok(_) => {
                            counts[0].fetch_add(1, Ordering::Relaxed);
                            if verbose() {
                                println!("ok {}", m.describe(settings));
                            }
                            continue;
                        }
                        Outcome::Refused(e) => {
                            counts[1].fetch_add(1, Ordering::Relaxed);
                            if verbose() {
                                println!("refused {}\n    {e}", m.describe(settings));
                            }
                            continue;
                        }
                        Outcome::Panic(p) => format!("PANIC {p}"),
                        Outcome::Bug(b) => format!("BUG {b}"),
                    };
                    let saved = m.save();
                    failures.lock().unwrap().push(format!(
                        "{}\n    {failure}\n    document: {}",
                        m.describe(settings),
                        saved.display()
                    ));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let (ok, refused) = (
        counts[0].load(Ordering::Relaxed),
        counts[1].load(Ordering::Relaxed),
    );
    println!(
        "fuzz: {} mutants of {} seeds ({}): {ok} ok, {refused} refused, {} panics or bugs, in {:.1} s (GAPI_FUZZ_SEED={:#x})",
        settings.mutants,
        seeds.len(),
        if shared {
            "with ../shared"
        } else {
            "../shared absent"
        },
        failures.len(),
        started.elapsed().as_secs_f64(),
        settings.seed
    );
    if let Some((took, m)) = slowest.into_inner().unwrap() {
        let m: String = m.chars().take(300).collect();
        println!(
            "fuzz: slowest mutant {:.0} ms: {m}",
            took.as_secs_f64() * 1e3
        );
    }
    assert!(
        failures.is_empty(),
        "{} mutants broke the generator:\n{}",
        failures.len(),
        failures.join("\n")
    );
    if settings.mutants >= 200 {
        // A fuzzer whose mutants are all refused (or all accepted) tests little.
        assert!(ok * 10 >= settings.mutants, "only {ok} mutants accepted");
        assert!(
            refused * 20 >= settings.mutants,
            "only {refused} mutants refused"
        );
    }
}

#[test]
fn accepted_mutants_compile() {
    let settings = Settings::from_env();
    if settings.compile == 0 {
        println!("fuzz compile: skipped (GAPI_FUZZ_COMPILE=0)");
        return;
    }
    let Some(cargo) = compile::cargo() else {
        println!("fuzz compile: skipped, cargo is not available");
        return;
    };
    let (seeds, _) = seeds::load();
    let pool: Vec<usize> = (0..seeds.len())
        .filter(|&i| seeds[i].bytes <= seeds::SMALL)
        .collect();
    let dir = work_dir().join("scratch-compile");
    let mut sample = Vec::new();
    let mut tried = 0;
    while sample.len() < settings.compile && tried < settings.compile * 20 {
        let m = mutant(&seeds, &pool, &settings, "compile", tried);
        tried += 1;
        match run(&m, &dir) {
            Outcome::Ok(code) => sample.push((m, code)),
            Outcome::Refused(_) => {}
            Outcome::Panic(p) | Outcome::Bug(p) => {
                panic!(
                    "{}\n    {p}\n    document: {}",
                    m.describe(&settings),
                    m.save().display()
                )
            }
        }
    }
    if verbose() {
        for (i, (m, _)) in sample.iter().enumerate() {
            println!("m{i}: {}", m.describe(&settings));
        }
    }
    let started = Instant::now();
    let report = compile::check(&cargo, &sample, &settings);
    println!(
        "fuzz compile: {} accepted mutants (of {tried} tried): {} compiled, {} failed; {} crate(s) in crate mode; cargo check {:.1} s",
        sample.len(),
        sample.len() - report.failed_modules.len(),
        report.failed_modules.len(),
        report.crates,
        started.elapsed().as_secs_f64()
    );
    assert!(
        report.failures.is_empty(),
        "accepted mutants do not compile:\n{}",
        report.failures.join("\n")
    );
    assert!(!sample.is_empty(), "no mutant of {tried} was accepted");
}
