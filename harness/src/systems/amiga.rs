//! AmigaOS under `vamos`: hunk executables made from 68000 machine code
//! here, and two views of each: the Linux host's and an Amiga parent's.
//!
//! # What AmigaOS defines
//!
//! A program's return code is the `LONG` it leaves in `d0`. `dos/dos.h`:
//! "These are the return codes used by convention by AmigaDOS commands /
//! See FAILAT and IF for relvance to EXECUTE files": `RETURN_OK 0` "No
//! problems, success", `RETURN_WARN 5` "A warning only", `RETURN_ERROR 10`
//! "Something wrong", `RETURN_FAIL 20` "Complete or severe failure". Nothing
//! narrows the `LONG`: `dos.library/RunCommand()` returns "The return code
//! from the program" (autodoc; AROS `rom/dos/runcommand.c` repeats it), all
//! 32 bits.
//!
//! # The probes
//!
//! A *child* returns one value in `d0`:
//!
//! ```text
//! moveq #n,d0        70 nn            ; -128 <= n <= 127
//! rts                4E 75
//!
//! move.l #imm,d0     20 3C iiii iiii  ; any other 32-bit value
//! rts                4E 75
//! ```
//!
//! A *parent* ([`parent_code`]) runs a child as a program's parent would and
//! writes what it was told to its standard output, as the 4-byte marker
//! `EXM:` and the return code, big-endian:
//!
//! ```text
//! movea.l 4.w,a6          2C78 0004        ; exec.library
//! lea     dosname(pc),a1  43FA dddd
//! moveq   #0,d0           7000
//! jsr     -552(a6)        4EAE FDD8        ; OpenLibrary("dos.library", 0)
//! movea.l d0,a6           2C40
//! lea     child(pc),a0    41FA dddd
//! move.l  a0,d1           2208
//! jsr     -150(a6)        4EAE FF6A        ; LoadSeg(child)
//! move.l  d0,d7           2E00
//! beq.w   fail            6700 dddd
//! move.l  d7,d1           2207
//! move.l  #8192,d2        243C 0000 2000   ; stack size
//! lea     args(pc),a0     41FA dddd
//! move.l  a0,d3           2608             ; "\n"
//! moveq   #1,d4           7801
//! jsr     -504(a6)        4EAE FE08        ; RunCommand(seg, stack, args, 1)
//! move.l  d0,d6           2C00             ; the child's return code
//! jsr     -60(a6)         4EAE FFC4        ; Output()
//! move.l  d0,d1           2200
//! move.l  d6,-(sp)        2F06
//! move.l  #'EXM:',-(sp)   2F3C 4558 4D3A
//! move.l  sp,d2           240F
//! moveq   #8,d3           7608
//! jsr     -48(a6)         4EAE FFD0        ; Write(out, sp, 8)
//! addq.l  #8,sp           508F
//! move.l  d7,d1           2207
//! jsr     -156(a6)        4EAE FF64        ; UnLoadSeg(seg)
//! movea.l a6,a1           224E
//! movea.l 4.w,a6          2C78 0004
//! jsr     -414(a6)        4EAE FE62        ; CloseLibrary(dos)
//! moveq   #0,d0           7000
//! rts                     4E75
//! fail: moveq #99,d0      7063             ; the child could not be loaded
//! rts                     4E75
//! dosname: "dos.library\0"  child: "<name>\0"  args: "\n\0"
//! ```
//!
//! The library vector offsets are those of `exec_lib.fd` and `dos_lib.fd`
//! (`OpenLibrary` −552, `CloseLibrary` −414; `Write` −48, `Output` −60,
//! `LoadSeg` −150, `UnLoadSeg` −156, `RunCommand` −504).
//!
//! # Hunk files
//!
//! [`hunk`] writes the load file format: `HUNK_HEADER` (0x3F3), no
//! resident library names (0), table size 1, first hunk 0, last hunk 0, the
//! hunk's size in longs, then `HUNK_CODE` (0x3E9), its length in longs and
//! the code (padded to a long: a zero byte after odd-length data, then
//! `nop`, 4E71), then `HUNK_END` (0x3F2),
//! all big-endian.
//!
//! # The emulator's rule
//!
//! `vamos` (amitools 0.8.1) ends its own process with the program's `d0`
//! cut to 8 bits, `amitools/vamos/main.py`: "# return code is limited to
//! 0-255 / exit_code = run_state.regs\[REG_D0\] & 0xFF". So the host sees
//! `d0 & 0xFF` (20 stays 20, 256 becomes 0, -1 becomes 255), while its
//! `RunCommand()` (`amitools/vamos/dos/run.py`, `run_command` returns
//! `run_state.regs[REG_D0]`) gives a parent inside `vamos` all 32 bits.
//! An Amiga shell's `IF WARN` and `FAILAT` would need a real AmigaOS `Shell`
//! binary, which `vamos -x` runs but amitools does not ship.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::run::{self, io, Tool};
use super::{Observation, Place, SystemError};

