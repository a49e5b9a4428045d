//! What is known about a runner: how the Linux host sees a program through
//! it, and where it departs from the real system.
//!
//! A target's profile says what the *real* operating system does. When the
//! target runs under an emulator (qemu-user, Wine, a WASI embedding), some
//! cells differ because of the emulator. Those facts live apart from the
//! profiles, in `profiles/emulators/<kind>.toml`, one file per kind of
//! runner (`qemu-user`, `wine`, `node-wasi`):
//!
//! ```toml
//! description = "qemu-user 7.2 on Debian 12"
//!
//! # How the host's waitpid sees the runner process, derived from the
//! # expectation of the family's base column (waitpid, or the agent's).
//! [host-view]
//! exit = "low-8"            # `exit N` reaches the host as N & 0xff ("same": unchanged;
//!                           # "low-8-nonzero": N & 0xff, or 1 if that is 0 but N is not)
//! signal = "same-name"      # a signal as the host's signal of that name ("same-name-no-core": without the core flag;
//!                           # "qemu-user": as qemu-user 7.2 maps it, see `qemu_user_host_signal`)
//! trap = "exit 1"           # optional: what a trap becomes
//! cite = "..."
//!
//! # A known divergence: the cell shows this instead of the profile's outcome.
//! [[diverge]]
//! targets = ["aarch64-unknown-linux-gnu"]   # optional filter
//! behaviours = ["raise-SIGABRT"]
//! builds = ["unwind"]                        # optional filter
//! observers = ["waitpid", "waitid"]          # optional filter
//! outcome = "signal SIGABRT"                 # or a list
//! cite = "qemu linux-user/signal.c: ...; observed on Debian 12 qemu 7.2"
//! ```
//!
//! A cell that deviates from its expectation and shows one of a matching
//! divergence's outcomes is a *known emulator divergence*: reported as such,
//! with both citations, and never counted as conforming. A divergence that
//! matches no cell is harmless; one whose emulator is not in use never
//! applies.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::pure::catalogue::{self, Build};
use crate::pure::decode::StateChange;
use crate::pure::outcome::{self, Sequence};
use crate::pure::signal::SignalTable;
use crate::pure::view::{self, Reported};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawEmulator {
    #[serde(default)]
    #[expect(dead_code, reason = "documentation for readers of the file")]
    description: Option<String>,
    host_view: Option<RawHostView>,
    #[serde(default)]
    diverge: Vec<RawDivergence>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawHostView {
    exit: String,
    signal: String,
    trap: Option<String>,
    cite: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDivergence {
    #[serde(default)]
    targets: Option<Vec<String>>,
    behaviours: Vec<String>,
    builds: Option<Vec<String>>,
    observers: Option<Vec<String>>,
    outcome: OneOrMany,
    cite: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// How an exit code reaches the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitFold {
    /// Unchanged.
    Same,
    /// `code & 0xff`: the runner calls the host's `exit` with the code.
    Low8,
    /// `code & 0xff`, but 1 where that is 0 and the code is not: a failure
    /// never reaches the host as success (Wine).
    Low8NonZero,
}

/// How a signal reaches the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalFold {
    /// As the host's signal of the same name, core flag kept.
    SameName,
    /// As the host's signal of the same name, never with a core flag.
    SameNameNoCore,
    /// As qemu-user 7.2 maps a guest signal to the host signal it dies of:
    /// [`qemu_user_host_signal`].
    QemuUser,
}

/// glibc's `SIGRTMIN` on the Linux host: 34, since glibc keeps the
/// kernel's first two real-time signals (32 and 33) for itself (signal(7),
/// "Real-time signals": "the glibc POSIX threads implementation internally
/// uses two (for NPTL) ... real-time signals ... and adjusts the value of
/// SIGRTMIN suitably (to 34 or 35)").
pub const HOST_GLIBC_SIGRTMIN: i32 = 34;

/// The host kernel's `SIGRTMAX` (x86-64 Linux: `_NSIG` 64; signal(7)).
pub const HOST_SIGRTMAX: i32 = 64;

/// The first real-time signal of every Linux numbering, MIPS's included
/// (the kernels' `SIGRTMIN`, 32; glibc's is higher).
pub const GUEST_KERNEL_SIGRTMIN: i32 = 32;

/// The host signal that carries guest signal `signal` under qemu-user
/// 7.2, and whether it has the guest signal's name (`false` for a guest
/// signal carried by another signal, whose core flag then is the host
/// signal's); `None` if no host signal carries it.
///
/// This is qemu's `linux-user/signal.c` `signal_table_init` (7.2, as
/// Debian 12 ships it), applied to the guest's numbering `target` and the
/// host's `host`:
/// - `host_to_target_signal_table` maps each host signal to the guest
///   signal of the same name (`[SIGHUP] = TARGET_SIGHUP`, ...), so a
///   guest signal the host also has is carried by the host's signal of
///   that name (a MIPS guest's SIGSTOP, 23, by the host's 19).
/// - One entry is not by name: `[SIGSTKFLT] = TARGET_SIGSTKFLT`, and
///   qemu's MIPS signal header defines `TARGET_SIGSTKFLT` as 7 ("XXX:
///   incorrect"), its `TARGET_SIGEMT`. MIPS has no SIGSTKFLT, so a MIPS
///   guest's SIGEMT is carried by the host's SIGSTKFLT (16 on x86-64).
/// - "Signals are supported starting from TARGET_SIGRTMIN and going up
///   until we run out of host realtime signals": host `SIGRTMIN` + n
///   (glibc's 34 + n) carries guest 32 + n, up to the host's 64; guest
///   real-time signals beyond that (the top two of the asm-generic 64,
///   MIPS's 95 to 127) are mapped to `_NSIG`, "poison", and a guest
///   `kill` or `raise` of them fails with EINVAL.
/// - Every other guest signal is poisoned the same way.
///
/// A guest that dies of a signal makes qemu die of the host signal
/// (`dump_core_and_abort`: `kill(getpid(), host_sig)` with the default
/// disposition). Observed on Debian 12, qemu 7.2: a MIPS guest's
/// `raise(SIGEMT)` reaches the host as wait status 0x10 (SIGSTKFLT, no
/// core), its SIGRTMIN (34) as host signal 36.
pub fn qemu_user_host_signal(
    signal: crate::pure::signal::Signal,
    target: &SignalTable,
    host: &SignalTable,
) -> Option<(crate::pure::signal::Signal, bool)> {
    use crate::pure::signal::Signal;
    let n = signal.number();
    if n >= GUEST_KERNEL_SIGRTMIN {
        let carried = HOST_GLIBC_SIGRTMIN + (n - GUEST_KERNEL_SIGRTMIN);
        return (carried <= HOST_SIGRTMAX).then_some((Signal(carried), true));
    }
    let name = target.name(signal)?;
    if let Some(same) = host.number(name) {
        return Some((same, true));
    }
    // qemu's TARGET_SIGSTKFLT is TARGET_SIGEMT (7) on MIPS, which has no
    // SIGSTKFLT of its own.
    if name == "SIGEMT" && target.number("SIGSTKFLT").is_none() {
        return host.number("SIGSTKFLT").map(|s| (s, false));
    }
    None
}

/// How the Linux host sees a program through the runner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostView {
    /// Exit codes.
    pub exit: ExitFold,
    /// Signals, stops.
    pub signal: SignalFold,
    /// What a trap becomes, if the runner reports traps.
    pub trap: Option<String>,
    /// Where this comes from.
    pub cite: String,
}

