//! `test-matrix --target T --remote HOST:PORT`: a foreign target whose
//! probes run on a device, under `exitmatrix-agent serve` there.
//!
//! The host builds the probes as for a local foreign run, connects to the
//! server, says hello with the token, and then, for each case, pushes the
//! probe binary once (by a name made of its content's hash) and asks the
//! agent to run it as its parent. The answer carries the agent's report
//! text (`agent/main.rs`'s format, read with [`crate::engine::agent::parse`]),
//! the probe's output and its core files' names: a remote case becomes the
//! same [`Observation`](crate::observers::observe::Observation) a local
//! one does, so the columns, the verdicts and the settling are shared. The
//! protocol is [`crate::pure::remote`].
//!
//! A remote has no `host-via-runner` column (the host does not see the
//! device's processes). The server says what it runs under (`native`,
//! `qemu-user`, `wine`), and that emulator's notes are applied, so a
//! server under qemu-user on this machine gives the verdicts of the local
//! runner.
//!
//! **Architecture Invariant:** a connection that is lost, times out or
//! answers garbage makes the affected cells "not observed" (the observer
//! returns an error), never a pass; [`Remote::failure`] keeps the first
//! such error so the command prints it once.
//!
//! The harness's own server on this machine ([`LocalServer`]) is restarted
//! when it crashes, at most [`MAX_RESTARTS`] times a run: the cases that
//! were in flight on it are "not observed" (their rows say that the server
//! ended and was restarted), the ones after run on the new server.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::engine::agent::{self, AgentContext, AgentReport, CaseRunner, View, BACKSTOP};
use crate::engine::error::RunError;
use crate::engine::foreign::{plan, Foreign, Plan, PreparedForeign, WineRun};
use crate::engine::kit;
use crate::engine::run::Request;
use crate::observers::observe::Case;
use crate::process::spawn::Leftovers;
use crate::pure::catalogue::{Behaviour, Build, ProbeBin};
use crate::pure::decode::{StateChange, WaitConventions};
use crate::pure::emulator::{Emulator, HostView};
use crate::pure::observers;
use crate::pure::profile::Profile;
use crate::pure::remote::{self, Message};
use crate::pure::signal::SignalTable;
use crate::pure::target::{Family, Runner, RunnerKind, RunnerSource, TargetSpec};
use crate::report::model::ForeignInfo;
use crate::toolchain::{crossbuild, runners};

/// Where the remote agent is and the token it was started with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteAddr {
    /// `HOST:PORT`.
    pub addr: String,
    /// The shared token.
    pub token: String,
}

/// How long connecting and the hello may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server said when it welcomed us.
#[derive(Clone, Debug)]
pub struct Welcome {
    /// The agent's report family (`unix`, `windows`).
    pub family: String,
    /// What it runs under (`native`, `qemu-user`, `wine`).
    pub under: String,
    /// The words it puts before each probe.
    pub runner: Vec<String>,
}

/// A connected remote agent, shared by the columns and the worker threads.
#[derive(Debug)]
pub struct Remote {
    addr: RemoteAddr,
    welcome: Welcome,
    /// Authenticated connections not in use, with the generation of the
    /// server they are to.
    idle: Mutex<Vec<(TcpStream, u32)>>,
    /// Host path → stored name, for each probe pushed. Held for the whole
    /// of a push: two workers pushing the same probe at once would both
    /// replace the stored file, and Windows refuses to replace a program
    /// that is running ("Access denied", seen under Wine).
    pushed: Mutex<HashMap<PathBuf, String>>,
    /// The first failure of a connection, for the command's one line.
    failure: Mutex<Option<String>>,
    next_id: AtomicU32,
    /// For the harness's own server on this machine ([`LocalServer`]):
    /// the server, and what restarts it. Its probes run where they were
    /// built (`serve --in-place`), so nothing is pushed.
    local: Option<Mutex<Local>>,
    /// Which server the connections are to: 0 for the first, one more at
    /// each restart. A connection to an older one is not reused.
    generation: AtomicU32,
}