/// `HUNK_HEADER`.
pub const HUNK_HEADER: u32 = 0x3F3;
/// `HUNK_CODE`.
pub const HUNK_CODE: u32 = 0x3E9;
/// `HUNK_END`.
pub const HUNK_END: u32 = 0x3F2;

/// The marker before the parent's return code on its standard output.
pub const MARKER: &[u8; 4] = b"EXM:";

/// `dos.h`'s return codes.
pub const RETURN_OK: i32 = 0;
/// A warning only.
pub const RETURN_WARN: i32 = 5;
/// Something wrong.
pub const RETURN_ERROR: i32 = 10;
/// Complete or severe failure.
pub const RETURN_FAIL: i32 = 20;

/// One Amiga case: a program that returns `d0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmigaCase {
    /// Its name in profiles.
    pub name: String,
    /// The value it leaves in `d0`.
    pub d0: i32,
}

/// The catalogue: the four `dos.h` levels and values that need more than 8
/// bits.
pub fn cases() -> Vec<AmigaCase> {
    [
        ("return-ok", RETURN_OK),
        ("return-warn", RETURN_WARN),
        ("return-error", RETURN_ERROR),
        ("return-fail", RETURN_FAIL),
        ("d0-256", 256),
        ("d0-1000", 1000),
        ("d0-minus-1", -1),
        ("d0-i32-max", i32::MAX),
    ]
    .into_iter()
    .map(|(name, d0)| AmigaCase {
        name: name.to_owned(),
        d0,
    })
    .collect()
}

/// The child's code: `moveq #n,d0` when `n` fits 8 signed bits, else
/// `move.l #n,d0`; then `rts`.
pub fn child_code(d0: i32) -> Vec<u8> {
    let mut code = Vec::new();
    if let Ok(small) = i8::try_from(d0) {
        code.extend([0x70, small as u8]);
    } else {
        code.extend([0x20, 0x3C]);
        code.extend(d0.to_be_bytes());
    }
    code.extend([0x4E, 0x75]);
    code
}

/// A load file of one code hunk holding `code`.
pub fn hunk(code: &[u8]) -> Vec<u8> {
    let mut padded = code.to_vec();
    if padded.len() % 2 != 0 {
        padded.push(0); // after the strings: a byte, never executed
    }
    if padded.len() % 4 != 0 {
        padded.extend([0x4E, 0x71]); // nop
    }
    let longs = (padded.len() / 4) as u32;
    let mut out = Vec::new();
    for word in [HUNK_HEADER, 0, 1, 0, 0, longs, HUNK_CODE, longs] {
        out.extend(word.to_be_bytes());
    }
    out.extend(&padded);
    out.extend(HUNK_END.to_be_bytes());
    out
}

/// A small 68000 assembler for the parent: words, and PC-relative
/// displacements patched once the labels are known.
struct Asm {
    code: Vec<u8>,
    /// (offset of a displacement word, label)
    fixups: Vec<(usize, Label)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Label {
    Fail,
    DosName,
    Child,
    Args,
}

impl Asm {
    fn words(&mut self, words: &[u16]) {
        for w in words {
            self.code.extend(w.to_be_bytes());
        }
    }

