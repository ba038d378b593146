//! BIO labels over (entity, role, group) span types.
//!
//! Label 0 is `O`; span type `k` has `B = 1 + 2k` and `I = 2 + 2k`. An `I` label may only
//! follow the `B` or `I` label of the same type ([`allowed`]).

use serde::{Deserialize, Serialize};

/// What a span is labelled with: the entity and its optional role and group.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct SpanType {
    pub entity: String,
    pub role: Option<String>,
    pub group: Option<String>,
}

/// The `O` label.
pub(crate) const OUTSIDE: u16 = 0;

/// Number of BIO labels for `n_types` span types.
pub(crate) fn n_labels(n_types: usize) -> usize {
    1 + 2 * n_types
}

/// The `B` label of span type `k`.
pub(crate) fn begin(k: usize) -> u16 {
    u16::try_from(1 + 2 * k).unwrap_or(u16::MAX)
}

/// The `I` label of span type `k`.
pub(crate) fn inside(k: usize) -> u16 {
    u16::try_from(2 + 2 * k).unwrap_or(u16::MAX)
}

/// The span type of a `B` or `I` label.
pub(crate) fn type_of(label: u16) -> Option<usize> {
    (label != OUTSIDE).then(|| (usize::from(label) - 1) / 2)
}

fn is_inside(label: u16) -> bool {
    label != OUTSIDE && label.is_multiple_of(2)
}

/// Whether `cur` may follow `prev` (`None` = sentence start).
pub(crate) fn allowed(prev: Option<u16>, cur: u16) -> bool {
    if !is_inside(cur) {
        return true;
    }
    prev.is_some_and(|p| p != OUTSIDE && type_of(p) == type_of(cur))
}

/// Token spans `(first, last_inclusive, type)` read from a label sequence. An `I` with no
/// open span of its type (impossible after constrained decoding) starts a new span.
pub(crate) fn spans_of(labels: &[u16]) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, usize)> = None; // (first, type)
    for (i, &l) in labels.iter().enumerate() {
        let continues = is_inside(l) && open.is_some_and(|(_, k)| type_of(l) == Some(k));
        if continues {
            continue;
        }
        if let Some((s, k)) = open.take() {
            out.push((s, i - 1, k));
        }
        if let Some(k) = type_of(l) {
            open = Some((i, k));
        }
    }
    if let Some((s, k)) = open {
        out.push((s, labels.len().saturating_sub(1), k));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bio_round_trip_and_validity() {
        let seq = [OUTSIDE, begin(0), inside(0), begin(1), begin(0), OUTSIDE, begin(1), inside(1)];
        assert_eq!(spans_of(&seq), [(1, 2, 0), (3, 3, 1), (4, 4, 0), (6, 7, 1)]);
        assert!(allowed(Some(begin(2)), inside(2)));
        assert!(allowed(Some(inside(2)), inside(2)));
        assert!(!allowed(Some(begin(1)), inside(2)));
        assert!(!allowed(Some(OUTSIDE), inside(0)));
        assert!(!allowed(None, inside(0)));
        assert!(allowed(None, begin(0)));
        assert_eq!(n_labels(2), 5);
    }
}
