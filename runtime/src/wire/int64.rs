//! 64-bit integers, which travel as decimal strings (`"123"`); numbers are
//! accepted too. Works for `i64`/`u64` inside any nesting of `Option`, `Vec`
//! and `BTreeMap<String, _>`.
//!
//! As a serde `with` module: `#[serde(with = "gapi::wire::int64")]`. Generated
//! structs reach it through [`int64_field`] / [`int64_field_mut`].

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;

use ref_cast::RefCast;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::Field;

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

/// Serializes integers as decimal strings.
pub fn serialize<T: Int64Repr, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    v.ser(s)
}

/// Deserializes integers from strings or numbers.
pub fn deserialize<'de, T: Int64Repr, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    T::de(d)
}

/// An int64 field of a generated struct as a [`Field`]: decimal strings on
/// the wire (see [`int64_field`]).
#[derive(RefCast, Debug, PartialEq)]
#[repr(transparent)]
#[doc(hidden)]
pub struct Int64Field<T>(T);

impl<T> Int64Field<T> {
    /// The field.
    pub(crate) fn inner(&self) -> &T {
        &self.0
    }
    /// The field, mutably.
    pub(crate) fn inner_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Int64Repr> Serialize for Int64Field<Option<T>> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.ser(s)
    }
}

impl<T> Field for Int64Field<Option<T>>
where
    T: Int64Repr + fmt::Debug + PartialEq + 'static,
{
    #[inline]
    fn is_set(&self) -> bool {
        self.0.is_some()
    }
    fn value(&self) -> &dyn erased_serde::Serialize {
        self
    }
    fn read(
        &mut self,
        d: &mut dyn erased_serde::Deserializer<'_>,
    ) -> Result<(), erased_serde::Error> {
        self.0 = Int64Repr::de(d)?;
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
}

/// An `Option` of `i64`/`u64` (in any nesting of `Vec` and `BTreeMap`) as a
/// [`Field`] that travels as decimal strings, for [`Record::field`](super::Record::field).
#[inline]
pub fn int64_field<T>(v: &Option<T>) -> &dyn Field
where
    T: Int64Repr + fmt::Debug + PartialEq + 'static,
{
    Int64Field::ref_cast(v)
}

/// [`int64_field`], mutably, for [`Record::field_mut`](super::Record::field_mut).
#[inline]
pub fn int64_field_mut<T>(v: &mut Option<T>) -> &mut dyn Field
where
    T: Int64Repr + fmt::Debug + PartialEq + 'static,
{
    Int64Field::ref_cast_mut(v)
}