/// How many times a run restarts its crashed local server.
pub const MAX_RESTARTS: u32 = 3;

/// The harness's own agent server behind a [`Remote`], and how to start
/// it again.
#[derive(Debug)]
struct Local {
    /// `None` once stopped.
    server: Option<LocalServer>,
    family: Family,
    runner: Runner,
    agent: PathBuf,
    /// Its command line, for the rows (the same at every restart but for
    /// its temporary directory, which is not shown).
    command: String,
    restarts: u32,
}

fn write_message(stream: &mut TcpStream, message: &Message) -> std::io::Result<()> {
    stream.write_all(&remote::encode(message))
}

fn read_message(stream: &mut TcpStream) -> Result<Message, String> {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "the connection was closed".to_owned(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            "no answer in time".to_owned()
        }
        _ => format!("read: {e}"),
    })?;
    let len = remote::frame_len(header).map_err(|e| format!("garbage from the agent: {e}"))?;
    let mut body = vec![0u8; len];
    stream
        .read_exact(&mut body)
        .map_err(|e| format!("the connection broke inside a frame: {e}"))?;
    remote::decode(&body).map_err(|e| format!("garbage from the agent: {e}"))
}

impl Remote {
    /// Connects and says hello; a refusal, a wrong version or garbage is a
    /// [`RunError::Runner`] with one clear line.
    pub fn connect(addr: &RemoteAddr) -> Result<Remote, RunError> {
        let (stream, welcome) = open(addr).map_err(RunError::Runner)?;
        Ok(Remote {
            addr: addr.clone(),
            welcome,
            idle: Mutex::new(vec![(stream, 0)]),
            pushed: Mutex::new(HashMap::new()),
            failure: Mutex::new(None),
            next_id: AtomicU32::new(1),
            local: None,
            generation: AtomicU32::new(0),
        })
    }

    /// Starts the harness's own agent server on this machine (see
    /// [`LocalServer::start`]) and connects to it; it is restarted if it
    /// crashes, and ended by [`Remote::stop_local`] (or when dropped).
    pub fn serve_local(family: Family, runner: &Runner, agent: &Path) -> Result<Remote, RunError> {
        let server = LocalServer::start(family, runner, agent)?;
        // On failure, `server` is dropped: ended and swept.
        let mut remote = Remote::connect(&server.addr)?;
        remote.local = Some(Mutex::new(Local {
            command: server.command.clone(),
            server: Some(server),
            family,
            runner: runner.clone(),
            agent: agent.to_owned(),
            restarts: 0,
        }));
        Ok(remote)
    }

    /// Ends the local server, if this is one; call when no case runs.
    pub fn stop_local(&self) {
        if let Some(local) = &self.local {
            let server = local
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .server
                .take();
            if let Some(server) = server {
                server.stop();
            }
        }
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The address to connect to: the local server's current one, or the
    /// remote's.
    fn address(&self) -> RemoteAddr {
        self.local
            .as_ref()
            .and_then(|l| {
                let local = l.lock().unwrap_or_else(|e| e.into_inner());
                local.server.as_ref().map(|s| s.addr.clone())
            })
            .unwrap_or_else(|| self.addr.clone())
    }

    /// After a failure on a connection to server `generation`: if that is
    /// the local server and it has ended (it crashed), starts it again,
    /// once per crash and at most [`MAX_RESTARTS`] times, and says what
    /// happened, for the row.
    fn restart_if_crashed(&self, generation: u32) -> Option<String> {
        let local = self.local.as_ref()?;
        let mut local = local.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) != generation {
            // Another case saw the same crash first.
            return Some("the server it ran on had ended and was restarted".into());
        }
        let pid = local.server.as_ref()?.server.as_ref()?.pid();
        if !crate::os::pid_from_raw(i64::from(pid))
            .is_some_and(|p| crate::process::reap::has_ended(p).unwrap_or(false))
        {
            return None;
        }
        if local.restarts >= MAX_RESTARTS {
            return Some(format!(
                "the server (pid {pid}) had ended; not restarted again (it was restarted {MAX_RESTARTS} times)"
            ));
        }
        // Ends (reaps and sweeps) the dead server before its successor.
        drop(local.server.take());
        local.restarts += 1;
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.generation.fetch_add(1, Ordering::SeqCst);
        let n = local.restarts;
        match LocalServer::start(local.family, &local.runner, &local.agent) {
            Ok(server) => {
                local.server = Some(server);
                Some(format!(
                    "the server (pid {pid}) had ended and was restarted (restart {n} of at most {MAX_RESTARTS})"
                ))
            }
            Err(e) => Some(format!(
                "the server (pid {pid}) had ended and could not be restarted: {e}"
            )),
        }
    }

