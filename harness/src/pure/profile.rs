//! Expectations as data: TOML profiles keyed by the target being checked.
//!
//! A profile is `profiles/<name>.toml`. It may inherit from one other
//! profile, which gives chains such as `x86_64-unknown-linux-gnu` → `linux-gnu`
//! → `linux` → `posix`. The chain must say, somewhere, which signal
//! numbering (`signals = "linux-generic"`) and wait-status layout
//! (`wait = "linux"`) the target uses; the most derived profile that says it
//! wins. Expectations are `[[expect]]` rules:
//!
//! ```toml
//! [[expect]]
//! behaviours = ["exit-256"]
//! builds = ["unwind", "abort"]        # optional filter
//! observers = ["waitid"]                # optional filter
//! outcome = "exit 0"                  # or a list: any of these
//! stdout = ""                         # optional, exact
//! stderr-contains = ["panicked"]      # optional
//! stderr-lacks = ["stack backtrace"]  # optional
//! timed-out = ["SIGTERM"]             # optional: the watchdog's signals
//! cite = "POSIX.1-2017 exit(): only the least significant 8 bits ..."
//! ```
//!
//! A profile written from documentation, which the project has not run on
//! its target, says so at the top (`unverified = "written from
//! documentation; not run by this project yet"`). The note holds for the
//! whole chain loaded through it ([`Profile::unverified`]), and every
//! expectation of that chain carries it into the report
//! ([`Expectation::unverified`]), so a run against such a profile says what
//! its verdicts rest on.
//!
//! For one cell (behaviour, build, observer) the rule that wins is the one
//! with the most filters (builds, observers) that match; then the one from the
//! more derived profile; then the later one in its file. Every name in a
//! rule (behaviour, build, observer, signal) is checked when the profile is
//! loaded, and an error names the file, line and column.
//!
//! An outcome in wait-state words (`exit 0`, `signal SIGTERM`) is for the
//! direct reapers; one in reported-value words (`143`, `-15`, `ValueError`,
//! `parent exit 2`; see [`crate::pure::view`]) is for the views, the shells and
//! Python. A rule applies only to observers of its kind. A view's
//! expectation for a catalogue behaviour is normally *derived*: an
//! `[[observer]]` table gives the view's mapping, and the mapping is applied
//! to the expectation of the same behaviour and build for a reaper:
//!
//! ```toml
//! [[observer]]
//! name = "ksh93"
//! from = "waitpid"      # optional: the reaper whose expectation is mapped
//! exit = "N"            # an exit code N is reported as N
//! signal = "256+N"      # a death by signal N as 256+N
//! stopped = "unseen"    # optional: `unseen` or an exception name
//! continued = "unseen"  # optional
//! cite = "ksh93(1): ... 256+signum if it terminates abnormally"
//! ```
//!
//! An `[[expect]]` rule in reported words that names the view still wins
//! over the derivation; the own cases of an observer (rows without a probe,
//! such as `sh-command-not-found`) are only ever given by such rules. A
//! reaper expectation that has the watchdog end the probe is not derived:
//! the parents do not run the hostile probes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::pure::catalogue::{self, Build};
use crate::pure::decode::WaitConventions;
use crate::pure::observers as observe;
use crate::pure::outcome::{self, Sequence};
use crate::pure::signal::SignalTable;
use crate::pure::view::{self, Effect, Formula, Mapping, Reported};

