//! The `neural` and `fused` NLU pipelines of a bot folder: load the sentence encoders named
//! by `nlu.encoders` (one per language) or `nlu.encoder` (one for `nlu.encoder_languages`),
//! train or reuse the fused intent model cached in `<bot>/.kefu/fused/`, and index the FAQ
//! densely for the hybrid knowledge base, per language.
//!
//! `neural` is the fused model with the dense weight fixed at 1 for the encoders' languages;
//! messages in other languages (Chinese with only the English MiniLM) use the lexical member,
//! so a bilingual bot keeps working whichever encoders it is given.

use crate::error::Error;
use kefu_core::{BotDefinition, Language};
use kefu_nlu::neural::{best_device, SentenceEncoder};
use kefu_nlu::neural_intent::{FusedConfig, FusedIntentModel, LanguageEncoder, Stage, FUSED_FILE};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Environment variable that overrides `nlu.encoder`.
pub const ENCODER_DIR_ENV: &str = "KEFU_ENCODER_DIR";

/// Environment variable that sets the encoder of one language: `KEFU_ENCODER_DIR_EN`,
/// `KEFU_ENCODER_DIR_ZH` (overrides `nlu.encoders`' entry, or adds one).
pub fn language_encoder_env(language: Language) -> String {
    format!("{ENCODER_DIR_ENV}_{}", language.code().to_ascii_uppercase())
}

