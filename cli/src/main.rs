//! # gapi — one command line for every Google API
//!
//! `gapi <api>[.<version>] <resource>… <method> [--param k=v | --params JSON]
//! [--body @file.json | -]` calls any method of any public Google API,
//! built at run time from its discovery document (bundled in the binary,
//! compressed; a file; or fetched fresh from the Discovery Service), through
//! the gapi runtime: the same client, credentials, retries, paging, media
//! and time bounds as the generated typed clients. See README.md for a tour
//! and ARCHITECTURE.md for the design.
//!
//! Modules: `args` (the command line), `call` (an API call from words to
//! output), `load` (finding a document), `bundle` (the bundled documents),
//! `auth` (signing in, a call's credentials), `config` (directories,
//! profiles), `dry_run` (`--dry-run`), `media` (uploads, downloads),
//! `output` (json, yaml, table), `help` (help from the document), `schema`
//! (`gapi schema`), `complete` (shell completions), `fail` (exit codes).

mod args;
mod auth;
mod bundle;
mod call;
mod complete;
mod config;
mod dry_run;
mod fail;
mod help;
mod load;
mod media;
mod output;
mod schema;

use std::process::ExitCode;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gapi: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(args::run()) {
        Ok(code) => code,
        Err(f) => {
            eprintln!("gapi: {f}");
            ExitCode::from(f.code)
        }
    }
}
