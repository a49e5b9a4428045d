//! Running a parent: a program such as a shell or `python3` that starts the
//! probe itself and tells, in its own way, how the probe ended.
//!
//! The harness spawns the parent as it spawns a direct reaper's probe
//! ([`crate::process::probe::Probe`]: on Linux the vfork-style
//! [`crate::process::fastspawn`], with memfd captures and a pooled, empty
//! case directory; elsewhere std's `Command`), so the parent gets the clean
//! environment, the case directory, the core limit and default signal
//! dispositions, and the probe inherits them. Then the harness watches it:
//!
//! - The parent leads its own process group, and the probe is in it (a
//!   non-interactive shell has no job control and makes no group of its
//!   own). The watchdog guards that group as it guards a probe's.
//! - A parent that waits without `WUNTRACED` never hears of a stop, so a
//!   stopped probe would hang it. While the parent runs, the harness looks
//!   at the parent's descendants every [`TICK`]; if one is stopped, it sends
//!   `SIGCONT` to the group, as a direct reaper continues a stopped probe.
//!   Observers whose parent continues the probe itself (the
//!   `py-waitstatus` script) turn this off.
//! - When the parent has ended, and while it is still unreaped (so its
//!   process group id cannot be reused), the watchdog is disarmed and what is
//!   left of the group is killed. Then the parent is reaped and the file it
//!   wrote its report to is read from the case directory.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::observers::observe::{Case, Observation, Observer, ObserverInfo};
use crate::observers::served::{self, Pool};
use crate::os::{self, GroupSignal, Pid};
use crate::process::orphans::{self, Leak};
use crate::process::probe::Probe;
use crate::process::reap::{Control, Observed, Reapable, Reaper, WaitPid};
use crate::process::spawn::{self, CaseDir, Invocation, Server};
use crate::process::watchdog::{Sent, Watchdog};
use crate::pure::catalogue::Behaviour;
use crate::pure::decode::{self, RawStatus, StateChange, WaitConventions};
use crate::pure::observers::{ObserverKind, OwnCase};
use crate::pure::view::Reported;

/// How often the harness looks for a stopped descendant of a running
/// parent.
pub const TICK: Duration = Duration::from_millis(10);

/// What a parent run needs besides its command line.
#[derive(Clone, Copy, Debug)]
pub struct Setting<'a> {
    /// The target's wait-status layout (to decode the parent's own status).
    pub wait: &'a WaitConventions,
    /// How long the parent and its probe may run before the watchdog sends
    /// SIGTERM to their group.
    pub timeout: Duration,
    /// How long after SIGTERM the watchdog sends SIGKILL.
    pub grace: Duration,
    /// The run's interrupt flag (see [`crate::process::watchdog::Watchdog::arm`]).
    pub interrupt: Option<&'a Arc<AtomicUsize>>,
}

impl<'a> Setting<'a> {
    /// The setting of `case`: its wait layout, limits and interrupt flag.
    pub fn of(case: &Case<'a>) -> Setting<'a> {
        Setting {
            wait: case.wait,
            timeout: case.timeout,
            grace: case.grace,
            interrupt: case.interrupt,
        }
    }
}

/// A column whose parent is one program (a shell, rc, cmd, the JVM, a
/// language runtime): what each such observer says of itself, and the
/// rest of its [`Observer`] written once, in the impl below:
///
/// - it is available when its program was found ([`ParentColumn::found`]),
///   and its cells are "not installed" otherwise;
/// - it runs every behaviour but the hostile probes (those with a timeout
///   of their own): they check the harness's watchdog, which signals the
///   parent's whole process group, parent included, so they stay with the
///   reapers;
/// - its report entry is its name, kind, program and how it runs a probe.
pub trait ParentColumn: std::fmt::Debug + Send + Sync {
    /// The column name.
    fn column(&self) -> &str;

    /// The kind of parent, for the report.
    fn kind(&self) -> ObserverKind;

    /// The program the report names (`None` if it was not found).
    fn shown_program(&self) -> Option<String>;