impl HostView {
    /// The host's view, when no emulator file says otherwise: exit codes
    /// keep 8 bits (Linux `exit_group`), signals keep their names.
    pub fn default_for_native() -> HostView {
        HostView {
            exit: ExitFold::Low8,
            signal: SignalFold::SameName,
            trap: None,
            cite: "Linux kernel/exit.c: exit_group keeps error_code & 0xff; the host kernel runs the program itself".into(),
        }
    }

    /// What the host sees of `states` (in `target`'s numbering), in
    /// `host`'s numbering. `None` if a state cannot reach the host (a trap
    /// of a runner that says nothing of traps, a signal no host signal
    /// carries under qemu-user).
    pub fn fold(
        &self,
        states: &[StateChange],
        target: &SignalTable,
        host: &SignalTable,
    ) -> Option<Sequence> {
        // The host's signal for a guest signal, and whether a core flag
        // survives; `None` if no host signal carries it.
        let carry = |s: crate::pure::signal::Signal| match self.signal {
            SignalFold::SameName | SignalFold::SameNameNoCore => Some((
                target.name(s).and_then(|n| host.number(n)).unwrap_or(s),
                self.signal == SignalFold::SameName,
            )),
            // A guest signal carried by another host signal (SIGEMT by
            // SIGSTKFLT) ends qemu with that signal's default action,
            // and SIGSTKFLT's dumps no core (signal(7): "Term"; not in
            // the kernel's SIG_KERNEL_COREDUMP_MASK).
            SignalFold::QemuUser => qemu_user_host_signal(s, target, host),
        };
        let mut out = Vec::new();
        for state in states {
            match *state {
                StateChange::Exited { code } => out.push(StateChange::Exited {
                    code: match self.exit {
                        ExitFold::Same => code,
                        ExitFold::Low8 => code & 0xff,
                        ExitFold::Low8NonZero if code != 0 && code & 0xff == 0 => 1,
                        ExitFold::Low8NonZero => code & 0xff,
                    },
                }),
                StateChange::Signaled {
                    signal: s,
                    core_dumped,
                } => {
                    let (signal, core) = carry(s)?;
                    out.push(StateChange::Signaled {
                        signal,
                        core_dumped: core_dumped && core,
                    })
                }
                StateChange::Stopped { signal: s } => out.push(StateChange::Stopped {
                    signal: carry(s)?.0,
                }),
                StateChange::Continued => out.push(StateChange::Continued),
                StateChange::Trapped { .. } => {
                    let seq = outcome::parse(self.trap.as_deref()?, host).ok()?;
                    out.extend(seq);
                }
                StateChange::Unrecognised { .. } => out.push(*state),
            }
        }
        Some(out)
    }
}

