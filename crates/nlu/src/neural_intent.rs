//! Neural and fused intent models (feature `neural`).
//!
//! * [`NeuralIntentModel`]: a [`SentenceEncoder`] plus a [`DenseClassifier`] (multinomial
//!   logistic regression) trained on the encoder's embeddings of the training examples.
//! * [`FusedIntentModel`]: the lexical model ([`LexicalIntentClassifier`]) and a neural model,
//!   their probabilities combined by [`crate::dense::fuse`] (weighted geometric mean). The
//!   fusion weight is chosen on a stratified held-out split of the *training* data (both
//!   members are trained on the rest, scored on the held-out part, and the weight with the
//!   best held-out accuracy wins), then both members are retrained on all of it.
//!
//! Everything trained on embeddings records the encoder's [`SentenceEncoder::model_id`] and
//! refuses ([`NeuralIntentError::EncoderMismatch`]) to run with another encoder. Training is
//! deterministic for a seed (the encoder itself is deterministic on the CPU).
//!
//! **Languages.** An encoder covers some languages only (all-MiniLM-L6-v2: English;
//! BGE-small-zh: Chinese). A fused model has one dense member per encoder
//! ([`LanguageEncoder`]: an encoder and its languages), each with its own head and fusion
//! weight. A message goes to the first member whose languages include its detected language
//! ([`kefu_core::detect_language`]); a message in no member's language is answered by the
//! lexical model alone and is not embedded at all. [`FusedIntentModel::train`] is the
//! one-encoder case ([`FusedConfig::encoder_languages`], default `[en]`).

use crate::dense::{fuse, DenseClassifier, DenseConfig, DenseError};
use crate::intent_model::LexicalIntentClassifier;
use crate::lexical::{LexicalConfig, TrainProgress};
use crate::neural::{EncoderError, SentenceEncoder};
use async_trait::async_trait;
use kefu_core::nlu::{IntentClassifier, IntentScore, NluError};
use kefu_core::{detect_language, Language};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Format tag of the neural head file.
const NEURAL_FORMAT: &str = "kefu-neural-intent";
/// Format tag of the fused model's side file.
const FUSED_FORMAT: &str = "kefu-fused-intent";
/// Version of the neural head's JSON layout.
pub const NEURAL_FILE_VERSION: u32 = 1;
/// File names inside a fused model folder.
pub const FUSED_LEXICAL_FILE: &str = "lexical.bin";
/// The fused model's JSON file (per encoder: fusion weight, languages, neural head).
pub const FUSED_FILE: &str = "fused.json";
/// Fewest held-out examples (in the encoder's languages) a fusion weight is chosen on; with
/// fewer the fused model uses its lexical member only.
pub const MIN_WEIGHT_EXAMPLES: usize = 50;
/// Texts embedded per call while training (progress granularity).
const EMBED_CHUNK: usize = 256;

/// Everything that can go wrong with a neural or fused intent model.
#[derive(Debug, thiserror::Error)]
pub enum NeuralIntentError {
    /// The model was trained on another encoder's embeddings.
    #[error("intent model was trained with encoder `{expected}`, but the encoder given is `{found}`; retrain it with this encoder or load the original one")]
    EncoderMismatch {
        /// `model_id` recorded in the model.
        expected: String,
        /// `model_id` of the encoder given.
        found: String,
    },
    /// The encoder failed.
    #[error(transparent)]
    Encoder(#[from] EncoderError),
    /// Training the dense head failed.
    #[error("dense intent head: {0}")]
    Dense(#[from] DenseError),
    /// The lexical member failed (training, loading).
    #[error(transparent)]
    Lexical(#[from] crate::Error),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A model file is not what it should be.
    #[error("model file {}: {reason}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}

impl From<NeuralIntentError> for NluError {
    fn from(e: NeuralIntentError) -> Self {
        NluError::Failed(e.to_string())
    }
}

/// The dense-head hyper-parameters tuned for all-MiniLM-L6-v2 on a held-out 20 % of
/// BANKING77's training set (see `benches/intents/neural.md`).
pub fn tuned_dense_config() -> DenseConfig {
    DenseConfig { seed: 0, epochs: 30, learning_rate: 0.01, l2: 1e-5, batch_size: 64, class_balance: 0.0 }
}

/// Training stage reported to the progress callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Embedding the training texts (`done` / `total` texts).
    Embedding,
    /// Training a dense head (`done` / `total` epochs).
    Dense,
    /// Training a lexical model (`done` / `total` epochs).
    Lexical,
}

/// Progress of a training run: stage, units done, units in total.
pub type Progress<'a> = &'a mut dyn FnMut(Stage, usize, usize);

/// Embeds `texts` in chunks, reporting progress.
pub fn embed_all(
    encoder: &SentenceEncoder,
    texts: &[&str],
    progress: Progress<'_>,
) -> Result<Vec<Vec<f32>>, NeuralIntentError> {
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(EMBED_CHUNK) {
        out.extend(encoder.embed(chunk)?);
        progress(Stage::Embedding, out.len(), texts.len());
    }
    Ok(out)
}

pub use crate::eval::holdout_split;

/// What a neural head records: the encoder it was trained on, its hyper-parameters and
/// weights. Serialised as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeuralHead {
    /// Format tag.
    pub format: String,
    /// [`NEURAL_FILE_VERSION`].
    pub version: u32,
    /// [`SentenceEncoder::model_id`] of the encoder whose embeddings it was trained on.
    pub encoder_id: String,
    /// Hyper-parameters it was trained with.
    pub config: DenseConfig,
    /// The classifier.
    pub classifier: DenseClassifier,
}

/// Encoder + dense linear head.
#[derive(Clone)]
pub struct NeuralIntentModel {
    encoder: Arc<SentenceEncoder>,
    head: NeuralHead,
}

impl std::fmt::Debug for NeuralIntentModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NeuralIntentModel")
            .field("encoder_id", &self.head.encoder_id)
            .field("labels", &self.head.classifier.labels().len())
            .finish()
    }
}

