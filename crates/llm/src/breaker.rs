//! A circuit breaker: stop calling an endpoint that keeps failing, so a dead LLM costs each
//! turn microseconds instead of a timeout, and probe it again after a cool-down.
//!
//! closed --(N consecutive failures)--> open --(cool-down elapsed)--> half-open
//! half-open --(the one probe succeeds)--> closed; --(the probe fails)--> open again.

use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// When the breaker opens and how long it stays open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Consecutive failed attempts that open the breaker (0 disables the breaker).
    pub failure_threshold: u32,
    /// How long the breaker stays open before one probe request is let through.
    pub cool_down_ms: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self { failure_threshold: 5, cool_down_ms: 30_000 }
    }
}

/// The breaker's state as seen from outside (for metrics and tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Requests flow; counts consecutive failures.
    Closed,
    /// Requests are refused without being sent.
    Open,
    /// The cool-down is over: the next request (only one) probes the endpoint.
    HalfOpen,
}

#[derive(Debug)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// Shared breaker state; clones of a `ChatClient` share one.
#[derive(Clone, Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    inner: Arc<Mutex<Inner>>,
}

/// Permission to send one request. Report the outcome with [`Permit::record`]; a permit dropped
/// without an outcome (the caller gave up) frees the probe slot without judging the endpoint.
#[derive(Debug)]
pub(crate) struct Permit {
    breaker: Breaker,
    probe: bool,
    done: bool,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig) -> Self {
        Self { config, inner: Arc::new(Mutex::new(Inner::Closed { failures: 0 })) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state is a few plain values: a panic elsewhere cannot leave it inconsistent.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn state(&self) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if Instant::now() < until => BreakerState::Open,
            Inner::Open { .. } | Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// A permit to send, or the time until a probe will be allowed (`Err`).
    pub(crate) fn acquire(&self) -> Result<Permit, Duration> {
        if self.config.failure_threshold == 0 {
            return Ok(Permit { breaker: self.clone(), probe: false, done: false });
        }
        let mut inner = self.lock();
        let probe = match *inner {
            Inner::Closed { .. } => false,
            Inner::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Err(until - now);
                }
                *inner = Inner::HalfOpen { probing: true };
                tracing::info!("LLM circuit breaker half-open: sending one probe");
                true
            }
            Inner::HalfOpen { probing: true } => return Err(Duration::ZERO),
            Inner::HalfOpen { probing: false } => {
                *inner = Inner::HalfOpen { probing: true };
                true
            }
        };
        Ok(Permit { breaker: self.clone(), probe, done: false })
    }

    fn on_success(&self) {
        let mut inner = self.lock();
        if !matches!(*inner, Inner::Closed { failures: 0 }) {
            if !matches!(*inner, Inner::Closed { .. }) {
                tracing::info!("LLM circuit breaker closed: the endpoint answers again");
            }
            *inner = Inner::Closed { failures: 0 };
        }
    }

    fn on_failure(&self, probe: bool) {
        if self.config.failure_threshold == 0 {
            return;
        }
        let cool_down = Duration::from_millis(self.config.cool_down_ms);
        let mut inner = self.lock();
        let open = match *inner {
            Inner::Closed { failures } => {
                let failures = failures + 1;
                if failures >= self.config.failure_threshold {
                    tracing::warn!(failures, cool_down_ms = self.config.cool_down_ms, "LLM circuit breaker open");
                    true
                } else {
                    *inner = Inner::Closed { failures };
                    false
                }
            }
            Inner::HalfOpen { .. } if probe => {
                tracing::warn!(cool_down_ms = self.config.cool_down_ms, "LLM probe failed: circuit breaker open again");
                true
            }
            // A request admitted before the breaker opened failed late: it is already open.
            Inner::Open { .. } | Inner::HalfOpen { .. } => false,
        };
        if open {
            *inner = Inner::Open { until: Instant::now() + cool_down };
        }
    }

    fn on_abandoned_probe(&self) {
        let mut inner = self.lock();
        if matches!(*inner, Inner::HalfOpen { probing: true }) {
            *inner = Inner::HalfOpen { probing: false };
        }
    }
}

impl Permit {
    /// Records the outcome of the request this permit was for.
    pub(crate) fn record(mut self, success: bool) {
        self.done = true;
        if success {
            self.breaker.on_success();
        } else {
            self.breaker.on_failure(self.probe);
        }
    }

    /// Releases the permit without judging the endpoint (a 4xx: the request was at fault).
    pub(crate) fn neutral(mut self) {
        self.done = true;
        if self.probe {
            // The endpoint answered, which is all a probe needs to show.
            self.breaker.on_success();
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.done && self.probe {
            self.breaker.on_abandoned_probe();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(threshold: u32, cool_down_ms: u64) -> Breaker {
        Breaker::new(BreakerConfig { failure_threshold: threshold, cool_down_ms })
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let b = breaker(3, 60_000);
        b.acquire().unwrap().record(false);
        b.acquire().unwrap().record(false);
        b.acquire().unwrap().record(true); // resets the count
        b.acquire().unwrap().record(false);
        b.acquire().unwrap().record(false);
        assert_eq!(b.state(), BreakerState::Closed);
        b.acquire().unwrap().record(false);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.acquire().unwrap_err() > Duration::from_secs(50));
    }

    #[test]
    fn half_open_lets_exactly_one_probe_through() {
        let b = breaker(1, 20);
        b.acquire().unwrap().record(false);
        assert!(b.acquire().is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let probe = b.acquire().unwrap();
        assert_eq!(b.acquire().unwrap_err(), Duration::ZERO, "second caller while probing");
        probe.record(false);
        assert_eq!(b.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(30));
        b.acquire().unwrap().record(true);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn an_abandoned_probe_frees_the_slot() {
        let b = breaker(1, 0);
        b.acquire().unwrap().record(false);
        drop(b.acquire().unwrap());
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.acquire().is_ok());
    }

    #[test]
    fn a_zero_threshold_disables_it() {
        let b = breaker(0, 60_000);
        for _ in 0..10 {
            b.acquire().unwrap().record(false);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
