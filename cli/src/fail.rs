//! [`Failure`]: what ends a command with a non-zero exit code, as one line
//! on stderr (`gapi: …`). Input errors (nothing was sent) exit 2, like
//! clap's usage errors; failures of a call or of the machine exit 1.

use std::fmt;

/// A command's failure: its one-line message and exit code.
#[derive(Debug)]
pub struct Failure {
    /// The message (one line; never a secret).
    pub message: String,
    /// The exit code: 2 for input errors, 1 for the rest.
    pub code: u8,
}

impl Failure {
    /// Bad input: a name, a parameter, a body, a file — nothing was sent.
    pub fn input(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 2,
        }
    }

    /// A failed call, refused credentials, an I/O error.
    pub fn run(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line whatever the source says.
        f.write_str(&self.message.replace(['\n', '\r'], " "))
    }
}

impl From<gapi_dynamic::Error> for Failure {
    fn from(e: gapi_dynamic::Error) -> Self {
        if e.is_input() {
            Failure::input(e.to_string())
        } else {
            Failure::run(e.to_string())
        }
    }
}

impl From<gapi::Error> for Failure {
    fn from(e: gapi::Error) -> Self {
        Failure::run(e.to_string())
    }
}

/// `Result` with [`Failure`].
pub type Result<T, E = Failure> = std::result::Result<T, E>;
