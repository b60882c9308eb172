//! "Did you mean": the closest of a set of names.

/// The candidate closest to `name`, if one is close enough: the same name
/// but for case, `_` and `-` (`max_results` → `maxResults`); else the only
/// candidate `name` is a prefix of; else the best Jaro-Winkler similarity of
/// at least 0.8 (clap's own threshold is 0.7; names here are short and many).
pub fn suggest<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    let norm = normalize(name);
    if let Some(c) = candidates.iter().find(|c| normalize(c) == norm) {
        return Some(c);
    }
    let prefixed: Vec<&&str> = candidates
        .iter()
        .filter(|c| !norm.is_empty() && normalize(c).starts_with(&norm))
        .collect();
    if prefixed.len() == 1 {
        return Some(prefixed[0]);
    }
    let mut best: Option<(f64, &'a str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&norm, &normalize(c));
        if score >= 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Up to `max` names joined with `, `, `…` when there are more.
pub(crate) fn list<'a>(names: impl IntoIterator<Item = &'a str>, max: usize) -> Option<String> {
    let names: Vec<&str> = names.into_iter().collect();
    if names.is_empty() {
        return None;
    }
    let mut out = names
        .iter()
        .take(max)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        out.push_str(", …");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let c = ["list", "insert", "patch", "delete", "get", "move"];
        assert_eq!(suggest("lst", c), Some("list"));
        assert_eq!(suggest("LIST", c), Some("list"));
        assert_eq!(suggest("ins", c), Some("insert"));
        assert_eq!(suggest("pach", c), Some("patch"));
        assert_eq!(suggest("frobnicate", c), None);
        assert_eq!(
            suggest("max_results", ["maxResults", "pageToken"]),
            Some("maxResults")
        );
        assert_eq!(
            suggest("tasklist", ["tasklists", "tasks"]),
            Some("tasklists")
        );
    }

    #[test]
    fn lists_are_cut() {
        assert_eq!(list(["a", "b", "c"], 2).as_deref(), Some("`a`, `b`, …"));
        assert_eq!(list([], 2), None);
    }
}
