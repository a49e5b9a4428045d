//! The older systems of the source documents (issue #17): OpenVMS condition
//! values (pure, from the documentation, and reachable from the assertion
//! library), DOS in DOSBox and AmigaOS in `vamos` (generated probes, run for
//! real, alone and as `test-matrix --target dos|amigaos`), and their
//! profiles.
//!
//! The pure tests always run. The tests that need DOSBox or `vamos`
//! (`cargo xtask install systems` installs both) are ignored, with that
//! reason, where `suites/build.rs` does not find them (`have_dosbox`,
//! `have_vamos`); under `EXITMATRIX_REQUIRE_ALL=1` they run anyway, so a
//! missing emulator fails them.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Instant;

use exitmatrix::cli::{self, ExitCode};
use exitmatrix::systems::vms::{self, Condition, CrtlExit, ExitMode, Severity};
use exitmatrix::systems::{self, amiga, dos, Mark, Observation, Place, RuleKind, SystemsProfile};
use proptest::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{matrix_args, root, target_dir};

fn profile_path(name: &str) -> PathBuf {
    root()
        .join("profiles")
        .join("systems")
        .join(format!("{name}.toml"))
}

// ---------------------------------------------------------------------------
// OpenVMS: condition values and the C RTL's exit, from the documentation.
// ---------------------------------------------------------------------------

/// (value, severity, success, facility, message number, display): the
/// examples of the sources cited in `systems::vms`.
const VMS_EXAMPLES: &[(u32, Severity, bool, u32, u32, &str)] = &[
    // ssdef.h: SS$_NORMAL 1, SS$_WASSET 9, SS$_ABORT 44.
    (1, Severity::Success, true, 0, 0, "%X00000001 (severity S = STS$K_SUCCESS, success, facility 0 SYSTEM, message 0)"),
    (9, Severity::Success, true, 0, 1, "%X00000009 (severity S = STS$K_SUCCESS, success, facility 0 SYSTEM, message 1)"),
    (0x2C, Severity::Severe, false, 0, 5, "%X0000002C (severity F = STS$K_SEVERE, failure, facility 0 SYSTEM, message 5)"),
    // Perl's t/run/exit.t: 196609 %CLI-S-NORMAL ... 196612 %CLI-F-NORMAL.
    (196_608, Severity::Warning, false, 3, 0, "%X00030000 (severity W = STS$K_WARNING, failure, facility 3 CLI, message 0)"),
    (196_609, Severity::Success, true, 3, 0, "%X00030001 (severity S = STS$K_SUCCESS, success, facility 3 CLI, message 0)"),
    (196_610, Severity::Error, false, 3, 0, "%X00030002 (severity E = STS$K_ERROR, failure, facility 3 CLI, message 0)"),
    (196_611, Severity::Informational, true, 3, 0, "%X00030003 (severity I = STS$K_INFO, success, facility 3 CLI, message 0)"),
    (196_612, Severity::Severe, false, 3, 0, "%X00030004 (severity F = STS$K_SEVERE, failure, facility 3 CLI, message 0)"),
    // VMS C headers' EXIT_FAILURE: (STS$K_ERROR | STS$M_INHIB_MSG).
    (0x1000_0002, Severity::Error, false, 0, 0, "%X10000002 (severity E = STS$K_ERROR, failure, facility 0 SYSTEM, message 0, STS$M_INHIB_MSG)"),
    // DCL's "%C-W-NOMSG, Message number 0035A018" (OpenSSL, 2016).
    (0x0035_A018, Severity::Warning, false, 0x35, 0x1403, "%X0035A018 (severity W = STS$K_WARNING, failure, facility 53 C, message 5123, facility-specific)"),
];

#[test]
fn vms_condition_values_decode_as_documented() {
    for &(value, severity, success, facility, message, shown) in VMS_EXAMPLES {
        let c = Condition(value);
        assert_eq!(c.severity(), severity, "{value:#X}");
        assert_eq!(c.is_success(), success, "{value:#X}");
        assert_eq!(severity.is_success(), success, "{value:#X}");
        assert_eq!(c.facility(), facility, "{value:#X}");
        assert_eq!(c.message_number(), message, "{value:#X}");
        assert_eq!(c.to_string(), shown);
    }
}

#[test]
fn vms_fields_are_the_stsdef_masks() {
    // STS$M_SEVERITY 7, STS$M_MSG_NO 0xFFF8, STS$M_CODE 0x7FF8, STS$M_FAC_SP
    // 0x8000, STS$M_FAC_NO 0x0FFF0000, STS$M_CUST_DEF 0x08000000,
    // STS$M_INHIB_MSG 0x10000000, STS$M_CONTROL 0xF0000000.
    let only = |mask: u32| Condition(mask);
    assert_eq!(only(0xFFF8).message_number(), 0x1FFF);
    assert_eq!(only(0x7FF8).code(), 0xFFF);
    assert!(only(0x8000).facility_specific() && !only(0x7FFF).facility_specific());
    assert_eq!(only(0x0FFF_0000).facility(), 0xFFF);
    assert!(only(0x0800_0000).customer());
    assert!(only(0x1000_0000).inhibit_message());
    assert_eq!(only(0xF000_0000).control(), 0xF);
    assert_eq!(only(0x0FFF_FFF8).condition_id(), 0x01FF_FFFF);
    assert_eq!(
        Condition(0x0800_0001).to_string(),
        "%X08000001 (severity S = STS$K_SUCCESS, success, facility 2048, message 0, customer facility)"
    );
    for bits in 0..8 {
        assert_eq!(Severity::from_bits(bits).bits(), bits);
    }
    assert_eq!(Severity::from_bits(5), Severity::Reserved(5));
}