fn check_encoder(encoder: &SentenceEncoder, expected: &str) -> Result<(), NeuralIntentError> {
    if encoder.model_id() != expected {
        return Err(NeuralIntentError::EncoderMismatch {
            expected: expected.to_string(),
            found: encoder.model_id().to_string(),
        });
    }
    Ok(())
}

impl NeuralIntentModel {
    /// Embeds the examples and trains the head on them.
    pub fn train(
        encoder: Arc<SentenceEncoder>,
        examples: &[(String, String)],
        config: &DenseConfig,
        progress: Progress<'_>,
    ) -> Result<Self, NeuralIntentError> {
        let texts: Vec<&str> = examples.iter().map(|(t, _)| t.as_str()).collect();
        let x = embed_all(&encoder, &texts, progress)?;
        let y: Vec<String> = examples.iter().map(|(_, l)| l.clone()).collect();
        Self::train_on_embeddings(encoder, &x, &y, config, progress)
    }

    /// Trains the head on embeddings already computed by `encoder`.
    pub fn train_on_embeddings(
        encoder: Arc<SentenceEncoder>,
        x: &[Vec<f32>],
        y: &[String],
        config: &DenseConfig,
        progress: Progress<'_>,
    ) -> Result<Self, NeuralIntentError> {
        let epochs = config.epochs.max(1);
        let classifier = DenseClassifier::train(x, y, config, &mut |e, _| progress(Stage::Dense, e, epochs))?;
        let head = NeuralHead {
            format: NEURAL_FORMAT.into(),
            version: NEURAL_FILE_VERSION,
            encoder_id: encoder.model_id().to_string(),
            config: config.clone(),
            classifier,
        };
        Ok(Self { encoder, head })
    }

    /// Joins an encoder and a head; refuses a head trained on another encoder.
    pub fn from_parts(encoder: Arc<SentenceEncoder>, head: NeuralHead) -> Result<Self, NeuralIntentError> {
        check_encoder(&encoder, &head.encoder_id)?;
        if head.classifier.dim() != encoder.dim() {
            return Err(NeuralIntentError::EncoderMismatch {
                expected: format!("{} ({} dimensions)", head.encoder_id, head.classifier.dim()),
                found: format!("{} ({} dimensions)", encoder.model_id(), encoder.dim()),
            });
        }
        Ok(Self { encoder, head })
    }

    /// The head (what is saved).
    pub fn head(&self) -> &NeuralHead {
        &self.head
    }

    /// The encoder.
    pub fn encoder(&self) -> &Arc<SentenceEncoder> {
        &self.encoder
    }

    /// The intents it knows, sorted.
    pub fn labels(&self) -> &[String] {
        self.head.classifier.labels()
    }

    /// Probability of every label for an embedding, in [`Self::labels`] order.
    pub fn distribution_of_embedding(&self, embedding: &[f32]) -> Vec<(String, f32)> {
        self.labels().iter().cloned().zip(self.head.classifier.probabilities(embedding)).collect()
    }

    /// Probability of every label for a text (embeds it).
    pub fn distribution(&self, text: &str) -> Result<Vec<(String, f32)>, NeuralIntentError> {
        Ok(self.distribution_of_embedding(&self.encoder.embed_one(text)?))
    }

    /// Ranked intents (at most `k`).
    pub fn rank(&self, text: &str, k: usize) -> Result<Vec<IntentScore>, NeuralIntentError> {
        Ok(to_ranked(self.distribution(text)?, k))
    }

    /// Writes the head as JSON.
    pub fn save(&self, path: &Path) -> Result<(), NeuralIntentError> {
        write_json(path, &self.head)
    }

