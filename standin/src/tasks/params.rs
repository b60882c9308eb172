//! Query parameters of API requests: the standard ones every Google API takes
//! (`fields`, `prettyPrint`, `alt`, ...), each method's own, and typed reading.

use time::OffsetDateTime;

use crate::errors::ApiError;
use crate::fields::FieldMask;
use crate::form::Params;
use crate::timefmt;

/// The parameters every method takes, from the discovery document's `parameters`.
pub(crate) const STANDARD_PARAMS: &[&str] = &[
    "$.xgafv",
    "access_token",
    "alt",
    "callback",
    "fields",
    "key",
    "oauth_token",
    "prettyPrint",
    "quotaUser",
    "uploadType",
    "upload_protocol",
];

/// What the standard parameters ask of the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResponseOptions {
    /// The `fields` selection, if any.
    pub fields: Option<FieldMask>,
    /// Whether to indent the JSON (`prettyPrint`, default true).
    pub pretty: bool,
}

/// A request's query parameters.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    params: Params,
}

/// `maxResults` → `max_results`, the way Google's errors name fields.
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn bad_value(name: &str, kind: &str, value: &str) -> ApiError {
    ApiError::new(
        400,
        "invalid",
        format!("Invalid value at '{}' ({kind}), \"{value}\"", snake(name)),
    )
    .at(name, "parameter")
}

impl Query {
    /// Wraps parsed parameters.
    pub fn new(params: Params) -> Query {
        Query { params }
    }

    /// Refuses names neither standard nor the method's own (as Google does), checks the
    /// standard parameters' values, and gives what they ask of the response.
    pub fn check(&self, method_params: &[&str]) -> Result<ResponseOptions, ApiError> {
        for (name, _) in self.params.pairs() {
            if !STANDARD_PARAMS.contains(&name.as_str()) && !method_params.contains(&name.as_str())
            {
                return Err(ApiError::new(
                    400,
                    "invalid",
                    format!(
                        "Invalid JSON payload received. Unknown name \"{name}\": Cannot bind \
                         query parameter. Field '{name}' could not be found in request message."
                    ),
                )
                .at(name, "parameter"));
            }
        }
        match self.params.get("alt") {
            None | Some("json") => {}
            Some(other) => {
                return Err(ApiError::invalid_parameter(
                    "alt",
                    format!(
                        "Invalid value '{other}'. Values must match the following regular expression: 'json'"
                    ),
                ));
            }
        }
        match self.params.get("$.xgafv") {
            None | Some("1") | Some("2") => {}
            Some(other) => return Err(bad_value("$.xgafv", "TYPE_ENUM", other)),
        }
        let pretty = self.boolean("prettyPrint")?.unwrap_or(true);
        let fields = match self.params.get("fields") {
            None => None,
            Some(text) => FieldMask::parse(text).map_err(|_| {
                ApiError::invalid_parameter("fields", format!("Invalid field selection {text}"))
            })?,
        };
        Ok(ResponseOptions { fields, pretty })
    }

    /// A string parameter, empty counting as absent.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.params.get_nonempty(name)
    }

    /// A boolean parameter (`true`/`false`, any case).
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(bad_value(name, "TYPE_BOOL", v)),
        }
    }

    /// An int32 parameter.
    pub fn int32(&self, name: &str) -> Result<Option<i32>, ApiError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| bad_value(name, "TYPE_INT32", v)),
        }
    }

    /// An RFC 3339 timestamp parameter.
    pub fn timestamp(&self, name: &str) -> Result<Option<OffsetDateTime>, ApiError> {
        match self.string(name) {
            None => Ok(None),
            Some(v) => timefmt::parse(v).map(Some).ok_or_else(|| {
                ApiError::invalid_parameter(name, format!("Invalid value for {name}: {v}"))
            }),
        }
    }

    /// A page size from `maxResults`: the default when absent or zero, at most `max`,
    /// and a 400 when negative.
    pub fn page_size(&self, default: u32, max: u32) -> Result<usize, ApiError> {
        match self.int32("maxResults")? {
            None | Some(0) => Ok(default.min(max) as usize),
            Some(n) if n < 0 => Err(ApiError::invalid_parameter(
                "maxResults",
                format!("Invalid value for maxResults: {n}. It must be positive."),
            )),
            Some(n) => Ok((n as u32).min(max) as usize),
        }
    }

    /// The request's query parameters, minus those that do not change which items a
    /// list returns, as text: what a page token is bound to.
    pub fn listing_key(&self, scope: &str) -> String {
        let mut pairs: Vec<String> = self
            .params
            .pairs()
            .iter()
            .filter(|(k, _)| {
                !STANDARD_PARAMS.contains(&k.as_str()) && k != "pageToken" && k != "maxResults"
            })
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.sort();
        format!("{scope}?{}", pairs.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Query {
        Query::new(Params::parse(s))
    }

    #[test]
    fn standard_parameters() {
        let o = q("fields=items(id)&prettyPrint=false&quotaUser=x&alt=json&%24.xgafv=2&key=k")
            .check(&[])
            .unwrap();
        assert!(!o.pretty);
        assert!(o.fields.is_some());
        let o = q("").check(&[]).unwrap();
        assert!(o.pretty && o.fields.is_none());
    }

    #[test]
    fn refusals() {
        let e = q("bogus=1").check(&["maxResults"]).unwrap_err();
        assert!(e.message.contains("Unknown name \"bogus\""));
        assert_eq!(e.code, 400);
        assert!(q("maxResults=1").check(&["maxResults"]).is_ok());
        assert!(q("alt=media").check(&[]).is_err());
        assert!(q("%24.xgafv=3").check(&[]).is_err());
        assert!(q("prettyPrint=yes").check(&[]).is_err());
        let e = q("fields=items(").check(&[]).unwrap_err();
        assert_eq!(e.reason, "invalidParameter");
        assert_eq!(e.message, "Invalid field selection items(");
    }

    #[test]
    fn typed_values() {
        let query = q("showHidden=TRUE&maxResults=5&bad=x&updatedMin=2024-01-01T00:00:00Z&t=no");
        assert_eq!(query.boolean("showHidden").unwrap(), Some(true));
        assert_eq!(query.boolean("absent").unwrap(), None);
        let e = query.boolean("t").unwrap_err();
        assert_eq!(e.message, "Invalid value at 't' (TYPE_BOOL), \"no\"");
        assert_eq!(query.int32("maxResults").unwrap(), Some(5));
        assert!(query.int32("bad").is_err());
        assert!(query.timestamp("updatedMin").unwrap().is_some());
        assert!(query.timestamp("bad").is_err());
        assert_eq!(snake("maxResults"), "max_results");
    }

    #[test]
    fn page_sizes() {
        assert_eq!(q("").page_size(20, 100).unwrap(), 20);
        assert_eq!(q("maxResults=0").page_size(20, 100).unwrap(), 20);
        assert_eq!(q("maxResults=500").page_size(20, 100).unwrap(), 100);
        assert_eq!(q("").page_size(20, 5).unwrap(), 5);
        assert!(q("maxResults=-1").page_size(20, 100).is_err());
    }

    #[test]
    fn listing_keys_ignore_paging_and_standard_params() {
        let a = q("showHidden=true&maxResults=2&pageToken=x&fields=items").listing_key("L");
        let b = q("maxResults=5&showHidden=true").listing_key("L");
        assert_eq!(a, b);
        assert_ne!(a, q("showHidden=false").listing_key("L"));
        assert_ne!(a, q("showHidden=true").listing_key("M"));
    }
}
