//! Generated structs as records: a table of wire names and one accessor that
//! hands out each field as a `&dyn` [`Field`]. Serialization,
//! deserialization, `Debug` and `PartialEq` are written once, here, over that
//! view; a generated struct carries only its table, its accessor and the
//! one-line impls of [`record!`](crate::record).
//!
//! Why: serde's derives (and, before them, a per-field generic table) made
//! the compiler type-check and borrow-check generic code for every field of
//! every schema in the generated crate — most of the compile time of a big
//! API (compute v1: 1,538 structs, 6,177 fields). Here the per-field code is
//! a reference coercion, and the generic serde code is instantiated once per
//! serializer, not once per struct.
//!
//! Wire behaviour is that of `#[derive(Serialize, Deserialize)]` with
//! `#[serde(default)]` and `skip_serializing_if = "Option::is_none"` on
//! every field: absent and `null` fields read as `None`, `None` fields are
//! not written, a repeated field keeps its last value — and members the
//! schema does not know are kept, in order, in the struct's
//! [`UnknownFields`] and written back after the known fields.

use std::any::{Any, TypeId};
use std::fmt;

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserializer, Serialize};

use super::UnknownFields;

/// A generated struct: its schema name, the wire names of its fields and
/// access to each field by position.
///
/// Implemented by generated code together with [`record!`](crate::record),
/// which derives `Serialize`, `Deserialize`, `Debug` and `PartialEq` from it.
///
/// Index `FIELDS.len()` (one past the last field) is the struct's
/// [`UnknownFields`], where members the schema does not describe are kept;
/// a record that returns `None` there drops them.
pub trait Record: Default + 'static {
    /// The schema name, for messages.
    const NAME: &'static str;
    /// The wire (JSON) names of the fields, in declaration order.
    const FIELDS: &'static [&'static str];
    /// A hash index of [`FIELDS`](Record::FIELDS) that decoding looks keys
    /// up in, written by the generator (the layout is described in
    /// `wire/keys.rs`, the hash is [`key_hash`](super::key_hash)). Empty, the
    /// default: binary search over `FIELDS`, which must then be sorted.
    const INDEX: &'static [u16] = &[];
    /// The field at `index` in [`FIELDS`](Record::FIELDS) (and the unknown
    /// members at `FIELDS.len()`).
    fn field(&self, index: usize) -> Option<&dyn Field>;
    /// The field at `index` in [`FIELDS`](Record::FIELDS), mutably.
    fn field_mut(&mut self, index: usize) -> Option<&mut dyn Field>;
}

/// One field of a [`Record`], type-erased.
///
/// Implemented for `Option<T>` of every wire type (strings, numbers, enums,
/// records, `Vec`, `BTreeMap`, [`Bytes`](crate::Bytes), JSON values) and, for
/// int64s carried as strings, by the adapter [`int64_field`](super::int64_field)
/// returns.
pub trait Field {
    /// Whether the field holds a value (`Some`).
    fn is_set(&self) -> bool;
    /// The value, for serialization (only called when [`is_set`](Field::is_set)).
    fn value(&self) -> &dyn erased_serde::Serialize;
    /// Replaces the field with the value `d` holds (`null` reads as `None`).
    fn read(
        &mut self,
        d: &mut dyn erased_serde::Deserializer<'_>,
    ) -> Result<(), erased_serde::Error>;
    /// The value, for `Debug` (only called when [`is_set`](Field::is_set)).
    fn debug(&self) -> &dyn fmt::Debug;
    /// The field as `Any`, so that [`same`](Field::same) can compare.
    fn as_any(&self) -> &dyn Any;
    /// The field as `Any`, mutably (to find a record's [`UnknownFields`]).
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// Whether `other` is a field of the same type holding an equal value.
    fn same(&self, other: &dyn Field) -> bool;
    /// A direct way to read the field, for the paths that need no type
    /// erasure (nested records, lists of them, enums); `Fast::None` for the
    /// rest. Implemented by the adapters of [`record_field`](super::record_field) and
    /// its siblings.
    #[doc(hidden)]
    fn fast(&mut self) -> super::adapters::Fast<'_> {
        super::adapters::Fast::None
    }
    /// A direct way to write the field's value (only called when set).
    #[doc(hidden)]
    fn fast_ser(&self) -> super::adapters::FastSer<'_> {
        super::adapters::FastSer::None
    }
}