#[test]
fn the_c_rtl_exit_mapping_says_what_the_manual_says() {
    use ExitMode::{Classic, Posix};
    // "A status value of 0, 1 or EXIT_SUCCESS is translated to ... SS$_NORMAL".
    for s in [0, 1] {
        assert_eq!(
            vms::crtl_exit(s, Classic),
            CrtlExit::Exact(Condition(vms::SS_NORMAL))
        );
    }
    // "A status value of 2 or EXIT_FAILURE is translated to an error-level
    // exit status": the severity and nothing more.
    assert_eq!(
        vms::crtl_exit(2, Classic),
        CrtlExit::SeverityOnly(Severity::Error)
    );
    // "Any other status value is left the same."
    assert_eq!(
        vms::crtl_exit(44, Classic),
        CrtlExit::Exact(Condition(vms::SS_ABORT))
    );
    assert_eq!(
        vms::crtl_exit(3, Classic).severity(),
        Severity::Informational
    );
    assert_eq!(
        vms::crtl_exit(-1, Classic),
        CrtlExit::Exact(Condition(0xFFFF_FFFF))
    );
    // POSIX: 0 is SS$_NORMAL; any other: facility C, severity success.
    assert_eq!(vms::crtl_exit(0, Posix), CrtlExit::Exact(Condition(1)));
    for s in [1, 2, 42, 255] {
        let CrtlExit::FacilityC {
            status,
            de_facto: Some(c),
        } = vms::crtl_exit(s, Posix)
        else {
            panic!("{s}: {:?}", vms::crtl_exit(s, Posix));
        };
        assert_eq!(status, s);
        assert_eq!(c.0, vms::C_FAC_POSIX | (s as u32) << 3 | 1);
        assert_eq!(
            (c.facility_name(), c.severity()),
            (Some("C"), Severity::Success)
        );
        assert_eq!(c.message_number() & 0xFF, s as u32);
        assert!(!c.inhibit_message());
    }
    assert_eq!(
        vms::crtl_exit(256, Posix),
        CrtlExit::FacilityC {
            status: 256,
            de_facto: None
        }
    );
    assert_eq!(vms::crtl_exit(-1, Posix).severity(), Severity::Success);
}

proptest! {
    #[test]
    fn vms_decoding_is_total_and_lossless(v in any::<u32>()) {
        let c = Condition(v);
        let rebuilt = c.severity().bits()
            | c.message_number() << 3
            | c.facility() << 16
            | c.control() << 28;
        prop_assert_eq!(rebuilt, v);
        let prefix = format!("%X{v:08X} (severity ");
        prop_assert!(c.to_string().starts_with(&prefix));
        let _ = vms::crtl_exit(v as i32, ExitMode::Classic);
        let _ = vms::crtl_exit(v as i32, ExitMode::Posix);
    }
}

// ---------------------------------------------------------------------------
// DOS: probes, batch files and the result parser (pure), then DOSBox.
// ---------------------------------------------------------------------------

#[test]
fn dos_probes_are_the_listed_machine_code() {
    use dos::DosProbe::*;
    assert_eq!(Exit(42).machine_code(), [0xB8, 0x2A, 0x4C, 0xCD, 0x21]);
    assert_eq!(Exit(255).machine_code(), [0xB8, 0xFF, 0x4C, 0xCD, 0x21]);
    assert_eq!(
        ExitWide(300).machine_code(),
        [0xB8, 0x2C, 0x01, 0xB4, 0x4C, 0xCD, 0x21]
    );
    assert_eq!(
        ExitNaiveAdd(300).machine_code(),
        [0xB8, 0x2C, 0x4D, 0xCD, 0x21, 0xB8, 0x07, 0x4C, 0xCD, 0x21]
    );
    assert_eq!(Int20.machine_code(), [0xCD, 0x20]);
    assert_eq!(Ret.machine_code(), [0xC3]);
    assert_eq!(
        ExitNaiveAdd(300).listing_text(),
        "0100  B8 2C 4D  MOV AX,4D2Ch\n\
         0103  CD 21     INT 21h\n\
         0105  B8 07 4C  MOV AX,4C07h\n\
         0108  CD 21     INT 21h\n"
    );
}

