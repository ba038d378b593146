//! Out-of-scope detection without out-of-scope examples: how close a message comes to
//! anything the assistant was trained on.
//!
//! Intent models are softmax classifiers and always pick *some* intent, often with high
//! confidence ("黑洞是怎么形成的" as `affirm`). Two defences, for bots without their own
//! `out_of_scope` intent:
//! - [`builtin_out_of_scope`]: a bilingual set of off-topic messages (science, jokes,
//!   weather, recipes…) trained as the reserved `out_of_scope` intent, minus those close to
//!   the bot's own examples;
//! - [`ScopeDetector`] scores a message by its best TF-IDF cosine similarity to a training
//!   example (words for Latin script, characters and character pairs for Chinese, words
//!   never seen in training weighing the most), with a threshold calibrated on held-out
//!   training examples; [`ScopedClassifier`] turns messages below it into "not understood".

use crate::eval::holdout_split;
use async_trait::async_trait;
use kefu_core::{IntentClassifier, IntentScore, Language, NluError};
use std::collections::HashMap;
use std::sync::Arc;

/// The built-in off-topic messages (general knowledge, jokes, weather, recipes…).
const BUILTIN_OUT_OF_SCOPE: &str = include_str!("../data/out_of_scope.txt");
/// A built-in off-topic message this similar to one of the bot's own examples is left out:
/// it may be on topic for this bot (a weather assistant asking about rain).
const BUILTIN_MAX_SIMILARITY: f32 = 0.5;

/// Off-topic messages in `languages`, labelled `out_of_scope`, for a bot without its own
/// `out_of_scope` intent to train on; those close to the bot's `in_scope` examples are
/// left out. Texts are normalised like the engine normalises messages.
pub fn builtin_out_of_scope(languages: &[Language], in_scope: &[(String, String)]) -> Vec<(String, String)> {
    let index = ScopeDetector::index(in_scope.iter().map(|(t, _)| t.as_str()));
    BUILTIN_OUT_OF_SCOPE
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .filter(|(lang, _)| lang.parse::<Language>().is_ok_and(|l| languages.contains(&l)))
        .map(|(_, text)| kefu_core::text::normalize(text))
        .filter(|text| index.similarity(text) < BUILTIN_MAX_SIMILARITY)
        .map(|text| (text, kefu_core::bot::OUT_OF_SCOPE_INTENT.to_string()))
        .collect()
}

/// Share of held-out in-scope examples allowed below the threshold at calibration.
const CALIBRATION_PERCENTILE: f64 = 0.02;
/// The threshold is this fraction of that percentile: unseen phrasings of in-scope requests
/// are less similar than held-out training examples, which were written alike.
const THRESHOLD_FACTOR: f32 = 0.75;
/// Fewer training examples than this: no calibration, no detection.
const MIN_EXAMPLES: usize = 20;

/// Scores how close a message is to the training examples.
#[derive(Clone, Debug)]
pub struct ScopeDetector {
    /// Term → (index, idf).
    vocab: HashMap<String, (usize, f32)>,
    /// Weight of a term never seen in training.
    unseen_idf: f32,
    /// Inverted index: term index → (example, normalised weight).
    postings: Vec<Vec<(u32, f32)>>,
    /// Similarity below which a message is out of scope (0 = never).
    threshold: f32,
}

impl ScopeDetector {
    /// Indexes the in-scope examples and calibrates the threshold on a held-out 20 % of them
    /// (stratified by label, seeded).
    pub fn train(examples: &[(String, String)], seed: u64) -> Self {
        let mut detector = Self::index(examples.iter().map(|(t, _)| t.as_str()));
        if examples.len() < MIN_EXAMPLES {
            return detector;
        }
        let labels: Vec<String> = examples.iter().map(|(_, l)| l.clone()).collect();
        let (fit, held) = holdout_split(&labels, 0.2, seed);
        if held.is_empty() {
            return detector;
        }
        let partial = Self::index(fit.iter().map(|&i| examples[i].0.as_str()));
        // Held-out examples sharing no term with the rest (a lone "hey") say nothing about
        // how close in-scope phrasings come; the others set the scale.
        let mut scores: Vec<f32> =
            held.iter().map(|&i| partial.similarity(&examples[i].0)).filter(|s| *s > 0.0).collect();
        if scores.is_empty() {
            return detector;
        }
        scores.sort_by(f32::total_cmp);
        let at = ((scores.len() as f64 * CALIBRATION_PERCENTILE).floor() as usize).min(scores.len() - 1);
        detector.threshold = scores[at] * THRESHOLD_FACTOR;
        detector
    }

