//! DOS under DOSBox: `.COM` probes made from machine code here, one batch
//! file that runs them all and recovers each errorlevel, and a total parser
//! of its result.
//!
//! # Probes
//!
//! A `.COM` program is loaded at offset 100h of its segment, after the
//! 256-byte Program Segment Prefix, with a word 0000h on its stack; offset 0
//! of the PSP holds `INT 20h`. The probes ([`DosProbe`]) are a few
//! instructions each, written below as bytes with their listing:
//!
//! ```text
//! Exit(n):         B8 nn 4C    MOV AX,4C00h+n   ; AH=4Ch "EXIT", AL=n
//!                  CD 21       INT 21h
//! ExitWide(w):     B8 lo hi    MOV AX,w         ; a 16-bit value in AX...
//!                  B4 4C       MOV AH,4Ch       ; ...whose high byte the function number replaces
//!                  CD 21       INT 21h          ; exits with AL = w & 0FFh
//! ExitNaiveAdd(w): B8 lo hi    MOV AX,4C00h+w   ; (wrapping) e.g. w=300: AX=4D2Ch, AH=4Dh
//!                  CD 21       INT 21h          ; 4Dh is GET RETURN CODE: it returns
//!                  B8 07 4C    MOV AX,4C07h
//!                  CD 21       INT 21h          ; so the probe ends here, with 7
//! Int20:           CD 20       INT 20h          ; terminate, return code 0
//! Ret:             C3          RET              ; to PSP:0000h, which is INT 20h
//! ```
//!
//! Ralf Brown's Interrupt List: `INT 21 - DOS 2+ - "EXIT" - TERMINATE WITH
//! RETURN CODE; AH = 4Ch, AL = return code; Return: never returns`. There is
//! no wider field: a program that wants to report 300 can only put 8 bits in
//! AL ([`DosProbe::ExitWide`]), and the naive `MOV AX,4C00h+300` does not
//! even exit, because the carry changes the function to 4Dh, "GET RETURN
//! CODE (ERRORLEVEL)" ([`DosProbe::ExitNaiveAdd`]). `INT 21/AH=00h` "sets
//! the program's return code (ERRORLEVEL) to 00h", and `INT 20h` is the
//! same termination; a `.COM`'s `RET` reaches the `INT 20h` at PSP:0000h.
//!
//! # Recovering the errorlevel
//!
//! DOSBox's shell has no `%ERRORLEVEL%`. MS-DOS 6's `IF` help: "ERRORLEVEL
//! number Specifies a true condition only if the previous program run by
//! COMMAND.COM returned an exit code equal to or greater than number." So
//! the generated `EL.BAT` tests `IF ERRORLEVEL 255`, `254`, ... `0` and
//! writes the first that holds: the exact errorlevel. `RUN.BAT` runs every
//! probe and `CALL`s `EL.BAT` after each (`IF` and `CALL` leave the
//! errorlevel alone), or, for a [`DosCheck::AtLeast`] case, records whether
//! one `IF ERRORLEVEL n` holds. All results go to `RESULT.TXT`:
//!
//! ```text
//! EXITMATRIX-DOS V1
//! R <case index> <value> .
//! ...
//! DONE .
//! ```
//!
//! DOSBox starts once for all cases (`dosbox -conf FILE DIR\RUN.BAT
//! -exit`: a file argument mounts its directory as C: and runs it, and
//! `-exit` closes DOSBox when it ends), headless (`SDL_VIDEODRIVER=dummy`,
//! `SDL_AUDIODRIVER=dummy`), with a configuration that disables sound and
//! has an empty `[autoexec]`, and `HOME` in the work directory so that
//! DOSBox writes no file of its own elsewhere.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::run::{self, io, Tool};
use super::{Observation, Place, SystemError};

/// One `.COM` probe: how it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DosProbe {
    /// `MOV AX,4C00h+n ; INT 21h`.
    Exit(u8),
    /// `MOV AX,w ; MOV AH,4Ch ; INT 21h`: a 16-bit value of which AL is
    /// all that can be passed.
    ExitWide(u16),
    /// `MOV AX,4C00h+w` (a 16-bit wrapping add) `; INT 21h ; MOV AX,4C07h
    /// ; INT 21h`: the naive way to ask for a wider code.
    ExitNaiveAdd(u16),
    /// `INT 20h`.
    Int20,
    /// `RET` from the `.COM`.
    Ret,
}

