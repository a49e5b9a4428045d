//! `cargo xtask check-platforms`: type-checks the workspace for targets this
//! machine has no standard library for (macOS, the BSDs, illumos, Windows).
//!
//! rustup here has only the host's std and cannot download others, so the
//! check uses a private Rust 1.96 (Debian's rustc-web, unpacked by
//! `scripts/install-rust-web.sh` into the project's cache directory) whose
//! std sources let `-Zbuild-std` build std for any target. rustup's cargo
//! drives it through `RUSTC`/`RUSTDOC` (and `clippy-driver` as the workspace
//! wrapper for `--clippy`), set on the child cargo alone: in the caller's
//! environment they would silently replace the compilers of everything else.
//!
//! All targets share one target directory in the cache directory
//! (`platforms-target`), outside `target/` so that `cargo clean` keeps it:
//! std for a target is built once (100–150 s on two shared cores, 3.2 GB
//! for all seven targets with the host's build scripts) and reused by every
//! later check, of the workspace and of the agent alike: a warm check of a
//! target takes 3–7 s.
//!
//! What is checked, with `--all-targets` (libraries, binaries, unit and
//! integration tests: the suites crate has nothing else, and test code has
//! to be ported too):
//! - every workspace member but `exitmatrix-benches`, which is Linux only
//!   (`#![cfg(target_os = "linux")]`) and whose build script compiles static
//!   Linux C children with the target's C compiler, which these targets do
//!   not have;
//! - for [`FIXTURE_TARGETS`], the assertions-only user
//!   `suites/fixtures/assert-user` (its own workspace and lock file);
//! - for [`AGENT_TARGETS`], the in-target agent (`agent/main.rs`), which the
//!   harness compiles by calling Debian's rustc 1.63 directly and so is no
//!   workspace member: a generated one-file Cargo project in the cache
//!   directory points its `[[bin]] path` at it.
//!
//! No C compiler for these targets exists here, yet the suites' build
//! script compiles a C shim with the `cc` crate for every Unix (Linux's
//! `cc` rejects macOS's flags; NetBSD's and illumos's tools are missing).
//! A type check never links, so `CC_<target>` points at a stand-in that
//! produces an empty host object, and `AR_<target>` at the host's `ar`.
//!
//! One line per check on standard output (`ok` or `FAIL` with the number of
//! distinct errors and the first few, file:line); every diagnostic, rendered
//! as rustc prints it, goes to `platforms-logs/<target>[-agent].log` in the
//! cache directory. Exits 0 if every check passed, 1 if one failed, 2 if the
//! checks could not be run.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The targets checked when no `--target` is given.
pub const TARGETS: [&str; 7] = [
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-unknown-freebsd",
    "x86_64-unknown-netbsd",
    "x86_64-unknown-illumos",
    "x86_64-pc-windows-msvc",
    "x86_64-pc-windows-gnu",
];

/// The targets the agent is also checked for: the Unixes the foreign
/// targets of the matrix do not cover (their wait option bits differ from
/// Linux's, and the agent uses only POSIX `waitpid` there). Windows's agent
/// is already built for `x86_64-pc-windows-gnu` by the matrix itself.
pub const AGENT_TARGETS: [&str; 4] = [
    "x86_64-unknown-freebsd",
    "x86_64-apple-darwin",
    "x86_64-unknown-netbsd",
    "x86_64-unknown-illumos",
];

/// The targets the assertions-only fixture (`suites/fixtures/assert-user`,
/// outside the workspace, `exitmatrix` without its `engine` feature) is
/// also checked for; it is built and tested on Linux and under Wine
/// (`cargo xtask wine-host --fixture`).
pub const FIXTURE_TARGETS: [&str; 2] = ["x86_64-apple-darwin", "x86_64-unknown-freebsd"];

/// Workspace members not checked, and why.
const EXCLUDED: [(&str, &str); 1] = [(
    "exitmatrix-benches",
    "Linux only; its build script links static Linux C programs",
)];

