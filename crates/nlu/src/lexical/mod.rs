//! Lexical intent classifier: TF-IDF over word and character n-grams, fed to a multinomial
//! logistic regression trained in pure Rust, with temperature-calibrated probabilities.
//!
//! For Latin-script training data a second logistic regression reads built-in static sub-word
//! vectors (distilled from all-MiniLM-L6-v2, see `vectors`), and the two are merged into one
//! linear scorer: still one sparse dot product per prediction, no network at run time.
//!
//! It works for Chinese (no spaces: characters and character n-grams carry the signal),
//! English (words, word bigrams and sub-word character n-grams) and mixed text.
//!
//! ```
//! use kefu_nlu::lexical::{LexicalConfig, LexicalModel, TrainingExample};
//! let ex = |t: &str, l: &str| TrainingExample { text: t.into(), label: l.into() };
//! let data = vec![ex("hello there", "greet"), ex("你好", "greet"),
//!                 ex("I want to return this", "refund"), ex("我要退货", "refund")];
//! let model = LexicalModel::train(&data, &LexicalConfig::default(), &mut |_| {}).unwrap();
//! assert_eq!(model.predict_top("退货", 1)[0].0, "refund");
//! ```

mod calibration;
mod error;
mod features;
mod logreg;
mod model_file;
pub(crate) mod normalize;
mod sparse;
mod svm;
mod tfidf;
mod vectors;

use std::cell::RefCell;

use serde::{Deserialize, Serialize};

pub use error::LexicalError;
pub use features::FeatureSpec;

use features::HashedFeatures;
use logreg::{Linear, Problem, SgdParams};
use sparse::{Csr, Rng};
use svm::SvmParams;
use tfidf::{SparseBuf, Vectorizer};
use vectors::{EmbedScratch, StaticVectors};

/// One labelled utterance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainingExample {
    /// The utterance.
    pub text: String,
    /// Its intent label.
    pub label: String,
}

/// Hyper-parameters. The defaults were chosen by 5-fold cross-validation on BANKING77's
/// training set only (`examples/eval.rs --cv 5`); they are sensible for any intent set from a
/// handful to hundreds of labels. Extra features are all off by default because they did
/// not help there (`word_pair_window`, `stem_words`, `fold_digits`, the SVM member).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LexicalConfig {
    /// Seed of every random choice (shuffling, calibration split). The same seed and data
    /// give a byte-identical saved model.
    pub seed: u64,
    /// How text is cut into n-grams.
    pub features: FeatureSpec,
    /// Drop n-grams that occur in fewer than this many training texts.
    pub min_df: u32,
    /// Weight of the (L2-normalised) word n-gram block.
    pub word_weight: f32,
    /// Weight of the (L2-normalised) character n-gram block.
    pub char_weight: f32,
    /// Weight of the (L2-normalised) word skip-pair block.
    pub pair_weight: f32,
    /// Passes of SGD over the training set.
    pub epochs: usize,
    /// Initial SGD step size (decays linearly to zero).
    pub learning_rate: f32,
    /// L2 regularisation strength (per example).
    pub l2: f32,
    /// Label smoothing of the cross-entropy targets (0 = none).
    pub label_smoothing: f32,
    /// Feature dropout rate during logistic-regression training (a data-dependent
    /// regulariser that spreads weight over redundant n-grams).
    pub dropout: f32,
    /// Average the weights over this many final epochs (0 or 1 = no averaging).
    pub average_epochs: usize,
    /// Which linear model(s) to train.
    pub classifier: Classifier,
    /// Inverse regularisation strength of the one-vs-rest SVM.
    pub svm_c: f32,
    /// Weight of the SVM in the ensemble (0 = logistic regression only, 1 = SVM only); each
    /// member's scores are first divided by its own fitted temperature.
    pub svm_weight: f32,
    /// Fraction of the training set held out (in a second, parallel training run) to fit
    /// the softmax temperature. 0 disables calibration (temperature 1).
    pub calibration_holdout: f32,
    /// Worker threads for featurisation and the calibration run (1 or 2).
    pub threads: usize,
    /// Label-shift correction: after calibration, subtract this multiple of each class's
    /// log training frequency from its (temperature-scaled) score. 0 = off (probabilities
    /// follow the training label distribution); 1 = a uniform prior over intents, right
    /// when the traffic to classify is balanced although the training set is not. It
    /// changes no feature weight. Off by default: on BANKING77 (balanced test) 1 gives
    /// +0.26 test accuracy, but on CAIS (heavily imbalanced test) it costs 16 points.
    pub prior_correction: f32,
    /// Static sub-word vectors distilled from all-MiniLM-L6-v2 (built in with the
    /// `static-vectors` feature) appended to the n-grams as one dense block. `auto` turns them
    /// on when at least a fifth of the training texts are Latin-script; a trained model stores
    /// the resolved `on`/`off`. Model files written before this option read as `off`.
    #[serde(default = "WordVectors::off")]
    pub word_vectors: WordVectors,
    /// Share of the static-vector member in the combined (temperature-scaled) scores; the
    /// n-gram model has the rest. The two are trained separately and merged into one linear
    /// scorer, so prediction costs one pass either way.
    pub vector_mix: f32,
    /// Passes of SGD of the static-vector member.
    pub vector_epochs: usize,
    /// Initial SGD step of the static-vector member.
    pub vector_learning_rate: f32,
}