    /// Reads a head written by [`Self::save`] and joins it to `encoder` (which must be the one
    /// it was trained on).
    pub fn load(path: &Path, encoder: Arc<SentenceEncoder>) -> Result<Self, NeuralIntentError> {
        let head: NeuralHead = read_json(path)?;
        if head.format != NEURAL_FORMAT || head.version != NEURAL_FILE_VERSION {
            return Err(NeuralIntentError::BadFile {
                path: path.to_path_buf(),
                reason: format!(
                    "format {} v{} is not {NEURAL_FORMAT} v{NEURAL_FILE_VERSION}",
                    head.format, head.version
                ),
            });
        }
        Self::from_parts(encoder, head)
    }
}

fn to_ranked(mut dist: Vec<(String, f32)>, k: usize) -> Vec<IntentScore> {
    dist.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    dist.truncate(k);
    dist.into_iter().map(|(name, confidence)| IntentScore { name, confidence }).collect()
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), NeuralIntentError> {
    let io = |source| NeuralIntentError::Io { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let bytes = serde_json::to_vec(value).map_err(|e| io(std::io::Error::other(e)))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, NeuralIntentError> {
    let bytes = std::fs::read(path).map_err(|source| NeuralIntentError::Io { path: path.to_path_buf(), source })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| NeuralIntentError::BadFile { path: path.to_path_buf(), reason: e.to_string() })
}

#[async_trait]
impl IntentClassifier for NeuralIntentModel {
    async fn classify(&self, text: &str, _language: Language, top_k: usize) -> Result<Vec<IntentScore>, NluError> {
        Ok(self.rank(text, top_k)?)
    }
}

/// How a fused model is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FusedConfig {
    /// The lexical member.
    pub lexical: LexicalConfig,
    /// The dense head.
    pub dense: DenseConfig,
    /// Fixed weight of the dense member in [0, 1]; `None`: chosen on a held-out split.
    pub dense_weight: Option<f32>,
    /// Share of the training data held out to choose the weight.
    pub holdout: f32,
    /// Seed of the held-out split.
    pub seed: u64,
    /// Step of the weight grid (0, step, 2·step, …, 1).
    pub weight_step: f32,
    /// Languages the encoder understands; messages in other languages use the lexical
    /// member only. Empty: every language goes through the encoder.
    pub encoder_languages: Vec<Language>,
    /// Keep the training embeddings after training, for
    /// [`FusedIntentModel::top_with_familiarity`] (memory: examples × dimensions floats).
    pub keep_embeddings: bool,
}

impl Default for FusedConfig {
    fn default() -> Self {
        Self {
            lexical: LexicalConfig::default(),
            dense: tuned_dense_config(),
            dense_weight: None,
            holdout: 0.2,
            seed: 0,
            weight_step: 0.05,
            encoder_languages: vec![Language::En],
            keep_embeddings: false,
        }
    }
}

/// How the fusion weight was chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightChoice {
    /// The weight chosen.
    pub dense_weight: f32,
    /// Held-out examples the choice was made on (those in the encoder's languages).
    pub examples: usize,
    /// Held-out accuracy at each weight of the grid: `(weight, accuracy)`.
    pub curve: Vec<(f32, f64)>,
}

/// Picks the dense weight that maximises accuracy of `fuse(lexical, dense, w)` against
/// `truth` over the grid `0, step, …, 1`; ties go to the higher mean log-probability of the
/// true label, then to the smaller weight.
pub fn choose_dense_weight(
    lexical: &[Vec<(String, f32)>],
    dense: &[Vec<(String, f32)>],
    truth: &[String],
    step: f32,
) -> WeightChoice {
    let steps = (1.0 / step.clamp(0.001, 1.0)).round() as usize;
    let mut curve = Vec::with_capacity(steps + 1);
    let mut best: Option<(f32, f64, f64)> = None;
    for s in 0..=steps {
        let w = s as f32 / steps as f32;
        let (mut correct, mut loglik) = (0usize, 0.0f64);
        for ((l, d), t) in lexical.iter().zip(dense).zip(truth) {
            let f = fuse(l, d, w);
            if f.first().is_some_and(|(name, _)| name == t) {
                correct += 1;
            }
            let p = f.iter().find(|(name, _)| name == t).map_or(1e-6, |(_, p)| *p);
            loglik += f64::from(p.max(1e-6)).ln();
        }
        let n = truth.len().max(1) as f64;
        let acc = correct as f64 / n;
        curve.push((w, acc));
        let ll = loglik / n;
        if best.is_none_or(|(_, ba, bl)| acc > ba || (acc == ba && ll > bl)) {
            best = Some((w, acc, ll));
        }
    }
    WeightChoice { dense_weight: best.map_or(0.0, |b| b.0), examples: truth.len(), curve }
}