/// One instruction of a probe: its bytes and its assembly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// The machine code.
    pub bytes: Vec<u8>,
    /// The assembly, in Intel syntax.
    pub text: String,
}

fn ins(bytes: &[u8], text: impl Into<String>) -> Instruction {
    Instruction {
        bytes: bytes.to_vec(),
        text: text.into(),
    }
}

fn mov_ax(value: u16) -> Instruction {
    let [lo, hi] = value.to_le_bytes();
    ins(&[0xB8, lo, hi], format!("MOV AX,{value:04X}h"))
}

impl DosProbe {
    /// The probe's instructions, in order.
    pub fn listing(self) -> Vec<Instruction> {
        let int21 = || ins(&[0xCD, 0x21], "INT 21h");
        match self {
            DosProbe::Exit(n) => vec![mov_ax(0x4C00 | u16::from(n)), int21()],
            DosProbe::ExitWide(w) => vec![mov_ax(w), ins(&[0xB4, 0x4C], "MOV AH,4Ch"), int21()],
            DosProbe::ExitNaiveAdd(w) => vec![
                mov_ax(0x4C00u16.wrapping_add(w)),
                int21(),
                mov_ax(0x4C07),
                int21(),
            ],
            DosProbe::Int20 => vec![ins(&[0xCD, 0x20], "INT 20h")],
            DosProbe::Ret => vec![ins(&[0xC3], "RET")],
        }
    }

    /// The `.COM` file: the instructions' bytes.
    pub fn machine_code(self) -> Vec<u8> {
        self.listing().into_iter().flat_map(|i| i.bytes).collect()
    }

    /// The listing as text, one `offset  bytes  instruction` line each,
    /// from offset 100h.
    pub fn listing_text(self) -> String {
        let mut out = String::new();
        let mut offset = 0x100;
        for i in self.listing() {
            let hex: Vec<String> = i.bytes.iter().map(|b| format!("{b:02X}")).collect();
            let _ = writeln!(out, "{offset:04X}  {:<9} {}", hex.join(" "), i.text);
            offset += i.bytes.len();
        }
        out
    }
}

/// What the batch file records after a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DosCheck {
    /// The exact errorlevel ([`Place::DosErrorlevel`]).
    Errorlevel,
    /// Whether `IF ERRORLEVEL n` holds: 1 or 0 ([`Place::DosIfErrorlevel`]).
    AtLeast(u8),
}

/// One DOS case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DosCase {
    /// Its name in profiles.
    pub name: String,
    /// The probe that runs.
    pub probe: DosProbe,
    /// What is recorded after it.
    pub check: DosCheck,
}

impl DosCase {
    /// Where its observation is made.
    pub fn place(&self) -> Place {
        match self.check {
            DosCheck::Errorlevel => Place::DosErrorlevel,
            DosCheck::AtLeast(_) => Place::DosIfErrorlevel,
        }
    }
}

fn case(name: &str, probe: DosProbe, check: DosCheck) -> DosCase {
    DosCase {
        name: name.to_owned(),
        probe,
        check,
    }
}

/// The catalogue of DOS cases, in the order they run. `int-20h` and `ret`
/// follow `exit-255`, so they show that they set the errorlevel to 0
/// rather than leave the previous one.
pub fn cases() -> Vec<DosCase> {
    use DosCheck::{AtLeast, Errorlevel};
    use DosProbe::*;
    vec![
        case("exit-0", Exit(0), Errorlevel),
        case("exit-1", Exit(1), Errorlevel),
        case("exit-42", Exit(42), Errorlevel),
        case("exit-255", Exit(255), Errorlevel),
        case("int-20h", Int20, Errorlevel),
        case("exit-255-again", Exit(255), Errorlevel),
        case("ret", Ret, Errorlevel),
        case("exit-wide-256", ExitWide(256), Errorlevel),
        case("exit-wide-300", ExitWide(300), Errorlevel),
        case("exit-wide-65535", ExitWide(0xFFFF), Errorlevel),
        case("exit-naive-4c00h-plus-300", ExitNaiveAdd(300), Errorlevel),
        case("if-errorlevel-41-after-42", Exit(42), AtLeast(41)),
        case("if-errorlevel-42-after-42", Exit(42), AtLeast(42)),
        case("if-errorlevel-43-after-42", Exit(42), AtLeast(43)),
        case("if-errorlevel-0-after-0", Exit(0), AtLeast(0)),
        case("if-errorlevel-1-after-0", Exit(0), AtLeast(1)),
        case("if-errorlevel-255-after-255", Exit(255), AtLeast(255)),
    ]
}