/// One known divergence.
#[derive(Clone, Debug, Serialize)]
pub struct Divergence {
    targets: Option<Vec<String>>,
    behaviours: Vec<String>,
    builds: Option<Vec<Build>>,
    observers: Option<Vec<String>>,
    /// The outcomes the emulator shows, as written.
    pub outcome: Vec<String>,
    /// Where this comes from.
    pub cite: String,
    /// The file and rule number (`profiles/emulators/wine.toml#3`).
    pub location: String,
}

impl Divergence {
    fn matches(&self, target: &str, behaviour: &str, build: Build, observer: &str) -> bool {
        self.targets
            .as_ref()
            .is_none_or(|t| t.iter().any(|t| t == target))
            && self.behaviours.iter().any(|b| b == behaviour)
            && self.builds.as_ref().is_none_or(|b| b.contains(&build))
            && self
                .observers
                .as_ref()
                .is_none_or(|o| o.iter().any(|o| o == observer))
    }

    /// Whether `states` is one of this divergence's outcomes, read with
    /// `table` (the numbering of the column's states).
    pub fn shows(&self, states: &[StateChange], table: &SignalTable) -> bool {
        self.outcome
            .iter()
            .filter_map(|o| outcome::parse(o, table).ok())
            .any(|seq| seq == states)
    }

    /// Whether a view's `reported` values are one of this divergence's
    /// outcomes (written in reported words, see [`crate::pure::view`]).
    pub fn shows_reported(&self, reported: &[Reported], table: &SignalTable) -> bool {
        self.outcome
            .iter()
            .filter_map(|o| view::parse(o, table).ok())
            .any(|values| values == reported)
    }
}

/// What is known about one kind of runner.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Emulator {
    /// The kind (`qemu-user`).
    pub kind: String,
    /// The file, if there is one.
    pub file: Option<PathBuf>,
    /// The host's view through it, if the file says.
    pub host_view: Option<HostView>,
    /// Its known divergences.
    pub divergences: Vec<Divergence>,
}