/// One sentence encoder and the languages it is used for.
#[derive(Clone, Debug)]
pub struct LanguageEncoder {
    /// Languages whose messages go through this encoder; empty = every language.
    pub languages: Vec<Language>,
    /// The encoder.
    pub encoder: Arc<SentenceEncoder>,
}

impl LanguageEncoder {
    /// `encoder` for `languages` (empty = every language).
    pub fn new(languages: Vec<Language>, encoder: Arc<SentenceEncoder>) -> Self {
        Self { languages, encoder }
    }
}

/// What a fused model records about one of its dense members.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenseMemberParams {
    /// [`SentenceEncoder::model_id`] of the member's encoder (also recorded in its head).
    pub encoder_id: String,
    /// Languages the member answers (empty = every language).
    pub languages: Vec<Language>,
    /// Weight of the member in [`crate::dense::fuse`] for those languages.
    pub dense_weight: f32,
    /// How the weight was chosen (absent when it was fixed by the configuration).
    pub weight_choice: Option<WeightChoice>,
    /// The head (absent when no training example was in the member's languages).
    pub neural: Option<NeuralHead>,
}

/// What a fused model records besides its lexical member (`fused.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FusedParams {
    /// Format tag.
    pub format: String,
    /// [`FUSED_FILE_VERSION`].
    pub version: u32,
    /// One dense member per encoder, in the order languages are matched.
    pub members: Vec<DenseMemberParams>,
    /// Fingerprint of the lexical member it was trained with (ties `lexical.bin` to this file).
    pub lexical_fingerprint: String,
    /// The confidence threshold chosen on the training data
    /// ([`crate::eval::calibrate_bot_threshold`]), when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibrated_threshold: Option<f32>,
}

/// Version of `fused.json` (2: one dense member per encoder).
pub const FUSED_FILE_VERSION: u32 = 2;

/// Lexical model + one neural model per encoder, with score fusion per language.
pub struct FusedIntentModel {
    lexical: LexicalIntentClassifier,
    neural: Vec<Option<NeuralIntentModel>>,
    params: FusedParams,
    /// Per member, the training embeddings and their intents (with
    /// [`FusedConfig::keep_embeddings`]; not saved).
    memory: Vec<Vec<(String, Vec<f32>)>>,
}

impl std::fmt::Debug for FusedIntentModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let members: Vec<_> =
            self.params.members.iter().map(|m| (&m.encoder_id, &m.languages, m.dense_weight)).collect();
        f.debug_struct("FusedIntentModel").field("members", &members).finish()
    }
}

fn lexical_distribution(model: &LexicalIntentClassifier, text: &str) -> Vec<(String, f32)> {
    model.rank(text, usize::MAX).into_iter().map(|s| (s.name, s.confidence)).collect()
}

/// The first member whose languages include `language` (every language when empty).
fn member_for<'a>(mut members: impl Iterator<Item = &'a [Language]>, language: Language) -> Option<usize> {
    members.position(|langs| langs.is_empty() || langs.contains(&language))
}

impl FusedIntentModel {
    /// Trains the lexical member and one neural member for `encoder` (used for
    /// [`FusedConfig::encoder_languages`]); see [`Self::train_multi`].
    pub fn train(
        encoder: Arc<SentenceEncoder>,
        examples: &[(String, String)],
        config: &FusedConfig,
        progress: Progress<'_>,
    ) -> Result<Self, NeuralIntentError> {
        let member = LanguageEncoder::new(config.encoder_languages.clone(), encoder);
        Self::train_multi(&[member], examples, config, progress)
    }

