//! The foreign targets as data: every shipped `targets/<triple>.toml`
//! loads (and says what the harness's old built-in table said), the install
//! script reads the same packages from them, a description with a mistake
//! gives one line naming the file and the key, and an unknown `--target`
//! lists the described ones.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use exitmatrix::cli::{self, ExitCode};
use exitmatrix::pure::catalogue::Build;
use exitmatrix::pure::target::{self, DefaultRunner, Family, TargetError, TargetSpec};
use tempfile::TempDir;

use crate::common::{matrix_args, root, target_dir};

const FULL: &[Build] = &[Build::Unwind, Build::Abort, Build::C];

/// A Linux target under qemu-user, as the old table wrote them.
fn qemu_linux(
    triple: &'static str,
    arch: &'static str,
    signals: &'static str,
    gnu: &'static str,
    debian: &'static str,
    qemu: &'static str,
    standard: bool,
) -> TargetSpec {
    let gcc: &'static str = Box::leak(format!("{gnu}-gcc").into_boxed_str());
    let prefix: &'static str = Box::leak(format!("/usr/{gnu}").into_boxed_str());
    let packages: &'static [&'static str] = Box::leak(Box::new([
        "rustc",
        "qemu-user",
        Box::leak(format!("gcc-{gnu}").into_boxed_str()) as &str,
        Box::leak(format!("libc6-dev-{debian}-cross").into_boxed_str()),
    ]));
    TargetSpec {
        triple,
        arch,
        family: Family::Unix,
        signals,
        wait: "linux",
        standard,
        linker: Some(gcc),
        rustc_flags: &[],
        sysroot_arch: Some(debian),
        c_compiler: Some(gcc),
        c_flags: &[],
        builds: FULL,
        default_runner: DefaultRunner::Qemu {
            binary: qemu,
            prefix,
        },
        exe_suffix: "",
        packages,
    }
}

/// What the descriptions of the six targets of the harness's former
/// built-in table must say, field for field. Targets added since are files
/// only: no line here names them.
fn former_table() -> Vec<TargetSpec> {
    vec![
        qemu_linux(
            "aarch64-unknown-linux-gnu",
            "aarch64",
            "linux-generic",
            "aarch64-linux-gnu",
            "arm64",
            "qemu-aarch64",
            true,
        ),
        TargetSpec {
            triple: "i686-unknown-linux-gnu",
            arch: "x86",
            family: Family::Unix,
            signals: "linux-generic",
            wait: "linux",
            standard: true,
            linker: Some("i686-linux-gnu-gcc"),
            rustc_flags: &["-C", "target-feature=+crt-static"],
            sysroot_arch: Some("i386"),
            c_compiler: Some("i686-linux-gnu-gcc"),
            c_flags: &["-static"],
            builds: FULL,
            default_runner: DefaultRunner::Native,
            exe_suffix: "",
            packages: &["rustc", "gcc-i686-linux-gnu", "libc6-dev-i386-cross"],
        },
        qemu_linux(
            "mips64el-unknown-linux-gnuabi64",
            "mips64",
            "linux-mips",
            "mips64el-linux-gnuabi64",
            "mips64el",
            "qemu-mips64el",
            true,
        ),
        TargetSpec {
            triple: "wasm32-wasi",
            arch: "wasm32",
            family: Family::Wasi,
            signals: "none",
            wait: "none",
            standard: true,
            linker: None,
            rustc_flags: &[],
            sysroot_arch: None,
            c_compiler: None,
            c_flags: &[],
            builds: &[Build::Abort],
            default_runner: DefaultRunner::NodeWasi,
            exe_suffix: ".wasm",
            packages: &["rustc", "lld-14", "libstd-rust-dev-wasm32"],
        },
        TargetSpec {
            triple: "x86_64-pc-windows-gnu",
            arch: "x86_64",
            family: Family::Windows,
            signals: "windows-crt",
            wait: "none",
            standard: true,
            linker: Some("x86_64-w64-mingw32-gcc"),
            rustc_flags: &[],
            sysroot_arch: None,
            c_compiler: Some("x86_64-w64-mingw32-gcc"),
            c_flags: &[],
            builds: FULL,
            default_runner: DefaultRunner::Wine,
            exe_suffix: ".exe",
            packages: &[
                "rustc",
                "libstd-rust-dev-windows",
                "gcc-mingw-w64-x86-64",
                "wine64",
            ],
        },
        qemu_linux(
            "s390x-unknown-linux-gnu",
            "s390x",
            "linux-generic",
            "s390x-linux-gnu",
            "s390x",
            "qemu-s390x",
            false,
        ),
    ]
}