impl Emulator {
    /// Loads `dir/<kind>.toml`; a kind without a file has no known
    /// divergences. Every behaviour, build and observer name and every
    /// outcome is checked (outcomes with `table`, the target's numbering).
    pub fn load(
        dir: &Path,
        kind: &str,
        observers: &[&str],
        table: &SignalTable,
    ) -> Result<Emulator, String> {
        let path = dir.join(format!("{kind}.toml"));
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Emulator {
                    kind: kind.to_owned(),
                    ..Emulator::default()
                })
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let raw: RawEmulator = toml::from_str(&text)
            .map_err(|e| format!("{}: {}", path.display(), e.message().trim()))?;
        let invalid =
            |i: usize, m: String| format!("{}: [[diverge]] #{}: {m}", path.display(), i + 1);
        let host_view = match raw.host_view {
            None => None,
            Some(h) => {
                let exit = match h.exit.as_str() {
                    "same" => ExitFold::Same,
                    "low-8" => ExitFold::Low8,
                    "low-8-nonzero" => ExitFold::Low8NonZero,
                    other => {
                        return Err(format!(
                            "{}: [host-view] exit `{other}` (known: same, low-8, low-8-nonzero)",
                            path.display()
                        ))
                    }
                };
                let signal = match h.signal.as_str() {
                    "same-name" => SignalFold::SameName,
                    "same-name-no-core" => SignalFold::SameNameNoCore,
                    "qemu-user" => SignalFold::QemuUser,
                    other => {
                        return Err(format!(
                        "{}: [host-view] signal `{other}` (known: same-name, same-name-no-core, qemu-user)",
                        path.display()
                    ))
                    }
                };
                if let Some(trap) = &h.trap {
                    outcome::parse(trap, &crate::pure::signal::LINUX_GENERIC)
                        .map_err(|m| format!("{}: [host-view] trap: {m}", path.display()))?;
                }
                if h.cite.trim().is_empty() {
                    return Err(format!(
                        "{}: [host-view] has an empty `cite`",
                        path.display()
                    ));
                }
                Some(HostView {
                    exit,
                    signal,
                    trap: h.trap,
                    cite: h.cite.trim().to_owned(),
                })
            }
        };
        let behaviours: HashSet<String> =
            catalogue::catalogue().into_iter().map(|b| b.name).collect();
        let mut divergences = Vec::new();
        for (i, d) in raw.diverge.into_iter().enumerate() {
            for b in &d.behaviours {
                if !behaviours.contains(b) {
                    return Err(invalid(i, format!("unknown behaviour `{b}`")));
                }
            }
            let builds = match d.builds {
                None => None,
                Some(list) => Some(
                    list.iter()
                        .map(|b| {
                            Build::from_name(b)
                                .ok_or_else(|| invalid(i, format!("unknown build `{b}`")))
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ),
            };
            for o in d.observers.iter().flatten() {
                if !observers.contains(&o.as_str()) {
                    return Err(invalid(
                        i,
                        format!("unknown observer `{o}` (known: {})", observers.join(", ")),
                    ));
                }
            }
            let outcome = match d.outcome {
                OneOrMany::One(s) => vec![s],
                OneOrMany::Many(v) => v,
            };
            if outcome.is_empty() {
                return Err(invalid(
                    i,
                    "an outcome list needs at least one entry".into(),
                ));
            }
            for o in &outcome {
                // The host-via-runner column reads host numbers; any other,
                // the target's.
                let host_only = d.observers.as_ref().is_some_and(|o| {
                    o.iter()
                        .all(|o| o == crate::pure::observers::HOST_VIA_RUNNER)
                });
                let t = if host_only {
                    &crate::pure::signal::LINUX_GENERIC
                } else {
                    table
                };
                // A divergence of views only (cmd's %ERRORLEVEL%) is in
                // reported words.
                let views_only = d
                    .observers
                    .as_ref()
                    .is_some_and(|o| o.iter().all(|o| crate::pure::observers::is_view(o)));
                if views_only {
                    view::parse(o, t).map_err(|m| invalid(i, m))?;
                } else {
                    outcome::parse(o, t).map_err(|m| invalid(i, m))?;
                }
            }
            if d.cite.trim().is_empty() {
                return Err(invalid(
                    i,
                    "every divergence cites its source; `cite` is empty".into(),
                ));
            }
            divergences.push(Divergence {
                targets: d.targets,
                behaviours: d.behaviours,
                builds,
                observers: d.observers,
                outcome,
                cite: d.cite.trim().to_owned(),
                location: format!("{}#{}", path.display(), i + 1),
            });
        }
        Ok(Emulator {
            kind: kind.to_owned(),
            file: Some(path),
            host_view,
            divergences,
        })
    }

    /// The divergence that explains `states` for this cell, if one does.
    pub fn divergence(
        &self,
        target: &str,
        behaviour: &str,
        build: Build,
        observer: &str,
        states: &[StateChange],
        table: &SignalTable,
    ) -> Option<&Divergence> {
        self.divergences
            .iter()
            .filter(|d| d.matches(target, behaviour, build, observer))
            .find(|d| d.shows(states, table))
    }

    /// [`Emulator::divergence`] for a view's cell: the rule, if any, that
    /// explains what the view reported.
    pub fn view_divergence(
        &self,
        target: &str,
        behaviour: &str,
        build: Build,
        observer: &str,
        reported: &[Reported],
        table: &SignalTable,
    ) -> Option<&Divergence> {
        self.divergences
            .iter()
            .filter(|d| d.matches(target, behaviour, build, observer))
            .find(|d| d.shows_reported(reported, table))
    }
}

#[cfg(test)]
mod tests {
    //! qemu-user's signal carriage, against what was observed on Debian 12
    //! with qemu 7.2 (wait statuses read on the host).