/// Where a bot's fused model is cached: `<dir>/.kefu/fused/`.
pub fn default_fused_dir(bot_dir: &Path) -> PathBuf {
    bot_dir.join(".kefu").join("fused")
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The encoder folders and the languages each serves, in matching order (named languages
/// first, an encoder for every language last). By precedence: `KEFU_ENCODER_DIR_<LANG>`,
/// `nlu.encoders`, then `KEFU_ENCODER_DIR` / `nlu.encoder` for `nlu.encoder_languages`
/// (empty = every language without an encoder of its own).
pub fn encoder_dirs(bot_dir: &Path, bot: &BotDefinition) -> Result<Vec<(Vec<Language>, PathBuf)>, Error> {
    let mut by_language: Vec<(Language, PathBuf)> = Vec::new();
    for language in Language::ALL {
        let dir = env_dir(&language_encoder_env(language))
            .or_else(|| bot.nlu.encoders.get(&language).map(|d| bot_dir.join(d)));
        if let Some(dir) = dir {
            by_language.push((language, dir));
        }
    }
    let single = env_dir(ENCODER_DIR_ENV).or_else(|| bot.nlu.encoder.as_ref().map(|d| bot_dir.join(d)));
    let mut every_language: Option<PathBuf> = None;
    if let Some(dir) = single {
        if bot.nlu.encoder_languages.is_empty() {
            every_language = Some(dir);
        } else {
            for &language in &bot.nlu.encoder_languages {
                if !by_language.iter().any(|(l, _)| *l == language) {
                    by_language.push((language, dir.clone()));
                }
            }
        }
    }
    // One member per folder; languages in a stable order.
    by_language.sort();
    let mut groups: Vec<(Vec<Language>, PathBuf)> = Vec::new();
    for (language, dir) in by_language {
        match groups.iter_mut().find(|(_, d)| *d == dir) {
            Some((langs, _)) => langs.push(language),
            None => groups.push((vec![language], dir)),
        }
    }
    groups.extend(every_language.map(|dir| (Vec::new(), dir)));
    if groups.is_empty() {
        return Err(Error::Core(kefu_core::Error::Config(format!(
            "nlu.pipeline `{}` needs a sentence encoder: set `nlu.encoders: {{en: <folder>, zh: <folder>}}` or \
             `nlu.encoder: <folder>` in the bot, or {ENCODER_DIR_ENV}",
            bot.nlu.pipeline
        ))));
    }
    Ok(groups)
}

/// Loads the bot's encoders on the best device compiled in (CPU unless `cuda`/`metal`).
pub fn load_encoders(bot_dir: &Path, bot: &BotDefinition) -> Result<Vec<LanguageEncoder>, Error> {
    encoder_dirs(bot_dir, bot)?
        .into_iter()
        .map(|(languages, dir)| {
            Ok(LanguageEncoder::new(languages, Arc::new(SentenceEncoder::load(&dir, best_device())?)))
        })
        .collect()
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
/// same configuration and encoders; otherwise trains and (best effort) caches it.
pub fn load_or_train_fused(
    bot: &BotDefinition,
    encoders: &[LanguageEncoder],
    cache: Option<&Path>,
    progress: &mut dyn FnMut(Stage, usize, usize),
) -> Result<FusedIntentModel, Error> {
    let examples = crate::assistant::normalized_examples(bot);
    let config = fused_config(bot);
    let mut cached = None;
    if let Some(dir) = cache.filter(|d| d.join(FUSED_FILE).exists()) {
        match FusedIntentModel::load_multi(dir, encoders) {
            Ok(model) if is_current(&model, &examples, &config) => cached = Some(model),
            Ok(_) => tracing::info!("bot examples or NLU settings changed: retraining the fused model"),
            Err(e) => tracing::info!(error = %e, "retraining the fused model"),
        }
    }
    let mut changed = cached.is_none();
    let mut model = match cached {
        Some(model) => model,
        None => FusedIntentModel::train_multi(encoders, &examples, &config, progress)?,
    };
    if bot.policy.intent_threshold == kefu_core::bot::IntentThreshold::Auto
        && model.params().calibrated_threshold.is_none()
    {
        // The same calibration as the lexical pipeline's, on fused models (the encoders'
        // embedding caches make the extra trainings cheap).
        let threshold = kefu_nlu::eval::calibrate_bot_threshold(&examples, config.seed, &mut |fit| {
            FusedIntentModel::train_multi(encoders, fit, &config, &mut |_, _, _| {})
        })?;
        tracing::info!(threshold, "intent threshold calibrated on the training examples");
        model.set_calibrated_threshold(Some(threshold));
        changed = true;
    }
    if let Some(dir) = cache.filter(|_| changed) {
        let saved = std::fs::create_dir_all(dir)
            .map_err(|e| e.to_string())
            .and_then(|_| model.save(dir).map_err(|e| e.to_string()));
        if let Err(e) = saved {
            tracing::warn!(error = %e, "could not cache the fused model; continuing with the trained one");
        }
    }
    Ok(model)
}

/// Encoders and languages are checked by `load_multi`; this checks examples and settings.
fn is_current(model: &FusedIntentModel, examples: &[(String, String)], config: &FusedConfig) -> bool {
    let params = model.params();
    params.lexical_fingerprint == kefu_nlu::training_fingerprint(examples, &config.lexical)
        && params.members.iter().all(|m| {
            config.dense_weight.is_none_or(|w| (m.dense_weight - w).abs() < f32::EPSILON)
                && (config.dense_weight.is_some() || m.weight_choice.is_some() || m.neural.is_none())
        })
}

/// The FAQ as a hybrid knowledge base: the TF-IDF index fused with one dense index per
/// encoder (each for its languages).
#[cfg(feature = "kb")]
pub fn hybrid_kb(
    bot: &BotDefinition,
    encoders: &[LanguageEncoder],
) -> Result<Arc<dyn kefu_core::kb::KnowledgeBase>, Error> {
    use kefu_kb::{DenseFaqIndex, DenseOptions, FaqIndex, HybridKb, HybridOptions};
    let lexical = Arc::new(FaqIndex::from_entries(&bot.faq));
    let mut dense = Vec::with_capacity(encoders.len());
    for member in encoders {
        let options = DenseOptions { languages: member.languages.clone(), ..Default::default() };
        dense.push(Arc::new(DenseFaqIndex::from_entries(member.encoder.clone(), options, &bot.faq)?));
    }
    Ok(Arc::new(HybridKb::with_dense_indexes(lexical, dense, HybridOptions::default())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> BotDefinition {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots/shop");
        kefu_core::load_bot_dir(&dir).expect("the shop example loads")
    }

    /// Assumes none of the KEFU_ENCODER_DIR variables is set (the test script sets none).
    #[test]
    fn encoder_folders_are_grouped_by_language() {
        let root = Path::new("/bot");
        let mut bot = shop();
        bot.nlu.encoder = None;
        assert!(encoder_dirs(root, &bot).is_err(), "no encoder named");

        bot.nlu.encoders = [(Language::En, "minilm".to_string()), (Language::Zh, "bge".to_string())].into();
        let dirs = encoder_dirs(root, &bot).expect("two encoders");
        assert_eq!(dirs, vec![(vec![Language::Zh], root.join("bge")), (vec![Language::En], root.join("minilm"))]);

        bot.nlu.encoders = [(Language::En, "m".to_string()), (Language::Zh, "m".to_string())].into();
        let dirs = encoder_dirs(root, &bot).expect("one folder");
        assert_eq!(dirs, vec![(vec![Language::Zh, Language::En], root.join("m"))]);

        bot.nlu.encoders.clear();
        bot.nlu.encoder = Some("any".into());
        bot.nlu.encoder_languages = Vec::new();
        assert_eq!(encoder_dirs(root, &bot).expect("every language"), vec![(Vec::new(), root.join("any"))]);
    }
}
