//! [`SentenceEncoder`]: tokenizer + BERT + mean or CLS pooling + L2 normalisation.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};

use super::bert::{Bert, Needed};
use tokenizers::{Tokenizer, TruncationParams};

use super::cache::{cache_key, CacheStats, EmbeddingCache};
use super::error::{candle_message, is_shape_error, EncoderError};
use super::model_id::{hash_optional_file, hash_safetensors, Fnv64};

/// The files a model folder must hold.
pub const CONFIG_FILE: &str = "config.json";
/// The Hugging Face tokenizer file.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The weights.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Optional: sentence-transformers' settings (its `max_seq_length` is honoured).
pub const SBERT_CONFIG_FILE: &str = "sentence_bert_config.json";
/// Optional: sentence-transformers' pooling settings (mean or CLS pooling; absent = mean).
pub const POOLING_CONFIG_FILE: &str = "1_Pooling/config.json";

/// Tunables of a [`SentenceEncoder`]; [`Default`] suits a 2-core CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderOptions {
    /// Most sentences run through the model at once (≥ 1). Sentences are sorted by token
    /// length first and each batch is padded only to its own longest member. Default 32.
    pub batch_size: usize,
    /// Most embeddings kept in the LRU cache; 0 disables it. Default 10 000 (≈ 15 MiB at
    /// 384 dimensions).
    pub cache_capacity: usize,
    /// Longest input in tokens (special tokens included); longer inputs are truncated. `None`:
    /// `max_seq_length` of `sentence_bert_config.json`, else the truncation of
    /// `tokenizer.json`, else `max_position_embeddings` — never more than the latter.
    pub max_seq_length: Option<usize>,
    /// Name used in [`SentenceEncoder::model_id`]; `None`: the model folder's name.
    pub name: Option<String>,
    /// Which implementation of the network runs. Default [`EncoderEngine::Kefu`].
    pub engine: EncoderEngine,
}

/// The implementation of the BERT forward pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EncoderEngine {
    /// Kefu's own forward pass (`neural::bert`): fused query/key/value projection, fused
    /// bias/GELU/layer-norm CPU kernels, no mask without padding, and with CLS pooling a last
    /// layer for the first token only. The same vectors as the reference within float rounding.
    #[default]
    Kefu,
    /// candle-transformers' `BertModel`, kept as the reference to compare with.
    CandleTransformers,
}

enum Network {
    Kefu(Bert),
    CandleTransformers(BertModel),
}

impl Default for EncoderOptions {
    fn default() -> Self {
        Self { batch_size: 32, cache_capacity: 10_000, max_seq_length: None, name: None, engine: EncoderEngine::Kefu }
    }
}

/// A BERT-family sentence encoder: the embedding of a text is the mean of the model's last
/// hidden states over the attention mask, L2-normalised — the same computation as a
/// sentence-transformers model made of `Transformer → Pooling(mean) → Normalize`
/// (e.g. all-MiniLM-L6-v2).
///
/// Safe to share between threads (`&self` everywhere); the embedding cache is internal.
pub struct SentenceEncoder {
    network: Network,
    tokenizer: Tokenizer,
    device: Device,
    dim: usize,
    max_seq_length: usize,
    pad_id: u32,
    pooling: Pooling,
    batch_size: usize,
    model_id: String,
    dir: PathBuf,
    cache: EmbeddingCache,
}

impl std::fmt::Debug for SentenceEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentenceEncoder")
            .field("model_id", &self.model_id)
            .field("dir", &self.dir)
            .field("dim", &self.dim)
            .field("max_seq_length", &self.max_seq_length)
            .field("batch_size", &self.batch_size)
            .field("device", &self.device.location())
            .field("cache", &self.cache.stats())
            .finish()
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, EncoderError> {
    std::fs::read(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            EncoderError::MissingFile { path: path.to_path_buf() }
        } else {
            EncoderError::Io { path: path.to_path_buf(), source }
        }
    })
}

fn bad_config(path: &Path, reason: impl Into<String>) -> EncoderError {
    EncoderError::BadConfig { path: path.to_path_buf(), reason: reason.into() }
}

