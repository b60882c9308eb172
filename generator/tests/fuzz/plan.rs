//! Mutation plans: a [`Plan`] is a list of [`Op`]s drawn by a proptest
//! strategy; each op names its targets by number (`at`), which
//! `mutate.rs` takes modulo the candidates of the right kind in the
//! document as it is when the op applies.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::hostile::{self, Hostile};

/// A document-level string field.
#[derive(Debug, Clone, Copy)]
pub enum DocField {
    Name,
    Version,
    Revision,
    Title,
    Description,
    RootUrl,
    ServicePath,
    BatchPath,
    DocumentationLink,
}

impl DocField {
    /// The document key.
    pub fn key(self) -> &'static str {
        match self {
            DocField::Name => "name",
            DocField::Version => "version",
            DocField::Revision => "revision",
            DocField::Title => "title",
            DocField::Description => "description",
            DocField::RootUrl => "rootUrl",
            DocField::ServicePath => "servicePath",
            DocField::BatchPath => "batchPath",
            DocField::DocumentationLink => "documentationLink",
        }
    }
}

/// How two schemas of a cycle refer to each other.
#[derive(Debug, Clone, Copy)]
pub enum Wrap {
    /// `{"$ref": other}`.
    Ref,
    /// An array of the other.
    Array,
    /// A map of the other.
    Map,
    /// An object with a property of the other (a legal cycle).
    Object,
}

/// A change to a parameter.
#[derive(Debug, Clone)]
pub enum ParamChange {
    Location(&'static str),
    Required(bool),
    Repeated(bool),
    /// Adds a name to the method's `parameterOrder`.
    Order(Hostile),
    /// Puts the parameter's own name into `parameterOrder` twice.
    OrderTwice,
}

/// One mutation.
#[derive(Debug, Clone)]
pub enum Op {
    /// Renames a member of a map of names (schemas, properties, resources,
    /// methods, parameters, scopes).
    RenameKey { at: u32, key: u32, to: Hostile },
    /// Renames a top-level schema and every `$ref` to it.
    RenameSchema { at: u32, to: Hostile },
    /// Replaces a value of an `enum` list.
    EnumValue { at: u32, index: u32, to: Hostile },
    /// Sets a string field (description, id, path, format, ...).
    SetText { at: u32, to: Hostile },
    /// Sets a document-level field.
    SetDoc { field: DocField, to: Hostile },
    /// Sets `type` and `format` of a schema node or parameter.
    ChangeType {
        at: u32,
        ty: Option<&'static str>,
        format: Option<&'static str>,
    },
    /// Deletes any value.
    Delete { at: u32 },
    /// Copies a member of a map of names under another name (`case_twin`:
    /// the name with its first letter's case flipped).
    Duplicate {
        at: u32,
        key: u32,
        to: Hostile,
        case_twin: bool,
    },
    /// Makes a top-level schema `{"$ref": itself}`.
    SelfRef { at: u32 },
    /// Points a schema node at the top-level schema holding it.
    RefToOwner { at: u32 },
    /// Makes two top-level schemas refer to each other.
    CycleRefs { a: u32, b: u32, wrap: Wrap },
    /// A `$ref` to a schema that does not exist.
    DanglingRef { at: u32, to: Hostile },
    /// Swaps two values.
    Swap { a: u32, b: u32 },
    /// Replaces a value with another JSON value (often of another type).
    Retype { at: u32, value: Value },
    /// Copies any value into a map of names.
    Graft { from: u32, into: u32, to: Hostile },
    /// Wraps a schema node in `depth` arrays (or maps).
    Nest { at: u32, depth: u8, map: bool },
    /// Changes a parameter.
    Param { at: u32, change: ParamChange },
}

/// A mutant: which seed document, and the ops to apply in order.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Chooses the seed document (modulo the seeds offered).
    pub seed: u32,
    /// The mutations.
    pub ops: Vec<Op>,
}