/// How many distinct errors a failing check lists under its line.
const SHOWN_ERRORS: usize = 5;

/// `std` for the crates (`panic_unwind` comes with it); `panic_abort` too,
/// so that the same cached std also serves a `panic = "abort"` build, such
/// as the probes' profile.
const BUILD_STD: &str = "-Zbuild-std=std,panic_abort";

/// Arguments of `check-platforms`.
#[derive(Debug, clap::Args)]
pub struct CheckPlatformsArgs {
    /// A target to check (repeatable); default: all seven of macOS
    /// (x86_64, aarch64), FreeBSD, NetBSD, illumos and Windows (msvc, gnu).
    #[arg(long = "target", value_name = "TRIPLE")]
    pub targets: Vec<String>,
    /// Run clippy (the private toolchain's clippy-driver) with `-D
    /// warnings`, as CI does natively, instead of a plain type check; the
    /// agent is linted too. Without it warnings are counted, never fatal.
    #[arg(long)]
    pub clippy: bool,
}

/// Runs the checks; returns the process exit code.
pub fn run(args: &CheckPlatformsArgs) -> u8 {
    match check_all(args) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(message) => {
            eprintln!("error: {message}");
            2
        }
    }
}

fn check_all(args: &CheckPlatformsArgs) -> Result<bool, String> {
    let root = workspace_root();
    let cache = cache_dir()?;
    let toolchain = Toolchain {
        prefix: cache.join("rust-web"),
    };
    if !toolchain.is_complete() {
        install(&root, &cache)?;
        if !toolchain.is_complete() {
            return Err(format!(
                "scripts/install-rust-web.sh ran, but {} is still incomplete",
                toolchain.prefix.display()
            ));
        }
    }
    let targets: Vec<&str> = if args.targets.is_empty() {
        TARGETS.to_vec()
    } else {
        args.targets.iter().map(String::as_str).collect()
    };
    let logs = cache.join("platforms-logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    let agent_manifest = write_agent_manifest(&cache, &root)?;
    let c_compiler = write_c_stand_in(&cache)?;
    let check = Check {
        toolchain: &toolchain,
        root: &root,
        target_dir: cache.join("platforms-target"),
        c_compiler,
        clippy: args.clippy,
    };
    for (package, why) in EXCLUDED {
        eprintln!("not checked: {package} ({why})");
    }

    let mut all_ok = true;
    for triple in targets {
        let workspace = check.run(
            triple,
            &workspace_args(),
            &logs.join(format!("{triple}.log")),
        )?;
        all_ok &= workspace.ok;
        println!("{}", workspace.summary(triple));
        if FIXTURE_TARGETS.contains(&triple) {
            let name = format!("{triple} assert-user");
            let manifest = root.join("suites/fixtures/assert-user/Cargo.toml");
            // Not `--locked`: the fixture's lock file follows the harness's
            // dependencies, which other changes may add to.
            let fixture_args = ["--manifest-path".into(), manifest.into_os_string()];
            let fixture = check.run(
                triple,
                &fixture_args,
                &logs.join(format!("{triple}-assert-user.log")),
            )?;
            all_ok &= fixture.ok;
            println!("{}", fixture.summary(&name));
        }
        if AGENT_TARGETS.contains(&triple) {
            let name = format!("{triple} agent");
            let agent_args = ["--manifest-path".into(), agent_manifest.clone().into()];
            let agent = check.run(
                triple,
                &agent_args,
                &logs.join(format!("{triple}-agent.log")),
            )?;
            all_ok &= agent.ok;
            println!("{}", agent.summary(&name));
        }
    }
    Ok(all_ok)
}

/// The workspace's root: xtask lives in `<root>/xtask`.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The project's cache directory, as `scripts/install-rust-web.sh` computes
/// it: `EXITMATRIX_CACHE_DIR`, else `$XDG_CACHE_HOME/exitmatrix`, else
/// `$HOME/.cache/exitmatrix` (an empty variable counts as unset, as in the
/// shell's `${VAR:-...}`).
pub(crate) fn cache_dir() -> Result<PathBuf, String> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("EXITMATRIX_CACHE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Ok(Path::new(&dir).join("exitmatrix"));
    }
    match var("HOME") {
        Some(home) => Ok(Path::new(&home).join(".cache/exitmatrix")),
        None => Err("neither EXITMATRIX_CACHE_DIR, XDG_CACHE_HOME nor HOME is set".into()),
    }
}

