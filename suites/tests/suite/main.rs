//! exitmatrix's own tests, in one binary so the suite links once.

mod assertions; // the assertion library, as another crate would use it
mod catalogue; // the catalogue and the probes agree
mod cli; // test-matrix end to end: exit codes, reports, diffs
mod common; // the probe set, built once
mod compat; // every target in one table, and `cargo xtask compare`
mod decode; // the decoder against the C macros and std
#[cfg(target_os = "linux")]
mod fastspawn; // the fast spawn path keeps the spawn path's guarantees
mod faults; // injected faults (a broken runner, probe, decoder, profile, selection) must not pass
mod foreign; // foreign targets: the agent's report, runners, host views, qemu/Wine/WASI end to end
mod formats; // JUnit, Markdown and HTML reports; the page in headless Chromium
#[cfg(unix)]
mod hygiene; // interrupts, zombies, orphans, cores, determinism, bad input
mod native_profiles; // the macOS and Windows MSVC profiles, written from documentation
mod observers; // shells and Python as observers, and the README's conformance table
#[cfg(target_os = "linux")]
mod orphans; // what leaves a probe's process group is adopted, ended and reported
mod outcome; // profile outcome words
mod parents; // rc's $status and Java's Process.waitFor() as observers
mod profile; // profile loading and errors
mod remote; // the remote runner: its protocol, the agent as a server, --remote against the local runner
mod report_schema; // the JSON report against docs/report-schema.md
mod runtimes; // Node.js, Perl, Go and Ruby as parents: their mappings, checks and findings
#[cfg(unix)]
mod spawn; // the spawn path's guarantees and the reapers
#[cfg(unix)]
mod spawnfail; // the spawn failures: std's two spawn paths, the columns that run them
mod systems; // the older systems: OpenVMS condition values, DOS in DOSBox, AmigaOS in vamos
mod targets; // the foreign targets as data: targets/*.toml, their errors, the install script
mod tidy; // the layers of the harness, its docs and its code map
#[cfg(unix)]
mod watchdog; // the watchdog's guard: no deadline outlives its probe
mod wine_host; // the harness as a Windows host inside Wine (cargo xtask wine-host)
