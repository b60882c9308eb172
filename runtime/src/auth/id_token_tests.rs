//! Tests of [`IdTokenVerifier`] and [`JwksCache`] against a key set served
//! on 127.0.0.1, with tokens signed here by ring (RS256 with the runtime's
//! test key, ES256 with keys made on the spot) and time on a manual clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use ring::signature::{self as sig, KeyPair as _};
use serde_json::{Value, json};

use super::*;
use crate::auth::jwks::{DEFAULT_JWKS_REFETCH_INTERVAL, JwksCache};
use crate::clock::ManualClock;

const TEST_KEY: &str = include_str!("../../tests/auth_s2s_support/test-key.pem");
const ISS: &str = "https://issuer.test";
const AUD: &str = "client-1.apps.example";
/// 2023-11-14T22:13:20Z.
const T0: u64 = 1_700_000_000;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn rng() -> ring::rand::SystemRandom {
    ring::rand::SystemRandom::new()
}

enum Signer {
    Rsa(sig::RsaKeyPair),
    Ec(sig::EcdsaKeyPair),
}

impl Signer {
    fn rsa() -> Signer {
        let body: String = TEST_KEY
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        Signer::Rsa(sig::RsaKeyPair::from_pkcs8(&der).unwrap())
    }

    fn ec() -> Signer {
        let alg = &sig::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = sig::EcdsaKeyPair::generate_pkcs8(alg, &rng()).unwrap();
        Signer::Ec(sig::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng()).unwrap())
    }

    fn alg(&self) -> &'static str {
        match self {
            Signer::Rsa(_) => "RS256",
            Signer::Ec(_) => "ES256",
        }
    }

    fn jwk(&self, kid: &str) -> Value {
        match self {
            Signer::Rsa(k) => {
                let c: sig::RsaPublicKeyComponents<Vec<u8>> = k.public().into();
                json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                       "n": b64(&c.n), "e": b64(&c.e)})
            }
            Signer::Ec(k) => {
                let p = k.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "kid": kid,
                       "x": b64(&p[1..33]), "y": b64(&p[33..65])})
            }
        }
    }

    /// A token with this header (`alg` and `kid` added unless present).
    fn sign_with_header(&self, mut header: Value, claims: &Value) -> String {
        if header.get("alg").is_none() {
            header["alg"] = json!(self.alg());
        }
        let signed = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = match self {
            Signer::Rsa(k) => {
                let mut out = vec![0; k.public().modulus_len()];
                k.sign(&sig::RSA_PKCS1_SHA256, &rng(), signed.as_bytes(), &mut out)
                    .unwrap();
                out
            }
            Signer::Ec(k) => k.sign(&rng(), signed.as_bytes()).unwrap().as_ref().to_vec(),
        };
        format!("{signed}.{}", b64(&signature))
    }

    fn sign(&self, kid: &str, claims: &Value) -> String {
        self.sign_with_header(json!({"kid": kid, "typ": "JWT"}), claims)
    }
}

fn claims() -> Value {
    json!({"iss": ISS, "sub": "1234567890", "aud": AUD, "iat": T0, "exp": T0 + 3600,
           "nonce": "n-1", "email": "alice@example.com", "email_verified": "true",
           "hd": "example.com", "azp": "other-client"})
}

fn with(mut base: Value, patch: Value) -> Value {
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

/// A key set served on 127.0.0.1: its document, `Cache-Control` and an
/// answer status can be changed; GETs are counted.
struct Issuer {
    uri: String,
    keys: Arc<Mutex<Value>>,
    cache_control: Arc<Mutex<String>>,
    status: Arc<Mutex<u16>>,
    gets: Arc<AtomicU64>,
}

async fn issuer(keys: Vec<Value>) -> Issuer {
    use axum::http::{HeaderMap, StatusCode};
    let keys = Arc::new(Mutex::new(json!({ "keys": keys })));
    let cache_control = Arc::new(Mutex::new("public, max-age=120".to_owned()));
    let status = Arc::new(Mutex::new(200));
    let gets = Arc::new(AtomicU64::new(0));
    let (k, c, s, g) = (
        keys.clone(),
        cache_control.clone(),
        status.clone(),
        gets.clone(),
    );
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let (k, c, s, g) = (k.clone(), c.clone(), s.clone(), g.clone());
            async move {
                g.fetch_add(1, Ordering::SeqCst);
                let mut h = HeaderMap::new();
                h.insert("cache-control", c.lock().unwrap().parse().unwrap());
                let code = StatusCode::from_u16(*s.lock().unwrap()).unwrap();
                (code, h, k.lock().unwrap().to_string())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Issuer {
        uri,
        keys,
        cache_control,
        status,
        gets,
    }
}

impl Issuer {
    fn set_keys(&self, keys: Vec<Value>) {
        *self.keys.lock().unwrap() = json!({ "keys": keys });
    }
    fn gets(&self) -> u64 {
        self.gets.load(Ordering::SeqCst)
    }
}

fn clock() -> ManualClock {
    ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + 10))
}

