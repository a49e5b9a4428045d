//! `exitmatrix-agent serve`: the agent as a server on the device, the
//! remote runner's far end.
//!
//! ```text
//! agent serve --token TOKEN [--listen ADDR] [--dir DIR] [--under KIND] [--in-place] [-- RUNNER WORDS...]
//! ```
//!
//! It listens on `ADDR` (default `127.0.0.1:7878`: loopback, so that
//! nothing beyond the machine reaches it unless asked), prints
//! `exitmatrix-agent: listening on <address>` on standard output, and
//! serves each connection on its own thread with the protocol of
//! `harness/src/pure/remote.rs`: a `Hello` with the right version and
//! token first (else `Refused` and the connection is closed), then `Put`s
//! of probe binaries into `DIR/files` and `Run`s, each of which runs one
//! probe as its parent, exactly as the one-shot agent does, in its own
//! directory `DIR/cases/<connection>-<id>`, and answers with the report
//! text, the probe's output and the names of its core files.
//!
//! `--under KIND` is what the server says it runs under (`native`, the
//! default; `qemu-user`; `wine`), so that the host applies that
//! emulator's notes; the words after `--` go before each probe, as the
//! one-shot agent's do (under qemu-user, the emulator again).
//!
//! `--in-place` (the harness's own local server, one per target and run):
//! a `Run` may also name a program by its absolute path, which is run
//! where it is, with no `Put`: the agent runs on the machine that built
//! the probes, so a probe's command line is the one-shot agent's.
//!
//! **For trusted networks only.** The token keeps out a client that does
//! not know it; it travels in clear text and the server runs whatever
//! binary a client with the token sends it.

use std::env;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::protocol::{self, Message};
use crate::{os, report_of, Request, STDERR_FILE, STDOUT_FILE};

/// The address the server listens on unless told otherwise: loopback.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";

/// How long a new connection has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);

struct Config {
    token: String,
    in_place: bool,
    dir: PathBuf,
    under: String,
    runner: Vec<String>,
}

fn usage(why: &str) -> i32 {
    eprintln!("exitmatrix-agent serve: {why}");
    eprintln!(
        "usage: exitmatrix-agent serve --token TOKEN [--listen ADDR] [--dir DIR] [--under KIND] [--in-place] [-- RUNNER WORDS...]"
    );
    2
}

/// Runs the server; returns the process's exit code (2: usage, 4: it
/// cannot listen or cannot create its directory). It serves until killed.
pub fn main(args: Vec<String>) -> i32 {
    let mut listen = DEFAULT_LISTEN.to_owned();
    let mut token: Option<String> = None;
    let mut dir: Option<PathBuf> = None;
    let mut under = "native".to_owned();
    let mut runner = Vec::new();
    let mut in_place = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| match args.next() {
            Some(v) => Ok(v),
            None => Err(format!("{flag} takes a value")),
        };
        let set = match arg.as_str() {
            "--listen" => value("--listen").map(|v| listen = v),
            "--token" => value("--token").map(|v| token = Some(v)),
            "--dir" => value("--dir").map(|v| dir = Some(PathBuf::from(v))),
            "--under" => value("--under").map(|v| under = v),
            "--help" | "-h" => {
                print!("{}", crate::HELP);
                return 0;
            }
            "--in-place" => {
                in_place = true;
                Ok(())
            }
            "--" => {
                runner = args.by_ref().collect();
                Ok(())
            }
            other => Err(format!("unknown option {other}")),
        };
        if let Err(e) = set {
            return usage(&e);
        }
    }
    let token = match token {
        Some(t) if !t.is_empty() => t,
        _ => return usage("--token is required (the host must give the same one)"),
    };
    let dir = dir.unwrap_or_else(|| env::temp_dir().join(format!("exitmatrix-serve-{}", process::id())));
    for sub in ["files", "cases"] {
        if let Err(e) = fs::create_dir_all(dir.join(sub)) {
            eprintln!("exitmatrix-agent serve: cannot create {}: {e}", dir.join(sub).display());
            return 4;
        }
    }
    let listener = match TcpListener::bind(&listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("exitmatrix-agent serve: cannot listen on {listen}: {e}");
            return 4;
        }
    };
    let shown = match listener.local_addr() {
        Ok(a) => a.to_string(),
        Err(_) => listen.clone(),
    };
    println!(
        "exitmatrix-agent: listening on {shown} ({} agent, under {under}; files in {})",
        os::FAMILY,
        dir.display()
    );
    let _ = std::io::stdout().flush();
    let config = Arc::new(Config {
        token,
        in_place,
        dir,
        under,
        runner,
    });
    let mut connection: u64 = 0;
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("exitmatrix-agent serve: accept: {e}");
                continue;
            }
        };
        connection += 1;
        let config = Arc::clone(&config);
        let n = connection;
        thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".to_owned());
            if let Err(e) = serve(stream, &config, n) {
                eprintln!("exitmatrix-agent serve: connection {n} from {peer}: {e}");
            }
        });
    }
    0
}

