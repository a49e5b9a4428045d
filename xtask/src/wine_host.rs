//! `cargo xtask wine-host [-- ARGS]`: the harness as a Windows program,
//! run inside Wine as the probes' parent.
//!
//! A foreign run (`test-matrix --target x86_64-pc-windows-gnu`) keeps the
//! harness on Linux and sends a small agent into Wine. This command sends
//! the harness itself: it builds `xtask` (the command line of the harness)
//! and the probes for `x86_64-pc-windows-gnu` with the private Rust 1.96
//! (`-Zbuild-std`, as `check-platforms` does; installed by
//! `scripts/install-rust-web.sh` if missing) and mingw-w64, the C probe
//! with `x86_64-w64-mingw32-gcc`, then runs
//!
//! ```text
//! wine64 xtask.exe test-matrix --no-build --target-dir Z:\... --out-dir Z:\<root>\target\exitmatrix\wine-host ARGS
//! ```
//!
//! The harness inside is a native Windows host: it spawns each probe
//! itself, in a Job object, and reports the columns of a Windows host
//! (`std`, `GetExitCodeProcess`, `cmd`) against the Windows profile, with
//! `"host": "x86_64-pc-windows-gnu"` in its JSON report,
//! `target/exitmatrix/wine-host/report-x86_64-pc-windows-gnu.json` (a
//! folder of its own, since the foreign run of the same triple writes
//! `target/exitmatrix/report-x86_64-pc-windows-gnu.json`). It knows it runs
//! under Wine (ntdll's `wine_get_version`) and marks the divergences
//! `profiles/emulators/wine.toml` explains.
//!
//! Wine gets a prefix of its own in the cache directory (`wine-host/prefix`,
//! about 8 s and 700 MB the first time) with the `ProcessPrng` shim that
//! Wine 8 lacks and programs of today's Rust import
//! (`scripts/prng-shim.c`, built by the install script). Builds go to
//! `wine-host/target` in the cache directory: std for the target is built
//! once (about 90 s per cargo profile) and reused. A build from another
//! checkout than the last first cleans the project's own crates there
//! (about 20 s to build them again), never std.
//!
//! After the run it looks for any process still using the prefix (the
//! harness, a probe, a grandchild, cmd.exe) other than `wineserver`, says
//! how many there were, and then stops the prefix's `wineserver`
//! (`wineserver -k`), so nothing of the run outlives it.
//!
//! `--tests` runs tests under Wine instead, through a cargo runner script:
//! the harness's unit tests and the suite's modules that pass on a Windows
//! host ([`SUITE_MODULES`]: 40 tests); the rest of the suite assumes a
//! Linux host and is not run there. `--fixture` builds and tests the
//! assertions-only user `suites/fixtures/assert-user` under Wine.
//!
//! Exit codes are test-matrix's: the harness's own code (0 conforms, 1 a
//! deviation, 3 something not observed, ...), 3 when Wine is not
//! installed, 5 when a build fails; and 1 when a process of the run was
//! left behind.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::platforms::{self, Toolchain};

/// The target the harness is built for.
pub const TRIPLE: &str = "x86_64-pc-windows-gnu";

/// Debian's wine64 loader (the package has no `/usr/bin/wine`).
const WINE64: &str = "/usr/lib/wine/wine64";

/// The server that outlives a prefix's last program for a few seconds.
const WINESERVER: &str = "/usr/lib/wine/wineserver";

/// The mingw-w64 C compiler and linker.
const MINGW: &str = "x86_64-w64-mingw32-gcc";

/// Arguments of `wine-host`.
#[derive(Debug, clap::Args)]
pub struct WineHostArgs {
    /// Run the tests that apply to Windows under Wine (through a cargo
    /// runner) instead of the matrix: the harness's unit tests and the
    /// suite's modules that need no Unix ([`SUITE_MODULES`]).
    #[arg(long, conflicts_with = "fixture")]
    pub tests: bool,
    /// Build and test the assertions-only fixture crate
    /// (suites/fixtures/assert-user) under Wine instead of the matrix.
    #[arg(long)]
    pub fixture: bool,
    /// Arguments for the harness's `test-matrix` inside Wine (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
}