    /// An opcode followed by a 16-bit displacement to `label`, relative to
    /// the displacement word itself (the 68000's PC during the fetch).
    fn rel(&mut self, opcode: u16, label: Label) {
        self.words(&[opcode]);
        self.fixups.push((self.code.len(), label));
        self.words(&[0]);
    }

    fn jsr_a6(&mut self, offset: i16) {
        self.words(&[0x4EAE, offset as u16]);
    }
}

/// The parent's code for a child of `name` (see the module's listing).
/// The name must be 1 to 30 printable ASCII characters without `"`, `:` or
/// `/`, so that `LoadSeg` takes it as a file in the current directory.
pub fn parent_code(name: &str) -> Result<Vec<u8>, SystemError> {
    let ok = (1..=30).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"\":/".contains(&b));
    if !ok {
        return Err(SystemError::BadCase {
            case: name.to_owned(),
            message: "a child's file name must be 1 to 30 printable ASCII characters".into(),
        });
    }
    let mut a = Asm {
        code: Vec::new(),
        fixups: Vec::new(),
    };
    a.words(&[0x2C78, 0x0004]); // movea.l 4.w,a6
    a.rel(0x43FA, Label::DosName); // lea dosname(pc),a1
    a.words(&[0x7000]); // moveq #0,d0
    a.jsr_a6(-552); // OpenLibrary
    a.words(&[0x2C40]); // movea.l d0,a6
    a.rel(0x41FA, Label::Child); // lea child(pc),a0
    a.words(&[0x2208]); // move.l a0,d1
    a.jsr_a6(-150); // LoadSeg
    a.words(&[0x2E00]); // move.l d0,d7
    a.rel(0x6700, Label::Fail); // beq.w fail
    a.words(&[0x2207, 0x243C, 0x0000, 0x2000]); // move.l d7,d1 ; move.l #8192,d2
    a.rel(0x41FA, Label::Args); // lea args(pc),a0
    a.words(&[0x2608, 0x7801]); // move.l a0,d3 ; moveq #1,d4
    a.jsr_a6(-504); // RunCommand
    a.words(&[0x2C00]); // move.l d0,d6
    a.jsr_a6(-60); // Output
    a.words(&[0x2200, 0x2F06]); // move.l d0,d1 ; move.l d6,-(sp)
    let [m0, m1, m2, m3] = *MARKER;
    a.words(&[
        0x2F3C,
        u16::from_be_bytes([m0, m1]),
        u16::from_be_bytes([m2, m3]),
    ]);
    a.words(&[0x240F, 0x7608]); // move.l sp,d2 ; moveq #8,d3
    a.jsr_a6(-48); // Write
    a.words(&[0x508F, 0x2207]); // addq.l #8,sp ; move.l d7,d1
    a.jsr_a6(-156); // UnLoadSeg
    a.words(&[0x224E, 0x2C78, 0x0004]); // movea.l a6,a1 ; movea.l 4.w,a6
    a.jsr_a6(-414); // CloseLibrary
    a.words(&[0x7000, 0x4E75]); // moveq #0,d0 ; rts
    let mut at = vec![(Label::Fail, a.code.len())];
    a.words(&[0x7063, 0x4E75]); // fail: moveq #99,d0 ; rts
    for (label, text) in [
        (Label::DosName, "dos.library"),
        (Label::Child, name),
        (Label::Args, "\n"),
    ] {
        at.push((label, a.code.len()));
        a.code.extend(text.as_bytes());
        a.code.push(0);
    }
    for (offset, label) in std::mem::take(&mut a.fixups) {
        let target = at.iter().find(|(l, _)| *l == label).map_or(0, |(_, t)| *t);
        // Every target lies within the few hundred bytes of this code.
        let disp = (target as i64 - offset as i64) as i16;
        a.code[offset..offset + 2].copy_from_slice(&disp.to_be_bytes());
    }
    Ok(a.code)
}

