//! Serialization and deserialization of [`Record`]s, over the object-safe
//! [`Fields`] view.
//!
//! Everything here is generic over the serializer or deserializer only —
//! compiled once per format, not once per generated struct. Each field is
//! read or written along the most direct path it allows:
//!
//! - keys are looked up in the struct's precomputed hash index, then by
//!   binary search (the generator writes `FIELDS` sorted by wire name; see
//!   `keys.rs`);
//! - strings, booleans, numbers, lists of strings, maps of strings, int64s
//!   and the string-formatted types (`DateTime`, `Date`, `Duration`,
//!   `FieldMask`) are recognised by their concrete type (one `type_id`, then
//!   comparisons) and read or written by the format directly;
//! - nested records, lists of records and enums — through the adapters of
//!   [`record_field`](super::record_field), [`records_field`](super::records_field),
//!   [`boxed_field`](super::boxed_field) and [`enum_field`](super::enum_field) —
//!   recurse with the same deserializer, without type erasure;
//! - anything else goes through erased-serde ([`Field::read`] / [`Field::value`]).

use std::any::TypeId;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::UnknownFields;
use super::adapters::{EnumSlot, Fast, FastSer, RecordSeq, RecordSlot, RecordsSlot};
use super::int64::{Int64Field, Int64Repr};
use super::record::{Field, Fields, Record, set_fields, unknown, unknown_mut};
use crate::types::{Date, DateTime, Duration, FieldMask};

/// `Serialize` of a generated struct (see [`record!`](crate::record)): a map
/// of the fields that are set, then the unknown members.
#[inline]
pub fn serialize_record<T: Record, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    RecordSer(v).serialize(s)
}

struct RecordSer<'a>(&'a dyn Fields);

impl Serialize for RecordSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let extra = unknown(self.0).filter(|u| !u.is_empty());
        let len = set_fields(self.0).count() + extra.map_or(0, UnknownFields::len);
        let mut map = s.serialize_map(Some(len))?;
        for (name, field) in set_fields(self.0) {
            map.serialize_key(name)?;
            map.serialize_value(&FieldSer(field))?;
        }
        for (name, value) in extra.into_iter().flatten() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// One set field's value, written directly where its type allows.
struct FieldSer<'a>(&'a dyn Field);

impl Serialize for FieldSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.fast_ser() {
            FastSer::Record(r) => return RecordSer(r).serialize(s),
            FastSer::Records(seq) => return RecordsSer(seq).serialize(s),
            FastSer::Str(v) => return s.serialize_str(v),
            FastSer::None => {}
        }
        let any = self.0.as_any();
        let id = any.type_id();
        macro_rules! direct {
            ($($t:ty),*) => {$(
                if id == TypeId::of::<Option<$t>>()
                    && let Some(Some(v)) = any.downcast_ref::<Option<$t>>()
                {
                    return v.serialize(s);
                }
            )*};
        }
        // (strings come through `fast_ser` above)
        direct!(bool, i32, u32, f64, f32, Vec<String>, BTreeMap<String, String>);
        macro_rules! wire_strings {
            ($($t:ty),*) => {$(
                if id == TypeId::of::<Option<$t>>()
                    && let Some(Some(v)) = any.downcast_ref::<Option<$t>>()
                {
                    return s.serialize_str(v.as_str());
                }
            )*};
        }
        wire_strings!(DateTime, Date, Duration, FieldMask);
        macro_rules! int64s {
            ($($t:ty),*) => {$(
                if id == TypeId::of::<Int64Field<Option<$t>>>()
                    && let Some(v) = any.downcast_ref::<Int64Field<Option<$t>>>()
                {
                    return v.inner().ser(s);
                }
            )*};
        }
        int64s!(i64, u64, Vec<i64>, Vec<u64>);
        self.0.value().serialize(s)
    }
}

struct RecordsSer<'a>(&'a dyn RecordSeq);

impl Serialize for RecordsSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = self.0.len();
        let mut seq = s.serialize_seq(Some(n))?;
        for i in 0..n {
            if let Some(r) = self.0.get(i) {
                seq.serialize_element(&RecordSer(r))?;
            }
        }
        seq.end()
    }
}

/// `Deserialize` of a generated struct (see [`record!`](crate::record)):
/// from a map; members the struct does not know go to its
/// [`UnknownFields`].
#[inline]
pub fn deserialize_record<'de, T: Record, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let mut out = T::default();
    d.deserialize_map(RecordVisitor(&mut out))?;
    Ok(out)
}

struct RecordVisitor<'a>(&'a mut dyn Fields);