/// Whether the lexical model uses the built-in static sub-word vectors.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WordVectors {
    /// On when at least a fifth of the training texts are Latin-script and the table is built in.
    Auto,
    /// Always (training fails when this build has no table).
    On,
    /// Never.
    Off,
}

impl WordVectors {
    fn off() -> Self {
        Self::Off
    }
}

impl Default for LexicalConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            features: FeatureSpec::default(),
            min_df: 1,
            word_weight: 1.0,
            char_weight: 1.0,
            pair_weight: 0.5,
            epochs: 15,
            learning_rate: 4.0,
            l2: 1e-5,
            label_smoothing: 0.0,
            average_epochs: 0,
            dropout: 0.6,
            classifier: Classifier::LogReg,
            svm_c: 1.0,
            svm_weight: 0.5,
            calibration_holdout: 0.15,
            threads: 2,
            prior_correction: 0.0,
            word_vectors: WordVectors::Auto,
            vector_mix: 0.35,
            vector_epochs: 15,
            vector_learning_rate: 1.0,
        }
    }
}

impl LexicalConfig {
    fn block_weights(&self) -> [f32; 3] {
        [self.word_weight, self.char_weight, self.pair_weight]
    }

    fn validate(&self) -> Result<(), LexicalError> {
        let bad = |m: &str| Err(LexicalError::InvalidConfig(m.to_string()));
        self.features.validate().map_err(LexicalError::InvalidConfig)?;
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad("learning_rate must be positive");
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return bad("l2 must be >= 0");
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return bad("label_smoothing must be in [0, 1)");
        }
        if !(0.0..0.95).contains(&self.dropout) {
            return bad("dropout must be in [0, 0.95)");
        }
        if !(0.0..=2.0).contains(&self.prior_correction) {
            return bad("prior_correction must be in [0, 2]");
        }
        if !(0.0..0.9).contains(&self.calibration_holdout) {
            return bad("calibration_holdout must be in [0, 0.9)");
        }
        if !(0.0..=1.0).contains(&self.vector_mix) {
            return bad("vector_mix must be in [0, 1]");
        }
        if !(self.vector_learning_rate.is_finite() && self.vector_learning_rate > 0.0) {
            return bad("vector_learning_rate must be positive");
        }
        if !self.block_weights().iter().all(|w| w.is_finite() && *w >= 0.0) {
            return bad("block weights must be >= 0");
        }
        Ok(())
    }
}

/// The linear model(s) behind the scores.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Classifier {
    /// Multinomial logistic regression only.
    LogReg,
    /// One-vs-rest squared-hinge linear SVM only.
    Svm,
    /// Both, with their calibrated scores averaged (weight `svm_weight`).
    Ensemble,
}

