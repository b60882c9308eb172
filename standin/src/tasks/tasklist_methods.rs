//! The `tasklists` resource: list, get, insert, update, patch, delete.

use serde_json::Value;

use super::Ctx;
use super::input::TaskListInput;
use super::paging;
use super::render;
use crate::errors::ApiError;

/// What a method gives: a resource, or nothing (`204 No Content`).
pub(crate) type Outcome = Result<Option<Value>, ApiError>;

/// `tasks.tasklists.list`: default 1000 per page, at most 1000.
pub(crate) fn list(ctx: &Ctx<'_>) -> Outcome {
    let size = ctx.query.page_size(1000, ctx.page_cap(1000))?;
    let key = ctx.query.listing_key("tasklists");
    let mut store = ctx.store();
    let user = store.user(ctx.user, ctx.now);
    let items: Vec<Value> = user
        .lists()
        .iter()
        .map(|l| render::task_list(ctx.base_url(), l))
        .collect();
    let (page, next) = paging::page(items, &key, ctx.query.string("pageToken"), size)?;
    Ok(Some(render::collection("tasks#taskLists", page, next)))
}

/// `tasks.tasklists.get`.
pub(crate) fn get(ctx: &Ctx<'_>, list: &str) -> Outcome {
    let mut store = ctx.store();
    let user = store.user(ctx.user, ctx.now);
    Ok(Some(render::task_list(ctx.base_url(), user.list(list)?)))
}

/// `tasks.tasklists.insert`.
pub(crate) fn insert(ctx: &Ctx<'_>) -> Outcome {
    let input = TaskListInput::parse(ctx.body)?;
    let mut store = ctx.store();
    let user = store.user(ctx.user, ctx.now);
    if user.lists().len() >= 2000 {
        return Err(ApiError::new(
            403,
            "quotaExceeded",
            "A user can have up to 2000 task lists.",
        ));
    }
    let list = user.insert_list(input.title("", true), ctx.now);
    Ok(Some(render::task_list(ctx.base_url(), list)))
}

/// `tasks.tasklists.update` (`replace`) and `tasks.tasklists.patch`.
pub(crate) fn modify(ctx: &Ctx<'_>, list: &str, replace: bool) -> Outcome {
    let input = TaskListInput::parse(ctx.body)?;
    let mut store = ctx.store();
    let user = store.user(ctx.user, ctx.now);
    let list = user.list_mut(list)?;
    list.title = input.title(&list.title, replace);
    list.updated = ctx.now;
    Ok(Some(render::task_list(ctx.base_url(), list)))
}

/// `tasks.tasklists.delete`.
pub(crate) fn delete(ctx: &Ctx<'_>, list: &str) -> Outcome {
    let mut store = ctx.store();
    store.user(ctx.user, ctx.now).delete_list(list)?;
    Ok(None)
}
