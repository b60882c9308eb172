//! The discovery documents bundled into the binary (see `build.rs`): an
//! index by name and version, and one zstd frame per document, of which
//! only the one asked for is decompressed.

/// One bundled document.
#[derive(Debug, Clone, Copy)]
pub struct BundledDoc {
    /// API name.
    pub name: &'static str,
    /// API version.
    pub version: &'static str,
    /// The document's revision.
    pub revision: &'static str,
    /// The API's title.
    pub title: &'static str,
    offset: usize,
    len: usize,
    raw_len: usize,
}

include!(concat!(env!("OUT_DIR"), "/index.rs"));

static BUNDLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bundle.zst"));

impl BundledDoc {
    /// The document's JSON.
    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        let frame = BUNDLE
            .get(self.offset..self.offset + self.len)
            .ok_or("the bundle is shorter than its index")?;
        zstd::bulk::decompress(frame, self.raw_len).map_err(|e| e.to_string())
    }

    /// `name.version`.
    pub fn id(&self) -> String {
        format!("{}.{}", self.name, self.version)
    }
}

/// The bundled document of `name` and `version`.
pub fn find(name: &str, version: &str) -> Option<&'static BundledDoc> {
    DOCS.binary_search_by(|d| (d.name, d.version).cmp(&(name, version)))
        .ok()
        .map(|i| &DOCS[i])
}

/// The bundled versions of `name`.
pub fn versions(name: &str) -> &'static [BundledDoc] {
    let start = DOCS.partition_point(|d| d.name < name);
    let end = DOCS.partition_point(|d| d.name <= name);
    &DOCS[start..end]
}

/// The version of `name` to use when none is given: the Discovery Service's
/// preferred one, else the highest stable version, else the highest.
pub fn default_version(name: &str) -> Option<&'static BundledDoc> {
    let all = versions(name);
    if let Some((_, v)) = PREFERRED.iter().find(|(n, _)| *n == name)
        && let Some(d) = all.iter().find(|d| d.version == *v)
    {
        return Some(d);
    }
    let stable = |v: &str| !v.contains("alpha") && !v.contains("beta");
    all.iter()
        .filter(|d| stable(d.version))
        .max_by(|a, b| version_order(a.version, b.version))
        .or_else(|| {
            all.iter()
                .max_by(|a, b| version_order(a.version, b.version))
        })
}

/// Orders versions by their numbers (`v2` > `v1.2` > `v1`), then as text.
fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    let nums = |v: &str| -> Vec<u64> {
        v.split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect()
    };
    nums(a).cmp(&nums(b)).then_with(|| a.cmp(b))
}

/// Every distinct API name, sorted.
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<&str> = DOCS.iter().map(|d| d.name).collect();
    names.dedup();
    names
}

/// Where the bundle came from (`../shared/discovery-docs`, `discovery-docs`).
pub fn source() -> &'static str {
    SOURCE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_documents_are_bundled_and_decompress() {
        let tasks = find("tasks", "v1").expect("tasks v1 is always bundled");
        let bytes = tasks.bytes().unwrap();
        assert!(bytes.starts_with(b"{"));
        assert_eq!(default_version("tasks").unwrap().version, "v1");
        assert!(find("tasks", "v9").is_none());
        assert!(names().contains(&"storage"));
    }

    #[test]
    fn versions_order_by_number() {
        use std::cmp::Ordering::*;
        assert_eq!(version_order("v2", "v1"), Greater);
        assert_eq!(version_order("v1.2", "v1"), Greater);
        assert_eq!(version_order("v10", "v9"), Greater);
    }
}
