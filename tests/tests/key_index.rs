//! Every struct of every committed generated crate carries a key index
//! (`Record::INDEX`) that the runtime's lookup resolves each of its wire
//! names through — the generator's copy of the hash and the runtime's agree
//! on real schemas, not only on the pinned test vectors.

use std::path::Path;

/// The items of the array literal that follows `marker` in `src`, from `at`.
fn array_after<'a>(src: &'a str, marker: &str, at: usize) -> Option<(usize, &'a str)> {
    let start = at + src[at..].find(marker)? + marker.len();
    let end = start + src[start..].find("];")?;
    Some((end, &src[start..end]))
}

#[test]
fn every_generated_struct_finds_each_field_through_its_index() {
    let generated = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated");
    let mut crates = 0;
    let mut structs = 0;
    for entry in std::fs::read_dir(&generated).unwrap() {
        let api = entry.unwrap().path().join("src/api.rs");
        let Ok(src) = std::fs::read_to_string(&api) else {
            continue;
        };
        crates += 1;
        let mut at = 0;
        while let Some((end, names)) =
            array_after(&src, "const FIELDS: &'static [&'static str] = &[", at)
        {
            let names: Vec<&str> = names
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| n.trim_matches('"'))
                .collect();
            let rest = &src[end..];
            let next_fields = rest.find("const FIELDS").unwrap_or(rest.len());
            let index_at = rest.find("const INDEX: &'static [u16] = &[");
            at = end;
            if names.is_empty() {
                assert!(index_at.is_none_or(|i| i > next_fields));
                continue;
            }
            let i = index_at
                .filter(|i| *i < next_fields)
                .unwrap_or_else(|| panic!("{}: a struct without INDEX: {names:?}", api.display()));
            let (_, slots) = array_after(rest, "const INDEX: &'static [u16] = &[", i).unwrap();
            let index: Vec<u16> = slots
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| n.parse().unwrap())
                .collect();
            assert!(index.len().is_power_of_two() && index.len() >= 2 * names.len());
            for (pos, name) in names.iter().enumerate() {
                assert_eq!(
                    gapi::wire::indexed_position(&names, &index, name),
                    Some(pos),
                    "{}: {name} is not found through its index",
                    api.display()
                );
            }
            structs += 1;
        }
    }
    assert!(crates >= 8, "{crates} generated crates found");
    assert!(structs > 500, "{structs} structs checked");
}
