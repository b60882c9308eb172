//! [`UnknownFields`]: the members of a JSON object that its schema, as this
//! version of the discovery document describes it, does not know.
//!
//! Documents change weekly and a user's crate does not: a `File` fetched
//! from Drive may carry members newer than the bundled document. A
//! generated struct keeps them, in the order they came, and writes them
//! back after its known fields, so that a read-modify-write (`get`, change
//! a field, `update`) loses nothing on the server.

use std::any::Any;
use std::fmt;

use serde::Serialize;

use super::record::Field;

/// Members of a JSON object unknown to its schema, in the order they came.
///
/// A generated struct holds one as `_unknown_fields`; its serde, `Debug`
/// and `PartialEq` account for it. Keys never repeat: a member that comes
/// twice keeps its last value.
#[derive(Clone, Default, PartialEq)]
pub struct UnknownFields(Vec<(String, serde_json::Value)>);

impl UnknownFields {
    /// No members.
    pub const fn new() -> Self {
        UnknownFields(Vec::new())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The value of member `name`.
    pub fn get(&self, name: &str) -> Option<&serde_json::Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Sets member `name` (in place if present, else at the end).
    pub fn insert(&mut self, name: impl Into<String>, value: serde_json::Value) {
        let name = name.into();
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// Removes member `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<serde_json::Value> {
        let i = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.remove(i).1)
    }

    /// The members, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &serde_json::Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl fmt::Debug for UnknownFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a UnknownFields {
    type Item = (&'a str, &'a serde_json::Value);
    type IntoIter = Box<dyn Iterator<Item = Self::Item> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl Serialize for UnknownFields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// The slot of a record at index `FIELDS.len()` (see
/// [`Record`](super::Record)): not a field of its own but where unknown
/// members go. Only `as_any`, `same` and `debug` are used on it.
impl Field for UnknownFields {
    fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
    fn value(&self) -> &dyn erased_serde::Serialize {
        self
    }
    fn read(
        &mut self,
        _d: &mut dyn erased_serde::Deserializer<'_>,
    ) -> Result<(), erased_serde::Error> {
        Err(serde::de::Error::custom(
            "unknown fields are read member by member",
        ))
    }
    fn debug(&self) -> &dyn fmt::Debug {
        self
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
}