#[test]
fn dos_drive_has_probes_and_two_batch_files() {
    let cases = dos::cases();
    let files = dos::drive(&cases).unwrap();
    assert_eq!(files.len(), cases.len() + 2);
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(files[i].name, dos::probe_name(i));
        assert_eq!(files[i].bytes, c.probe.machine_code());
    }
    let text = |name: &str| {
        let f = files.iter().find(|f| f.name == name).unwrap();
        String::from_utf8(f.bytes.clone()).unwrap()
    };
    let el = text(dos::EL_BAT);
    assert!(
        el.ends_with("\r\n") && !el.replace("\r\n", "").contains('\n'),
        "CRLF line ends"
    );
    let el: Vec<&str> = el.lines().map(|l| l.trim_end_matches('\r')).collect();
    assert_eq!(el.len(), 1 + 256 * 2 + 1);
    assert_eq!(el[1], "IF ERRORLEVEL 255 ECHO R %1 255 .>>RESULT.TXT");
    assert_eq!(el[2], "IF ERRORLEVEL 255 GOTO END");
    assert_eq!(el[511], "IF ERRORLEVEL 0 ECHO R %1 0 .>>RESULT.TXT");
    assert_eq!(el[513], ":END");
    let run = text(dos::RUN_BAT);
    assert!(run.contains("P002.COM\r\nCALL EL.BAT 2\r\n"));
    assert!(run.contains("IF ERRORLEVEL 43 ECHO R 13 1 .>>RESULT.TXT\r\nIF NOT ERRORLEVEL 43 ECHO R 13 0 .>>RESULT.TXT\r\n"));
    assert!(run.ends_with("ECHO DONE .>>RESULT.TXT\r\n"));
}

#[test]
fn dos_result_parser_reads_good_results_and_rejects_garbage() {
    let cases = dos::cases();
    let ok = dos::parse_result(
        b"EXITMATRIX-DOS V1\r\nR 2 42 .\r\nR 13 0 .\r\nDONE .\r\n",
        &cases,
    )
    .unwrap();
    assert_eq!(
        ok,
        [
            Observation {
                case: "exit-42".into(),
                value: 42,
                place: Place::DosErrorlevel
            },
            Observation {
                case: "if-errorlevel-43-after-42".into(),
                value: 0,
                place: Place::DosIfErrorlevel
            },
        ]
    );
    let err = |text: &[u8]| dos::parse_result(text, &cases).unwrap_err().to_string();
    assert_eq!(
        err(b""),
        "RESULT.TXT, line 1: expected `EXITMATRIX-DOS V1`, found ``"
    );
    assert_eq!(
        err(b"EXITMATRIX-DOS V1\r\nR 2 42 .\r\n"),
        "RESULT.TXT, line 0: no `DONE .` line: the batch file did not finish"
    );
    assert_eq!(
        err(b"EXITMATRIX-DOS V1\nR 99 1 .\nDONE .\n"),
        "RESULT.TXT, line 2: no case of index `99`"
    );
    assert_eq!(
        err(b"EXITMATRIX-DOS V1\nR 2 256 .\nDONE .\n"),
        "RESULT.TXT, line 2: `256` is not an errorlevel (0 to 255)"
    );
    assert_eq!(
        err(b"EXITMATRIX-DOS V1\nR 13 7 .\nDONE .\n"),
        "RESULT.TXT, line 2: `7` for an IF ERRORLEVEL test of `if-errorlevel-43-after-42`"
    );
    assert_eq!(
        err(b"EXITMATRIX-DOS V1\nR 2 4 .\nR 2 4 .\nDONE .\n"),
        "RESULT.TXT, line 3: case `exit-42` reported twice"
    );
    assert_eq!(
        err(b"EXITMATRIX-DOS V1\nFile not found\nDONE .\n"),
        "RESULT.TXT, line 2: unrecognised line `File not found`"
    );
    assert_eq!(
        err(b"EXITMATRIX-DOS V1\nDONE .\nR 2 4 .\n"),
        "RESULT.TXT, line 3: `R 2 4 .` after DONE"
    );
    assert!(err(b"EXITMATRIX-DOS V1\n\xff\n").contains("not UTF-8"));
}

proptest! {
    #[test]
    fn dos_result_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = dos::parse_result(&bytes, &dos::cases());
    }

    #[test]
    fn dos_result_parser_never_panics_on_near_misses(
        lines in proptest::collection::vec("(R|DONE|EXITMATRIX-DOS) ?[0-9 .-]{0,12}", 0..8)
    ) {
        let text = format!("EXITMATRIX-DOS V1\r\n{}", lines.join("\r\n"));
        let _ = dos::parse_result(text.as_bytes(), &dos::cases());
    }
}