    /// Trains the lexical member and one neural member per encoder, and chooses each member's
    /// fusion weight on a held-out split of `examples` (the member's languages only) unless the
    /// configuration fixes it. A text belongs to the first encoder whose languages include its
    /// detected language; texts of no encoder's language are lexical only.
    /// [`FusedConfig::encoder_languages`] is ignored here. `examples` should be normalised.
    pub fn train_multi(
        encoders: &[LanguageEncoder],
        examples: &[(String, String)],
        config: &FusedConfig,
        progress: Progress<'_>,
    ) -> Result<Self, NeuralIntentError> {
        if !(0.0..0.9).contains(&config.holdout) {
            return Err(NeuralIntentError::InvalidConfig("holdout must be in [0, 0.9)".into()));
        }
        if let Some(w) = config.dense_weight.filter(|w| !(0.0..=1.0).contains(w)) {
            return Err(NeuralIntentError::InvalidConfig(format!("dense_weight {w} is not in [0, 1]")));
        }
        let texts: Vec<&str> = examples.iter().map(|(t, _)| t.as_str()).collect();
        let y: Vec<String> = examples.iter().map(|(_, l)| l.clone()).collect();
        // Which member embeds each text (None: lexical only).
        let owner: Vec<Option<usize>> = texts
            .iter()
            .map(|t| {
                member_for(
                    encoders.iter().map(|e| e.languages.as_slice()),
                    detect_language(t, &Language::ALL, Language::En),
                )
            })
            .collect();
        let mut x: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for (m, member) in encoders.iter().enumerate() {
            let rows: Vec<usize> = (0..texts.len()).filter(|&i| owner[i] == Some(m)).collect();
            let member_texts: Vec<&str> = rows.iter().map(|&i| texts[i]).collect();
            for (i, v) in rows.iter().zip(embed_all(&member.encoder, &member_texts, progress)?) {
                x[*i] = Some(v);
            }
        }
        type Members = (LexicalIntentClassifier, Vec<Option<NeuralIntentModel>>);
        let train_members = |rows: &[usize],
                             p: &mut dyn FnMut(Stage, usize, usize)|
         -> Result<Members, NeuralIntentError> {
            let lex_examples: Vec<(String, String)> = rows.iter().map(|&i| examples[i].clone()).collect();
            let lexical = LexicalIntentClassifier::train(&lex_examples, &config.lexical, &mut |t: TrainProgress| {
                p(Stage::Lexical, t.epoch, t.epochs)
            })?;
            let mut neural = Vec::with_capacity(encoders.len());
            for (m, member) in encoders.iter().enumerate() {
                let (dx, dy): (Vec<Vec<f32>>, Vec<String>) = rows
                    .iter()
                    .filter(|&&i| owner[i] == Some(m))
                    .filter_map(|&i| x[i].clone().map(|v| (v, y[i].clone())))
                    .unzip();
                neural.push(if dx.is_empty() {
                    None
                } else {
                    Some(NeuralIntentModel::train_on_embeddings(member.encoder.clone(), &dx, &dy, &config.dense, p)?)
                });
            }
            Ok((lexical, neural))
        };

        let choices: Vec<Option<WeightChoice>> = match config.dense_weight {
            Some(_) => vec![None; encoders.len()],
            None if config.holdout > 0.0 => {
                let (tr, ho) = holdout_split(&y, config.holdout, config.seed);
                let (lexical, neural) = train_members(&tr, progress)?;
                (0..encoders.len())
                    .map(|m| {
                        let (mut ld, mut dd, mut truth) = (Vec::new(), Vec::new(), Vec::new());
                        if let Some(head) = &neural[m] {
                            for &i in ho.iter().filter(|&&i| owner[i] == Some(m)) {
                                if let Some(v) = x[i].as_deref() {
                                    ld.push(lexical_distribution(&lexical, texts[i]));
                                    dd.push(head.distribution_of_embedding(v));
                                    truth.push(y[i].clone());
                                }
                            }
                        }
                        Some(choose_dense_weight(&ld, &dd, &truth, config.weight_step))
                    })
                    .collect()
            }
            None => vec![None; encoders.len()],
        };
        let all: Vec<usize> = (0..examples.len()).collect();
        let (lexical, neural) = train_members(&all, progress)?;
        let members = encoders
            .iter()
            .zip(&neural)
            .zip(choices)
            .map(|((member, head), choice)| {
                // Too few held-out examples in the member's languages to trust a weight (or to
                // have trained a useful head): lexical only for those languages.
                let dense_weight = config
                    .dense_weight
                    .or(choice.as_ref().map(|c| if c.examples >= MIN_WEIGHT_EXAMPLES { c.dense_weight } else { 0.0 }))
                    .unwrap_or(0.5);
                DenseMemberParams {
                    encoder_id: member.encoder.model_id().to_string(),
                    languages: member.languages.clone(),
                    dense_weight,
                    weight_choice: choice,
                    neural: head.as_ref().map(|n| n.head.clone()),
                }
            })
            .collect();
        let params = FusedParams {
            format: FUSED_FORMAT.into(),
            version: FUSED_FILE_VERSION,
            members,
            lexical_fingerprint: lexical.header().fingerprint.clone(),
            calibrated_threshold: None,
        };
        let memory = (0..encoders.len())
            .map(|m| {
                (0..texts.len())
                    .filter(|&i| config.keep_embeddings && owner[i] == Some(m))
                    .filter_map(|i| x[i].clone().map(|v| (y[i].clone(), v)))
                    .collect()
            })
            .collect();
        Ok(Self { lexical, neural, params, memory })
    }

    /// What it records besides the lexical member.
    pub fn params(&self) -> &FusedParams {
        &self.params
    }

    /// Records the confidence threshold chosen for this model (saved with it).
    pub fn set_calibrated_threshold(&mut self, threshold: Option<f32>) {
        self.params.calibrated_threshold = threshold;
    }

    /// The lexical member.
    pub fn lexical(&self) -> &LexicalIntentClassifier {
        &self.lexical
    }

