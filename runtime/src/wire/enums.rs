//! Open enums: [`open_enum!`](crate::open_enum) and its helpers.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// The wire value and Rust name of `v`'s variant (used by
/// [`open_enum!`](crate::open_enum); `v` is never `UnknownValue`, which the
/// table does not hold).
#[doc(hidden)]
pub fn enum_entry<T>(
    v: &T,
    table: &[(T, &'static str, &'static str)],
) -> (&'static str, &'static str) {
    let d = std::mem::discriminant(v);
    table
        .iter()
        .find(|e| std::mem::discriminant(&e.0) == d)
        .map_or(("", ""), |e| (e.1, e.2))
}

/// The variant whose wire value is `s`, or `unknown(s)` (used by
/// [`open_enum!`](crate::open_enum)).
#[doc(hidden)]
pub fn enum_from_wire<T: Clone>(s: &str, table: &[(T, &str, &str)], unknown: fn(String) -> T) -> T {
    match table.iter().find(|e| e.1 == s) {
        Some(e) => e.0.clone(),
        None => unknown(s.to_owned()),
    }
}

/// Deserializes an open enum from its wire string (used by
/// [`open_enum!`](crate::open_enum)).
#[doc(hidden)]
pub fn deserialize_enum<'de, D: Deserializer<'de>, T: for<'a> From<&'a str>>(
    d: D,
) -> Result<T, D::Error> {
    struct V<T>(std::marker::PhantomData<T>);
    impl<T: for<'a> From<&'a str>> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an enum string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            Ok(T::from(v))
        }
    }
    d.deserialize_str(V(std::marker::PhantomData))
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
        // to compile (compute v1: 755 enums, 8552 values), and the compile
        // time of a generated crate grows with the number of function
        // bodies in it. So: one table, derives that compare discriminants,
        // and `enum_entry`, a short linear scan at run time.
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this client's discovery document does not list; kept as sent.
            UnknownValue(::std::string::String),
        }

        impl $name {
            /// (variant, wire value, Rust name) of the listed values.
            const __TABLE: &'static [($name, &'static str, &'static str)] =
                &[$(($name::$variant, $wire, ::std::stringify!($variant))),*];

            /// The value as it travels on the wire.
            #[inline]
            pub fn as_str(&self) -> &str {
                match self {
                    Self::UnknownValue(s) => s.as_str(),
                    _ => $crate::wire::enum_entry(self, Self::__TABLE).0,
                }
            }
        }

        impl ::std::fmt::Debug for $name {
            #[inline]
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    Self::UnknownValue(s) => f.debug_tuple("UnknownValue").field(s).finish(),
                    _ => f.write_str($crate::wire::enum_entry(self, Self::__TABLE).1),
                }
            }
        }

        impl ::std::convert::From<&str> for $name {
            #[inline]
            fn from(s: &str) -> Self {
                $crate::wire::enum_from_wire(s, Self::__TABLE, Self::UnknownValue)
            }
        }

        impl ::std::fmt::Display for $name {
            #[inline]
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::serde::Serialize for $name {
            #[inline]
            fn serialize<S: $crate::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::serde::Deserialize<'de> for $name {
            #[inline]
            fn deserialize<D: $crate::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                $crate::wire::deserialize_enum(d)
            }
        }

        impl $crate::wire::WireEnum for $name {
            #[inline]
            fn wire(&self) -> &str {
                self.as_str()
            }
        }

        impl $crate::QueryValue for $name {
            #[inline]
            fn to_query(&self) -> ::std::string::String {
                ::std::borrow::ToOwned::to_owned(self.as_str())
            }
        }
    };
}