#[test]
#[cfg_attr(
    not(have_dosbox),
    ignore = "DOSBox is not installed: cargo xtask install systems"
)]
fn dos_in_dosbox_conforms_to_its_profile() {
    let profile = SystemsProfile::load(&profile_path("dos")).unwrap();
    let dir = TempDir::new().unwrap();
    let started = Instant::now();
    let observations = dos::run(&dos::cases(), dir.path()).unwrap();
    eprintln!(
        "dosbox: {} cases in one start took {:.2?}",
        observations.len(),
        started.elapsed()
    );
    assert_eq!(
        observations.len(),
        dos::cases().len(),
        "every case observed"
    );
    let verdicts = systems::check(&profile, &observations);
    for v in &verdicts {
        eprintln!("{v}");
    }
    assert!(
        verdicts.iter().all(|v| v.mark == Mark::Conforms),
        "{verdicts:#?}"
    );
    assert_eq!(verdicts.len(), profile.expectations.len());
}

// ---------------------------------------------------------------------------
// AmigaOS: hunk files and the parent program (pure), then vamos.
// ---------------------------------------------------------------------------

#[test]
fn amiga_hunks_are_the_documented_layout() {
    // TARGETS.md: `moveq #42,d0` / `rts` (70 2A 4E 75) made vamos exit 42.
    let expected: Vec<u8> = [0x3F3u32, 0, 1, 0, 0, 1, 0x3E9, 1, 0x702A_4E75, 0x3F2]
        .iter()
        .flat_map(|w| w.to_be_bytes())
        .collect();
    assert_eq!(amiga::hunk(&amiga::child_code(42)), expected);
    assert_eq!(amiga::child_code(-1), [0x70, 0xFF, 0x4E, 0x75]);
    assert_eq!(amiga::child_code(-128), [0x70, 0x80, 0x4E, 0x75]);
    assert_eq!(
        amiga::child_code(1000),
        [0x20, 0x3C, 0, 0, 0x03, 0xE8, 0x4E, 0x75]
    );
    assert_eq!(
        amiga::child_code(i32::MAX),
        [0x20, 0x3C, 0x7F, 0xFF, 0xFF, 0xFF, 0x4E, 0x75]
    );
    let long = amiga::hunk(&amiga::child_code(256));
    assert_eq!(&long[20..24], &2u32.to_be_bytes(), "two longs of code");
    // Odd-length code is padded to a long.
    let odd = amiga::hunk(&[0x4E, 0x75, 0x41]);
    assert_eq!(odd.len(), 8 * 4 + 4 + 4);
    assert_eq!(&odd[32..36], &[0x4E, 0x75, 0x41, 0x00]);
}

#[test]
fn amiga_parent_points_at_its_strings() {
    let code = amiga::parent_code("c007").unwrap();
    let word = |at: usize| u16::from_be_bytes([code[at], code[at + 1]]);
    let string_at = |at: usize| {
        let start = (at as i64 + i64::from(word(at) as i16)) as usize;
        let end = start + code[start..].iter().position(|b| *b == 0).unwrap();
        String::from_utf8(code[start..end].to_vec()).unwrap()
    };
    assert_eq!(word(4), 0x43FA, "lea dosname(pc),a1");
    assert_eq!(string_at(6), "dos.library");
    assert_eq!(word(14), 0x2C40);
    assert_eq!(word(16), 0x41FA, "lea child(pc),a0");
    assert_eq!(string_at(18), "c007");
    assert_eq!(&code[code.len() - 2..], b"\n\0");
    assert!(amiga::parent_code("").is_err());
    assert!(amiga::parent_code("df0:c").is_err());
    assert!(amiga::parent_code("a b").is_err());
}

#[test]
fn amiga_parent_output_parser_is_total() {
    assert_eq!(
        amiga::parse_parent_output(b"EXM:\x00\x00\x01\x00").unwrap(),
        256
    );
    assert_eq!(
        amiga::parse_parent_output(b"noise EXM:\xff\xff\xff\xff").unwrap(),
        -1
    );
    assert!(amiga::parse_parent_output(b"").is_err());
    assert!(amiga::parse_parent_output(b"EXM:\x00\x01").is_err());
    assert!(amiga::parse_parent_output(b"EXM:\x00\x01\x02\x03\x04").is_err());
}

proptest! {
    #[test]
    fn amiga_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = amiga::parse_parent_output(&bytes);
    }

    #[test]
    fn amiga_child_code_holds_its_value(d0 in any::<i32>()) {
        let code = amiga::child_code(d0);
        let decoded = match code.as_slice() {
            [0x70, n, 0x4E, 0x75] => i32::from(*n as i8),
            [0x20, 0x3C, a, b, c, d, 0x4E, 0x75] => i32::from_be_bytes([*a, *b, *c, *d]),
            other => panic!("{other:02X?}"),
        };
        prop_assert_eq!(decoded, d0);
    }
}

