//! Writes randomly initialised BERT model folders in the Hugging Face layout (`config.json`,
//! a WordPiece `tokenizer.json`, `model.safetensors`), so encoder tests and checks need no
//! download. Shared by `tests/neural_encoder.rs` and `examples/cuda_check.rs` (included with
//! `#[path]`).

use std::path::Path;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::bert::{BertModel, Config};
use serde_json::{json, Value};

/// BERT's special tokens, ids 0–4 in every vocabulary written here.
pub const SPECIALS: &[&str] = &["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// Layer sizes of a BERT.
pub struct BertShape {
    pub hidden: usize,
    pub intermediate: usize,
    pub heads: usize,
    pub layers: usize,
    pub max_positions: usize,
}

/// A BERT `config.json` of `shape` over `vocab_size` tokens.
pub fn config_json(shape: &BertShape, vocab_size: usize) -> Value {
    json!({
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": shape.hidden,
        "initializer_range": 0.02,
        "intermediate_size": shape.intermediate,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": shape.max_positions,
        "model_type": "bert",
        "num_attention_heads": shape.heads,
        "num_hidden_layers": shape.layers,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "type_vocab_size": 2,
        "vocab_size": vocab_size,
    })
}

/// A BERT WordPiece `tokenizer.json` like the real ones (normaliser, pre-tokenizer, template)
/// whose vocabulary is `SPECIALS` followed by `tokens`, ids in that order. With `padding`, it
/// also pads to that fixed length and truncates at 16 tokens, as some packaged tokenizers do.
pub fn tokenizer_json(tokens: &[&str], padding: Option<usize>) -> Value {
    let vocab: serde_json::Map<String, Value> =
        SPECIALS.iter().chain(tokens).enumerate().map(|(i, t)| (t.to_string(), json!(i))).collect();
    let added: Vec<Value> = SPECIALS
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"id": i, "content": t, "single_word": false, "lstrip": false, "rstrip": false,
                   "normalized": false, "special": true})
        })
        .collect();
    let padding = padding.map(|n| {
        json!({"strategy": {"Fixed": n}, "direction": "Right", "pad_to_multiple_of": null,
               "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"})
    });
    json!({
        "version": "1.0",
        "truncation": padding.as_ref().map(|_| json!({"max_length": 16, "strategy": "LongestFirst", "stride": 0})),
        "padding": padding,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}
            }
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    })
}

/// Writes `value` as pretty JSON to `path`, creating its folder.
pub fn write_json(path: &Path, value: &Value) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, serde_json::to_vec_pretty(value)?)?;
    Ok(())
}

/// Random weights for `config`, saved as safetensors at `path`: loading a `BertModel` out of
/// a `VarMap` initialises every tensor it asks for.
pub fn write_random_weights(path: &Path, config: &Value) -> Result<(), Box<dyn std::error::Error>> {
    let config: Config = serde_json::from_value(config.clone())?;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    BertModel::load(vb, &config)?;
    varmap.save(path)?;
    Ok(())
}