    /// What the server said it is.
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// The first lost connection, timeout or garbage of the run, if any.
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn failed(&self, message: String) -> String {
        let message = match &self.local {
            Some(_) => format!("the agent server at {}: {message}", self.address().addr),
            None => format!("remote agent {}: {message}", self.addr.addr),
        };
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(|| message.clone());
        message
    }

    /// Runs `case` on the device: its command line for the report, the
    /// agent's report and the probe's leftovers. Any failure of the
    /// connection is an error (the cell is not observed).
    pub fn run(
        &self,
        case: &Case<'_>,
        signals: (i32, i32, i32),
    ) -> Result<(String, AgentReport, Leftovers), String> {
        let generation = self.generation.load(Ordering::SeqCst);
        let popped = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.retain(|(_, g)| *g == generation);
            idle.pop()
        };
        let (mut stream, generation) = match popped {
            Some(s) => s,
            None => match open(&self.address()) {
                Ok((s, _)) => (s, generation),
                Err(e) => {
                    let restarted = self.restart_if_crashed(generation);
                    return Err(self.failed(with_restart(e, restarted)));
                }
            },
        };
        let answer = self.run_on(&mut stream, case, signals);
        match answer {
            Ok(done) => {
                self.idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((stream, generation));
                Ok(done)
            }
            // The connection is in an unknown state: it is dropped.
            Err(e) => {
                let restarted = self.restart_if_crashed(generation);
                Err(self.failed(with_restart(e, restarted)))
            }
        }
    }

    fn run_on(
        &self,
        stream: &mut TcpStream,
        case: &Case<'_>,
        (sigterm, sigkill, sigcont): (i32, i32, i32),
    ) -> Result<(String, AgentReport, Leftovers), String> {
        let program = match &self.local {
            Some(_) => case.invocation.program.display().to_string(),
            None => self.push(stream, &case.invocation.program)?,
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let request = Message::Run {
            id,
            program: program.clone(),
            args: case.invocation.args.clone(),
            timeout_ms: u64::try_from(case.timeout.as_millis()).unwrap_or(u64::MAX),
            grace_ms: u64::try_from(case.grace.as_millis()).unwrap_or(u64::MAX),
            sigterm,
            sigkill,
            sigcont,
            stay_stopped: !case.continue_stops,
            core: case.core,
        };
        let limit = case.timeout + case.grace + BACKSTOP;
        stream
            .set_read_timeout(Some(limit))
            .map_err(|e| format!("cannot set a timeout: {e}"))?;
        write_message(stream, &request).map_err(|e| format!("write: {e}"))?;
        let answer = read_message(stream).map_err(|e| {
            if e == "no answer in time" {
                format!("no answer within {} s", limit.as_secs())
            } else {
                e
            }
        })?;
        let via = match &self.local {
            Some(local) => format!(
                "served by `{}`",
                local.lock().unwrap_or_else(|e| e.into_inner()).command
            ),
            None => format!("remote {}", self.addr.addr),
        };
        let command = format!(
            "{via}: {}{} {}",
            self.welcome
                .runner
                .iter()
                .map(|w| format!("{w} "))
                .collect::<String>(),
            program,
            case.invocation.args.join(" ")
        );
        match answer {
            Message::Ran {
                id: got,
                report,
                stdout,
                stderr,
                cores,
            } if got == id => {
                let report = agent::parse(&report).map_err(|e| format!("its report: {e}"))?;
                Ok((
                    command,
                    report,
                    Leftovers {
                        stdout,
                        stderr,
                        cores,
                    },
                ))
            }
            // The agent could not carry out this case; the connection is
            // still sound, but an error is an error.
            Message::Failed { reason } => {
                Err(format!("the agent could not run the case: {reason}"))
            }
            other => Err(format!("an unexpected answer: {}", kind_of(&other))),
        }
    }

    /// Pushes the file at `path` once per run; returns its stored name.
    fn push(&self, stream: &mut TcpStream, path: &Path) -> Result<String, String> {
        let mut pushed = self.pushed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(name) = pushed.get(path) {
            return Ok(name.clone());
        }
        let data =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut hash = std::collections::hash_map::DefaultHasher::new();
        data.hash(&mut hash);
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = format!("{:016x}-{base}", hash.finish());
        write_message(
            stream,
            &Message::Put {
                name: name.clone(),
                data,
            },
        )
        .map_err(|e| format!("write: {e}"))?;
        match read_message(stream)? {
            Message::Stored { name: stored } if stored == name => {}
            Message::Failed { reason } => return Err(format!("cannot store {base}: {reason}")),
            other => return Err(format!("an unexpected answer: {}", kind_of(&other))),
        }
        pushed.insert(path.to_owned(), name.clone());
        Ok(name)
    }
}

