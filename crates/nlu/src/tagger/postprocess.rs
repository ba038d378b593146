//! What [`super::EntityTagger::tag`] does with the decoded spans, given the built-in
//! entities of the same text.
//!
//! 1. [`merge_split_builtins`]: two spans of the same label that touch (nothing but spaces
//!    between them) inside one built-in entity become one. A tagger trained on two-character
//!    names may split `欧阳娜娜` in two; the built-in `person` says it is one name.
//! 2. [`drop_swallowing`]: a span that crosses the boundary of a sure built-in entity
//!    (every kind but `person`) or strictly contains one is dropped, so a learned entity never
//!    eats an amount or a date. A span equal to or inside a built-in span is kept.

use crate::entities::{EntityKind, ParsedEntity};

use super::TaggedSpan;

/// Built-in kinds whose spans a learned span may not cut or swallow.
pub(crate) fn is_sure(kind: EntityKind) -> bool {
    !matches!(kind, EntityKind::Person)
}

/// Spans `[start, end)` sorted by start, searchable for those overlapping a range in
/// logarithmic time plus the number of hits (built-in spans hardly ever overlap each other,
/// but the search stays correct if they do).
struct SpanIndex {
    spans: Vec<(usize, usize)>,
    /// `reach[i]` = the largest end among `spans[..=i]`.
    reach: Vec<usize>,
}

impl SpanIndex {
    fn new(spans: impl Iterator<Item = (usize, usize)>) -> SpanIndex {
        let mut spans: Vec<(usize, usize)> = spans.filter(|(s, e)| e > s).collect();
        spans.sort_unstable();
        spans.dedup();
        let mut reach = Vec::with_capacity(spans.len());
        let mut max_end = 0;
        for &(_, e) in &spans {
            max_end = max_end.max(e);
            reach.push(max_end);
        }
        SpanIndex { spans, reach }
    }

    /// The spans overlapping `[start, end)`.
    fn overlapping(&self, start: usize, end: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let from = self.reach.partition_point(|&r| r <= start);
        self.spans
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .copied()
            .take_while(move |s| s.0 < end)
            .filter(move |s| s.1 > start)
    }
}

/// Merges neighbouring spans of the same label that lie together inside one built-in
/// entity. `spans` are sorted and non-overlapping; `chars` are the text's code points.
pub(crate) fn merge_split_builtins(spans: Vec<TaggedSpan>, found: &[ParsedEntity], chars: &[char]) -> Vec<TaggedSpan> {
    if spans.len() < 2 || found.is_empty() {
        return spans;
    }
    let index = SpanIndex::new(found.iter().map(|e| (e.start, e.end)));
    let mut out: Vec<TaggedSpan> = Vec::with_capacity(spans.len());
    for s in spans {
        if let Some(last) = out.last_mut() {
            let same = last.entity == s.entity && last.role == s.role && last.group == s.group;
            let touching = last.end <= s.start
                && chars.get(last.end..s.start).is_some_and(|gap| gap.iter().all(|c| c.is_whitespace()));
            if same && touching && index.overlapping(last.start, s.end).any(|(b, e)| b <= last.start && s.end <= e) {
                last.end = s.end;
                continue;
            }
        }
        out.push(s);
    }
    out
}

/// Drops the spans that cross the boundary of a sure built-in entity or strictly contain
/// one. `spans` are sorted and non-overlapping.
///
/// A bare number or ordinal may sit inside a learned entity (`[iPhone 15](product)`,
/// `[3号楼](building)`): those only must not be cut.
pub(crate) fn drop_swallowing(spans: Vec<TaggedSpan>, found: &[ParsedEntity]) -> Vec<TaggedSpan> {
    let numeric = |k: EntityKind| matches!(k, EntityKind::Number | EntityKind::Ordinal);
    let whole = SpanIndex::new(found.iter().filter(|e| is_sure(e.kind) && !numeric(e.kind)).map(|e| (e.start, e.end)));
    let uncut = SpanIndex::new(found.iter().filter(|e| numeric(e.kind)).map(|e| (e.start, e.end)));
    if whole.spans.is_empty() && uncut.spans.is_empty() {
        return spans;
    }
    spans
        .into_iter()
        .filter(|p| !whole.overlapping(p.start, p.end).any(|(s, e)| !(s <= p.start && p.end <= e)))
        .filter(|p| {
            !uncut.overlapping(p.start, p.end).any(|(s, e)| {
                let inside = s <= p.start && p.end <= e;
                let contains = p.start <= s && e <= p.end;
                !inside && !contains
            })
        })
        .collect()
}