/// Where in a profile something was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The profile file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A profile that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The profile file does not exist or cannot be read.
    #[error("cannot read profile {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No profile of that name.
    #[error("no profile `{name}` in {} (profiles there: {known})", dir.display())]
    Unknown {
        /// The name asked for.
        name: String,
        /// The profile directory.
        dir: PathBuf,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// Something in a file is wrong: syntax, a type, an unknown name.
    #[error("{location}: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// What, as a lowercase fragment.
        message: String,
    },
    /// The chain lacks a setting.
    #[error("profile chain {chain} does not say `{key}` (set it in one of them)")]
    Missing {
        /// The chain, `a → b → c`.
        chain: String,
        /// The missing key.
        key: &'static str,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawProfile {
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "documentation for readers of the file; checked for type only"
    )]
    description: Option<String>,
    inherits: Option<Spanned<String>>,
    signals: Option<Spanned<String>>,
    wait: Option<Spanned<String>>,
    unverified: Option<Spanned<String>>,
    #[serde(default)]
    expect: Vec<RawRule>,
    #[serde(default)]
    observer: Vec<RawView>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawView {
    name: Spanned<String>,
    from: Option<Spanned<String>>,
    exit: Spanned<String>,
    signal: Spanned<String>,
    stopped: Option<Spanned<String>>,
    continued: Option<Spanned<String>>,
    cite: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRule {
    behaviours: Vec<Spanned<String>>,
    builds: Option<Vec<Spanned<String>>>,
    observers: Option<Vec<Spanned<String>>>,
    outcome: Spanned<OneOrMany>,
    stdout: Option<String>,
    #[serde(default)]
    stderr_contains: Vec<String>,
    #[serde(default)]
    stderr_lacks: Vec<String>,
    #[serde(default)]
    timed_out: Vec<Spanned<String>>,
    cite: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// What one rule expects of a cell.
#[derive(Clone, Debug, Serialize)]
pub struct Expectation {
    /// The outcomes as written, any one of which conforms.
    pub outcome: Vec<String>,
    /// The same, resolved for the target. For a derived view expectation,
    /// the reaper expectation it was derived from (which decides whether the
    /// case runs with core dumps on).
    #[serde(skip)]
    pub any_of: Vec<Sequence>,
    /// For a view: the accepted sequences of reported values, any one of
    /// which conforms. Empty for a reaper.
    #[serde(skip)]
    pub reported: Vec<Vec<Reported>>,
    /// Exact standard output, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    /// Fragments standard error must contain.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stderr_contains: Vec<String>,
    /// Fragments standard error must not contain.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stderr_lacks: Vec<String>,
    /// The signals the watchdog is expected to send (`SIGTERM`, then
    /// `SIGKILL`): empty for every probe that ends by itself.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timed_out: Vec<String>,
    /// Where the expectation comes from.
    pub cite: String,
    /// The profile that says it.
    pub profile: String,
    /// Where it says it.
    pub location: Location,
    /// For a view's derived expectation: what it was derived from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<Derivation>,
    /// Set when the profile chain this expectation was loaded through is
    /// unverified (see [`Profile::unverified`]): the expectation is written
    /// from documentation and has not been checked on its target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified: Option<Unverified>,
}

/// A profile's `unverified` note: it was written from documentation, and
/// the project has not run it on its target yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unverified {
    /// The profile that says it: the most derived one of the chain that does.
    pub profile: String,
    /// What it says.
    pub note: String,
}

impl fmt::Display for Unverified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unverified here ({}: {})", self.profile, self.note)
    }
}

/// How a view's expectation was derived.
#[derive(Clone, Debug, Serialize)]
pub struct Derivation {
    /// The reaper whose expectation was mapped.
    pub observer: String,
    /// That expectation's outcomes.
    pub outcome: Vec<String>,
    /// Its citation.
    pub cite: String,
    /// Where it is written.
    pub location: Location,
    /// The view's mapping, in words.
    pub mapping: String,
}

/// A view's `[[observer]]` table, resolved.
#[derive(Clone, Debug)]
pub struct View {
    /// The observer.
    pub name: String,
    /// The reaper whose expectations are mapped.
    pub from: String,
    /// How each state is reported.
    pub mapping: Mapping,
    /// Where the mapping comes from.
    pub cite: String,
    /// The profile that says it.
    pub profile: String,
    /// Where it says it.
    pub location: Location,
}

impl Expectation {
    /// Whether the rule rests on nothing but what a target was seen to do,
    /// not on a source checked there: it was written by `--bless` (its
    /// `cite`, or for a derived view expectation the cite of the rule it
    /// was derived from, starts with `blessed:`), or it is written in the
    /// profile whose `unverified` note is in force (`--bless` marks the
    /// profiles it writes so). Rules the chain inherits from cited profiles
    /// are not counted.
    pub fn is_blessed(&self) -> bool {
        self.cite.starts_with("blessed:")
            || self
                .derived_from
                .as_ref()
                .is_some_and(|d| d.cite.starts_with("blessed:"))
            || self
                .unverified
                .as_ref()
                .is_some_and(|u| u.profile == self.profile)
    }