/// Runs the command; returns the process exit code.
pub fn run(args: &WineHostArgs) -> u8 {
    match run_inner(args) {
        Ok(code) => code,
        Err(Failure(code, message)) => {
            eprintln!("error: {message}");
            code
        }
    }
}

/// An exit code and one line saying why.
struct Failure(u8, String);

fn build_failure(message: String) -> Failure {
    Failure(5, message)
}

fn run_inner(args: &WineHostArgs) -> Result<u8, Failure> {
    let root = platforms::workspace_root();
    let cache = platforms::cache_dir().map_err(build_failure)?;
    if !Path::new(WINE64).exists() {
        return Err(Failure(
            3,
            format!("not installed: {WINE64} (cargo xtask install targets)"),
        ));
    }
    let toolchain = Toolchain {
        prefix: cache.join("rust-web"),
    };
    if !toolchain.is_complete() {
        platforms::install(&root, &cache).map_err(build_failure)?;
    }
    let shim = cache.join("prng-shim/bcryptprimitives.dll");
    if !shim.exists() {
        platforms::install(&root, &cache).map_err(build_failure)?;
    }
    let home = cache.join("wine-host");
    let prefix = home.join("prefix");
    let target_dir = home.join("target");
    let wine = Wine { prefix };
    wine.prepare(&shim)?;

    let build = Build {
        root: &root,
        toolchain: &toolchain,
        target_dir: &target_dir,
    };
    build.forget_other_checkout()?;
    let started = Instant::now();
    if args.tests || args.fixture {
        let code = build.test_under_wine(&wine, args.fixture, &args.args)?;
        eprintln!(
            "wine-host: tests built and run in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        wine.finish(code)
    } else {
        build.cargo(&["build", "--package", "xtask"], &[])?;
        for profile in ["probe-unwind", "probe-abort"] {
            build.cargo(
                &[
                    "build",
                    "--package",
                    "exitmatrix-probes",
                    "--bins",
                    "--profile",
                    profile,
                ],
                &[],
            )?;
        }
        build.c_probe()?;
        eprintln!(
            "wine-host: built for {TRIPLE} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let out = target_dir.join(TRIPLE);
        let report_dir = root.join("target/exitmatrix/wine-host");
        let mut words: Vec<OsString> = vec![
            out.join("debug/xtask.exe").into(),
            "test-matrix".into(),
            "--no-build".into(),
            "--target-dir".into(),
            windows_path(&out).into(),
            "--out-dir".into(),
            windows_path(&report_dir).into(),
        ];
        words.extend(args.args.iter().map(OsString::from));
        let code = wine.run(&root, &words)?;
        eprintln!(
            "wine-host: report in {}",
            report_dir.join(format!("report-{TRIPLE}.json")).display()
        );
        wine.finish(code)
    }
}

/// `Z:` and the path with backslashes: Wine maps the Unix root to `Z:`.
fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// The Wine prefix of this command.
struct Wine {
    prefix: PathBuf,
}

impl Wine {
    /// Wine's settings: this prefix, no debug output, and no crash dialog
    /// (winedbg would write to standard output).
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        #[expect(clippy::disallowed_methods, reason = "starts Wine, not a probe")]
        let mut command = Command::new(program);
        command.env_clear();
        for name in ["HOME", "USER", "PATH", "LANG", "TERM", "NO_COLOR", "CI"] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "winedbg.exe=d");
        command
    }

    /// Creates the prefix on first use and puts the shim in it.
    fn prepare(&self, shim: &Path) -> Result<(), Failure> {
        if !self.prefix.join("system.reg").exists() {
            eprintln!(
                "wine-host: creating the Wine prefix {}",
                self.prefix.display()
            );
            // Wine makes the prefix but not the folders above it.
            if let Some(parent) = self.prefix.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Failure(3, format!("cannot create {}: {e}", parent.display())))?;
            }
            let status = self
                .command(WINE64)
                .args(["wineboot", "--init"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| Failure(3, format!("cannot run {WINE64}: {e}")))?;
            // The server writes the registry files when it exits: wait for
            // it (`wineserver -w`) before looking for them.
            let _ = self.command(WINESERVER).arg("-w").status();
            if !status.success() || !self.prefix.join("system.reg").exists() {
                return Err(Failure(
                    3,
                    format!(
                        "wineboot --init failed ({status}) for {}",
                        self.prefix.display()
                    ),
                ));
            }
            self.stop_server();
        }
        let dest = self
            .prefix
            .join("drive_c/windows/system32/bcryptprimitives.dll");
        let same = std::fs::read(&dest).ok() == std::fs::read(shim).ok();
        if !same {
            std::fs::copy(shim, &dest).map_err(|e| {
                Failure(
                    3,
                    format!("cannot copy the shim to {}: {e}", dest.display()),
                )
            })?;
        }
        Ok(())
    }

    /// Runs `words` under Wine in `dir`, its output passed through;
    /// returns its exit code as the host sees it.
    fn run(&self, dir: &Path, words: &[OsString]) -> Result<u8, Failure> {
        let status = self
            .command(WINE64)
            .args(words)
            .current_dir(dir)
            .stdin(Stdio::null())
            .status()
            .map_err(|e| Failure(3, format!("cannot run {WINE64}: {e}")))?;
        // Wine passes the low 8 bits of the Windows exit code (a non-zero
        // code with low byte 0 as 1): test-matrix's codes are all below 8.
        Ok(status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1))
    }

    /// Looks for processes of the prefix left after the run, stops the
    /// server, and gives the final exit code.
    fn finish(&self, code: u8) -> Result<u8, Failure> {
        // Give Wine's own processes (services, the explorer of the
        // desktop, which every prefix runs) a moment to be listed, then
        // count the run's: anything but Wine's own system processes.
        std::thread::sleep(Duration::from_millis(300));
        let left = self.processes();
        let of_run: Vec<&(u32, String)> = left.iter().filter(|(_, c)| !is_wine_system(c)).collect();
        eprintln!(
            "wine-host: processes of the run left after it: {}{}",
            of_run.len(),
            of_run
                .iter()
                .map(|(pid, c)| format!("\n  {pid} {c}"))
                .collect::<String>()
        );
        self.stop_server();
        let after = self.processes();
        if !after.is_empty() {
            eprintln!(
                "wine-host: {} process(es) of the prefix still there after wineserver -k",
                after.len()
            );
        }
        if of_run.is_empty() && after.is_empty() {
            Ok(code)
        } else {
            Ok(1)
        }
    }

    /// `wineserver -k` for this prefix, then waits (at most 10 s) until no
    /// process of the prefix is left.
    fn stop_server(&self) {
        let _ = self
            .command(WINESERVER)
            .arg("-k")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && !self.processes().is_empty() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The processes (pid, command line) whose environment names this
    /// prefix, from `/proc`.
    fn processes(&self) -> Vec<(u32, String)> {
        let needle = format!("WINEPREFIX={}", self.prefix.display());
        let mut found = Vec::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return found;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
                continue;
            };
            if !environ
                .split(|b| *b == 0)
                .any(|var| var == needle.as_bytes())
            {
                continue;
            }
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            found.push((pid, cmdline.trim().to_owned()));
        }
        found
    }
}

