//! The Tasks data: per user, task lists in order (the default list first), and per
//! list, tasks arranged as a tree of ordered siblings. Only data and its rules live
//! here; HTTP and JSON are elsewhere.

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::errors::ApiError;
use crate::random;

/// The alias of a user's default task list.
pub(crate) const DEFAULT_LIST_ALIAS: &str = "@default";
/// The title of the default task list every user starts with.
pub(crate) const DEFAULT_LIST_TITLE: &str = "My Tasks";

/// A task's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    NeedsAction,
    Completed,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NeedsAction => "needsAction",
            Status::Completed => "completed",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "needsAction" => Some(Status::NeedsAction),
            "completed" => Some(Status::Completed),
            _ => None,
        }
    }
}

/// One task.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Task {
    pub id: String,
    pub title: Option<String>,
    pub notes: Option<String>,
    pub status: Status,
    pub due: Option<OffsetDateTime>,
    pub completed: Option<OffsetDateTime>,
    pub deleted: bool,
    pub hidden: bool,
    pub parent: Option<String>,
    pub updated: OffsetDateTime,
}

impl Task {
    /// A new top-level task with a fresh id, needing action.
    pub fn new(now: OffsetDateTime) -> Task {
        Task {
            id: random::resource_id(),
            title: None,
            notes: None,
            status: Status::NeedsAction,
            due: None,
            completed: None,
            deleted: false,
            hidden: false,
            parent: None,
            updated: now,
        }
    }
}

/// One task list and its tasks.
#[derive(Debug, Clone)]
pub(crate) struct TaskList {
    pub id: String,
    pub title: String,
    pub updated: OffsetDateTime,
    tasks: HashMap<String, Task>,
    /// Top-level task ids in order.
    roots: Vec<String>,
    /// Child task ids in order, by parent id.
    children: HashMap<String, Vec<String>>,
}

fn invalid_parent() -> ApiError {
    ApiError::invalid("Invalid parent: the parent task must exist in the task list.")
        .at("parent", "parameter")
}

fn invalid_previous() -> ApiError {
    ApiError::invalid(
        "Invalid previous: the previous task must exist in the task list under the same parent.",
    )
    .at("previous", "parameter")
}

impl TaskList {
    /// An empty list with a fresh id.
    pub fn new(title: String, now: OffsetDateTime) -> TaskList {
        TaskList {
            id: random::resource_id(),
            title,
            updated: now,
            tasks: HashMap::new(),
            roots: Vec::new(),
            children: HashMap::new(),
        }
    }