    /// Whether the rule ends the probe by a signal in any of its outcomes,
    /// so that the core flag is part of what it checks.
    pub fn ends_by_signal(&self) -> bool {
        self.any_of.iter().any(|seq| {
            matches!(
                seq.last(),
                Some(crate::pure::decode::StateChange::Signaled { .. })
            )
        })
    }

    /// Whether any accepted outcome ends with a core dump.
    pub fn wants_core(&self) -> bool {
        self.any_of.iter().any(|seq| {
            matches!(
                seq.last(),
                Some(crate::pure::decode::StateChange::Signaled {
                    core_dumped: true,
                    ..
                })
            )
        })
    }
}

#[derive(Debug)]
struct Rule {
    behaviours: Vec<String>,
    builds: Option<Vec<Build>>,
    observers: Option<Vec<String>>,
    /// Whether the outcome is in reported-value words (for views).
    reported: bool,
    /// Whether every behaviour is an observer's own case, whose outcome is
    /// a reported value for whichever observer runs it (std's `io::Error`
    /// of a spawn failure included, though std is a reaper).
    own_case: bool,
    expectation: Expectation,
    /// 0 for the base of the chain, growing toward the target's own profile.
    depth: usize,
    order: usize,
}

impl Rule {
    fn matches(&self, behaviour: &str, build: Option<Build>, observer: &str) -> bool {
        self.behaviours.iter().any(|b| b == behaviour)
            && (self.own_case || self.reported != observe::is_reaper(observer))
            && match (&self.builds, build) {
                (None, _) => true,
                (Some(bs), Some(build)) => bs.contains(&build),
                (Some(_), None) => false,
            }
            && self
                .observers
                .as_ref()
                .is_none_or(|rs| rs.iter().any(|r| r == observer))
    }

    fn rank(&self) -> (usize, usize, usize) {
        let filters = usize::from(self.builds.is_some()) + usize::from(self.observers.is_some());
        (filters, self.depth, self.order)
    }
}

/// A loaded profile chain, ready to answer "what is expected of this cell".
#[derive(Debug)]
pub struct Profile {
    /// The profile asked for (usually a target triple).
    pub name: String,
    /// From the profile asked for down to the base.
    pub chain: Vec<String>,
    /// The target's signal numbering.
    pub signals: &'static SignalTable,
    /// The target's wait-status layout.
    pub wait: WaitConventions,
    /// Set when a profile of the chain says `unverified`: every expectation
    /// then carries the note too.
    pub unverified: Option<Unverified>,
    rules: Vec<Rule>,
    /// The views' mappings, by observer name (the most derived profile's).
    views: BTreeMap<String, View>,
    /// The views' derived expectations, by (behaviour, build, observer).
    derived: HashMap<(String, Build, String), Expectation>,
}

struct Source {
    name: String,
    path: PathBuf,
    text: String,
    raw: RawProfile,
}

impl Source {
    fn at(&self, span: Range<usize>) -> Location {
        locate(&self.path, &self.text, span)
    }

    fn invalid(&self, span: Range<usize>, message: impl Into<String>) -> ProfileError {
        ProfileError::Invalid {
            location: self.at(span),
            message: message.into(),
        }
    }
}

impl Profile {
    /// Loads profile `name` from `dir` with everything it inherits, checking
    /// every name against the catalogue and `observers`.
    pub fn load(dir: &Path, name: &str, observers: &[&str]) -> Result<Profile, ProfileError> {
        Profile::load_with(dir, name, observers, None)
    }

