//! The command line: `gapi [OPTIONS] <api> <resource>… <method>`, and the
//! `auth`, `schema`, `apis` and `completions` commands.
//!
//! The API part cannot be a static clap tree (it is every method of every
//! document), so it is one positional list of words resolved against the
//! document after parsing, with the call options beside it; `-h`/`--help`
//! after words prints help made from the document for what they name.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::auth;
use crate::config::Dirs;
use crate::fail::{Failure, Result};
use crate::output::Format;

/// One command line for every Google API, built from its discovery document.
#[derive(Debug, Parser)]
#[command(
    name = "gapi",
    version,
    disable_help_flag = true,
    disable_help_subcommand = true,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  gapi tasks tasklists list\n  gapi tasks tasks list --param tasklist=@default --page-all\n  gapi drive files create --upload report.pdf --body '{\"name\":\"report.pdf\"}'\n  gapi storage objects list --help\n  gapi schema tasks Task\n  gapi auth login --client-secret client_secret.json --scopes tasks"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub call: CallOptions,
    /// API[.VERSION] RESOURCE… METHOD, e.g. `tasks tasklists list`.
    #[arg(value_name = "API")]
    pub words: Vec<String>,
    /// Help: for gapi, or for the API, resource or method named.
    #[arg(short = 'h', long = "help", global = true)]
    pub help: bool,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// The profile whose credentials to use.
    #[arg(long, env = "GAPI_PROFILE", default_value = "default", global = true)]
    pub profile: String,
    /// The configuration directory (profiles, credentials; default
    /// $XDG_CONFIG_HOME/gapi).
    #[arg(long, env = "GAPI_CONFIG_DIR", global = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "json", global = true)]
    pub format: Format,
    /// No progress bars.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

/// Options of an API call.
#[derive(Debug, Clone, Args, Default)]
pub struct CallOptions {
    /// A parameter: NAME=VALUE (repeat for repeated parameters).
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub param: Vec<String>,
    /// Parameters as a JSON object (arrays for repeated parameters).
    #[arg(long, value_name = "JSON")]
    pub params: Option<String>,
    /// The request body: JSON, @FILE, or - for standard input.
    #[arg(long, value_name = "JSON|@FILE|-")]
    pub body: Option<String>,
    /// Partial response: the fields to return (`items(id,title)`).
    #[arg(long)]
    pub fields: Option<String>,
    /// Follow page tokens and print every page (NDJSON: one line per page).
    #[arg(long)]
    pub page_all: bool,
    /// With --page-all: stop after this many pages.
    #[arg(long, value_name = "N")]
    pub page_limit: Option<u64>,
    /// Print the HTTP request instead of sending it (secrets redacted).
    #[arg(long)]
    pub dry_run: bool,
    /// Upload this file as the method's media.
    #[arg(long, value_name = "FILE")]
    pub upload: Option<PathBuf>,
    /// The media's MIME type (default: from the file's extension).
    #[arg(long, value_name = "MIME")]
    pub upload_content_type: Option<String>,
    /// How to upload: auto (resumable over 5 MiB), simple, multipart, resumable.
    #[arg(long, value_name = "PROTOCOL", default_value = "auto")]
    pub upload_protocol: String,
    /// Resumable upload chunk size in bytes (a multiple of 256 KiB; default 8 MiB).
    #[arg(long, value_name = "BYTES")]
    pub chunk_size: Option<usize>,
    /// Download the method's media (alt=media) into this file.
    #[arg(long, value_name = "FILE")]
    pub download: Option<PathBuf>,
    /// Go on with an upload or download an earlier run did not finish.
    #[arg(long)]
    pub resume: bool,
    /// Send to this root URL instead of the document's (a local emulator).
    #[arg(long, env = "GAPI_ROOT_URL", value_name = "URL")]
    pub root_url: Option<String>,
    /// Use this discovery document file.
    #[arg(long, value_name = "FILE")]
    pub discovery_file: Option<PathBuf>,
    /// Fetch the document fresh from the Discovery Service (and cache it).
    #[arg(long)]
    pub fresh: bool,
    /// With --fresh: the document's URL, or a template with {api} and {version}
    /// (default: the Discovery Service's).
    #[arg(long, env = "GAPI_DISCOVERY_URL", value_name = "URL")]
    pub discovery_url: Option<String>,
    /// Let enum values and body members the document does not know through.
    #[arg(long)]
    pub lenient: bool,
    /// Send no credentials.
    #[arg(long)]
    pub anonymous: bool,
    /// Authenticate with an API key.
    #[arg(long, env = "GAPI_API_KEY", value_name = "KEY", hide_env_values = true)]
    pub api_key: Option<SecretArg>,
    /// Authenticate with this access token.
    #[arg(
        long,
        env = "GAPI_ACCESS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub access_token: Option<SecretArg>,
}

/// A secret given on the command line or in the environment: its `Debug`
/// shows no more than that there is one.
#[derive(Clone, Default)]
pub struct SecretArg(pub String);

