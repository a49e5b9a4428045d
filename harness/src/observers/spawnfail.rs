//! The spawn failures ([`crate::pure::observers::SPAWN_CASES`]): files a
//! parent cannot start, made fresh for each case, and std's view of them.
//!
//! Each case names one path in a new temporary directory (removed when the
//! case ends), by absolute path so that no `PATH` search is involved:
//!
//! | case | path | what `execve` says |
//! |---|---|---|
//! | `spawn-not-found` | `DIR/no-such-program` | `ENOENT` |
//! | `spawn-not-executable` | `DIR/not-executable`, mode 0644 | `EACCES` |
//! | `spawn-through-non-directory` | `DIR/plain-file/program` | `ENOTDIR` |
//! | `spawn-name-too-long` | `DIR/aaa…` (256 bytes) | `ENAMETOOLONG` |
//! | `spawn-text-without-shebang` | `DIR/text-without-shebang`, `exit 7`, 0755 | `ENOEXEC` |
//! | `spawn-exec-format-error` | `DIR/exec-format-error`, an ELF header for `EM_NONE`, 0755 | `ENOEXEC` |
//!
//! The shells and `py-subprocess` run these paths as their probe; the `std`
//! column is [`observe_std`]: the harness's own std `Command` (the one every
//! std-spawned probe goes through, [`crate::process::spawn::spawn`]),
//! reporting the `io::Error` of `spawn()` as its `ErrorKind`'s name and
//! `raw_os_error()`, or, if the program did start, `ExitStatus::code()`.
//!
//! That `Command` has a `pre_exec` hook (the child's reset of core limit,
//! dispositions and mask), and std then starts the child with fork and
//! `execvp` rather than `posix_spawnp` (Rust's
//! `library/std/src/sys/process/unix/unix.rs`: `posix_spawn` returns
//! `Ok(None)`, "not possible", when `get_closures()` is not empty; the
//! fork path ends in `libc::execvp`). glibc's `execvp` runs a file it gets
//! `ENOEXEC` for with `/bin/sh` (exec(3): "If the header of a file isn't
//! recognized (the attempted execve(2) failed with the error ENOEXEC),
//! these functions will execute the shell (/bin/sh) with the path of the
//! file as its first argument"); glibc's `posix_spawnp` does not (its
//! shell retry, `SPAWN_XFLAGS_TRY_SHELL`, is kept only for the compat
//! symbol of binaries older than glibc 2.15). A `Command` without `pre_exec`
//! therefore reports ENOEXEC as an error where this column sees the file
//! run: `suites/tests/suite/spawnfail.rs` checks both.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::observers::observe::{reap_watched, Case, Observation};
use crate::observers::parent::Setting;
use crate::observers::shell::elf_header_for_no_machine;
use crate::process::orphans;
use crate::process::probe::Probe;
use crate::process::reap::StdWait;
use crate::process::spawn::Invocation;
use crate::pure::decode::StateChange;
use crate::pure::view::Reported;

/// The exit status the script of `spawn-text-without-shebang` ends with.
pub const SCRIPT_STATUS: i32 = 7;

/// The files one spawn case needs, in a temporary directory of their own.
#[derive(Debug)]
pub struct Fixtures {
    dir: TempDir,
}

impl Fixtures {
    /// Makes every fixture file. The error is a lowercase fragment.
    pub fn create() -> Result<Fixtures, String> {
        Fixtures::make().map_err(|e| format!("cannot make the spawn fixtures: {e}"))
    }