    fn index<'a>(texts: impl Iterator<Item = &'a str>) -> Self {
        let docs: Vec<HashMap<String, f32>> = texts.map(term_counts).collect();
        let mut vocab: HashMap<String, (usize, f32)> = HashMap::new();
        let mut df: Vec<f32> = Vec::new();
        for doc in &docs {
            for term in doc.keys() {
                let next = vocab.len();
                let (i, _) = *vocab.entry(term.clone()).or_insert((next, 0.0));
                if i == df.len() {
                    df.push(0.0);
                }
                df[i] += 1.0;
            }
        }
        let n = docs.len() as f32;
        for (i, idf) in vocab.values_mut() {
            *idf = ((n + 1.0) / (df[*i] + 1.0)).ln() + 1.0;
        }
        let mut postings = vec![Vec::new(); vocab.len()];
        for (d, doc) in docs.iter().enumerate() {
            let weights: Vec<(usize, f32)> =
                doc.iter().filter_map(|(t, tf)| vocab.get(t).map(|(i, idf)| (*i, (1.0 + tf.ln()) * idf))).collect();
            let norm = weights.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
            if norm > 0.0 {
                for (i, w) in weights {
                    postings[i].push((d as u32, w / norm));
                }
            }
        }
        Self { vocab, unseen_idf: (n + 1.0).ln() + 1.0, postings, threshold: 0.0 }
    }

    /// Best cosine similarity of `text` to a training example, in `[0, 1]`.
    pub fn similarity(&self, text: &str) -> f32 {
        let terms = term_counts(text);
        let mut norm = 0.0f32;
        let mut query: Vec<(usize, f32)> = Vec::new();
        for (t, tf) in &terms {
            match self.vocab.get(t) {
                Some((i, idf)) => {
                    let w = (1.0 + tf.ln()) * idf;
                    norm += w * w;
                    query.push((*i, w));
                }
                None => norm += ((1.0 + tf.ln()) * self.unseen_idf).powi(2),
            }
        }
        if norm == 0.0 {
            return 0.0;
        }
        let mut dots: HashMap<u32, f32> = HashMap::new();
        for (i, w) in query {
            for (d, dw) in &self.postings[i] {
                *dots.entry(*d).or_insert(0.0) += w * dw;
            }
        }
        dots.values().fold(0.0f32, |m, v| m.max(*v)) / norm.sqrt()
    }

    /// Share of the message's term weight (TF-IDF, unseen terms weighing the most) made of
    /// terms seen in training, in `[0, 1]`.
    pub fn coverage(&self, text: &str) -> f32 {
        let (mut seen, mut total) = (0.0f32, 0.0f32);
        for (t, tf) in term_counts(text) {
            let tfw = 1.0 + tf.ln();
            match self.vocab.get(&t) {
                Some((_, idf)) => {
                    seen += tfw * idf;
                    total += tfw * idf;
                }
                None => total += tfw * self.unseen_idf,
            }
        }
        if total == 0.0 {
            1.0
        } else {
            seen / total
        }
    }

    /// The calibrated threshold (0 when there were too few examples to calibrate).
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Whether `text` is further from every training example than in-scope messages are.
    /// Empty messages and messages without letters or digits are never out of scope.
    pub fn is_out_of_scope(&self, text: &str) -> bool {
        self.threshold > 0.0 && !term_counts(text).is_empty() && self.similarity(text) < self.threshold
    }
}

