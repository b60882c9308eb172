//! TLS and proxies as corporate networks need them, against servers on
//! 127.0.0.1 with certificates made for the test: a private root CA trusted
//! with `add_root_certificates_pem`, mutual TLS with `client_identity_pem`,
//! an HTTP proxy (absolute-form and `CONNECT`) with Basic credentials — and
//! no process-wide rustls provider installed by any of it.

mod http_support;

use std::sync::{Arc, Mutex};

use gapi::{Call, Client, HttpMethod, MethodInfo, Service};
use http_support::SVC;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

static GET: MethodInfo = MethodInfo {
    id: "things.get",
    http_method: HttpMethod::Get,
    path: "items",
    ..MethodInfo::DEFAULT
};

/// A private CA, a server certificate for 127.0.0.1/localhost and a client
/// certificate, all signed by it, as PEM.
struct Pki {
    ca: String,
    server_chain: String,
    server_key: String,
    client_chain: String,
    client_key: String,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (server_chain, server_key) = leaf(vec!["127.0.0.1".into(), "localhost".into()]);
    let (client_chain, client_key) = leaf(vec!["client.example".into()]);
    Pki {
        ca: ca.pem(),
        server_chain,
        server_key,
        client_chain,
        client_key,
    }
}

/// What the TLS server saw: whether each connection presented a client
/// certificate.
type Seen = Arc<Mutex<Vec<bool>>>;

/// An HTTPS server answering `{"ok":true}`; with `client_ca`, it requires
/// a client certificate signed by that CA.
async fn tls_server(pki: &Pki, client_ca: bool) -> (u16, Seen) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if client_ca {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(pki.ca.as_bytes()).unwrap())
            .unwrap();
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let chain: Vec<_> = CertificateDer::pem_slice_iter(pki.server_chain.as_bytes())
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_slice(pki.server_key.as_bytes()).unwrap();
    let config = builder.with_single_cert(chain, key).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let s = s.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                s.lock()
                    .unwrap()
                    .push(tls.get_ref().1.peer_certificates().is_some());
                let mut buf = vec![0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, seen)
}

async fn get(client: Client, base: &str) -> gapi::Result<serde_json::Value> {
    let svc = Service::new(client, &SVC).with_root_url(base.to_owned());
    let mut call = Call::new(&svc, &GET);
    call.set_retry_policy(gapi::RetryPolicy::none());
    call.send().await
}

#[tokio::test]
async fn a_private_root_is_trusted_only_when_added_and_nothing_is_installed_globally() {
    let pki = pki();
    let (port, _) = tls_server(&pki, false).await;
    let base = format!("https://127.0.0.1:{port}/");
    let e = get(Client::builder().no_proxy().build().unwrap(), &base)
        .await
        .unwrap_err();
    assert!(e.is_transport(), "an unknown CA is refused: {e}");
    let client = Client::builder()
        .no_proxy()
        .add_root_certificates_pem(&pki.ca)
        .build()
        .unwrap();
    let v = get(client, &base).await.unwrap();
    assert_eq!(v["ok"], true);
    // Building clients and making HTTPS calls installed no process-wide
    // crypto provider (the program's choice stays its own).
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
}

#[tokio::test]
async fn a_client_identity_is_presented_for_mutual_tls() {
    let pki = pki();
    let (port, seen) = tls_server(&pki, true).await;
    let base = format!("https://localhost:{port}/");
    let without = Client::builder()
        .no_proxy()
        .add_root_certificates_pem(&pki.ca)
        .build()
        .unwrap();
    assert!(
        get(without, &base).await.is_err(),
        "the server requires one"
    );
    let with = Client::builder()
        .no_proxy()
        .add_root_certificates_pem(&pki.ca)
        .client_identity_pem(&pki.client_chain, &pki.client_key)
        .build()
        .unwrap();
    assert_eq!(get(with, &base).await.unwrap()["ok"], true);
    assert!(seen.lock().unwrap().contains(&true));
}

