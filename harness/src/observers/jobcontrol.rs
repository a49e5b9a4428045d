//! The job-control own case (`sh-job-stopped-by-sigtstp`): an interactive
//! shell on a pseudo-terminal whose foreground job the terminal's ^Z stops.
//!
//! The terminal is `observers/jobcontrol.py`, run with the system
//! `python3 -I` as the parent program (it does the session, the
//! controlling terminal and the typing; the harness keeps `unsafe` and
//! terminals out of this layer):
//!
//! ```text
//! python3 -I observers/jobcontrol.py .exitmatrix-status SHELL WORDS... -i
//! ```
//!
//! It writes the shell's `$?` after the stop to the status file, or ends
//! with a status of its own that says why there is none: 3 the shell
//! itself stopped, 6 it waits for its stopped job for ever, 7 nothing
//! stopped (a shell without job control runs the job in its own process
//! group, which is orphaned, and Linux discards a terminal's SIGTSTP
//! there), 4 no answer otherwise, 5 no terminal. Every wait in the script
//! has a deadline and it kills the shell's session and the job's group
//! before it ends.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::observers::parent;
use crate::process::spawn::Invocation;

/// The words after the shell's program that make it interactive and keep
/// its start-up files away (`ENV` is `/dev/null` and `HOME` the empty case
/// directory as well).
pub fn interactive_words(shell: &str) -> &'static [&'static str] {
    match shell {
        "bash" => &["--norc", "--noprofile", "-i"],
        "zsh" => &["-f", "-i"],
        _ => &["-i"],
    }
}

/// The script's path in the workspace.
pub fn script_path() -> PathBuf {
    crate::toolchain::probes::workspace_root().join("observers/jobcontrol.py")
}

/// `python3 -I jobcontrol.py STATUS_FILE` followed by `shell` (the shell's
/// program and words), with `python3` looked up on `search_path`. The
/// error is a lowercase fragment.
pub fn invocation(search_path: &str, shell: Vec<OsString>) -> Result<Invocation, String> {
    let python = parent::find_program("python3", search_path).ok_or_else(|| {
        format!(
            "no executable `python3` in {search_path} to be the terminal (Debian package python3)"
        )
    })?;
    let script = script_path();
    if !script.is_file() {
        return Err(format!(
            "the terminal script {} is missing",
            script.display()
        ));
    }
    let mut runner = vec![
        python.into_os_string(),
        "-I".into(),
        script.into_os_string(),
        crate::observers::shell::STATUS_FILE.into(),
    ];
    runner.extend(shell);
    let last = runner.pop().expect("the shell has words");
    Ok(Invocation {
        runner,
        program: PathBuf::from(last),
        args: Vec::new(),
    })
}
