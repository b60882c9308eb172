//! The `tasks` resource: list, get, insert, update, patch, delete, clear, move.

use serde_json::Value;
use time::OffsetDateTime;

use super::Ctx;
use super::input::TaskInput;
use super::paging;
use super::render;
use super::store::{Status, Task};
use super::tasklist_methods::Outcome;
use crate::errors::ApiError;

/// Whether `value` lies within the optional bounds (both inclusive); a missing value
/// fails any bound.
fn within(
    value: Option<OffsetDateTime>,
    min: Option<OffsetDateTime>,
    max: Option<OffsetDateTime>,
) -> bool {
    if min.is_none() && max.is_none() {
        return true;
    }
    let Some(v) = value else {
        return false;
    };
    min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m)
}

/// `tasks.tasks.list`: default 20 per page, at most 100; completed tasks shown unless
/// `showCompleted=false`, hidden and deleted ones only when asked for.
pub(crate) fn list(ctx: &Ctx<'_>, list: &str) -> Outcome {
    let q = ctx.query;
    let size = q.page_size(20, ctx.page_cap(100))?;
    let show_completed = q.boolean("showCompleted")?.unwrap_or(true);
    let show_deleted = q.boolean("showDeleted")?.unwrap_or(false);
    let show_hidden = q.boolean("showHidden")?.unwrap_or(false);
    // No task is ever assigned here, so showAssigned changes nothing; it is still checked.
    q.boolean("showAssigned")?;
    let (completed_min, completed_max) =
        (q.timestamp("completedMin")?, q.timestamp("completedMax")?);
    let (due_min, due_max) = (q.timestamp("dueMin")?, q.timestamp("dueMax")?);
    let updated_min = q.timestamp("updatedMin")?;

    let mut store = ctx.store();
    let user = store.user(ctx.user, ctx.now);
    let task_list = user.list(list)?;
    let key = q.listing_key(&task_list.id);
    let items: Vec<Value> = task_list
        .ordered()
        .into_iter()
        .filter(|t| show_deleted || !t.deleted)
        .filter(|t| show_hidden || !t.hidden)
        .filter(|t| show_completed || t.status != Status::Completed)
        .filter(|t| within(t.completed, completed_min, completed_max))
        .filter(|t| within(t.due, due_min, due_max))
        .filter(|t| updated_min.is_none_or(|m| t.updated >= m))
        .map(|t| render::task(ctx.base_url(), task_list, t))
        .collect();
    let (page, next) = paging::page(items, &key, q.string("pageToken"), size)?;
    Ok(Some(render::collection("tasks#tasks", page, next)))
}

/// `tasks.tasks.get`.
pub(crate) fn get(ctx: &Ctx<'_>, list: &str, task: &str) -> Outcome {
    let mut store = ctx.store();
    let task_list = store.user(ctx.user, ctx.now).list(list)?;
    let task = task_list.task(task).ok_or_else(ApiError::not_found)?;
    Ok(Some(render::task(ctx.base_url(), task_list, task)))
}

/// `tasks.tasks.insert`, first among its siblings unless `previous` says otherwise.
pub(crate) fn insert(ctx: &Ctx<'_>, list: &str) -> Outcome {
    let input = TaskInput::parse(ctx.body)?;
    let mut task = Task::new(ctx.now);
    input.apply(&mut task, false, ctx.now);
    let parent = ctx.query.string("parent");
    let previous = ctx.query.string("previous");
    let mut store = ctx.store();
    let task_list = store.user(ctx.user, ctx.now).list_mut(list)?;
    let id = task_list.insert(task, parent, previous)?.id.clone();
    let task = task_list.task(&id).ok_or_else(ApiError::not_found)?;
    Ok(Some(render::task(ctx.base_url(), task_list, task)))
}

/// `tasks.tasks.update` (`replace`) and `tasks.tasks.patch`.
pub(crate) fn modify(ctx: &Ctx<'_>, list: &str, task: &str, replace: bool) -> Outcome {
    let input = TaskInput::parse(ctx.body)?;
    let mut store = ctx.store();
    let task_list = store.user(ctx.user, ctx.now).list_mut(list)?;
    let record = task_list.task_mut(task).ok_or_else(ApiError::not_found)?;
    input.apply(record, replace, ctx.now);
    task_list.updated = ctx.now;
    let record = task_list.task(task).ok_or_else(ApiError::not_found)?;
    Ok(Some(render::task(ctx.base_url(), task_list, record)))
}

/// `tasks.tasks.delete`: marks the task and its subtasks deleted.
pub(crate) fn delete(ctx: &Ctx<'_>, list: &str, task: &str) -> Outcome {
    let mut store = ctx.store();
    store
        .user(ctx.user, ctx.now)
        .list_mut(list)?
        .delete(task, ctx.now)?;
    Ok(None)
}

/// `tasks.tasks.clear`: hides completed tasks.
pub(crate) fn clear(ctx: &Ctx<'_>, list: &str) -> Outcome {
    let mut store = ctx.store();
    store.user(ctx.user, ctx.now).list_mut(list)?.clear(ctx.now);
    Ok(None)
}

/// `tasks.tasks.move`: to another parent, position or list.
pub(crate) fn move_task(ctx: &Ctx<'_>, list: &str, task: &str) -> Outcome {
    let q = ctx.query;
    let mut store = ctx.store();
    let user = store.user(ctx.user, ctx.now);
    let destination = user.move_task(
        list,
        task,
        q.string("destinationTasklist"),
        q.string("parent"),
        q.string("previous"),
        ctx.now,
    )?;
    let task_list = user.list(&destination)?;
    let record = task_list.task(task).ok_or_else(ApiError::not_found)?;
    Ok(Some(render::task(ctx.base_url(), task_list, record)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timefmt;

    #[test]
    fn bounds() {
        let t = |s: &str| timefmt::parse(s);
        let v = t("2024-05-01T00:00:00Z");
        assert!(within(v, None, None));
        assert!(within(None, None, None));
        assert!(!within(None, v, None));
        assert!(within(v, v, v));
        assert!(!within(v, t("2024-05-02T00:00:00Z"), None));
        assert!(!within(v, None, t("2024-04-30T00:00:00Z")));
    }
}