/// A file of the DOS drive: its 8.3 name and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DosFile {
    /// The name (upper case, 8.3).
    pub name: String,
    /// The contents.
    pub bytes: Vec<u8>,
}

/// The batch file that runs every case.
pub const RUN_BAT: &str = "RUN.BAT";
/// The batch file that writes the exact errorlevel.
pub const EL_BAT: &str = "EL.BAT";
/// The file the batch files write.
pub const RESULT_TXT: &str = "RESULT.TXT";
const HEADER: &str = "EXITMATRIX-DOS V1";

fn crlf(lines: &[String]) -> Vec<u8> {
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    text.into_bytes()
}

/// The name of the probe file of case `index`.
pub fn probe_name(index: usize) -> String {
    format!("P{index:03}.COM")
}

/// Every file of the DOS drive for `cases`: the probes, `EL.BAT` and
/// `RUN.BAT`. At most 1000 cases (three digits of an 8.3 name).
pub fn drive(cases: &[DosCase]) -> Result<Vec<DosFile>, SystemError> {
    if cases.len() > 1000 {
        return Err(SystemError::BadCase {
            case: cases[1000].name.clone(),
            message: "more than 1000 DOS cases in one run".into(),
        });
    }
    let mut files = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        files.push(DosFile {
            name: probe_name(i),
            bytes: c.probe.machine_code(),
        });
    }
    // EL.BAT <index>: the exact errorlevel, by the first n from 255 down for
    // which IF ERRORLEVEL n (at least n) holds. The " ." ends each line so
    // that no digit stands right before a redirection.
    let mut el = vec!["@ECHO OFF".to_owned()];
    for n in (0..=255).rev() {
        el.push(format!("IF ERRORLEVEL {n} ECHO R %1 {n} .>>{RESULT_TXT}"));
        el.push(format!("IF ERRORLEVEL {n} GOTO END"));
    }
    el.push(":END".to_owned());
    files.push(DosFile {
        name: EL_BAT.into(),
        bytes: crlf(&el),
    });
    let mut run = vec![
        "@ECHO OFF".to_owned(),
        format!("ECHO {HEADER}>{RESULT_TXT}"),
    ];
    for (i, c) in cases.iter().enumerate() {
        run.push(probe_name(i));
        match c.check {
            DosCheck::Errorlevel => run.push(format!("CALL {EL_BAT} {i}")),
            DosCheck::AtLeast(n) => {
                run.push(format!("IF ERRORLEVEL {n} ECHO R {i} 1 .>>{RESULT_TXT}"));
                run.push(format!(
                    "IF NOT ERRORLEVEL {n} ECHO R {i} 0 .>>{RESULT_TXT}"
                ));
            }
        }
    }
    run.push(format!("ECHO DONE .>>{RESULT_TXT}"));
    files.push(DosFile {
        name: RUN_BAT.into(),
        bytes: crlf(&run),
    });
    Ok(files)
}

/// Reads `RESULT.TXT` for `cases`. Total: garbage of any kind is an error,
/// never a panic. Blank lines are skipped. A case with no line is simply not observed; a result
/// without its header or its `DONE` line, a line of another form, an index
/// out of range, a value that does not fit its check, or a case reported
/// twice, is an error.
pub fn parse_result(text: &[u8], cases: &[DosCase]) -> Result<Vec<Observation>, SystemError> {
    let bad = |line: usize, message: String| SystemError::Parse {
        what: RESULT_TXT.into(),
        line,
        message,
    };
    let text = std::str::from_utf8(text).map_err(|e| bad(0, format!("not UTF-8 ({e})")))?;
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, HEADER)) => {}
        Some((n, other)) => return Err(bad(n, format!("expected `{HEADER}`, found `{other}`"))),
        None => return Err(bad(0, "empty".into())),
    }
    let mut seen = vec![false; cases.len()];
    let mut observations = Vec::new();
    let mut done = false;
    for (n, line) in lines {
        if line.is_empty() {
            continue;
        }
        if done {
            return Err(bad(n, format!("`{line}` after DONE")));
        }
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["DONE", "."] => done = true,
            ["R", index, value, "."] => {
                let i: usize = index
                    .parse()
                    .ok()
                    .filter(|i| *i < cases.len())
                    .ok_or_else(|| bad(n, format!("no case of index `{index}`")))?;
                let value: u8 = value
                    .parse()
                    .map_err(|_| bad(n, format!("`{value}` is not an errorlevel (0 to 255)")))?;
                let c = &cases[i];
                if matches!(c.check, DosCheck::AtLeast(_)) && value > 1 {
                    return Err(bad(
                        n,
                        format!("`{value}` for an IF ERRORLEVEL test of `{}`", c.name),
                    ));
                }
                if std::mem::replace(&mut seen[i], true) {
                    return Err(bad(n, format!("case `{}` reported twice", c.name)));
                }
                observations.push(Observation {
                    case: c.name.clone(),
                    value: i64::from(value),
                    place: c.place(),
                });
            }
            _ => return Err(bad(n, format!("unrecognised line `{line}`"))),
        }
    }
    if !done {
        return Err(bad(
            0,
            "no `DONE .` line: the batch file did not finish".into(),
        ));
    }
    Ok(observations)
}