#[test]
#[cfg_attr(
    not(have_vamos),
    ignore = "vamos is not installed: cargo xtask install systems"
)]
fn amiga_in_vamos_conforms_to_its_profile() {
    let profile = SystemsProfile::load(&profile_path("amigaos")).unwrap();
    let dir = TempDir::new().unwrap();
    let cases = amiga::cases();
    let started = Instant::now();
    let observations = amiga::run(&cases, dir.path()).unwrap();
    eprintln!(
        "vamos: {} runs for {} cases took {:.2?}",
        cases.len() * 2,
        cases.len(),
        started.elapsed()
    );
    assert_eq!(
        observations.len(),
        cases.len() * 2,
        "both views of every case"
    );
    let verdicts = systems::check(&profile, &observations);
    for v in &verdicts {
        eprintln!("{v}");
    }
    assert!(
        verdicts.iter().all(|v| v.mark == Mark::Conforms),
        "{verdicts:#?}"
    );
    let emulator = profile
        .expectations
        .iter()
        .filter(|e| e.rule == RuleKind::Emulator);
    assert!(emulator
        .clone()
        .all(|e| e.place == Place::HostExit && e.cite.contains("main.py")));
    assert_eq!(emulator.count(), cases.len());
}

// ---------------------------------------------------------------------------
// Profiles and verdicts.
// ---------------------------------------------------------------------------

#[test]
fn the_systems_profiles_load_and_cover_every_case() {
    for (name, catalogue) in [
        (
            "dos",
            dos::cases()
                .into_iter()
                .map(|c| (c.name.clone(), vec![c.place()]))
                .collect::<Vec<_>>(),
        ),
        (
            "amigaos",
            amiga::cases()
                .into_iter()
                .map(|c| (c.name, vec![Place::HostExit, Place::AmigaRunCommand]))
                .collect(),
        ),
    ] {
        let p = SystemsProfile::load(&profile_path(name)).unwrap();
        assert_eq!(p.system.name(), name);
        for (case, places) in catalogue {
            for place in places {
                assert!(
                    p.expectations
                        .iter()
                        .any(|e| e.case == case && e.place == place),
                    "{name}: no expectation for {case} at {place}"
                );
            }
        }
        assert!(p.expectations.iter().all(|e| !e.cite.is_empty()));
    }
}

fn load_err(text: &str) -> String {
    SystemsProfile::parse(Path::new("profiles/systems/t.toml"), text)
        .unwrap_err()
        .to_string()
}

const GOOD: &str = "system = \"dos\"\n\n[[expect]]\ncase = \"exit-42\"\nat = \"dos-errorlevel\"\nvalue = 42\ncite = \"RBIL\"\n";

#[test]
fn a_profile_mistake_is_one_line_naming_file_and_key() {
    assert!(SystemsProfile::parse(Path::new("t.toml"), GOOD).is_ok());
    let cases = [
        (GOOD.replace("cite = \"RBIL\"\n", ""), "profiles/systems/t.toml:3:1: expect[0].cite: missing: every expectation cites its source"),
        (GOOD.replace("\"RBIL\"", "\"  \""), "profiles/systems/t.toml:7:8: expect[0].cite: empty: every expectation cites its source"),
        (GOOD.replace("exit-42", "exit-43"), "profiles/systems/t.toml:4:8: expect[0].case: no dos case `exit-43` (known: "),
        (GOOD.replace("dos-errorlevel", "host-exit"), "profiles/systems/t.toml:5:6: expect[0].at: `host-exit` is not where `exit-42` is observed (use: dos-errorlevel)"),
        (GOOD.replace("value = 42", "value = \"42\""), "profiles/systems/t.toml:6:9: expect[0].value: invalid type: string \"42\", expected i64"),
        (GOOD.replace("value = 42", "valu = 42"), "profiles/systems/t.toml:6:1: expect[0].valu: unknown field `valu`"),
        (GOOD.replace("\"dos\"", "\"cp/m\""), "profiles/systems/t.toml:1:10: system: unknown system `cp/m` (known: dos, amigaos)"),
        (format!("{GOOD}rule = \"folklore\"\n"), "profiles/systems/t.toml:8:8: expect[0].rule: unknown rule `folklore` (known: documented, emulator)"),
        (format!("{GOOD}\n{}", &GOOD[16..]), "profiles/systems/t.toml:10:8: expect[1].case: `exit-42` at `dos-errorlevel` is already expected on line 4"),
        ("system = \"dos\"\n[[expect]\n".to_owned(), "profiles/systems/t.toml:2:"),
    ];
    for (text, expected) in cases {
        let e = load_err(&text);
        assert!(e.starts_with(expected), "got `{e}`, want `{expected}…`");
        assert_eq!(e.lines().count(), 1, "one line: {e}");
    }
    let missing = SystemsProfile::load(Path::new("/nonexistent/x.toml")).unwrap_err();
    assert_eq!(missing.to_string(), "cannot read /nonexistent/x.toml");
}

