//! The older systems as targets of `test-matrix`: `--target dos` runs the
//! DOS cases in DOSBox and `--target amigaos` the AmigaOS cases in `vamos`
//! (the runners of [`crate::systems`]), checks what was seen against
//! `profiles/systems/<system>.toml` with [`crate::systems::check`], and
//! builds an ordinary [`Report`], so that the table, the findings, the JSON
//! report, JUnit, Markdown and HTML are those of any other target.
//!
//! A system has no builds and no catalogue behaviours. Each of its cases is
//! one of the report's own cases ([`RowKind::OwnCase`]), and each *place*
//! where a value is seen is a column: `dos-errorlevel` and
//! `dos-if-errorlevel` (DOSBox's shell reading `IF ERRORLEVEL`),
//! `amiga-runcommand` (an Amiga parent's `RunCommand()`) and `host-exit`
//! (what the Linux host's `wait` saw of `vamos`). Every place reports a
//! number, as a shell's `$?` does, so every column is a view (its kind in
//! the report is `shell`) and every expectation is a reported code, with the
//! profile's citation and `file:line:column`.
//!
//! The verdicts are those of [`crate::systems::check`]: a case that was not
//! observed, whatever the reason (the emulator failed, timed out, or its
//! batch file stopped early), is [`Verdict::Error`] with the reason, never a
//! pass. A missing emulator is [`RunError::NotInstalled`], as a foreign
//! target's missing toolchain is.

use std::path::Path;

use crate::engine::error::RunError;
use crate::engine::prereq::INSTALL_SYSTEMS;
use crate::engine::run::Request;
use crate::pure::observers::ObserverKind;
use crate::pure::profile::{Expectation, Location};
use crate::pure::signal;
use crate::pure::view::Reported;
use crate::report::model::{ObserverInfo, Report, Row, RowKind, Summary, Verdict, SCHEMA_VERSION};
use crate::systems::profile::System;
use crate::systems::{self, amiga, dos, Mark, Place, RuleKind, SystemError, SystemsProfile};
use crate::toolchain::probes::HOST;
use crate::toolchain::runners::Missing;

/// Whether `name` is an older system that `--target` takes.
pub fn is_system(name: &str) -> bool {
    System::from_name(name).is_some()
}

/// The older systems, in the order `--all-targets` runs them: `dos`,
/// `amigaos`.
pub fn names() -> impl Iterator<Item = &'static str> {
    System::ALL.into_iter().map(System::name)
}

/// The columns of `system`, in order: the system's own parent first.
fn places(system: System) -> &'static [Place] {
    match system {
        System::Dos => &[Place::DosErrorlevel, Place::DosIfErrorlevel],
        System::AmigaOs => &[Place::AmigaRunCommand, Place::HostExit],
    }
}

/// How a column sees its value, for the report's list of observers.
fn how(place: Place) -> &'static str {
    match place {
        Place::DosErrorlevel => {
            "DOSBox's shell runs each .COM probe from RUN.BAT; EL.BAT then recovers the exact \
             errorlevel with IF ERRORLEVEL 255 down to 0"
        }
        Place::DosIfErrorlevel => {
            "DOSBox's shell runs the .COM probe from RUN.BAT, then one IF ERRORLEVEL n test: \
             1 if it holds, else 0"
        }
        Place::AmigaRunCommand => {
            "a generated Amiga program inside vamos runs the probe with dos.library's \
             RunCommand() and writes the 32-bit return code it got"
        }
        Place::HostExit => {
            "the exit status of the vamos process that ran the probe, as the Linux host's \
             wait saw it"
        }
    }
}

/// The emulator's name, for messages.
fn emulator_name(system: System) -> &'static str {
    match system {
        System::Dos => "DOSBox",
        System::AmigaOs => "vamos",
    }
}

/// The rows of `system` that `request` selects, as (case, place): column
/// by column, each in catalogue order.
fn selection(system: System, request: &Request) -> Vec<(String, Place)> {
    let catalogue = system.catalogue();
    let mut out = Vec::new();
    for &place in places(system) {
        if !request.observers.is_empty() && !request.observers.iter().any(|o| o == place.name()) {
            continue;
        }
        for (case, at) in &catalogue {
            let in_shard = request
                .shard
                .is_none_or(|s| s.holds(case, None, place.name()));
            if at.contains(&place) && request.selects(case) && in_shard {
                out.push((case.clone(), place));
            }
        }
    }
    out
}

/// Why an `--all-targets` run has nothing to run of the system `name`
/// (`--build` or `--profile` name what only the catalogue's targets have,
/// or no case is selected), or `None` when it has something.
pub fn skipped_by(name: &str, request: &Request) -> Option<String> {
    let system = System::from_name(name)?;
    if !request.builds.is_empty() {
        Some("--build selects builds, and its probes have none".into())
    } else if request.profile.is_some() {
        Some("--profile names a profile of the catalogue's targets".into())
    } else if selection(system, request).is_empty() {
        Some("no case or column of it is selected".into())
    } else {
        None
    }
}

