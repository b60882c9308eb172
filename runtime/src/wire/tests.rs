use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;

#[derive(Serialize, Deserialize, Debug, PartialEq, Default)]
#[serde(default)]
struct T {
    #[serde(skip_serializing_if = "Option::is_none", with = "int64")]
    a: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", with = "int64")]
    b: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none", with = "int64")]
    c: Option<BTreeMap<String, Vec<i64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    d: Option<Bytes>,
}

#[test]
fn int64_as_strings_both_ways() {
    let t: T = serde_json::from_str(
        r#"{"a":"-9223372036854775808","b":["18446744073709551615",7],"c":{"k":["1","2"]}}"#,
    )
    .unwrap();
    assert_eq!(t.a, Some(i64::MIN));
    assert_eq!(t.b, Some(vec![u64::MAX, 7]));
    assert_eq!(t.c.as_ref().unwrap()["k"], vec![1, 2]);
    let back = serde_json::to_string(&t).unwrap();
    assert_eq!(
        back,
        r#"{"a":"-9223372036854775808","b":["18446744073709551615","7"],"c":{"k":["1","2"]}}"#
    );
}

#[test]
fn int64_rejects_garbage_and_overflow() {
    assert!(serde_json::from_str::<T>(r#"{"a":"12x"}"#).is_err());
    assert!(serde_json::from_str::<T>(r#"{"b":["-1"]}"#).is_err());
    assert!(serde_json::from_str::<T>(r#"{"a":1.5}"#).is_err());
    assert_eq!(serde_json::from_str::<T>(r#"{"a":null}"#).unwrap().a, None);
}

#[test]
fn bytes_accept_both_alphabets() {
    let data = vec![0xfb, 0xff, 0xbf, 0x00];
    let std: T = serde_json::from_str(r#"{"d":"+/+/AA=="}"#).unwrap();
    let url: T = serde_json::from_str(r#"{"d":"-_-_AA"}"#).unwrap();
    assert_eq!(std.d.as_ref().unwrap().0, data);
    assert_eq!(url.d.as_ref().unwrap().0, data);
    assert_eq!(serde_json::to_string(&url).unwrap(), r#"{"d":"+/+/AA=="}"#);
    assert!(serde_json::from_str::<T>(r#"{"d":"!!"}"#).is_err());
}

crate::open_enum! {
    /// doc
    pub enum E { A = "a", Self_ = "SELF" }
}

#[test]
fn open_enum_round_trips_unknown() {
    let e: E = serde_json::from_str("\"zzz\"").unwrap();
    assert_eq!(e, E::UnknownValue("zzz".into()));
    assert_eq!(serde_json::to_string(&e).unwrap(), "\"zzz\"");
    assert_eq!(serde_json::from_str::<E>("\"SELF\"").unwrap(), E::Self_);
    assert_eq!(E::A.to_string(), "a");
}

#[derive(Clone, Default)]
struct Rec {
    name: Option<String>,
    size: Option<i64>,
    sizes: Option<Vec<u64>>,
    flag: Option<bool>,
    child: Option<Box<Rec>>,
    kind: Option<E>,
    raw: Option<serde_json::Value>,
    by_key: Option<BTreeMap<String, Rec>>,
}

impl Record for Rec {
    const NAME: &'static str = "Rec";
    const FIELDS: &'static [&'static str] = &[
        "name", "size", "sizes", "flag", "child", "@kind", "raw", "byKey",
    ];
    fn field(&self, index: usize) -> Option<&dyn Field> {
        Some(match index {
            0 => &self.name,
            1 => int64_field(&self.size),
            2 => int64_field(&self.sizes),
            3 => &self.flag,
            4 => &self.child,
            5 => &self.kind,
            6 => &self.raw,
            7 => &self.by_key,
            _ => return None,
        })
    }
    fn field_mut(&mut self, index: usize) -> Option<&mut dyn Field> {
        Some(match index {
            0 => &mut self.name,
            1 => int64_field_mut(&mut self.size),
            2 => int64_field_mut(&mut self.sizes),
            3 => &mut self.flag,
            4 => &mut self.child,
            5 => &mut self.kind,
            6 => &mut self.raw,
            7 => &mut self.by_key,
            _ => return None,
        })
    }
}
crate::record!(Rec);

#[test]
fn record_round_trips_real_shaped_json() {
    let json = r#"{"name":"a","size":"-9223372036854775808","sizes":["18446744073709551615",7],
        "flag":false,"child":{"name":"b","child":{"size":"1"}},"@kind":"zzz","raw":{"x":[1,null]},
        "byKey":{"k":{"flag":true}},"unknown":{"deep":[1,2,{"z":null}]}}"#;
    let r: Rec = serde_json::from_str(json).unwrap();
    assert_eq!(r.size, Some(i64::MIN));
    assert_eq!(r.sizes, Some(vec![u64::MAX, 7]));
    assert_eq!(r.flag, Some(false));
    assert_eq!(
        r.child.as_ref().unwrap().child.as_ref().unwrap().size,
        Some(1)
    );
    assert_eq!(r.kind, Some(E::UnknownValue("zzz".into())));
    assert_eq!(r.by_key.as_ref().unwrap()["k"].flag, Some(true));
    let back = serde_json::to_string(&r).unwrap();
    assert_eq!(
        back,
        r#"{"name":"a","size":"-9223372036854775808","sizes":["18446744073709551615","7"],"flag":false,"child":{"name":"b","child":{"size":"1"}},"@kind":"zzz","raw":{"x":[1,null]},"byKey":{"k":{"flag":true}}}"#
    );
    // through serde_json::Value too (another Serializer / Deserializer)
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(serde_json::from_value::<Rec>(v).unwrap(), r);
}

#[test]
fn record_null_absent_and_false_differ() {
    let absent: Rec = serde_json::from_str("{}").unwrap();
    let null: Rec = serde_json::from_str(r#"{"flag":null,"size":null,"child":null}"#).unwrap();
    let fals: Rec = serde_json::from_str(r#"{"flag":false}"#).unwrap();
    assert_eq!(absent, null);
    assert_eq!(absent.flag, None);
    assert_eq!(fals.flag, Some(false));
    assert_ne!(absent, fals);
    assert_eq!(serde_json::to_string(&absent).unwrap(), "{}");
    assert_eq!(serde_json::to_string(&fals).unwrap(), r#"{"flag":false}"#);
}

#[test]
fn record_debug_shows_set_fields_and_eq_compares_all() {
    let mut r = Rec {
        name: Some("a".into()),
        ..Rec::default()
    };
    assert_eq!(format!("{r:?}"), r#"Rec { name: "a", .. }"#);
    let same = r.clone();
    assert_eq!(r, same);
    r.size = Some(3);
    assert_ne!(r, same);
    assert_eq!(format!("{r:?}"), r#"Rec { name: "a", size: 3, .. }"#);
}

#[test]
fn record_errors_name_what_failed() {
    let e = serde_json::from_str::<Rec>(r#"{"child":{"size":"12x"}}"#).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("12x"), "{msg}");
    assert!(e.line() == 1 && e.column() > 0, "{msg}");
    let e = serde_json::from_str::<Rec>(r#"{"flag":"yes"}"#).unwrap_err();
    assert!(e.to_string().contains("expected a boolean"), "{e}");
    let e = serde_json::from_str::<Rec>(r#"[1]"#).unwrap_err();
    assert!(e.to_string().contains("a Rec object"), "{e}");
}

/// A record whose nested records, lists of records and enums go through
/// the adapters (as generated code writes them).
#[derive(Clone, Default)]
struct Fast {
    child: Option<Rec>,
    children: Option<Vec<Rec>>,
    kind: Option<E>,
    next: Option<Box<Fast>>,
    title: Option<String>,
    unknown: UnknownFields,
}

impl Record for Fast {
    const NAME: &'static str = "Fast";
    // sorted by wire name, as the generator writes them
    const FIELDS: &'static [&'static str] = &["child", "children", "kind", "next", "title"];
    fn field(&self, index: usize) -> Option<&dyn Field> {
        Some(match index {
            0 => record_field(&self.child),
            1 => records_field(&self.children),
            2 => enum_field(&self.kind),
            3 => boxed_field(&self.next),
            4 => &self.title,
            5 => &self.unknown,
            _ => return None,
        })
    }
    fn field_mut(&mut self, index: usize) -> Option<&mut dyn Field> {
        Some(match index {
            0 => record_field_mut(&mut self.child),
            1 => records_field_mut(&mut self.children),
            2 => enum_field_mut(&mut self.kind),
            3 => boxed_field_mut(&mut self.next),
            4 => &mut self.title,
            5 => &mut self.unknown,
            _ => return None,
        })
    }
}
crate::record!(Fast);

#[test]
fn adapters_read_and_write_nested_records_lists_enums_and_boxes_directly() {
    let json = r#"{"title":"t","child":{"name":"c","size":"5"},"kind":"SELF","extra":[1],
        "children":[{"name":"x"},{"flag":true,"@kind":"a"}],
        "next":{"kind":"b-new","next":{"title":"deep","more":null}}}"#;
    let f: Fast = serde_json::from_str(json).unwrap();
    assert_eq!(f.child.as_ref().unwrap().size, Some(5));
    assert_eq!(f.children.as_ref().unwrap()[1].kind, Some(E::A));
    assert_eq!(f.kind, Some(E::Self_));
    let next = f.next.as_ref().unwrap();
    assert_eq!(next.kind, Some(E::UnknownValue("b-new".into())));
    let deep = next.next.as_ref().unwrap();
    assert_eq!(deep.title.as_deref(), Some("deep"));
    assert_eq!(deep.unknown.get("more"), Some(&serde_json::Value::Null));
    assert_eq!(
        serde_json::to_string(&f).unwrap(),
        r#"{"child":{"name":"c","size":"5"},"children":[{"name":"x"},{"flag":true,"@kind":"a"}],"kind":"SELF","next":{"kind":"b-new","next":{"title":"deep","more":null}},"title":"t","extra":[1]}"#
    );
    // the same through serde_json::Value, and equality and Debug see it all
    let v = serde_json::to_value(&f).unwrap();
    let back: Fast = serde_json::from_value(v).unwrap();
    assert_eq!(back, f);
    assert!(
        format!("{f:?}").contains(r#"kind: UnknownValue("b-new")"#),
        "{f:?}"
    );
    // null clears, absent stays absent, a repeated member keeps the last
    let f: Fast = serde_json::from_str(
        r#"{"child":{"name":"a"},"child":null,"children":null,"kind":null,"next":null,"title":"1","title":"2"}"#,
    )
    .unwrap();
    assert!(f.child.is_none() && f.children.is_none() && f.kind.is_none() && f.next.is_none());
    assert_eq!(f.title.as_deref(), Some("2"));
    assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"title":"2"}"#);
    // errors inside nested records still say where (line and column)
    let e =
        serde_json::from_str::<Fast>(r#"{"children":[{"name":"x"},{"flag":"no"}]}"#).unwrap_err();
    assert!(e.to_string().contains("expected a boolean"), "{e}");
    assert!(e.column() > 30, "{e}");
    let e = serde_json::from_str::<Fast>(r#"{"children":[null]}"#).unwrap_err();
    assert!(e.to_string().contains("a Rec object"), "{e}");
    let e = serde_json::from_str::<Fast>(r#"{"kind":7}"#).unwrap_err();
    assert!(e.to_string().contains("enum string"), "{e}");
}
