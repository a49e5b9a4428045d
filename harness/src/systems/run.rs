//! Starting an emulator (DOSBox, `vamos`) with a clean environment, a time
//! limit and its output in files, and finding it on this machine.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::SystemError;

/// What one run of an emulator left.
#[derive(Debug)]
pub(crate) struct Ran {
    /// How the emulator's process ended, as the host's `wait` saw it.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: Vec<u8>,
}

/// An emulator to start.
pub(crate) struct Tool<'a> {
    /// Its name, for errors.
    pub name: &'static str,
    /// The program.
    pub program: &'a Path,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Its working directory.
    pub dir: &'a Path,
    /// Its whole environment (nothing else is passed on).
    pub env: Vec<(&'static str, OsString)>,
    /// Where its standard output and error go (`<logs>.stdout`, `.stderr`).
    pub logs: PathBuf,
    /// How long it may take before it is killed.
    pub limit: Duration,
}

pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> SystemError {
    let context = context.into();
    move |source| SystemError::Io { context, source }
}

impl Tool<'_> {
    /// Runs the tool to its end, or kills it (by its own pid) at the limit.
    #[expect(
        clippy::disallowed_methods,
        reason = "starts an emulator, which runs the probes inside it"
    )]
    pub fn run(self) -> Result<Ran, SystemError> {
        let out_path = self.logs.with_extension("stdout");
        let err_path = self.logs.with_extension("stderr");
        let out =
            File::create(&out_path).map_err(io(format!("creating {}", out_path.display())))?;
        let err =
            File::create(&err_path).map_err(io(format!("creating {}", err_path.display())))?;
        let mut child = Command::new(self.program)
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (OsStr::new(k), v)))
            .current_dir(self.dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(io(format!("starting {}", self.program.display())))?;
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() >= self.limit => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(SystemError::Timeout {
                        tool: self.name,
                        seconds: self.limit.as_secs(),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(io(format!("waiting for {}", self.name))(e)),
            }
        };
        let stdout =
            std::fs::read(&out_path).map_err(io(format!("reading {}", out_path.display())))?;
        let stderr =
            std::fs::read(&err_path).map_err(io(format!("reading {}", err_path.display())))?;
        Ok(Ran {
            status,
            stdout,
            stderr,
        })
    }
}

/// The last `max` characters of a tool's output, for an error message.
pub(crate) fn tail(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    let skip = text.chars().count().saturating_sub(max);
    let tail: String = text.chars().skip(skip).collect();
    if skip > 0 {
        format!("…{tail}")
    } else {
        tail
    }
}

/// Finds `name` as the environment variable `var` names it (and only
/// there when it is set: a path that is not a file is `None`), else in the
/// directories of `PATH`, else at one of `fixed`.
pub(crate) fn find(var: &str, name: &str, fixed: &[PathBuf]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(fixed.iter().cloned())
        .find(|p| p.is_file())
}

/// The cache directory of `scripts/install-systems.sh`:
/// `${EXITMATRIX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/exitmatrix}`.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("EXITMATRIX_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("exitmatrix"))
}