    /// The neural member of the `index`-th encoder (absent when no training example was in
    /// its languages).
    pub fn neural(&self, index: usize) -> Option<&NeuralIntentModel> {
        self.neural.get(index).and_then(Option::as_ref)
    }

    /// The intents it knows (union of all members), sorted.
    pub fn labels(&self) -> Vec<String> {
        let mut l: Vec<String> = self.lexical.labels().to_vec();
        for n in self.neural.iter().flatten() {
            l.extend(n.labels().iter().cloned());
        }
        l.sort();
        l.dedup();
        l
    }

    /// The member (index) that answers a message in `language`, if any.
    pub fn member_for_language(&self, language: Language) -> Option<usize> {
        member_for(self.params.members.iter().map(|m| m.languages.as_slice()), language)
    }

    /// Fused probability of every label; `language` `None` = detect it.
    pub fn distribution(
        &self,
        text: &str,
        language: Option<Language>,
    ) -> Result<Vec<(String, f32)>, NeuralIntentError> {
        let language = language.unwrap_or_else(|| detect_language(text, &Language::ALL, Language::En));
        let lexical = lexical_distribution(&self.lexical, text);
        let Some(m) = self.member_for_language(language) else { return Ok(lexical) };
        let weight = self.params.members[m].dense_weight;
        match self.neural(m) {
            Some(neural) if weight > 0.0 => Ok(fuse(&lexical, &neural.distribution(text)?, weight)),
            _ => Ok(lexical),
        }
    }

    /// Ranked intents (at most `k`); the language is detected.
    pub fn rank(&self, text: &str, k: usize) -> Result<Vec<IntentScore>, NeuralIntentError> {
        Ok(to_ranked(self.distribution(text, None)?, k))
    }

    /// Writes `dir/lexical.bin` and `dir/fused.json`.
    pub fn save(&self, dir: &Path) -> Result<(), NeuralIntentError> {
        self.lexical.save(&dir.join(FUSED_LEXICAL_FILE))?;
        write_json(&dir.join(FUSED_FILE), &self.params)
    }

    /// Reads a folder written by [`Self::save`] for a model with one encoder.
    pub fn load(dir: &Path, encoder: Arc<SentenceEncoder>) -> Result<Self, NeuralIntentError> {
        let path = dir.join(FUSED_FILE);
        let params: FusedParams = read_json(&path)?;
        let languages = params.members.first().map(|m| m.languages.clone()).unwrap_or_default();
        Self::load_multi(dir, &[LanguageEncoder::new(languages, encoder)])
    }

    /// Reads a folder written by [`Self::save`]; `encoders` must be the ones it was trained
    /// with, for the same languages, in the same order.
    pub fn load_multi(dir: &Path, encoders: &[LanguageEncoder]) -> Result<Self, NeuralIntentError> {
        let path = dir.join(FUSED_FILE);
        let params: FusedParams = read_json(&path)?;
        let bad = |reason: String| NeuralIntentError::BadFile { path: path.clone(), reason };
        if params.format != FUSED_FORMAT || params.version != FUSED_FILE_VERSION {
            return Err(bad(format!(
                "format {} v{} is not {FUSED_FORMAT} v{FUSED_FILE_VERSION}",
                params.format, params.version
            )));
        }
        if params.members.len() != encoders.len() {
            return Err(bad(format!("trained with {} encoder(s), {} given", params.members.len(), encoders.len())));
        }
        let mut neural = Vec::with_capacity(encoders.len());
        for (member, given) in params.members.iter().zip(encoders) {
            if member.neural.as_ref().is_some_and(|n| n.encoder_id != member.encoder_id) {
                return Err(bad("a dense member and its head name different encoders".into()));
            }
            if member.languages != given.languages {
                return Err(bad(format!(
                    "encoder `{}` was trained for {:?}, given for {:?}",
                    member.encoder_id, member.languages, given.languages
                )));
            }
            check_encoder(&given.encoder, &member.encoder_id)?;
            neural.push(
                member.neural.clone().map(|h| NeuralIntentModel::from_parts(given.encoder.clone(), h)).transpose()?,
            );
        }
        let lexical = LexicalIntentClassifier::load(&dir.join(FUSED_LEXICAL_FILE))?;
        if lexical.header().fingerprint != params.lexical_fingerprint {
            return Err(bad(format!("{FUSED_LEXICAL_FILE} is not the lexical model this fusion was trained with")));
        }
        let memory = vec![Vec::new(); encoders.len()];
        Ok(Self { lexical, neural, params, memory })
    }

