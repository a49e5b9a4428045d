//! Profiles: any file text loads or gives one located error, never a panic.
#![no_main]

use std::sync::OnceLock;

use exitmatrix::pure::observers;
use exitmatrix::pure::profile::{Profile, ProfileError};
use libfuzzer_sys::fuzz_target;
use tempfile::TempDir;

fn dir() -> &'static TempDir {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = TempDir::new().unwrap();
        std::fs::write(
            dir.path().join("base.toml"),
            "signals = \"linux-generic\"\nwait = \"linux\"\n",
        )
        .unwrap();
        dir
    })
}

fuzz_target!(|text: &str| {
    let dir = dir();
    std::fs::write(dir.path().join("t.toml"), text).unwrap();
    match Profile::load(dir.path(), "t", &observers::NATIVE) {
        Ok(_) => {}
        Err(ProfileError::Invalid { location, message }) => {
            assert!(location.line >= 1 && location.column >= 1);
            assert!(!message.contains('\n'), "{message:?}");
        }
        Err(_) => {}
    }
});