    use super::*;
    use crate::pure::signal::{Signal, LINUX_GENERIC, LINUX_MIPS};

    fn carried(n: i32, target: &SignalTable) -> Option<(i32, bool)> {
        qemu_user_host_signal(Signal(n), target, &LINUX_GENERIC).map(|(s, same)| (s.0, same))
    }

    #[test]
    fn a_mips_sigemt_is_carried_by_the_host_sigstkflt() {
        // Observed: a MIPS guest's raise(SIGEMT) is host wait status 0x10.
        assert_eq!(carried(7, &LINUX_MIPS), Some((16, false)));
        // The asm-generic numbering has no SIGEMT: 7 is SIGBUS, by name.
        assert_eq!(carried(7, &LINUX_GENERIC), Some((7, true)));
    }

    #[test]
    fn standard_signals_keep_their_names() {
        // SIGSTOP is 23 on MIPS, 19 on the host; SIGUSR1 16 and 10.
        assert_eq!(carried(23, &LINUX_MIPS), Some((19, true)));
        assert_eq!(carried(16, &LINUX_MIPS), Some((10, true)));
        assert_eq!(carried(15, &LINUX_MIPS), Some((15, true)));
    }

    #[test]
    fn real_time_signals_shift_by_two_until_the_host_runs_out() {
        // Observed: a guest's 34 (glibc's SIGRTMIN) reaches the host as 36.
        assert_eq!(carried(34, &LINUX_GENERIC), Some((36, true)));
        assert_eq!(carried(32, &LINUX_MIPS), Some((34, true)));
        assert_eq!(carried(62, &LINUX_GENERIC), Some((64, true)));
        // Observed: raise(63) fails with EINVAL (the probe exits 121).
        assert_eq!(carried(63, &LINUX_GENERIC), None);
        // MIPS's SIGRTMAX-1 and SIGRTMAX (glibc: 126, 127) have no carrier,
        // so a guest cannot die of them under qemu-user.
        assert_eq!(carried(126, &LINUX_MIPS), None);
        assert_eq!(carried(127, &LINUX_MIPS), None);
    }

    #[test]
    fn the_qemu_fold_drops_the_core_of_a_signal_carried_by_another() {
        let view = HostView {
            exit: ExitFold::Low8,
            signal: SignalFold::QemuUser,
            trap: None,
            cite: String::new(),
        };
        let fold = |text: &str| {
            let states = outcome::parse(text, &LINUX_MIPS).unwrap();
            view.fold(&states, &LINUX_MIPS, &LINUX_GENERIC)
                .map(|s| outcome::display(&s, &LINUX_GENERIC))
        };
        assert_eq!(
            fold("signal SIGEMT core").as_deref(),
            Some("signal SIGSTKFLT")
        );
        assert_eq!(
            fold("signal SIGABRT core").as_deref(),
            Some("signal SIGABRT core")
        );
        assert_eq!(fold("signal 34").as_deref(), Some("signal 36"));
        assert_eq!(fold("signal 127"), None);
        assert_eq!(
            fold("stopped SIGSTOP, continued, exit 0").as_deref(),
            Some("stopped SIGSTOP, continued, exit 0")
        );
    }
}