/// Runs the cases of the older system `name` that `request` selects in
/// its emulator, checks them against its profile
/// (`<profiles>/systems/<name>.toml`, or the one `--profile` names there)
/// and returns the report.
pub fn run_system(name: &str, request: &Request) -> Result<Report, RunError> {
    let system = System::from_name(name).ok_or_else(|| {
        RunError::Usage(format!(
            "`{name}` is not an older system (known: {})",
            names().collect::<Vec<_>>().join(", ")
        ))
    })?;
    if request.bless || request.runner.is_some() {
        return Err(RunError::Usage(format!(
            "--bless and --runner are for a foreign --target; {name} runs in its emulator"
        )));
    }
    if !request.builds.is_empty() {
        return Err(RunError::Usage(format!(
            "--build does not apply to {name}: its probes are machine code the harness writes, \
             not builds"
        )));
    }
    for o in &request.observers {
        if !places(system).iter().any(|p| p.name() == o) {
            let known: Vec<&str> = places(system).iter().map(|p| p.name()).collect();
            return Err(RunError::Usage(format!(
                "observer `{o}` does not run on {name} (its columns: {})",
                known.join(", ")
            )));
        }
    }
    let selected = selection(system, request);
    if selected.is_empty() {
        let cases: Vec<String> = system.catalogue().into_iter().map(|(c, _)| c).collect();
        return Err(RunError::Usage(format!(
            "the selection leaves no case to run on {name} (behaviours {:?}, observers {:?}; \
             its cases: {})",
            request.behaviours,
            request.observers,
            cases.join(", ")
        )));
    }
    let emulator = match system {
        System::Dos => dos::find_dosbox(),
        System::AmigaOs => amiga::find_vamos(),
    }
    .map_err(|e| not_installed(name, e))?;
    // `--profile` names a profile of `profiles/systems`, or a file (a value
    // with a `/` or ending in `.toml`), as for the catalogue's targets.
    // The label is what the report names the profile by.
    let (path, profile_label) = match request.profile.as_deref() {
        Some(file) if file.contains('/') || file.ends_with(".toml") => {
            if let Err(e) = std::fs::metadata(file) {
                return Err(RunError::Usage(format!(
                    "--profile {file}: cannot read it ({e})"
                )));
            }
            (Path::new(file).to_owned(), file.to_owned())
        }
        asked => {
            let stem = asked.unwrap_or(name);
            (
                request
                    .profiles_dir
                    .join("systems")
                    .join(format!("{stem}.toml")),
                format!("systems/{stem}"),
            )
        }
    };
    let profile = SystemsProfile::load(&path).map_err(|e| RunError::Config(e.to_string()))?;
    if profile.system != system {
        return Err(RunError::Config(format!(
            "{}: a profile for {}, not for {name}",
            path.display(),
            profile.system.name()
        )));
    }
    let work = tempfile::Builder::new()
        .prefix(&format!("exitmatrix-{name}-"))
        .tempdir()
        .map_err(|e| RunError::Runner(format!("{name}: cannot make a work directory: {e}")))?;
    let wanted = |case: &str| selected.iter().any(|(c, _)| c == case);
    let (commands, ran) = match system {
        System::Dos => {
            let cases: Vec<dos::DosCase> = dos::cases()
                .into_iter()
                .filter(|c| wanted(&c.name))
                .collect();
            (
                dos_commands(&emulator, &cases),
                dos::run(&cases, work.path()),
            )
        }
        System::AmigaOs => {
            let cases: Vec<amiga::AmigaCase> = amiga::cases()
                .into_iter()
                .filter(|c| wanted(&c.name))
                .collect();
            (
                amiga_commands(&emulator, &cases),
                amiga::run(&cases, work.path()),
            )
        }
    };
    let (observations, failure) = match ran {
        Ok(observations) => (observations, None),
        Err(e @ SystemError::NotInstalled { .. }) => return Err(not_installed(name, e)),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };

    let mut rows: Vec<(usize, Row)> = Vec::new();
    for v in systems::check(&profile, &observations) {
        let Some(at) = selected
            .iter()
            .position(|(c, p)| *c == v.case && *p == v.place)
        else {
            continue;
        };
        let rule = profile
            .expectations
            .iter()
            .find(|e| e.case == v.case && e.place == v.place);
        let mut row = Row::new(
            RowKind::OwnCase,
            &v.case,
            v.place.name(),
            rule.map(|e| expectation(e, &profile.path, &profile_label)),
        );
        row.command = commands
            .iter()
            .find(|(c, p, _)| *c == v.case && *p == v.place)
            .map(|(_, _, command)| command.clone())
            .unwrap_or_default();
        row.reported = Some(
            v.observed
                .map(|value| Reported::Code { value })
                .into_iter()
                .collect(),
        );
        row.observed_text = v.observed.map(|n| n.to_string()).unwrap_or_default();
        let show = |n: Option<i64>| n.map_or_else(|| "nothing".to_owned(), |n| n.to_string());
        row.verdict = match v.mark {
            Mark::Conforms => Verdict::Conforms,
            Mark::Deviates => {
                row.problems.push(format!(
                    "outcome: expected {}, observed {}",
                    show(v.expected),
                    show(v.observed)
                ));
                Verdict::Deviates
            }
            Mark::NoExpectation => {
                row.problems.push(format!(
                    "{} has no expectation for `{}` at {}",
                    path.display(),
                    v.case,
                    v.place
                ));
                Verdict::NoExpectation
            }
            Mark::NotObserved => {
                row.problems.push(match &failure {
                    Some(why) => format!("not observed: {why}"),
                    None => format!(
                        "not observed: {} ran, but recorded nothing for this case at {}",
                        emulator_name(system),
                        v.place
                    ),
                });
                Verdict::Error
            }
        };
        if v.rule == Some(RuleKind::Emulator) {
            row.notes.push(format!(
                "an emulator rule (rule = \"emulator\"): what {} does, not what {} documents",
                emulator_name(system),
                match system {
                    System::Dos => "DOS",
                    System::AmigaOs => "AmigaOS",
                }
            ));
        }
        rows.push((at, row));
    }
    rows.sort_by_key(|(at, _)| *at);
    let cases: Vec<Row> = rows.into_iter().map(|(_, row)| row).collect();
    let observers = places(system)
        .iter()
        .filter(|p| cases.iter().any(|r| r.observer == p.name()))
        .map(|p| ObserverInfo {
            name: p.name().to_owned(),
            kind: ObserverKind::Shell,
            program: Some(emulator.display().to_string()),
            installed: true,
            how: how(*p).to_owned(),
        })
        .collect();
    Ok(Report {
        schema: SCHEMA_VERSION,
        tool: format!("exitmatrix {}", env!("CARGO_PKG_VERSION")),
        target: name.to_owned(),
        host: HOST.to_owned(),
        profile_chain: vec![profile_label.clone()],
        unverified: None,
        leaked_after_run: Vec::new(),
        signal_table: signal::NONE.name.to_owned(),
        core_pattern: request.core_pattern.clone(),
        cores_contained: request.limits.cores_contained,
        incomplete: false,
        interrupted_by: None,
        observers,
        summary: Summary::of(&cases),
        cells: Vec::new(),
        cases,
        foreign: None,
    })
}