    /// A task by id.
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.get(id)
    }

    /// A task by id, to change it.
    pub fn task_mut(&mut self, id: &str) -> Option<&mut Task> {
        self.tasks.get_mut(id)
    }

    fn siblings(&self, parent: Option<&str>) -> &[String] {
        match parent {
            None => &self.roots,
            Some(p) => self.children.get(p).map(Vec::as_slice).unwrap_or(&[]),
        }
    }

    fn siblings_mut(&mut self, parent: Option<&str>) -> &mut Vec<String> {
        match parent {
            None => &mut self.roots,
            Some(p) => self.children.entry(p.to_string()).or_default(),
        }
    }

    /// Every task, parents before their subtasks, siblings in order.
    pub fn ordered(&self) -> Vec<&Task> {
        let mut out = Vec::with_capacity(self.tasks.len());
        let mut stack: Vec<&String> = self.roots.iter().rev().collect();
        while let Some(id) = stack.pop() {
            if let Some(task) = self.tasks.get(id) {
                out.push(task);
            }
            if let Some(kids) = self.children.get(id) {
                stack.extend(kids.iter().rev());
            }
        }
        out
    }

    /// The task's `position`: its index among its siblings, zero-padded to 20 digits so
    /// that string order is sibling order.
    pub fn position(&self, id: &str) -> String {
        let parent = self.tasks.get(id).and_then(|t| t.parent.as_deref());
        let index = self
            .siblings(parent)
            .iter()
            .position(|s| s == id)
            .unwrap_or(0);
        format!("{index:020}")
    }

    /// The task and all its subtasks, parents first.
    fn subtree(&self, id: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![id.to_string()];
        while let Some(current) = stack.pop() {
            if let Some(kids) = self.children.get(&current) {
                stack.extend(kids.iter().rev().cloned());
            }
            out.push(current);
        }
        out
    }

    /// Where a task would go: the index among the siblings under `parent`, right after
    /// `previous` (or first). `moving` is the task being moved, if any, already detached.
    fn slot(
        &self,
        parent: Option<&str>,
        previous: Option<&str>,
        moving: Option<&str>,
    ) -> Result<usize, ApiError> {
        if let Some(p) = parent {
            let Some(parent_task) = self.tasks.get(p) else {
                return Err(invalid_parent());
            };
            if parent_task.deleted || parent_task.hidden {
                return Err(invalid_parent());
            }
            if let Some(m) = moving
                && self.subtree(m).iter().any(|id| id == p)
            {
                return Err(ApiError::invalid(
                    "Invalid parent: a task cannot be moved under itself or its subtasks.",
                )
                .at("parent", "parameter"));
            }
        }
        match previous {
            None => Ok(0),
            Some(prev) => {
                if Some(prev) == moving {
                    return Err(invalid_previous());
                }
                self.siblings(parent)
                    .iter()
                    .position(|s| s == prev)
                    .map(|i| i + 1)
                    .ok_or_else(invalid_previous)
            }
        }
    }

    /// Adds a new task under `parent`, right after `previous` (first when `None`).
    pub fn insert(
        &mut self,
        mut task: Task,
        parent: Option<&str>,
        previous: Option<&str>,
    ) -> Result<&Task, ApiError> {
        let index = self.slot(parent, previous, None)?;
        task.parent = parent.map(str::to_string);
        let id = task.id.clone();
        self.siblings_mut(parent).insert(index, id.clone());
        self.updated = task.updated;
        self.tasks.insert(id.clone(), task);
        Ok(&self.tasks[&id])
    }

    /// Takes a task out of its siblings (its subtasks stay with it).
    fn detach(&mut self, id: &str) {
        let parent = self.tasks.get(id).and_then(|t| t.parent.clone());
        let siblings = self.siblings_mut(parent.as_deref());
        siblings.retain(|s| s != id);
        if let Some(p) = parent
            && self.children.get(&p).is_some_and(Vec::is_empty)
        {
            self.children.remove(&p);
        }
    }

    /// Puts a detached task back at `index` under `parent`.
    fn attach(&mut self, id: &str, parent: Option<&str>, index: usize, now: OffsetDateTime) {
        let siblings = self.siblings_mut(parent);
        let index = index.min(siblings.len());
        siblings.insert(index, id.to_string());
        if let Some(task) = self.tasks.get_mut(id) {
            task.parent = parent.map(str::to_string);
            task.updated = now;
        }
        self.updated = now;
    }

    /// Moves a task (with its subtasks) within this list.
    pub fn move_within(
        &mut self,
        id: &str,
        parent: Option<&str>,
        previous: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        if !self.tasks.contains_key(id) {
            return Err(ApiError::not_found());
        }
        let old_parent = self.tasks[id].parent.clone();
        let old_index = self
            .siblings(old_parent.as_deref())
            .iter()
            .position(|s| s == id)
            .unwrap_or(0);
        self.detach(id);
        match self.slot(parent, previous, Some(id)) {
            Ok(index) => {
                self.attach(id, parent, index, now);
                Ok(())
            }
            Err(e) => {
                // Put it back where it was.
                let siblings = self.siblings_mut(old_parent.as_deref());
                let index = old_index.min(siblings.len());
                siblings.insert(index, id.to_string());
                Err(e)
            }
        }
    }

    /// Removes a task and its subtasks from this list, giving them (parents first) and
    /// their child orderings, for [`Self::adopt`] in another list.
    fn remove_subtree(&mut self, id: &str) -> (Vec<Task>, HashMap<String, Vec<String>>) {
        self.detach(id);
        let ids = self.subtree(id);
        let mut tasks = Vec::with_capacity(ids.len());
        let mut children = HashMap::new();
        for current in &ids {
            if let Some(task) = self.tasks.remove(current) {
                tasks.push(task);
            }
            if let Some(kids) = self.children.remove(current) {
                children.insert(current.clone(), kids);
            }
        }
        (tasks, children)
    }

    /// Takes in a subtree removed from another list, at `index` under `parent`.
    fn adopt(
        &mut self,
        (tasks, children): (Vec<Task>, HashMap<String, Vec<String>>),
        parent: Option<&str>,
        index: usize,
        now: OffsetDateTime,
    ) {
        let Some(root) = tasks.first().map(|t| t.id.clone()) else {
            return;
        };
        for task in tasks {
            self.tasks.insert(task.id.clone(), task);
        }
        self.children.extend(children);
        self.attach(&root, parent, index, now);
    }

    /// Marks a task and its subtasks deleted.
    pub fn delete(&mut self, id: &str, now: OffsetDateTime) -> Result<(), ApiError> {
        if !self.tasks.contains_key(id) {
            return Err(ApiError::not_found());
        }
        for current in self.subtree(id) {
            if let Some(task) = self.tasks.get_mut(&current)
                && !task.deleted
            {
                task.deleted = true;
                task.updated = now;
            }
        }
        self.updated = now;
        Ok(())
    }

    /// Hides every completed task (`tasks.clear`).
    pub fn clear(&mut self, now: OffsetDateTime) {
        for task in self.tasks.values_mut() {
            if task.status == Status::Completed && !task.hidden {
                task.hidden = true;
                task.updated = now;
            }
        }
        self.updated = now;
    }
}

