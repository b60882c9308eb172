//! Where an external account's subject token comes from: a file, a URL, or
//! an executable — the `credential_source` of the credentials file, read as
//! google-auth reads it.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::{Error, ErrorKind};

/// The environment variable that must be `1` for executable-sourced
/// credentials to run anything (as in google-auth).
pub const ALLOW_EXECUTABLES_ENV: &str = "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES";

/// How long an executable may run, by default (google-auth's: 30 s; the
/// file may say 5–120 s).
pub const DEFAULT_EXECUTABLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long fetching a URL-sourced token may take.
const URL_TIMEOUT: Duration = Duration::from_secs(30);

/// How the token sits in what the source gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectFormat {
    /// The whole content, without surrounding whitespace.
    Text,
    /// A JSON object; the token is its member of this name.
    Json(String),
}

/// One `credential_source`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubjectSource {
    /// A file (a Kubernetes projected service account token, a CI job's
    /// OIDC token written to disk), read for every exchange.
    File {
        /// The file.
        path: PathBuf,
        /// How the token sits in it.
        format: SubjectFormat,
    },
    /// A URL answering a GET (a cloud's metadata endpoint, GitHub Actions'
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`), with the given headers.
    Url {
        /// The URL.
        url: String,
        /// Request headers (e.g. `Authorization: bearer …`, `Metadata: true`).
        headers: Vec<(String, String)>,
        /// How the token sits in the answer.
        format: SubjectFormat,
    },
    /// A command (split on whitespace, run without a shell) that prints
    /// Google's executable-response JSON; run only when
    /// `GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1`.
    Executable {
        /// The command line (split on whitespace).
        command: String,
        /// The longest it may run.
        timeout: Duration,
        /// Where the executable caches its response, if anywhere.
        output_file: Option<PathBuf>,
    },
}

impl std::fmt::Debug for SubjectSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubjectSource::File { path, format } => f
                .debug_struct("File")
                .field("path", path)
                .field("format", format)
                .finish(),
            // Header values may be credentials: names only.
            SubjectSource::Url {
                url,
                headers,
                format,
            } => f
                .debug_struct("Url")
                .field("url", url)
                .field(
                    "headers",
                    &headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
                )
                .field("format", format)
                .finish(),
            SubjectSource::Executable {
                command,
                timeout,
                output_file,
            } => f
                .debug_struct("Executable")
                .field("command", command)
                .field("timeout", timeout)
                .field("output_file", output_file)
                .finish(),
        }
    }
}

/// The `credential_source` object of a credentials file.
#[derive(Deserialize)]
pub(super) struct SourceFile {
    #[serde(default)]
    file: Option<PathBuf>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    format: Option<FormatFile>,
    #[serde(default)]
    executable: Option<ExecutableFile>,
    #[serde(default)]
    environment_id: Option<String>,
}

#[derive(Deserialize)]
struct FormatFile {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    subject_token_field_name: Option<String>,
}

#[derive(Deserialize)]
struct ExecutableFile {
    command: String,
    #[serde(default)]
    timeout_millis: Option<u64>,
    #[serde(default)]
    output_file: Option<PathBuf>,
}

impl SourceFile {
    /// The source this object describes; `name` locates it in messages.
    pub(super) fn into_source(self, name: &str) -> crate::Result<SubjectSource> {
        let bad = |msg: String| {
            Error::new(
                ErrorKind::Decode,
                format!("{name}: `credential_source`: {msg}"),
            )
        };
        if let Some(env) = &self.environment_id {
            return Err(bad(format!(
                "`environment_id` `{env}` (AWS-sourced credentials) is not supported; use a file-, URL- or executable-sourced configuration"
            )));
        }
        let format = match self.format {
            None => SubjectFormat::Text,
            Some(f) => match f.kind.as_deref() {
                None | Some("text") => SubjectFormat::Text,
                Some("json") => {
                    SubjectFormat::Json(f.subject_token_field_name.ok_or_else(|| {
                        bad(
                            "`format.type` is `json` but there is no `subject_token_field_name`"
                                .into(),
                        )
                    })?)
                }
                Some(other) => return Err(bad(format!("unknown `format.type` `{other}`"))),
            },
        };
        match (self.file, self.url, self.executable) {
            (Some(path), None, None) => Ok(SubjectSource::File { path, format }),
            (None, Some(url), None) => Ok(SubjectSource::Url {
                url,
                headers: self.headers.into_iter().collect(),
                format,
            }),
            (None, None, Some(e)) => {
                let timeout = match e.timeout_millis {
                    None => DEFAULT_EXECUTABLE_TIMEOUT,
                    Some(ms) if (5_000..=120_000).contains(&ms) => Duration::from_millis(ms),
                    Some(ms) => {
                        return Err(bad(format!(
                            "`executable.timeout_millis` {ms} is outside 5000..=120000"
                        )));
                    }
                };
                if e.command.trim().is_empty() {
                    return Err(bad("`executable.command` is empty".into()));
                }
                Ok(SubjectSource::Executable {
                    command: e.command,
                    timeout,
                    output_file: e.output_file,
                })
            }
            _ => Err(bad(
                "exactly one of `file`, `url` and `executable` is expected".into(),
            )),
        }
    }
}

/// What an exchange needs to run an executable.
pub(super) struct ExecutableContext<'a> {
    pub audience: &'a str,
    pub token_type: &'a str,
    pub impersonated_email: Option<&'a str>,
    pub now: SystemTime,
}

/// Google's executable-response format.
#[derive(Deserialize)]
struct ExecutableResponse {
    version: Option<u32>,
    success: Option<bool>,
    token_type: Option<String>,
    id_token: Option<String>,
    saml_response: Option<String>,
    expiration_time: Option<u64>,
    code: Option<String>,
    message: Option<String>,
}

fn pick(format: &SubjectFormat, text: &str, from: &str) -> crate::Result<String> {
    let bad = |msg: String| Error::new(ErrorKind::Auth, format!("{from}: {msg}"));
    let token = match format {
        SubjectFormat::Text => text.trim().to_owned(),
        SubjectFormat::Json(field) => {
            let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                bad(format!(
                    "not JSON ({e}); the credentials file says `format.type` is `json`"
                ))
            })?;
            v.get(field)
                .and_then(|t| t.as_str())
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("no string member `{field}`")))?
        }
    };
    if token.is_empty() {
        return Err(bad("no subject token (empty)".into()));
    }
    Ok(token)
}

impl SubjectSource {
    /// The subject token, now.
    pub(super) async fn token(&self, ctx: &ExecutableContext<'_>) -> crate::Result<String> {
        match self {
            SubjectSource::File { path, format } => {
                let from = format!("the subject token file {}", path.display());
                let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                    Error::new(ErrorKind::Auth, format!("could not read {from}")).with_source(e)
                })?;
                pick(format, &text, &from)
            }
            SubjectSource::Url {
                url,
                headers,
                format,
            } => {
                let from = format!("the subject token URL {url}");
                let client = crate::transport::shared()?;
                let mut req = client.get(url.as_str()).timeout(URL_TIMEOUT);
                for (k, v) in headers {
                    let mut value = http::header::HeaderValue::from_str(v).map_err(|_| {
                        Error::new(
                            ErrorKind::Request,
                            format!("{from}: header {k} is not valid"),
                        )
                    })?;
                    value.set_sensitive(true);
                    req = req.header(k.as_str(), value);
                }
                let resp = req
                    .send()
                    .await
                    .map_err(|e| crate::transport::map_err(e, &from))?;
                let status = resp.status().as_u16();
                let body = resp
                    .text()
                    .await
                    .map_err(|e| crate::transport::map_err(e, &from))?;
                if !(200..300).contains(&status) {
                    let excerpt: String = body.chars().take(200).collect();
                    return Err(Error::new(
                        ErrorKind::Auth,
                        format!("{from} answered HTTP {status}: {excerpt}"),
                    ));
                }
                pick(format, &body, &from)
            }
            SubjectSource::Executable {
                command,
                timeout,
                output_file,
            } => run_executable(command, *timeout, output_file.as_deref(), ctx).await,
        }
    }
}

/// Starts the command, retrying briefly while its file is busy: Linux refuses to
/// run a file another process still has open for writing (a helper being
/// updated, or one just written while this process forked), and that clears
/// within milliseconds.
async fn spawn(cmd: &mut tokio::process::Command) -> std::io::Result<tokio::process::Child> {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 10 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            other => return other,
        }
    }
}

/// A token from an executable-response, or the reason it gives none.
/// `Ok(None)`: a valid response whose token expired.
fn read_response(text: &str, from: &str, now: SystemTime) -> crate::Result<Option<String>> {
    let bad = |msg: String| Error::new(ErrorKind::Auth, format!("{from}: {msg}"));
    let r: ExecutableResponse = serde_json::from_str(text.trim()).map_err(|e| {
        bad(format!(
            "the output is not an executable-response JSON object ({e})"
        ))
    })?;
    if r.version != Some(1) {
        return Err(bad(format!(
            "unsupported executable-response `version` {:?} (1 is read)",
            r.version
        )));
    }
    match r.success {
        Some(true) => {}
        Some(false) => {
            return Err(bad(format!(
                "the executable failed: {} ({})",
                r.message.as_deref().unwrap_or("no message"),
                r.code.as_deref().unwrap_or("no code"),
            )));
        }
        None => return Err(bad("no `success` member".into())),
    }
    if let Some(exp) = r.expiration_time {
        let exp = SystemTime::UNIX_EPOCH + Duration::from_secs(exp);
        if exp <= now {
            return Ok(None);
        }
    }
    let token = match r.token_type.as_deref() {
        Some(
            "urn:ietf:params:oauth:token-type:jwt" | "urn:ietf:params:oauth:token-type:id_token",
        ) => r.id_token,
        Some("urn:ietf:params:oauth:token-type:saml2") => r.saml_response,
        other => return Err(bad(format!("unsupported `token_type` {other:?}"))),
    };
    token
        .filter(|t| !t.is_empty())
        .map(Some)
        .ok_or_else(|| bad("the response holds no token".into()))
}

async fn run_executable(
    command: &str,
    timeout: Duration,
    output_file: Option<&std::path::Path>,
    ctx: &ExecutableContext<'_>,
) -> crate::Result<String> {
    let from = format!("the executable `{command}`");
    if std::env::var(ALLOW_EXECUTABLES_ENV).ok().as_deref() != Some("1") {
        return Err(Error::new(
            ErrorKind::Auth,
            format!(
                "{from} was not run: executable-sourced credentials need {ALLOW_EXECUTABLES_ENV}=1 in the environment"
            ),
        ));
    }
    // A cached, unexpired response in the output file is used as it is.
    if let Some(path) = output_file
        && let Ok(text) = tokio::fs::read_to_string(path).await
        && !text.trim().is_empty()
    {
        let cached = format!("{from}'s output file {}", path.display());
        if let Some(token) = read_response(&text, &cached, ctx.now)? {
            return Ok(token);
        }
    }
    let mut parts = command.split_whitespace();
    let program = parts.next().unwrap_or_default();
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(parts)
        .env("GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE", ctx.audience)
        .env("GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE", ctx.token_type)
        .env("GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE", "0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(email) = ctx.impersonated_email {
        cmd.env("GOOGLE_EXTERNAL_ACCOUNT_IMPERSONATED_EMAIL", email);
    }
    if let Some(path) = output_file {
        cmd.env("GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE", path);
    }
    let child = spawn(&mut cmd).await.map_err(|e| {
        Error::new(ErrorKind::Auth, format!("{from} could not be started")).with_source(e)
    })?;
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(out) => out.map_err(|e| {
            Error::new(ErrorKind::Auth, format!("{from} failed to run")).with_source(e)
        })?,
        Err(_) => {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("{from} did not finish within {timeout:?}"),
            ));
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let stderr: String = String::from_utf8_lossy(&out.stderr)
            .chars()
            .take(300)
            .collect();
        return Err(Error::new(
            ErrorKind::Auth,
            format!("{from} exited with {}: {}", out.status, stderr.trim()),
        ));
    }
    read_response(&stdout, &from, ctx.now)?.ok_or_else(|| {
        Error::new(
            ErrorKind::Auth,
            format!("{from} returned a token that has already expired"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(json: serde_json::Value) -> crate::Result<SubjectSource> {
        serde_json::from_value::<SourceFile>(json)
            .unwrap()
            .into_source("creds.json")
    }

    #[test]
    fn credential_sources_are_read_as_google_auth_does() {
        let s = source(serde_json::json!({"file": "/t", "format": {"type": "json", "subject_token_field_name": "id_token"}})).unwrap();
        assert_eq!(
            s,
            SubjectSource::File {
                path: "/t".into(),
                format: SubjectFormat::Json("id_token".into())
            }
        );
        let s = source(serde_json::json!({"url": "http://x/t", "headers": {"Metadata": "true"}}))
            .unwrap();
        assert!(
            matches!(s, SubjectSource::Url { ref headers, .. } if headers == &[("Metadata".to_owned(), "true".to_owned())])
        );
        let s = source(
            serde_json::json!({"executable": {"command": "/bin/tok --x", "timeout_millis": 5000}}),
        )
        .unwrap();
        assert!(
            matches!(s, SubjectSource::Executable { timeout, .. } if timeout == Duration::from_secs(5))
        );
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"file": "/a", "url": "http://b"}),
            serde_json::json!({"file": "/a", "format": {"type": "json"}}),
            serde_json::json!({"file": "/a", "format": {"type": "xml"}}),
            serde_json::json!({"executable": {"command": "x", "timeout_millis": 1}}),
            serde_json::json!({"environment_id": "aws1", "region_url": "http://r"}),
        ] {
            let e = source(bad.clone()).unwrap_err();
            assert!(e.to_string().contains("credential_source"), "{bad}: {e}");
        }
    }

    #[test]
    fn executable_responses() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let ok = r#"{"version":1,"success":true,"token_type":"urn:ietf:params:oauth:token-type:id_token","id_token":"eyJ.x.y","expiration_time":2000}"#;
        assert_eq!(
            read_response(ok, "x", now).unwrap().as_deref(),
            Some("eyJ.x.y")
        );
        let expired = ok.replace("2000", "999");
        assert_eq!(read_response(&expired, "x", now).unwrap(), None);
        let failed = r#"{"version":1,"success":false,"code":"401","message":"no session"}"#;
        let e = read_response(failed, "x", now).unwrap_err();
        assert!(e.to_string().contains("no session (401)"), "{e}");
        assert!(read_response(r#"{"version":2,"success":true}"#, "x", now).is_err());
        assert!(read_response("not json", "x", now).is_err());
    }
}