#[test]
fn bad_pem_fails_the_build_without_showing_the_key() {
    let e = Client::builder()
        .add_root_certificates_pem("not a certificate")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("root certificate"), "{e}");
    let pki = pki();
    let secret_key =
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n";
    let e = Client::builder()
        .client_identity_pem(&pki.client_chain, secret_key)
        .build()
        .unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("c2VjcmV0"), "{shown}");
    // A builder's Debug shows neither the key nor a proxy password.
    let b = Client::builder()
        .client_identity_pem(&pki.client_chain, &pki.client_key)
        .proxy("http://alice:hunter2-proxy@proxy.example:3128")
        .proxy_credentials("bob", "s3cret-proxy-password");
    let shown = format!("{b:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("s3cret-proxy"),
        "{shown}"
    );
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    // Nor one in a proxy address written without a scheme.
    let b = Client::builder().proxy("alice:hunter2-bare@proxy.example:3128");
    let shown = format!("{b:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("redacted@proxy.example:3128"), "{shown}");
}

/// What the proxy saw: the request line and the `Proxy-Authorization`.
type ProxySeen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// An HTTP proxy: absolute-form requests are forwarded to their origin,
/// `CONNECT` opens a tunnel.
async fn proxy() -> (String, ProxySeen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: ProxySeen = Arc::default();
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut down, _)) = listener.accept().await else {
                return;
            };
            let s = s.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if down.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let line = head.lines().next().unwrap_or("").to_owned();
                let auth = head
                    .lines()
                    // Header names are case-insensitive.
                    .find(|l| l.to_ascii_lowercase().starts_with("proxy-authorization: "))
                    .map(|l| l["proxy-authorization: ".len()..].to_owned());
                s.lock().unwrap().push((line.clone(), auth));
                let mut parts = line.split_whitespace();
                let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                if method == "CONNECT" {
                    let Ok(mut up) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = down
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await;
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                } else {
                    // Absolute form: http://host:port/path
                    let rest = target.strip_prefix("http://").unwrap_or(target);
                    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                    let Ok(mut up) = TcpStream::connect(host).await else {
                        return;
                    };
                    let fixed = head.replacen(target, path, 1);
                    let _ = up.write_all(fixed.as_bytes()).await;
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                }
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn requests_go_through_a_proxy_with_basic_credentials() {
    let (proxy_url, seen) = proxy().await;
    // http: absolute-form through the proxy
    let (base, _) = http_support::scripted_server(r#"{"via":"proxy"}"#).await;
    let client = Client::builder()
        .proxy(&proxy_url)
        .proxy_credentials("alice", "proxy-pass")
        .build()
        .unwrap();
    assert_eq!(get(client, &base).await.unwrap()["via"], "proxy");
    // https: a CONNECT tunnel, the TLS end to end
    let pki = pki();
    let (port, _) = tls_server(&pki, false).await;
    let with_url_credentials = proxy_url.replace("http://", "http://bob:url-pass@");
    let client = Client::builder()
        .proxy(with_url_credentials)
        .add_root_certificates_pem(&pki.ca)
        .build()
        .unwrap();
    let v = get(client, &format!("https://127.0.0.1:{port}/"))
        .await
        .unwrap();
    assert_eq!(v["ok"], true);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0].0.starts_with("GET http://127.0.0.1:"), "{seen:?}");
    use base64::Engine as _;
    let basic = |u: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(u)
        )
    };
    assert_eq!(
        seen[0].1.as_deref(),
        Some(basic("alice:proxy-pass").as_str())
    );
    assert_eq!(seen[1].0, format!("CONNECT 127.0.0.1:{port} HTTP/1.1"));
    assert_eq!(seen[1].1.as_deref(), Some(basic("bob:url-pass").as_str()));
}

#[tokio::test]
async fn http2_is_negotiated_over_tls() {
    use hyper::service::service_fn;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let pki = pki();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<_> = CertificateDer::pem_slice_iter(pki.server_chain.as_bytes())
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_slice(pki.server_key.as_bytes()).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let versions: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = versions.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    seen.lock().unwrap().push(format!("{:?}", req.version()));
                    async {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(bytes::Bytes::from_static(b"{\"ok\":true}")),
                        ))
                    }
                });
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    let client = Client::builder()
        .add_root_certificates_pem(&pki.ca)
        .build()
        .unwrap();
    let base = format!("https://127.0.0.1:{port}/");
    for _ in 0..3 {
        let v = get(client.clone(), &base).await.unwrap();
        assert_eq!(v["ok"], true);
    }
    assert_eq!(*versions.lock().unwrap(), vec!["HTTP/2.0"; 3]);
}