    /// `Ok` if the parent can run here; `Err` says what is missing (`not
    /// installed: no executable ...`).
    fn found(&self) -> Result<(), String>;

    /// How the parent runs a probe, for the report.
    fn how(&self) -> String;

    /// Runs `case`'s probe under the parent ([`Observer::observe`]).
    fn observe_under(&self, case: &Case<'_>) -> Result<Observation, String>;

    /// The parent's own rows ([`Observer::own_cases`]); none by default.
    fn parent_cases(&self) -> Vec<OwnCase> {
        Vec::new()
    }

    /// Runs one of [`ParentColumn::parent_cases`] ([`Observer::observe_own`]).
    fn observe_parent_case(
        &self,
        case: &OwnCase,
        _setting: &Setting<'_>,
    ) -> Result<Observation, String> {
        Err(format!("{} has no case `{}`", self.column(), case.name))
    }
}

impl<T: ParentColumn> Observer for T {
    fn name(&self) -> &str {
        self.column()
    }

    fn observe(&self, case: &Case<'_>) -> Result<Observation, String> {
        self.observe_under(case)
    }

    fn available(&self) -> Result<(), String> {
        self.found()
    }

    fn runs(&self, behaviour: &Behaviour) -> bool {
        behaviour.timeout.is_none()
    }

    fn info(&self) -> ObserverInfo {
        ObserverInfo {
            name: self.column().to_owned(),
            kind: self.kind(),
            program: self.shown_program(),
            installed: self.found().is_ok(),
            how: self.how(),
        }
    }

    fn own_cases(&self) -> Vec<OwnCase> {
        self.parent_cases()
    }

    fn observe_own(&self, case: &OwnCase, setting: &Setting<'_>) -> Result<Observation, String> {
        self.observe_parent_case(case, setting)
    }
}

/// One run of a parent program.
#[derive(Clone, Copy, Debug)]
pub struct ParentRun<'a> {
    /// The parent's whole command line (the probe is among its words).
    pub invocation: &'a Invocation,
    /// Whether the probe may dump core (see [`crate::process::spawn::spawn`]); the
    /// probe inherits the parent's limit.
    pub core: bool,
    /// Whether the harness continues a stopped descendant of the parent.
    pub continue_stops: bool,
    /// The file, in the case directory, the parent writes its report to.
    pub result_file: &'a str,
    /// Limits and conventions.
    pub setting: Setting<'a>,
}

/// How a parent run went.
#[derive(Clone, Debug)]
pub struct ParentEnd {
    /// The parent's own ending, as `waitpid` saw it.
    pub ending: Observed,
    /// What the parent wrote to its result file, if it wrote one.
    pub result: Option<String>,
    /// Output and core files of the parent and the probe.
    pub leftovers: spawn::Leftovers,
    /// The signals the watchdog sent to the group.
    pub watchdog: Sent,
    /// How many times the harness continued a stopped descendant.
    pub continued: usize,
    /// What left the parent's process group and was ended after it.
    pub leaked: Vec<Leak>,
}

/// Runs a parent program to its end. An error is an infrastructure failure,
/// as a lowercase fragment.
pub fn run(run: &ParentRun<'_>) -> Result<ParentEnd, String> {
    let command = run.invocation.display();
    let mut spawned = Probe::spawn(false, run.invocation, run.core)
        .map_err(|e| format!("cannot spawn {command}: {e}"))?;
    let pid = spawned.child().pid();
    // Both spawn paths make the parent the leader of a new process group.
    let pgid = pid;
    let armed = Watchdog::global().arm(
        pgid,
        run.setting.timeout,
        run.setting.grace,
        run.setting.interrupt.cloned(),
    );
    let watched = watch(pid, pgid, run.continue_stops);
    // The parent has ended (or watching failed) but is not reaped: its
    // group id cannot be reused, so killing the group hits only what the
    // parent left behind.
    let watchdog = armed.disarm();
    os::signal_group(pgid, GroupSignal::Kill);
    let ending = reap_parent(spawned.child(), run.setting.wait);
    // The parent's group is reaped: what left it is ended now.
    let leaked = orphans::sweep_cell(pgid, spawned.dir());
    let continued = watched.map_err(|e| format!("cannot watch {command}: {e}"))?;
    let ending = ending.map_err(|e| format!("cannot reap {command}: {e}"))?;
    let result = read_result(spawned.dir(), run.result_file)?;
    if result.is_some() {
        // The parent's own file, read: without it a directory the probe
        // left empty goes back to the fast path's pool for the next cell.
        fs::remove_file(spawned.dir().join(run.result_file))
            .map_err(|e| format!("cannot remove {}: {e}", run.result_file))?;
    }
    let leftovers = spawned
        .finish()
        .map_err(|e| format!("cannot collect the output: {e}"))?;
    Ok(ParentEnd {
        ending,
        result,
        leftovers,
        watchdog,
        continued,
        leaked,
    })
}

/// Reaps the ended parent `child` and returns its final status, as
/// `waitpid(pid, &status, 0)` gives it: through std's `Child::wait` if
/// std started it, else with `waitpid` by pid (whose last state is the
/// parent's end: it has ended before this is called).
fn reap_parent(child: &mut dyn Reapable, wait: &WaitConventions) -> io::Result<Observed> {
    if let Some(child) = child.std_child() {
        let raw = os::raw_wait_status(&child.wait()?);
        return Ok(Observed {
            raw: RawStatus::WaitStatus { status: raw },
            change: decode::decode_wait_status(raw, wait),
        });
    }
    let states = WaitPid.reap(
        child,
        wait,
        &mut Control {
            continue_stops: false,
            before_reap: &mut || {},
        },
    )?;
    states
        .last()
        .copied()
        .ok_or_else(|| io::Error::other("waitpid reported no state"))
}

/// What a parent wrote to `name` in the case directory `dir`: `None` if it
/// wrote nothing (it may have ended before it could).
pub(crate) fn read_result(dir: &Path, name: &str) -> Result<Option<String>, String> {
    match fs::read_to_string(dir.join(name)) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {name}: {e}")),
    }
}

