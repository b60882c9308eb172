//! Adapters that generated records hand out for their nested records, lists
//! of records and enums, so that these are read and written without type
//! erasure (see [`record_serde`](super::record_serde)).
//!
//! Like [`int64_field`](super::int64_field), each is a `#[repr(transparent)]`
//! view of the field (`ref-cast`, no `unsafe` here): the generated code is a
//! function call in the record's field table, no code of its own.

use std::any::Any;
use std::fmt;

use ref_cast::RefCast;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::record::{Field, Fields, Record};

/// A direct way to read a field (see [`Field::fast`]).
#[doc(hidden)]
pub enum Fast<'a> {
    /// A nested record.
    Record(&'a mut dyn RecordSlot),
    /// A list of records.
    Records(&'a mut dyn RecordsSlot),
    /// An enum, set from its wire string.
    Enum(&'a mut dyn EnumSlot),
    /// A string: the most common field.
    Str(&'a mut Option<String>),
    /// A boolean.
    Bool(&'a mut Option<bool>),
    /// No direct way: type-erased, or by the field's concrete type.
    None,
}

/// A direct way to write a field's value (see [`Field::fast_ser`]).
#[doc(hidden)]
pub enum FastSer<'a> {
    /// A nested record.
    Record(&'a dyn Fields),
    /// A list of records.
    Records(&'a dyn RecordSeq),
    /// A string (a string field, an enum's wire value).
    Str(&'a str),
    /// No direct way.
    None,
}

/// An optional nested record being read.
#[doc(hidden)]
pub trait RecordSlot {
    /// Sets the field to `None`.
    fn clear(&mut self);
    /// Sets the field to a fresh `Some(default)` and returns its fields.
    fn fill(&mut self) -> &mut dyn Fields;
}

/// An optional list of records being read.
#[doc(hidden)]
pub trait RecordsSlot {
    /// Sets the field to `None`.
    fn clear(&mut self);
    /// Sets the field to `Some` of an empty list.
    fn begin(&mut self, size_hint: Option<usize>);
    /// Appends a default record and returns its fields.
    fn push(&mut self) -> &mut dyn Fields;
}

/// A list of records being written.
#[doc(hidden)]
pub trait RecordSeq {
    /// How many.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The record at `i`.
    fn get(&self, i: usize) -> Option<&dyn Fields>;
}

/// An optional enum being read.
#[doc(hidden)]
pub trait EnumSlot {
    /// Sets the field to `None`.
    fn clear(&mut self);
    /// Sets the field to the value of this wire string.
    fn set(&mut self, wire: &str);
}

/// The bounds every field value has.
#[doc(hidden)]
pub trait Value: Serialize + DeserializeOwned + fmt::Debug + PartialEq + 'static {}
impl<T: Serialize + DeserializeOwned + fmt::Debug + PartialEq + 'static> Value for T {}

/// The parts of [`Field`] every adapter writes the same way.
macro_rules! field_basics {
    () => {
        #[inline]
        fn is_set(&self) -> bool {
            self.0.is_some()
        }
        fn value(&self) -> &dyn erased_serde::Serialize {
            &self.0
        }
        fn read(
            &mut self,
            d: &mut dyn erased_serde::Deserializer<'_>,
        ) -> Result<(), erased_serde::Error> {
            self.0 = serde::Deserialize::deserialize(d)?;
            Ok(())
        }
        fn debug(&self) -> &dyn fmt::Debug {
            match &self.0 {
                Some(v) => v,
                None => &self.0,
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
    };
}

/// A nested record field (see [`record_field`]).
#[derive(RefCast, PartialEq)]
#[repr(transparent)]
#[doc(hidden)]
pub struct RecordField<T>(Option<T>);

impl<T: Record + Value> Field for RecordField<T> {
    field_basics!();
    fn fast(&mut self) -> Fast<'_> {
        Fast::Record(self)
    }
    fn fast_ser(&self) -> FastSer<'_> {
        match &self.0 {
            Some(r) => FastSer::Record(r),
            None => FastSer::None,
        }
    }
}

impl<T: Record> RecordSlot for RecordField<T> {
    fn clear(&mut self) {
        self.0 = None;
    }
    fn fill(&mut self) -> &mut dyn Fields {
        self.0.insert(T::default())
    }
}

/// A field holding one record: read and written without type erasure.
#[inline]
pub fn record_field<T: Record + Value>(v: &Option<T>) -> &dyn Field {
    RecordField::ref_cast(v)
}

/// [`record_field`], mutably.
#[inline]
pub fn record_field_mut<T: Record + Value>(v: &mut Option<T>) -> &mut dyn Field {
    RecordField::ref_cast_mut(v)
}

/// A boxed nested record field, for recursive schemas (see [`boxed_field`]).
#[derive(RefCast, PartialEq)]
#[repr(transparent)]
#[doc(hidden)]
pub struct BoxedField<T>(Option<Box<T>>);

impl<T: Record + Value> Field for BoxedField<T> {
    field_basics!();
    fn fast(&mut self) -> Fast<'_> {
        Fast::Record(self)
    }
    fn fast_ser(&self) -> FastSer<'_> {
        match &self.0 {
            Some(r) => FastSer::Record(&**r),
            None => FastSer::None,
        }
    }
}

impl<T: Record> RecordSlot for BoxedField<T> {
    fn clear(&mut self) {
        self.0 = None;
    }
    fn fill(&mut self) -> &mut dyn Fields {
        &mut **self.0.insert(Box::default())
    }
}

/// A field holding one boxed record (a recursive schema).
#[inline]
pub fn boxed_field<T: Record + Value>(v: &Option<Box<T>>) -> &dyn Field {
    BoxedField::ref_cast(v)
}

/// [`boxed_field`], mutably.
#[inline]
pub fn boxed_field_mut<T: Record + Value>(v: &mut Option<Box<T>>) -> &mut dyn Field {
    BoxedField::ref_cast_mut(v)
}

/// A list-of-records field (see [`records_field`]).
#[derive(RefCast, PartialEq)]
#[repr(transparent)]
#[doc(hidden)]
pub struct RecordsField<T>(Option<Vec<T>>);

impl<T: Record + Value> Field for RecordsField<T> {
    field_basics!();
    fn fast(&mut self) -> Fast<'_> {
        Fast::Records(self)
    }
    fn fast_ser(&self) -> FastSer<'_> {
        match &self.0 {
            Some(_) => FastSer::Records(self),
            None => FastSer::None,
        }
    }
}

impl<T: Record> RecordsSlot for RecordsField<T> {
    fn clear(&mut self) {
        self.0 = None;
    }
    fn begin(&mut self, size_hint: Option<usize>) {
        // A hint from the input is capped: it must not make us allocate
        // what the body does not hold.
        self.0 = Some(Vec::with_capacity(size_hint.unwrap_or(0).min(4096)));
    }
    fn push(&mut self) -> &mut dyn Fields {
        let v = self.0.get_or_insert_with(Vec::new);
        let i = v.len();
        v.push(T::default());
        &mut v[i]
    }
}

impl<T: Record> RecordSeq for RecordsField<T> {
    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, Vec::len)
    }
    fn get(&self, i: usize) -> Option<&dyn Fields> {
        self.0
            .as_ref()
            .and_then(|v| v.get(i))
            .map(|r| r as &dyn Fields)
    }
}

