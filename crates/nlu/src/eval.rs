//! Intent-model evaluation on CSV data sets: accuracy, macro-F1, per-intent precision and
//! recall, out-of-scope detection, training time and per-utterance latency, and an HTML
//! report with a confusion-matrix heat map.

use crate::error::Error;
use crate::intent_model::LexicalIntentClassifier;
use crate::lexical::{LexicalConfig, TrainProgress};
use kefu_core::text::normalize;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Reads `(text, label)` rows from a CSV file with a header row.
pub fn read_csv(path: &Path, text_col: &str, label_col: &str) -> Result<Vec<(String, String)>, Error> {
    let bad = |reason: String| Error::Dataset { path: path.to_path_buf(), reason };
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_path(path).map_err(|e| bad(e.to_string()))?;
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h.trim() == name).ok_or_else(|| {
            bad(format!("no column `{name}` (columns: {})", headers.iter().collect::<Vec<_>>().join(", ")))
        })
    };
    let (ti, li) = (col(text_col)?, col(label_col)?);
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(format!("row {}: {e}", n + 2)))?;
        let (Some(text), Some(label)) = (record.get(ti), record.get(li)) else {
            return Err(bad(format!("row {} is missing a column", n + 2)));
        };
        if label.trim().is_empty() {
            return Err(bad(format!("row {} has an empty label", n + 2)));
        }
        rows.push((text.to_string(), label.trim().to_string()));
    }
    if rows.is_empty() {
        return Err(bad("no rows".into()));
    }
    Ok(rows)
}

/// How to evaluate.
#[derive(Clone, Debug, Default)]
pub struct EvalOptions {
    /// Label of out-of-scope examples (trained as a class; also predicted below the threshold).
    pub oos_label: Option<String>,
    /// Top confidence below which a prediction counts as out-of-scope (with `oos_label`).
    pub oos_threshold: f32,
    /// Choose `oos_threshold` on a held-out 20 % of the *training* data instead (see
    /// [`calibrate_oos_threshold`]); the model is then retrained on all of it.
    pub calibrate_oos: bool,
    /// Model hyper-parameters.
    pub config: LexicalConfig,
}

/// Precision, recall and F1 of one intent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntentStats {
    /// Intent.
    pub intent: String,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Test examples of this intent.
    pub support: usize,
}

/// The evaluation report (`kefu eval-intents --json` prints it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// NLU pipeline evaluated.
    pub nlu: String,
    /// Training examples.
    pub train_examples: usize,
    /// Test examples.
    pub test_examples: usize,
    /// Distinct labels seen in training.
    pub labels: usize,
    /// Share of test examples whose top prediction is right.
    pub accuracy: f64,
    /// Unweighted mean F1 over labels (of train and test).
    pub macro_f1: f64,
    /// Wall-clock seconds to train (featurisation included).
    pub train_seconds: f64,
    /// Median milliseconds per utterance (normalisation + prediction, one at a time).
    pub p50_ms: f64,
    /// 99th percentile milliseconds per utterance.
    pub p99_ms: f64,
    /// Recall of out-of-scope examples (with `--oos-label`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oos_recall: Option<f64>,
    /// Precision of out-of-scope predictions (with `--oos-label`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oos_precision: Option<f64>,
    /// Accuracy on in-scope test examples (with `--oos-label`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_scope_accuracy: Option<f64>,
    /// The out-of-scope threshold used (with `--oos-label`; calibrated or given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oos_threshold: Option<f32>,
    /// Per-intent figures, sorted by intent.
    pub per_intent: Vec<IntentStats>,
    /// Labels of the confusion matrix (rows: truth, columns: prediction).
    #[serde(skip)]
    pub confusion_labels: Vec<String>,
    /// Confusion counts.
    #[serde(skip)]
    pub confusion: Vec<Vec<u32>>,
}