/// Reads one frame and decodes it; a closed connection is `Ok(None)`.
fn read_message(stream: &mut TcpStream) -> Result<Option<Message>, String> {
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match stream.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err("the connection closed inside a frame header".to_owned()),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    let len = protocol::frame_len(header).map_err(|e| e.to_string())?;
    let mut body = vec![0u8; len];
    stream
        .read_exact(&mut body)
        .map_err(|e| format!("read: {e}"))?;
    protocol::decode(&body).map(Some).map_err(|e| e.to_string())
}

fn send(stream: &mut TcpStream, message: &Message) -> Result<(), String> {
    stream
        .write_all(&protocol::encode(message))
        .map_err(|e| format!("write: {e}"))
}

/// Compares two tokens in time that depends only on their lengths.
fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

fn serve(mut stream: TcpStream, config: &Config, connection: u64) -> Result<(), String> {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(HELLO_TIMEOUT));
    match read_message(&mut stream)? {
        Some(Message::Hello { version, token }) => {
            if version != protocol::VERSION {
                let reason = format!(
                    "protocol version {version} is not this agent's ({})",
                    protocol::VERSION
                );
                send(&mut stream, &Message::Refused { reason: reason.clone() })?;
                return Err(reason);
            }
            if !same_token(&token, &config.token) {
                send(
                    &mut stream,
                    &Message::Refused {
                        reason: "wrong token".to_owned(),
                    },
                )?;
                return Err("refused: wrong token".to_owned());
            }
        }
        Some(_) => return Err("the first message was not a hello".to_owned()),
        None => return Ok(()),
    }
    let _ = stream.set_read_timeout(None);
    send(
        &mut stream,
        &Message::Welcome {
            version: protocol::VERSION,
            family: os::FAMILY.to_owned(),
            under: config.under.clone(),
            runner: config.runner.clone(),
        },
    )?;
    let files = config.dir.join("files");
    loop {
        let answer = match read_message(&mut stream)? {
            None => return Ok(()),
            Some(Message::Put { name, data }) => match store(&files, &name, &data, connection) {
                Ok(()) => Message::Stored { name },
                Err(reason) => Message::Failed { reason },
            },
            Some(Message::Run {
                id,
                program,
                args,
                timeout_ms,
                grace_ms,
                sigterm,
                sigkill,
                sigcont,
                stay_stopped,
                core,
            }) => {
                let in_place = config.in_place && Path::new(&program).is_absolute();
                let path = if in_place {
                    PathBuf::from(&program)
                } else {
                    files.join(&program)
                };
                if !(in_place || protocol::is_plain_name(&program)) || !path.is_file() {
                    Message::Failed {
                        reason: format!("no stored program `{program}`"),
                    }
                } else {
                    let case = config.dir.join("cases").join(format!("{connection}-{id}"));
                    let mut argv = config.runner.clone();
                    argv.push(path.display().to_string());
                    argv.extend(args);
                    let req = Request {
                        report: String::new(),
                        timeout_ms,
                        grace_ms,
                        sigterm,
                        sigkill,
                        sigcont,
                        stay_stopped,
                        argv,
                        dir: Some(case.display().to_string()),
                        core: Some(core),
                    };
                    match run_case(&req, &case, id) {
                        Ok(ran) => ran,
                        Err(reason) => Message::Failed { reason },
                    }
                }
            }
            Some(_) => {
                let reason = "unexpected message".to_owned();
                send(&mut stream, &Message::Failed { reason: reason.clone() })?;
                return Err(reason);
            }
        };
        send(&mut stream, &answer)?;
    }
}

/// Stores `data` as `files/name`, executable, through a temporary name so
/// that a reader never sees half a file.
fn store(files: &Path, name: &str, data: &[u8], connection: u64) -> Result<(), String> {
    let partial = files.join(format!(".partial-{connection}-{name}"));
    let path = files.join(name);
    fs::write(&partial, data)
        .and_then(|()| os::make_executable(&partial))
        .and_then(|()| fs::rename(&partial, &path))
        .map_err(|e| format!("cannot store {name}: {e}"))
}

/// Runs one case in its own directory and collects what it left.
fn run_case(req: &Request, case: &Path, id: u32) -> Result<Message, String> {
    fs::create_dir_all(case).map_err(|e| format!("cannot create {}: {e}", case.display()))?;
    let report = report_of(req);
    let stdout = fs::read(case.join(STDOUT_FILE)).unwrap_or_default();
    let stderr = fs::read(case.join(STDERR_FILE)).unwrap_or_default();
    let mut cores = Vec::new();
    if let Ok(entries) = fs::read_dir(case) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "core" || name.starts_with("core.") {
                cores.push(name);
            }
        }
    }
    cores.sort();
    let _ = fs::remove_dir_all(case);
    Ok(Message::Ran {
        id,
        report,
        stdout,
        stderr,
        cores,
    })
}