impl std::str::FromStr for SecretArg {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(SecretArg(s.to_owned()))
    }
}

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in and out; credentials per profile.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// A schema of an API (or a method's request and response), as JSON.
    Schema {
        /// API[.VERSION]
        api: String,
        /// A schema name (`Task`) or a method (`tasks.insert`).
        name: String,
        /// How many levels of $ref to expand.
        #[arg(long, default_value_t = 2)]
        depth: usize,
        /// Use this discovery document file.
        #[arg(long, value_name = "FILE")]
        discovery_file: Option<PathBuf>,
    },
    /// The bundled APIs, and fetching fresh documents.
    #[command(subcommand)]
    Apis(ApisCommand),
    /// A shell completion script: bash, zsh or fish.
    Completions {
        /// The shell.
        shell: String,
    },
    /// Completion candidates for the words so far (used by the scripts).
    #[command(name = "__complete", hide = true)]
    Complete {
        /// The words after `gapi`, the last one being completed.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AuthCommand {
    /// Sign in (installed-app loopback flow, or --device).
    Login {
        /// The OAuth client's client_secret.json (default: the profile's, or $GAPI_CLIENT_SECRET).
        #[arg(long, value_name = "FILE")]
        client_secret: Option<PathBuf>,
        /// Use the device flow (a code to enter on another device).
        #[arg(long)]
        device: bool,
        /// Scopes to ask for: URLs or short names (`tasks`, `drive.readonly`).
        #[arg(long, value_delimiter = ',', num_args = 1..)]
        scopes: Vec<String>,
        /// Print the authorization URL instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        /// The device authorization endpoint (default: beside the token endpoint).
        #[arg(long, value_name = "URL")]
        device_uri: Option<String>,
    },
    /// What is signed in (no secret shown).
    Status,
    /// Print a valid access token (refreshed if needed).
    PrintAccessToken,
    /// Revoke the grant and delete the stored credentials.
    Logout {
        /// Delete the credentials here but leave the grant in place.
        #[arg(long)]
        keep_grant: bool,
    },
    /// The profiles.
    List,
}

#[derive(Debug, Subcommand)]
enum ApisCommand {
    /// Every bundled API and version.
    List,
    /// Fetch an API's document from the Discovery Service into the cache.
    Fetch {
        /// API.VERSION
        api: String,
        /// The Discovery Service URL template ({api}, {version}).
        #[arg(long, env = "GAPI_DISCOVERY_URL", value_name = "URL")]
        discovery_url: Option<String>,
    },
}

/// Parses the command line and runs it.
pub async fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    let dirs = Dirs::new(cli.common.config_dir.as_deref())?;
    let common = cli.common.clone();
    match cli.command {
        None if cli.words.is_empty() => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let help = cmd.render_help();
            if cli.help {
                print!("{help}");
                Ok(ExitCode::SUCCESS)
            } else {
                eprint!("{help}");
                Ok(ExitCode::from(2))
            }
        }
        None => crate::call::run(&cli.words, &cli.call, &common, cli.help, &dirs).await,
        Some(Command::Auth(a)) => run_auth(a, &common, &dirs).await,
        Some(Command::Schema {
            api,
            name,
            depth,
            discovery_file,
        }) => {
            let source = crate::load::Source {
                file: discovery_file,
                ..Default::default()
            };
            let loaded = crate::load::load(&api, &source, &dirs).await?;
            let v = crate::schema::describe(&loaded, &name, depth)?;
            print_value(&v, common.format)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Apis(ApisCommand::List)) => {
            let list = crate::help::apis_list();
            print_value(&list, common.format)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Apis(ApisCommand::Fetch { api, discovery_url })) => {
            let source = crate::load::Source {
                fresh: true,
                url_template: discovery_url,
                ..Default::default()
            };
            let loaded = crate::load::load(&api, &source, &dirs).await?;
            let d = &loaded.discovery;
            eprintln!(
                "Fetched {} (revision {}) into {}",
                d.id(),
                d.document().revision.as_deref().unwrap_or("?"),
                dirs.cache.join("discovery").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Completions { shell }) => {
            print!("{}", crate::complete::script(&shell)?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Complete { words }) => {
            for c in crate::complete::candidates(&words, &dirs).await {
                println!("{c}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn run_auth(cmd: AuthCommand, common: &Common, dirs: &Dirs) -> Result<ExitCode> {
    let profile = common.profile.as_str();
    match cmd {
        AuthCommand::Login {
            client_secret,
            device,
            scopes,
            no_browser,
            device_uri,
        } => {
            let opts = auth::Login {
                client_secret,
                device,
                scopes,
                no_browser,
                device_uri,
            };
            auth::login(dirs, profile, &opts).await?;
        }
        AuthCommand::Status => {
            let v = auth::status(dirs, profile).await?;
            print_value(&v, common.format)?;
        }
        AuthCommand::PrintAccessToken => {
            println!("{}", auth::print_access_token(dirs, profile).await?);
        }
        AuthCommand::Logout { keep_grant } => auth::logout(dirs, profile, keep_grant).await?,
        AuthCommand::List => {
            let v = serde_json::json!(dirs.profiles());
            print_value(&v, common.format)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a value in the chosen format on stdout.
pub fn print_value(v: &serde_json::Value, format: Format) -> Result<()> {
    crate::output::print(&mut std::io::stdout().lock(), v, format)
        .map_err(|e| Failure::run(format!("writing the output: {e}")))
}