/// Reported once per training epoch.
#[derive(Clone, Debug)]
pub struct TrainProgress {
    /// Epoch just finished (1-based).
    pub epoch: usize,
    /// Total number of epochs.
    pub epochs: usize,
    /// Mean training cross-entropy over the epoch.
    pub loss: f32,
}

/// A trained classifier. Cheap to query from many threads (`&self` only).
#[derive(Debug, Clone)]
pub struct LexicalModel {
    config: LexicalConfig,
    labels: Vec<String>,
    vectorizer: Vectorizer,
    linear: Linear,
    temperature: f32,
    /// The static vector table when `config.word_vectors` is `On`.
    vectors: Option<&'static StaticVectors>,
    /// With vectors: how to score a text that has none (no known sub-word, e.g. Chinese or
    /// a bare order number) — the n-gram members alone, with their own temperature.
    plain: Option<PlainHead>,
}

/// The n-gram-only scorer hidden in a merged model: `W_lex·x = (s - merged bias) · inv_share`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PlainHead {
    /// Inverse of the n-gram members' factor in the merged weights.
    pub inv_share: f32,
    /// Bias of the n-gram members.
    pub bias: Vec<f32>,
    /// Their fitted temperature.
    pub temperature: f32,
}

/// Per-thread buffers for prediction, so a prediction allocates only its result.
#[derive(Default)]
struct Scratch {
    chars: Vec<char>,
    feats: HashedFeatures,
    sparse: SparseBuf,
    idx: Vec<u32>,
    val: Vec<f32>,
    scores: Vec<f32>,
    embed: EmbedScratch,
    dense: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn featurize(spec: &FeatureSpec, text: &str, chars: &mut Vec<char>, out: &mut HashedFeatures) {
    normalize::normalize_into(text, spec.fold_digits, chars);
    spec.extract(chars, out);
}

fn featurize_all(spec: &FeatureSpec, texts: &[&str], threads: usize) -> Vec<HashedFeatures> {
    let run = |part: &[&str]| {
        let mut chars = Vec::new();
        part.iter()
            .map(|t| {
                let mut f = HashedFeatures::default();
                featurize(spec, t, &mut chars, &mut f);
                f
            })
            .collect::<Vec<_>>()
    };
    if threads < 2 || texts.len() < 256 {
        return run(texts);
    }
    let (a, b) = texts.split_at(texts.len() / 2);
    std::thread::scope(|s| {
        let h = s.spawn(|| run(b));
        let mut first = run(a);
        match h.join() {
            Ok(second) => first.extend(second),
            Err(_) => first.extend(run(b)),
        }
        first
    })
}

/// Stratified split: returns (train rows, held-out rows). Every class keeps at least one
/// example on the training side.
fn stratified_split(y: &[u32], k: usize, frac: f32, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &c) in y.iter().enumerate() {
        by_class[c as usize].push(i);
    }
    let mut rng = Rng::new(seed ^ 0x5EED_CA11_B4A7_1000);
    let (mut tr, mut ho) = (Vec::new(), Vec::new());
    for rows in &mut by_class {
        rng.shuffle(rows);
        let n_ho = ((rows.len() as f32) * frac).round() as usize;
        let n_ho = n_ho.min(rows.len().saturating_sub(1));
        ho.extend_from_slice(&rows[..n_ho]);
        tr.extend_from_slice(&rows[n_ho..]);
    }
    tr.sort_unstable();
    ho.sort_unstable();
    (tr, ho)
}

