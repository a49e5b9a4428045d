//! Expectations for the older systems as data:
//! `profiles/systems/<system>.toml`.
//!
//! ```toml
//! system = "dos"                 # or "amigaos"
//! description = "..."            # optional, for readers
//!
//! [[expect]]
//! case = "exit-42"               # a case of that system's catalogue
//! at = "dos-errorlevel"          # where it is observed (a `Place` name)
//! value = 42                     # the raw value expected there
//! rule = "documented"            # optional: or "emulator", an emulator's own rule
//! cite = "RBIL INT 21/AH=4Ch: AL = return code"   # required, not empty
//! ```
//!
//! A DOS case is observed at `dos-errorlevel` or `dos-if-errorlevel`,
//! whichever its check records; an AmigaOS case at `host-exit` or
//! `amiga-runcommand`. Every name is checked when the file is loaded, and a
//! mistake is one line naming the file, the line and column, and the key
//! (`profiles/systems/dos.toml:12:8: expect[2].cite: ...`). The format
//! mirrors the main profiles' (`crate::pure::profile`): every expectation
//! cites its source, and one whose `cite` is missing or empty does not
//! load.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{amiga, dos, Place, SystemError};

/// Which older system a profile is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum System {
    /// DOS under DOSBox ([`super::dos`]).
    Dos,
    /// AmigaOS under `vamos` ([`super::amiga`]).
    AmigaOs,
}

impl System {
    /// Every system, in the order `test-matrix --all-targets` runs them.
    pub const ALL: [System; 2] = [System::Dos, System::AmigaOs];

    /// The system of that name (`dos`, `amigaos`).
    pub fn from_name(name: &str) -> Option<System> {
        System::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The name profiles use.
    pub fn name(self) -> &'static str {
        match self {
            System::Dos => "dos",
            System::AmigaOs => "amigaos",
        }
    }

    /// The cases of its catalogue and the places each may be observed at.
    pub fn catalogue(self) -> Vec<(String, Vec<Place>)> {
        match self {
            System::Dos => dos::cases()
                .into_iter()
                .map(|c| {
                    let place = c.place();
                    (c.name, vec![place])
                })
                .collect(),
            System::AmigaOs => amiga::cases()
                .into_iter()
                .map(|c| (c.name, vec![Place::HostExit, Place::AmigaRunCommand]))
                .collect(),
        }
    }
}

/// Whether an expectation is what the system documents or what an emulator
/// does differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RuleKind {
    /// The real system's documented behaviour.
    Documented,
    /// A rule of the emulator (DOSBox, `vamos`), citing its source.
    Emulator,
}

/// One expectation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expectation {
    /// The case.
    pub case: String,
    /// Where it is observed.
    pub place: Place,
    /// The value expected.
    pub value: i64,
    /// The source.
    pub cite: String,
    /// Documented, or the emulator's.
    pub rule: RuleKind,
    /// The 1-based line of its `case` value.
    pub line: usize,
    /// The 1-based column of its `case` value.
    pub column: usize,
}

/// A loaded systems profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SystemsProfile {
    /// The file it came from.
    pub path: PathBuf,
    /// The system.
    pub system: System,
    /// The expectations, in file order.
    pub expectations: Vec<Expectation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    system: Spanned<String>,
    #[serde(default)]
    #[expect(dead_code, reason = "documentation for readers of the file")]
    description: Option<String>,
    #[serde(default)]
    expect: Vec<Spanned<RawExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    case: Option<Spanned<String>>,
    at: Option<Spanned<String>>,
    value: Option<Spanned<i64>>,
    rule: Option<Spanned<String>>,
    cite: Option<Spanned<String>>,
}

/// The 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The key a TOML error points at: `expect[i].key` from the `[[expect]]`
/// headers before it and the `key =` of its line, else the line's key, else
/// `toml`.
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let key = line.split_once('=').map(|(k, _)| k.trim()).filter(|k| {
        !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let tables = text[..line_start]
        .lines()
        .filter(|l| l.trim() == "[[expect]]")
        .count();
    match (key, tables) {
        (Some(k), 0) => k.to_owned(),
        (Some(k), n) => format!("expect[{}].{k}", n - 1),
        (None, 0) => "toml".to_owned(),
        (None, n) => format!("expect[{}]", n - 1),
    }
}

struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn error(&self, span: Range<usize>, key: String, message: impl Into<String>) -> SystemError {
        let (line, column) = line_column(self.text, span.start);
        SystemError::Profile {
            file: self.path.to_owned(),
            line,
            column,
            key,
            message: message.into(),
        }
    }
}

