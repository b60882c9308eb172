//! Resource features in crate mode: when a crate gets them, its
//! `[features]` table, and the section of its docs (lib.rs and README)
//! that lists them.

use std::fmt::Write as _;

use super::CrateOptions;
use crate::emit::docs::one_line;
use crate::resolve::features::{Features, method_count};
use crate::resolve::ir::Api;

/// When a generated crate gets one cargo feature per top-level resource
/// (`full`, the default, enables them all; see
/// [`crate::resolve::features`] for what each one compiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceFeatures {
    /// Never: every crate is compiled whole.
    Off,
    /// When the API has more methods than this (root methods and
    /// sub-resources' included) and at least two top-level resources (with
    /// one, there is nothing to leave out). `Above(0)` gives every API with
    /// two resources its features.
    Above(usize),
}

impl ResourceFeatures {
    /// The default threshold: APIs of more than 100 methods.
    pub const DEFAULT_THRESHOLD: usize = 100;
}

impl Default for ResourceFeatures {
    fn default() -> Self {
        ResourceFeatures::Above(Self::DEFAULT_THRESHOLD)
    }
}

/// The resource features of `api`'s crate under `options`, if it gets any.
pub(crate) fn features_for(api: &Api, options: &CrateOptions) -> Option<Features> {
    match options.resource_features {
        ResourceFeatures::Off => None,
        ResourceFeatures::Above(threshold) => (api.root.resources.len() >= 2
            && method_count(&api.root) > threshold)
            .then(|| Features::compute(api)),
    }
}

/// What the `[features]` table and the docs say about a crate's features.
pub(super) struct FeatureDocs {
    /// Per top-level resource: its feature, discovery name (made safe for
    /// inline code) and number of methods.
    rows: Vec<(String, String, usize)>,
    /// The package name, for the `Cargo.toml` example.
    package: String,
    /// The package version for the example, a TOML string.
    version: String,
    /// The feature of the example: the resource with the most methods.
    example: String,
}

impl FeatureDocs {
    /// `version`: the crate's `MAJOR.MINOR.PATCH` (the example's
    /// requirement: no build metadata, which requirements ignore anyway).
    pub(super) fn new(api: &Api, features: &Features, version: &str) -> FeatureDocs {
        let rows: Vec<(String, String, usize)> = api
            .root
            .resources
            .iter()
            .zip(&features.names)
            .map(|(r, f)| {
                (
                    f.clone(),
                    one_line(&r.wire).replace(['`', '|'], "'"),
                    method_count(r),
                )
            })
            .collect();
        // The largest resource, the first of them on a tie.
        let example = rows
            .iter()
            .rev()
            .max_by_key(|(_, _, n)| *n)
            .map(|(f, _, _)| f.clone())
            .unwrap_or_default();
        FeatureDocs {
            rows,
            package: super::crate_name(api),
            version: super::toml_str(version),
            example,
        }
    }

    /// The `[features]` table: `default = ["full"]`, `full` = every
    /// resource feature, and one empty feature per resource.
    pub(super) fn toml(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s);
        let _ = writeln!(s, "[features]");
        let _ = writeln!(
            s,
            "# One feature per top-level resource (see the crate docs); `full` is all of them."
        );
        let _ = writeln!(s, "default = [\"full\"]");
        let _ = writeln!(s, "full = [");
        for (f, _, _) in &self.rows {
            let _ = writeln!(s, "    \"{f}\",");
        }
        let _ = writeln!(s, "]");
        for (f, _, _) in &self.rows {
            let _ = writeln!(s, "{f} = []");
        }
        s
    }

    /// The docs' section on the features (markdown lines).
    pub(super) fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            "## Cargo features".to_string(),
            String::new(),
            "One feature per top-level resource; `full`, the default, enables them all. To \
             compile only the resources you use:"
                .to_string(),
            String::new(),
            "```toml".to_string(),
            format!(
                "{} = {{ version = {}, default-features = false, features = [\"{}\"] }}",
                self.package, self.version, self.example
            ),
            "```".to_string(),
            String::new(),
            "A resource's feature compiles its methods (its sub-resources' too) and the data \
             types and parameter enums they use. The service's own methods and what they use \
             are always compiled; data types no method uses only with `full`."
                .to_string(),
            String::new(),
            "| feature | resource | methods |".to_string(),
            "|---|---|---|".to_string(),
        ];
        for (f, wire, n) in &self.rows {
            lines.push(format!("| `{f}` | `{wire}` | {n} |"));
        }
        lines
    }
}
