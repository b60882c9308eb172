//! Counters of what the stand-in was asked to do, and a log of API requests.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

/// What the stand-in has seen since it started (or since the counters were reset).
/// Also served as JSON at `GET /__standin/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Authorization requests answered with a code.
    pub authorizations: u64,
    /// Authorization requests answered with an error redirect (`access_denied` and others).
    pub authorization_errors: u64,
    /// Requests to the token endpoint, by `grant_type` as sent (`"(none)"` when missing),
    /// whatever their outcome.
    pub token_requests: BTreeMap<String, u64>,
    /// Access tokens issued, by any grant.
    pub tokens_issued: u64,
    /// Successful refresh-token grants.
    pub refreshes: u64,
    /// Successful revocations.
    pub revocations: u64,
    /// Device codes handed out.
    pub device_codes: u64,
    /// Tasks API requests, batch parts included, whatever their outcome.
    pub api_calls: u64,
    /// Tasks API requests by method id (`tasks.tasks.list`, ...), for routed requests.
    pub api_calls_by_method: BTreeMap<String, u64>,
    /// API requests refused with 401 for missing, unknown, expired or revoked tokens.
    pub unauthorized: u64,
    /// API requests refused with 403 for insufficient scopes.
    pub forbidden: u64,
    /// Errors answered from the injected-error queue.
    pub injected_errors: u64,
    /// Batch requests (each part also counts in `api_calls`).
    pub batch_requests: u64,
}

impl Stats {
    /// Token requests with this `grant_type`.
    pub fn token_requests_for(&self, grant_type: &str) -> u64 {
        self.token_requests.get(grant_type).copied().unwrap_or(0)
    }

    /// Token requests of every grant type.
    pub fn total_token_requests(&self) -> u64 {
        self.token_requests.values().sum()
    }

    /// Calls of one API method, by id (`tasks.tasklists.list`, ...).
    pub fn api_calls_for(&self, method_id: &str) -> u64 {
        self.api_calls_by_method
            .get(method_id)
            .copied()
            .unwrap_or(0)
    }
}

/// One API request as the stand-in saw it. Served at `GET /__standin/requests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// The HTTP method.
    pub method: String,
    /// The path as received.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The method id it was routed to, if any.
    pub method_id: Option<String>,
    /// The response status.
    pub status: u16,
    /// Whether it came as one part of a batch.
    pub in_batch: bool,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The `X-Goog-Api-Client` header.
    pub api_client: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
}

/// The last [`RequestLog::CAPACITY`] API requests.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    records: VecDeque<RequestRecord>,
}

impl RequestLog {
    /// How many records are kept.
    pub const CAPACITY: usize = 10_000;

    /// Adds a record, dropping the oldest when full.
    pub fn push(&mut self, record: RequestRecord) {
        if self.records.len() == Self::CAPACITY {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    /// All records, oldest first.
    pub fn snapshot(&self) -> Vec<RequestRecord> {
        self.records.iter().cloned().collect()
    }

    /// Forgets every record.
    pub fn clear(&mut self) {
        self.records.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_default_to_zero() {
        let mut s = Stats::default();
        assert_eq!(s.token_requests_for("refresh_token"), 0);
        s.token_requests.insert("refresh_token".into(), 2);
        s.token_requests.insert("authorization_code".into(), 1);
        assert_eq!(s.token_requests_for("refresh_token"), 2);
        assert_eq!(s.total_token_requests(), 3);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["token_requests"]["refresh_token"], 2);
    }

    #[test]
    fn log_is_bounded() {
        let mut log = RequestLog::default();
        for i in 0..RequestLog::CAPACITY + 5 {
            log.push(RequestRecord {
                method: "GET".into(),
                path: format!("/{i}"),
                query: None,
                method_id: None,
                status: 200,
                in_batch: false,
                user_agent: None,
                api_client: None,
                content_type: None,
            });
        }
        let snap = log.snapshot();
        assert_eq!(snap.len(), RequestLog::CAPACITY);
        assert_eq!(snap[0].path, "/5");
    }
}