    fn make() -> std::io::Result<Fixtures> {
        let dir = tempfile::Builder::new()
            .prefix("exitmatrix-spawn-")
            .tempdir()?;
        let write = |name: &str, bytes: &[u8], mode: u32| -> std::io::Result<()> {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes)?;
            crate::os::set_mode(&path, mode)
        };
        write(
            "not-executable",
            b"echo this file is not executable\n",
            0o644,
        )?;
        write("plain-file", b"a regular file, not a directory\n", 0o644)?;
        // The two files a parent execs are written by a short-lived shell,
        // never through a descriptor of this process: a thread of the
        // harness that forks while this process holds a file open for
        // writing hands the descriptor to its child until that child
        // execs, and an `execve` of the file meanwhile fails with
        // `ETXTBSY` (execve(2)) instead of the error the case observes.
        write_elsewhere(
            &dir.path().join("text-without-shebang"),
            format!("exit {SCRIPT_STATUS}\n").as_bytes(),
        )?;
        write_elsewhere(
            &dir.path().join("exec-format-error"),
            &elf_header_for_no_machine(),
        )?;
        Ok(Fixtures { dir })
    }

    /// The path spawn case `case` starts; `None` for a name that is not a
    /// spawn case.
    pub fn path(&self, case: &str) -> Option<PathBuf> {
        let dir = self.dir.path();
        Some(match case {
            "spawn-not-found" => dir.join("no-such-program"),
            "spawn-not-executable" => dir.join("not-executable"),
            "spawn-through-non-directory" => dir.join("plain-file").join("program"),
            // NAME_MAX is 255 on Linux (limits.h); one byte more.
            "spawn-name-too-long" => dir.join("a".repeat(256)),
            "spawn-text-without-shebang" => dir.join("text-without-shebang"),
            "spawn-exec-format-error" => dir.join("exec-format-error"),
            _ => return None,
        })
    }

    /// The invocation of spawn case `case`: its path and no arguments.
    pub fn invocation(&self, case: &str) -> Result<Invocation, String> {
        let program = self
            .path(case)
            .ok_or_else(|| format!("`{case}` is not a spawn case"))?;
        Ok(Invocation {
            runner: Vec::new(),
            program,
            args: Vec::new(),
        })
    }

    /// The directory the fixtures are in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Writes `bytes` to a new file `path` of mode 0755 from a `/bin/sh`
/// child (POSIX `printf` with octal escapes, XCU `printf`), so that the
/// only descriptor ever open for writing on it is the child's.
fn write_elsewhere(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let format: String = bytes.iter().map(|b| format!("\\{b:03o}")).collect();
    #[expect(
        clippy::disallowed_methods,
        reason = "writes a fixture file, not a probe"
    )]
    let output = std::process::Command::new("/bin/sh")
        .env_clear()
        .args([
            "-c",
            r#"umask 022 && printf "$1" > "$2" && chmod 755 "$2""#,
            "sh",
        ])
        .arg(format)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .output()?;
    if !output.status.success() {
        return Err(std::io::Error::other(format!(
            "/bin/sh could not write {}: {} {}",
            path.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let written = std::fs::read(path)?;
    if written != bytes {
        return Err(std::io::Error::other(format!(
            "{} holds {} bytes, not the {} written",
            path.display(),
            written.len(),
            bytes.len()
        )));
    }
    Ok(())
}

/// What std reports for an `io::Error` from `spawn()`: the `ErrorKind`'s
/// name (`NotFound`, `Uncategorized`), then `raw_os_error()` if it has one.
pub fn reported_error(e: &std::io::Error) -> Vec<Reported> {
    let mut reported = vec![Reported::Raised {
        exception: format!("{:?}", e.kind()),
    }];
    if let Some(errno) = e.raw_os_error() {
        reported.push(Reported::Code {
            value: i64::from(errno),
        });
    }
    reported
}

/// Runs spawn case `case` through std's `Command` (the harness's
/// [`crate::process::spawn::spawn`]) and reports what std said: the
/// error's kind and errno, or, for a program that started, its
/// `ExitStatus::code()` (an ending without a code is shown as the child's
/// own ending, `parent signal ...`). The error is an infrastructure
/// failure, a lowercase fragment.
pub fn observe_std(case: &str, setting: &Setting<'_>) -> Result<Observation, String> {
    let fixtures = Fixtures::create()?;
    let invocation = fixtures.invocation(case)?;
    let command = invocation.display();
    let mut probe = match Probe::spawn(true, &invocation, false) {
        Ok(probe) => probe,
        Err(e) => {
            return Ok(Observation {
                command,
                reported: Some(reported_error(&e)),
                notes: vec![format!("Command::spawn failed: {e}")],
                ..Observation::default()
            })
        }
    };
    let case = Case {
        invocation: &invocation,
        core: false,
        wait: setting.wait,
        timeout: setting.timeout,
        grace: setting.grace,
        continue_stops: true,
        interrupt: setting.interrupt,
    };
    let pgid = probe.child().pid();
    let reaped = reap_watched(&StdWait, probe.child(), &case);
    let leaked = orphans::sweep_cell(pgid, probe.dir());
    let (states, watchdog) = reaped?;
    let leftovers = probe
        .finish()
        .map_err(|e| format!("cannot collect the program's output: {e}"))?;
    let last = states
        .last()
        .ok_or_else(|| "std's wait saw no state".to_owned())?;
    let reported = match last.change {
        StateChange::Exited { code } => Reported::Code { value: code },
        change => Reported::Parent { ending: change },
    };
    Ok(Observation {
        command,
        states,
        leftovers,
        watchdog,
        reported: Some(vec![reported]),
        notes: vec!["Command::spawn succeeded: the program started".to_owned()],
        leaked: leaked.iter().map(ToString::to_string).collect(),
    })
}
