//! Shared by the web tests: a scripted browser that keeps cookies per
//! host:port and follows redirects one by one (so each hop can be checked).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Mutex;

/// One response, as the browser saw it.
#[derive(Debug, Clone)]
pub struct Hop {
    pub url: String,
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

/// A scripted browser: cookies per host:port, one request at a time.
pub struct Browser {
    http: reqwest::Client,
    jar: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    /// Cookies per host, as real browsers keep them (ports share them).
    by_host: bool,
}

impl Browser {
    pub fn new() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: Mutex::new(BTreeMap::new()),
            by_host: false,
        }
    }

    /// A browser whose cookies are per host, whatever the port (as real
    /// browsers do): two server processes on one host see the same cookies.
    pub fn by_host() -> Self {
        Browser {
            by_host: true,
            ..Browser::new()
        }
    }

    pub fn signed_in(user: &str) -> Self {
        let b = Browser::new();
        b.set_cookie_for_all("user", user);
        b.set_cookie_for_all("sid", &format!("session-of-{user}"));
        b
    }

    /// Cookies set by the "login" of the test app, for any host.
    pub fn set_cookie_for_all(&self, name: &str, value: &str) {
        self.jar
            .lock()
            .unwrap()
            .entry("*".into())
            .or_default()
            .insert(name.into(), value.into());
    }

    pub fn forget_cookie(&self, host: &str, name: &str) {
        if let Some(m) = self.jar.lock().unwrap().get_mut(host) {
            m.remove(name);
        }
    }

    pub fn host_of(url: &str) -> String {
        let u = url::Url::parse(url).unwrap();
        format!(
            "{}:{}",
            u.host_str().unwrap(),
            u.port_or_known_default().unwrap()
        )
    }

    pub async fn get(&self, url: &str) -> Hop {
        let host = if self.by_host {
            url::Url::parse(url).unwrap().host_str().unwrap().to_owned()
        } else {
            Self::host_of(url)
        };
        let cookie = {
            let jar = self.jar.lock().unwrap();
            let mut all: BTreeMap<String, String> = jar.get("*").cloned().unwrap_or_default();
            all.extend(jar.get(&host).cloned().unwrap_or_default());
            all.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let mut req = self.http.get(url);
        if !cookie.is_empty() {
            req = req.header("cookie", cookie);
        }
        let resp = req.send().await.unwrap();
        for sc in resp.headers().get_all("set-cookie") {
            let sc = sc.to_str().unwrap();
            let (pair, _) = sc.split_once(';').unwrap_or((sc, ""));
            let (k, v) = pair.split_once('=').unwrap();
            self.jar
                .lock()
                .unwrap()
                .entry(host.clone())
                .or_default()
                .insert(k.trim().into(), v.trim().into());
        }
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let body = resp.text().await.unwrap();
        Hop {
            url: url.to_owned(),
            status,
            location,
            body,
        }
    }

    /// Follows redirects (at most 10); returns every hop, the last one final.
    pub async fn visit(&self, url: &str) -> Vec<Hop> {
        let mut hops = Vec::new();
        let mut next = url.to_owned();
        for _ in 0..10 {
            let hop = self.get(&next).await;
            let loc = hop.location.clone();
            hops.push(hop);
            match loc {
                Some(l) => {
                    next = url::Url::parse(&next)
                        .unwrap()
                        .join(&l)
                        .unwrap()
                        .to_string();
                }
                None => return hops,
            }
        }
        panic!("too many redirects: {hops:#?}");
    }
}

pub fn query(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub fn last(hops: &[Hop]) -> &Hop {
    hops.last().unwrap()
}