#[test]
fn every_shipped_description_loads_and_says_what_the_old_table_said() {
    let loaded = target::load_all(&root().join("targets")).unwrap_or_else(|e| panic!("{e}"));
    for old in former_table() {
        let new = loaded.iter().find(|t| t.triple == old.triple);
        assert_eq!(new, Some(&old), "{}", old.triple);
    }
    // The standard ones first, then the extra ones, each by triple:
    // `--all-targets` order.
    assert!(
        loaded
            .windows(2)
            .all(|w| (!w[0].standard, w[0].triple) < (!w[1].standard, w[1].triple)),
        "{:?}",
        loaded.iter().map(|t| t.triple).collect::<Vec<_>>()
    );
    // What the harness uses is the same directory, loaded once.
    assert_eq!(target::known().unwrap(), loaded.as_slice());
    assert_eq!(target::shipped_dir(), root().join("targets"));
    for spec in &loaded {
        // Every described target has a profile of its own, and its runner a
        // kind the harness knows how to start.
        assert!(
            root()
                .join("profiles")
                .join(format!("{}.toml", spec.triple))
                .is_file(),
            "{} has no profile",
            spec.triple
        );
        if let DefaultRunner::Qemu { binary, prefix } = spec.default_runner {
            assert!(
                binary.starts_with("qemu-") && prefix.starts_with("/usr/"),
                "{}",
                spec.triple
            );
        }
        assert!(!spec.packages.is_empty(), "{}", spec.triple);
        assert_eq!(target::spec(spec.triple).unwrap(), Some(spec));
    }
    assert_eq!(target::spec("sparc-sun-solaris").unwrap(), None);
}

/// `scripts/install-targets.sh --list` reads the same packages and sysroot
/// architectures from the files as the loader does.
#[test]
fn the_install_script_reads_the_descriptions() {
    let specs = target::known().unwrap();
    for extra in [false, true] {
        #[expect(clippy::disallowed_methods, reason = "a script, not a probe")]
        let mut cmd = Command::new("bash");
        cmd.arg(root().join("scripts/install-targets.sh"))
            .arg("--list");
        if extra {
            cmd.arg("--extra");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let wanted: Vec<&TargetSpec> = specs.iter().filter(|s| s.standard || extra).collect();
        let mut packages: Vec<&str> = wanted
            .iter()
            .flat_map(|s| s.packages.iter().copied())
            .collect();
        packages.sort_unstable();
        packages.dedup();
        let mut arches: Vec<&str> = wanted.iter().filter_map(|s| s.sysroot_arch).collect();
        arches.sort_unstable();
        arches.dedup();
        assert_eq!(
            text,
            format!(
                "packages: {}\nsysroots: {}\n",
                packages.join(" "),
                arches.join(" ")
            ),
            "extra: {extra}"
        );
    }
}

/// A copy of the shipped descriptions with `file`'s text changed by `edit`,
/// and the error loading it gives.
fn broken(file: &str, edit: impl Fn(&str) -> String) -> (TargetError, TempDir) {
    let dir = TempDir::new().unwrap();
    for entry in fs::read_dir(root().join("targets")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        let mut text = fs::read_to_string(&path).unwrap();
        if name == file {
            let edited = edit(&text);
            assert_ne!(edited, text, "the edit of {file} changed nothing");
            text = edited;
        }
        fs::write(dir.path().join(name), text).unwrap();
    }
    let e = target::load_all(dir.path()).expect_err("a broken description loaded");
    (e, dir)
}

const AARCH64: &str = "aarch64-unknown-linux-gnu.toml";

#[rstest::rstest]
#[case::unknown_key(
    |t: &str| t.replace("\nc-flags = []", "\nc-flags = []\nc-compilr = \"gcc\""),
    "unknown field `c-compilr`"
)]
#[case::wrong_type(
    |t: &str| t.replace("arch = \"aarch64\"", "arch = 64"),
    "`arch` must be a string, not an integer"
)]
#[case::not_a_bool(
    |t: &str| t.replace("standard = true", "standard = \"yes\""),
    "`standard` must be true or false, not a string"
)]
#[case::unknown_family(
    |t: &str| t.replace("family = \"unix\"", "family = \"bsd\""),
    "`family` is `bsd`, which is not a family (known: unix, windows, wasi)"
)]
#[case::unknown_signal_table(
    |t: &str| t.replace("signals = \"linux-generic\"", "signals = \"linux-sparc\""),
    "`signals` is `linux-sparc`, which is not a signal table (known: "
)]
#[case::unknown_wait_layout(
    |t: &str| t.replace("wait = \"linux\"", "wait = \"sysv\""),
    "`wait` is `sysv`, which is not a wait layout (known: linux, freebsd, macos, none)"
)]
#[case::unknown_build(
    |t: &str| t.replace("builds = [\"unwind\", \"abort\", \"c\"]", "builds = [\"unwind\", \"fast\"]"),
    "`builds` names `fast`, which is not a build (known: unwind, abort, c)"
)]
#[case::builds_not_strings(
    |t: &str| t.replace("builds = [\"unwind\", \"abort\", \"c\"]", "builds = [\"unwind\", 2]"),
    "`builds` must be an array of strings, not an array holding an integer"
)]
#[case::missing_key(
    |t: &str| t.replace("wait = \"linux\"\n", ""),
    "missing field `wait`"
)]
#[case::unknown_runner(
    |t: &str| t.replace("kind = \"qemu-user\"", "kind = \"box64\""),
    "`runner.kind` is `box64`, which is not a runner kind (known: native, qemu-user, wine, node-wasi)"
)]
#[case::qemu_without_prefix(
    |t: &str| t.replace("prefix = \"/usr/aarch64-linux-gnu\"\n", ""),
    "`runner.prefix` is missing: a qemu-user runner needs `binary` and `prefix`"
)]
#[case::unknown_runner_key(
    |t: &str| t.replace("kind = \"qemu-user\"", "kind = \"qemu-user\"\nargs = []"),
    "unknown field `args`"
)]
#[case::runner_not_a_table(
    |t: &str| t.replace("[runner]\nkind = \"qemu-user\"\nbinary = \"qemu-aarch64\"\nprefix = \"/usr/aarch64-linux-gnu\"\n", "runner = \"qemu\"\n"),
    "expected a `[runner]` table"
)]
#[case::triple_not_the_file_name(
    |t: &str| t.replace("triple = \"aarch64-unknown-linux-gnu\"", "triple = \"arm64-unknown-linux-gnu\""),
    "`triple` is `arm64-unknown-linux-gnu`, but the file is named `aarch64-unknown-linux-gnu.toml`"
)]
#[case::packages_on_two_lines(
    |t: &str| t.replace("\"qemu-user\", ", "\"qemu-user\",\n  "),
    "`install.packages` must be written on one line"
)]
#[case::syntax(
    |t: &str| t.replace("arch = \"aarch64\"", "arch = \"aarch64"),
    "aarch64-unknown-linux-gnu.toml:"
)]
fn a_broken_description_is_one_line_naming_file_and_key(
    #[case] edit: fn(&str) -> String,
    #[case] needle: &str,
) {
    let (e, dir) = broken(AARCH64, edit);
    let line = e.to_string();
    assert!(matches!(e, TargetError::Invalid { .. }), "{line}");
    assert_eq!(line.lines().count(), 1, "{line}");
    let file = dir.path().join(AARCH64).display().to_string();
    assert!(line.starts_with(&format!("{file}:")), "{line}");
    assert!(line.contains(needle), "{line}\n(wanted {needle})");
    // The harness reports it as a configuration error: exit 4.
    assert_eq!(cli::RunError::Config(line).exit_code(), ExitCode::Config);
}