/// A trained intent model as the evaluation sees it.
pub trait EvalModel {
    /// Why a prediction failed.
    type Error;
    /// The intents it was trained on.
    fn labels(&self) -> Vec<String>;
    /// The most likely intent of an (already normalised) text and its confidence.
    fn top(&self, text: &str) -> Result<Option<(String, f32)>, Self::Error>;
    /// Called once before the timed predictions: empty any cache that could answer a test
    /// utterance without computing it.
    fn clear_caches(&self) {}
}

impl EvalModel for LexicalIntentClassifier {
    type Error = Error;
    fn labels(&self) -> Vec<String> {
        LexicalIntentClassifier::labels(self).to_vec()
    }
    fn top(&self, text: &str) -> Result<Option<(String, f32)>, Error> {
        Ok(self.rank(text, 1).into_iter().next().map(|s| (s.name, s.confidence)))
    }
}

/// Trains on `train`, evaluates on `test`; `progress` sees each training epoch.
pub fn evaluate(
    train: &[(String, String)],
    test: &[(String, String)],
    opts: &EvalOptions,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<EvalReport, Error> {
    evaluate_model(train, test, opts, "lexical", |normalized| {
        LexicalIntentClassifier::train(normalized, &opts.config, progress)
    })
}

/// Most in-scope accuracy (absolute, on held-out training data) an out-of-scope threshold may
/// cost: the threshold catches as many out-of-scope messages as it can within this budget.
pub const OOS_MAX_IN_SCOPE_DROP: f64 = 0.02;

/// Every how many-th intent (sorted) [`calibrate_oos_threshold`] hides from the model to stand
/// for out-of-scope messages it has never seen.
const SIMULATED_UNSEEN_STRIDE: usize = 7;

/// Chooses an out-of-scope confidence threshold from training data only.
///
/// Out-of-scope messages at run time mostly belong to intents the bot was never taught, so
/// that is what the calibration simulates: every 7th intent (sorted; at least one when there
/// are three or more) is hidden from the model entirely and its examples become out-of-scope
/// messages, the other intents give a stratified 20 % as in-scope messages, and examples
/// labelled `oos_label` (when the training set has them) are split the same way. The model
/// is trained on the rest and predicts the held-out part. The threshold is the one that
/// rejects the most out-of-scope messages while costing at most [`OOS_MAX_IN_SCOPE_DROP`] of
/// in-scope accuracy (compared with no threshold) — a balanced score would trade far more
/// in-scope accuracy than users accept. With fewer than three intents and no `oos_label`
/// examples there is nothing to simulate: the 5th percentile of the confidence of correctly
/// classified held-out examples is used.
pub fn calibrate_oos_threshold<M: EvalModel>(
    normalized: &[(String, String)],
    oos_label: &str,
    seed: u64,
    train_model: &mut impl FnMut(&[(String, String)]) -> Result<M, M::Error>,
) -> Result<f32, M::Error> {
    let mut intents: Vec<&str> = normalized.iter().map(|(_, l)| l.as_str()).filter(|l| *l != oos_label).collect();
    intents.sort_unstable();
    intents.dedup();
    let hidden: std::collections::BTreeSet<&str> = if intents.len() >= 3 {
        let offset = (seed as usize) % SIMULATED_UNSEEN_STRIDE.min(intents.len());
        intents.iter().skip(offset).step_by(SIMULATED_UNSEEN_STRIDE).copied().collect()
    } else {
        Default::default()
    };
    let visible: Vec<usize> = (0..normalized.len()).filter(|&i| !hidden.contains(normalized[i].1.as_str())).collect();
    let labels: Vec<String> = visible.iter().map(|&i| normalized[i].1.clone()).collect();
    let (fit, held) = holdout_split(&labels, 0.2, seed);
    let fit_examples: Vec<(String, String)> = fit.iter().map(|&k| normalized[visible[k]].clone()).collect();
    let model = train_model(&fit_examples)?;
    // (confidence, predicted, truth); hidden intents' examples are out of scope.
    let mut scored: Vec<(f32, String, &str)> = Vec::with_capacity(held.len());
    let held_rows = held
        .iter()
        .map(|&k| visible[k])
        .chain((0..normalized.len()).filter(|&i| hidden.contains(normalized[i].1.as_str())));
    for i in held_rows {
        let (text, truth) = &normalized[i];
        let truth = if hidden.contains(truth.as_str()) { oos_label } else { truth.as_str() };
        if let Some((name, confidence)) = model.top(text)? {
            scored.push((confidence, name, truth));
        }
    }
    model.clear_caches();
    Ok(choose_oos_threshold(&scored, oos_label, OOS_MAX_IN_SCOPE_DROP))
}

/// The range a bot's calibrated threshold is kept in. A small bot holds out only tens of
/// examples, so its calibration is noisy; the bounds keep a noisy choice from trusting
/// everything or from silencing the bot.
pub const BOT_THRESHOLD_RANGE: (f32, f32) = (0.25, 0.75);

/// How many simulations [`calibrate_bot_threshold`] takes the median of.
const BOT_CALIBRATION_RUNS: u64 = 3;

/// `policy.intent_threshold: auto` for a bot: [`calibrate_oos_threshold`] on the bot's training
/// examples, whose `out_of_scope` intent (its own examples and the built-in off-topic ones)
/// joins the simulated unseen intents. A small bot's single simulation depends on which
/// intents happen to be hidden, so this takes the median of [`BOT_CALIBRATION_RUNS`] (other
/// hidden intents, other held-out split), kept within [`BOT_THRESHOLD_RANGE`].
pub fn calibrate_bot_threshold<M: EvalModel>(
    examples: &[(String, String)],
    seed: u64,
    train_model: &mut impl FnMut(&[(String, String)]) -> Result<M, M::Error>,
) -> Result<f32, M::Error> {
    let mut chosen = Vec::with_capacity(BOT_CALIBRATION_RUNS as usize);
    for run in 0..BOT_CALIBRATION_RUNS {
        let seed = seed.wrapping_add(run);
        chosen.push(calibrate_oos_threshold(examples, kefu_core::bot::OUT_OF_SCOPE_INTENT, seed, train_model)?);
    }
    chosen.sort_by(f32::total_cmp);
    let median = chosen[chosen.len() / 2];
    Ok(median.clamp(BOT_THRESHOLD_RANGE.0, BOT_THRESHOLD_RANGE.1))
}

/// The threshold over `(confidence, predicted, truth)` that rejects the most out-of-scope
/// messages while in-scope accuracy stays within `max_drop` of no threshold's; ties go to the
/// lower threshold. Without out-of-scope messages: the 5th percentile of correct confidences.
pub fn choose_oos_threshold(scored: &[(f32, String, &str)], oos_label: &str, max_drop: f64) -> f32 {
    let has_oos = scored.iter().any(|(_, _, t)| *t == oos_label);
    if !has_oos {
        let mut correct: Vec<f32> = scored.iter().filter(|(_, n, t)| n == t).map(|(c, _, _)| *c).collect();
        correct.sort_by(f32::total_cmp);
        return correct.get(correct.len() / 20).copied().unwrap_or(0.0);
    }
    let in_total = scored.iter().filter(|(_, _, t)| *t != oos_label).count().max(1) as f64;
    let oos_total = scored.iter().filter(|(_, _, t)| *t == oos_label).count().max(1) as f64;
    let outcome = |theta: f32| {
        let (mut in_right, mut caught) = (0usize, 0usize);
        for (c, name, truth) in scored {
            let predicted = if *c < theta { oos_label } else { name.as_str() };
            if *truth == oos_label {
                caught += usize::from(predicted == oos_label);
            } else {
                in_right += usize::from(predicted == *truth);
            }
        }
        (in_right as f64 / in_total, caught as f64 / oos_total)
    };
    let (base_accuracy, _) = outcome(0.0);
    let mut candidates: Vec<f32> = scored.iter().map(|(c, _, _)| *c).collect();
    candidates.push(0.0);
    candidates.sort_by(f32::total_cmp);
    candidates.dedup();
    let mut best = (f64::MIN, 0.0f32);
    for &theta in &candidates {
        let (accuracy, recall) = outcome(theta);
        if accuracy + 1e-9 >= base_accuracy - max_drop && recall > best.0 {
            best = (recall, theta);
        }
    }
    best.1
}

/// A stratified, seeded split of example indices into (train, held-out): each label gives
/// about `fraction` of its examples (at least one when it has two or more) to the held-out
/// part. Deterministic for a seed.
pub fn holdout_split(labels: &[String], fraction: f32, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut by_label: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        by_label.entry(l.as_str()).or_default().push(i);
    }
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03 | 1;
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for (_, mut idx) in by_label {
        for i in (1..idx.len()).rev() {
            idx.swap(i, (xorshift(&mut rng) % (i as u64 + 1)) as usize);
        }
        let n =
            if idx.len() >= 2 { ((idx.len() as f32 * fraction).round() as usize).clamp(1, idx.len() - 1) } else { 0 };
        held.extend_from_slice(&idx[..n]);
        train.extend_from_slice(&idx[n..]);
    }
    train.sort_unstable();
    held.sort_unstable();
    (train, held)
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Evaluates any model: `train_model` gets the normalised training examples and is timed
/// (`train_seconds`); each test utterance is then normalised and predicted one at a time
/// (`p50_ms`, `p99_ms`). `nlu` names the pipeline in the report.
pub fn evaluate_model<M: EvalModel>(
    train: &[(String, String)],
    test: &[(String, String)],
    opts: &EvalOptions,
    nlu: &str,
    mut train_model: impl FnMut(&[(String, String)]) -> Result<M, M::Error>,
) -> Result<EvalReport, M::Error> {
    let started = Instant::now();
    let normalized: Vec<(String, String)> = train.iter().map(|(t, l)| (normalize(t), l.clone())).collect();
    let mut opts = opts.clone();
    if let (Some(oos), true) = (opts.oos_label.clone(), opts.calibrate_oos) {
        opts.oos_threshold = calibrate_oos_threshold(&normalized, &oos, opts.config.seed, &mut train_model)?;
    }
    let opts = &opts;
    let model = train_model(&normalized)?;
    let train_seconds = started.elapsed().as_secs_f64();
    let model_labels = model.labels();
    model.clear_caches();

    let mut latencies = Vec::with_capacity(test.len());
    let mut predictions = Vec::with_capacity(test.len());
    for (text, _) in test {
        let t0 = Instant::now();
        let top = model.top(&normalize(text))?;
        latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
        let label = match (&opts.oos_label, top) {
            (Some(oos), Some((_, confidence))) if confidence < opts.oos_threshold => oos.clone(),
            (_, Some((name, _))) => name,
            (Some(oos), None) => oos.clone(),
            (None, None) => String::new(),
        };
        predictions.push(label);
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);

    let truth: Vec<&str> = test.iter().map(|(_, l)| l.as_str()).collect();
    let correct = truth.iter().zip(&predictions).filter(|(t, p)| **t == p.as_str()).count();
    let mut label_set: BTreeMap<String, usize> = BTreeMap::new();
    for l in model_labels.iter().map(String::as_str).chain(truth.iter().copied()) {
        let n = label_set.len();
        label_set.entry(l.to_string()).or_insert(n);
    }
    let labels: Vec<String> = label_set.keys().cloned().collect();
    let index: BTreeMap<&str, usize> = labels.iter().enumerate().map(|(i, l)| (l.as_str(), i)).collect();
    let mut confusion = vec![vec![0u32; labels.len()]; labels.len()];
    for (t, p) in truth.iter().zip(&predictions) {
        if let (Some(&i), Some(&j)) = (index.get(t), index.get(p.as_str())) {
            confusion[i][j] += 1;
        }
    }
    let mut per_intent = Vec::new();
    let mut f1_sum = 0.0;
    let mut f1_count = 0usize;
    for (i, label) in labels.iter().enumerate() {
        let tp = f64::from(confusion[i][i]);
        let support: u32 = confusion[i].iter().sum();
        let predicted: u32 = confusion.iter().map(|row| row[i]).sum();
        let precision = if predicted > 0 { tp / f64::from(predicted) } else { 0.0 };
        let recall = if support > 0 { tp / f64::from(support) } else { 0.0 };
        let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        if support > 0 || predicted > 0 {
            f1_sum += f1;
            f1_count += 1;
        }
        per_intent.push(IntentStats { intent: label.clone(), precision, recall, f1, support: support as usize });
    }
    let (mut oos_recall, mut oos_precision, mut in_scope_accuracy) = (None, None, None);
    if let Some(oos) = &opts.oos_label {
        let true_oos = truth.iter().filter(|t| *t == oos).count();
        let pred_oos = predictions.iter().filter(|p| *p == oos).count();
        let both = truth.iter().zip(&predictions).filter(|(t, p)| *t == oos && *p == oos).count();
        let in_scope: Vec<_> = truth.iter().zip(&predictions).filter(|(t, _)| *t != oos).collect();
        oos_recall = Some(if true_oos > 0 { both as f64 / true_oos as f64 } else { 0.0 });
        oos_precision = Some(if pred_oos > 0 { both as f64 / pred_oos as f64 } else { 0.0 });
        in_scope_accuracy = Some(if in_scope.is_empty() {
            0.0
        } else {
            in_scope.iter().filter(|(t, p)| **t == p.as_str()).count() as f64 / in_scope.len() as f64
        });
    }
    Ok(EvalReport {
        nlu: nlu.into(),
        train_examples: train.len(),
        test_examples: test.len(),
        labels: model_labels.len(),
        accuracy: if test.is_empty() { 0.0 } else { correct as f64 / test.len() as f64 },
        macro_f1: if f1_count > 0 { f1_sum / f1_count as f64 } else { 0.0 },
        train_seconds,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        oos_recall,
        oos_precision,
        in_scope_accuracy,
        oos_threshold: opts.oos_label.as_ref().map(|_| opts.oos_threshold),
        per_intent,
        confusion_labels: labels,
        confusion,
    })
}

/// A self-contained HTML report: summary, per-intent table and confusion heat map.
pub fn render_html(report: &EvalReport, title: &str) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut h = String::new();
    h.push_str("<!doctype html><html><head><meta charset=\"utf-8\"><title>");
    h.push_str(&esc(title));
    h.push_str("</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}th.r{writing-mode:vertical-rl;transform:rotate(180deg)}td.c{width:14px;height:14px;padding:0;border:none}</style></head><body>");
    h.push_str(&format!("<h1>{}</h1><ul>", esc(title)));
    h.push_str(&format!(
        "<li>accuracy <b>{:.2} %</b>, macro-F1 <b>{:.4}</b></li><li>{} training / {} test examples, {} labels</li><li>training {:.2} s; per utterance p50 {:.4} ms, p99 {:.4} ms</li>",
        report.accuracy * 100.0, report.macro_f1, report.train_examples, report.test_examples, report.labels, report.train_seconds, report.p50_ms, report.p99_ms
    ));
    if let (Some(r), Some(p)) = (report.oos_recall, report.oos_precision) {
        h.push_str(&format!("<li>out-of-scope recall {:.2} %, precision {:.2} %</li>", r * 100.0, p * 100.0));
    }
    h.push_str("</ul><h2>Confusion matrix</h2><p>Rows: true intent; columns: predicted. Darker = more examples; red = errors.</p><table><tr><th></th>");
    for l in &report.confusion_labels {
        h.push_str(&format!("<th class=\"r\">{}</th>", esc(l)));
    }
    h.push_str("</tr>");
    for (i, row) in report.confusion.iter().enumerate() {
        let total: u32 = row.iter().sum::<u32>().max(1);
        h.push_str(&format!("<tr><th>{}</th>", esc(&report.confusion_labels[i])));
        for (j, &n) in row.iter().enumerate() {
            let a = f64::from(n) / f64::from(total);
            let color = if i == j {
                format!("rgba(30,100,200,{a:.3})")
            } else {
                format!("rgba(220,40,40,{:.3})", (a * 3.0).min(1.0))
            };
            h.push_str(&format!(
                "<td class=\"c\" style=\"background:{color}\" title=\"{} → {}: {n}\"></td>",
                esc(&report.confusion_labels[i]),
                esc(&report.confusion_labels[j])
            ));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table><h2>Per intent</h2><table><tr><th>intent</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>");
    for s in &report.per_intent {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td></tr>",
            esc(&s.intent),
            s.precision,
            s.recall,
            s.f1,
            s.support
        ));
    }
    h.push_str("</table></body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn reports_metrics_and_oos() {
        let train = rows(&[
            ("hello", "greet"),
            ("hi there", "greet"),
            ("good morning", "greet"),
            ("你好", "greet"),
            ("I want a refund", "refund"),
            ("refund my order", "refund"),
            ("give me my money back", "refund"),
            ("我要退款", "refund"),
            ("what is the weather", "oos"),
            ("tell me a joke", "oos"),
            ("who won the game", "oos"),
        ]);
        let test = rows(&[
            ("hello!", "greet"),
            ("refund please", "refund"),
            ("tell me a joke please", "oos"),
            ("退款", "refund"),
        ]);
        let opts = EvalOptions { oos_label: Some("oos".into()), ..Default::default() };
        let r = evaluate(&train, &test, &opts, &mut |_| {}).unwrap();
        assert_eq!(r.test_examples, 4);
        assert!(r.accuracy >= 0.75, "{r:?}");
        assert!(r.oos_recall.is_some() && r.in_scope_accuracy.is_some());
        let json = serde_json::to_value(&r).unwrap();
        for key in ["accuracy", "macro_f1", "train_seconds", "p50_ms", "oos_recall", "in_scope_accuracy"] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        let html = render_html(&r, "test <report>");
        assert!(html.contains("test &lt;report&gt;") && html.contains("<table>"));
    }

    #[test]
    fn oos_threshold_catches_the_most_within_the_accuracy_budget() {
        let mut scored: Vec<(f32, String, &str)> = Vec::new();
        scored.extend((0..45).map(|_| (0.9, "a".to_string(), "a")));
        scored.extend((0..5).map(|_| (0.8, "a".to_string(), "a")));
        scored.extend((0..5).map(|_| (0.3, "b".to_string(), "a"))); // wrong anyway: free to reject
        scored.extend((0..10).map(|_| (0.2, "a".to_string(), "oos")));
        scored.extend((0..10).map(|_| (0.85, "b".to_string(), "oos")));
        // 2 points: the 0.8 correct ones (9 % of in-scope) must stay; the lowest threshold wins ties.
        assert_eq!(choose_oos_threshold(&scored, "oos", 0.02), 0.3);
        // 10 points: rejecting them too catches every out-of-scope message.
        assert_eq!(choose_oos_threshold(&scored, "oos", 0.10), 0.9);
        // No out-of-scope message: 5th percentile of correct confidences.
        let in_scope: Vec<_> = scored.iter().filter(|s| s.2 != "oos").cloned().collect();
        assert_eq!(choose_oos_threshold(&in_scope, "oos", 0.02), 0.8);
    }

    #[test]
    fn csv_errors_are_typed() {
        let dir = std::env::temp_dir().join(format!("kefu-eval-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.csv");
        std::fs::write(&p, "text,category\n\"multi\nline\",x\nhello,y\n").unwrap();
        assert_eq!(read_csv(&p, "text", "category").unwrap().len(), 2);
        assert!(matches!(read_csv(&p, "text", "label"), Err(Error::Dataset { .. })));
        std::fs::write(&p, "text,category\n").unwrap();
        assert!(matches!(read_csv(&p, "text", "category"), Err(Error::Dataset { .. })));
        assert!(read_csv(&dir.join("missing.csv"), "text", "category").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
