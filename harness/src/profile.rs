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
//! For one cell (behaviour, build, observer) the rule that wins is the one
//! with the most filters (builds, observers) that match; then the one from the
//! more derived profile; then the later one in its file. Every name in a
//! rule (behaviour, build, observer, signal) is checked when the profile is
//! loaded, and an error names the file, line and column.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::catalogue::{self, Build};
use crate::decode::WaitConventions;
use crate::outcome::{self, Sequence};
use crate::signal::SignalTable;

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
    #[serde(default)]
    expect: Vec<RawRule>,
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
    /// The same, resolved for the target.
    #[serde(skip)]
    pub any_of: Vec<Sequence>,
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
}

impl Expectation {
    /// Whether any accepted outcome ends with a core dump: such a case runs
    /// with core dumps enabled, every other case with them off.
    pub fn wants_core(&self) -> bool {
        self.any_of.iter().any(|seq| {
            matches!(
                seq.last(),
                Some(crate::decode::Termination::Signaled {
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
    expectation: Expectation,
    /// 0 for the base of the chain, growing toward the target's own profile.
    depth: usize,
    order: usize,
}

impl Rule {
    fn matches(&self, behaviour: &str, build: Build, observer: &str) -> bool {
        self.behaviours.iter().any(|b| b == behaviour)
            && self.builds.as_ref().is_none_or(|bs| bs.contains(&build))
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
    rules: Vec<Rule>,
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
        for source in &sources {
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
                                "unknown wait layout `{}` (known: linux, freebsd, macos)",
                                w.get_ref()
                            ),
                        )
                    })?;
                    wait = Some(conv);
                }
            }
        }
        let signals = signals.ok_or(ProfileError::Missing {
            chain: chain_text.clone(),
            key: "signals",
        })?;
        let wait = wait.ok_or(ProfileError::Missing {
            chain: chain_text,
            key: "wait",
        })?;

        let behaviours: HashSet<String> =
            catalogue::catalogue().into_iter().map(|b| b.name).collect();
        let depth_of_base = sources.len() - 1;
        let mut rules = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            for (order, raw) in source.raw.expect.iter().enumerate() {
                rules.push(resolve_rule(
                    source,
                    raw,
                    &behaviours,
                    observers,
                    signals,
                    depth_of_base - index,
                    order,
                )?);
            }
        }
        Ok(Profile {
            name: name.to_owned(),
            chain: sources.into_iter().map(|s| s.name).collect(),
            signals,
            wait,
            rules,
        })
    }

    /// The expectation for one cell, if any rule covers it.
    pub fn expectation(
        &self,
        behaviour: &str,
        build: Build,
        observer: &str,
    ) -> Option<&Expectation> {
        self.rules
            .iter()
            .filter(|r| r.matches(behaviour, build, observer))
            .max_by_key(|r| r.rank())
            .map(|r| &r.expectation)
    }
}

fn resolve_rule(
    source: &Source,
    raw: &RawRule,
    behaviours: &HashSet<String>,
    observers: &[&str],
    signals: &SignalTable,
    depth: usize,
    order: usize,
) -> Result<Rule, ProfileError> {
    for b in &raw.behaviours {
        if !behaviours.contains(b.get_ref()) {
            return Err(source.invalid(b.span(), format!("unknown behaviour `{}`", b.get_ref())));
        }
    }
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
            if !observers.contains(&r.get_ref().as_str()) {
                return Err(source.invalid(
                    r.span(),
                    format!(
                        "unknown observer `{}` (known: {})",
                        r.get_ref(),
                        observers.join(", ")
                    ),
                ));
            }
        }
    }
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
    let any_of = outcome
        .iter()
        .map(|o| outcome::parse(o, signals))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| source.invalid(raw.outcome.span(), m))?;
    for (i, s) in raw.timed_out.iter().enumerate() {
        let allowed = if i == 0 { "SIGTERM" } else { "SIGKILL" };
        if s.get_ref() != allowed || i > 1 {
            return Err(source.invalid(
                s.span(),
                "`timed-out` lists the watchdog's signals in order: [\"SIGTERM\"] or [\"SIGTERM\", \"SIGKILL\"]",
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
        expectation: Expectation {
            outcome,
            any_of,
            stdout: raw.stdout.clone(),
            stderr_contains: raw.stderr_contains.clone(),
            stderr_lacks: raw.stderr_lacks.clone(),
            timed_out: raw.timed_out.iter().map(|s| s.get_ref().clone()).collect(),
            cite: raw.cite.get_ref().trim().to_owned(),
            profile: source.name.clone(),
            location: source.at(raw.behaviours.first().map_or(raw.cite.span(), |b| b.span())),
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
