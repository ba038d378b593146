//! Running CPU-heavy work (a transformer forward pass, a dense search) from async code.
//!
//! A sentence encoder takes ~10 ms of CPU per message. Done directly inside an `async fn`,
//! that time is taken from the executor: on a tokio worker every other task queued there
//! (other conversations, health checks) waits. [`run_cpu_bound`] tells a multi-threaded tokio
//! runtime to hand those tasks to another worker first, and is a plain call everywhere else.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `work` on the current thread; on a worker of a multi-threaded tokio runtime, via
/// [`tokio::task::block_in_place`] so the worker's other tasks move elsewhere meanwhile.
///
/// Outside a runtime and on a current-thread runtime (where `block_in_place` is not allowed)
/// it simply calls `work`. Like any synchronous call it cannot be cancelled halfway.
pub fn run_cpu_bound<R>(work: impl FnOnce() -> R) -> R {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;

    /// Busy-waits (like a forward pass, never yielding) until `flag` is set or `budget` passes.
    fn spin_until(flag: &AtomicBool, budget: Duration) -> bool {
        let start = Instant::now();
        while !flag.load(Ordering::SeqCst) {
            if start.elapsed() > budget {
                return false;
            }
            std::hint::spin_loop();
        }
        true
    }

    /// On a one-worker runtime, spawns a task that busy-waits for `budget` unless a second task,
    /// spawned after it onto the same worker, runs meanwhile; returns whether it did.
    fn second_task_ran_during_busy_one(through_run_cpu_bound: bool, budget: Duration) -> bool {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
        let flag = Arc::new(AtomicBool::new(false));
        runtime.block_on(async move {
            let busy = tokio::spawn({
                let flag = flag.clone();
                async move {
                    if through_run_cpu_bound {
                        run_cpu_bound(|| spin_until(&flag, budget))
                    } else {
                        spin_until(&flag, budget)
                    }
                }
            });
            let other = tokio::spawn(async move { flag.store(true, Ordering::SeqCst) });
            let seen = busy.await.unwrap();
            other.await.unwrap();
            seen
        })
    }

    #[test]
    fn other_tasks_of_a_single_worker_runtime_keep_running() {
        assert!(
            second_task_ran_during_busy_one(true, Duration::from_secs(10)),
            "the second task never ran while the first was in run_cpu_bound"
        );
    }

    #[test]
    fn without_it_the_single_worker_is_stuck() {
        // The control for the test above: without run_cpu_bound the busy task starves the
        // other one until its budget runs out.
        assert!(!second_task_ran_during_busy_one(false, Duration::from_secs(1)));
    }

    #[test]
    fn current_thread_runtime_and_no_runtime_just_call() {
        assert_eq!(run_cpu_bound(|| 7), 7);
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert_eq!(runtime.block_on(async { run_cpu_bound(|| 8) }), 8);
        let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
        assert_eq!(multi.block_on(async { run_cpu_bound(|| 9) }), 9);
        // From the blocking pool (an embedder called inside spawn_blocking) and nested.
        let from_pool = multi.block_on(async { tokio::task::spawn_blocking(|| run_cpu_bound(|| 10)).await.unwrap() });
        assert_eq!(from_pool, 10);
        let nested =
            multi.block_on(async { tokio::spawn(async { run_cpu_bound(|| run_cpu_bound(|| 11)) }).await.unwrap() });
        assert_eq!(nested, 11);
    }
}