/// A connection's failure, with what the restart of a crashed local server
/// did about it.
fn with_restart(failure: String, restarted: Option<String>) -> String {
    match restarted {
        Some(restart) => format!("{failure}; {restart}"),
        None => failure,
    }
}

fn kind_of(message: &Message) -> &'static str {
    match message {
        Message::Hello { .. } => "hello",
        Message::Welcome { .. } => "welcome",
        Message::Refused { .. } => "refused",
        Message::Put { .. } => "put",
        Message::Stored { .. } => "stored",
        Message::Run { .. } => "run",
        Message::Ran { .. } => "ran (of another case)",
        Message::Failed { .. } => "failed",
    }
}

/// Opens one authenticated connection.
fn open(addr: &RemoteAddr) -> Result<(TcpStream, Welcome), String> {
    let who = format!("remote agent {}", addr.addr);
    let socket = addr
        .addr
        .to_socket_addrs()
        .map_err(|e| format!("{who}: not an address: {e}"))?
        .next()
        .ok_or_else(|| format!("{who}: the name resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&socket, CONNECT_TIMEOUT)
        .map_err(|e| format!("{who}: cannot connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(CONNECT_TIMEOUT))
        .map_err(|e| format!("{who}: {e}"))?;
    write_message(
        &mut stream,
        &Message::Hello {
            version: remote::VERSION,
            token: addr.token.clone(),
        },
    )
    .map_err(|e| format!("{who}: write: {e}"))?;
    match read_message(&mut stream).map_err(|e| format!("{who}: {e}"))? {
        Message::Welcome {
            version,
            family,
            under,
            runner,
        } if version == remote::VERSION => Ok((
            stream,
            Welcome {
                family,
                under,
                runner,
            },
        )),
        Message::Welcome { version, .. } => Err(format!(
            "{who} speaks protocol version {version}, this host {}",
            remote::VERSION
        )),
        Message::Refused { reason } => Err(format!("{who} refused the connection: {reason}")),
        other => Err(format!("{who} answered the hello with {}", kind_of(&other))),
    }
}

/// The family word of the agent's report for `family`.
fn family_word(family: Family) -> &'static str {
    match family {
        Family::Unix => "unix",
        Family::Windows => "windows",
        Family::Wasi => "wasi",
    }
}

/// How a foreign target's cases are carried out without a local runner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// On a remote agent (`--remote HOST:PORT`).
    Remote(RemoteAddr),
    /// Not at all: recorded into an offline kit in this directory
    /// (`cargo xtask kit`, see [`crate::engine::kit`]).
    Record(PathBuf),
    /// From an offline kit's results in this directory (`cargo xtask import`).
    Replay(PathBuf),
}

impl CaseRunner for Remote {
    fn run_case(
        &self,
        case: &Case<'_>,
        signals: (i32, i32, i32),
    ) -> Result<(String, AgentReport, Leftovers), String> {
        self.run(case, signals)
    }

    fn failure(&self) -> Option<String> {
        Remote::failure(self)
    }

    fn local_dir(&self) -> Option<PathBuf> {
        let local = self
            .local
            .as_ref()?
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        local.server.as_ref().map(|s| s.dir.path().to_owned())
    }
}

/// The harness's own agent server for one target and run: the agent
/// built for the target, started once under the target's runner as
/// `exitmatrix-agent serve --in-place` on a loopback port of the kernel's
/// choosing, with a fresh token. It runs each case as the one-shot agent
/// does (the same code, `agent/main.rs`'s `report_of`), several at once,
/// one per connection; what it saves is starting the agent (and, under
/// qemu-user, an emulator) for every case.
#[derive(Debug)]
pub struct LocalServer {
    /// `None` once stopped.
    server: Option<crate::process::spawn::Server>,
    addr: RemoteAddr,
    command: String,
    dir: tempfile::TempDir,
}

/// How long the local server may take to say where it listens.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(30);

impl LocalServer {
    /// Starts the agent `agent` under `runner` (whose words the agent also
    /// puts before each probe on Unix, as the one-shot agent does), as
    /// [`crate::process::spawn::spawn_server`] starts a parent: empty
    /// environment, default signal dispositions, its own process group.
    pub fn start(family: Family, runner: &Runner, agent: &Path) -> Result<LocalServer, RunError> {
        let dir = tempfile::Builder::new()
            .prefix("exitmatrix-serve-")
            .tempdir()
            .map_err(|e| {
                RunError::Runner(format!("cannot make the agent server's directory: {e}"))
            })?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let token = format!("{:08x}{:08x}", std::process::id(), nanos);
        let mut args: Vec<String> = [
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--token",
            &token,
            "--under",
            runner.kind.name(),
            "--in-place",
            "--dir",
        ]
        .map(str::to_owned)
        .to_vec();
        args.push(agent::target_path(family, dir.path()));
        if family == Family::Unix && !runner.words.is_empty() {
            args.push("--".to_owned());
            args.extend(runner.words.iter().cloned());
        }
        let invocation = crate::process::spawn::Invocation {
            runner: runner.words.iter().map(std::ffi::OsString::from).collect(),
            program: agent.to_owned(),
            args,
        };
        // The token is not shown in the rows.
        let command = invocation.display().replace(&token, "TOKEN");
        let mut server = crate::process::spawn::spawn_server(&invocation).map_err(|e| {
            RunError::Runner(format!("cannot start the agent server {command}: {e}"))
        })?;
        let line = server.receive(LISTEN_TIMEOUT);
        let addr = match &line {
            Ok(Some(line)) => line
                .strip_prefix("exitmatrix-agent: listening on ")
                .and_then(|rest| rest.split(' ').next())
                .map(str::to_owned),
            _ => None,
        };
        let Some(addr) = addr else {
            let said = server.log(400);
            server.kill();
            return Err(RunError::Runner(format!(
                "the agent server {command} did not say where it listens ({}){}",
                match line {
                    Ok(Some(l)) => format!("it said {l:?}"),
                    Ok(None) => format!("nothing within {} s", LISTEN_TIMEOUT.as_secs()),
                    Err(e) => e.to_string(),
                },
                if said.is_empty() {
                    String::new()
                } else {
                    format!("; stderr: {said}")
                }
            )));
        };
        Ok(LocalServer {
            server: Some(server),
            addr: RemoteAddr { addr, token },
            command,
            dir,
        })
    }

    /// Ends the server and its process group, reaps it, and sweeps what
    /// its group left; call when no case is running. Dropping the server
    /// does the same.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let pid = server.pid();
            server.kill();
            if let Some(pgid) = crate::os::pid_from_raw(i64::from(pid)) {
                let _ = crate::process::orphans::sweep_cell(pgid, self.dir.path());
            }
        }
    }
}

