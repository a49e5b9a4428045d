//! What the observers' long-lived servers share: a pool of idle servers per
//! worker, and the one way a server's failure becomes a cell's error.
//!
//! Two kinds of parent run on a server that starts once per worker and
//! forks a case process per cell: Python (`python::Python`, its own
//! JSON protocol) and the forking parents of `parent::run_forked`
//! (Ruby). Their protocols differ; their life cycle does not:
//!
//! - A worker takes an idle server for a cell ([`Pool::take`]) and puts it
//!   back when the cell is done ([`Pool::put`]), so there are as many as
//!   cells ran at once. A pool keeps at most [`POOL_MAX`]; a server beyond
//!   it is stopped at once.
//! - A server that dies, says something unexpected or does not answer in
//!   time makes its cell "not observed" ([`failed`]): never a pass. It is
//!   killed with its group and never goes back to the pool, so the next
//!   cell starts a fresh one.
//! - When a run's cells are done, the engine stops every idle server
//!   ([`crate::observers::stop_servers`]) before it sweeps what is left:
//!   a server still running then would be reported as left behind.

use std::borrow::Borrow;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::process::spawn::Server;

/// More idle servers than any run keeps busy; a server beyond it is
/// stopped.
pub const POOL_MAX: usize = 16;

/// Idle servers of one kind, each under the key it was started with (the
/// interpreter, or the whole command line), and how one is stopped.
#[derive(Debug)]
pub struct Pool<K, S> {
    idle: Mutex<Vec<(K, S)>>,
    stop: fn(S),
}

impl<K: PartialEq, S> Pool<K, S> {
    /// An empty pool whose servers `stop` ends (asks the server to stop,
    /// then kills its group and reaps it).
    pub const fn new(stop: fn(S)) -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
            stop,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(K, S)>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An idle server started under `key`, taken out of the pool.
    pub fn take<Q: PartialEq + ?Sized>(&self, key: &Q) -> Option<S>
    where
        K: Borrow<Q>,
    {
        let mut idle = self.lock();
        let i = idle.iter().position(|(k, _)| k.borrow() == key)?;
        Some(idle.swap_remove(i).1)
    }

    /// Puts back a server whose cell went well, or stops it if the pool is
    /// full.
    pub fn put(&self, key: K, server: S) {
        let mut idle = self.lock();
        if idle.len() < POOL_MAX {
            idle.push((key, server));
        } else {
            drop(idle);
            (self.stop)(server);
        }
    }

    /// Stops every idle server.
    pub fn stop_all(&self) {
        let idle: Vec<_> = self.lock().drain(..).collect();
        for (_, server) in idle {
            (self.stop)(server);
        }
    }

    /// The pids of the idle servers whose key `wanted` accepts, as `pid`
    /// gives them (for tests that kill one).
    pub fn pids(&self, wanted: impl Fn(&K) -> bool, pid: impl Fn(&S) -> u32) -> Vec<u32> {
        self.lock()
            .iter()
            .filter(|(k, _)| wanted(k))
            .map(|(_, s)| pid(s))
            .collect()
    }
}

/// Kills a server that failed (with its group) and returns its cell's
/// error: what failed, that the cell is not observed, and the server's last
/// words on its standard error. `who` names the server ("the Python
/// server").
pub fn failed(server: Server, who: &str, error: &str) -> String {
    let log = server.log(600);
    server.kill();
    let log = if log.is_empty() {
        String::new()
    } else {
        format!("; its last words: {log}")
    };
    format!(
        "{who} failed ({error}); the cell is not observed and the next one starts a new server{log}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::{AtomicUsize, Ordering};

    static STOPPED: AtomicUsize = AtomicUsize::new(0);

    fn stop(_: u32) {
        STOPPED.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn a_pool_hands_back_servers_by_key_keeps_at_most_its_max_and_stops_the_rest() {
        let pool: Pool<&str, u32> = Pool::new(stop);
        assert_eq!(pool.take("a"), None);
        pool.put("a", 1);
        pool.put("b", 2);
        assert_eq!(pool.take("b"), Some(2));
        assert_eq!(pool.take("b"), None);
        assert_eq!(pool.pids(|k| *k == "a", |s| *s), vec![1]);
        for n in 0..POOL_MAX as u32 {
            pool.put("c", 100 + n);
        }
        // One was there already: the last put found the pool full.
        assert_eq!(STOPPED.load(Ordering::SeqCst), 1);
        pool.stop_all();
        assert_eq!(STOPPED.load(Ordering::SeqCst), 1 + POOL_MAX);
        assert_eq!(pool.take("a"), None);
    }
}