/// Terms of a text: lower-cased Latin words (digit runs as `#`), Chinese characters and
/// pairs of adjacent Chinese characters.
fn term_counts(text: &str) -> HashMap<String, f32> {
    let mut out: HashMap<String, f32> = HashMap::new();
    let lower = text.to_lowercase();
    let mut word = String::new();
    let mut prev_cjk: Option<char> = None;
    let flush = |word: &mut String, out: &mut HashMap<String, f32>| {
        if !word.is_empty() {
            *out.entry(format!("w:{word}")).or_insert(0.0) += 1.0;
            word.clear();
        }
    };
    for c in lower.chars() {
        if kefu_core::language::is_cjk(c) {
            flush(&mut word, &mut out);
            *out.entry(format!("c:{c}")).or_insert(0.0) += 1.0;
            if let Some(p) = prev_cjk {
                *out.entry(format!("b:{p}{c}")).or_insert(0.0) += 1.0;
            }
            prev_cjk = Some(c);
            continue;
        }
        prev_cjk = None;
        if c.is_alphanumeric() || c == '\'' {
            if c.is_ascii_digit() {
                if !word.ends_with('#') {
                    word.push('#');
                }
            } else {
                word.push(c);
            }
        } else {
            flush(&mut word, &mut out);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Wraps an intent classifier: for a message the [`ScopeDetector`] finds far from every
/// training example (gibberish, another script, a topic sharing no word with the bot), the
/// classifier's confidences are scaled down so the policy treats the turn as not understood
/// (knowledge base, then fallback) instead of trusting a softmax that must pick something.
pub struct ScopedClassifier {
    inner: Arc<dyn IntentClassifier>,
    detector: ScopeDetector,
}

impl ScopedClassifier {
    /// `inner` with out-of-scope detection by `detector`.
    pub fn new(inner: Arc<dyn IntentClassifier>, detector: ScopeDetector) -> Self {
        Self { inner, detector }
    }
}

/// Factor applied to the confidences of a message the detector finds out of scope.
const FOREIGN_CONFIDENCE_FACTOR: f32 = 0.1;

#[async_trait]
impl IntentClassifier for ScopedClassifier {
    async fn classify(&self, text: &str, language: Language, top_k: usize) -> Result<Vec<IntentScore>, NluError> {
        let mut ranking = self.inner.classify(text, language, top_k).await?;
        if self.detector.is_out_of_scope(text) {
            for s in &mut ranking {
                s.confidence *= FOREIGN_CONFIDENCE_FACTOR;
            }
        }
        Ok(ranking)
    }

    fn calibrated_threshold(&self) -> Option<f32> {
        self.inner.calibrated_threshold()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop_like() -> Vec<(String, String)> {
        let mut out = Vec::new();
        let data: [(&str, &[&str]); 4] = [
            (
                "track",
                &[
                    "我的快递到哪了",
                    "查一下物流",
                    "订单什么时候到",
                    "包裹到哪里了",
                    "where is my order",
                    "track my package",
                    "when will my parcel arrive",
                    "has my order shipped",
                ],
            ),
            (
                "refund",
                &[
                    "我要退款",
                    "钱什么时候退回来",
                    "退款进度",
                    "申请退款",
                    "i want a refund",
                    "where is my refund",
                    "refund status",
                    "give me my money back",
                ],
            ),
            ("affirm", &["是的", "对", "好的", "没错", "yes", "yeah", "correct", "sure"]),
            ("greet", &["你好", "您好", "在吗", "哈喽", "hello", "hi there", "good morning", "hey"]),
        ];
        for (label, texts) in data {
            for t in texts {
                out.push((t.to_string(), label.to_string()));
            }
        }
        out
    }

    #[test]
    fn foreign_messages_are_out_of_scope_and_paraphrases_are_not() {
        let d = ScopeDetector::train(&shop_like(), 7);
        assert!(d.threshold() > 0.0);
        // The detector only catches messages that share (almost) nothing with the training
        // data; off-topic questions in the bot's own words need the out-of-scope class.
        for off in ["宇宙大爆炸理论", "photosynthesis in green plants", "quantum chromodynamics lecture"] {
            assert!(d.is_out_of_scope(off), "{off}: similarity {} vs {}", d.similarity(off), d.threshold());
        }
        for on in ["我的包裹到哪里了", "where is my package", "退款什么时候到", "好的", "yes"] {
            assert!(!d.is_out_of_scope(on), "{on}: similarity {} vs {}", d.similarity(on), d.threshold());
        }
    }

    #[test]
    fn builtin_off_topic_examples_skip_those_close_to_the_bot() {
        let shop = shop_like();
        let both = builtin_out_of_scope(&[Language::Zh, Language::En], &shop);
        assert!(both.len() > 150, "{}", both.len());
        assert!(both.iter().all(|(_, l)| l == "out_of_scope"));
        let zh = builtin_out_of_scope(&[Language::Zh], &shop);
        assert!(zh.iter().all(|(t, _)| t.chars().any(kefu_core::language::is_cjk)));
        let weather_bot = vec![("明天会下雨吗".to_string(), "forecast".to_string())];
        assert!(!builtin_out_of_scope(&[Language::Zh], &weather_bot).iter().any(|(t, _)| t == "明天会下雨吗"));
    }

    #[test]
    fn empty_and_symbol_messages_are_never_out_of_scope_and_tiny_bots_never_detect() {
        let d = ScopeDetector::train(&shop_like(), 7);
        assert!(!d.is_out_of_scope(""));
        assert!(!d.is_out_of_scope("?!"));
        let tiny = ScopeDetector::train(&shop_like()[..5], 7);
        assert_eq!(tiny.threshold(), 0.0);
        assert!(!tiny.is_out_of_scope("黑洞是怎么形成的"));
    }
}