const TYPES: &[&str] = &[
    "object", "array", "string", "integer", "number", "boolean", "any", "null", "", "Object", "int",
];
const FORMATS: &[&str] = &[
    "int32",
    "uint32",
    "int64",
    "uint64",
    "float",
    "double",
    "byte",
    "date",
    "date-time",
    "google-datetime",
    "google-duration",
    "google-fieldmask",
    "bogus",
];

fn json_value() -> impl Strategy<Value = Value> {
    proptest::sample::select(vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e308),
        json!(u64::MAX),
        json!(""),
        json!("x"),
        json!([]),
        json!({}),
        json!([1, "a", null]),
        json!({"a": 1}),
        json!({"type": "object"}),
        json!({"$ref": ""}),
    ])
}

fn op() -> impl Strategy<Value = Op> {
    let n = any::<u32>;
    let opt =
        |s: &'static [&'static str]| proptest::option::weighted(0.8, proptest::sample::select(s));
    prop_oneof![
        8 => (n(), n(), hostile::name()).prop_map(|(at, key, to)| Op::RenameKey { at, key, to }),
        3 => (n(), hostile::name()).prop_map(|(at, to)| Op::RenameSchema { at, to }),
        3 => (n(), n(), hostile::name()).prop_map(|(at, index, to)| Op::EnumValue { at, index, to }),
        4 => (n(), hostile::text()).prop_map(|(at, to)| Op::SetText { at, to }),
        2 => (
            proptest::sample::select(vec![
                DocField::Name, DocField::Version, DocField::Revision, DocField::Title,
                DocField::Description, DocField::RootUrl, DocField::ServicePath,
                DocField::BatchPath, DocField::DocumentationLink,
            ]),
            hostile::name(),
        )
            .prop_map(|(field, to)| Op::SetDoc { field, to }),
        4 => (n(), opt(TYPES), opt(FORMATS))
            .prop_map(|(at, ty, format)| Op::ChangeType { at, ty, format }),
        3 => n().prop_map(|at| Op::Delete { at }),
        3 => (n(), n(), hostile::name(), any::<bool>())
            .prop_map(|(at, key, to, case_twin)| Op::Duplicate { at, key, to, case_twin }),
        2 => n().prop_map(|at| Op::SelfRef { at }),
        2 => n().prop_map(|at| Op::RefToOwner { at }),
        2 => (
            n(),
            n(),
            proptest::sample::select(vec![Wrap::Ref, Wrap::Array, Wrap::Map, Wrap::Object]),
        )
            .prop_map(|(a, b, wrap)| Op::CycleRefs { a, b, wrap }),
        1 => (n(), hostile::name()).prop_map(|(at, to)| Op::DanglingRef { at, to }),
        2 => (n(), n()).prop_map(|(a, b)| Op::Swap { a, b }),
        2 => (n(), json_value()).prop_map(|(at, value)| Op::Retype { at, value }),
        2 => (n(), n(), hostile::name()).prop_map(|(from, into, to)| Op::Graft { from, into, to }),
        1 => (n(), 1u8..70, any::<bool>()).prop_map(|(at, depth, map)| Op::Nest { at, depth, map }),
        3 => (
            n(),
            prop_oneof![
                proptest::sample::select(vec!["path", "query", "header", ""])
                    .prop_map(ParamChange::Location),
                any::<bool>().prop_map(ParamChange::Required),
                any::<bool>().prop_map(ParamChange::Repeated),
                hostile::name().prop_map(ParamChange::Order),
                Just(ParamChange::OrderTwice),
            ],
        )
            .prop_map(|(at, change)| Op::Param { at, change }),
    ]
}

/// The strategy of mutation plans: one to four ops on one seed.
pub fn plan() -> impl Strategy<Value = Plan> {
    (any::<u32>(), proptest::collection::vec(op(), 1..=4))
        .prop_map(|(seed, ops)| Plan { seed, ops })
}