impl LexicalModel {
    /// Trains a model. `progress` is called once per epoch of the main training run.
    ///
    /// Labels are indexed in sorted order. A single label is allowed (it then always gets
    /// probability 1).
    pub fn train(
        examples: &[TrainingExample],
        config: &LexicalConfig,
        progress: &mut dyn FnMut(TrainProgress),
    ) -> Result<Self, LexicalError> {
        if examples.is_empty() {
            return Err(LexicalError::NoExamples);
        }
        config.validate()?;
        if let Some(index) = examples.iter().position(|e| e.label.trim().is_empty()) {
            return Err(LexicalError::EmptyLabel { index });
        }
        let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
        labels.sort_unstable();
        labels.dedup();
        let k = labels.len();
        let y: Vec<u32> = examples
            .iter()
            .map(|e| labels.binary_search(&e.label).map(|i| i as u32))
            .collect::<Result<_, _>>()
            .map_err(|_| LexicalError::InvalidConfig("label lookup failed".into()))?;

        let threads = config.threads.clamp(1, 2);
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        let mut config = config.clone();
        let vectors = resolve_vectors(&mut config, &texts)?;
        let config = &config;
        let docs = featurize_all(&config.features, &texts, threads);
        let vectorizer = Vectorizer::fit(&docs, config.min_df.max(1), config.block_weights());
        let dense = vectors.map(|v| (v, 1.0));
        let x = build_matrix(&vectorizer, &docs, &texts, dense, threads);
        drop(docs);

        let nf = vectorizer.len() + vectors.map_or(0, |v| v.dim());
        let all_rows: Vec<usize> = (0..examples.len()).collect();
        let trainer = Trainer { x: &x, dense_from: vectorizer.len() as u32, y: &y, nf, k, config };
        let epochs = if config.classifier == Classifier::Svm { 1 } else { config.epochs };
        let mut report = |e: usize, loss: f32| progress(TrainProgress { epoch: e + 1, epochs, loss });

        let calibrate = config.calibration_holdout > 0.0 && k > 1 && examples.len() >= 20;
        let (full, temps) = if calibrate {
            let (tr, ho) = stratified_split(&y, k, config.calibration_holdout, config.seed);
            let calib = || trainer.fit_temperatures(&tr, &ho);
            if threads >= 2 {
                std::thread::scope(|s| {
                    let h = s.spawn(calib);
                    let m = trainer.fit(&all_rows, 1, &mut report);
                    let t = h.join().unwrap_or_else(|_| calib());
                    (m, t)
                })
            } else {
                let t = calib();
                (trainer.fit(&all_rows, 1, &mut report), t)
            }
        } else {
            let m = trainer.fit(&all_rows, threads, &mut report);
            (m, Temperatures { lr: 1.0, svm: 1.0, lexical: 1.0, dense: 1.0, combined: 1.0 })
        };
        let mut plain = full.plain_head(&temps, config);
        let mut linear = full.merge(&temps, config);
        if config.prior_correction > 0.0 {
            // Scores are divided by the temperature at prediction time, so the correction
            // is multiplied by it here.
            let mut counts = vec![0usize; k];
            for &c in &y {
                counts[c as usize] += 1;
            }
            let n = y.len() as f32;
            for (b, &c) in linear.b.iter_mut().zip(&counts) {
                *b -= config.prior_correction * temps.combined * (c as f32 / n).ln();
            }
            if let Some(p) = plain.as_mut() {
                for (b, &c) in p.bias.iter_mut().zip(&counts) {
                    *b -= config.prior_correction * p.temperature * (c as f32 / n).ln();
                }
            }
        }
        let temperature = temps.combined;

        Ok(Self { config: config.clone(), labels, vectorizer, linear, temperature, vectors, plain })
    }

