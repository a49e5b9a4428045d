//! The remote agent's wire protocol: versioned, length-prefixed frames,
//! encoded and parsed totally, with no I/O.
//!
//! `exitmatrix-agent serve` (on the device) and `engine::remote` (on the
//! host) speak it over one TCP connection. Both ends use this very file:
//! the agent includes it with `#[path]`, so it must build with Debian's
//! rustc 1.63 and without dependencies (no `let ... else`, no crates).
//!
//! # Frames
//! A frame is a 4-byte big-endian length `L` (at most [`MAX_FRAME`]), then
//! `L` bytes: one kind byte and the message's fields. A field is a `u8`
//! (also a flag: 0 or 1 only), a big-endian `u32`, `u64` or `i32`, a byte
//! string (a `u32` length, then the bytes), a text (a byte string that is
//! UTF-8) or a list (a `u32` count, then the items). A frame with bytes
//! left over after its fields is malformed.
//!
//! # Conversation
//! ```text
//! host                              agent
//! Hello{version, token}      ─▶
//!                            ◀─     Welcome{version, family, under, runner}
//!                                   or Refused{reason}, then it closes
//! Put{name, data}            ─▶     (stores the file, executable)
//!                            ◀─     Stored{name} | Failed{reason}
//! Run{id, program, args, …}  ─▶     (runs the probe as its parent)
//!                            ◀─     Ran{id, report, stdout, stderr, cores}
//!                                   | Failed{reason}
//! ```
//! `report` is the agent's report text of `agent/main.rs` (version 1), so
//! the host reads a remote case exactly as a local one. A peer that sends
//! anything else, or a frame that does not parse, is dropped.

use std::fmt;

/// The protocol's version: a peer with another one is refused.
pub const VERSION: u32 = 1;

/// The largest frame either end accepts: enough for a probe binary.
pub const MAX_FRAME: usize = 64 << 20;

/// The most items a list may claim (arguments, core names).
pub const MAX_ITEMS: usize = 4096;

/// One message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Host → agent, first: the protocol version and the shared token.
    Hello {
        /// The host's [`VERSION`].
        version: u32,
        /// The token the server was started with.
        token: String,
    },
    /// Agent → host: the token matched.
    Welcome {
        /// The agent's [`VERSION`].
        version: u32,
        /// `unix` or `windows`: the agent's report family.
        family: String,
        /// What the server says it runs under (`native`, `qemu-user`,
        /// `wine`): the emulator notes the host applies.
        under: String,
        /// The words the agent puts before each probe (its `--` words).
        runner: Vec<String>,
    },
    /// Agent → host: the hello was refused; the agent closes.
    Refused {
        /// Why, one line.
        reason: String,
    },
    /// Host → agent: store a file under `name`, executable.
    Put {
        /// A plain file name (no separator, not `.` or `..`).
        name: String,
        /// Its bytes.
        data: Vec<u8>,
    },
    /// Agent → host: the file is stored.
    Stored {
        /// The name it was stored under.
        name: String,
    },
    /// Host → agent: run a stored program as its parent.
    Run {
        /// Echoed in the answer.
        id: u32,
        /// A stored file's name.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// Milliseconds before the probe's group gets `sigterm`.
        timeout_ms: u64,
        /// Milliseconds between `sigterm` and `sigkill`.
        grace_ms: u64,
        /// The target's SIGTERM.
        sigterm: i32,
        /// The target's SIGKILL.
        sigkill: i32,
        /// The target's SIGCONT.
        sigcont: i32,
        /// Leave a stopped probe stopped.
        stay_stopped: bool,
        /// The case expects a core dump (else cores are limited away).
        core: bool,
    },
    /// Agent → host: one case's result.
    Ran {
        /// The `Run`'s id.
        id: u32,
        /// The agent's report text.
        report: String,
        /// The probe's standard output.
        stdout: Vec<u8>,
        /// The probe's standard error.
        stderr: Vec<u8>,
        /// Core files the probe left in its directory.
        cores: Vec<String>,
    },
    /// Agent → host: a request could not be carried out.
    Failed {
        /// Why, one line.
        reason: String,
    },
}

/// Why bytes are not a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

fn fail<T>(what: &str) -> Result<T, DecodeError> {
    Err(DecodeError(what.to_owned()))
}

const HELLO: u8 = 1;
const WELCOME: u8 = 2;
const REFUSED: u8 = 3;
const PUT: u8 = 4;
const STORED: u8 = 5;
const RUN: u8 = 6;
const RAN: u8 = 7;
const FAILED: u8 = 8;

/// The length a frame's 4-byte header announces, checked against
/// [`MAX_FRAME`]; an empty frame has no kind and is refused too.
pub fn frame_len(header: [u8; 4]) -> Result<usize, DecodeError> {
    let len = u32::from_be_bytes(header) as usize;
    if len == 0 {
        return fail("an empty frame");
    }
    if len > MAX_FRAME {
        return Err(DecodeError(format!(
            "a frame of {len} bytes (at most {MAX_FRAME})"
        )));
    }
    Ok(len)
}

/// Whether `name` may name a stored file: a plain name, no separator.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', ':', '\0'])
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, v: &[u8]) {
        self.u32(v.len() as u32);
        self.0.extend_from_slice(v);
    }
    fn list(&mut self, v: &[String]) {
        self.u32(v.len() as u32);
        for s in v {
            self.bytes(s.as_bytes());
        }
    }
}

