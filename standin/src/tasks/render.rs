//! Task lists and tasks as JSON resources (`tasks#taskList`, `tasks#task`, and the
//! collections), with `selfLink`s and content-derived `etag`s.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::store::{Task, TaskList};
use crate::timefmt;

/// An etag for a JSON value: a quoted digest of its content, so it changes exactly when
/// the resource does.
pub(crate) fn etag(value: &Value) -> String {
    let digest = Sha256::digest(serde_json::to_vec(value).unwrap_or_default());
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..12]))
}

/// Adds an `etag` computed from the rest of the object.
fn with_etag(mut object: Map<String, Value>) -> Value {
    let tag = etag(&Value::Object(object.clone()));
    object.insert("etag".to_string(), Value::String(tag));
    Value::Object(object)
}

/// The `selfLink` of a task list.
pub(crate) fn list_link(base_url: &str, list_id: &str) -> String {
    format!("{base_url}tasks/v1/users/@me/lists/{list_id}")
}

/// A task list resource.
pub(crate) fn task_list(base_url: &str, list: &TaskList) -> Value {
    let mut o = Map::new();
    o.insert("kind".into(), json!("tasks#taskList"));
    o.insert("id".into(), json!(list.id));
    o.insert("title".into(), json!(list.title));
    o.insert("updated".into(), json!(timefmt::format(list.updated)));
    o.insert("selfLink".into(), json!(list_link(base_url, &list.id)));
    with_etag(o)
}

/// A task resource.
pub(crate) fn task(base_url: &str, list: &TaskList, task: &Task) -> Value {
    let mut o = Map::new();
    o.insert("kind".into(), json!("tasks#task"));
    o.insert("id".into(), json!(task.id));
    if let Some(title) = &task.title {
        o.insert("title".into(), json!(title));
    }
    o.insert("updated".into(), json!(timefmt::format(task.updated)));
    o.insert(
        "selfLink".into(),
        json!(format!(
            "{base_url}tasks/v1/lists/{}/tasks/{}",
            list.id, task.id
        )),
    );
    if let Some(parent) = &task.parent {
        o.insert("parent".into(), json!(parent));
    }
    o.insert("position".into(), json!(list.position(&task.id)));
    if let Some(notes) = &task.notes {
        o.insert("notes".into(), json!(notes));
    }
    o.insert("status".into(), json!(task.status.as_str()));
    if let Some(due) = task.due {
        o.insert("due".into(), json!(timefmt::format(due)));
    }
    if let Some(completed) = task.completed {
        o.insert("completed".into(), json!(timefmt::format(completed)));
    }
    if task.deleted {
        o.insert("deleted".into(), json!(true));
    }
    if task.hidden {
        o.insert("hidden".into(), json!(true));
    }
    o.insert(
        "webViewLink".into(),
        json!(format!("{base_url}task/{}", task.id)),
    );
    with_etag(o)
}

/// A collection (`tasks#taskLists` or `tasks#tasks`) holding one page of items.
pub(crate) fn collection(kind: &str, items: Vec<Value>, next_page_token: Option<String>) -> Value {
    let mut o = Map::new();
    o.insert("kind".into(), json!(kind));
    if let Some(token) = next_page_token {
        o.insert("nextPageToken".into(), json!(token));
    }
    o.insert("items".into(), Value::Array(items));
    with_etag(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::store::Status;
    use time::OffsetDateTime;

    #[test]
    fn task_shape() {
        let now = OffsetDateTime::now_utc();
        let mut list = TaskList::new("L".into(), now);
        let mut t = Task::new(now);
        t.title = Some("T".into());
        t.status = Status::Completed;
        t.completed = Some(now);
        let id = t.id.clone();
        list.insert(t, None, None).unwrap();
        let v = task("http://h/", &list, list.task(&id).unwrap());
        assert_eq!(v["kind"], "tasks#task");
        assert_eq!(v["status"], "completed");
        assert_eq!(v["position"], "00000000000000000000");
        assert!(v["completed"].as_str().unwrap().ends_with('Z'));
        assert!(v.get("deleted").is_none() && v.get("parent").is_none());
        assert_eq!(
            v["selfLink"],
            format!("http://h/tasks/v1/lists/{}/tasks/{id}", list.id)
        );
        assert!(v["etag"].as_str().unwrap().starts_with('"'));
    }

    #[test]
    fn etags_follow_content() {
        let now = OffsetDateTime::now_utc();
        let mut list = TaskList::new("L".into(), now);
        let a = task_list("http://h/", &list);
        assert_eq!(a, task_list("http://h/", &list));
        list.title = "M".into();
        assert_ne!(a["etag"], task_list("http://h/", &list)["etag"]);
        let c = collection("tasks#taskLists", vec![a], Some("n".into()));
        assert_eq!(c["nextPageToken"], "n");
        assert_eq!(c["items"].as_array().unwrap().len(), 1);
    }
}