    /// Ranked `(label index, probability)` pairs, most likely first. The probabilities are
    /// the temperature-calibrated softmax of the class scores and sum to 1. An empty or
    /// meaningless text yields the prior-like distribution given by the biases.
    pub fn predict(&self, text: &str) -> Vec<(usize, f32)> {
        let run = |s: &mut Scratch| {
            self.probabilities_into(text, s);
            let mut out: Vec<(usize, f32)> = s.scores.iter().copied().enumerate().collect();
            out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            out
        };
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => run(&mut s),
            Err(_) => run(&mut Scratch::default()),
        })
    }

    /// The `k` most likely labels with their probabilities, most likely first.
    pub fn predict_top(&self, text: &str, k: usize) -> Vec<(&str, f32)> {
        let mut ranked = self.predict(text);
        ranked.truncate(k);
        ranked.into_iter().map(|(i, p)| (self.labels[i].as_str(), p)).collect()
    }

    /// The label names, indexed as in [`LexicalModel::predict`].
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The configuration the model was trained with.
    pub fn config(&self) -> &LexicalConfig {
        &self.config
    }

    /// The fitted softmax temperature (1 = uncalibrated).
    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    /// Number of n-gram features in the vocabulary.
    pub fn n_features(&self) -> usize {
        self.vectorizer.len()
    }

    /// Whether the model uses the built-in static sub-word vectors.
    pub fn uses_word_vectors(&self) -> bool {
        self.vectors.is_some()
    }

    /// Writes the model in the binary format described in the `model_file` module.
    pub fn save(&self, w: &mut dyn std::io::Write) -> Result<(), LexicalError> {
        model_file::save(self, w)
    }

    /// Reads a model written by [`LexicalModel::save`]. Checks the magic bytes, the format
    /// version, sizes and a checksum; never panics on bad input.
    pub fn load(r: &mut dyn std::io::Read) -> Result<Self, LexicalError> {
        model_file::load(r)
    }

    fn probabilities_into(&self, text: &str, s: &mut Scratch) {
        featurize(&self.config.features, text, &mut s.chars, &mut s.feats);
        s.idx.clear();
        s.val.clear();
        self.vectorizer.transform(&s.feats, &mut s.sparse, &mut s.idx, &mut s.val);
        let has_vector = match self.vectors {
            Some(v) => append_dense(v, 1.0, self.vectorizer.len(), text, s),
            None => false,
        };
        s.scores.clear();
        s.scores.resize(self.linear.k, 0.0);
        self.linear.scores(&s.idx, &s.val, &mut s.scores);
        match &self.plain {
            Some(p) if !has_vector => {
                let inv_t = 1.0 / p.temperature;
                for ((v, &mb), &pb) in s.scores.iter_mut().zip(&self.linear.b).zip(&p.bias) {
                    *v = ((*v - mb) * p.inv_share + pb) * inv_t;
                }
            }
            _ => {
                let inv_t = 1.0 / self.temperature;
                s.scores.iter_mut().for_each(|v| *v *= inv_t);
            }
        }
        logreg::softmax_in_place(&mut s.scores);
    }
}

/// Models fitted on one set of rows.
struct Members {
    lr: Option<Linear>,
    svm: Option<Linear>,
    /// Logistic regression on the static-vector block only.
    dense: Option<Linear>,
}

/// Fitted temperatures of the members and of their combination.
#[derive(Debug, Clone, Copy)]
struct Temperatures {
    lr: f32,
    svm: f32,
    /// Of the merged n-gram members.
    lexical: f32,
    dense: f32,
    combined: f32,
}

impl Members {
    /// Combines the members into one linear scorer: `(1-β)·s_lr/T_lr + β·s_svm/T_svm`.
    fn merge(self, t: &Temperatures, config: &LexicalConfig) -> Linear {
        let lexical = Self::merge_lexical(self.lr, self.svm, t, config);
        match self.dense {
            None => lexical,
            Some(dense) => {
                let g = config.vector_mix;
                blend(lexical, (1.0 - g) / t.lexical, &dense, g / t.dense)
            }
        }
    }

    /// The n-gram-only head of the merged model (see [`PlainHead`]); `None` without vectors.
    fn plain_head(&self, t: &Temperatures, config: &LexicalConfig) -> Option<PlainHead> {
        self.dense.as_ref()?;
        let lexical = Self::merge_lexical(self.lr.clone(), self.svm.clone(), t, config);
        let share = (1.0 - config.vector_mix) / t.lexical;
        (share > 0.0).then(|| PlainHead { inv_share: 1.0 / share, bias: lexical.b, temperature: t.lexical })
    }