#[test]
fn check_never_passes_a_case_that_was_not_observed() {
    let profile = SystemsProfile::parse(
        Path::new("t.toml"),
        &format!("{GOOD}\n[[expect]]\ncase = \"exit-0\"\nat = \"dos-errorlevel\"\nvalue = 0\ncite = \"RBIL\"\n"),
    )
    .unwrap();
    let seen = |case: &str, value| Observation {
        case: case.into(),
        value,
        place: Place::DosErrorlevel,
    };
    let marks = |obs: &[Observation]| -> Vec<(String, Mark)> {
        systems::check(&profile, obs)
            .into_iter()
            .map(|v| (v.case, v.mark))
            .collect()
    };
    assert_eq!(
        marks(&[]),
        [
            ("exit-42".into(), Mark::NotObserved),
            ("exit-0".into(), Mark::NotObserved)
        ]
    );
    assert_eq!(
        marks(&[seen("exit-42", 42), seen("exit-0", 1), seen("ret", 0)]),
        [
            ("exit-42".into(), Mark::Conforms),
            ("exit-0".into(), Mark::Deviates),
            ("ret".into(), Mark::NoExpectation),
        ]
    );
    // The same case at another place is not an observation of it.
    let elsewhere = Observation {
        case: "exit-42".into(),
        value: 42,
        place: Place::HostExit,
    };
    assert_eq!(
        marks(&[elsewhere])[0],
        ("exit-42".into(), Mark::NotObserved)
    );
    let v = &systems::check(&profile, &[seen("exit-0", 1)])[1];
    assert_eq!(
        v.to_string(),
        "exit-0 [dos-errorlevel]: deviates (expected 0, observed 1)"
    );
    assert_eq!(v.cite.as_deref(), Some("RBIL"));
}

// ---------------------------------------------------------------------------
// `test-matrix --target dos|amigaos`, end to end, in process.
// ---------------------------------------------------------------------------

/// What one in-process `test-matrix` run printed, returned and wrote.
struct SystemRun {
    code: u8,
    stdout: String,
    stderr: String,
    out: TempDir,
}

impl SystemRun {
    /// The JSON report of `target` the run wrote.
    fn report(&self, target: &str) -> Value {
        let path = self.out.path().join(format!("report-{target}.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), self.story()));
        serde_json::from_str(&text).unwrap()
    }

    fn story(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `test-matrix ARGS` in process, its reports in a fresh directory.
/// Nothing is built: an older system's probes are written by the harness.
fn run_matrix(args: &[&str]) -> SystemRun {
    let out = TempDir::new().unwrap();
    let args = matrix_args(&target_dir(), out.path(), args);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = cli::test_matrix_with(
        &args,
        &mut stdout,
        &mut stderr,
        Arc::new(AtomicUsize::new(0)),
    );
    SystemRun {
        code,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
        out,
    }
}

/// Each own-case row of a report as (case, observer, observed, verdict).
fn rows(report: &Value) -> Vec<(String, String, String, String)> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap().to_owned();
            (
                text("case"),
                text("observer"),
                text("observed_text"),
                text("verdict"),
            )
        })
        .collect()
}

/// Checks what every row of a system's report shares: an own case whose
/// expectation is the profile's rule, cited and located in its file.
fn check_rows_cite(report: &Value, profile: &str) {
    let file = profile_path(profile);
    for r in report["cases"].as_array().unwrap() {
        let e = &r["expected"];
        assert!(!e["cite"].as_str().unwrap().is_empty(), "{r}");
        assert_eq!(e["profile"], format!("systems/{profile}"), "{r}");
        assert_eq!(e["location"]["file"], file.display().to_string(), "{r}");
        assert!(e["location"]["line"].as_u64().unwrap() > 0, "{r}");
        assert_eq!(e["outcome"][0], r["observed_text"], "{r}");
        assert_eq!(
            r["reported"][0]["value"].to_string(),
            r["observed_text"].as_str().unwrap(),
            "{r}"
        );
    }
}

#[test]
#[cfg_attr(
    not(have_dosbox),
    ignore = "DOSBox is not installed: cargo xtask install systems"
)]
fn test_matrix_runs_dos_in_dosbox_against_its_profile() {
    let run = run_matrix(&["--target", "dos", "--format", "summary"]);
    assert_eq!(run.code, ExitCode::Conforms.code(), "{}", run.story());
    let n = dos::cases().len();
    assert!(
        run.stdout.contains(&format!(
            "dos: {n} cells, {n} conform ({n} on cited rules, 0 on blessed rules), 0 deviate, \
             0 without expectation, 0 not observed, 0 not applicable, 0 not installed \
             (profile systems/dos)"
        )),
        "{}",
        run.story()
    );
    let r = run.report("dos");
    assert_eq!(
        (r["schema"].as_u64(), r["target"].as_str()),
        (Some(1), Some("dos"))
    );
    assert_eq!(r["cells"].as_array().unwrap().len(), 0);
    let observers: Vec<&str> = r["observers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(observers, ["dos-errorlevel", "dos-if-errorlevel"]);
    let rows = rows(&r);
    assert_eq!(rows.len(), n, "one row per case");
    assert!(rows.iter().all(|row| row.3 == "conforms"), "{rows:?}");
    let row = |case: &str| rows.iter().find(|row| row.0 == case).unwrap().clone();
    // Only AL reaches the errorlevel; MOV AX,4C00h+300 does not even exit.
    assert_eq!(row("exit-wide-300").1, "dos-errorlevel");
    assert_eq!(row("exit-wide-300").2, "44");
    assert_eq!(row("exit-naive-4c00h-plus-300").2, "7");
    assert_eq!(row("if-errorlevel-41-after-42").1, "dos-if-errorlevel");
    assert_eq!(row("if-errorlevel-41-after-42").2, "1");
    check_rows_cite(&r, "dos");
    let command = r["cases"][2]["command"].as_str().unwrap();
    assert!(
        command.contains("P002.COM (MOV AX,4C2Ah; INT 21h), then CALL EL.BAT 2"),
        "{command}"
    );
}

#[test]
#[cfg_attr(
    not(have_dosbox),
    ignore = "DOSBox is not installed: cargo xtask install systems"
)]
fn a_wrong_dos_rule_is_a_deviation_at_its_file_and_line() {
    let profiles = TempDir::new().unwrap();
    std::fs::create_dir(profiles.path().join("systems")).unwrap();
    let text = std::fs::read_to_string(profile_path("dos")).unwrap();
    let wrong = text.replacen("value = 44\n", "value = 300\n", 1);
    assert_ne!(wrong, text);
    let file = profiles.path().join("systems").join("dos.toml");
    std::fs::write(&file, &wrong).unwrap();
    let run = run_matrix(&[
        "--target",
        "dos",
        "--profiles",
        profiles.path().to_str().unwrap(),
        "-b",
        "exit-wide",
        "--format",
        "summary",
    ]);
    assert_eq!(run.code, ExitCode::Deviates.code(), "{}", run.story());
    let line = 1 + wrong[..wrong.find("case = \"exit-wide-300\"").unwrap()]
        .matches('\n')
        .count();
    for expected in [
        "deviation: exit-wide-300 [dos-errorlevel]: ".to_owned(),
        "    outcome: expected 300, observed 44".to_owned(),
        format!("    expectation: {}:{line}:8 (Ralf Brown's", file.display()),
        "dos: 3 cells, 2 conform".to_owned(),
    ] {
        assert!(
            run.stdout.contains(&expected),
            "{expected}\n{}",
            run.story()
        );
    }
}

