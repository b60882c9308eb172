//! Generates, as a `build.rs` user does, the clients the end-to-end tests
//! use besides the committed crates: Colaboratory v1 (`operations.wait` with
//! its own `timeout` parameter, reserved expansion `{+name}`), Drive v3
//! (deprecated parameters) and an older Tasks v1 document that lacks some
//! of the fields the stand-in holds (`docs/tasks.v1.older.json`).

fn main() {
    for (doc, out) in [
        ("docs/colaboratory.v1.json", "colaboratory_v1.rs"),
        ("docs/tasks.v1.older.json", "tasks_v1_older.rs"),
        ("../discovery-docs/drive.v3.json", "drive_v3.rs"),
    ] {
        if let Err(e) = gapi_gen::build::generate_into_out_dir(doc, out) {
            panic!("generating {doc} failed: {e}");
        }
    }
}
