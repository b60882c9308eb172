//! gapi-gen (work in progress).
