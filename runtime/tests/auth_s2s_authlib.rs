//! Interop with token endpoints and verifiers nobody here wrote:
//!
//! - peers/authlib/server.py, an RFC 7523 JWT-bearer token endpoint on
//!   PyPI's Authlib (`JWTBearerGrant` checks signature, issuer, audience,
//!   expiry; the peer adds scope and lifetime checks, as Google does), with a
//!   freshly generated key pair: a valid assertion gets a token; a wrong
//!   key, an expired clock, a wrong audience, an unknown subject and a scope
//!   it does not allow are refused and surface as typed errors.
//! - google-auth's `google.auth.jwt.decode` verifies our assertions and
//!   self-signed JWTs against an X.509 certificate of the key.
//!
//! Both need `GAPI_AUTHLIB_PYTHON`: the python of a venv with
//! peers/authlib/requirements.txt installed (.ci/peers.sh makes one). Without
//! it the tests say they are skipped.

mod auth_s2s_support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_s2s_support::{Fake, OTHER_KEY, sa_json};
use gapi::auth::{ServiceAccountCredentials, ServiceAccountKey};
use gapi::clock::ManualClock;

const ISSUER: &str = "sa-test@gapi-test.iam.gserviceaccount.com";
const SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/devstorage.read_only",
];

fn python() -> Option<PathBuf> {
    match std::env::var_os("GAPI_AUTHLIB_PYTHON") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            eprintln!(
                "skipped: GAPI_AUTHLIB_PYTHON is not set (the python of a venv with peers/authlib/requirements.txt; .ci/peers.sh makes one)"
            );
            None
        }
    }
}

fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../peers/authlib")
}

/// A fresh key pair and certificate from the venv's `cryptography`.
struct Keys {
    _dir: tempfile::TempDir,
    private_pem: String,
    public_path: PathBuf,
    cert_pem: String,
}

fn keygen(py: &Path) -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let st = Command::new(py)
        .arg(peer_dir().join("keygen.py"))
        .arg(dir.path())
        .status()
        .expect("run keygen.py");
    assert!(st.success(), "keygen.py failed");
    Keys {
        private_pem: std::fs::read_to_string(dir.path().join("key.pem")).unwrap(),
        public_path: dir.path().join("key.pub.pem"),
        cert_pem: std::fs::read_to_string(dir.path().join("cert.pem")).unwrap(),
        _dir: dir,
    }
}