#[test]
#[cfg_attr(
    not(have_dosbox),
    ignore = "DOSBox is not installed: cargo xtask install systems"
)]
fn a_dos_profile_file_anywhere_is_what_the_run_checks_against() {
    // `--profile FILE` as for the catalogue's targets: a draft outside
    // `profiles/systems`, here with one rule wrong.
    let dir = TempDir::new().unwrap();
    let text = std::fs::read_to_string(profile_path("dos")).unwrap();
    let wrong = text.replacen("value = 44\n", "value = 300\n", 1);
    assert_ne!(wrong, text);
    let file = dir.path().join("draft-dos.toml");
    std::fs::write(&file, &wrong).unwrap();
    let asked = file.to_str().unwrap();
    let run = run_matrix(&[
        "--target",
        "dos",
        "--profile",
        asked,
        "-b",
        "exit-wide",
        "--format",
        "summary",
    ]);
    assert_eq!(run.code, ExitCode::Deviates.code(), "{}", run.story());
    for expected in [
        "    outcome: expected 300, observed 44".to_owned(),
        format!("    expectation: {}:", file.display()),
        format!("(profile {asked})"),
    ] {
        assert!(
            run.stdout.contains(&expected),
            "{expected}\n{}",
            run.story()
        );
    }

    let missing = dir.path().join("missing.toml");
    let run = run_matrix(&["--target", "dos", "--profile", missing.to_str().unwrap()]);
    assert_eq!(run.code, ExitCode::Usage.code(), "{}", run.story());
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.story());
    assert!(run.stderr.contains("cannot read it"), "{}", run.story());
}

#[test]
#[cfg_attr(
    not(have_vamos),
    ignore = "vamos is not installed: cargo xtask install systems"
)]
fn test_matrix_runs_amigaos_in_vamos_against_its_profile() {
    let run = run_matrix(&["--target", "amigaos", "--format", "summary"]);
    assert_eq!(run.code, ExitCode::Conforms.code(), "{}", run.story());
    let n = amiga::cases().len() * 2;
    assert!(
        run.stdout.contains(&format!(
            "amigaos: {n} cells, {n} conform ({n} on cited rules, 0 on blessed rules), 0 deviate"
        )),
        "{}",
        run.story()
    );
    let r = run.report("amigaos");
    let rows = rows(&r);
    assert_eq!(rows.len(), n, "two views of every case");
    assert!(rows.iter().all(|row| row.3 == "conforms"), "{rows:?}");
    let seen = |case: &str, observer: &str| {
        rows.iter()
            .find(|row| row.0 == case && row.1 == observer)
            .map(|row| row.2.clone())
            .unwrap()
    };
    // An Amiga parent gets all 32 bits; the Linux host gets vamos's 8.
    assert_eq!(seen("d0-256", "amiga-runcommand"), "256");
    assert_eq!(seen("d0-256", "host-exit"), "0");
    assert_eq!(seen("d0-minus-1", "amiga-runcommand"), "-1");
    assert_eq!(seen("d0-minus-1", "host-exit"), "255");
    assert_eq!(seen("return-warn", "amiga-runcommand"), "5");
    check_rows_cite(&r, "amigaos");
    // The host's view is vamos's rule, and each of its rows says so.
    for c in r["cases"].as_array().unwrap() {
        let emulator = c["notes"].as_array().is_some_and(|n| {
            n.iter()
                .any(|n| n.as_str().unwrap().contains("emulator rule"))
        });
        assert_eq!(emulator, c["observer"] == "host-exit", "{c}");
    }
}