    /// The top intent with its fused probability multiplied by the cosine between the message
    /// and the nearest training example of that intent (in the encoder of the message's
    /// language): an out-of-scope score. Only for a model trained in this process with
    /// [`FusedConfig::keep_embeddings`] (the embeddings are not saved); otherwise, and for
    /// languages without an encoder, the plain probability.
    pub fn top_with_familiarity(&self, text: &str) -> Result<Option<(String, f32)>, NeuralIntentError> {
        let language = detect_language(text, &Language::ALL, Language::En);
        let lexical = lexical_distribution(&self.lexical, text);
        let Some(m) = self.member_for_language(language) else {
            return Ok(to_ranked(lexical, 1).into_iter().next().map(|s| (s.name, s.confidence)));
        };
        let weight = self.params.members[m].dense_weight;
        let (Some(neural), Some(memory)) = (self.neural(m), self.memory.get(m).filter(|v| !v.is_empty())) else {
            return Ok(to_ranked(self.distribution(text, Some(language))?, 1)
                .into_iter()
                .next()
                .map(|s| (s.name, s.confidence)));
        };
        let embedding = neural.encoder.embed_one(text)?;
        let fused = fuse(&lexical, &neural.distribution_of_embedding(&embedding), weight);
        let Some(top) = to_ranked(fused, 1).into_iter().next() else { return Ok(None) };
        let nearest = memory
            .iter()
            .filter(|(label, _)| *label == top.name)
            .map(|(_, v)| v.iter().zip(&embedding).map(|(a, b)| a * b).sum::<f32>())
            .fold(0.0f32, f32::max);
        Ok(Some((top.name, top.confidence * nearest.max(0.0))))
    }
}

/// A fused model evaluated with [`FusedIntentModel::top_with_familiarity`] as its confidence.
pub struct FamiliarityScored(pub FusedIntentModel);

impl crate::eval::EvalModel for FamiliarityScored {
    type Error = NeuralIntentError;
    fn labels(&self) -> Vec<String> {
        self.0.labels()
    }
    fn top(&self, text: &str) -> Result<Option<(String, f32)>, NeuralIntentError> {
        self.0.top_with_familiarity(text)
    }
    fn clear_caches(&self) {
        crate::eval::EvalModel::clear_caches(&self.0);
    }
}

#[async_trait]
impl IntentClassifier for FusedIntentModel {
    async fn classify(&self, text: &str, language: Language, top_k: usize) -> Result<Vec<IntentScore>, NluError> {
        Ok(to_ranked(self.distribution(text, Some(language))?, top_k))
    }

    fn calibrated_threshold(&self) -> Option<f32> {
        self.params.calibrated_threshold
    }
}

impl crate::eval::EvalModel for NeuralIntentModel {
    type Error = NeuralIntentError;
    fn labels(&self) -> Vec<String> {
        NeuralIntentModel::labels(self).to_vec()
    }
    fn top(&self, text: &str) -> Result<Option<(String, f32)>, NeuralIntentError> {
        Ok(self.rank(text, 1)?.into_iter().next().map(|s| (s.name, s.confidence)))
    }
    fn clear_caches(&self) {
        self.encoder.clear_cache();
    }
}