impl SystemsProfile {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<SystemsProfile, SystemError> {
        let text = std::fs::read_to_string(path).map_err(|source| SystemError::ReadProfile {
            path: path.to_owned(),
            source,
        })?;
        SystemsProfile::parse(path, &text)
    }

    /// Checks `text`, the contents of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<SystemsProfile, SystemError> {
        let src = Source { path, text };
        let raw: RawProfile = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            // One line: the message without the snippet toml's Display adds.
            let message = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .to_owned();
            src.error(span.clone(), key_at(text, span.start), message)
        })?;
        let system = match raw.system.get_ref().as_str() {
            "dos" => System::Dos,
            "amigaos" => System::AmigaOs,
            other => {
                return Err(src.error(
                    raw.system.span(),
                    "system".into(),
                    format!("unknown system `{other}` (known: dos, amigaos)"),
                ))
            }
        };
        let catalogue = system.catalogue();
        let mut expectations: Vec<Expectation> = Vec::new();
        for (i, table) in raw.expect.iter().enumerate() {
            let e = table.get_ref();
            let key = |k: &str| format!("expect[{i}].{k}");
            let missing = |k: &str| src.error(table.span(), key(k), "missing");
            let case = e.case.as_ref().ok_or_else(|| missing("case"))?;
            let at = e.at.as_ref().ok_or_else(|| missing("at"))?;
            let value = e.value.as_ref().ok_or_else(|| missing("value"))?;
            let cite = e.cite.as_ref().ok_or_else(|| {
                src.error(
                    table.span(),
                    key("cite"),
                    "missing: every expectation cites its source",
                )
            })?;
            if cite.get_ref().trim().is_empty() {
                return Err(src.error(
                    cite.span(),
                    key("cite"),
                    "empty: every expectation cites its source",
                ));
            }
            let places = catalogue
                .iter()
                .find(|(name, _)| name == case.get_ref())
                .map(|(_, places)| places)
                .ok_or_else(|| {
                    let known: Vec<&str> = catalogue.iter().map(|(n, _)| n.as_str()).collect();
                    src.error(
                        case.span(),
                        key("case"),
                        format!(
                            "no {} case `{}` (known: {})",
                            system.name(),
                            case.get_ref(),
                            known.join(", ")
                        ),
                    )
                })?;
            let place = Place::from_name(at.get_ref())
                .filter(|p| places.contains(p))
                .ok_or_else(|| {
                    let names: Vec<&str> = places.iter().map(|p| p.name()).collect();
                    src.error(
                        at.span(),
                        key("at"),
                        format!(
                            "`{}` is not where `{}` is observed (use: {})",
                            at.get_ref(),
                            case.get_ref(),
                            names.join(", ")
                        ),
                    )
                })?;
            let rule = match e.rule.as_ref().map(|r| (r.get_ref().as_str(), r.span())) {
                None | Some(("documented", _)) => RuleKind::Documented,
                Some(("emulator", _)) => RuleKind::Emulator,
                Some((other, span)) => {
                    return Err(src.error(
                        span,
                        key("rule"),
                        format!("unknown rule `{other}` (known: documented, emulator)"),
                    ))
                }
            };
            if let Some(earlier) = expectations
                .iter()
                .find(|x| x.case == *case.get_ref() && x.place == place)
            {
                return Err(src.error(
                    case.span(),
                    key("case"),
                    format!(
                        "`{}` at `{place}` is already expected on line {}",
                        case.get_ref(),
                        earlier.line
                    ),
                ));
            }
            let (line, column) = line_column(text, case.span().start);
            expectations.push(Expectation {
                case: case.get_ref().clone(),
                place,
                value: *value.get_ref(),
                cite: cite.get_ref().trim().to_owned(),
                rule,
                line,
                column,
            });
        }
        Ok(SystemsProfile {
            path: path.to_owned(),
            system,
            expectations,
        })
    }
}