/// Prepares a foreign target whose cases run on a remote agent, or are
/// recorded into an offline kit, or are read from one: loads its profile,
/// connects (or opens the kit), builds the probes (a kit's import uses the
/// kit's), proves the path with a canary and makes the agent's columns.
/// Nothing of the local runner is needed; but for an import, the cross
/// compiler is.
pub fn prepare(
    request: &Request,
    via: &Via,
    spec: &'static TargetSpec,
    root: &Path,
    selected: &[&Behaviour],
    mut builds: Vec<Build>,
) -> Result<(PreparedForeign, Arc<dyn CaseRunner>), RunError> {
    if request.bless || request.runner.is_some() {
        return Err(RunError::Usage(
            "--remote and offline kits run on the device's agent: --bless and --runner do not apply (not done: blessing over a remote)".into(),
        ));
    }
    if spec.family != Family::Unix && !matches!(via, Via::Remote(_)) {
        return Err(RunError::Usage(format!(
            "{}: an offline kit's script is POSIX sh, for Unix targets only (not done: a kit for {} targets)",
            spec.triple,
            family_word(spec.family)
        )));
    }
    if spec.family == Family::Wasi {
        return Err(RunError::Usage(format!(
            "{}: a WASI target has no agent to serve (its runner script reports itself)",
            spec.triple
        )));
    }
    let profiles_dir = &request.profiles_dir;
    let own = profiles_dir.join(format!("{}.toml", spec.triple));
    let profile_name = match &request.profile {
        Some(p) => crate::engine::foreign::profile_reference(p, profiles_dir)?,
        None if own.exists() => spec.triple.to_owned(),
        None => {
            return Err(RunError::Usage(format!(
                "no profile for {} in {}: check against the family with `--profile {}`",
                spec.triple,
                profiles_dir.display(),
                spec.family.profile()
            )))
        }
    };
    let defaults = (
        SignalTable::by_name(spec.signals).expect("known targets name known tables"),
        WaitConventions::by_name(spec.wait).expect("known targets name known layouts"),
    );
    let names = observers::all_names();
    let profile = Profile::load_with(profiles_dir, &profile_name, &names, Some(defaults))?;

    let (backend, welcome, source, who): (Arc<dyn CaseRunner>, Welcome, RunnerSource, String) =
        match via {
            Via::Remote(addr) => {
                let connected = Arc::new(Remote::connect(addr)?);
                let welcome = connected.welcome().clone();
                (
                    connected,
                    welcome,
                    RunnerSource::Remote(addr.addr.clone()),
                    format!("remote agent {}", addr.addr),
                )
            }
            Via::Record(dir) => (
                Arc::new(kit::Recorder::new(dir, spec)),
                Welcome {
                    family: family_word(spec.family).to_owned(),
                    under: "native".to_owned(),
                    runner: Vec::new(),
                },
                RunnerSource::Kit(dir.display().to_string()),
                format!("offline kit {}", dir.display()),
            ),
            Via::Replay(dir) => {
                let replay = Arc::new(kit::Replay::load(dir, spec).map_err(RunError::Config)?);
                let welcome = replay.welcome();
                (
                    replay,
                    welcome,
                    RunnerSource::Kit(dir.display().to_string()),
                    format!("offline kit {}", dir.display()),
                )
            }
        };
    if welcome.family != family_word(spec.family) {
        return Err(RunError::Runner(format!(
            "{who} is a {} agent; {} needs a {} one",
            welcome.family,
            spec.triple,
            family_word(spec.family)
        )));
    }
    let kind = match welcome.under.as_str() {
        "native" => RunnerKind::Native,
        "qemu-user" => RunnerKind::QemuUser,
        "wine" => RunnerKind::Wine,
        other => RunnerKind::Other(other.to_owned()),
    };
    let emulator = Emulator::load(
        &profiles_dir.join("emulators"),
        kind.name(),
        &names,
        profile.signals,
    )
    .map_err(RunError::Config)?;

    let Plan {
        not_applicable,
        builds_not_made,
        needed,
    } = plan(spec, selected, &mut builds);
    let probes = match via {
        Via::Replay(dir) => kit::probe_set(dir, spec).map_err(RunError::Config)?,
        _ => {
            let foreign_dir = runners::foreign_dir(root);
            let built = crossbuild::build(
                spec,
                &foreign_dir,
                &request.target_dir.join("foreign"),
                &needed,
            )
            .map_err(|source| RunError::Build {
                for_target: format!(" for {}", spec.triple),
                source,
            })?;
            match via {
                Via::Record(dir) => {
                    kit::copy_build(dir, &built, spec).map_err(|source| RunError::Report {
                        path: dir.clone(),
                        source,
                    })?
                }
                _ => built.probes,
            }
        }
    };

    let context = Arc::new(AgentContext::with_backend(
        spec.family,
        Arc::clone(&backend),
        profile.signals,
    ));
    let canary = match via {
        Via::Record(_) => {
            // Recorded like any case; the import checks it.
            let _ = canary(&*backend, &who, &context, spec, &probes, None);
            vec!["recorded for the kit; checked on import".to_owned()]
        }
        Via::Replay(dir) => {
            let recorded = kit::canary_of(dir).map_err(RunError::Config)?;
            canary(&*backend, &who, &context, spec, &probes, Some(recorded))?
        }
        Via::Remote(_) => canary(&*backend, &who, &context, spec, &probes, None)?,
    };
    let columns = context.observers();
    let runner = Runner {
        words: welcome.runner.clone(),
        kind,
        source,
    };
    let info = ForeignInfo {
        family: spec.family,
        runner: runner.clone(),
        tools: vec![
            runners::tool_version(runners::DEBIAN_RUSTC).map_or_else(
                || runners::DEBIAN_RUSTC.to_owned(),
                |v| format!("{} : {v}", runners::DEBIAN_RUSTC),
            ),
            format!("{who} ({} agent, under {})", welcome.family, welcome.under),
        ],
        not_applicable,
        builds_not_made,
        emulator_notes: emulator.file.clone(),
        canary,
    };
    let foreign = Foreign::new(
        spec,
        runner,
        emulator,
        HostView::default_for_native(),
        own,
        info,
    );
    Ok(((foreign, profile, probes, columns), backend))
}