    /// [`Profile::load`], with the signal table and wait layout to use when
    /// the chain says none: a foreign target checked against its family
    /// profile (`posix`) takes them from the target's description
    /// ([`crate::pure::target::TargetSpec`]).
    pub fn load_with(
        dir: &Path,
        name: &str,
        observers: &[&str],
        defaults: Option<(&'static SignalTable, WaitConventions)>,
    ) -> Result<Profile, ProfileError> {
        let mut sources: Vec<Source> = Vec::new();
        let mut next = Some((name.to_owned(), None::<(usize, Range<usize>)>));
        while let Some((current, referrer)) = next.take() {
            if sources.iter().any(|s| s.name == current) {
                let (i, span) = referrer.expect("a repeated name was inherited by someone");
                return Err(
                    sources[i].invalid(span, format!("inheritance cycle through `{current}`"))
                );
            }
            let path = dir.join(format!("{current}.toml"));
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let unknown = ProfileError::Unknown {
                        name: current.clone(),
                        dir: dir.to_owned(),
                        known: available(dir).join(", "),
                    };
                    return Err(match referrer {
                        Some((i, span)) => sources[i].invalid(span, unknown.to_string()),
                        None => unknown,
                    });
                }
                Err(source) => return Err(ProfileError::Read { path, source }),
            };
            let raw: RawProfile = toml::from_str(&text).map_err(|e| ProfileError::Invalid {
                location: locate(&path, &text, e.span().unwrap_or(0..0)),
                message: e.message().trim().replace('\n', "; "),
            })?;
            next = raw
                .inherits
                .as_ref()
                .map(|p| (p.get_ref().clone(), Some((sources.len(), p.span()))));
            sources.push(Source {
                name: current,
                path,
                text,
                raw,
            });
        }

        let chain: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
        let chain_text = chain.join(" → ");
        let mut signals = None;
        let mut wait = None;
        let mut unverified = None;
        for source in &sources {
            if let Some(u) = &source.raw.unverified {
                if u.get_ref().trim().is_empty() {
                    return Err(source.invalid(
                        u.span(),
                        "`unverified` says why the profile is unverified; it is empty",
                    ));
                }
                if unverified.is_none() {
                    unverified = Some(Unverified {
                        profile: source.name.clone(),
                        note: u.get_ref().trim().to_owned(),
                    });
                }
            }
            if signals.is_none() {
                if let Some(s) = &source.raw.signals {
                    let table = SignalTable::by_name(s.get_ref()).ok_or_else(|| {
                        let known: Vec<&str> = SignalTable::ALL.iter().map(|t| t.name).collect();
                        source.invalid(
                            s.span(),
                            format!(
                                "unknown signal table `{}` (known: {})",
                                s.get_ref(),
                                known.join(", ")
                            ),
                        )
                    })?;
                    signals = Some(table);
                }
            }
            if wait.is_none() {
                if let Some(w) = &source.raw.wait {
                    let conv = WaitConventions::by_name(w.get_ref()).ok_or_else(|| {
                        source.invalid(
                            w.span(),
                            format!(
                                "unknown wait layout `{}` (known: linux, freebsd, macos, none)",
                                w.get_ref()
                            ),
                        )
                    })?;
                    wait = Some(conv);
                }
            }
        }
        let signals = signals
            .or(defaults.map(|d| d.0))
            .ok_or(ProfileError::Missing {
                chain: chain_text.clone(),
                key: "signals",
            })?;
        let wait = wait
            .or(defaults.map(|d| d.1))
            .ok_or(ProfileError::Missing {
                chain: chain_text,
                key: "wait",
            })?;