fn verifier(issuer: &Issuer, clock: &ManualClock) -> IdTokenVerifier {
    let shared: SharedClock = Arc::new(clock.clone());
    let jwks = JwksCache::builder(&issuer.uri)
        .clock(shared.clone())
        .build();
    IdTokenVerifier::new(ISS, jwks, [AUD]).with_clock(shared)
}

fn rejection(r: crate::Result<IdTokenClaims>) -> IdTokenRejection {
    let e = r.expect_err("the token must be refused");
    assert!(e.is_auth(), "{e}");
    IdTokenRejection::of(&e).unwrap_or_else(|| panic!("no rejection code: {e}"))
}

#[tokio::test]
async fn good_rs256_and_es256_tokens_verify_with_their_claims() {
    let (rsa, ec) = (Signer::rsa(), Signer::ec());
    let iss = issuer(vec![rsa.jwk("r1"), ec.jwk("e1")]).await;
    let v = verifier(&iss, &clock());
    let c = v
        .verify(&rsa.sign("r1", &claims()), Some("n-1"))
        .await
        .unwrap();
    assert_eq!(c.subject(), "1234567890");
    assert_eq!(c.issuer(), ISS);
    assert_eq!(c.audiences(), [AUD]);
    assert_eq!(c.email(), Some("alice@example.com"));
    assert!(c.email_verified(), "the string \"true\" counts");
    assert_eq!(c.hosted_domain(), Some("example.com"));
    assert_eq!(c.authorized_party(), Some("other-client"));
    assert_eq!(c.nonce(), Some("n-1"));
    assert_eq!(
        c.expires_at(),
        SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + 3600)
    );
    let ec_claims = with(
        claims(),
        json!({"aud": ["x", AUD], "email_verified": false}),
    );
    let c = v.verify(&ec.sign("e1", &ec_claims), None).await.unwrap();
    assert!(!c.email_verified());
    assert_eq!(c.audiences(), ["x", AUD]);
    assert_eq!(iss.gets(), 1, "one fetch for both");
    // Without a kid, every key of the right type is tried.
    let no_kid = rsa.sign_with_header(json!({}), &claims());
    v.verify(&no_kid, None).await.unwrap();
    // Another accepted audience and issuer.
    let v2 = v.clone().with_audience("client-2").with_issuer("issuer-2");
    let other = with(claims(), json!({"aud": "client-2", "iss": "issuer-2"}));
    v2.verify(&rsa.sign("r1", &other), None).await.unwrap();
    let hd = v.clone().require_hosted_domain(["example.com"]);
    hd.verify(&rsa.sign("r1", &claims()), None).await.unwrap();
}

