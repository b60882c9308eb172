//! Which Tasks v1 method a request is for, from its HTTP method and path, as the
//! discovery document lays them out (paths under `tasks/v1/`).

use axum::http::Method;

use crate::exchange::percent_decode;

/// A Tasks v1 method with its path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    TaskListsList,
    TaskListsInsert,
    TaskListsGet { list: String },
    TaskListsUpdate { list: String },
    TaskListsPatch { list: String },
    TaskListsDelete { list: String },
    TasksList { list: String },
    TasksInsert { list: String },
    TasksGet { list: String, task: String },
    TasksUpdate { list: String, task: String },
    TasksPatch { list: String, task: String },
    TasksDelete { list: String, task: String },
    TasksClear { list: String },
    TasksMove { list: String, task: String },
}

impl Route {
    /// Routes a request; `None` when no method has this HTTP method and path. Path
    /// segments are percent-decoded, so `%40me` works like `@me`.
    pub fn parse(method: &Method, path: &str) -> Option<Route> {
        let path = path.strip_prefix('/').unwrap_or(path);
        let segments: Vec<String> = path.split('/').map(percent_decode).collect();
        if segments.iter().any(String::is_empty) {
            return None;
        }
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let m = method.as_str();
        let own = |x: &str| x.to_string();
        Some(match (m, s.as_slice()) {
            ("GET", ["tasks", "v1", "users", "@me", "lists"]) => Route::TaskListsList,
            ("POST", ["tasks", "v1", "users", "@me", "lists"]) => Route::TaskListsInsert,
            ("GET", ["tasks", "v1", "users", "@me", "lists", l]) => {
                Route::TaskListsGet { list: own(l) }
            }
            ("PUT", ["tasks", "v1", "users", "@me", "lists", l]) => {
                Route::TaskListsUpdate { list: own(l) }
            }
            ("PATCH", ["tasks", "v1", "users", "@me", "lists", l]) => {
                Route::TaskListsPatch { list: own(l) }
            }
            ("DELETE", ["tasks", "v1", "users", "@me", "lists", l]) => {
                Route::TaskListsDelete { list: own(l) }
            }
            ("GET", ["tasks", "v1", "lists", l, "tasks"]) => Route::TasksList { list: own(l) },
            ("POST", ["tasks", "v1", "lists", l, "tasks"]) => Route::TasksInsert { list: own(l) },
            ("POST", ["tasks", "v1", "lists", l, "clear"]) => Route::TasksClear { list: own(l) },
            ("GET", ["tasks", "v1", "lists", l, "tasks", t]) => Route::TasksGet {
                list: own(l),
                task: own(t),
            },
            ("PUT", ["tasks", "v1", "lists", l, "tasks", t]) => Route::TasksUpdate {
                list: own(l),
                task: own(t),
            },
            ("PATCH", ["tasks", "v1", "lists", l, "tasks", t]) => Route::TasksPatch {
                list: own(l),
                task: own(t),
            },
            ("DELETE", ["tasks", "v1", "lists", l, "tasks", t]) => Route::TasksDelete {
                list: own(l),
                task: own(t),
            },
            ("POST", ["tasks", "v1", "lists", l, "tasks", t, "move"]) => Route::TasksMove {
                list: own(l),
                task: own(t),
            },
            _ => return None,
        })
    }

