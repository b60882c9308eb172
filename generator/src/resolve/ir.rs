//! The typed intermediate representation: every Rust name decided, every
//! schema typed, every method's HTTP shape. Emitters read only this.

/// A whole API.
#[derive(Debug, Clone)]
pub struct Api {
    /// Discovery `name`, e.g. `tasks`.
    pub name: String,
    /// Discovery `version`, e.g. `v1`.
    pub version: String,
    /// Document revision (empty when the document has none).
    pub revision: String,
    /// Human title.
    pub title: String,
    /// Description of the API.
    pub description: Option<String>,
    /// Documentation link.
    pub documentation_link: Option<String>,
    /// Root URL.
    pub root_url: String,
    /// Service path.
    pub service_path: String,
    /// Batch path.
    pub batch_path: Option<String>,
    /// Whether bodies are wrapped in `{"data": …}` (`features: [dataWrapper]`).
    pub data_wrapper: bool,
    /// Name of the service struct: the API's name in UpperCamelCase and
    /// `Service`, e.g. `TasksService`.
    pub service_type: String,
    /// OAuth scopes, sorted by URL.
    pub scopes: Vec<Scope>,
    /// Every type of the `schemas` module, sorted by Rust name.
    pub types: Vec<TypeDef>,
    /// Every type of the `params` module (parameter enums, and aliases of
    /// identical ones), sorted by Rust name.
    pub params: Vec<TypeDef>,
    /// Setters of the document-level (standard) parameters a user may set
    /// (`fields`, `quotaUser`, …), for every method; in wire-name order.
    pub standard: Vec<Param>,
    /// The root: top-level methods and resources.
    pub root: Resource,
}

/// An OAuth scope constant.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Constant name, e.g. `TASKS_READONLY`.
    pub const_name: String,
    /// Scope URL.
    pub url: String,
    /// Description.
    pub description: Option<String>,
}

/// A type of the `schemas` module (or of the `params` module).
#[derive(Debug, Clone)]
pub enum TypeDef {
    /// A struct.
    Struct(StructDef),
    /// An open enum.
    Enum(EnumDef),
    /// A type alias (non-object top-level schemas).
    Alias(AliasDef),
}

impl TypeDef {
    /// The Rust name of the type.
    pub fn name(&self) -> &str {
        match self {
            TypeDef::Struct(s) => &s.name,
            TypeDef::Enum(e) => &e.name,
            TypeDef::Alias(a) => &a.name,
        }
    }
}

/// A struct for an object schema.
#[derive(Debug, Clone)]
pub struct StructDef {
    /// Rust name.
    pub name: String,
    /// The discovery path it comes from, e.g. `Task.links[]`.
    pub origin: String,
    /// Description.
    pub doc: Option<String>,
    /// Fields, sorted by wire name.
    pub fields: Vec<Field>,
    /// `gapi::Page` / `gapi::PageItems` impls, when a paginated method returns it.
    pub page: Option<PageImpl>,
}

/// A struct field (always `Option<ty>` in Rust).
#[derive(Debug, Clone)]
pub struct Field {
    /// Rust name (snake case, possibly raw).
    pub rust: String,
    /// JSON name.
    pub wire: String,
    /// Description.
    pub doc: Option<String>,
    /// The type inside the `Option`.
    pub ty: Ty,
    /// Whether the type is boxed (breaks by-value recursion).
    pub boxed: bool,
    /// Whether an int64/uint64 is inside (needs `gapi::wire::int64`).
    pub int64: bool,
    /// Deprecated field.
    pub deprecated: bool,
    /// Output only.
    pub read_only: bool,
}

/// Pagination support of a response struct.
#[derive(Debug, Clone)]
pub struct PageImpl {
    /// Rust name of the next-page-token field.
    pub token_field: String,
    /// Rust name and element type of the items field.
    pub items: Option<(String, Ty)>,
}

/// An open enum.
#[derive(Debug, Clone)]
pub struct EnumDef {
    /// Rust name.
    pub name: String,
    /// Description.
    pub doc: Option<String>,
    /// Variants in document order.
    pub variants: Vec<Variant>,
}

/// An enum variant.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Rust name.
    pub rust: String,
    /// Wire value.
    pub wire: String,
    /// Description.
    pub doc: Option<String>,
    /// Deprecated value.
    pub deprecated: bool,
}

/// A type alias.
#[derive(Debug, Clone)]
pub struct AliasDef {
    /// Rust name.
    pub name: String,
    /// Description.
    pub doc: Option<String>,
    /// Aliased type.
    pub ty: Ty,
}

