//! Serde helpers for Google's JSON wire format, used by generated types.
//!
//! - [`int64`]: 64-bit integers travel as decimal strings (`"123"`); numbers are
//!   accepted too. Works for `i64`/`u64` inside any nesting of `Option`, `Vec`
//!   and `BTreeMap<String, _>`.
//! - [`Bytes`]: `format: byte` fields, base64; both the standard and the URL-safe
//!   alphabet are accepted, with or without padding.
//! - [`open_enum!`](crate::open_enum): enums that round-trip values the document
//!   does not list.
//! - [`WireStruct`]: the table-driven serde impls of generated structs.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Values carried as decimal strings on the wire.
pub trait Int64Repr: Sized {
    /// Serializes `self` with integers as strings.
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
    /// Deserializes, accepting integers as strings or numbers.
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

macro_rules! int_repr {
    ($t:ty, $visit:ident) => {
        impl Int64Repr for $t {
            fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
            fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!(
                            "a ",
                            stringify!($t),
                            " as a decimal string or number"
                        ))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$t, E> {
                        v.trim()
                            .parse::<$t>()
                            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$t, E> {
                        <$t>::try_from(v)
                            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$t, E> {
                        <$t>::try_from(v)
                            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$t, E> {
                        if v.fract() == 0.0 && v >= <$t>::MIN as f64 && v <= <$t>::MAX as f64 {
                            Ok(v as $t)
                        } else {
                            Err(E::invalid_value(de::Unexpected::Float(v), &self))
                        }
                    }
                }
                d.$visit(V)
            }
        }
    };
}

int_repr!(i64, deserialize_any);
int_repr!(u64, deserialize_any);

impl<T: Int64Repr> Int64Repr for Option<T> {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(v) => v.ser(s),
            None => s.serialize_none(),
        }
    }
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<Wrap<T>>::deserialize(d)?.map(|w| w.0))
    }
}

impl<T: Int64Repr> Int64Repr for Vec<T> {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(WrapRef))
    }
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Wrap<T>>::deserialize(d)?
            .into_iter()
            .map(|w| w.0)
            .collect())
    }
}

impl<T: Int64Repr> Int64Repr for BTreeMap<String, T> {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter().map(|(k, v)| (k, WrapRef(v))))
    }
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(BTreeMap::<String, Wrap<T>>::deserialize(d)?
            .into_iter()
            .map(|(k, w)| (k, w.0))
            .collect())
    }
}

struct Wrap<T>(T);
impl<'de, T: Int64Repr> Deserialize<'de> for Wrap<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::de(d).map(Wrap)
    }
}
struct WrapRef<'a, T>(&'a T);
impl<T: Int64Repr> Serialize for WrapRef<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.ser(s)
    }
}

/// A generated struct whose serde impls go through [`serialize_struct`] and
/// [`deserialize_struct`]: a table of wire names and one small generic
/// function per direction, instead of `#[derive(Serialize, Deserialize)]`
/// (which made big generated crates several times slower to compile).
///
/// Wire behaviour is that of the derive with `#[serde(default)]` and
/// `skip_serializing_if = "Option::is_none"` on every field: absent and
/// `null` fields read as `None`, `None` fields are not written, unknown
/// fields are ignored.
pub trait WireStruct: Default {
    /// The type's name, for error messages.
    const NAME: &'static str;
    /// The wire names of the fields, in field order.
    const FIELDS: &'static [&'static str];
    /// Reads the value of field `index` (of [`Self::FIELDS`]) from `map`.
    fn de_field<'de, A: de::MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
    ) -> Result<(), A::Error>;
    /// Writes every present field into `map`.
    fn ser_fields<M: serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

/// `Serialize::serialize` of a [`WireStruct`]: a JSON object of its present fields.
pub fn serialize_struct<T: WireStruct, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(None)?;
    v.ser_fields(&mut map)?;
    map.end()
}

/// `Deserialize::deserialize` of a [`WireStruct`].
pub fn deserialize_struct<'de, T: WireStruct, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: WireStruct> Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a {} object", T::NAME)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
            let mut out = T::default();
            while let Some(index) = map.next_key_seed(FieldIndex(T::FIELDS))? {
                match index {
                    Some(i) => out.de_field(i, &mut map)?,
                    None => {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
            }
            Ok(out)
        }
    }
    d.deserialize_map(V(std::marker::PhantomData))
}

/// Reads a map key as the index of a known field name (without allocating).
struct FieldIndex(&'static [&'static str]);
impl<'de> de::DeserializeSeed<'de> for FieldIndex {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}
impl Visitor<'_> for FieldIndex {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|f| *f == v))
    }
}

/// [`WireStruct::de_field`] for a plain field.
pub fn de<'de, A: de::MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
) -> Result<(), A::Error> {
    *slot = map.next_value()?;
    Ok(())
}

/// [`WireStruct::de_field`] for a field with int64s (decimal strings) inside.
pub fn de_int64<'de, A: de::MapAccess<'de>, T: Int64Repr>(
    map: &mut A,
    slot: &mut Option<T>,
) -> Result<(), A::Error> {
    *slot = map.next_value::<Wrap<Option<T>>>()?.0;
    Ok(())
}

/// [`WireStruct::de_field`] for an index out of range: skips the value.
pub fn de_skip<'de, A: de::MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<de::IgnoredAny>()?;
    Ok(())
}

/// [`WireStruct::ser_fields`] for a plain field (written only when present).
pub fn ser<M: serde::ser::SerializeMap, T: Serialize>(
    map: &mut M,
    key: &'static str,
    value: &Option<T>,
) -> Result<(), M::Error> {
    match value {
        Some(v) => map.serialize_entry(key, v),
        None => Ok(()),
    }
}