#[tokio::test]
async fn forged_tokens_are_refused_each_with_its_reason() {
    let (rsa, ec, attacker) = (Signer::rsa(), Signer::ec(), Signer::ec());
    let iss = issuer(vec![rsa.jwk("r1"), ec.jwk("e1")]).await;
    let clock = clock();
    let v = verifier(&iss, &clock);
    let good = rsa.sign("r1", &claims());
    let check = |token: String, nonce: Option<&'static str>| {
        let v = v.clone();
        async move { rejection(v.verify(&token, nonce).await) }
    };
    use IdTokenRejection as R;

    // alg: none, with or without a signature; HS256 with the public key.
    let parts: Vec<&str> = good.split('.').collect();
    let none_header = b64(br#"{"alg":"none","kid":"r1"}"#);
    assert_eq!(
        check(format!("{none_header}.{}.", parts[1]), None).await,
        R::Algorithm
    );
    assert_eq!(
        check(format!("{none_header}.{}.{}", parts[1], parts[2]), None).await,
        R::Algorithm
    );
    let hs = rsa.sign_with_header(json!({"alg": "HS256", "kid": "r1"}), &claims());
    assert_eq!(check(hs, None).await, R::Algorithm);
    // An ES256 header on the RSA key's kid: the key type decides.
    let mixed = ec.sign_with_header(json!({"alg": "ES256", "kid": "r1"}), &claims());
    assert_eq!(check(mixed, None).await, R::Algorithm);
    let crit = rsa.sign_with_header(json!({"kid": "r1", "crit": ["exp"]}), &claims());
    assert_eq!(check(crit, None).await, R::Algorithm);

    // Signed by another key under a known kid; altered claims.
    assert_eq!(
        check(attacker.sign("e1", &claims()), None).await,
        R::Signature
    );
    let altered = with(claims(), json!({"sub": "someone-else"}));
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(altered.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(check(forged, None).await, R::Signature);
    assert_eq!(
        check(format!("{}.{}.AAAA", parts[0], parts[1]), None).await,
        R::Signature
    );
    assert_eq!(
        check(attacker.sign("made-up", &claims()), None).await,
        R::UnknownKey
    );

    // Good signatures, wrong claims.
    let signed = |patch: Value| rsa.sign("r1", &with(claims(), patch));
    assert_eq!(
        check(signed(json!({"iss": "https://evil.test"})), None).await,
        R::Issuer
    );
    assert_eq!(
        check(signed(json!({"aud": "another-client"})), None).await,
        R::Audience
    );
    assert_eq!(
        check(signed(json!({"aud": ["a", "b"]})), None).await,
        R::Audience
    );
    assert_eq!(check(good.clone(), Some("n-2")).await, R::Nonce);
    assert_eq!(
        check(signed(json!({"nonce": null})), Some("n-1")).await,
        R::Nonce
    );
    assert_eq!(
        check(signed(json!({"iat": T0 + 3600})), None).await,
        R::NotYetValid
    );
    assert_eq!(
        check(signed(json!({"nbf": T0 + 3600})), None).await,
        R::NotYetValid
    );
    let hd = v.clone().require_hosted_domain(["corp.example"]);
    assert_eq!(rejection(hd.verify(&good, None).await), R::HostedDomain);
    assert_eq!(
        rejection(hd.verify(&signed(json!({"hd": null})), None).await),
        R::HostedDomain
    );

    // Malformed.
    for bad in [
        String::new(),
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        "!!.e30.AA".to_owned(),
        format!("{}.e30.AA", b64(b"[1]")),
        format!("{}.{}.AA", b64(b"{}"), parts[1]),
        "x".repeat(20_000),
    ] {
        assert_eq!(check(bad, None).await, R::Malformed);
    }
    for missing in ["iss", "sub", "aud", "exp", "iat"] {
        let t = rsa.sign("r1", &with(claims(), json!({ missing: null })));
        assert_eq!(check(t, None).await, R::Malformed, "{missing}");
    }

    // Expiry, with the leeway, on the manual clock.
    clock.advance(Duration::from_secs(3600 - 10 + 59));
    v.verify(&good, None).await.expect("within the leeway");
    clock.advance(Duration::from_secs(2));
    assert_eq!(check(good.clone(), None).await, R::Expired);
    let strict = v.clone().with_leeway(Duration::ZERO);
    assert_eq!(rejection(strict.verify(&good, None).await), R::Expired);

    // No error says the token.
    let e = v.verify(&good, Some("n-1")).await.unwrap_err();
    for shown in [e.to_string(), format!("{e:?}")] {
        assert!(
            !shown.contains(parts[1]) && !shown.contains(parts[2]),
            "{shown}"
        );
    }
    for r in IdTokenRejection::ALL {
        assert_eq!(IdTokenRejection::of(&r.error("x")), Some(r));
        assert!(r.code().starts_with("id_token_"));
    }
}

#[tokio::test]
async fn the_key_set_is_cached_as_cache_control_says() {
    let rsa = Signer::rsa();
    let iss = issuer(vec![rsa.jwk("r1")]).await;
    let clock = clock();
    let v = verifier(&iss, &clock);
    let token = rsa.sign("r1", &claims());
    v.verify(&token, None).await.unwrap();
    v.verify(&token, None).await.unwrap();
    assert_eq!(iss.gets(), 1);
    clock.advance(Duration::from_secs(100));
    v.verify(&token, None).await.unwrap();
    assert_eq!(iss.gets(), 1, "max-age=120 not reached");
    clock.advance(Duration::from_secs(21));
    v.verify(&token, None).await.unwrap();
    assert_eq!(iss.gets(), 2, "expired: fetched again");
    // no-store: fetched again whenever used, but at most once per interval.
    *iss.cache_control.lock().unwrap() = "no-store".into();
    clock.advance(Duration::from_secs(121));
    v.verify(&token, None).await.unwrap();
    assert_eq!(iss.gets(), 3);
    for _ in 0..5 {
        v.verify(&token, None).await.unwrap();
    }
    assert_eq!(iss.gets(), 3, "the refetch interval bounds no-store");
    clock.advance(DEFAULT_JWKS_REFETCH_INTERVAL);
    v.verify(&token, None).await.unwrap();
    assert_eq!(iss.gets(), 4);
}

#[tokio::test]
async fn a_rotation_is_picked_up_and_made_up_kids_cannot_make_it_fetch_per_token() {
    let (old, new, attacker) = (Signer::rsa(), Signer::ec(), Signer::ec());
    let iss = issuer(vec![old.jwk("k1")]).await;
    *iss.cache_control.lock().unwrap() = "public, max-age=3600".into();
    let clock = clock();
    let v = verifier(&iss, &clock);
    v.verify(&old.sign("k1", &claims()), None).await.unwrap();
    assert_eq!(iss.gets(), 1);

    // The issuer rotates: a new key k2 signs from now on.
    iss.set_keys(vec![new.jwk("k2"), old.jwk("k1")]);
    let rotated = new.sign("k2", &claims());
    // Within the refetch interval of the first fetch, the unknown kid is not
    // fetched for…
    assert_eq!(
        rejection(v.verify(&rotated, None).await),
        IdTokenRejection::UnknownKey
    );
    assert_eq!(iss.gets(), 1);
    // …after it, the unknown kid makes it fetch once, and k2 verifies.
    clock.advance(DEFAULT_JWKS_REFETCH_INTERVAL);
    v.verify(&rotated, None).await.unwrap();
    assert_eq!(iss.gets(), 2);
    assert_eq!(v.jwks().key_ids(), ["k2", "k1"]);

    // A flood of made-up kids: at most one fetch per interval.
    for i in 0..200 {
        let t = attacker.sign(&format!("forged-{i}"), &claims());
        assert_eq!(
            rejection(v.verify(&t, None).await),
            IdTokenRejection::UnknownKey
        );
    }
    assert_eq!(iss.gets(), 2, "no fetch within the interval");
    clock.advance(DEFAULT_JWKS_REFETCH_INTERVAL);
    for i in 0..200 {
        let t = attacker.sign(&format!("forged-again-{i}"), &claims());
        let _ = v.verify(&t, None).await;
    }
    assert_eq!(iss.gets(), 3, "one fetch for 200 made-up kids");
    // Old key retired: refused once the set without it is fetched.
    iss.set_keys(vec![new.jwk("k2")]);
    clock.advance(Duration::from_secs(3601));
    assert_eq!(
        rejection(v.verify(&old.sign("k1", &claims()), None).await),
        IdTokenRejection::UnknownKey
    );
    assert_eq!(iss.gets(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_uses_share_one_fetch() {
    let rsa = Signer::rsa();
    let iss = issuer(vec![rsa.jwk("r1")]).await;
    let v = verifier(&iss, &clock());
    let token = rsa.sign("r1", &claims());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (v, t) = (v.clone(), token.clone());
            tokio::spawn(async move { v.verify(&t, None).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(iss.gets(), 1);
    assert_eq!(v.jwks().fetch_count(), 1);
}

#[tokio::test]
async fn an_unavailable_key_set_is_typed_and_stale_keys_keep_verifying() {
    let rsa = Signer::rsa();
    let iss = issuer(vec![rsa.jwk("r1")]).await;
    let clock = clock();
    let v = verifier(&iss, &clock);
    let token = rsa.sign("r1", &claims());
    *iss.status.lock().unwrap() = 503;
    let e = v.verify(&token, None).await.unwrap_err();
    assert_eq!(
        IdTokenRejection::of(&e),
        Some(IdTokenRejection::KeysUnavailable),
        "{e}"
    );
    // Within a second, the same answer without another fetch.
    let _ = v.verify(&token, None).await;
    assert_eq!(iss.gets(), 1);
    clock.advance(Duration::from_secs(1));
    *iss.status.lock().unwrap() = 200;
    v.verify(&token, None).await.unwrap();
    assert_eq!(iss.gets(), 2);
    // Expired and failing: the cached keys still verify.
    *iss.status.lock().unwrap() = 500;
    clock.advance(Duration::from_secs(500));
    v.verify(&token, None).await.unwrap();
    assert_eq!(iss.gets(), 3);
    // Not a key set at all.
    *iss.status.lock().unwrap() = 200;
    *iss.keys.lock().unwrap() = json!("nope");
    let fresh = verifier(&iss, &clock);
    let e = fresh.verify(&token, None).await.unwrap_err();
    assert_eq!(
        IdTokenRejection::of(&e),
        Some(IdTokenRejection::KeysUnavailable)
    );
    // Nobody listening: the transport's error, transient.
    let gone = IdTokenVerifier::new(ISS, JwksCache::new("http://127.0.0.1:9/jwks"), [AUD]);
    let e = gone.verify(&token, None).await.unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert_eq!(IdTokenRejection::of(&e), None);
}

#[tokio::test(start_paused = true)]
async fn a_key_set_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/jwks", listener.local_addr().unwrap());
    // Accepts and never answers.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let jwks = JwksCache::builder(uri)
        .timeout(Duration::from_secs(3))
        .build();
    let v = IdTokenVerifier::new(ISS, jwks, [AUD]);
    let started = tokio::time::Instant::now();
    let e = v
        .verify(&Signer::rsa().sign("r1", &claims()), None)
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(started.elapsed() <= Duration::from_secs(4));
}