/// Runs `case`'s probe under a parent program: `parent_words` (the parent
/// and the words it takes before the probe) go in front of the probe's own
/// runner and program. Returns how the parent ended and the command line as
/// a shell would read it back, for the observer to turn into what it
/// reports.
pub fn run_probe(
    parent_words: Vec<OsString>,
    case: &Case<'_>,
    result_file: &str,
    continue_stops: bool,
) -> Result<(ParentEnd, String), String> {
    run_probe_by(parent_words, case, result_file, continue_stops, &run)
}

/// [`run_probe`], with `run_parent` in the place of [`run`] (a forking
/// server's [`run_forked`], say).
pub fn run_probe_by(
    parent_words: Vec<OsString>,
    case: &Case<'_>,
    result_file: &str,
    continue_stops: bool,
    run_parent: &dyn Fn(&ParentRun<'_>) -> Result<ParentEnd, String>,
) -> Result<(ParentEnd, String), String> {
    let mut runner = parent_words;
    runner.extend(case.invocation.runner.iter().cloned());
    let invocation = Invocation {
        runner,
        program: case.invocation.program.clone(),
        args: case.invocation.args.clone(),
    };
    let command = display_command(&invocation);
    let end = run_parent(&ParentRun {
        invocation: &invocation,
        core: case.core,
        continue_stops,
        result_file,
        setting: Setting::of(case),
    })?;
    Ok((end, command))
}

impl ParentEnd {
    /// The observation for a parent whose result file holds one number (a
    /// shell's `$?`): that number, or the parent's own ending if it wrote
    /// nothing.
    pub fn number_or_ending(self, command: String) -> Result<Observation, String> {
        let reported = match self.result.as_deref().map(str::trim) {
            None => Reported::Parent {
                ending: self.ending.change,
            },
            Some(text) => Reported::Code {
                value: text
                    .parse()
                    .map_err(|_| format!("the parent wrote {text:?}, not a number"))?,
            },
        };
        Ok(self.observation(command, vec![reported]))
    }

    /// The observation, given what the parent reported.
    pub fn observation(self, command: String, reported: Vec<Reported>) -> Observation {
        let mut notes = Vec::new();
        let clean = StateChange::Exited { code: 0 };
        if self.result.is_some() && self.ending.change != clean {
            notes.push(format!(
                "the parent reported, then ended with wait status {}",
                self.ending.raw
            ));
        }
        if self.continued > 0 {
            notes.push(format!(
                "the harness continued a stopped process of the parent's group {} time(s)",
                self.continued
            ));
        }
        Observation {
            command,
            states: Vec::new(),
            leftovers: self.leftovers,
            watchdog: self.watchdog,
            reported: Some(reported),
            notes,
            leaked: self.leaked.iter().map(ToString::to_string).collect(),
        }
    }
}

/// Waits until `pid` has ended without reaping it; continues the group when
/// a descendant is stopped. Returns how many times it did.
fn watch(pid: Pid, pgid: Pid, continue_stops: bool) -> io::Result<usize> {
    let pidfd = os::pidfd_open(pid);
    let mut continued = 0;
    let mut last_look = Instant::now();
    loop {
        if crate::process::reap::has_ended(pid)? {
            return Ok(continued);
        }
        match &pidfd {
            Some(fd) => os::wait_readable(fd, TICK),
            // Without pidfds (Linux before 5.3), look often.
            None => std::thread::sleep(Duration::from_millis(1)),
        }
        if continue_stops && last_look.elapsed() >= TICK {
            last_look = Instant::now();
            if any_descendant_stopped(pid) {
                os::signal_group(pgid, GroupSignal::Continue);
                continued += 1;
            }
        }
    }
}

/// Whether a descendant of `root` is stopped (state `T` in
/// `/proc/<pid>/stat`). Looks at most at 64 processes.
pub(crate) fn any_descendant_stopped(root: Pid) -> bool {
    let mut todo = os::children(root);
    let mut seen = 0;
    while let Some(pid) = todo.pop() {
        seen += 1;
        if seen > 64 {
            break;
        }
        if os::process_state(pid) == Some('T') {
            return true;
        }
        todo.extend(os::children(pid));
    }
    false
}

/// Quotes `word` for a POSIX shell if it needs it (for reports only).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A command line as a shell would read it back (for reports only).
pub fn display_command(invocation: &Invocation) -> String {
    let words: Vec<String> = invocation
        .argv()
        .iter()
        .map(|w| shell_quote(&w.to_string_lossy()))
        .collect();
    words.join(" ")
}

/// Whether `path` is an executable regular file.
pub fn is_executable(path: &Path) -> bool {
    os::is_executable(path)
}

/// Looks `program` up in `search_path` (colon-separated directories), as
/// `execvp` would, without running anything.
pub fn find_program(program: &str, search_path: &str) -> Option<std::path::PathBuf> {
    search_path
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| is_executable(p))
}