/// Encodes `message` as one whole frame, header included.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut w = Writer(vec![0, 0, 0, 0]);
    match message {
        Message::Hello { version, token } => {
            w.u8(HELLO);
            w.u32(*version);
            w.bytes(token.as_bytes());
        }
        Message::Welcome {
            version,
            family,
            under,
            runner,
        } => {
            w.u8(WELCOME);
            w.u32(*version);
            w.bytes(family.as_bytes());
            w.bytes(under.as_bytes());
            w.list(runner);
        }
        Message::Refused { reason } => {
            w.u8(REFUSED);
            w.bytes(reason.as_bytes());
        }
        Message::Put { name, data } => {
            w.u8(PUT);
            w.bytes(name.as_bytes());
            w.bytes(data);
        }
        Message::Stored { name } => {
            w.u8(STORED);
            w.bytes(name.as_bytes());
        }
        Message::Run {
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
        } => {
            w.u8(RUN);
            w.u32(*id);
            w.bytes(program.as_bytes());
            w.list(args);
            w.u64(*timeout_ms);
            w.u64(*grace_ms);
            w.i32(*sigterm);
            w.i32(*sigkill);
            w.i32(*sigcont);
            w.u8(u8::from(*stay_stopped));
            w.u8(u8::from(*core));
        }
        Message::Ran {
            id,
            report,
            stdout,
            stderr,
            cores,
        } => {
            w.u8(RAN);
            w.u32(*id);
            w.bytes(report.as_bytes());
            w.bytes(stdout);
            w.bytes(stderr);
            w.list(cores);
        }
        Message::Failed { reason } => {
            w.u8(FAILED);
            w.bytes(reason.as_bytes());
        }
    }
    let len = (w.0.len() - 4) as u32;
    w.0[..4].copy_from_slice(&len.to_be_bytes());
    w.0
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError(format!("the frame ends inside {what}")));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }
    fn flag(&mut self, what: &str) -> Result<bool, DecodeError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError(format!("{what} is neither 0 nor 1"))),
        }
    }
    fn u32(&mut self, what: &str) -> Result<u32, DecodeError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4, what)?);
        Ok(u32::from_be_bytes(b))
    }
    fn u64(&mut self, what: &str) -> Result<u64, DecodeError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_be_bytes(b))
    }
    fn i32(&mut self, what: &str) -> Result<i32, DecodeError> {
        Ok(self.u32(what)? as i32)
    }
    fn bytes(&mut self, what: &str) -> Result<Vec<u8>, DecodeError> {
        let n = self.u32(what)? as usize;
        Ok(self.take(n, what)?.to_vec())
    }
    fn text(&mut self, what: &str) -> Result<String, DecodeError> {
        match String::from_utf8(self.bytes(what)?) {
            Ok(s) => Ok(s),
            Err(_) => Err(DecodeError(format!("{what} is not UTF-8"))),
        }
    }
    fn list(&mut self, what: &str) -> Result<Vec<String>, DecodeError> {
        let n = self.u32(what)? as usize;
        // Each item takes at least its 4-byte length: a count the frame
        // cannot hold is refused before anything is allocated for it.
        if n > MAX_ITEMS || n > self.rest.len() / 4 {
            return Err(DecodeError(format!("{what} claims {n} items")));
        }
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.text(what)?);
        }
        Ok(items)
    }
}

/// Decodes one frame's body (the `L` bytes after its header). Total: any
/// bytes give a message or a [`DecodeError`], never a panic.
pub fn decode(body: &[u8]) -> Result<Message, DecodeError> {
    let mut r = Reader { rest: body };
    let message = match r.u8("the kind")? {
        HELLO => Message::Hello {
            version: r.u32("the version")?,
            token: r.text("the token")?,
        },
        WELCOME => Message::Welcome {
            version: r.u32("the version")?,
            family: r.text("the family")?,
            under: r.text("the emulator")?,
            runner: r.list("the runner words")?,
        },
        REFUSED => Message::Refused {
            reason: r.text("the reason")?,
        },
        PUT => {
            let name = r.text("the name")?;
            if !is_plain_name(&name) {
                return fail("a file name that is not a plain name");
            }
            Message::Put {
                name,
                data: r.bytes("the data")?,
            }
        }
        STORED => Message::Stored {
            name: r.text("the name")?,
        },
        RUN => Message::Run {
            id: r.u32("the id")?,
            program: r.text("the program")?,
            args: r.list("the arguments")?,
            timeout_ms: r.u64("the timeout")?,
            grace_ms: r.u64("the grace")?,
            sigterm: r.i32("SIGTERM")?,
            sigkill: r.i32("SIGKILL")?,
            sigcont: r.i32("SIGCONT")?,
            stay_stopped: r.flag("stay-stopped")?,
            core: r.flag("core")?,
        },
        RAN => Message::Ran {
            id: r.u32("the id")?,
            report: r.text("the report")?,
            stdout: r.bytes("stdout")?,
            stderr: r.bytes("stderr")?,
            cores: r.list("the core names")?,
        },
        FAILED => Message::Failed {
            reason: r.text("the reason")?,
        },
        kind => return Err(DecodeError(format!("unknown message kind {kind}"))),
    };
    if !r.rest.is_empty() {
        return Err(DecodeError(format!(
            "{} bytes after the message",
            r.rest.len()
        )));
    }
    Ok(message)
}

/// Splits `bytes` into whole frames and decodes each: what a peer would
/// read from a stream that ends there. A stream cut inside a frame is an
/// error, as a connection lost mid-frame is.
pub fn decode_stream(mut bytes: &[u8]) -> Result<Vec<Message>, DecodeError> {
    let mut messages = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 4 {
            return fail("the stream ends inside a frame header");
        }
        let mut header = [0u8; 4];
        header.copy_from_slice(&bytes[..4]);
        let len = frame_len(header)?;
        if bytes.len() - 4 < len {
            return fail("the stream ends inside a frame");
        }
        messages.push(decode(&bytes[4..4 + len])?);
        bytes = &bytes[4 + len..];
    }
    Ok(messages)
}
