//! The registry: the one place that names the concrete observers (the
//! direct reapers, the shells, rc, the Pythons, Java, Node.js, Perl, Go,
//! Ruby) and builds them.
//!
//! The names and kinds themselves are data in [`crate::pure::observers`];
//! a test checks that this registry builds exactly those, in that order.

use crate::observers::java::Java;
use crate::observers::observe::{Direct, Observer};
use crate::observers::python::Python;
use crate::observers::rc::Rc;
use crate::observers::runtime::Runtime;
use crate::observers::shell::Shell;
use crate::process::reap;

/// The direct reapers as observers, in report order.
pub fn direct() -> Vec<Box<dyn Observer>> {
    vec![
        Box::new(Direct(reap::WaitPid)),
        Box::new(Direct(reap::WaitId)),
        Box::new(Direct(reap::StdWait)),
    ]
}

/// Every observer, in column order, with the parents' programs looked up on
/// `search_path` (colon-separated directories; see
/// [`crate::observers::shell::DEFAULT_SEARCH_PATH`]). A parent whose program is not
/// there is still listed: it reports itself as not installed.
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
    all
}

/// Looks an observer up by name, its program on the default search path.
pub fn by_name(name: &str) -> Option<Box<dyn Observer>> {
    by_name_in(name, crate::observers::shell::DEFAULT_SEARCH_PATH)
}

/// Looks an observer up by name, its program on `search_path`.
pub fn by_name_in(name: &str, search_path: &str) -> Option<Box<dyn Observer>> {
    all(search_path).into_iter().find(|o| o.name() == name)
}
