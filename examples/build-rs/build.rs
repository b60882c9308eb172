//! Generates the Tasks v1 client from `discovery/tasks.v1.json` into OUT_DIR.
//! A changed document regenerates it (rerun-if-changed is printed for you).

fn main() {
    if let Err(e) = gapi_gen::build::generate_into_out_dir("discovery/tasks.v1.json", "tasks_v1.rs")
    {
        // A bad document is a build error that names the file and JSON path.
        panic!("generating the Tasks client failed: {e}");
    }
}