impl<T> Field for Option<T>
where
    T: Serialize + DeserializeOwned + fmt::Debug + PartialEq + 'static,
{
    #[inline]
    fn is_set(&self) -> bool {
        self.is_some()
    }
    fn value(&self) -> &dyn erased_serde::Serialize {
        self
    }
    fn read(
        &mut self,
        d: &mut dyn erased_serde::Deserializer<'_>,
    ) -> Result<(), erased_serde::Error> {
        // In place, so that no value passes through erased-serde's return
        // slot (which boxes anything larger than two words).
        serde::Deserializer::deserialize_option(d, OptionSlot(self))
    }
    fn debug(&self) -> &dyn fmt::Debug {
        match self {
            Some(v) => v,
            None => self,
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn same(&self, other: &dyn Field) -> bool {
        other.as_any().downcast_ref::<Self>() == Some(self)
    }
    #[inline]
    fn fast(&mut self) -> super::adapters::Fast<'_> {
        // `T` is known here: each comparison folds to a constant, and the
        // decoder gets the slot from this one virtual call.
        let any: &mut dyn Any = self;
        if TypeId::of::<T>() == TypeId::of::<String>() {
            if let Some(s) = any.downcast_mut::<Option<String>>() {
                return super::adapters::Fast::Str(s);
            }
        } else if TypeId::of::<T>() == TypeId::of::<bool>()
            && let Some(b) = any.downcast_mut::<Option<bool>>()
        {
            return super::adapters::Fast::Bool(b);
        }
        super::adapters::Fast::None
    }
    #[inline]
    fn fast_ser(&self) -> super::adapters::FastSer<'_> {
        let any: &dyn Any = self;
        if TypeId::of::<T>() == TypeId::of::<String>()
            && let Some(Some(s)) = any.downcast_ref::<Option<String>>()
        {
            return super::adapters::FastSer::Str(s);
        }
        super::adapters::FastSer::None
    }
}

/// Reads `null` as `None` and anything else as `Some(T)`, into the slot.
struct OptionSlot<'a, T>(&'a mut Option<T>);

impl<'de, T: DeserializeOwned + 'static> Visitor<'de> for OptionSlot<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // Strings, the most common field, are written into the slot by the
        // visitor that receives them. The `TypeId` test is resolved at
        // compile time.
        if let Some(slot) = (self.0 as &mut dyn Any).downcast_mut::<Option<String>>() {
            return d.deserialize_string(StringSlot(slot));
        }
        *self.0 = Some(T::deserialize(d)?);
        Ok(())
    }
}

/// Receives the string of an [`OptionSlot`] of `String`.
struct StringSlot<'a>(&'a mut Option<String>);

impl Visitor<'_> for StringSlot<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        *self.0 = Some(v.to_owned());
        Ok(())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        *self.0 = Some(v);
        Ok(())
    }
}

/// The object-safe view of a [`Record`] that the functions of this module
/// work on, so that they are compiled once, not once per generated struct.
#[doc(hidden)]
pub trait Fields {
    fn name(&self) -> &'static str;
    fn names(&self) -> &'static [&'static str];
    fn index(&self) -> &'static [u16];
    fn get(&self, index: usize) -> Option<&dyn Field>;
    fn get_mut(&mut self, index: usize) -> Option<&mut dyn Field>;
}

impl<T: Record> Fields for T {
    #[inline]
    fn name(&self) -> &'static str {
        T::NAME
    }
    #[inline]
    fn names(&self) -> &'static [&'static str] {
        T::FIELDS
    }
    #[inline]
    fn index(&self) -> &'static [u16] {
        T::INDEX
    }
    #[inline]
    fn get(&self, index: usize) -> Option<&dyn Field> {
        self.field(index)
    }
    #[inline]
    fn get_mut(&mut self, index: usize) -> Option<&mut dyn Field> {
        self.field_mut(index)
    }
}