/// Runs `scripts/install-rust-web.sh` (which prints its own progress).
pub(crate) fn install(root: &Path, cache: &Path) -> Result<(), String> {
    let script = root.join("scripts/install-rust-web.sh");
    eprintln!(
        "the Rust 1.96 toolchain is missing: running {}",
        script.display()
    );
    #[expect(clippy::disallowed_methods, reason = "an installer, not a probe")]
    let status = Command::new("bash")
        .arg(&script)
        // The script computes the same folder; passing it makes sure.
        .env("EXITMATRIX_CACHE_DIR", cache)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", script.display()))
    }
}

/// The private toolchain: `prefix` holds Debian's `usr/` tree.
#[derive(Debug)]
pub(crate) struct Toolchain {
    pub(crate) prefix: PathBuf,
}

impl Toolchain {
    pub(crate) fn bin(&self, name: &str) -> PathBuf {
        self.prefix.join("usr/bin").join(name)
    }

    /// Whether the install script finished (it writes `.complete` last) and
    /// what this check runs is there.
    pub(crate) fn is_complete(&self) -> bool {
        self.prefix.join(".complete").exists()
            && self.bin("rustc").exists()
            && self.bin("clippy-driver").exists()
            && self
                .prefix
                .join("usr/lib/rustlib/src/rust/library/Cargo.toml")
                .exists()
    }

    /// `LD_LIBRARY_PATH` for the private rustc: its `librustc_driver` and
    /// LLVM are there, and without them it may load the system's driver
    /// and report the wrong sysroot. Nothing is inherited: `cargo run`
    /// puts rustup's toolchain library folder, with another
    /// `librustc_driver`, in this process's `LD_LIBRARY_PATH`.
    pub(crate) fn library_path(&self) -> Result<OsString, String> {
        let dirs = [
            self.prefix.join("usr/lib/x86_64-linux-gnu"),
            self.prefix.join("usr/lib"),
        ];
        std::env::join_paths(dirs).map_err(|e| format!("cannot build LD_LIBRARY_PATH: {e}"))
    }
}

/// The cargo arguments that select what of the workspace is checked.
fn workspace_args() -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["--workspace".into()];
    for (package, _) in EXCLUDED {
        args.push("--exclude".into());
        args.push(package.into());
    }
    // The workspace's lock file is the one native builds use: a foreign
    // check must not change it.
    args.push("--locked".into());
    args
}

/// Writes (if changed) the Cargo project that checks the agent, and returns
/// its manifest's path. Its own `[workspace]` keeps cargo from looking for
/// a parent workspace.
fn write_agent_manifest(cache: &Path, root: &Path) -> Result<PathBuf, String> {
    let dir = cache.join("platforms-agent");
    let manifest = dir.join("Cargo.toml");
    let source = root.join("agent/main.rs");
    // The same edition and crate name as the harness's own rustc command
    // (harness/src/toolchain/crossbuild.rs).
    let text = format!(
        "# Generated by `cargo xtask check-platforms`: type-checks the in-target\n\
         # agent, which the harness builds by calling rustc directly.\n\
         [package]\n\
         name = \"exitmatrix-agent\"\n\
         version = \"0.0.0\"\n\
         edition = \"2021\"\n\
         publish = false\n\
         \n\
         [[bin]]\n\
         name = \"exitmatrix-agent\"\n\
         path = {source:?}\n\
         \n\
         [workspace]\n"
    );
    // Rewriting an unchanged manifest would make cargo recheck for nothing.
    if std::fs::read_to_string(&manifest).ok().as_deref() != Some(text.as_str()) {
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        std::fs::write(&manifest, text)
            .map_err(|e| format!("cannot write {}: {e}", manifest.display()))?;
    }
    Ok(manifest)
}

