//! How many CPU threads candle's matmuls use, and why programs should say so up front.
//!
//! candle 0.11 decides the thread count on every matmul call: it reads `RAYON_NUM_THREADS`
//! and, on Linux when that is unset, counts physical cores by parsing `/proc/cpuinfo`, every
//! time. On the 2-core benchmark machine that parse cost ≈ 80 µs per matmul, about a quarter of
//! a 16-token sentence's encoding (see `docs/neural-nlu.md`). With the variable set, the
//! parse never happens. The pool size itself is unchanged: candle would count the same cores.

/// The variable candle (like rayon) reads for its thread count.
pub const THREADS_VAR: &str = "RAYON_NUM_THREADS";

/// Sets [`THREADS_VAR`] to the number of CPUs this process may use (cgroup CPU quotas
/// included, as in a Kubernetes pod), unless it is already set, and returns the value in
/// effect (`None` when it is set to something other than a positive integer).
///
/// Call it first thing in `main`, before any other thread exists: changing the environment
/// while another thread may read it is a data race on most platforms. Libraries and language
/// bindings must not call it (their host owns the environment); the `kefu` CLI, the examples
/// and the benchmarks do.
pub fn init_cpu_threads() -> Option<usize> {
    if let Some(value) = std::env::var_os(THREADS_VAR) {
        return value.to_str().and_then(|v| v.trim().parse().ok()).filter(|n: &usize| *n > 0);
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    std::env::set_var(THREADS_VAR, threads.to_string());
    Some(threads)
}

/// Logs once per process, on Linux, when [`THREADS_VAR`] is unset while a CPU encoder loads.
pub(crate) fn warn_once_if_unset() {
    #[cfg(target_os = "linux")]
    {
        static WARNED: std::sync::Once = std::sync::Once::new();
        if std::env::var_os(THREADS_VAR).is_none() {
            WARNED.call_once(|| {
                tracing::warn!(
                    "{THREADS_VAR} is not set: candle then re-reads /proc/cpuinfo on every matmul, which made \
                     CPU encoding ~25 % slower in our benchmarks; set it to the number of cores (the kefu CLI \
                     does this itself)"
                );
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    const EXPECT: &str = "KEFU_TEST_EXPECT_THREADS";

    /// Runs in a child process (the environment is process-wide): checks what
    /// `init_cpu_threads` returns and leaves behind against [`EXPECT`].
    #[test]
    #[ignore = "started by init_cpu_threads_sets_a_missing_variable_and_keeps_a_present_one"]
    fn init_cpu_threads_child() {
        let before = std::env::var(THREADS_VAR).ok();
        let expected = std::env::var(EXPECT).unwrap();
        let in_effect = init_cpu_threads();
        assert_eq!(in_effect.map_or("none".to_string(), |n| n.to_string()), expected);
        match before {
            Some(before) => assert_eq!(std::env::var(THREADS_VAR).unwrap(), before, "a set variable is kept"),
            None => assert_eq!(std::env::var(THREADS_VAR).unwrap(), expected),
        }
    }

    #[test]
    fn init_cpu_threads_sets_a_missing_variable_and_keeps_a_present_one() {
        let exe = std::env::current_exe().unwrap();
        let available = std::thread::available_parallelism().map_or(1, usize::from).to_string();
        for (preset, expected) in
            [(None, available.as_str()), (Some("3"), "3"), (Some("many"), "none"), (Some("0"), "none")]
        {
            let mut child = Command::new(&exe);
            child.args(["--ignored", "--exact", "neural::threads::tests::init_cpu_threads_child", "--test-threads=1"]);
            child.env_remove(THREADS_VAR).env(EXPECT, expected);
            if let Some(preset) = preset {
                child.env(THREADS_VAR, preset);
            }
            let output = child.output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "preset {preset:?}: {stdout}");
            assert!(stdout.contains("1 passed"), "the child test must have run: {stdout}");
        }
    }
}
