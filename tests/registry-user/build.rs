fn main() {
    // The document is kept in the project (scripts/registry-check.sh copies
    // the repository's), as the README recommends.
    gapi_gen::build::generate_into_out_dir("tasks.v1.json", "tasks_v1.rs").unwrap();
}
