//! Prometheus metrics in the text exposition format, kept by hand: a few counters, gauges and
//! histograms with labels, behind one mutex (a turn takes tens of microseconds; the lock is
//! held for nanoseconds).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency histograms, in seconds.
const BUCKETS: [f64; 17] =
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Families {
    counters: BTreeMap<&'static str, BTreeMap<Labels, u64>>,
    histograms: BTreeMap<&'static str, BTreeMap<Labels, Histogram>>,
}

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    families: Mutex<Families>,
}

/// Help texts, written once per family.
fn help(name: &str) -> &'static str {
    match name {
        "kefu_turns_total" => "Turns handled, by tenant, bot version and top intent.",
        "kefu_fallbacks_total" => "Turns that ended in a fallback.",
        "kefu_handoffs_total" => "Conversations handed to a human agent.",
        "kefu_kb_answers_total" => "Turns answered from the FAQ knowledge base.",
        "kefu_flows_completed_total" => "Forms completed.",
        "kefu_turn_errors_total" => "Turns that failed, by error code.",
        "kefu_http_requests_total" => "HTTP requests, by route and status.",
        "kefu_turn_duration_seconds" => "Time to handle a turn (NLU, policy, actions, store), in seconds.",
        "kefu_http_request_duration_seconds" => "Time to answer an HTTP request, in seconds.",
        "kefu_nlu_duration_seconds" => "Time a turn spent classifying intents and extracting entities, in seconds.",
        "kefu_kb_duration_seconds" => "Time a turn spent in FAQ retrieval, in seconds.",
        "kefu_llm_answer_duration_seconds" => "Time a turn spent having an LLM write a FAQ answer, in seconds.",
        "kefu_action_duration_seconds" => "Time a turn spent running actions (webhooks, lookups), in seconds.",
        "kefu_store_duration_seconds" => "Time a turn spent loading and saving its session, in seconds.",
        "kefu_conversations_started_total" => "Conversations started (first turn, or first after expiry).",
        _ => "",
    }
}

impl Metrics {
    /// Adds `by` to a counter.
    pub fn inc(&self, name: &'static str, labels: Labels, by: u64) {
        let mut f = self.families.lock().unwrap_or_else(|p| p.into_inner());
        *f.counters.entry(name).or_default().entry(labels).or_default() += by;
    }

    /// Records one observation in a histogram.
    pub fn observe(&self, name: &'static str, labels: Labels, seconds: f64) {
        let mut f = self.families.lock().unwrap_or_else(|p| p.into_inner());
        let h = f.histograms.entry(name).or_default().entry(labels).or_default();
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            h.counts[i] += 1;
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// Renders every family, plus `gauges` computed by the caller, in the text format.
    pub fn render(&self, gauges: &[(&'static str, &'static str, Labels, f64)]) -> String {
        let f = self.families.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        for (name, series) in &f.counters {
            let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} counter", help(name));
            for (labels, v) in series {
                let _ = writeln!(out, "{name}{} {v}", fmt_labels(labels, None));
            }
        }
        for (name, series) in &f.histograms {
            let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} histogram", help(name));
            for (labels, h) in series {
                let mut cumulative = 0;
                for (i, bound) in BUCKETS.iter().enumerate() {
                    cumulative += h.counts[i];
                    let le = bound.to_string();
                    let _ = writeln!(out, "{name}_bucket{} {cumulative}", fmt_labels(labels, Some(&le)));
                }
                let _ = writeln!(out, "{name}_bucket{} {}", fmt_labels(labels, Some("+Inf")), h.count);
                let _ = writeln!(out, "{name}_sum{} {}", fmt_labels(labels, None), h.sum);
                let _ = writeln!(out, "{name}_count{} {}", fmt_labels(labels, None), h.count);
            }
        }
        let mut last = "";
        for (name, help, labels, v) in gauges {
            if *name != last {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
                last = name;
            }
            let _ = writeln!(out, "{name}{} {v}", fmt_labels(labels, None));
        }
        out
    }
}

fn fmt_labels(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// Label values escape backslash, quote and newline.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges_in_the_text_format() {
        let m = Metrics::default();
        m.inc("kefu_turns_total", vec![("tenant", "a\"b".into()), ("intent", "greet".into())], 2);
        m.observe("kefu_turn_duration_seconds", vec![("tenant", "a".into())], 0.003);
        m.observe("kefu_turn_duration_seconds", vec![("tenant", "a".into())], 20.0);
        let text = m.render(&[("kefu_active_conversations", "Live conversations.", vec![("tenant", "a".into())], 3.0)]);
        assert!(text.contains("# TYPE kefu_turns_total counter"));
        assert!(text.contains("kefu_turns_total{tenant=\"a\\\"b\",intent=\"greet\"} 2"), "{text}");
        assert!(text.contains("kefu_turn_duration_seconds_bucket{tenant=\"a\",le=\"0.0025\"} 0"));
        assert!(text.contains("kefu_turn_duration_seconds_bucket{tenant=\"a\",le=\"0.005\"} 1"));
        assert!(text.contains("kefu_turn_duration_seconds_bucket{tenant=\"a\",le=\"+Inf\"} 2"));
        assert!(text.contains("kefu_turn_duration_seconds_count{tenant=\"a\"} 2"));
        assert!(text.contains("kefu_active_conversations{tenant=\"a\"} 3"));
    }
}