/// [`WireStruct::ser_fields`] for a field with int64s inside.
pub fn ser_int64<M: serde::ser::SerializeMap, T: Int64Repr>(
    map: &mut M,
    key: &'static str,
    value: &Option<T>,
) -> Result<(), M::Error> {
    match value {
        Some(v) => map.serialize_entry(key, &WrapRef(v)),
        None => Ok(()),
    }
}

/// `#[serde(with = "gapi::wire::int64")]` for `i64`/`u64` fields in any nesting
/// of `Option`, `Vec` and `BTreeMap<String, _>`.
pub mod int64 {
    use super::Int64Repr;
    use serde::{Deserializer, Serializer};

    /// Serializes integers as decimal strings.
    pub fn serialize<T: Int64Repr, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        v.ser(s)
    }

    /// Deserializes integers from strings or numbers.
    pub fn deserialize<'de, T: Int64Repr, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::de(d)
    }
}

/// Binary data carried as base64 (`format: byte`). Serialized with the
/// standard alphabet and padding; decoding accepts standard and URL-safe
/// alphabets, padded or not.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The raw bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Decodes base64 in either alphabet, padded or not.
    pub fn decode(s: &str) -> Result<Bytes, base64::DecodeError> {
        use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
        const CFG: GeneralPurposeConfig =
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
        const STD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CFG);
        const URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CFG);
        let s = s.trim();
        if s.contains(['-', '_']) {
            URL.decode(s).map(Bytes)
        } else {
            STD.decode(s).map(Bytes)
        }
    }

    /// Encodes with the standard alphabet and padding.
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.0)
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}
impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(v.to_vec())
    }
}
impl From<&str> for Bytes {
    fn from(v: &str) -> Self {
        Bytes(v.as_bytes().to_vec())
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a base64 string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
                Bytes::decode(v).map_err(|e| E::custom(format_args!("invalid base64: {e}")))
            }
        }
        d.deserialize_str(V)
    }
}

/// The position of `v`'s variant in `all` (used by
/// [`open_enum!`](crate::open_enum) to index its tables).
#[doc(hidden)]
pub fn variant_index<T>(v: &T, all: &[T]) -> usize {
    let d = std::mem::discriminant(v);
    all.iter()
        .position(|x| std::mem::discriminant(x) == d)
        .unwrap_or(0)
}

/// Deserializes an open enum from its wire string (used by
/// [`open_enum!`](crate::open_enum)).
#[doc(hidden)]
pub fn deserialize_enum<'de, D: Deserializer<'de>, T>(
    d: D,
    from: fn(&str) -> T,
) -> Result<T, D::Error> {
    struct V<T>(fn(&str) -> T);
    impl<T> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an enum string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            Ok((self.0)(v))
        }
    }
    d.deserialize_str(V(from))
}

/// Declares an open enum: the listed variants plus `UnknownValue(String)`,
/// which keeps any value the document did not list so it round-trips.
///
/// ```
/// gapi::open_enum! {
///     /// Status of a task.
///     pub enum Status {
///         /// Needs action.
///         NeedsAction = "needsAction",
///         Completed = "completed",
///     }
/// }
/// let s: Status = gapi::serde_json::from_str("\"deferred\"").unwrap();
/// assert_eq!(s, Status::UnknownValue("deferred".into()));
/// assert_eq!(gapi::serde_json::to_string(&s).unwrap(), "\"deferred\"");
/// assert_eq!(Status::from("completed"), Status::Completed);
/// assert_eq!(Status::Completed.as_str(), "completed");
/// assert_eq!(format!("{:?}", Status::NeedsAction), "NeedsAction");
/// assert_eq!(format!("{:?}", s), "UnknownValue(\"deferred\")");
/// assert_eq!(Status::NeedsAction.to_string(), "needsAction");
/// ```
#[macro_export]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),* $(,)?
        }
    ) => {
        // Table-driven on purpose: a per-variant `match` on string literals
        // (as_str, From<&str>) made big generated crates several times slower
        // to compile (compute v1: 755 enums, 8552 values). The derives below
        // compare discriminants and so stay small; `variant_index` is a short
        // linear scan at run time.
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this client's discovery document does not list; kept as sent.
            UnknownValue(::std::string::String),
        }

        impl $name {
            const __ALL: &'static [$name] = &[$($name::$variant),*];
            const __WIRE: &'static [&'static str] = &[$($wire),*];
            const __NAMES: &'static [&'static str] = &[$(::std::stringify!($variant)),*];

            /// The value as it travels on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    Self::UnknownValue(s) => s.as_str(),
                    _ => Self::__WIRE[$crate::wire::variant_index(self, Self::__ALL)],
                }
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    Self::UnknownValue(s) => f.debug_tuple("UnknownValue").field(s).finish(),
                    _ => f.write_str(Self::__NAMES[$crate::wire::variant_index(self, Self::__ALL)]),
                }
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(s: &str) -> Self {
                match Self::__WIRE.iter().position(|w| *w == s) {
                    ::std::option::Option::Some(i) => ::std::clone::Clone::clone(&Self::__ALL[i]),
                    ::std::option::Option::None => Self::UnknownValue(::std::borrow::ToOwned::to_owned(s)),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::serde::Serialize for $name {
            fn serialize<S: $crate::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                $crate::wire::deserialize_enum(d, |s: &str| <Self as ::std::convert::From<&str>>::from(s))
            }
        }

        impl $crate::QueryValue for $name {
            fn to_query(&self) -> ::std::string::String {
                ::std::borrow::ToOwned::to_owned(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

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
}
