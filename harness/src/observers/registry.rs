//! The registry: the one place that names the concrete observers (the
//! direct reapers, the shells, rc, the Pythons, Java, Node.js, Perl, Go,
//! Ruby, cmd.exe) and builds them, keeping those of this host.
//!
//! The names and kinds themselves are data in [`crate::pure::observers`];
//! a test checks that this registry builds exactly those, in that order.

use crate::observers::cmd::Cmd;
use crate::observers::java::Java;
use crate::observers::observe::{Direct, Observer};
use crate::observers::python::Python;
use crate::observers::rc::Rc;
use crate::observers::runtime::Runtime;
use crate::observers::shell::Shell;
use crate::os;
use crate::process::reap;

/// The direct reapers of this host as observers, in report order: the
/// ones [`crate::os::NATIVE_OBSERVERS`] names (`waitpid`, `waitid` and
/// `std` on Unix; `std` and `GetExitCodeProcess` on Windows).
pub fn direct() -> Vec<Box<dyn Observer>> {
    let every: Vec<Box<dyn Observer>> = vec![
        Box::new(Direct(reap::WaitPid)),
        Box::new(Direct(reap::WaitId)),
        Box::new(Direct(reap::StdWait)),
        Box::new(Direct(reap::GetExitCode)),
    ];
    on_this_host(every)
}

/// Every observer of this host, in column order, with the parents'
/// programs looked up on `search_path` (colon-separated directories; see
/// [`crate::observers::shell::DEFAULT_SEARCH_PATH`]). A parent whose program is not
/// there is still listed: it reports itself as not installed. Which
/// columns a host has is [`crate::os::NATIVE_OBSERVERS`].
pub fn all(search_path: &str) -> Vec<Box<dyn Observer>> {
    let mut all = direct();
    all.extend(
        Shell::all(search_path)
            .into_iter()
            .map(|s| Box::new(s) as Box<dyn Observer>),
    );
    all.push(Box::new(Rc::new(search_path)));
    all.extend(
        Python::all(search_path)
            .into_iter()
            .map(|p| Box::new(p) as Box<dyn Observer>),
    );
    all.push(Box::new(Java::new(search_path)));
    all.extend(
        Runtime::all(search_path)
            .into_iter()
            .map(|r| Box::new(r) as Box<dyn Observer>),
    );
    all.push(Box::new(Cmd::new()));
    on_this_host(all)
}

/// The observers of `every` that this host has, in
/// [`crate::os::NATIVE_OBSERVERS`]'s order.
fn on_this_host(mut every: Vec<Box<dyn Observer>>) -> Vec<Box<dyn Observer>> {
    let mut chosen = Vec::new();
    for name in os::NATIVE_OBSERVERS {
        if let Some(i) = every.iter().position(|o| o.name() == *name) {
            chosen.push(every.remove(i));
        }
    }
    chosen
}

/// Looks an observer up by name, its program on the default search path.
pub fn by_name(name: &str) -> Option<Box<dyn Observer>> {
    by_name_in(name, crate::observers::shell::DEFAULT_SEARCH_PATH)
}

/// Looks an observer up by name, its program on `search_path`.
pub fn by_name_in(name: &str, search_path: &str) -> Option<Box<dyn Observer>> {
    all(search_path).into_iter().find(|o| o.name() == name)
}