/// Proves the path before any cell counts: the probe's canary must exit
/// with a code chosen from a nonce and print the nonce, as the agent sees
/// it on the device. A remote that runs nothing, or another program,
/// cannot do both. `recorded` is an offline kit's nonce and code (else a
/// new one is drawn).
fn canary(
    backend: &dyn CaseRunner,
    who: &str,
    context: &AgentContext,
    spec: &TargetSpec,
    probes: &crate::toolchain::probes::ProbeSet,
    recorded: Option<(String, i64)>,
) -> Result<Vec<String>, RunError> {
    let Some(program) = [Build::Abort, Build::Unwind]
        .into_iter()
        .find_map(|b| probes.path(b, ProbeBin::Probe))
    else {
        return Ok(vec!["not run: no Rust probe was built".into()]);
    };
    let (nonce, code) = recorded.unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        (
            format!("exitmatrix-canary-{:08x}{:08x}", std::process::id(), nanos),
            17 + i64::from(nanos % 89),
        )
    });
    let invocation = crate::process::spawn::Invocation {
        runner: Vec::new(),
        program,
        args: vec!["canary".into(), nonce.clone(), code.to_string()],
    };
    let limits = crate::engine::matrix::Limits::default();
    let wait = WaitConventions::by_name(spec.wait).unwrap_or(WaitConventions::LINUX);
    let case = Case {
        invocation: &invocation,
        core: false,
        wait: &wait,
        timeout: limits.timeout,
        grace: limits.grace,
        continue_stops: false,
        interrupt: None,
    };
    let (_, report, leftovers) = backend
        .run_case(&case, context.signals())
        .map_err(RunError::Runner)?;
    let view = View::of(spec.family)[0];
    let seen = agent::states(&report, view, case.wait).map_err(RunError::Runner)?;
    let last = seen.last().map(|o| o.change);
    let stdout = String::from_utf8_lossy(&leftovers.stdout);
    if last != Some(StateChange::Exited { code }) || stdout.trim_end() != nonce {
        return Err(RunError::Runner(format!(
            "{who} cannot run {} programs: the canary should exit {code} and print {nonce}; the agent saw {last:?} and stdout {:?}",
            spec.triple,
            stdout.trim_end()
        )));
    }
    Ok(vec![format!(
        "exit {code} with a nonce on stdout, through the {who}: seen"
    )])
}

