//! [`Error`]: every way a dynamic call can be refused or fail, each one line
//! that says what is wrong and where (document, JSON path, method, parameter).

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A dynamic-client error. `Display` is one line naming the document, the
/// method, the parameter or the JSON path concerned; secrets never appear
/// in it (the runtime's errors are already redacted).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The discovery document cannot be read or parsed (the generator's own
    /// error: the file and the JSON path of the offending value).
    #[error("discovery document {0}")]
    Document(#[from] gapi_gen::Error),
    /// A name (API, resource, method, schema) is not in the document.
    #[error("{within}: no {kind} `{name}`{}", hint(.suggestion.as_deref(), .choices.as_deref()))]
    NotFound {
        /// What was looked for: `API`, `resource or method`, `method`, `schema`.
        kind: &'static str,
        /// The name as given.
        name: String,
        /// Where it was looked for (`tasks.v1`, `tasks.v1 resource tasklists`).
        within: String,
        /// The closest existing name.
        suggestion: Option<String>,
        /// The names that exist, when there are few.
        choices: Option<String>,
    },
    /// A parameter is unknown, missing, or its value does not fit the document.
    #[error("{method}: parameter `{name}`: {message}")]
    Parameter {
        /// The method id.
        method: String,
        /// The parameter's name as given.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The request body does not fit the method's request schema.
    #[error("{method}: request body at {json_path}: {message}")]
    Body {
        /// The method id.
        method: String,
        /// JSONPath of the offending value (`$` for the whole body).
        json_path: String,
        /// What is wrong.
        message: String,
    },
    /// A discovery document could not be fetched.
    #[error("fetching {url}: {message}")]
    Fetch {
        /// The URL (without credentials).
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The call failed in the runtime (HTTP, auth, decoding): its error as is.
    #[error(transparent)]
    Api(#[from] gapi::Error),
}

fn hint(suggestion: Option<&str>, choices: Option<&str>) -> String {
    match (suggestion, choices) {
        (Some(s), _) => format!(" (did you mean `{s}`?)"),
        (None, Some(c)) => format!(" (there are: {c})"),
        (None, None) => String::new(),
    }
}

impl Error {
    /// Whether the error is about the input (name, parameter, body, document)
    /// rather than the call: nothing was sent.
    pub fn is_input(&self) -> bool {
        !matches!(self, Error::Api(_) | Error::Fetch { .. })
    }

    pub(crate) fn param(method: &str, name: &str, message: impl Into<String>) -> Self {
        Error::Parameter {
            method: method.to_owned(),
            name: name.to_owned(),
            message: message.into(),
        }
    }
}