/// How long the harness waits for a forking server's reply that does not
/// depend on the probe (ready, the case's pid, its status once reaped).
pub const SERVER_REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle forking servers, each with the command line that started it.
static FORK_SERVERS: Pool<Vec<OsString>, Server> = Pool::new(stop_fork_server);

/// Whether [`run_forked`] can run here: it needs pidfds, to see the end of
/// a case process that is the server's child, not the harness's.
pub fn can_fork_serve() -> bool {
    os::pidfd_open(Pid::try_from(std::process::id()).unwrap_or(0)).is_some()
}

/// Runs `run` as [`run`] does, but as one request to a forking server
/// started by `start` (a parent program that forks a case process per
/// request: `observers/ruby_observer.rb --serve`): the parent program starts
/// once per worker instead of once per cell. `skip` is how many words of
/// `run.invocation` start the parent program (the rest are the words the
/// case process gets as its arguments).
///
/// The protocol, one line each way, every word but the first two of a case
/// in hex: the server says `ready`; a request `case CORE DIR STDOUT STDERR
/// WORD...` makes it fork the case process, which moves into a process
/// group of its own, the case directory and the case's capture files and
/// core limit, and runs the parent program's own code with the words, and
/// the server replies `pid N`; the harness guards that case process as
/// [`run`] guards a parent (the watchdog on its group, stopped descendants
/// continued, the group killed once it has ended, seen through a pidfd, and
/// before it is reaped), then sends `reap`, and the server reaps it and
/// replies `status N`, the raw wait status; `stop` ends an idle server. The
/// report's command is the equivalent fresh command line. One difference
/// a probe could see: its directory (a new one in the temporary directory,
/// as the fast path's) holds the two capture files, `.exitmatrix-stdout`
/// and `.exitmatrix-stderr`, as `process::spawn`'s std path places them,
/// where the fast path's are memfds; no catalogue probe looks.
///
/// A server that dies, says something unexpected or does not answer in
/// [`SERVER_REPLY_TIMEOUT`] makes the cell "not observed" (an error),
/// never a pass; it is killed, with what is left of the case's group, and
/// the next cell starts a fresh one.
pub fn run_forked(
    start: &Invocation,
    run: &ParentRun<'_>,
    skip: usize,
) -> Result<ParentEnd, String> {
    let argv = run.invocation.argv();
    let hex = |word: &std::ffi::OsStr| -> Result<String, String> {
        let text = word
            .to_str()
            .ok_or_else(|| format!("{word:?} is not UTF-8, which the forking server needs"))?;
        Ok(text.bytes().map(|b| format!("{b:02x}")).collect())
    };
    // Where a fresh parent's case directory is (the temporary directory):
    // the probe sees its working directory's path.
    let dir = CaseDir::new().map_err(|e| format!("cannot make the case directory: {e}"))?;
    let mut request = format!(
        "case {} {} {} {}",
        u8::from(run.core),
        hex(dir.path().as_os_str())?,
        hex(dir.stdout_path().as_os_str())?,
        hex(dir.stderr_path().as_os_str())?
    );
    for word in argv.iter().skip(skip) {
        request.push(' ');
        request.push_str(&hex(word)?);
    }
    let start_argv = start.argv();
    let mut server = fork_server(start, &start_argv)?;
    let mut case_pid = None;
    match serve_case(&mut server, &request, run, &mut case_pid) {
        Ok((status, watchdog, continued)) => {
            FORK_SERVERS.put(start_argv, server);
            let ending = Observed {
                raw: RawStatus::WaitStatus { status },
                change: decode::decode_wait_status(status, run.setting.wait),
            };
            let result = read_result(dir.path(), run.result_file)?;
            // The case process is reaped: what left its group is ended
            // before its directory goes.
            let leaked = case_pid
                .map(|pgid| orphans::sweep_cell(pgid, dir.path()))
                .unwrap_or_default();
            let leftovers = dir
                .finish()
                .map_err(|e| format!("cannot collect the output: {e}"))?;
            Ok(ParentEnd {
                ending,
                result,
                leftovers,
                watchdog,
                continued,
                leaked,
            })
        }
        Err(e) => {
            // The case process may outlive a dead server (it is then an
            // orphan): end its group. The server reaps it only on request,
            // so the group id is its own unless the server died and the
            // case process was reaped by another in between.
            if let Some(pid) = case_pid {
                if os::pidfd_open(pid).is_some() {
                    os::signal_group(pid, GroupSignal::Kill);
                }
            }
            Err(served::failed(server, "the forking server", &e))
        }
    }
}