/// The DOSBox configuration: no sound devices, no joystick, no serial
/// ports, no keyboard layout, an empty `[autoexec]`.
pub const DOSBOX_CONF: &str = "\
[sdl]
fullscreen=false
output=surface
[dosbox]
machine=svga_s3
memsize=16
[cpu]
core=auto
cycles=max
[mixer]
nosound=true
[midi]
mpu401=none
mididevice=none
[sblaster]
sbtype=none
[gus]
gus=false
[speaker]
pcspeaker=false
tandy=off
disney=false
[joystick]
joysticktype=none
[serial]
serial1=disabled
serial2=disabled
serial3=disabled
serial4=disabled
[dos]
keyboardlayout=none
[ipx]
ipx=false
[autoexec]
";

/// How long one DOSBox run may take.
pub const LIMIT: Duration = Duration::from_secs(120);

/// DOSBox: `$EXITMATRIX_DOSBOX`, else `dosbox` on `PATH`, else
/// `/usr/bin/dosbox`.
pub fn find_dosbox() -> Result<PathBuf, SystemError> {
    run::find(
        "EXITMATRIX_DOSBOX",
        "dosbox",
        &[PathBuf::from("/usr/bin/dosbox")],
    )
    .ok_or_else(|| SystemError::NotInstalled {
        tool: "dosbox",
        hint: "not on PATH or at /usr/bin/dosbox, or EXITMATRIX_DOSBOX is not a file; \
                   run scripts/install-systems.sh"
            .into(),
    })
}

/// Runs `cases` in one DOSBox start in `workdir` (which must exist; the
/// run writes `workdir/c/` as drive C:, `workdir/home/`, the configuration
/// and DOSBox's output there) and returns what the batch file recovered.
pub fn run(cases: &[DosCase], workdir: &Path) -> Result<Vec<Observation>, SystemError> {
    let dosbox = find_dosbox()?;
    let drive_dir = workdir.join("c");
    let home = workdir.join("home");
    for dir in [&drive_dir, &home] {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    }
    let result = drive_dir.join(RESULT_TXT);
    match std::fs::remove_file(&result) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(io(format!("removing {}", result.display()))(e))
        }
        _ => {}
    }
    for f in drive(cases)? {
        let path = drive_dir.join(&f.name);
        std::fs::write(&path, &f.bytes).map_err(io(format!("writing {}", path.display())))?;
    }
    let conf = workdir.join("dosbox.conf");
    std::fs::write(&conf, DOSBOX_CONF).map_err(io(format!("writing {}", conf.display())))?;
    let ran = Tool {
        name: "dosbox",
        program: &dosbox,
        args: vec![
            "-conf".into(),
            conf.into_os_string(),
            drive_dir.join(RUN_BAT).into_os_string(),
            "-exit".into(),
        ],
        dir: workdir,
        env: vec![
            ("SDL_VIDEODRIVER", OsString::from("dummy")),
            ("SDL_AUDIODRIVER", OsString::from("dummy")),
            ("HOME", home.into_os_string()),
        ],
        logs: workdir.join("dosbox"),
        limit: LIMIT,
    }
    .run()?;
    if !ran.status.success() {
        return Err(SystemError::ToolFailed {
            tool: "dosbox",
            status: ran.status.to_string(),
            stderr: run::tail(&ran.stderr, 400),
        });
    }
    let text = std::fs::read(&result).map_err(io(format!(
        "reading {} (DOSBox ran, but the batch file wrote nothing)",
        result.display()
    )))?;
    parse_result(&text, cases)
}