/// The stand-in C compiler (see the module's documentation).
const C_STAND_IN: &str = r#"#!/bin/sh
# Generated by `cargo xtask check-platforms`: the C compiler of a target
# this machine has none for. A type check never links, so what a build
# script compiles is never used: every object is an empty one of the host's.
out= prev= last= preprocess=
for arg in "$@"; do
  [ "$prev" = -o ] && out=$arg
  [ "$arg" = -E ] && preprocess=1
  prev=$arg
  last=$arg
done
# The cc crate preprocesses a probe file to tell GCC from Clang.
[ -n "$preprocess" ] && exec cc -E "$last"
[ -n "$out" ] && exec cc -c -x c /dev/null -o "$out"
# Anything else (the cc crate also tries `-?` to spot MSVC, which must
# fail here) is answered by the host's compiler.
exec cc "$@"
"#;

/// Writes (if changed) the stand-in C compiler and returns its path.
fn write_c_stand_in(cache: &Path) -> Result<PathBuf, String> {
    let path = cache.join("platforms-cc");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(C_STAND_IN) {
        std::fs::write(&path, C_STAND_IN)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    make_executable(&path)?;
    Ok(path)
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot make {} executable: {e}", path.display()))
}

/// The private toolchain runs on Linux only; elsewhere the check fails at
/// its first cargo run, with cargo's message.
#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<(), String> {
    Ok(())
}

/// What every check shares.
#[derive(Debug)]
struct Check<'a> {
    toolchain: &'a Toolchain,
    root: &'a Path,
    target_dir: PathBuf,
    c_compiler: PathBuf,
    clippy: bool,
}

impl Check<'_> {
    /// Runs `cargo check` with `selection` (packages or a manifest) for
    /// `triple`, writes every diagnostic to `log` and returns the outcome.
    fn run(&self, triple: &str, selection: &[OsString], log: &Path) -> Result<Outcome, String> {
        // rustup's cargo, the one running this xtask (cargo sets CARGO for
        // `cargo run`); the private toolchain's is not installed.
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        #[expect(clippy::disallowed_methods, reason = "a build tool, not a probe")]
        let mut command = Command::new(&cargo);
        command
            .current_dir(self.root)
            .args([
                "check",
                "--all-targets",
                "--keep-going",
                "--target",
                triple,
                BUILD_STD,
            ])
            .arg("--message-format=json")
            .args(selection)
            .env("RUSTC", self.toolchain.bin("rustc"))
            .env("RUSTDOC", self.toolchain.bin("rustdoc"))
            // -Zbuild-std is unstable: this lets a stable cargo and rustc
            // accept it (and std's own use of unstable features).
            .env("RUSTC_BOOTSTRAP", "1")
            .env("LD_LIBRARY_PATH", self.toolchain.library_path()?)
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env(format!("CC_{}", triple.replace('-', "_")), &self.c_compiler)
            .env(format!("AR_{}", triple.replace('-', "_")), "ar")
            // Flags from the caller would also apply to std, rebuilding it
            // on every change, and may not suit the target; a wrapper such
            // as sccache would wrap the wrong compiler.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("CARGO_BUILD_TARGET");
        if self.clippy {
            // What `cargo clippy -- -D warnings` sets up: cargo wraps only
            // the workspace's own crates, so std and dependencies are built
            // by plain rustc and their outputs stay shared with plain checks.
            command
                .env(
                    "RUSTC_WORKSPACE_WRAPPER",
                    self.toolchain.bin("clippy-driver"),
                )
                .env(
                    "CLIPPY_ARGS",
                    "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__",
                );
        } else {
            command.env_remove("RUSTC_WORKSPACE_WRAPPER");
        }
        eprintln!("checking {triple} (log: {})", log.display());
        let started = Instant::now();
        let output = command
            .output()
            .map_err(|e| format!("cannot run {}: {e}", Path::new(&cargo).display()))?;
        let seconds = started.elapsed().as_secs_f64();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let diagnostics = Diagnostics::parse(&stdout, &stderr, self.root);
        let mut text = format!("$ {command:?}\n\n{stderr}\n");
        for rendered in &diagnostics.rendered {
            text.push_str(rendered);
        }
        std::fs::write(log, text).map_err(|e| format!("cannot write {}: {e}", log.display()))?;
        Ok(Outcome {
            ok: output.status.success(),
            seconds,
            diagnostics,
            log: log.to_path_buf(),
        })
    }
}