/// One user's task lists; the first is the default list.
#[derive(Debug, Clone)]
pub(crate) struct UserTasks {
    lists: Vec<TaskList>,
}

impl UserTasks {
    fn new(now: OffsetDateTime) -> UserTasks {
        UserTasks {
            lists: vec![TaskList::new(DEFAULT_LIST_TITLE.to_string(), now)],
        }
    }

    /// All lists, the default first, then in creation order.
    pub fn lists(&self) -> &[TaskList] {
        &self.lists
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        if id == DEFAULT_LIST_ALIAS {
            return (!self.lists.is_empty()).then_some(0);
        }
        self.lists.iter().position(|l| l.id == id)
    }

    /// A list by id or `@default`.
    pub fn list(&self, id: &str) -> Result<&TaskList, ApiError> {
        self.index_of(id)
            .map(|i| &self.lists[i])
            .ok_or_else(ApiError::not_found)
    }

    /// A list by id or `@default`, to change it.
    pub fn list_mut(&mut self, id: &str) -> Result<&mut TaskList, ApiError> {
        match self.index_of(id) {
            Some(i) => Ok(&mut self.lists[i]),
            None => Err(ApiError::not_found()),
        }
    }

    /// Adds a list at the end.
    pub fn insert_list(&mut self, title: String, now: OffsetDateTime) -> &TaskList {
        self.lists.push(TaskList::new(title, now));
        &self.lists[self.lists.len() - 1]
    }

    /// Deletes a list; the default list cannot be deleted.
    pub fn delete_list(&mut self, id: &str) -> Result<(), ApiError> {
        let index = self.index_of(id).ok_or_else(ApiError::not_found)?;
        if index == 0 {
            return Err(ApiError::invalid(
                "The default task list cannot be deleted.",
            ));
        }
        self.lists.remove(index);
        Ok(())
    }