impl crate::eval::EvalModel for FusedIntentModel {
    type Error = NeuralIntentError;
    fn labels(&self) -> Vec<String> {
        FusedIntentModel::labels(self)
    }
    fn top(&self, text: &str) -> Result<Option<(String, f32)>, NeuralIntentError> {
        Ok(self.rank(text, 1)?.into_iter().next().map(|s| (s.name, s.confidence)))
    }
    fn clear_caches(&self) {
        for n in self.neural.iter().flatten() {
            n.encoder.clear_cache();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_and_deterministic() {
        let labels: Vec<String> = (0..100).map(|i| format!("l{}", i % 4)).collect();
        let (tr, ho) = holdout_split(&labels, 0.2, 3);
        assert_eq!((tr.len(), ho.len()), (80, 20));
        assert_eq!(holdout_split(&labels, 0.2, 3), (tr.clone(), ho.clone()));
        assert_ne!(holdout_split(&labels, 0.2, 4).1, ho);
        for l in 0..4 {
            assert_eq!(ho.iter().filter(|&&i| labels[i] == format!("l{l}")).count(), 5);
        }
        let one = vec!["a".to_string()];
        assert_eq!(holdout_split(&one, 0.2, 0), (vec![0], vec![]));
    }

    #[test]
    fn weight_choice_prefers_the_member_that_is_right() {
        let d = |a: f32| vec![("a".to_string(), a), ("b".to_string(), 1.0 - a)];
        let truth = vec!["a".to_string(), "b".to_string(), "a".to_string()];
        // Lexical is wrong on example 2, dense right everywhere.
        let lex = vec![d(0.9), d(0.8), d(0.9)];
        let den = vec![d(0.7), d(0.1), d(0.8)];
        let c = choose_dense_weight(&lex, &den, &truth, 0.1);
        assert_eq!(c.curve.len(), 11);
        assert!(c.dense_weight >= 0.5, "{c:?}");
        assert_eq!(c.curve.iter().find(|(w, _)| *w == c.dense_weight).map(|x| x.1), Some(1.0));
        assert!(choose_dense_weight(&lex, &lex, &truth, 0.1).dense_weight <= 0.1);
    }

    #[test]
    fn language_picks_the_first_matching_encoder() {
        let en: &[Language] = &[Language::En];
        let zh: &[Language] = &[Language::Zh];
        assert_eq!(member_for([en, zh].into_iter(), Language::Zh), Some(1));
        assert_eq!(member_for([en].into_iter(), Language::Zh), None);
        assert_eq!(member_for([&[][..], en].into_iter(), Language::En), Some(0), "empty = every language");
    }

    /// Needs the all-MiniLM-L6-v2 folder in `KEFU_MINILM_DIR` (as `tests/neural_minilm.rs`):
    /// training is deterministic, a saved fused model round-trips, another encoder is refused
    /// and Chinese falls back to the lexical member.
    #[test]
    fn fused_model_records_its_encoder() {
        let Some(dir) = std::env::var_os("KEFU_MINILM_DIR").map(PathBuf::from) else {
            panic!("KEFU_MINILM_DIR is not set (the all-MiniLM-L6-v2 folder; see scripts/test)");
        };
        let load = |name: Option<&str>| {
            let options = crate::neural::EncoderOptions { name: name.map(String::from), ..Default::default() };
            Arc::new(SentenceEncoder::load_with(&dir, crate::neural::Device::Cpu, options).unwrap())
        };
        let (encoder, other) = (load(None), load(Some("another-encoder")));
        assert_ne!(encoder.model_id(), other.model_id());
        let examples: Vec<(String, String)> = [
            ("where is my parcel", "track"),
            ("my package has not arrived", "track"),
            ("when will my order be delivered", "track"),
            ("track my shipment", "track"),
            ("快递到哪了", "track"),
            ("I want my money back", "refund"),
            ("please refund my purchase", "refund"),
            ("how do I get a refund", "refund"),
            ("return the item for a refund", "refund"),
            ("我要退款", "refund"),
        ]
        .iter()
        .map(|(t, l)| (t.to_string(), l.to_string()))
        .collect();
        let config = FusedConfig { holdout: 0.4, keep_embeddings: true, ..Default::default() };
        let a = FusedIntentModel::train(encoder.clone(), &examples, &config, &mut |_, _, _| {}).unwrap();
        let b = FusedIntentModel::train(encoder.clone(), &examples, &config, &mut |_, _, _| {}).unwrap();
        assert_eq!(a.params(), b.params(), "deterministic for a seed");
        assert_eq!(a.rank("where is my delivery", 1).unwrap()[0].name, "track");
        let lexical_only = lexical_distribution(a.lexical(), "退款");
        assert_eq!(a.distribution("退款", None).unwrap(), lexical_only, "zh is not embedded");

        let tmp = std::env::temp_dir().join(format!("kefu-fused-test-{}", std::process::id()));
        a.save(&tmp).unwrap();
        let back = FusedIntentModel::load(&tmp, encoder.clone()).unwrap();
        assert_eq!(back.rank("refund please", 2).unwrap(), a.rank("refund please", 2).unwrap());
        // Familiarity: the probability scaled by the nearest training example's cosine — an
        // exact training sentence keeps its probability, an unrelated one loses most of it.
        let top = a.rank("track my shipment", 1).unwrap().remove(0);
        let (name, familiar) = a.top_with_familiarity("track my shipment").unwrap().unwrap();
        assert_eq!(name, top.name);
        assert!((familiar - top.confidence).abs() < 1e-3, "{familiar} vs {}", top.confidence);
        let stranger = a.top_with_familiarity("the capital of france is paris").unwrap().unwrap();
        let plain = a.rank("the capital of france is paris", 1).unwrap().remove(0);
        assert!(stranger.1 < plain.confidence * 0.6, "{stranger:?} vs {plain:?}");
        // A loaded model has no training embeddings: the plain probability.
        let loaded = back.top_with_familiarity("the capital of france is paris").unwrap().unwrap();
        assert!((loaded.1 - plain.confidence).abs() < 1e-5);
        let refused = FusedIntentModel::load(&tmp, other.clone());
        assert!(matches!(refused, Err(NeuralIntentError::EncoderMismatch { .. })), "{refused:?}");
        let neural = a.neural(0).unwrap();
        neural.save(&tmp.join("neural.json")).unwrap();
        assert!(NeuralIntentModel::load(&tmp.join("neural.json"), encoder).is_ok());
        let refused = NeuralIntentModel::load(&tmp.join("neural.json"), other);
        assert!(matches!(refused, Err(NeuralIntentError::EncoderMismatch { .. })));
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
