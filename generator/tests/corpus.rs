//! Corpus check: every REST description in `../shared/discovery-docs`
//! (the public corpus, outside this repo) goes through parse → resolve →
//! emit in-process, and the emitted tokens must parse as a Rust file.
//! `scripts/check-corpus.sh` goes further and runs `cargo check` on crates.
//!
//! Skipped (with a message) when the corpus is absent; mandatory when
//! `GAPI_REQUIRE_SHARED=1`.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

fn corpus_dir() -> PathBuf {
    match std::env::var_os("GAPI_DISCOVERY_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/discovery-docs"),
    }
}

#[test]
fn whole_corpus_generates_valid_rust() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        assert!(
            std::env::var_os("GAPI_REQUIRE_SHARED").is_none_or(|v| v != "1"),
            "GAPI_REQUIRE_SHARED=1 but the corpus is missing at {}",
            dir.display()
        );
        println!("skipped: no discovery corpus at {}", dir.display());
        return;
    }
    let mut docs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    docs.sort();
    // Biggest first for a balanced split over threads.
    let mut order: Vec<&PathBuf> = docs.iter().collect();
    order.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).map_or(0, |m| m.len())));

    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let generated = AtomicUsize::new(0);
    let skipped = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let generator = gapi_gen::Generator::new();
                while let Some(doc) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let name = doc.file_name().unwrap().to_string_lossy().to_string();
                    match generator.load(doc.as_path()) {
                        Ok(api) => {
                            let tokens = gapi_gen::emit::module_tokens(&api);
                            match syn::parse2::<syn::File>(tokens) {
                                Ok(_) => {
                                    generated.fetch_add(1, Ordering::Relaxed);
                                }
                                Err(e) => failures
                                    .lock()
                                    .unwrap()
                                    .push(format!("{name}: invalid Rust: {e}")),
                            }
                        }
                        Err(gapi_gen::Error::NotRestDescription { .. }) => {
                            skipped.lock().unwrap().push(name)
                        }
                        Err(e) => failures.lock().unwrap().push(e.to_string()),
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} documents failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let skipped = skipped.into_inner().unwrap();
    assert_eq!(
        skipped,
        ["index.json"],
        "only the directory list is skipped"
    );
    let generated = generated.into_inner();
    assert!(generated >= 600, "only {generated} documents generated");
    println!("{generated} documents generate valid Rust");
}