/// What starts an agent server on this machine ([`serve_command`]).
#[derive(Debug)]
pub struct ServeCommand {
    /// The words that start `exitmatrix-agent serve`.
    pub words: Vec<String>,
    /// Under Wine, the hold on the shared prefix that the server needs:
    /// keep it until the server has ended, then drop it. Runs of Windows
    /// targets in this process wait for it meanwhile.
    pub wine: Option<WineRun>,
}

/// The command line of `cargo xtask serve`: builds the agent for `spec`
/// and returns the words that start `exitmatrix-agent serve` under the
/// target's local runner (qemu-user, Wine, or none), so that the remote
/// path can be tried on one machine; under Wine, with the hold on the
/// prefix, waited for. The server says it runs under that runner's kind,
/// and under qemu-user puts the runner's words before each probe, as the
/// local agent does.
pub fn serve_command(
    spec: &'static TargetSpec,
    listen: &str,
    token: &str,
    dir: Option<&Path>,
    target_dir: &Path,
) -> Result<ServeCommand, RunError> {
    if spec.family == Family::Wasi {
        return Err(RunError::Usage(format!(
            "{}: a WASI target has no agent to serve",
            spec.triple
        )));
    }
    let root = crate::toolchain::probes::workspace_root();
    let foreign = runners::foreign_dir(&root);
    let runner = runners::resolve_runner(
        spec,
        None,
        |var| std::env::var(var).ok(),
        &runners::config_dirs(&root),
        &root,
        &foreign,
    )
    .map_err(RunError::Config)?;
    if let Err(missing) = runners::check_installed(spec, &runner, &foreign) {
        return Err(RunError::NotInstalled {
            triple: spec.triple.to_owned(),
            missing,
        });
    }
    let built =
        crossbuild::build(spec, &foreign, &target_dir.join("foreign"), &[]).map_err(|source| {
            RunError::Build {
                for_target: format!(" for {}", spec.triple),
                source,
            }
        })?;
    let Some(agent) = built.agent else {
        return Err(RunError::Usage(format!("{}: no agent", spec.triple)));
    };
    let mut words = runner.words.clone();
    words.push(agent.display().to_string());
    words.extend(
        [
            "serve",
            "--listen",
            listen,
            "--token",
            token,
            "--under",
            runner.kind.name(),
        ]
        .map(str::to_owned),
    );
    if let Some(dir) = dir {
        words.push("--dir".to_owned());
        words.push(agent::target_path(spec.family, dir));
    }
    if spec.family == Family::Unix && !runner.words.is_empty() {
        // The host kernel cannot execute a foreign binary: the agent puts
        // the runner before each probe, as it does when run locally.
        words.push("--".to_owned());
        words.extend(runner.words.iter().cloned());
    }
    let wine = if runner.kind == RunnerKind::Wine {
        Some(WineRun::start(&runner, &foreign).map_err(RunError::Runner)?)
    } else {
        None
    };
    Ok(ServeCommand { words, wine })
}