    /// Moves a task (with its subtasks) to `parent`/`previous` in `destination` (its own
    /// list when `None`). Gives the id of the list it ends up in.
    pub fn move_task(
        &mut self,
        source: &str,
        task: &str,
        destination: Option<&str>,
        parent: Option<&str>,
        previous: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<String, ApiError> {
        let from = self.index_of(source).ok_or_else(ApiError::not_found)?;
        if self.lists[from].task(task).is_none() {
            return Err(ApiError::not_found());
        }
        let to = match destination {
            Some(d) => self.index_of(d).ok_or_else(|| {
                ApiError::invalid("Invalid destinationTasklist.")
                    .at("destinationTasklist", "parameter")
            })?,
            None => from,
        };
        if from == to {
            self.lists[from].move_within(task, parent, previous, now)?;
            return Ok(self.lists[from].id.clone());
        }
        let index = self.lists[to].slot(parent, previous, None)?;
        let subtree = self.lists[from].remove_subtree(task);
        self.lists[from].updated = now;
        self.lists[to].adopt(subtree, parent, index, now);
        Ok(self.lists[to].id.clone())
    }
}

/// Every user's data, made on first use.
#[derive(Debug, Default)]
pub(crate) struct TaskStore {
    users: HashMap<String, UserTasks>,
}

impl TaskStore {
    /// The user's data, created with an empty default list on first use.
    pub fn user(&mut self, email: &str, now: OffsetDateTime) -> &mut UserTasks {
        self.users
            .entry(email.to_string())
            .or_insert_with(|| UserTasks::new(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn titled(title: &str) -> Task {
        let mut t = Task::new(now());
        t.title = Some(title.to_string());
        t.id = title.to_string();
        t
    }

    fn titles(list: &TaskList) -> Vec<String> {
        list.ordered()
            .iter()
            .map(|t| t.title.clone().unwrap())
            .collect()
    }

    #[test]
    fn insert_orders_siblings() {
        let mut l = TaskList::new("l".into(), now());
        l.insert(titled("a"), None, None).unwrap();
        l.insert(titled("b"), None, None).unwrap(); // first
        l.insert(titled("c"), None, Some("a")).unwrap(); // after a
        l.insert(titled("a1"), Some("a"), None).unwrap();
        l.insert(titled("a2"), Some("a"), Some("a1")).unwrap();
        assert_eq!(titles(&l), ["b", "a", "a1", "a2", "c"]);
        assert_eq!(l.position("b"), "00000000000000000000");
        assert_eq!(l.position("a"), "00000000000000000001");
        assert_eq!(l.position("a2"), "00000000000000000001");
        assert_eq!(l.task("a1").unwrap().parent.as_deref(), Some("a"));
        assert!(l.insert(titled("x"), Some("nope"), None).is_err());
        assert!(l.insert(titled("x"), None, Some("a1")).is_err());
        assert!(l.task("x").is_none());
    }

    #[test]
    fn moves_within_a_list() {
        let mut l = TaskList::new("l".into(), now());
        for t in ["c", "b", "a"] {
            l.insert(titled(t), None, None).unwrap();
        }
        l.insert(titled("a1"), Some("a"), None).unwrap();
        l.move_within("a", None, Some("c"), now()).unwrap();
        assert_eq!(titles(&l), ["b", "c", "a", "a1"]);
        l.move_within("c", Some("b"), None, now()).unwrap();
        assert_eq!(titles(&l), ["b", "c", "a", "a1"]);
        assert_eq!(l.task("c").unwrap().parent.as_deref(), Some("b"));
        l.move_within("c", None, None, now()).unwrap();
        assert_eq!(titles(&l), ["c", "b", "a", "a1"]);
        // Not under itself or its subtasks, and not after itself.
        assert!(l.move_within("a", Some("a1"), None, now()).is_err());
        assert!(l.move_within("a", Some("a"), None, now()).is_err());
        assert!(l.move_within("a", None, Some("a"), now()).is_err());
        assert_eq!(titles(&l), ["c", "b", "a", "a1"]);
        assert!(l.move_within("zz", None, None, now()).is_err());
    }

    #[test]
    fn moves_between_lists() {
        let mut store = TaskStore::default();
        let user = store.user("u", now());
        let other = user.insert_list("other".into(), now()).id.clone();
        let default = user.list_mut(DEFAULT_LIST_ALIAS).unwrap();
        default.insert(titled("a"), None, None).unwrap();
        default.insert(titled("a1"), Some("a"), None).unwrap();
        default.insert(titled("b"), None, None).unwrap();
        user.list_mut(&other)
            .unwrap()
            .insert(titled("x"), None, None)
            .unwrap();
        let moved_to = user
            .move_task(
                DEFAULT_LIST_ALIAS,
                "a",
                Some(&other),
                None,
                Some("x"),
                now(),
            )
            .unwrap();
        assert_eq!(moved_to, other);
        assert_eq!(titles(user.list(DEFAULT_LIST_ALIAS).unwrap()), ["b"]);
        assert_eq!(titles(user.list(&other).unwrap()), ["x", "a", "a1"]);
        let err = user.move_task(&other, "a", Some("nope"), None, None, now());
        assert!(err.is_err());
        let err = user.move_task(
            &other,
            "a",
            Some(DEFAULT_LIST_ALIAS),
            Some("zz"),
            None,
            now(),
        );
        assert!(err.is_err());
        assert_eq!(titles(user.list(&other).unwrap()), ["x", "a", "a1"]);
    }

    #[test]
    fn delete_and_clear() {
        let mut l = TaskList::new("l".into(), now());
        l.insert(titled("a"), None, None).unwrap();
        l.insert(titled("a1"), Some("a"), None).unwrap();
        l.insert(titled("b"), None, None).unwrap();
        l.delete("a", now()).unwrap();
        assert!(l.task("a").unwrap().deleted && l.task("a1").unwrap().deleted);
        assert!(!l.task("b").unwrap().deleted);
        assert!(l.delete("zz", now()).is_err());
        l.task_mut("b").unwrap().status = Status::Completed;
        l.clear(now());
        assert!(l.task("b").unwrap().hidden);
        assert!(!l.task("a").unwrap().hidden);
        // A deleted parent cannot take new subtasks.
        assert!(l.insert(titled("c"), Some("a"), None).is_err());
    }

    #[test]
    fn lists_and_default() {
        let mut store = TaskStore::default();
        let user = store.user("u", now());
        assert_eq!(user.lists().len(), 1);
        assert_eq!(
            user.list(DEFAULT_LIST_ALIAS).unwrap().title,
            DEFAULT_LIST_TITLE
        );
        let id = user.insert_list("second".into(), now()).id.clone();
        assert!(user.delete_list(DEFAULT_LIST_ALIAS).is_err());
        let default_id = user.lists()[0].id.clone();
        assert!(user.delete_list(&default_id).is_err());
        user.delete_list(&id).unwrap();
        assert_eq!(user.delete_list(&id).unwrap_err().code, 404);
        assert!(user.list("nope").is_err());
    }
}