/// A systems expectation as the report's [`Expectation`]: the value as a
/// reported code, with the citation and where the profile says it.
fn expectation(e: &systems::Expectation, file: &Path, profile: &str) -> Expectation {
    Expectation {
        outcome: vec![e.value.to_string()],
        any_of: Vec::new(),
        reported: vec![vec![Reported::Code { value: e.value }]],
        stdout: None,
        stderr_contains: Vec::new(),
        stderr_lacks: Vec::new(),
        timed_out: Vec::new(),
        cite: e.cite.clone(),
        profile: profile.to_owned(),
        location: Location {
            file: file.to_owned(),
            line: e.line,
            column: e.column,
        },
        derived_from: None,
        unverified: None,
    }
}

/// What ran for each DOS row, in words: DOSBox, the probe and its listing,
/// and what the batch file did after it.
fn dos_commands(dosbox: &Path, cases: &[dos::DosCase]) -> Vec<(String, Place, String)> {
    cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let listing: Vec<String> = c.probe.listing().into_iter().map(|i| i.text).collect();
            let then = match c.check {
                dos::DosCheck::Errorlevel => {
                    format!("CALL {} {i} (IF ERRORLEVEL 255 … 0)", dos::EL_BAT)
                }
                dos::DosCheck::AtLeast(n) => format!("IF ERRORLEVEL {n}"),
            };
            let command = format!(
                "{} -conf dosbox.conf {} -exit: {} ({}), then {then}",
                dosbox.display(),
                dos::RUN_BAT,
                dos::probe_name(i),
                listing.join("; ")
            );
            (c.name.clone(), c.place(), command)
        })
        .collect()
}

/// What ran for each AmigaOS row: the program under `vamos`, and the parent
/// program that runs it with `RunCommand()`.
fn amiga_commands(vamos: &Path, cases: &[amiga::AmigaCase]) -> Vec<(String, Place, String)> {
    cases
        .iter()
        .flat_map(|c| {
            let vamos = vamos.display();
            [
                (
                    c.name.clone(),
                    Place::HostExit,
                    format!("{vamos} <a program that returns d0 = {}>", c.d0),
                ),
                (
                    c.name.clone(),
                    Place::AmigaRunCommand,
                    format!(
                        "{vamos} <a program that runs, with RunCommand(), a program that returns d0 = {}>",
                        c.d0
                    ),
                ),
            ]
        })
        .collect()
}

/// A missing emulator as the error a missing target gives.
fn not_installed(name: &str, e: SystemError) -> RunError {
    let what = match e {
        SystemError::NotInstalled { tool, hint } => format!(
            "{tool} ({})",
            hint.strip_suffix("; run scripts/install-systems.sh")
                .unwrap_or(&hint)
        ),
        other => other.to_string(),
    };
    RunError::NotInstalled {
        triple: name.to_owned(),
        missing: Missing {
            what: vec![what],
            fix: INSTALL_SYSTEMS.to_owned(),
        },
    }
}
