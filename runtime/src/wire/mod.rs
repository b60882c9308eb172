//! Google's JSON wire format, for generated types.
//!
//! - [`Record`] and [`record!`](crate::record): generated structs, whose
//!   serde, `Debug` and `PartialEq` impls are written once, here, over a
//!   table of wire names and a field accessor; members a schema does not
//!   know are kept in [`UnknownFields`].
//! - [`int64`]: 64-bit integers travel as decimal strings (`"123"`); numbers
//!   are accepted too, in any nesting of `Option`, `Vec` and
//!   `BTreeMap<String, _>`.
//! - [`Bytes`]: `format: byte` fields, base64; both the standard and the
//!   URL-safe alphabet are accepted, with or without padding.
//! - [`open_enum!`](crate::open_enum): enums that round-trip values the
//!   document does not list.

mod adapters;
mod bytes;
mod enums;
pub mod int64;
mod keys;
mod record;
mod record_serde;
mod unknown;

pub use crate::call::from_json;
#[doc(hidden)]
pub use adapters::{
    BoxedField, EnumField, EnumSlot, Fast, FastSer, RecordField, RecordSeq, RecordSlot,
    RecordsField, RecordsSlot, Value, WireEnum,
};
pub use adapters::{
    boxed_field, boxed_field_mut, enum_field, enum_field_mut, record_field, record_field_mut,
    records_field, records_field_mut,
};
pub use bytes::Bytes;
#[doc(hidden)]
pub use enums::{deserialize_enum, enum_entry, enum_from_wire};
pub use int64::{Int64Repr, int64_field, int64_field_mut};
#[doc(hidden)]
pub use keys::indexed_position;
pub use keys::key_hash;
#[doc(hidden)]
pub use record::Fields;
pub use record::{Field, Record, debug_record, eq_record};
pub use record_serde::{deserialize_record, serialize_record};
pub use unknown::UnknownFields;

#[cfg(test)]
mod tests;