pub(super) fn set_fields(r: &dyn Fields) -> impl Iterator<Item = (&'static str, &dyn Field)> + '_ {
    r.names()
        .iter()
        .enumerate()
        .filter_map(|(i, name)| r.get(i).filter(|f| f.is_set()).map(|f| (*name, f)))
}

/// The record's unknown members, if it keeps them.
pub(super) fn unknown(r: &dyn Fields) -> Option<&UnknownFields> {
    r.get(r.names().len())
        .and_then(|f| f.as_any().downcast_ref::<UnknownFields>())
}

pub(super) fn unknown_mut(r: &mut dyn Fields) -> Option<&mut UnknownFields> {
    let n = r.names().len();
    r.get_mut(n)
        .and_then(|f| f.as_any_mut().downcast_mut::<UnknownFields>())
}

/// `Debug` of a generated struct (see [`record!`](crate::record)): the
/// fields that are set, by wire name; `..` when some are not.
#[inline]
pub fn debug_record<T: Record>(v: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    debug_fields(v, f)
}

fn debug_fields(r: &dyn Fields, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut out = f.debug_struct(r.name());
    let mut shown = 0;
    for (name, field) in set_fields(r) {
        out.field(name, field.debug());
        shown += 1;
    }
    if let Some(extra) = unknown(r).filter(|u| !u.is_empty()) {
        out.field("_unknown_fields", extra);
    }
    if shown < r.names().len() {
        out.finish_non_exhaustive()
    } else {
        out.finish()
    }
}

/// `PartialEq` of a generated struct (see [`record!`](crate::record)):
/// field by field.
#[inline]
pub fn eq_record<T: Record>(a: &T, b: &T) -> bool {
    eq_fields(a, b)
}

fn eq_fields(a: &dyn Fields, b: &dyn Fields) -> bool {
    // `..=`: the unknown members count too.
    (0..=a.names().len()).all(|i| match (a.get(i), b.get(i)) {
        (Some(x), Some(y)) => x.same(y),
        (None, None) => true,
        _ => false,
    })
}

/// The `Serialize`, `Deserialize`, `Debug` and `PartialEq` impls of a
/// generated struct that implements [`Record`](crate::wire::Record): each a
/// call into [`gapi::wire`](crate::wire).
///
/// ```
/// #[derive(Clone, Default)]
/// pub struct Task {
///     pub title: Option<String>,
///     pub size: Option<i64>,
///     pub _unknown_fields: gapi::wire::UnknownFields,
/// }
/// impl gapi::wire::Record for Task {
///     const NAME: &'static str = "Task";
///     const FIELDS: &'static [&'static str] = &["title", "size"];
///     fn field(&self, index: usize) -> Option<&dyn gapi::wire::Field> {
///         Some(match index {
///             0 => &self.title,
///             1 => gapi::wire::int64_field(&self.size),
///             2 => &self._unknown_fields,
///             _ => return None,
///         })
///     }
///     fn field_mut(&mut self, index: usize) -> Option<&mut dyn gapi::wire::Field> {
///         Some(match index {
///             0 => &mut self.title,
///             1 => gapi::wire::int64_field_mut(&mut self.size),
///             2 => &mut self._unknown_fields,
///             _ => return None,
///         })
///     }
/// }
/// gapi::record!(Task);
///
/// let json = r#"{"title":"x","newer":{"a":[1]},"size":"7","other":1}"#;
/// let t: Task = gapi::serde_json::from_str(json).unwrap();
/// assert_eq!(t.size, Some(7));
/// assert_eq!(t._unknown_fields.get("other"), Some(&gapi::serde_json::json!(1)));
/// // known fields first, then the unknown ones in the order they came
/// assert_eq!(
///     gapi::serde_json::to_string(&t).unwrap(),
///     r#"{"title":"x","size":"7","newer":{"a":[1]},"other":1}"#
/// );
/// assert_eq!(
///     format!("{t:?}"),
///     r#"Task { title: "x", size: 7, _unknown_fields: {"newer": Object {"a": Array [Number(1)]}, "other": Number(1)} }"#
/// );
/// assert_eq!(t.clone(), t);
/// assert_ne!(t, Task { _unknown_fields: Default::default(), ..t.clone() });
/// ```
#[macro_export]
macro_rules! record {
    ($name:ident) => {
        impl $crate::serde::Serialize for $name {
            #[inline]
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::wire::serialize_record(self, s)
            }
        }
        impl<'de> $crate::serde::Deserialize<'de> for $name {
            #[inline]
            fn deserialize<D: $crate::serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::wire::deserialize_record(d)
            }
        }
        impl ::core::fmt::Debug for $name {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                $crate::wire::debug_record(self, f)
            }
        }
        impl ::core::cmp::PartialEq for $name {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                $crate::wire::eq_record(self, other)
            }
        }
    };
}
