//! Hourly analytics rollups per tenant, computed from the event stream.
//!
//! A rollup is a pure function of the events whose timestamp falls in the hour, deduplicated by
//! event id — so at-least-once delivery never double counts, and re-running an hour gives the
//! same result.

use chrono::{DateTime, Duration, DurationRound, Utc};
use kefu_core::event::{Event, EventEnvelope};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// One tenant's figures for one hour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HourlyRollup {
    /// Tenant.
    pub tenant: String,
    /// Start of the hour (UTC).
    pub hour: DateTime<Utc>,
    /// Conversations with at least one user message in the hour.
    pub conversations: u64,
    /// User messages.
    pub turns: u64,
    /// Top intent of each turn, counted.
    pub intents: BTreeMap<String, u64>,
    /// Fallbacks.
    pub fallbacks: u64,
    /// Fallbacks per turn.
    pub fallback_rate: f64,
    /// Conversations handed to a human in the hour.
    pub handoffs: u64,
    /// Handed-off conversations per conversation.
    pub handoff_rate: f64,
    /// Share of conversations resolved without a human (1 − hand-off rate).
    pub containment: f64,
    /// Forms started.
    pub flows_started: u64,
    /// Forms completed.
    pub flows_completed: u64,
    /// Completed per started form (0 when none started).
    pub flow_completion_rate: f64,
    /// Knowledge-base answers.
    pub kb_answers: u64,
    /// Median engine time per turn, milliseconds.
    pub turn_latency_p50_ms: f64,
    /// 95th percentile engine time per turn, milliseconds.
    pub turn_latency_p95_ms: f64,
}

/// The start of the hour containing `t`.
pub fn hour_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::hours(1)).unwrap_or(t)
}

/// Rollups of `hour` (its start), one per tenant, sorted by tenant.
pub fn rollup_hour<'a>(events: impl IntoIterator<Item = &'a EventEnvelope>, hour: DateTime<Utc>) -> Vec<HourlyRollup> {
    let hour = hour_of(hour);
    let end = hour + Duration::hours(1);
    #[derive(Default)]
    struct Acc {
        conversations: BTreeSet<String>,
        handoff_conversations: BTreeSet<String>,
        turns: u64,
        intents: BTreeMap<String, u64>,
        fallbacks: u64,
        started: u64,
        completed: u64,
        kb: u64,
        latencies: Vec<f64>,
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut by_tenant: BTreeMap<String, Acc> = BTreeMap::new();
    for e in events {
        if e.timestamp < hour || e.timestamp >= end || !seen.insert(e.id.as_str()) {
            continue;
        }
        let acc = by_tenant.entry(e.tenant.clone()).or_default();
        match &e.event {
            Event::UserMessage { .. } => {
                acc.turns += 1;
                acc.conversations.insert(e.conversation_id.clone());
            }
            Event::IntentRecognized { intent, .. } => *acc.intents.entry(intent.clone()).or_default() += 1,
            Event::Fallback { .. } => acc.fallbacks += 1,
            Event::Handoff { .. } => {
                acc.handoff_conversations.insert(e.conversation_id.clone());
            }
            Event::FlowStarted { .. } => acc.started += 1,
            Event::FlowCompleted { .. } => acc.completed += 1,
            Event::KbAnswer { .. } => acc.kb += 1,
            Event::TurnCompleted { latency_ms } => acc.latencies.push(*latency_ms),
            _ => {}
        }
    }
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    by_tenant
        .into_iter()
        .map(|(tenant, mut a)| {
            a.latencies.sort_by(f64::total_cmp);
            let pct = |p: f64| {
                if a.latencies.is_empty() {
                    0.0
                } else {
                    a.latencies[((a.latencies.len() - 1) as f64 * p).round() as usize]
                }
            };
            let conversations = a.conversations.len() as u64;
            let handoffs = a.handoff_conversations.len() as u64;
            HourlyRollup {
                tenant,
                hour,
                conversations,
                turns: a.turns,
                fallbacks: a.fallbacks,
                fallback_rate: ratio(a.fallbacks, a.turns),
                handoffs,
                handoff_rate: ratio(handoffs, conversations),
                containment: if conversations == 0 { 0.0 } else { 1.0 - ratio(handoffs, conversations) },
                flows_started: a.started,
                flows_completed: a.completed,
                flow_completion_rate: ratio(a.completed, a.started),
                kb_answers: a.kb,
                turn_latency_p50_ms: pct(0.5),
                turn_latency_p95_ms: pct(0.95),
                intents: a.intents,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ev(tenant: &str, conv: &str, id: &str, minute: u32, event: Event) -> EventEnvelope {
        EventEnvelope {
            id: id.into(),
            tenant: tenant.into(),
            conversation_id: conv.into(),
            user_id: "u".into(),
            channel: "web".into(),
            turn: 1,
            timestamp: Utc.with_ymd_and_hms(2026, 11, 26, 10, minute, 0).unwrap(),
            event,
        }
    }

    fn user(tenant: &str, conv: &str, id: &str, minute: u32) -> EventEnvelope {
        ev(tenant, conv, id, minute, Event::UserMessage { text: "x".into(), language: kefu_core::Language::Zh })
    }

    #[test]
    fn computes_rates_per_tenant_and_ignores_duplicates_and_other_hours() {
        let mut events = vec![
            user("a", "c1", "a/c1/1/0", 1),
            ev(
                "a",
                "c1",
                "a/c1/1/1",
                1,
                Event::IntentRecognized { intent: "greet".into(), confidence: 0.9, ranking: vec![] },
            ),
            ev("a", "c1", "a/c1/1/2", 1, Event::TurnCompleted { latency_ms: 2.0 }),
            user("a", "c2", "a/c2/1/0", 5),
            ev("a", "c2", "a/c2/1/1", 5, Event::Fallback { consecutive: 1 }),
            ev("a", "c2", "a/c2/1/2", 5, Event::Handoff { reason: "x".into() }),
            ev("a", "c2", "a/c2/1/3", 5, Event::FlowStarted { flow: "returns".into() }),
            ev("a", "c2", "a/c2/1/4", 5, Event::TurnCompleted { latency_ms: 4.0 }),
            user("b", "c9", "b/c9/1/0", 59),
        ];
        events.push(events[0].clone()); // redelivered duplicate
        let mut late = user("a", "c3", "a/c3/1/0", 0);
        late.timestamp = Utc.with_ymd_and_hms(2026, 11, 26, 11, 0, 0).unwrap(); // next hour
        events.push(late);
        let hour = Utc.with_ymd_and_hms(2026, 11, 26, 10, 30, 0).unwrap();
        let r = rollup_hour(&events, hour);
        assert_eq!(r.len(), 2);
        let a = &r[0];
        assert_eq!((a.tenant.as_str(), a.conversations, a.turns, a.fallbacks, a.handoffs), ("a", 2, 2, 1, 1));
        assert_eq!(a.hour, Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap());
        assert!((a.fallback_rate - 0.5).abs() < 1e-9 && (a.containment - 0.5).abs() < 1e-9);
        assert_eq!(a.intents["greet"], 1);
        assert_eq!((a.flows_started, a.flows_completed, a.flow_completion_rate), (1, 0, 0.0));
        assert_eq!((a.turn_latency_p50_ms, a.turn_latency_p95_ms), (4.0, 4.0));
        assert_eq!(r[1].tenant, "b");
        // idempotent: same input, same output, whatever the order
        let mut reversed = events.clone();
        reversed.reverse();
        assert_eq!(rollup_hour(&reversed, hour), r);
    }
}