        let catalogue = catalogue::catalogue();
        let names = Names {
            behaviours: catalogue.iter().map(|b| b.name.clone()).collect(),
            own_cases: observe::own_case_names().into_iter().collect(),
            observers,
        };
        let depth_of_base = sources.len() - 1;
        let mut rules = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            for (order, raw) in source.raw.expect.iter().enumerate() {
                let mut rule =
                    resolve_rule(source, raw, &names, signals, depth_of_base - index, order)?;
                rule.expectation.unverified.clone_from(&unverified);
                rules.push(rule);
            }
        }
        // Views: the most derived profile's table for a name wins.
        let mut views = BTreeMap::new();
        for source in sources.iter().rev() {
            for raw in &source.raw.observer {
                let view = resolve_view(source, raw, observers)?;
                views.insert(view.name.clone(), view);
            }
        }
        let mut profile = Profile {
            name: name.to_owned(),
            chain: sources.into_iter().map(|s| s.name).collect(),
            signals,
            wait,
            unverified,
            rules,
            views,
            derived: HashMap::new(),
        };
        let mut derived = HashMap::new();
        for view in profile.views.values() {
            for b in &catalogue {
                for &build in b.builds() {
                    if let Some(e) = profile.derive(view, &b.name, build) {
                        derived.insert((b.name.clone(), build, view.name.clone()), e);
                    }
                }
            }
        }
        profile.derived = derived;
        Ok(profile)
    }

    /// The expectation for one cell, if any rule covers it: the best rule of
    /// the observer's kind, else, for a view, the derived expectation.
    pub fn expectation(
        &self,
        behaviour: &str,
        build: Build,
        observer: &str,
    ) -> Option<&Expectation> {
        self.best(behaviour, Some(build), observer).or_else(|| {
            self.derived
                .get(&(behaviour.to_owned(), build, observer.to_owned()))
        })
    }

    /// The expectation for one of an observer's own cases (a row without a
    /// probe), if a rule gives one.
    pub fn own_case_expectation(&self, case: &str, observer: &str) -> Option<&Expectation> {
        self.best(case, None, observer)
    }

    /// The mapping of view `observer`, if a profile of the chain gives one.
    pub fn view(&self, observer: &str) -> Option<&View> {
        self.views.get(observer)
    }

    fn best(&self, behaviour: &str, build: Option<Build>, observer: &str) -> Option<&Expectation> {
        self.rules
            .iter()
            .filter(|r| r.matches(behaviour, build, observer))
            .max_by_key(|r| r.rank())
            .map(|r| &r.expectation)
    }

    /// `view`'s expectation for a cell, mapped from the reaper's.
    fn derive(&self, view: &View, behaviour: &str, build: Build) -> Option<Expectation> {
        let source = self.best(behaviour, Some(build), &view.from)?;
        if !source.timed_out.is_empty() {
            return None;
        }
        let mut reported: Vec<Vec<Reported>> = Vec::new();
        for seq in &source.any_of {
            // The target's own numbering: rc's `plan9(N)` names the signal
            // (SIGBUS is 10 on MIPS, where 10 is SIGUSR1 elsewhere).
            let values = view.mapping.apply_in(seq, self.signals);
            if !reported.contains(&values) {
                reported.push(values);
            }
        }
        let outcome: Vec<String> = reported
            .iter()
            .map(|values| view::display(values, self.signals))
            .collect();
        Some(Expectation {
            cite: format!(
                "{}; applied to the {} expectation `{}`",
                view.cite,
                view.from,
                source.outcome.join(" | ")
            ),
            outcome,
            any_of: source.any_of.clone(),
            reported,
            stdout: source.stdout.clone(),
            stderr_contains: source.stderr_contains.clone(),
            stderr_lacks: source.stderr_lacks.clone(),
            timed_out: Vec::new(),
            profile: view.profile.clone(),
            location: view.location.clone(),
            derived_from: Some(Derivation {
                observer: view.from.clone(),
                outcome: source.outcome.clone(),
                cite: source.cite.clone(),
                location: source.location.clone(),
                mapping: view.mapping.to_string(),
            }),
            unverified: source.unverified.clone(),
        })
    }
}

/// The names a rule may use.
struct Names<'a> {
    behaviours: HashSet<String>,
    own_cases: HashSet<&'static str>,
    observers: &'a [&'a str],
}

