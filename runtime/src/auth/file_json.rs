//! Reading a credential file's JSON (service-account keys, gcloud's files,
//! workload identity configurations): errors name the file and the JSON path
//! of the first problem.

use crate::{Error, ErrorKind};

/// Parses JSON into `T`, naming `source` and the JSON path of the first
/// problem (`missing field `private_key``, `client_email: invalid type`).
pub(crate) fn decode_named<T: serde::de::DeserializeOwned>(
    json: &str,
    source: &str,
) -> crate::Result<T> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = if inner.is_syntax() || inner.is_eof() {
            format!("not valid JSON: {inner}")
        } else if path == "." {
            inner.to_string()
        } else {
            format!("field `{path}`: {inner}")
        };
        Error::new(ErrorKind::Decode, format!("{source}: {msg}"))
    })
}