/// Wine's own processes, which every prefix runs while its server lives:
/// the server, its services, the desktop.
fn is_wine_system(cmdline: &str) -> bool {
    [
        "wineserver",
        "services.exe",
        "winedevice.exe",
        "plugplay.exe",
        "explorer.exe",
        "svchost.exe",
        "rpcss.exe",
        "conhost.exe",
    ]
    .iter()
    .any(|name| cmdline.contains(name))
}

/// How to build for Windows here.
struct Build<'a> {
    root: &'a Path,
    toolchain: &'a Toolchain,
    target_dir: &'a Path,
}

impl Build<'_> {
    /// Cleans the project's own crates out of the shared target directory
    /// when it was last built from another checkout: cargo finds a crate of
    /// the workspace fresh by its path inside the workspace and its files'
    /// times, so a checkout whose files are older than the last build (a
    /// second worktree, say) would run the other checkout's programs, with
    /// that checkout's paths compiled in (observed: a run in one worktree
    /// cited the other's `profiles\windows.toml`). std and the other
    /// dependencies stay built. The checkout is recorded in
    /// `exitmatrix-checkout` in the target directory.
    fn forget_other_checkout(&self) -> Result<(), Failure> {
        let stamp = self.target_dir.join("exitmatrix-checkout");
        let here = self.root.display().to_string();
        if std::fs::read_to_string(&stamp).is_ok_and(|last| last == here) {
            return Ok(());
        }
        if self.target_dir.join(TRIPLE).exists() {
            eprintln!("wine-host: last built from another checkout; cleaning the project's crates");
            let fixture = self.root.join("suites/fixtures/assert-user/Cargo.toml");
            let fixture = fixture
                .to_str()
                .ok_or_else(|| build_failure(format!("{} is not UTF-8", fixture.display())))?;
            let own: [&[&str]; 2] = [
                &[
                    "clean",
                    "--package",
                    "exitmatrix",
                    "--package",
                    "xtask",
                    "--package",
                    "exitmatrix-probes",
                    "--package",
                    "exitmatrix-suites",
                ],
                &[
                    "clean",
                    "--package",
                    "assert-user",
                    "--manifest-path",
                    fixture,
                ],
            ];
            for words in own {
                let status = self
                    .cargo_command(words, &[])?
                    .status()
                    .map_err(|e| build_failure(format!("cannot run cargo: {e}")))?;
                if !status.success() {
                    return Err(build_failure(format!(
                        "cargo {} for {TRIPLE} failed ({status})",
                        words.join(" ")
                    )));
                }
            }
        }
        std::fs::create_dir_all(self.target_dir)
            .and_then(|()| std::fs::write(&stamp, &here))
            .map_err(|e| build_failure(format!("cannot write {}: {e}", stamp.display())))
    }

    /// `cargo <words> --target x86_64-pc-windows-gnu -Zbuild-std` with the
    /// private toolchain, `env` added.
    fn cargo(&self, words: &[&str], env: &[(&str, OsString)]) -> Result<(), Failure> {
        // The workspace's lock file is the one native builds use: this
        // build must not change it.
        let status = self
            .cargo_command(words, env)?
            .arg("--locked")
            .status()
            .map_err(|e| build_failure(format!("cannot run cargo: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(build_failure(format!(
                "cargo {} for {TRIPLE} failed ({status})",
                words.join(" ")
            )))
        }
    }

    fn cargo_command(&self, words: &[&str], env: &[(&str, OsString)]) -> Result<Command, Failure> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        #[expect(clippy::disallowed_methods, reason = "a build tool, not a probe")]
        let mut command = Command::new(cargo);
        command
            .current_dir(self.root)
            .args(words)
            .args(["--target", TRIPLE, "-Zbuild-std=std,panic_abort"])
            .env("RUSTC", self.toolchain.bin("rustc"))
            .env("RUSTDOC", self.toolchain.bin("rustdoc"))
            .env("RUSTC_BOOTSTRAP", "1")
            .env(
                "LD_LIBRARY_PATH",
                self.toolchain.library_path().map_err(build_failure)?,
            )
            .env("CARGO_TARGET_DIR", self.target_dir)
            .env("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER", MINGW)
            .env("CC_x86_64_pc_windows_gnu", MINGW)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTC_WORKSPACE_WRAPPER")
            .env_remove("CARGO_BUILD_TARGET");
        for (name, value) in env {
            command.env(name, value);
        }
        Ok(command)
    }

    /// The C probe, with the flags a foreign build uses
    /// (harness/src/toolchain/crossbuild.rs), where `--no-build` looks for
    /// it: `<target>/probe-c/cprobe.exe`.
    fn c_probe(&self) -> Result<(), Failure> {
        let dir = self.target_dir.join(TRIPLE).join("probe-c");
        std::fs::create_dir_all(&dir)
            .map_err(|e| build_failure(format!("cannot create {}: {e}", dir.display())))?;
        let out = dir.join("cprobe.exe");
        let source = self.root.join("probes/c/cprobe.c");
        #[expect(clippy::disallowed_methods, reason = "a compiler, not a probe")]
        let status = Command::new(MINGW)
            .args(["-std=c11", "-O2", "-Wall", "-Wextra", "-o"])
            .arg(&out)
            .arg(&source)
            .status()
            .map_err(|e| build_failure(format!("cannot run {MINGW}: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(build_failure(format!(
                "{MINGW} failed on {} ({status})",
                source.display()
            )))
        }
    }

    /// `cargo test` for Windows, each test binary run under Wine by a
    /// runner script: the harness's unit tests and [`SUITE_MODULES`] of the
    /// suite, or (`fixture`) the assertions-only fixture crate. `args` go
    /// to the test binaries. 0 if every run passed, else 1.
    fn test_under_wine(&self, wine: &Wine, fixture: bool, args: &[String]) -> Result<u8, Failure> {
        let runner = self.target_dir.join("wine-runner.sh");
        // assert_cmd re-reads the runner variable and would start the script
        // inside Windows: the script unsets it before Wine starts.
        let script = format!(
            "#!/bin/sh\n# Generated by `cargo xtask wine-host --tests`.\nunset CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER\nexport WINEPREFIX={prefix:?} WINEDEBUG=-all WINEDLLOVERRIDES=winedbg.exe=d\nexec {WINE64} \"$@\"\n",
            prefix = wine.prefix.display().to_string()
        );
        std::fs::create_dir_all(self.target_dir)
            .and_then(|()| std::fs::write(&runner, script))
            .map_err(|e| build_failure(format!("cannot write {}: {e}", runner.display())))?;
        make_executable(&runner)?;
        let runs: Vec<(Vec<String>, Vec<String>)> = if fixture {
            let manifest = self.root.join("suites/fixtures/assert-user/Cargo.toml");
            vec![(
                vec![
                    "test".into(),
                    "--manifest-path".into(),
                    manifest.display().to_string(),
                ],
                Vec::new(),
            )]
        } else {
            vec![
                (
                    ["test", "--package", "exitmatrix", "--lib"]
                        .map(String::from)
                        .to_vec(),
                    Vec::new(),
                ),
                (
                    ["test", "--package", "exitmatrix-suites", "--test", "suite"]
                        .map(String::from)
                        .to_vec(),
                    SUITE_MODULES
                        .iter()
                        .map(|m| format!("{m}::"))
                        .chain(
                            SUITE_SKIPS
                                .iter()
                                .flat_map(|(t, _)| ["--skip".to_owned(), (*t).to_owned()]),
                        )
                        .collect(),
                ),
            ]
        };
        for (test, why) in SUITE_SKIPS.iter().filter(|_| !fixture) {
            eprintln!("wine-host: not run under Wine: {test} ({why})");
        }
        let mut all_ok = true;
        for (cargo_words, filters) in runs {
            let words: Vec<&str> = cargo_words.iter().map(String::as_str).collect();
            let mut command = self.cargo_command(
                &words,
                &[(
                    "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER",
                    runner.clone().into(),
                )],
            )?;
            // The workspace's lock file must not change; the fixture's, its
            // own, follows the harness's dependencies.
            if !fixture {
                command.arg("--locked");
            }
            command.arg("--");
            command.args(&filters).args(args);
            let status = command
                .status()
                .map_err(|e| build_failure(format!("cannot run cargo: {e}")))?;
            all_ok &= status.success();
        }
        Ok(if all_ok { 0 } else { 1 })
    }
}

/// The modules of the suite (`suites/tests/suite/`) whose tests pass on a
/// Windows host: the outcome words and the target descriptions, which need
/// no Unix process. The rest of the suite assumes a Linux host (the native
/// profile chain, probes built by cargo, `/bin/sh`, Chromium) and is not
/// run under Wine.
pub const SUITE_MODULES: [&str; 2] = ["outcome", "targets"];

/// Tests of [`SUITE_MODULES`] left out, and why.
const SUITE_SKIPS: [(&str, &str); 1] = [(
    "targets::the_install_script_reads_the_descriptions",
    "runs scripts/install-targets.sh with bash",
)];

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| build_failure(format!("cannot make {} executable: {e}", path.display())))
}

/// Wine runs on Linux only; elsewhere the command fails at Wine's check.
#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<(), Failure> {
    Ok(())
}