/// A field holding a list of records: read and written without type
/// erasure.
#[inline]
pub fn records_field<T: Record + Value>(v: &Option<Vec<T>>) -> &dyn Field {
    RecordsField::ref_cast(v)
}

/// [`records_field`], mutably.
#[inline]
pub fn records_field_mut<T: Record + Value>(v: &mut Option<Vec<T>>) -> &mut dyn Field {
    RecordsField::ref_cast_mut(v)
}

/// The wire string of an enum value (implemented by [`open_enum!`](crate::open_enum)).
#[doc(hidden)]
pub trait WireEnum: for<'a> From<&'a str> {
    /// The value as it travels on the wire.
    fn wire(&self) -> &str;
}

/// An enum field (see [`enum_field`]).
#[derive(RefCast, PartialEq)]
#[repr(transparent)]
#[doc(hidden)]
pub struct EnumField<T>(Option<T>);

impl<T: WireEnum + Value> Field for EnumField<T> {
    field_basics!();
    fn fast(&mut self) -> Fast<'_> {
        Fast::Enum(self)
    }
    fn fast_ser(&self) -> FastSer<'_> {
        match &self.0 {
            Some(e) => FastSer::Str(e.wire()),
            None => FastSer::None,
        }
    }
}

impl<T: WireEnum> EnumSlot for EnumField<T> {
    fn clear(&mut self) {
        self.0 = None;
    }
    fn set(&mut self, wire: &str) {
        self.0 = Some(T::from(wire));
    }
}

/// A field holding an enum: read and written as its wire string directly.
#[inline]
pub fn enum_field<T: WireEnum + Value>(v: &Option<T>) -> &dyn Field {
    EnumField::ref_cast(v)
}

/// [`enum_field`], mutably.
#[inline]
pub fn enum_field_mut<T: WireEnum + Value>(v: &mut Option<T>) -> &mut dyn Field {
    EnumField::ref_cast_mut(v)
}