    /// The method id, as in the discovery document.
    pub fn id(&self) -> &'static str {
        match self {
            Route::TaskListsList => "tasks.tasklists.list",
            Route::TaskListsInsert => "tasks.tasklists.insert",
            Route::TaskListsGet { .. } => "tasks.tasklists.get",
            Route::TaskListsUpdate { .. } => "tasks.tasklists.update",
            Route::TaskListsPatch { .. } => "tasks.tasklists.patch",
            Route::TaskListsDelete { .. } => "tasks.tasklists.delete",
            Route::TasksList { .. } => "tasks.tasks.list",
            Route::TasksInsert { .. } => "tasks.tasks.insert",
            Route::TasksGet { .. } => "tasks.tasks.get",
            Route::TasksUpdate { .. } => "tasks.tasks.update",
            Route::TasksPatch { .. } => "tasks.tasks.patch",
            Route::TasksDelete { .. } => "tasks.tasks.delete",
            Route::TasksClear { .. } => "tasks.tasks.clear",
            Route::TasksMove { .. } => "tasks.tasks.move",
        }
    }

    /// Whether the method changes data (and so needs the read-write scope).
    pub fn is_write(&self) -> bool {
        !matches!(
            self,
            Route::TaskListsList
                | Route::TaskListsGet { .. }
                | Route::TasksList { .. }
                | Route::TasksGet { .. }
        )
    }

    /// The method's own query parameters.
    pub fn query_params(&self) -> &'static [&'static str] {
        match self {
            Route::TaskListsList => &["maxResults", "pageToken"],
            Route::TasksList { .. } => &[
                "completedMax",
                "completedMin",
                "dueMax",
                "dueMin",
                "maxResults",
                "pageToken",
                "showAssigned",
                "showCompleted",
                "showDeleted",
                "showHidden",
                "updatedMin",
            ],
            Route::TasksInsert { .. } => &["parent", "previous"],
            Route::TasksMove { .. } => &["destinationTasklist", "parent", "previous"],
            _ => &[],
        }
    }

    /// Whether the method takes a request body.
    pub fn takes_body(&self) -> bool {
        matches!(
            self,
            Route::TaskListsInsert
                | Route::TaskListsUpdate { .. }
                | Route::TaskListsPatch { .. }
                | Route::TasksInsert { .. }
                | Route::TasksUpdate { .. }
                | Route::TasksPatch { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(m: &str, p: &str) -> Option<Route> {
        Route::parse(&Method::from_bytes(m.as_bytes()).unwrap(), p)
    }

    #[test]
    fn every_method() {
        let cases = [
            ("GET", "/tasks/v1/users/@me/lists", "tasks.tasklists.list"),
            (
                "POST",
                "/tasks/v1/users/@me/lists",
                "tasks.tasklists.insert",
            ),
            ("GET", "/tasks/v1/users/@me/lists/L", "tasks.tasklists.get"),
            (
                "PUT",
                "/tasks/v1/users/@me/lists/L",
                "tasks.tasklists.update",
            ),
            (
                "PATCH",
                "/tasks/v1/users/@me/lists/L",
                "tasks.tasklists.patch",
            ),
            (
                "DELETE",
                "/tasks/v1/users/@me/lists/L",
                "tasks.tasklists.delete",
            ),
            ("GET", "/tasks/v1/lists/L/tasks", "tasks.tasks.list"),
            ("POST", "/tasks/v1/lists/L/tasks", "tasks.tasks.insert"),
            ("GET", "/tasks/v1/lists/L/tasks/T", "tasks.tasks.get"),
            ("PUT", "/tasks/v1/lists/L/tasks/T", "tasks.tasks.update"),
            ("PATCH", "/tasks/v1/lists/L/tasks/T", "tasks.tasks.patch"),
            ("DELETE", "/tasks/v1/lists/L/tasks/T", "tasks.tasks.delete"),
            ("POST", "/tasks/v1/lists/L/clear", "tasks.tasks.clear"),
            ("POST", "/tasks/v1/lists/L/tasks/T/move", "tasks.tasks.move"),
        ];
        for (m, p, id) in cases {
            assert_eq!(route(m, p).map(|r| r.id()), Some(id), "{m} {p}");
        }
    }

    #[test]
    fn decoding_and_misses() {
        assert_eq!(
            route("GET", "/tasks/v1/users/%40me/lists/a%2Fb"),
            Some(Route::TaskListsGet { list: "a/b".into() })
        );
        assert_eq!(
            route("GET", "/tasks/v1/lists/%40default/tasks"),
            Some(Route::TasksList {
                list: "@default".into()
            })
        );
        assert!(route("POST", "/tasks/v1/lists/L/tasks/T").is_none());
        assert!(route("GET", "/tasks/v1/lists//tasks").is_none());
        assert!(route("GET", "/tasks/v1/users/@me/lists/").is_none());
        assert!(route("GET", "/tasks/v2/users/@me/lists").is_none());
        assert!(route("GET", "/").is_none());
    }

    #[test]
    fn scopes_and_bodies() {
        assert!(!route("GET", "/tasks/v1/lists/L/tasks").unwrap().is_write());
        assert!(route("POST", "/tasks/v1/lists/L/clear").unwrap().is_write());
        assert!(
            route("PATCH", "/tasks/v1/lists/L/tasks/T")
                .unwrap()
                .takes_body()
        );
        assert!(
            !route("POST", "/tasks/v1/lists/L/tasks/T/move")
                .unwrap()
                .takes_body()
        );
    }
}