#[test]
#[cfg_attr(
    not(have_vamos),
    ignore = "vamos is not installed: cargo xtask install systems"
)]
fn an_amigaos_column_and_cases_can_be_selected() {
    let run = run_matrix(&[
        "--target",
        "amigaos",
        "--observer",
        "host-exit",
        "-b",
        "d0-",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, ExitCode::Conforms.code(), "{}", run.story());
    let rows = rows(&run.report("amigaos"));
    let names: Vec<(&str, &str)> = rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    assert_eq!(
        names,
        [
            ("d0-256", "host-exit"),
            ("d0-1000", "host-exit"),
            ("d0-minus-1", "host-exit"),
            ("d0-i32-max", "host-exit"),
        ]
    );
}

#[rstest::rstest]
#[case::no_case(&["--target", "dos", "-b", "no-such-case"], "the selection leaves no case to run on dos")]
#[case::not_its_column(&["--target", "amigaos", "--observer", "waitpid"], "observer `waitpid` does not run on amigaos (its columns: amiga-runcommand, host-exit)")]
#[case::no_builds(&["--target", "dos", "--build", "c"], "--build does not apply to dos")]
#[case::no_runner(&["--target", "amigaos", "--runner", "qemu-m68k"], "--bless and --runner are for a foreign --target")]
fn a_bad_selection_of_an_older_system_is_a_usage_error(
    #[case] args: &[&str],
    #[case] message: &str,
) {
    let run = run_matrix(args);
    assert_eq!(run.code, ExitCode::Usage.code(), "{}", run.story());
    assert!(
        run.stderr.starts_with(&format!("error: {message}")),
        "{}",
        run.story()
    );
    assert!(
        std::fs::read_dir(run.out.path()).unwrap().next().is_none(),
        "no report"
    );
}

#[test]
fn an_unknown_target_lists_the_older_systems() {
    let run = run_matrix(&["--target", "vms"]);
    assert_eq!(run.code, ExitCode::Usage.code(), "{}", run.story());
    assert!(
        run.stderr.contains("; dos, amigaos in their emulators)"),
        "{}",
        run.story()
    );
}

// ---------------------------------------------------------------------------
// The OpenVMS decoder through the assertion library.
// ---------------------------------------------------------------------------

#[test]
fn the_assertion_library_reads_an_exit_code_as_a_vms_condition() {
    use exitmatrix::assert::{ends, vms as avms};
    use exitmatrix::StateChange;
    use predicates_core::Predicate;
    use predicates_tree::CaseTreeExt;

    // The same decoder, not a copy: its values are `systems::vms`'s.
    assert_eq!(
        avms::crtl_exit(44, ExitMode::Classic),
        CrtlExit::Exact(Condition(avms::SS_ABORT))
    );
    for &(value, severity, ..) in VMS_EXAMPLES {
        let ended = StateChange::Exited {
            code: i64::from(value),
        };
        assert!(ends::vms_severity(severity).eval(&ended), "{value:#X}");
        let other = Severity::from_bits(severity.bits() + 1);
        assert!(!ends::vms_severity(other).eval(&ended), "{value:#X}");
    }
    // A code wider than 32 bits, or a signal, is no condition value.
    let wide = StateChange::Exited {
        code: (1 << 40) | 1,
    };
    assert!(!ends::vms_severity(Severity::Success).eval(&wide));
    let killed = StateChange::Signaled {
        signal: exitmatrix::Signal::ABRT,
        core_dumped: false,
    };
    assert!(!ends::vms_severity(Severity::Severe).eval(&killed));
    // A negative 32-bit code is read as its bits: -1 is %XFFFFFFFF.
    let minus_one = StateChange::Exited { code: -1 };
    assert!(ends::vms_severity(Severity::Reserved(7)).eval(&minus_one));
    // A failure explains itself with the value decoded.
    let abort = StateChange::Exited { code: 44 };
    let tree = ends::vms_severity(Severity::Success)
        .find_case(false, &abort)
        .unwrap()
        .tree()
        .to_string();
    assert!(
        tree.contains("exited with an OpenVMS condition value of severity S (STS$K_SUCCESS)"),
        "{tree}"
    );
    assert!(
        tree.contains(
            "as an OpenVMS condition value: %X0000002C (severity F = STS$K_SEVERE, failure, \
             facility 0 SYSTEM, message 5)"
        ),
        "{tree}"
    );
}