/// A ready server started by `start`: an idle one from the pool, else a
/// new one. An idle server whose output has ended (it died, or the
/// harness's after-run sweep ended it) is dropped: it is not killed, as it
/// may have been reaped already and its pid be another process's now.
fn fork_server(start: &Invocation, start_argv: &[OsString]) -> Result<Server, String> {
    loop {
        let Some(mut server) = FORK_SERVERS.take(start_argv) else {
            break;
        };
        if let Ok(None) = server.receive(Duration::ZERO) {
            return Ok(server);
        }
    }
    let mut server =
        spawn::spawn_server(start).map_err(|e| format!("cannot start the forking server: {e}"))?;
    match server.receive(SERVER_REPLY_TIMEOUT) {
        Ok(Some(line)) if line == "ready" => Ok(server),
        other => {
            let log = server.log(600);
            server.kill();
            Err(format!(
                "the forking server did not start ({other:?}); its last words: {log}"
            ))
        }
    }
}

/// Ends an idle server: asks it to stop, then kills its group and reaps it.
fn stop_fork_server(mut server: Server) {
    if server.send("stop").is_ok() {
        let _ = server.receive(Duration::from_secs(2));
    }
    server.kill();
}

/// Ends every idle forking server (see [`crate::observers::stop_servers`]).
pub fn stop_fork_servers() {
    FORK_SERVERS.stop_all();
}