/// The result of one check.
#[derive(Debug)]
struct Outcome {
    ok: bool,
    seconds: f64,
    diagnostics: Diagnostics,
    log: PathBuf,
}

impl Outcome {
    /// `ok   <name>  (12.3 s)`, or `FAIL <name>: N errors, first: ...` with
    /// the first few distinct errors and the log's path below it.
    fn summary(&self, name: &str) -> String {
        let d = &self.diagnostics;
        let warnings = match d.warnings.len() {
            0 => String::new(),
            1 => ", 1 warning".into(),
            n => format!(", {n} warnings"),
        };
        if self.ok {
            return format!("ok   {name}  ({:.1} s{warnings})", self.seconds);
        }
        // rustc's errors first; cargo's own (a failed build script) count
        // too, since they hide whatever rustc would have said next.
        let errors: Vec<&String> = d.errors.iter().chain(&d.cargo_errors).collect();
        let Some(first) = errors.first() else {
            return format!(
                "FAIL {name}: cargo failed without an error message ({:.1} s); see {}",
                self.seconds,
                self.log.display()
            );
        };
        let mut line = format!(
            "FAIL {name}: {} error{}, first: {first}  ({:.1} s{warnings})",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            self.seconds
        );
        for more in errors.iter().skip(1).take(SHOWN_ERRORS - 1) {
            let _ = write!(line, "\n       {more}");
        }
        let _ = write!(line, "\n       log: {}", self.log.display());
        line
    }
}

/// The diagnostics of one cargo run, from its JSON messages.
#[derive(Debug, Default)]
struct Diagnostics {
    /// Distinct errors as `file:line: error[CODE]: message`, in the order
    /// rustc reported them. With `--all-targets` a library is checked twice
    /// (as itself and as its unit tests), so the same error often comes
    /// twice: counted once.
    errors: Vec<String>,
    /// Distinct warnings, likewise.
    warnings: BTreeSet<String>,
    /// Cargo's own `error:` lines (a build script that failed, a missing
    /// package), but not its "could not compile" summaries.
    cargo_errors: Vec<String>,
    /// Every distinct diagnostic as rustc renders it, for the log.
    rendered: Vec<String>,
}

impl Diagnostics {
    fn parse(stdout: &str, stderr: &str, root: &Path) -> Self {
        let mut d = Diagnostics::default();
        let mut seen = BTreeSet::new();
        for line in stdout.lines() {
            let Ok(json) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if json["reason"] != "compiler-message" {
                continue;
            }
            let message = &json["message"];
            let level = message["level"].as_str().unwrap_or("");
            let text = message["message"].as_str().unwrap_or("");
            // The summary lines rustc adds after the real diagnostics.
            if text.starts_with("aborting due to") || level == "failure-note" {
                continue;
            }
            let code = message["code"]["code"]
                .as_str()
                .map_or_else(String::new, |c| format!("[{c}]"));
            let location = location_of(message, root)
                .map_or_else(String::new, |(file, line)| format!("{file}:{line}: "));
            let entry = format!("{location}{level}{code}: {text}");
            if !seen.insert(entry.clone()) {
                continue;
            }
            if let Some(rendered) = message["rendered"].as_str() {
                d.rendered.push(rendered.to_owned());
            }
            match level {
                "error" | "error: internal compiler error" => d.errors.push(entry),
                "warning" => {
                    d.warnings.insert(entry);
                }
                _ => {}
            }
        }
        d.cargo_errors = stderr
            .lines()
            .filter(|l| l.starts_with("error") && !l.starts_with("error: could not compile"))
            .map(str::to_owned)
            .collect();
        d
    }
}