/// Reads an optional JSON side file: `Ok(None)` when absent.
fn read_optional_json(path: &Path) -> Result<Option<serde_json::Value>, EncoderError> {
    match read_file(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| bad_config(path, e.to_string())),
        Err(EncoderError::MissingFile { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Parses and checks `config.json`.
fn load_config(path: &Path) -> Result<(BertConfig, serde_json::Value), EncoderError> {
    let bytes = read_file(path)?;
    let raw: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| bad_config(path, e.to_string()))?;
    if let Some(model_type) = raw.get("model_type").and_then(|v| v.as_str()) {
        if model_type != "bert" {
            return Err(bad_config(
                path,
                format!("model_type `{model_type}` is not supported (BERT family only: model_type \"bert\")"),
            ));
        }
    }
    let config: BertConfig = serde_json::from_value(raw.clone()).map_err(|e| bad_config(path, e.to_string()))?;
    if config.hidden_size == 0
        || config.num_attention_heads == 0
        || !config.hidden_size.is_multiple_of(config.num_attention_heads)
    {
        return Err(bad_config(
            path,
            format!(
                "hidden_size {} is not a positive multiple of num_attention_heads {}",
                config.hidden_size, config.num_attention_heads
            ),
        ));
    }
    if config.vocab_size == 0 || config.max_position_embeddings < 2 || config.type_vocab_size == 0 {
        return Err(bad_config(path, "vocab_size, max_position_embeddings and type_vocab_size must be positive"));
    }
    Ok((config, raw))
}

/// How token vectors become one sentence vector (sentence-transformers' `1_Pooling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Mean over the attention mask (all-MiniLM-L6-v2; the default without `1_Pooling`).
    Mean,
    /// The first token's (`[CLS]`) vector (BGE).
    Cls,
}

/// Reads sentence-transformers' pooling (mean or CLS; absent = mean).
fn read_pooling(dir: &Path) -> Result<Pooling, EncoderError> {
    let path = dir.join(POOLING_CONFIG_FILE);
    let Some(pooling) = read_optional_json(&path)? else { return Ok(Pooling::Mean) };
    let flag = |name: &str| pooling.get(name).and_then(|v| v.as_bool()).unwrap_or(false);
    let unsupported = [
        "pooling_mode_max_tokens",
        "pooling_mode_mean_sqrt_len_tokens",
        "pooling_mode_weightedmean_tokens",
        "pooling_mode_lasttoken",
    ];
    match (flag("pooling_mode_mean_tokens"), flag("pooling_mode_cls_token")) {
        _ if unsupported.iter().any(|m| flag(m)) => {}
        (true, false) => return Ok(Pooling::Mean),
        (false, true) => return Ok(Pooling::Cls),
        _ => {}
    }
    Err(bad_config(
        &path,
        "only mean pooling (`pooling_mode_mean_tokens`) or CLS pooling (`pooling_mode_cls_token`), one of them alone, is supported",
    ))
}

fn weights_error(path: &Path, e: &candle_core::Error) -> EncoderError {
    let reason = candle_message(e);
    if is_shape_error(e) {
        EncoderError::ShapeMismatch { reason: format!("{} does not match config.json: {reason}", path.display()) }
    } else {
        EncoderError::BadWeights { path: path.to_path_buf(), reason }
    }
}

fn inference(e: candle_core::Error) -> EncoderError {
    EncoderError::Inference(candle_message(&e))
}

impl SentenceEncoder {
    /// Loads the model folder `dir` (Hugging Face layout: `config.json`, `tokenizer.json`,
    /// `model.safetensors`, optionally sentence-transformers' `sentence_bert_config.json` and
    /// `1_Pooling/config.json`) onto `device` with [`EncoderOptions::default`].
    pub fn load(dir: &Path, device: Device) -> Result<Self, EncoderError> {
        Self::load_with(dir, device, EncoderOptions::default())
    }

    /// [`SentenceEncoder::load`] with explicit options.
    pub fn load_with(dir: &Path, device: Device, options: EncoderOptions) -> Result<Self, EncoderError> {
        if !dir.is_dir() {
            return Err(EncoderError::MissingFile { path: dir.to_path_buf() });
        }
        if options.batch_size == 0 {
            return Err(bad_config(dir, "batch_size must be at least 1"));
        }
        if device.is_cpu() {
            super::threads::warn_once_if_unset();
        }
        let config_path = dir.join(CONFIG_FILE);
        let tokenizer_path = dir.join(TOKENIZER_FILE);
        let weights_path = dir.join(WEIGHTS_FILE);
        // Report every missing required file by its own path before parsing anything.
        for p in [&config_path, &tokenizer_path, &weights_path] {
            if !p.is_file() {
                return Err(EncoderError::MissingFile { path: p.clone() });
            }
        }

        let (config, _raw) = load_config(&config_path)?;
        let pooling = read_pooling(dir)?;
        let sbert_path = dir.join(SBERT_CONFIG_FILE);
        let sbert = read_optional_json(&sbert_path)?;
        let sbert_max = match sbert.as_ref().and_then(|v| v.get("max_seq_length")) {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| bad_config(&sbert_path, "max_seq_length is not a non-negative integer"))?,
            ),
        };

        // Tokenizer: no padding (batches are padded here, to their own longest member), and
        // truncation at the model's maximum length.
        let tokenizer_bytes = read_file(&tokenizer_path)?;
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer_bytes)
            .map_err(|e| EncoderError::Tokenizer { path: Some(tokenizer_path.clone()), reason: e.to_string() })?;
        let max_seq_length = options
            .max_seq_length
            .or(sbert_max)
            .or_else(|| tokenizer.get_truncation().map(|t| t.max_length))
            .unwrap_or(config.max_position_embeddings)
            .min(config.max_position_embeddings);
        if max_seq_length < 2 {
            return Err(bad_config(&config_path, format!("max_seq_length {max_seq_length} leaves no room for text")));
        }
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: max_seq_length, ..Default::default() }))
            .map_err(|e| EncoderError::Tokenizer { path: Some(tokenizer_path.clone()), reason: e.to_string() })?;
        let tokenizer_vocab = tokenizer.get_vocab_size(true);
        if tokenizer_vocab > config.vocab_size {
            return Err(EncoderError::ShapeMismatch {
                reason: format!(
                    "tokenizer.json has {tokenizer_vocab} tokens but config.json's vocab_size is {}",
                    config.vocab_size
                ),
            });
        }
        let pad_id = u32::try_from(config.pad_token_id).unwrap_or(0);

        // Weights: read once (no mmap: the workspace forbids unsafe code), fingerprint, load.
        let weights = read_file(&weights_path)?;
        let mut hash = Fnv64::new();
        hash.section("kefu-neural-id-v1", b"");
        hash.section(CONFIG_FILE, &read_file(&config_path)?);
        hash.section(TOKENIZER_FILE, &tokenizer_bytes);
        hash_optional_file(&mut hash, dir, SBERT_CONFIG_FILE);
        hash_optional_file(&mut hash, dir, POOLING_CONFIG_FILE);
        hash_safetensors(&mut hash, &weights);
        let name = options.name.clone().unwrap_or_else(|| folder_name(dir));
        let model_id = format!("{name}@{:016x}", hash.finish());

        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| weights_error(&weights_path, &e))?;
        let network = match options.engine {
            EncoderEngine::Kefu => {
                Network::Kefu(Bert::load(vb, &config).map_err(|e| weights_error(&weights_path, &e))?)
            }
            EncoderEngine::CandleTransformers => {
                Network::CandleTransformers(BertModel::load(vb, &config).map_err(|e| weights_error(&weights_path, &e))?)
            }
        };

        Ok(Self {
            network,
            tokenizer,
            device,
            dim: config.hidden_size,
            max_seq_length,
            pad_id,
            pooling,
            batch_size: options.batch_size,
            model_id,
            dir: dir.to_path_buf(),
            cache: EmbeddingCache::new(options.cache_capacity),
        })
    }

    /// Length of every embedding (the model's hidden size, 384 for MiniLM-L6).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `name@hash`: the folder name (or [`EncoderOptions::name`]) and a 64-bit FNV-1a
    /// fingerprint of the configuration, the tokenizer and a sample of the weights (see
    /// `neural::model_id`'s documentation). Equal ids mean the same encoder.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// The folder the model was loaded from.
    pub fn model_dir(&self) -> &Path {
        &self.dir
    }

    /// How token vectors are pooled into the sentence vector.
    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// Longest input in tokens; longer texts are truncated.
    pub fn max_seq_length(&self) -> usize {
        self.max_seq_length
    }

    /// Most sentences per forward pass.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Changes the batch size (values below 1 count as 1).
    pub fn set_batch_size(&mut self, batch_size: usize) {
        self.batch_size = batch_size.max(1);
    }

    /// The device the model runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Cache hits, misses and size.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Empties the embedding cache.
    pub fn clear_cache(&self) {
        self.cache.clear();
    }

    /// Number of tokens (special tokens included, after truncation) the model sees for `text`.
    pub fn token_count(&self, text: &str) -> Result<usize, EncoderError> {
        Ok(self.tokenize(&cache_key(text))?.0.len())
    }

    fn tokenize(&self, text: &str) -> Result<(Vec<u32>, Vec<u32>), EncoderError> {
        let enc = self
            .tokenizer
            .encode_fast(text, true)
            .map_err(|e| EncoderError::Tokenizer { path: None, reason: e.to_string() })?;
        Ok((enc.get_ids().to_vec(), enc.get_type_ids().to_vec()))
    }

    /// The embedding of one text.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, EncoderError> {
        let mut out = self.embed(&[text])?;
        out.pop().ok_or_else(|| EncoderError::Inference("no embedding returned".into()))
    }

    /// Embeds `texts` (unit-length vectors of [`SentenceEncoder::dim`] floats, in input order).
    ///
    /// Texts are keyed by [`super::cache_key`] (whitespace collapsed) and the key is what gets
    /// embedded; cached keys are answered without the model, duplicate keys run once, and the
    /// rest are sorted by token length and run in batches of [`SentenceEncoder::batch_size`],
    /// each padded only to its own longest member.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncoderError> {
        let keys: Vec<String> = texts.iter().map(|t| cache_key(t)).collect();
        let mut found: Vec<Option<Arc<[f32]>>> = Vec::with_capacity(keys.len());
        // Unique keys that must be computed, and the token ids of each.
        let mut todo: Vec<(String, Vec<u32>, Vec<u32>)> = Vec::new();
        let mut todo_index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for key in &keys {
            if todo_index.contains_key(key.as_str()) {
                found.push(None);
                continue;
            }
            match self.cache.get(key) {
                Some(v) => found.push(Some(v)),
                None => {
                    let (ids, types) = self.tokenize(key)?;
                    todo_index.insert(key.as_str(), todo.len());
                    todo.push((key.clone(), ids, types));
                    found.push(None);
                }
            }
        }

        let mut computed: Vec<Option<Arc<[f32]>>> = vec![None; todo.len()];
        let mut order: Vec<usize> = (0..todo.len()).collect();
        // Longest first: the biggest batch shapes are met (and allocated) early.
        order.sort_by(|&a, &b| todo[b].1.len().cmp(&todo[a].1.len()).then(a.cmp(&b)));
        for chunk in order.chunks(self.batch_size) {
            let batch: Vec<(&[u32], &[u32])> =
                chunk.iter().map(|&i| (todo[i].1.as_slice(), todo[i].2.as_slice())).collect();
            // ~10 ms of CPU per sentence: keep a multi-threaded tokio runtime's other tasks moving.
            let vectors = kefu_core::run_cpu_bound(|| self.forward_batch(&batch))?;
            for (&i, v) in chunk.iter().zip(vectors) {
                computed[i] = Some(Arc::from(v));
            }
        }
        for ((key, _, _), v) in todo.iter().zip(&computed) {
            if let Some(v) = v {
                self.cache.insert(key.clone(), Arc::clone(v));
            }
        }

        keys.iter()
            .zip(found)
            .map(|(key, hit)| {
                let v = match hit {
                    Some(v) => Some(v),
                    None => todo_index.get(key.as_str()).and_then(|&i| computed[i].clone()),
                };
                v.map(|v| v.to_vec())
                    .ok_or_else(|| EncoderError::Inference(format!("no embedding computed for {key:?}")))
            })
            .collect()
    }

    /// One forward pass: pads to the longest member, runs BERT, pools (mean over the mask, or
    /// the `[CLS]` vector) and L2-normalises (as sentence-transformers: `sum / max(count, 1e-9)`, `x / max(‖x‖, 1e-12)`).
    fn forward_batch(&self, batch: &[(&[u32], &[u32])]) -> Result<Vec<Vec<f32>>, EncoderError> {
        let n = batch.len();
        let len = batch.iter().map(|(ids, _)| ids.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![self.pad_id; n * len];
        let mut types = vec![0u32; n * len];
        let mut mask = vec![0f32; n * len];
        for (row, (tok, typ)) in batch.iter().enumerate() {
            let at = row * len;
            ids[at..at + tok.len()].copy_from_slice(tok);
            types[at..at + typ.len()].copy_from_slice(typ);
            mask[at..at + tok.len()].fill(1.0);
        }
        let ids = Tensor::from_vec(ids, (n, len), &self.device).map_err(|e| device_error(&e))?;
        let types = Tensor::from_vec(types, (n, len), &self.device).map_err(|e| device_error(&e))?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device).map_err(|e| device_error(&e))?;

        let hidden = match &self.network {
            Network::Kefu(bert) => {
                let lengths: Vec<usize> = batch.iter().map(|(tok, _)| tok.len()).collect();
                let needed = match self.pooling {
                    Pooling::Cls => Needed::FirstToken,
                    Pooling::Mean => Needed::AllTokens,
                };
                bert.forward(&ids, &types, &lengths, needed)
            }
            Network::CandleTransformers(model) => model.forward(&ids, &types, Some(&mask)),
        }
        .map_err(inference)?; // (n, len, dim), or (n, 1, dim) for CLS pooling
        let pooled = (|| {
            let pooled = match self.pooling {
                Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1)?, // (n, dim)
                Pooling::Mean => {
                    let m = mask.unsqueeze(2)?; // (n, len, 1)
                    let summed = hidden.broadcast_mul(&m)?.sum(1)?; // (n, dim)
                    let counts = m.sum(1)?.clamp(1e-9f32, f32::MAX)?; // (n, 1)
                    summed.broadcast_div(&counts)?
                }
            };
            let norms = pooled.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12f32, f32::MAX)?;
            pooled.broadcast_div(&norms)?.to_device(&Device::Cpu)?.to_vec2::<f32>()
        })()
        .map_err(inference)?;
        if pooled.len() != n || pooled.iter().any(|v| v.len() != self.dim) {
            return Err(EncoderError::ShapeMismatch {
                reason: format!("model returned {} vectors, expected {n} of {} floats", pooled.len(), self.dim),
            });
        }
        Ok(pooled)
    }
}

/// The folder's name; for a folder literally named `model` (as inside Python packages that
/// ship one), `parent/model`.
fn folder_name(dir: &Path) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    match name(&dir) {
        Some(n) if n == "model" => match dir.parent().and_then(name) {
            Some(parent) => format!("{parent}/{n}"),
            None => n,
        },
        Some(n) => n,
        None => "model".to_string(),
    }
}

fn device_error(e: &candle_core::Error) -> EncoderError {
    EncoderError::Device(candle_message(e))
}

/// The encoder as the engine-wide embedding contract (used by `kefu-kb`'s dense index).
impl kefu_core::TextEmbedder for SentenceEncoder {
    fn model_id(&self) -> &str {
        SentenceEncoder::model_id(self)
    }

    fn dim(&self) -> usize {
        SentenceEncoder::dim(self)
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, kefu_core::EmbedError> {
        SentenceEncoder::embed(self, texts).map_err(|e| kefu_core::EmbedError::Failed(e.to_string()))
    }
}