/// The Authlib peer, killed on drop.
struct Peer {
    child: Child,
    port: u16,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    fn start(py: &Path, keys: &Keys) -> Peer {
        let mut child = Command::new(py)
            .arg(peer_dir().join("server.py"))
            .arg("--public-key")
            .arg(&keys.public_path)
            .args(["--issuer", ISSUER, "--scopes", &SCOPES.join(" ")])
            .args(["--subject", "user@example.com"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start peers/authlib/server.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the peer printed {line:?} instead of its port"));
        Peer { child, port }
    }

    fn token_uri(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }
}

fn key(token_uri: &str, pem: &str) -> ServiceAccountKey {
    ServiceAccountKey::from_json(&sa_json(token_uri, pem), "interop key").unwrap()
}

fn assert_refused(e: &gapi::Error, needle: &str) {
    eprintln!("refused as expected: {e}");
    assert!(e.is_auth(), "{e}");
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("invalid_grant"),
        "{e}"
    );
    assert!(e.to_string().contains(needle), "{needle:?} not in {e}");
}

#[tokio::test]
async fn authlib_jwt_bearer_endpoint_accepts_ours_and_refuses_bad_assertions() {
    let Some(py) = python() else { return };
    let keys = keygen(&py);
    let peer = Peer::start(&py, &keys);
    let uri = peer.token_uri();

    // A valid assertion gets a token; the cache keeps it.
    let creds = ServiceAccountCredentials::builder(key(&uri, &keys.private_pem))
        .with_scopes(SCOPES.iter().copied())
        .build();
    let t = creds.access_token().await.unwrap();
    assert!(t.secret().len() >= 20, "a real token");
    assert_eq!(creds.access_token().await.unwrap(), t);
    let t2 = creds.force_refresh().await.unwrap();
    assert_ne!(t2, t);

    // Domain-wide delegation to a user the peer knows, and one it does not.
    let dwd = ServiceAccountCredentials::builder(key(&uri, &keys.private_pem))
        .with_scopes([SCOPES[1]])
        .with_subject("user@example.com")
        .build();
    dwd.access_token().await.unwrap();
    let e = ServiceAccountCredentials::builder(key(&uri, &keys.private_pem))
        .with_subject("stranger@example.com")
        .build()
        .access_token()
        .await
        .unwrap_err();
    assert_refused(&e, "Invalid 'sub' value");

    // A key the endpoint does not know: the signature does not verify
    // (Authlib says `invalid_grant` without a description).
    let e = ServiceAccountCredentials::builder(key(&uri, OTHER_KEY))
        .build()
        .access_token()
        .await
        .unwrap_err();
    assert_refused(&e, "deleted or disabled");

    // A clock two hours behind: the assertion expired an hour ago.
    let behind = ManualClock::new(SystemTime::now() - Duration::from_secs(2 * 3600));
    let e = ServiceAccountCredentials::builder(key(&uri, &keys.private_pem))
        .with_clock(Arc::new(behind))
        .build()
        .access_token()
        .await
        .unwrap_err();
    assert_refused(&e, "The token is expired");

    // Another audience: the same endpoint under another name.
    let other_name = format!("http://localhost:{}/token", peer.port);
    let e = ServiceAccountCredentials::builder(key(&other_name, &keys.private_pem))
        .build()
        .access_token()
        .await
        .unwrap_err();
    assert_refused(&e, "Invalid claim 'aud'");

    // A scope the account may not have.
    let e = ServiceAccountCredentials::builder(key(&uri, &keys.private_pem))
        .with_scopes(["https://www.googleapis.com/auth/gmail.readonly"])
        .build()
        .access_token()
        .await
        .unwrap_err();
    assert_refused(&e, "Invalid claim 'scope'");
}

/// Runs google-auth's `jwt.decode` on each request; returns its answers.
fn google_auth_decode(py: &Path, requests: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let mut child = Command::new(py)
        .arg(peer_dir().join("verify_google_auth.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start verify_google_auth.py");
    {
        let mut stdin = child.stdin.take().unwrap();
        for r in requests {
            writeln!(stdin, "{r}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn google_auth_verifies_our_assertions_and_self_signed_jwts() {
    let Some(py) = python() else { return };
    let keys = keygen(&py);
    let fake = Fake::start().await;

    // The assertion sent to a token endpoint (captured by the fake).
    let creds = ServiceAccountCredentials::builder(key(&fake.token_uri(), &keys.private_pem))
        .with_scopes(SCOPES.iter().copied())
        .with_subject("user@example.com")
        .build();
    creds.access_token().await.unwrap();
    let assertion = fake.token_forms()[0]["assertion"].clone();

    // A self-signed JWT with an audience.
    let jwt = ServiceAccountCredentials::builder(key(&fake.token_uri(), &keys.private_pem))
        .with_audience("https://storage.googleapis.com/")
        .build()
        .access_token()
        .await
        .unwrap();

    // Signed by another key: google-auth must refuse it.
    let forged = ServiceAccountCredentials::builder(key(&fake.token_uri(), OTHER_KEY))
        .with_audience("https://storage.googleapis.com/")
        .build()
        .access_token()
        .await
        .unwrap();

    let answers = google_auth_decode(
        &py,
        &[
            serde_json::json!({"token": assertion, "cert": keys.cert_pem, "audience": fake.token_uri()}),
            serde_json::json!({"token": jwt.secret(), "cert": keys.cert_pem, "audience": "https://storage.googleapis.com/"}),
            serde_json::json!({"token": forged.secret(), "cert": keys.cert_pem, "audience": "https://storage.googleapis.com/"}),
            serde_json::json!({"token": jwt.secret(), "cert": keys.cert_pem, "audience": "https://other.googleapis.com/"}),
        ],
    );
    assert_eq!(answers.len(), 4);
    let a = &answers[0];
    assert_eq!(a["ok"], true, "{a}");
    assert_eq!(a["header"]["alg"], "RS256");
    assert_eq!(a["header"]["kid"], auth_s2s_support::SA_KEY_ID);
    assert_eq!(a["claims"]["iss"], ISSUER);
    assert_eq!(a["claims"]["sub"], "user@example.com");
    assert_eq!(a["claims"]["scope"], SCOPES.join(" "));
    let life = a["claims"]["exp"].as_u64().unwrap() - a["claims"]["iat"].as_u64().unwrap();
    assert_eq!(life, 3600);
    let b = &answers[1];
    assert_eq!(b["ok"], true, "{b}");
    assert_eq!(b["claims"]["iss"], ISSUER);
    assert_eq!(b["claims"]["sub"], ISSUER);
    assert_eq!(b["claims"]["aud"], "https://storage.googleapis.com/");
    assert_eq!(answers[2]["ok"], false, "{}", answers[2]);
    assert!(
        answers[2]["error"].as_str().unwrap().contains("signature"),
        "{}",
        answers[2]
    );
    assert_eq!(answers[3]["ok"], false, "{}", answers[3]);
    assert!(
        answers[3]["error"].as_str().unwrap().contains("audience"),
        "{}",
        answers[3]
    );
}