fn resolve_view(source: &Source, raw: &RawView, observers: &[&str]) -> Result<View, ProfileError> {
    let name = raw.name.get_ref();
    if !observers.contains(&name.as_str()) {
        return Err(source.invalid(
            raw.name.span(),
            format!(
                "unknown observer `{name}` (known: {})",
                observers.join(", ")
            ),
        ));
    }
    if observe::is_reaper(name) {
        return Err(source.invalid(
            raw.name.span(),
            format!(
                "`{name}` is a reaper: its expectations are written with [[expect]], not mapped"
            ),
        ));
    }
    let from = raw
        .from
        .as_ref()
        .map_or("waitpid".to_owned(), |f| f.get_ref().clone());
    if !observers.contains(&from.as_str()) || observe::is_view(&from) {
        let span = raw.from.as_ref().map_or(raw.name.span(), |f| f.span());
        let reapers: Vec<&str> = observers
            .iter()
            .copied()
            .filter(|o| observe::is_reaper(o))
            .collect();
        return Err(source.invalid(
            span,
            format!(
                "`from` names the reaper whose expectations are mapped (one of {}), not `{from}`",
                reapers.join(", ")
            ),
        ));
    }
    let formula =
        |f: &Spanned<String>| Formula::parse(f.get_ref()).map_err(|m| source.invalid(f.span(), m));
    let effect = |e: &Option<Spanned<String>>| match e {
        None => Ok(Effect::Unseen),
        Some(e) => Effect::parse(e.get_ref()).map_err(|m| source.invalid(e.span(), m)),
    };
    if raw.cite.get_ref().trim().is_empty() {
        return Err(source.invalid(
            raw.cite.span(),
            "every observer mapping cites its source; `cite` is empty",
        ));
    }
    Ok(View {
        name: name.clone(),
        from,
        mapping: Mapping {
            exit: formula(&raw.exit)?,
            signal: formula(&raw.signal)?,
            stopped: effect(&raw.stopped)?,
            continued: effect(&raw.continued)?,
        },
        cite: raw.cite.get_ref().trim().to_owned(),
        profile: source.name.clone(),
        location: source.at(raw.name.span()),
    })
}

