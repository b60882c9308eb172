//! Request bodies: JSON objects checked the way Google checks them (unknown names and
//! wrong types are 400s), read into inputs that tell absent, `null` and a value apart,
//! and applied with update (replace) or patch (merge) semantics.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::store::{Status, Task};
use crate::errors::ApiError;
use crate::timefmt;

/// A field of a request body: absent, explicitly `null`, or a value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field<T> {
    Absent,
    Null,
    Value(T),
}

impl<T: Clone> Field<T> {
    /// The new value of an optional field: patch keeps it when absent, update clears it.
    fn resolve(&self, current: Option<T>, replace: bool) -> Option<T> {
        match self {
            Field::Absent if !replace => current,
            Field::Absent | Field::Null => None,
            Field::Value(v) => Some(v.clone()),
        }
    }
}

/// Parses a body as a JSON object; an empty body is an empty object.
pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::parse_error(format!("Invalid JSON payload received. {e}")))?;
    match value {
        Value::Object(object) => Ok(object),
        _ => Err(ApiError::parse_error(
            "Invalid JSON payload received. Expected an object at the top level.",
        )),
    }
}

/// Refuses names the resource does not have.
fn check_names(object: &Map<String, Value>, known: &[&str]) -> Result<(), ApiError> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(name) => Err(ApiError::invalid(format!(
            "Invalid JSON payload received. Unknown name \"{name}\": Cannot find field."
        ))),
        None => Ok(()),
    }
}

fn wrong_type(resource: &str, name: &str, kind: &str, value: &Value) -> ApiError {
    ApiError::invalid(format!(
        "Invalid value at '{resource}.{name}' ({kind}), {value}"
    ))
}

/// A string field of at most `max_chars` characters.
fn string_field(
    object: &Map<String, Value>,
    resource: &str,
    name: &str,
    max_chars: usize,
) -> Result<Field<String>, ApiError> {
    match object.get(name) {
        None => Ok(Field::Absent),
        Some(Value::Null) => Ok(Field::Null),
        Some(Value::String(s)) if s.chars().count() > max_chars => Err(ApiError::invalid(format!(
            "Invalid value for {name}: longer than {max_chars} characters."
        ))),
        Some(Value::String(s)) => Ok(Field::Value(s.clone())),
        Some(other) => Err(wrong_type(resource, name, "TYPE_STRING", other)),
    }
}

/// A boolean field.
fn bool_field(
    object: &Map<String, Value>,
    resource: &str,
    name: &str,
) -> Result<Field<bool>, ApiError> {
    match object.get(name) {
        None => Ok(Field::Absent),
        Some(Value::Null) => Ok(Field::Null),
        Some(Value::Bool(b)) => Ok(Field::Value(*b)),
        Some(other) => Err(wrong_type(resource, name, "TYPE_BOOL", other)),
    }
}

/// A timestamp field, read with `parse`.
fn time_field(
    object: &Map<String, Value>,
    resource: &str,
    name: &str,
    parse: fn(&str) -> Option<OffsetDateTime>,
) -> Result<Field<OffsetDateTime>, ApiError> {
    match string_field(object, resource, name, 64)? {
        Field::Absent => Ok(Field::Absent),
        Field::Null => Ok(Field::Null),
        Field::Value(s) => parse(&s)
            .map(Field::Value)
            .ok_or_else(|| ApiError::invalid(format!("Invalid value for {name}: {s}"))),
    }
}

/// The names a `Task` has (read-only ones are accepted and ignored).
const TASK_NAMES: &[&str] = &[
    "assignmentInfo",
    "completed",
    "deleted",
    "due",
    "etag",
    "hidden",
    "id",
    "kind",
    "links",
    "notes",
    "parent",
    "position",
    "selfLink",
    "status",
    "title",
    "updated",
    "webViewLink",
];

/// The names a `TaskList` has.
const TASK_LIST_NAMES: &[&str] = &["etag", "id", "kind", "selfLink", "title", "updated"];

/// The writable fields of a `Task` body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaskInput {
    pub title: Field<String>,
    pub notes: Field<String>,
    pub status: Field<Status>,
    pub due: Field<OffsetDateTime>,
    pub completed: Field<OffsetDateTime>,
    pub deleted: Field<bool>,
}

impl TaskInput {
    /// Reads a `Task` body.
    pub fn parse(body: &[u8]) -> Result<TaskInput, ApiError> {
        let object = parse_object(body)?;
        check_names(&object, TASK_NAMES)?;
        let status = match string_field(&object, "task", "status", 64)? {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Value(s) => Field::Value(Status::parse(&s).ok_or_else(|| {
                ApiError::invalid(format!(
                    "Invalid value for status: {s}. It must be needsAction or completed."
                ))
            })?),
        };
        Ok(TaskInput {
            title: string_field(&object, "task", "title", 1024)?,
            notes: string_field(&object, "task", "notes", 8192)?,
            status,
            due: time_field(&object, "task", "due", timefmt::parse_due)?,
            completed: time_field(&object, "task", "completed", timefmt::parse)?,
            deleted: bool_field(&object, "task", "deleted")?,
        })
    }

