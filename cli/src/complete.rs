//! Shell completions. The command tree is every method of every document,
//! so the scripts ask the binary itself (`gapi __complete <words…>`), as
//! cobra-based tools (gh) do: API names, then the resources and methods of
//! the document at that point, then options and `--param NAME=` names.

use gapi_dynamic::Target;

use crate::config::Dirs;
use crate::fail::{Failure, Result};

const COMMANDS: &[&str] = &["auth", "schema", "apis", "completions"];
const CALL_FLAGS: &[&str] = &[
    "--param",
    "--params",
    "--body",
    "--fields",
    "--page-all",
    "--page-limit",
    "--dry-run",
    "--format",
    "--upload",
    "--upload-content-type",
    "--upload-protocol",
    "--download",
    "--resume",
    "--root-url",
    "--discovery-file",
    "--fresh",
    "--lenient",
    "--anonymous",
    "--api-key",
    "--access-token",
    "--profile",
    "--quiet",
    "--help",
];

/// The completion script for `shell`.
pub fn script(shell: &str) -> Result<String> {
    Ok(match shell {
        "bash" => r#"# gapi completion for bash: eval "$(gapi completions bash)"
_gapi() {
  local IFS=$'\n'
  COMPREPLY=($(gapi __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -o nospace -F _gapi gapi
"#
        .into(),
        "zsh" => r#"#compdef gapi
# gapi completion for zsh: gapi completions zsh > "${fpath[1]}/_gapi"
_gapi() {
  local -a candidates
  candidates=("${(@f)$(gapi __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -S '' -- "${candidates[@]}"
}
compdef _gapi gapi
"#
        .into(),
        "fish" => r#"# gapi completion for fish: gapi completions fish > ~/.config/fish/completions/gapi.fish
complete -c gapi -f -a '(gapi __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
"#
        .into(),
        other => {
            return Err(Failure::input(format!(
                "completions for {other:?}: bash, zsh or fish"
            )));
        }
    })
}

fn matching(prefix: &str, names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = names
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Candidates for the last of `words` (the words after `gapi`).
pub async fn candidates(words: &[String], dirs: &Dirs) -> Vec<String> {
    let (last, before) = match words.split_last() {
        Some((l, b)) => (l.as_str(), b),
        None => ("", &[][..]),
    };
    let positional: Vec<&String> = before.iter().filter(|w| !w.starts_with('-')).collect();
    if positional.is_empty() {
        if last.starts_with('-') {
            return matching(
                last,
                ["--help", "--version", "--profile", "--format"].map(String::from),
            );
        }
        let mut names: Vec<String> = COMMANDS.iter().map(|s| s.to_string()).collect();
        names.extend(crate::bundle::names().into_iter().map(String::from));
        if last.contains('.') {
            names.extend(crate::bundle::DOCS.iter().map(|d| d.id()));
        }
        return matching(last, names);
    }
    if COMMANDS.contains(&positional[0].as_str()) {
        return match (positional[0].as_str(), positional.len()) {
            ("auth", 1) => matching(
                last,
                ["login", "status", "print-access-token", "logout", "list"].map(String::from),
            ),
            ("apis", 1) => matching(last, ["list", "fetch"].map(String::from)),
            ("completions", 1) => matching(last, ["bash", "zsh", "fish"].map(String::from)),
            ("schema", 1) => matching(last, crate::bundle::names().into_iter().map(String::from)),
            _ => Vec::new(),
        };
    }
    let Ok(loaded) = crate::load::load(positional[0], &Default::default(), dirs).await else {
        return Vec::new();
    };
    let d = &loaded.discovery;
    // Words of the API path: positionals that are not option values.
    let mut path: Vec<String> = Vec::new();
    let mut skip = false;
    for w in &before[1..] {
        if skip {
            skip = false;
            continue;
        }
        if w.starts_with('-') {
            skip = !matches!(
                w.as_str(),
                "--page-all"
                    | "--dry-run"
                    | "--resume"
                    | "--fresh"
                    | "--lenient"
                    | "--anonymous"
                    | "--quiet"
                    | "-q"
            ) && !w.contains('=');
            continue;
        }
        path.push(w.clone());
    }
    let prev = before.last().map(String::as_str).unwrap_or("");
    let target = d.resolve(&path);
    match target {
        Ok(Target::Method(m)) => {
            if prev == "--param" || prev == "-p" {
                return matching(last, m.method().parameters.keys().map(|k| format!("{k}=")));
            }
            if prev == "--format" {
                return matching(last, ["json", "yaml", "table"].map(String::from));
            }
            matching(last, CALL_FLAGS.iter().map(|s| s.to_string()))
        }
        Ok(Target::Api) => {
            let doc = d.document();
            matching(
                last,
                doc.resources.keys().chain(doc.methods.keys()).cloned(),
            )
        }
        Ok(Target::Resource(_, r)) => {
            matching(last, r.resources.keys().chain(r.methods.keys()).cloned())
        }
        Err(_) => Vec::new(),
    }
}
