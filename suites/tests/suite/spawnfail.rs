//! The spawn failures: which path std's `Command` takes decides what an
//! ENOEXEC file does, and the own cases are run by the columns that say
//! they are.

use std::io;
use std::os::unix::process::ExitStatusExt;

use exitmatrix::observers::registry;
use exitmatrix::observers::spawnfail::{Fixtures, SCRIPT_STATUS};
use exitmatrix::process::spawn;
use exitmatrix::pure::observers::{self as names, SPAWN_CASES};

/// A `Command` with no `pre_exec` hook takes `posix_spawnp` on glibc ≥ 2.24
/// (std's `library/std/src/sys/process/unix/unix.rs`), and glibc's
/// posix_spawn runs no ENOEXEC file with /bin/sh (that retry is kept only
/// for the compat symbol of binaries older than glibc 2.15): `spawn()`
/// fails with ENOEXEC, which std's `decode_error_kind` leaves
/// `Uncategorized`.
#[test]
fn a_plain_command_refuses_a_text_file_without_shebang() {
    let fixtures = Fixtures::create().unwrap();
    let path = fixtures.path("spawn-text-without-shebang").unwrap();
    #[expect(
        clippy::disallowed_methods,
        reason = "std's own spawn path without pre_exec is what is checked"
    )]
    let spawned = std::process::Command::new(&path)
        .env_clear()
        .current_dir(fixtures.dir())
        .stdin(std::process::Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            let status = child.wait().unwrap();
            panic!("posix_spawnp started {}: {status:?}", path.display());
        }
        Err(e) => {
            assert_eq!(e.raw_os_error(), Some(libc::ENOEXEC), "{e}");
            assert_eq!(format!("{:?}", e.kind()), "Uncategorized", "{e}");
        }
    }
}

/// The harness's own std spawn has a `pre_exec` hook, so std forks and
/// calls `execvp`, and glibc's execvp runs an ENOEXEC file with /bin/sh
/// (exec(3)): the script's `exit 7` is the status.
#[test]
fn the_harness_std_spawn_runs_a_text_file_without_shebang_with_sh() {
    let fixtures = Fixtures::create().unwrap();
    let invocation = fixtures.invocation("spawn-text-without-shebang").unwrap();
    let mut spawned = spawn::spawn(&invocation, false).unwrap();
    let status = spawned.child.wait().unwrap();
    assert_eq!(status.code(), Some(SCRIPT_STATUS), "{status:?}");
    assert_eq!(status.signal(), None);
    spawned.finish().unwrap();
}

/// Every spawn case's path fails in execve with the errno its summary
/// names (checked with the harness's std spawn, which reports the child's
/// exec errno), except the two ENOEXEC files, which execvp hands to /bin/sh.
#[test]
fn each_spawn_case_path_gets_its_errno() {
    let fixtures = Fixtures::create().unwrap();
    for (case, errno) in [
        ("spawn-not-found", Some(libc::ENOENT)),
        ("spawn-not-executable", Some(libc::EACCES)),
        ("spawn-through-non-directory", Some(libc::ENOTDIR)),
        ("spawn-name-too-long", Some(libc::ENAMETOOLONG)),
        ("spawn-text-without-shebang", None),
        ("spawn-exec-format-error", None),
    ] {
        let invocation = fixtures.invocation(case).unwrap();
        match spawn::spawn(&invocation, false) {
            Err(e) => assert_eq!(e.raw_os_error(), errno, "{case}: {e}"),
            Ok(mut spawned) => {
                let status = spawned.child.wait().unwrap();
                spawned.finish().unwrap();
                assert_eq!(errno, None, "{case} started: {status:?}");
            }
        }
    }
    assert!(fixtures.invocation("no-such-case").is_err());
}

/// The std column, every shell, py-subprocess and the language runtimes
/// run the spawn cases, and no other column does.
#[test]
fn the_spawn_cases_belong_to_std_the_shells_py_subprocess_and_the_runtimes() {
    for observer in registry::all(exitmatrix::observers::shell::DEFAULT_SEARCH_PATH) {
        let name = observer.name().to_owned();
        let runs = observer
            .own_cases()
            .iter()
            .filter(|c| names::is_spawn_case(c.name))
            .count();
        let expected = name == names::REAPERS[2]
            || names::SHELLS.contains(&name.as_str())
            || name == names::PYTHONS[0]
            || names::RUNTIMES.contains(&name.as_str());
        assert_eq!(runs, if expected { SPAWN_CASES.len() } else { 0 }, "{name}");
    }
}

/// std's view of an `io::Error`: the kind's name, then the errno.
#[test]
fn a_spawn_error_is_reported_as_its_kind_and_errno() {
    let e = io::Error::from_raw_os_error(libc::ENOTDIR);
    let shown: Vec<String> = exitmatrix::observers::spawnfail::reported_error(&e)
        .iter()
        .map(|r| format!("{r:?}"))
        .collect();
    assert_eq!(shown.len(), 2);
    assert!(shown[0].contains("NotADirectory"), "{shown:?}");
    assert!(shown[1].contains("20"), "{shown:?}");
}

/// A runtime's parent that could not start its program writes `error NAME`
/// (and Go a number after it), read as the runtime's error and errno.
#[test]
fn a_runtime_spawn_error_is_read_as_its_name() {
    use exitmatrix::observers::runtime::{parse, Language};
    use exitmatrix::pure::decode::WaitConventions;
    let wait = WaitConventions::LINUX;
    let shown = |language, text: &str| {
        parse(language, text, &wait)
            .unwrap()
            .iter()
            .map(|r| format!("{r:?}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(shown(Language::Node, "error ENOENT\n").contains("ENOENT"));
    assert!(shown(Language::Ruby, "error Errno::ENOTDIR\n").contains("Errno::ENOTDIR"));
    let go = shown(Language::Go, "error Errno, 20\n");
    assert!(go.contains("Errno") && go.contains("20"), "{go}");
}
