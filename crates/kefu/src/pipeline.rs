//! The `neural` and `fused` NLU pipelines of a bot folder: load the sentence encoder named by
//! `nlu.encoder` (or `KEFU_ENCODER_DIR`), train or reuse the fused intent model cached in
//! `<bot>/.kefu/fused/`, and index the FAQ densely for the hybrid knowledge base.
//!
//! `neural` is the fused model with the dense weight fixed at 1 for the encoder's languages;
//! messages in other languages (Chinese with the English MiniLM) use the lexical member, so
//! a bilingual bot keeps working whichever encoder it is given.

use crate::error::Error;
use kefu_core::BotDefinition;
use kefu_nlu::neural::{best_device, SentenceEncoder};
use kefu_nlu::neural_intent::{FusedConfig, FusedIntentModel, Stage, FUSED_FILE};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Environment variable that overrides `nlu.encoder`.
pub const ENCODER_DIR_ENV: &str = "KEFU_ENCODER_DIR";

/// Where a bot's fused model is cached: `<dir>/.kefu/fused/`.
pub fn default_fused_dir(bot_dir: &Path) -> PathBuf {
    bot_dir.join(".kefu").join("fused")
}

/// The encoder folder: `KEFU_ENCODER_DIR` if set, else `nlu.encoder` relative to the bot.
pub fn encoder_dir(bot_dir: &Path, bot: &BotDefinition) -> Result<PathBuf, Error> {
    if let Some(dir) = std::env::var_os(ENCODER_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    match &bot.nlu.encoder {
        Some(dir) => Ok(bot_dir.join(dir)),
        None => Err(Error::Core(kefu_core::Error::Config(format!(
            "nlu.pipeline `{}` needs a sentence encoder: set `nlu.encoder: <folder>` in the bot or {ENCODER_DIR_ENV}",
            bot.nlu.pipeline
        )))),
    }
}

/// Loads the bot's encoder on the best device compiled in (CPU unless `cuda`/`metal`).
pub fn load_encoder(bot_dir: &Path, bot: &BotDefinition) -> Result<Arc<SentenceEncoder>, Error> {
    let dir = encoder_dir(bot_dir, bot)?;
    Ok(Arc::new(SentenceEncoder::load(&dir, best_device())?))
}

/// The training configuration the bot's pipeline implies.
pub fn fused_config(bot: &BotDefinition) -> FusedConfig {
    FusedConfig {
        lexical: kefu_nlu::lexical::LexicalConfig { seed: bot.nlu.seed, ..Default::default() },
        dense_weight: (bot.nlu.pipeline == "neural").then_some(1.0),
        seed: bot.nlu.seed,
        encoder_languages: bot.nlu.encoder_languages.clone(),
        ..Default::default()
    }
}

/// Reuses the cached fused model when it was trained on the bot's current examples, with the
/// same configuration and encoder; otherwise trains and (best effort) caches it.
pub fn load_or_train_fused(
    bot: &BotDefinition,
    encoder: Arc<SentenceEncoder>,
    cache: Option<&Path>,
    progress: &mut dyn FnMut(Stage, usize, usize),
) -> Result<FusedIntentModel, Error> {
    let examples = crate::assistant::normalized_examples(bot);
    let config = fused_config(bot);
    if let Some(dir) = cache.filter(|d| d.join(FUSED_FILE).exists()) {
        match FusedIntentModel::load(dir, encoder.clone()) {
            Ok(model) if is_current(&model, &examples, &config) => return Ok(model),
            Ok(_) => tracing::info!("bot examples or NLU settings changed: retraining the fused model"),
            Err(e) => tracing::info!(error = %e, "retraining the fused model"),
        }
    }
    let model = FusedIntentModel::train(encoder, &examples, &config, progress)?;
    if let Some(dir) = cache {
        let saved = std::fs::create_dir_all(dir)
            .map_err(|e| e.to_string())
            .and_then(|_| model.save(dir).map_err(|e| e.to_string()));
        if let Err(e) = saved {
            tracing::warn!(error = %e, "could not cache the fused model; continuing with the trained one");
        }
    }
    Ok(model)
}

fn is_current(model: &FusedIntentModel, examples: &[(String, String)], config: &FusedConfig) -> bool {
    let params = model.params();
    params.lexical_fingerprint == kefu_nlu::training_fingerprint(examples, &config.lexical)
        && params.encoder_languages == config.encoder_languages
        && config.dense_weight.is_none_or(|w| (params.dense_weight - w).abs() < f32::EPSILON)
        && (config.dense_weight.is_some() || params.weight_choice.is_some() || params.neural.is_none())
}

/// The FAQ as a hybrid knowledge base: the TF-IDF index fused with a dense index over the
/// same encoder (dense only for the encoder's languages).
#[cfg(feature = "kb")]
pub fn hybrid_kb(
    bot: &BotDefinition,
    encoder: Arc<SentenceEncoder>,
) -> Result<Arc<dyn kefu_core::kb::KnowledgeBase>, Error> {
    use kefu_kb::{DenseFaqIndex, DenseOptions, FaqIndex, HybridKb, HybridOptions};
    let lexical = Arc::new(FaqIndex::from_entries(&bot.faq));
    let options = DenseOptions { languages: bot.nlu.encoder_languages.clone(), ..Default::default() };
    let dense = Arc::new(DenseFaqIndex::from_entries(encoder, options, &bot.faq)?);
    Ok(Arc::new(HybridKb::new(lexical, dense, HybridOptions::default())))
}