impl<'de> Visitor<'de> for RecordVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} object", self.0.name())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let keys = FieldIndex(self.0.names(), self.0.index());
        while let Some(key) = map.next_key_seed(keys)? {
            match key {
                Key::Known(i) => match self.0.get_mut(i) {
                    Some(field) => map.next_value_seed(FieldSeed(field))?,
                    None => {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                },
                Key::Unknown(name) => match unknown_mut(self.0) {
                    Some(extra) => extra.insert(name, map.next_value::<serde_json::Value>()?),
                    None => {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                },
            }
        }
        Ok(())
    }
}

/// A map key: the index of a known field, or the name of an unknown one.
enum Key {
    Known(usize),
    Unknown(String),
}

/// A map key, looked up in the wire names through their index.
#[derive(Clone, Copy)]
struct FieldIndex(&'static [&'static str], &'static [u16]);

impl<'de> DeserializeSeed<'de> for FieldIndex {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for FieldIndex {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(match super::keys::position(self.0, self.1, v) {
            Some(i) => Key::Known(i),
            None => Key::Unknown(v.to_owned()),
        })
    }
}

/// Reads one map value into a field.
struct FieldSeed<'a>(&'a mut dyn Field);

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let field = self.0;
        match field.fast() {
            Fast::Record(slot) => return d.deserialize_option(OptRecord(slot)),
            Fast::Records(slot) => return d.deserialize_option(OptRecords(slot)),
            Fast::Enum(slot) => return d.deserialize_option(OptEnum(slot)),
            Fast::Str(slot) => {
                *slot = Option::<String>::deserialize(d)?;
                return Ok(());
            }
            Fast::Bool(slot) => {
                *slot = Option::<bool>::deserialize(d)?;
                return Ok(());
            }
            Fast::None => {}
        }
        let any = field.as_any_mut();
        let id = (*any).type_id();
        // One virtual call for the type, then plain comparisons; each
        // `downcast_mut` below is known to succeed.
        macro_rules! direct {
            ($($t:ty),*) => {$(
                if id == TypeId::of::<Option<$t>>()
                    && let Some(slot) = any.downcast_mut::<Option<$t>>()
                {
                    *slot = Option::<$t>::deserialize(d)?;
                    return Ok(());
                }
            )*};
        }
        // (strings and booleans come through `fast` above)
        direct!(i32, u32, f64, f32, Vec<String>, BTreeMap<String, String>);
        // The string-formatted types keep the wire string as it is.
        macro_rules! wire_strings {
            ($($t:ty),*) => {$(
                if id == TypeId::of::<Option<$t>>()
                    && let Some(slot) = any.downcast_mut::<Option<$t>>()
                {
                    *slot = Option::<String>::deserialize(d)?.map(<$t>::from);
                    return Ok(());
                }
            )*};
        }
        wire_strings!(DateTime, Date, Duration, FieldMask);
        // int64s: decimal strings (numbers accepted), through their adapter.
        macro_rules! int64s {
            ($($t:ty),*) => {$(
                if id == TypeId::of::<Int64Field<Option<$t>>>()
                    && let Some(slot) = any.downcast_mut::<Int64Field<Option<$t>>>()
                {
                    *slot.inner_mut() = Int64Repr::de(d)?;
                    return Ok(());
                }
            )*};
        }
        int64s!(i64, u64, Vec<i64>, Vec<u64>);
        let mut erased = <dyn erased_serde::Deserializer>::erase(d);
        field.read(&mut erased).map_err(de::Error::custom)
    }
}

/// `null` or a nested record, read in place.
struct OptRecord<'a>(&'a mut dyn RecordSlot);

impl<'de> Visitor<'de> for OptRecord<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.0.clear();
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.clear();
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(RecordVisitor(self.0.fill()))
    }
}

/// `null` or a list of records, each read in place.
struct OptRecords<'a>(&'a mut dyn RecordsSlot);

impl<'de> Visitor<'de> for OptRecords<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of objects or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.0.clear();
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.clear();
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.begin(seq.size_hint());
        while seq
            .next_element_seed(RecordElement(&mut *self.0))?
            .is_some()
        {}
        Ok(())
    }
}

/// One record of a list.
struct RecordElement<'a>(&'a mut dyn RecordsSlot);

impl<'de> DeserializeSeed<'de> for RecordElement<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(RecordVisitor(self.0.push()))
    }
}

/// `null` or an enum's wire string.
struct OptEnum<'a>(&'a mut dyn EnumSlot);

impl<'de> Visitor<'de> for OptEnum<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an enum string or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.0.clear();
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.clear();
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.set(v);
        Ok(())
    }
}
