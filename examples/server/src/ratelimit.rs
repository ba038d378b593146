//! Token buckets on turns: one per customer, one per tenant. In-process: with several replicas
//! each enforces its share (a limit of N per replica); put a shared limiter at the ingress for
//! exact global limits.

use crate::config::RateLimits;
use crate::error::ApiError;
use kefu::ErrorCode;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Refills at `per_sec` up to `burst`, then takes one token if there is one.
    fn take(&mut self, now: Instant, per_sec: f64, burst: f64) -> bool {
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * per_sec).min(burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The limiter.
pub struct RateLimiter {
    limits: RateLimits,
    users: Mutex<HashMap<(String, String), Bucket>>,
    tenants: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// A limiter with these limits.
    pub fn new(limits: RateLimits) -> Self {
        Self { limits, users: Mutex::default(), tenants: Mutex::default() }
    }

    /// Takes one turn from the tenant's and the customer's buckets, or says when to retry.
    pub fn check(&self, tenant: &str, user: &str) -> Result<(), ApiError> {
        self.check_at(tenant, user, Instant::now())
    }

    fn check_at(&self, tenant: &str, user: &str, now: Instant) -> Result<(), ApiError> {
        if self.limits.tenant_per_second > 0 {
            let per_sec = f64::from(self.limits.tenant_per_second);
            let mut tenants = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
            let bucket = tenants.entry(tenant.to_string()).or_insert(Bucket { tokens: per_sec, at: now });
            if !bucket.take(now, per_sec, per_sec) {
                return Err(ApiError::new(ErrorCode::RateLimited, format!("tenant `{tenant}` is over its turn rate")));
            }
        }
        if self.limits.user_per_minute > 0 {
            let per_sec = f64::from(self.limits.user_per_minute) / 60.0;
            // A burst of a fifth of the minute's allowance (at least 5): a person types a few
            // messages in a row, a script does not get the whole minute at once.
            let burst = (f64::from(self.limits.user_per_minute) / 5.0).max(5.0);
            let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
            let bucket =
                users.entry((tenant.to_string(), user.to_string())).or_insert(Bucket { tokens: burst, at: now });
            if !bucket.take(now, per_sec, burst) {
                return Err(ApiError::new(ErrorCode::RateLimited, "too many messages: slow down"));
            }
        }
        Ok(())
    }

    /// Forgets buckets idle long enough to be full again (bounded memory).
    pub fn sweep(&self) {
        let now = Instant::now();
        let idle = Duration::from_secs(120);
        self.users.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, b| now.duration_since(b.at) < idle);
        self.tenants.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, b| now.duration_since(b.at) < idle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_gets_a_burst_then_the_steady_rate() {
        let limiter = RateLimiter::new(RateLimits { user_per_minute: 60, tenant_per_second: 0 });
        let t0 = Instant::now();
        let allowed = (0..20).filter(|_| limiter.check_at("t", "u", t0).is_ok()).count();
        assert_eq!(allowed, 12, "burst of 60/5");
        assert_eq!(limiter.check_at("t", "u", t0).map_err(|e| e.code), Err(ErrorCode::RateLimited));
        assert!(limiter.check_at("t", "other", t0).is_ok(), "customers have their own buckets");
        assert!(limiter.check_at("t", "u", t0 + Duration::from_millis(1100)).is_ok(), "one per second refills");
    }

    #[test]
    fn a_tenant_limit_covers_all_its_customers() {
        let limiter = RateLimiter::new(RateLimits { user_per_minute: 0, tenant_per_second: 10 });
        let t0 = Instant::now();
        let allowed = (0..30).filter(|i| limiter.check_at("t", &format!("u{i}"), t0).is_ok()).count();
        assert_eq!(allowed, 10);
        assert!(limiter.check_at("other", "u", t0).is_ok());
    }
}