fn resolve_rule(
    source: &Source,
    raw: &RawRule,
    names: &Names<'_>,
    signals: &SignalTable,
    depth: usize,
    order: usize,
) -> Result<Rule, ProfileError> {
    let observers = names.observers;
    let outcome: Vec<String> = match raw.outcome.get_ref() {
        OneOrMany::One(s) => vec![s.clone()],
        OneOrMany::Many(v) => v.clone(),
    };
    if outcome.is_empty() {
        return Err(source.invalid(
            raw.outcome.span(),
            "an outcome list needs at least one entry",
        ));
    }
    // The words decide whom the rule is for: wait states for the reapers,
    // reported values for the views.
    let reported = view::is_reported_words(&outcome[0]);
    if outcome
        .iter()
        .any(|o| view::is_reported_words(o) != reported)
    {
        return Err(source.invalid(
            raw.outcome.span(),
            "an outcome list mixes wait states (`exit 0`) with reported values (`143`)",
        ));
    }
    for b in &raw.behaviours {
        let name = b.get_ref();
        if names.own_cases.contains(name.as_str()) {
            if !reported {
                return Err(source.invalid(
                    b.span(),
                    format!("`{name}` is an observer's own case: its outcome is a reported value (`127`, `parent exit 2`), not a wait state"),
                ));
            }
            if raw.builds.is_some() {
                return Err(source.invalid(
                    b.span(),
                    format!(
                        "`{name}` is an observer's own case, which has no build: drop `builds`"
                    ),
                ));
            }
        } else if !names.behaviours.contains(name) {
            return Err(source.invalid(b.span(), format!("unknown behaviour `{name}`")));
        }
    }
    let own_case = raw
        .behaviours
        .iter()
        .all(|b| names.own_cases.contains(b.get_ref().as_str()));
    let builds = match &raw.builds {
        None => None,
        Some(list) => Some(
            list.iter()
                .map(|b| {
                    Build::from_name(b.get_ref()).ok_or_else(|| {
                        source.invalid(
                            b.span(),
                            format!("unknown build `{}` (known: unwind, abort, c)", b.get_ref()),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    if let Some(list) = &raw.observers {
        for r in list {
            let name = r.get_ref().as_str();
            if !observers.contains(&name) {
                return Err(source.invalid(
                    r.span(),
                    format!(
                        "unknown observer `{name}` (known: {})",
                        observers.join(", ")
                    ),
                ));
            }
            if reported == observe::is_reaper(name) && !own_case {
                let message = if reported {
                    format!("`{name}` is a reaper, which sees wait states (`exit 0`, `signal SIGTERM`), but the outcome is a reported value")
                } else {
                    format!("`{name}` reports values (`143`, `-15`), but the outcome is a wait state: write the value, or leave the cell to its [[observer]] mapping")
                };
                return Err(source.invalid(r.span(), message));
            }
        }
    }
    let (any_of, reported_any_of) = if reported {
        let values = outcome
            .iter()
            .map(|o| view::parse(o, signals))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| source.invalid(raw.outcome.span(), m))?;
        (Vec::new(), values)
    } else {
        let states = outcome
            .iter()
            .map(|o| outcome::parse(o, signals))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| source.invalid(raw.outcome.span(), m))?;
        (states, Vec::new())
    };
    // A Windows host's watchdog ends the probe's Job object in one call.
    let job = raw.timed_out.len() == 1 && raw.timed_out[0].get_ref() == "TerminateJobObject";
    for (i, s) in raw.timed_out.iter().enumerate() {
        let allowed = if i == 0 { "SIGTERM" } else { "SIGKILL" };
        if !job && (s.get_ref() != allowed || i > 1) {
            return Err(source.invalid(
                s.span(),
                "`timed-out` lists the watchdog's signals in order: [\"SIGTERM\"] or [\"SIGTERM\", \"SIGKILL\"] (a Windows host: [\"TerminateJobObject\"])",
            ));
        }
    }
    if raw.cite.get_ref().trim().is_empty() {
        return Err(source.invalid(
            raw.cite.span(),
            "every expectation cites its source; `cite` is empty",
        ));
    }
    Ok(Rule {
        behaviours: raw.behaviours.iter().map(|b| b.get_ref().clone()).collect(),
        builds,
        observers: raw
            .observers
            .as_ref()
            .map(|v| v.iter().map(|r| r.get_ref().clone()).collect()),
        reported,
        own_case,
        expectation: Expectation {
            outcome,
            any_of,
            reported: reported_any_of,
            stdout: raw.stdout.clone(),
            stderr_contains: raw.stderr_contains.clone(),
            stderr_lacks: raw.stderr_lacks.clone(),
            timed_out: raw.timed_out.iter().map(|s| s.get_ref().clone()).collect(),
            cite: raw.cite.get_ref().trim().to_owned(),
            profile: source.name.clone(),
            location: source.at(raw.behaviours.first().map_or(raw.cite.span(), |b| b.span())),
            derived_from: None,
            unverified: None,
        },
        depth,
        order,
    })
}

/// The 1-based line and column of byte `span.start` of `text`.
fn locate(path: &Path, text: &str, span: Range<usize>) -> Location {
    let before = &text[..span.start.min(text.len())];
    Location {
        file: path.to_owned(),
        line: before.matches('\n').count() + 1,
        column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
    }
}

/// The profile names in `dir`, sorted.
pub fn available(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".toml").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    //! Derivation through the profile's own signal table.

    use super::*;

    #[test]
    fn rc_names_a_signal_by_the_targets_numbering_on_mips() {
        // SIGBUS is 10 on MIPS (arch/mips/include/uapi/asm/signal.h), where
        // 10 is SIGUSR1 in asm-generic's numbering; 9base's lib9/await.c
        // notes them "sys: bus error" and "sys: usr1" (pure::plan9::NOTES).
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles");
        let names = crate::pure::observers::all_names();
        let mips = Profile::load(&dir, "mips64el-unknown-linux-gnuabi64", &names).unwrap();
        assert_eq!(mips.signals.name, "linux-mips");
        assert_eq!(mips.signals.number("SIGBUS").map(|s| s.0), Some(10));
        let rc = mips
            .expectation("raise-SIGBUS", Build::Unwind, "rc")
            .expect("rc's expectation is derived from the reaper's");
        assert!(
            rc.outcome
                .iter()
                .all(|o| o.contains("signal: sys: bus error")),
            "{:?}",
            rc.outcome
        );
        assert!(
            !rc.outcome.iter().any(|o| o.contains("usr1")),
            "{:?}",
            rc.outcome
        );
    }
}