    fn merge_lexical(lr: Option<Linear>, svm: Option<Linear>, t: &Temperatures, config: &LexicalConfig) -> Linear {
        let beta = config.svm_weight.clamp(0.0, 1.0);
        match (lr, svm) {
            (Some(mut lr), Some(svm)) => {
                let (a, b) = ((1.0 - beta) / t.lr, beta / t.svm);
                for (w, &v) in lr.w.iter_mut().zip(&svm.w) {
                    *w = a * *w + b * v;
                }
                for (w, &v) in lr.b.iter_mut().zip(&svm.b) {
                    *w = a * *w + b * v;
                }
                lr
            }
            (Some(m), None) | (None, Some(m)) => m,
            (None, None) => Linear::zeros(0, 1),
        }
    }
}

/// `a·x + b·y`, element-wise over weights and biases (same shapes).
fn blend(mut x: Linear, a: f32, y: &Linear, b: f32) -> Linear {
    for (w, &v) in x.w.iter_mut().zip(&y.w) {
        *w = a * *w + b * v;
    }
    for (w, &v) in x.b.iter_mut().zip(&y.b) {
        *w = a * *w + b * v;
    }
    x
}

/// Shared inputs of the training runs.
struct Trainer<'a> {
    x: &'a Csr,
    /// First feature index of the dense static-vector block (`nf` when there is none).
    dense_from: u32,
    y: &'a [u32],
    nf: usize,
    k: usize,
    config: &'a LexicalConfig,
}

impl Trainer<'_> {
    fn problem<'r>(&'r self, rows: &'r [usize]) -> Problem<'r> {
        Problem { x: self.x, y: self.y, rows, n_features: self.nf, k: self.k }
    }

    fn fit(&self, rows: &[usize], threads: usize, progress: &mut dyn FnMut(usize, f32)) -> Members {
        let c = self.config;
        let lr = matches!(c.classifier, Classifier::LogReg | Classifier::Ensemble).then(|| {
            let params = SgdParams {
                epochs: c.epochs,
                learning_rate: c.learning_rate,
                l2: c.l2,
                label_smoothing: c.label_smoothing,
                average_epochs: c.average_epochs,
                dropout: c.dropout,
                features: 0..self.dense_from,
            };
            logreg::train(&self.problem(rows), &params, c.seed, progress)
        });
        let dense = (self.dense_from as usize) < self.nf;
        let dense = dense.then(|| {
            let params = SgdParams {
                epochs: c.vector_epochs,
                learning_rate: c.vector_learning_rate,
                l2: c.l2,
                label_smoothing: 0.0,
                average_epochs: 0,
                dropout: 0.0,
                features: self.dense_from..self.nf as u32,
            };
            logreg::train(&self.problem(rows), &params, c.seed ^ 0xDE45E, &mut |_, _| {})
        });
        let svm = matches!(c.classifier, Classifier::Svm | Classifier::Ensemble).then(|| {
            let params = SvmParams { c: c.svm_c, eps: 0.1, max_passes: 200 };
            let m = svm::train(&self.problem(rows), &params, c.seed, threads);
            if c.classifier == Classifier::Svm {
                progress(0, 0.0);
            }
            m
        });
        Members { lr, svm, dense }
    }

    fn holdout_scores(&self, m: &Linear, ho: &[usize]) -> Vec<f32> {
        let k = self.k;
        let mut scores = vec![0.0f32; ho.len() * k];
        for (out, &r) in scores.chunks_exact_mut(k).zip(ho) {
            let (idx, val) = self.x.row(r);
            m.scores(idx, val, out);
        }
        scores
    }

    /// Trains the members on `tr` and fits their temperatures on `ho`.
    fn fit_temperatures(&self, tr: &[usize], ho: &[usize]) -> Temperatures {
        let members = self.fit(tr, 1, &mut |_, _| {});
        let hy: Vec<u32> = ho.iter().map(|&r| self.y[r]).collect();
        let k = self.k;
        let mut t = Temperatures { lr: 1.0, svm: 1.0, lexical: 1.0, dense: 1.0, combined: 1.0 };
        if let Some(m) = &members.lr {
            t.lr = calibration::fit_temperature(&self.holdout_scores(m, ho), k, &hy);
        }
        if let Some(m) = &members.svm {
            t.svm = calibration::fit_temperature(&self.holdout_scores(m, ho), k, &hy);
        }
        if let Some(dense) = &members.dense {
            t.dense = calibration::fit_temperature(&self.holdout_scores(dense, ho), k, &hy);
            let lexical = Members::merge_lexical(members.lr.clone(), members.svm.clone(), &t, self.config);
            t.lexical = calibration::fit_temperature(&self.holdout_scores(&lexical, ho), k, &hy);
        }
        // The combined temperature is for texts that have a vector; the others use the
        // n-gram members' own.
        let with_vector: Vec<usize> = match members.dense {
            Some(_) => {
                ho.iter().copied().filter(|&r| self.x.row(r).0.last().is_some_and(|&f| f >= self.dense_from)).collect()
            }
            None => ho.to_vec(),
        };
        let vy: Vec<u32> = with_vector.iter().map(|&r| self.y[r]).collect();
        let merged = members.merge(&t, self.config);
        if !with_vector.is_empty() {
            t.combined = calibration::fit_temperature(&self.holdout_scores(&merged, &with_vector), k, &vy);
        }
        t
    }
}

