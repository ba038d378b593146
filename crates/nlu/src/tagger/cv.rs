//! k-fold cross-validation of the tagger with exact span matching.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::entities::Lang;

use super::perceptron::XorShift;
use super::tokens::{fold, tokenize};
use super::{snapped, EntityTagger, TaggedSpan, TaggerConfig, TaggerExample};

/// Scores of one entity (or entity and role) over held-out examples.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpanScore {
    /// Annotated spans.
    pub support: usize,
    /// Predicted spans.
    pub predicted: usize,
    /// Predicted spans equal to an annotated one (same span, entity and role).
    pub correct: usize,
    /// `correct / predicted` (0 when nothing was predicted).
    pub precision: f64,
    /// `correct / support` (0 when there is no support).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
}

impl SpanScore {
    fn new(support: usize, predicted: usize, correct: usize) -> SpanScore {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(correct, predicted);
        let recall = ratio(correct, support);
        let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        SpanScore { support, predicted, correct, precision, recall, f1 }
    }
}

/// The key a span is scored under: the entity, or `entity#role` when it has a role.
fn key(s: &TaggedSpan) -> String {
    match &s.role {
        Some(r) => format!("{}#{r}", s.entity),
        None => s.entity.clone(),
    }
}

/// k-fold cross-validation: the examples are shuffled by `config.seed` and dealt into
/// `folds` folds (at least 2, at most one per example); each fold is tagged by a tagger
/// trained on the others. A prediction is correct when its span, entity and role equal
/// those of an annotation (annotations snapped to whole tokens, as in training).
///
/// The map has one entry per entity, or `entity#role` when a role is annotated, covering
/// every key seen in the annotations or the predictions. With fewer than two examples
/// there is nothing to train on and the scores are all zero.
pub fn cross_validate(
    examples: &[TaggerExample],
    lang: Lang,
    folds: usize,
    config: &TaggerConfig,
) -> BTreeMap<String, SpanScore> {
    let n = examples.len();
    let k = folds.clamp(2, n.max(2));
    let mut order: Vec<usize> = (0..n).collect();
    XorShift::new(config.seed).shuffle(&mut order);
    let mut fold_of = vec![0usize; n];
    for (pos, &i) in order.iter().enumerate() {
        fold_of[i] = pos % k;
    }
    // (support, predicted, correct) per key
    let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for f in 0..k {
        let train: Vec<TaggerExample> =
            examples.iter().zip(&fold_of).filter(|(_, &g)| g != f).map(|(e, _)| e.clone()).collect();
        let test: Vec<&TaggerExample> =
            examples.iter().zip(&fold_of).filter(|(_, &g)| g == f).map(|(e, _)| e).collect();
        if test.is_empty() {
            continue;
        }
        let tagger = EntityTagger::train(&train, lang, config);
        for ex in test {
            let gold = gold_spans(ex);
            let pred = tagger.tag(&ex.text);
            for g in &gold {
                counts.entry(key(g)).or_default().0 += 1;
            }
            for p in &pred {
                let c = counts.entry(key(p)).or_default();
                c.1 += 1;
                if gold.iter().any(|g| g.start == p.start && g.end == p.end && g.entity == p.entity && g.role == p.role)
                {
                    c.2 += 1;
                }
            }
        }
    }
    counts.into_iter().map(|(k, (s, p, c))| (k, SpanScore::new(s, p, c))).collect()
}

/// The annotations of `ex` snapped to whole tokens, overlaps removed, as in training.
fn gold_spans(ex: &TaggerExample) -> Vec<TaggedSpan> {
    let chars: Vec<char> = ex.text.chars().map(fold).collect();
    let tokens = tokenize(&chars);
    snapped(&tokens, &ex.spans)
        .into_iter()
        .filter_map(|(a, b, t)| {
            let (first, last) = (tokens.get(a)?, tokens.get(b)?);
            Some(TaggedSpan { start: first.start, end: last.end, entity: t.entity, role: t.role, group: t.group })
        })
        .collect()
}