    /// Applies the input to a task: `replace` for update (absent fields are cleared),
    /// otherwise patch (absent fields are kept, `null` clears). A completed task gets a
    /// completion time (now, unless one is given); a task that needs action has none.
    pub fn apply(&self, task: &mut Task, replace: bool, now: OffsetDateTime) {
        task.title = self.title.resolve(task.title.take(), replace);
        task.notes = self.notes.resolve(task.notes.take(), replace);
        task.due = self.due.resolve(task.due, replace);
        task.deleted = self
            .deleted
            .resolve(Some(task.deleted), replace)
            .unwrap_or(false);
        task.status = self
            .status
            .resolve(Some(task.status), replace)
            .unwrap_or(Status::NeedsAction);
        task.completed = match task.status {
            Status::NeedsAction => None,
            Status::Completed => match self.completed {
                Field::Value(t) => Some(t),
                Field::Absent | Field::Null => task.completed.or(Some(now)),
            },
        };
        task.updated = now;
    }
}

/// The writable fields of a `TaskList` body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaskListInput {
    pub title: Field<String>,
}

impl TaskListInput {
    /// Reads a `TaskList` body.
    pub fn parse(body: &[u8]) -> Result<TaskListInput, ApiError> {
        let object = parse_object(body)?;
        check_names(&object, TASK_LIST_NAMES)?;
        Ok(TaskListInput {
            title: string_field(&object, "task_list", "title", 1024)?,
        })
    }

    /// The title after applying this input to one that is `current`.
    pub fn title(&self, current: &str, replace: bool) -> String {
        self.title
            .resolve(Some(current.to_string()), replace)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    #[test]
    fn body_errors() {
        assert!(parse_object(b"").unwrap().is_empty());
        assert!(parse_object(b"  \n").unwrap().is_empty());
        assert_eq!(parse_object(b"{").unwrap_err().reason, "parseError");
        assert_eq!(parse_object(b"[1]").unwrap_err().code, 400);
        let e = TaskInput::parse(br#"{"titel": "x"}"#).unwrap_err();
        assert!(e.message.contains("Unknown name \"titel\""));
        let e = TaskInput::parse(br#"{"title": 5}"#).unwrap_err();
        assert_eq!(e.message, "Invalid value at 'task.title' (TYPE_STRING), 5");
        assert!(TaskInput::parse(br#"{"status": "done"}"#).is_err());
        assert!(TaskInput::parse(br#"{"due": "someday"}"#).is_err());
        assert!(TaskInput::parse(br#"{"deleted": "yes"}"#).is_err());
        let long = format!(r#"{{"title": "{}"}}"#, "x".repeat(1025));
        assert!(TaskInput::parse(long.as_bytes()).is_err());
        assert!(TaskListInput::parse(br#"{"title": "x", "notes": "y"}"#).is_err());
    }

    #[test]
    fn read_only_fields_are_ignored() {
        let input = TaskInput::parse(
            br#"{"id": "x", "kind": "tasks#task", "etag": "e", "position": "1", "parent": "p",
                 "links": [], "hidden": true, "title": "t"}"#,
        )
        .unwrap();
        assert_eq!(input.title, Field::Value("t".into()));
    }

    #[test]
    fn patch_keeps_and_nulls_clear() {
        let mut task = Task::new(now());
        TaskInput::parse(br#"{"title": "a", "notes": "n", "due": "2024-05-01T10:00:00Z"}"#)
            .unwrap()
            .apply(&mut task, false, now());
        assert_eq!(task.notes.as_deref(), Some("n"));
        TaskInput::parse(br#"{"notes": null}"#)
            .unwrap()
            .apply(&mut task, false, now());
        assert_eq!(task.title.as_deref(), Some("a"));
        assert_eq!(task.notes, None);
        assert!(task.due.is_some());
        TaskInput::parse(br#"{"due": null}"#)
            .unwrap()
            .apply(&mut task, false, now());
        assert!(task.due.is_none());
    }

    #[test]
    fn update_replaces() {
        let mut task = Task::new(now());
        TaskInput::parse(br#"{"title": "a", "notes": "n"}"#)
            .unwrap()
            .apply(&mut task, false, now());
        TaskInput::parse(br#"{"title": "b"}"#)
            .unwrap()
            .apply(&mut task, true, now());
        assert_eq!(task.title.as_deref(), Some("b"));
        assert_eq!(task.notes, None);
    }

    #[test]
    fn completion_follows_status() {
        let mut task = Task::new(now());
        TaskInput::parse(br#"{"status": "completed"}"#)
            .unwrap()
            .apply(&mut task, false, now());
        assert!(task.completed.is_some());
        let first = task.completed;
        TaskInput::parse(br#"{"title": "x"}"#)
            .unwrap()
            .apply(&mut task, false, now());
        assert_eq!(task.completed, first);
        TaskInput::parse(br#"{"status": "completed", "completed": "2020-01-01T00:00:00Z"}"#)
            .unwrap()
            .apply(&mut task, false, now());
        assert_eq!(
            timefmt::format(task.completed.unwrap()),
            "2020-01-01T00:00:00.000Z"
        );
        TaskInput::parse(br#"{"status": "needsAction"}"#)
            .unwrap()
            .apply(&mut task, false, now());
        assert!(task.completed.is_none());
    }

    #[test]
    fn task_list_titles() {
        let input = TaskListInput::parse(br#"{"title": "new"}"#).unwrap();
        assert_eq!(input.title("old", false), "new");
        let empty = TaskListInput::parse(b"{}").unwrap();
        assert_eq!(empty.title("old", false), "old");
        assert_eq!(empty.title("old", true), "");
    }
}