#[test]
fn a_broken_description_points_at_its_line_and_column() {
    let (e, dir) = broken(AARCH64, |t| {
        t.replace("family = \"unix\"", "family = \"bsd\"")
    });
    let at = |line: usize, column: usize| {
        format!("{}:{line}:{column}: ", dir.path().join(AARCH64).display())
    };
    let line = fs::read_to_string(root().join("targets").join(AARCH64))
        .unwrap()
        .lines()
        .position(|l| l.starts_with("family ="))
        .unwrap()
        + 1;
    assert!(e.to_string().starts_with(&at(line, 10)), "{e}");
}

#[test]
fn a_directory_that_is_not_there_cannot_be_read() {
    let e = target::load_all(Path::new("/nonexistent/targets")).unwrap_err();
    assert!(matches!(e, TargetError::Read { .. }), "{e}");
    assert!(e.to_string().contains("/nonexistent/targets"), "{e}");
}

#[test]
fn an_unknown_target_lists_the_described_ones() {
    let out = TempDir::new().unwrap();
    let args = matrix_args(&target_dir(), out.path(), &["--target", "no-such"]);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = cli::test_matrix_with(
        &args,
        &mut stdout,
        &mut stderr,
        Arc::new(AtomicUsize::new(0)),
    );
    let stderr = String::from_utf8(stderr).unwrap();
    assert_eq!(code, ExitCode::Usage.code(), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: unknown target `no-such`"),
        "{stderr}"
    );
    for spec in target::known().unwrap() {
        assert!(
            stderr.contains(spec.triple),
            "{} not listed: {stderr}",
            spec.triple
        );
    }
}