/// The pids of the idle forking servers whose program is `program` (for
/// tests that kill one).
pub fn idle_fork_server_pids(program: &Path) -> Vec<u32> {
    FORK_SERVERS.pids(
        |argv| argv.first().is_some_and(|p| Path::new(p) == program),
        Server::pid,
    )
}

/// One case on `server`: sends `request`, guards the case process's group
/// and returns its raw wait status, the watchdog's signals and how many
/// times it was continued. `case_pid` gets the case process's pid as soon
/// as it is known.
fn serve_case(
    server: &mut Server,
    request: &str,
    run: &ParentRun<'_>,
    case_pid: &mut Option<Pid>,
) -> Result<(i32, Sent, usize), String> {
    fn reply(server: &mut Server, word: &str) -> Result<i64, String> {
        let line = server
            .receive(SERVER_REPLY_TIMEOUT)
            .map_err(|e| format!("no `{word}`: {e}"))?
            .ok_or_else(|| format!("no `{word}` within {SERVER_REPLY_TIMEOUT:?}"))?;
        line.strip_prefix(word)
            .and_then(|n| n.strip_prefix(' '))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("{line:?} is not `{word} N`"))
    }
    server
        .send(request)
        .map_err(|e| format!("cannot send the case: {e}"))?;
    let pid = Pid::try_from(reply(server, "pid")?).unwrap_or(0);
    if pid <= 1 {
        return Err(format!("{pid} is not a case process's pid"));
    }
    *case_pid = Some(pid);
    // The server reaps the case process only when asked: until then this
    // pidfd is the case process's, and readable once it has ended.
    let pidfd =
        os::pidfd_open(pid).ok_or_else(|| format!("no pidfd for the case process {pid}"))?;
    let setting = &run.setting;
    let armed = Watchdog::global().arm(
        pid,
        setting.timeout,
        setting.grace,
        setting.interrupt.cloned(),
    );
    let mut continued = 0;
    // The watchdog ends the case process by then; one that still runs is
    // stuck.
    let deadline = Instant::now() + setting.timeout + setting.grace + SERVER_REPLY_TIMEOUT;
    let ended = loop {
        if matches!(os::process_state(pid), Some('Z' | 'X') | None) {
            break Ok(());
        }
        if Instant::now() > deadline {
            break Err("no end of the case although the watchdog has ended it".to_owned());
        }
        os::wait_readable(&pidfd, TICK);
        // The server says nothing while its case runs: a line now is
        // wrong, and the end of its output is its death.
        match server.receive(Duration::ZERO) {
            Ok(None) => {}
            Ok(Some(line)) => break Err(format!("{line:?} while the case ran")),
            Err(e) => break Err(format!("the server ended while the case ran: {e}")),
        }
        if run.continue_stops && any_descendant_stopped(pid) {
            os::signal_group(pid, GroupSignal::Continue);
            continued += 1;
        }
    };
    let watchdog = armed.disarm();
    ended?;
    // Ended, not reaped: the group id is still the case process's.
    os::signal_group(pid, GroupSignal::Kill);
    server
        .send("reap")
        .map_err(|e| format!("cannot ask for the reap: {e}"))?;
    let status = i32::try_from(reply(server, "status")?)
        .map_err(|_| "the status is not a wait status".to_owned())?;
    Ok((status, watchdog, continued))
}