/// A Rust type, relative to the module it is used in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// `String`.
    String,
    /// `bool`.
    Bool,
    /// `i32`.
    I32,
    /// `u32`.
    U32,
    /// `i64` carried as a JSON string (int64 format).
    I64,
    /// `u64` carried as a JSON string (uint64 format).
    U64,
    /// `i64` carried as a JSON number (integer without format).
    I64Number,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `gapi::Bytes`.
    Bytes,
    /// `gapi::types::DateTime`.
    DateTime,
    /// `gapi::types::Date`.
    Date,
    /// `gapi::types::Duration`.
    Duration,
    /// `gapi::types::FieldMask`.
    FieldMask,
    /// `gapi::serde_json::Value`.
    Value,
    /// A type of the `schemas` module.
    Schema(String),
    /// A parameter enum: a type of the `params` module.
    Local(String),
    /// `Vec<T>`.
    Vec(Box<Ty>),
    /// `BTreeMap<String, T>`.
    Map(Box<Ty>),
}

impl Ty {
    /// Whether an int64/uint64 carried as a string is inside.
    pub fn has_int64(&self) -> bool {
        match self {
            Ty::I64 | Ty::U64 => true,
            Ty::Vec(t) | Ty::Map(t) => t.has_int64(),
            _ => false,
        }
    }
}

/// A resource (or the API root).
#[derive(Debug, Clone)]
pub struct Resource {
    /// Discovery name (empty for the root).
    pub wire: String,
    /// Module name (snake case).
    pub module: String,
    /// Accessor name on the parent.
    pub accessor: String,
    /// Resource struct name, e.g. `TasklistsResource`.
    pub struct_name: String,
    /// Module depth: 0 for the root, 1 for top-level resources.
    pub depth: usize,
    /// Deprecated resource.
    pub deprecated: bool,
    /// Methods, sorted by discovery name.
    pub methods: Vec<Method>,
    /// Sub-resources, sorted by discovery name.
    pub resources: Vec<Resource>,
}

/// HTTP verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// HEAD
    Head,
}

/// A method.
#[derive(Debug, Clone)]
pub struct Method {
    /// Discovery name.
    pub wire: String,
    /// Accessor name on the resource struct.
    pub accessor: String,
    /// Name of the builder, an alias of the module's `Call<marker>`, e.g. `ListCall`.
    pub call_struct: String,
    /// Name of the method's marker type (implements `gapi::MethodSpec`), e.g. `ListMethod`.
    pub marker: String,
    /// Static `MethodInfo` name, e.g. `LIST`.
    pub static_name: String,
    /// Method id.
    pub id: String,
    /// HTTP verb.
    pub http_method: HttpMethod,
    /// Path template relative to the service path.
    pub path: String,
    /// Flat path, when the document has one.
    pub flat_path: Option<String>,
    /// Description.
    pub doc: Option<String>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Positional arguments (required parameters in `parameterOrder`).
    pub args: Vec<Param>,
    /// The request body argument name and type (for a media upload method,
    /// the argument is optional: `None` uploads the media alone).
    pub request: Option<(String, Ty)>,
    /// Setters for all other parameters, sorted by Rust name.
    pub setters: Vec<Param>,
    /// Response type (`None`: no response body).
    pub response: Option<Ty>,
    /// Media upload.
    pub media_upload: Option<MediaUpload>,
    /// Whether `download()` is offered.
    pub download: bool,
    /// Pagination.
    pub pagination: Option<Pagination>,
    /// Method-level API version.
    pub api_version: Option<String>,
    /// Deprecated method.
    pub deprecated: bool,
    /// Bodies are wrapped in `{"data": …}` (the document's `dataWrapper` feature).
    pub data_wrapper: bool,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// In the path template.
    Path,
    /// In the query string.
    Query,
}

/// A method parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Rust name (argument or setter).
    pub rust: String,
    /// The setter that adds one value of a repeated parameter (`add_tags`);
    /// `None` for positional arguments and single-valued parameters.
    pub add: Option<String>,
    /// Wire name.
    pub wire: String,
    /// Scalar type (`Ty::String` is taken as `impl Into<String>`).
    pub ty: Ty,
    /// Repeated parameter.
    pub repeated: bool,
    /// Path or query.
    pub location: Location,
    /// Description.
    pub doc: Option<String>,
    /// Deprecated parameter.
    pub deprecated: bool,
}

/// Media upload details.
#[derive(Debug, Clone)]
pub struct MediaUpload {
    /// Accepted MIME patterns.
    pub accept: Vec<String>,
    /// Maximum size in bytes.
    pub max_size: Option<u64>,
    /// Simple upload path.
    pub simple_path: Option<String>,
    /// Resumable upload path.
    pub resumable_path: Option<String>,
}

/// Where the page token goes on requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLocation {
    /// A query parameter.
    Query,
    /// A field of the request body.
    Body,
}

/// Pagination of a method.
#[derive(Debug, Clone)]
pub struct Pagination {
    /// Where the token goes.
    pub location: TokenLocation,
    /// Wire name of the request token (`pageToken`).
    pub request_token: String,
    /// Whether `items()` is offered (the response implements `PageItems`).
    pub items: bool,
}