/// Reads the parent's standard output: the marker, then 4 bytes of the
/// return code, big-endian. Total: anything else is an error.
pub fn parse_parent_output(stdout: &[u8]) -> Result<i32, SystemError> {
    let bad = |message: String| SystemError::Parse {
        what: "the Amiga parent's output".into(),
        line: 0,
        message,
    };
    let at = stdout
        .windows(MARKER.len())
        .position(|w| w == MARKER)
        .ok_or_else(|| bad(format!("no `EXM:` marker in {} bytes", stdout.len())))?;
    let rest = &stdout[at + MARKER.len()..];
    match rest {
        [a, b, c, d] => Ok(i32::from_be_bytes([*a, *b, *c, *d])),
        _ => Err(bad(format!("{} bytes after the marker, not 4", rest.len()))),
    }
}

/// How long one `vamos` run may take.
pub const LIMIT: Duration = Duration::from_secs(60);

/// `vamos`: `$EXITMATRIX_VAMOS`, else `vamos` on `PATH`, else
/// `<cache>/amitools/bin/vamos` where `scripts/install-systems.sh` puts it.
pub fn find_vamos() -> Result<PathBuf, SystemError> {
    let cached: Vec<PathBuf> = run::cache_dir()
        .map(|c| c.join("amitools").join("bin").join("vamos"))
        .into_iter()
        .collect();
    run::find("EXITMATRIX_VAMOS", "vamos", &cached).ok_or_else(|| SystemError::NotInstalled {
        tool: "vamos",
        hint: format!(
            "not on PATH or at {}, or EXITMATRIX_VAMOS is not a file; \
                 run scripts/install-systems.sh",
            cached
                .first()
                .map_or_else(|| "the cache directory".into(), |p| p.display().to_string())
        ),
    })
}

/// Runs every case twice in `workdir` (which must exist): the child
/// directly under `vamos`, whose exit status is the host's view
/// ([`Place::HostExit`]), and the parent program, which reports what
/// `RunCommand()` returned ([`Place::AmigaRunCommand`]).
pub fn run(cases: &[AmigaCase], workdir: &Path) -> Result<Vec<Observation>, SystemError> {
    let vamos = find_vamos()?;
    let dir = workdir.join("amiga");
    let home = workdir.join("home");
    for d in [&dir, &home] {
        std::fs::create_dir_all(d).map_err(io(format!("creating {}", d.display())))?;
    }
    let mut observations = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let child = format!("c{i:03}");
        let parent = format!("p{i:03}");
        let write = |name: &str, bytes: Vec<u8>| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(io(format!("writing {}", path.display())))
        };
        write(&child, hunk(&child_code(c.d0)))?;
        write(&parent, hunk(&parent_code(&child)?))?;
        let start = |program: &str| Tool {
            name: "vamos",
            program: &vamos,
            args: vec![OsString::from(program)],
            dir: &dir,
            env: vec![("HOME", home.clone().into_os_string())],
            logs: workdir.join(format!("vamos-{program}")),
            limit: LIMIT,
        };
        let direct = start(&child).run()?;
        let code = direct
            .status
            .code()
            .ok_or_else(|| SystemError::ToolFailed {
                tool: "vamos",
                status: direct.status.to_string(),
                stderr: run::tail(&direct.stderr, 400),
            })?;
        observations.push(Observation {
            case: c.name.clone(),
            value: i64::from(code),
            place: Place::HostExit,
        });
        let nested = start(&parent).run()?;
        if nested.status.code() != Some(0) {
            return Err(SystemError::ToolFailed {
                tool: "vamos",
                status: format!("the parent of `{}`: {}", c.name, nested.status),
                stderr: run::tail(&nested.stderr, 400),
            });
        }
        observations.push(Observation {
            case: c.name.clone(),
            value: i64::from(parse_parent_output(&nested.stdout)?),
            place: Place::AmigaRunCommand,
        });
    }
    Ok(observations)
}