/// The file (relative to `root` when inside it) and line of a diagnostic's
/// primary span. A span inside a macro of another crate is followed back
/// to the macro's call in this project's code, which is what to fix.
fn location_of(message: &serde_json::Value, root: &Path) -> Option<(String, u64)> {
    let spans = message["spans"].as_array()?;
    let mut span = spans.iter().find(|s| s["is_primary"] == true)?;
    let inside = |file: &str| Path::new(file).is_relative() || Path::new(file).starts_with(root);
    while !inside(span["file_name"].as_str()?) {
        match span.get("expansion").and_then(|e| e.get("span")) {
            Some(call) if call.is_object() => span = call,
            _ => break,
        }
    }
    let file = span["file_name"].as_str()?;
    let file = Path::new(file)
        .strip_prefix(root)
        .map_or_else(|_| file.to_owned(), |p| p.display().to_string());
    Some((file, span["line_start"].as_u64()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(level: &str, text: &str, file: &str, line: u64) -> String {
        serde_json::json!({
            "reason": "compiler-message",
            "message": {
                "level": level,
                "message": text,
                "code": {"code": "E0432"},
                "rendered": format!("{level}: {text}\n"),
                "spans": [{"file_name": file, "line_start": line, "is_primary": true, "expansion": null}],
            }
        })
        .to_string()
    }

    #[test]
    fn errors_are_counted_once_and_located() {
        let root = Path::new("/work/main");
        let error = message(
            "error",
            "unresolved import `libc::WNOWAIT`",
            "harness/src/a.rs",
            7,
        );
        let stdout = [
            error.clone(),
            // The same error again, from the library's unit tests.
            error,
            message("warning", "unused import", "/work/main/agent/main.rs", 3),
            message("error", "aborting due to 1 previous error", "", 0),
            r#"{"reason":"build-finished","success":false}"#.to_owned(),
        ]
        .join("\n");
        let stderr = "error: could not compile `exitmatrix` (lib)\nerror: failed to run custom build command for `x`";
        let d = Diagnostics::parse(&stdout, stderr, root);
        assert_eq!(
            d.errors,
            ["harness/src/a.rs:7: error[E0432]: unresolved import `libc::WNOWAIT`"]
        );
        assert_eq!(d.warnings.len(), 1);
        assert!(d
            .warnings
            .iter()
            .all(|w| w.starts_with("agent/main.rs:3: ")));
        assert_eq!(
            d.cargo_errors,
            ["error: failed to run custom build command for `x`"]
        );
        assert_eq!(d.rendered.len(), 2);
    }

    #[test]
    fn a_span_in_a_foreign_macro_is_traced_to_its_call() {
        let message = serde_json::json!({
            "spans": [{
                "file_name": "/root/.cargo/registry/src/x/libc/src/macros.rs",
                "line_start": 100,
                "is_primary": true,
                "expansion": {"span": {"file_name": "harness/src/b.rs", "line_start": 12, "expansion": null}},
            }]
        });
        assert_eq!(
            location_of(&message, Path::new("/work/main")),
            Some(("harness/src/b.rs".to_owned(), 12))
        );
    }

    #[test]
    fn the_agent_is_checked_only_where_the_workspace_is() {
        assert!(AGENT_TARGETS.iter().all(|t| TARGETS.contains(t)));
    }
}