/// Resolves `word_vectors: auto` against the training texts; returns the table when on.
fn resolve_vectors(config: &mut LexicalConfig, texts: &[&str]) -> Result<Option<&'static StaticVectors>, LexicalError> {
    let latin_share = || texts.iter().filter(|t| vectors::is_latin_text(t)).count() as f32 / texts.len().max(1) as f32;
    let want = match config.word_vectors {
        WordVectors::Off => false,
        WordVectors::On => true,
        WordVectors::Auto => config.vector_mix > 0.0 && StaticVectors::builtin().is_some() && latin_share() >= 0.2,
    };
    config.word_vectors = if want { WordVectors::On } else { WordVectors::Off };
    if !want {
        return Ok(None);
    }
    match StaticVectors::builtin() {
        Some(table) => table.map(Some),
        None => Err(LexicalError::InvalidConfig(
            "word_vectors: on, but this build has no static vectors (feature `static-vectors`)".into(),
        )),
    }
}

/// Appends the text's static-vector block (feature indices `offset..offset + dim`); false
/// when the text has no vector.
fn append_dense(v: &StaticVectors, weight: f32, offset: usize, text: &str, s: &mut Scratch) -> bool {
    s.dense.resize(v.dim(), 0.0);
    if !v.embed_into(text, weight, &mut s.embed, &mut s.dense) {
        return false;
    }
    for (j, &x) in s.dense.iter().enumerate() {
        s.idx.push((offset + j) as u32);
        s.val.push(x);
    }
    true
}

fn build_matrix(
    v: &Vectorizer,
    docs: &[HashedFeatures],
    texts: &[&str],
    dense: Option<(&StaticVectors, f32)>,
    threads: usize,
) -> Csr {
    let run = |part: &[HashedFeatures], part_texts: &[&str]| {
        let mut m = Csr::new();
        let mut buf = SparseBuf::default();
        let mut s = Scratch::default();
        for (d, text) in part.iter().zip(part_texts) {
            v.transform(d, &mut buf, &mut m.idx, &mut m.val);
            if let Some((table, weight)) = dense {
                s.idx.clear();
                s.val.clear();
                append_dense(table, weight, v.len(), text, &mut s);
                m.idx.extend_from_slice(&s.idx);
                m.val.extend_from_slice(&s.val);
            }
            m.end_row();
        }
        m
    };
    if threads < 2 || docs.len() < 256 {
        return run(docs, texts);
    }
    let half = docs.len() / 2;
    let ((a, b), (ta, tb)) = (docs.split_at(half), texts.split_at(half));
    std::thread::scope(|s| {
        let h = s.spawn(|| run(b, tb));
        let mut first = run(a, ta);
        let second = h.join().unwrap_or_else(|_| run(b, tb));
        first.append(&second);
        first
    })
}

#[cfg(test)]
mod tests;
