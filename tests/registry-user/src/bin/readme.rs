use gapi_tasks_v1::TasksService;

#[tokio::main]
async fn main() -> gapi::Result<()> {
    let root = std::env::var("TASKS_ROOT_URL").unwrap_or("https://tasks.googleapis.com/".into());
    let token = std::env::var("ACCESS_TOKEN").expect("ACCESS_TOKEN: an OAuth 2.0 access token");
    let client = gapi::Client::new(gapi::Credentials::access_token(token))?;
    let tasks = TasksService::new(client).with_root_url(root);
    for list in tasks.tasklists().list().send().await?.items.unwrap_or_default() {
        println!("{} {}", list.id.unwrap_or_default(), list.title.unwrap_or_default());
    }
    Ok(())
}
