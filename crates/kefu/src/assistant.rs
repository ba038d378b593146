//! Embedded defaults: a bot folder in, a ready engine out.

use crate::error::Error;
#[cfg(feature = "nlu")]
use kefu_core::IntentClassifier;
use kefu_core::{ActionHandler, BotDefinition, ConversationLock, Engine, EventSink, SessionStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Opens bot folders with embedded defaults (in-memory sessions and events, the lexical
/// intent model, built-in entities, the FAQ index).
pub struct Assistant;

impl Assistant {
    /// Loads, trains if needed, and builds an engine with every default.
    pub fn open(dir: impl AsRef<Path>) -> Result<Engine, Error> {
        Self::builder(dir).build()
    }

    /// Starts a builder to change defaults (stores, sinks, actions, model cache).
    pub fn builder(dir: impl AsRef<Path>) -> AssistantBuilder {
        AssistantBuilder {
            dir: dir.as_ref().to_path_buf(),
            model_path: None,
            cache_model: true,
            store: None,
            sink: None,
            lock: None,
            version: None,
            webhook_policy: None,
            answer_writer: None,
            actions: Vec::new(),
            #[cfg(feature = "nlu")]
            progress: None,
        }
    }

    /// Where the intent model of a bot folder is cached: `<dir>/.kefu/intent-model.bin`.
    pub fn default_model_path(dir: &Path) -> PathBuf {
        dir.join(".kefu").join("intent-model.bin")
    }
}

/// Progress callback of training.
#[cfg(feature = "nlu")]
pub type ProgressFn = Box<dyn FnMut(kefu_nlu::lexical::TrainProgress) + Send>;

/// Configures [`Assistant`].
pub struct AssistantBuilder {
    dir: PathBuf,
    model_path: Option<PathBuf>,
    cache_model: bool,
    store: Option<Arc<dyn SessionStore>>,
    sink: Option<Arc<dyn EventSink>>,
    lock: Option<Arc<dyn ConversationLock>>,
    version: Option<String>,
    webhook_policy: Option<kefu_core::WebhookPolicy>,
    answer_writer: Option<Arc<dyn kefu_core::AnswerWriter>>,
    actions: Vec<(String, Arc<dyn ActionHandler>)>,
    #[cfg(feature = "nlu")]
    progress: Option<ProgressFn>,
}

impl AssistantBuilder {
    /// Reads/writes the intent model here instead of `<dir>/.kefu/intent-model.bin`.
    pub fn model_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.model_path = Some(path.into());
        self
    }

    /// Never read or write a model file: always train in memory.
    pub fn no_model_cache(mut self) -> Self {
        self.cache_model = false;
        self
    }

    /// The session store (default: in memory).
    pub fn session_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The event sink (default: the last 10,000 events in memory).
    pub fn event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The per-conversation lock (default: in-process); replicas sharing a store use a
    /// distributed one (`kefu_backends::lock::RedisConversationLock`).
    pub fn conversation_lock(mut self, lock: Arc<dyn ConversationLock>) -> Self {
        self.lock = Some(lock);
        self
    }

    /// A version label for this build of the bot (see [`kefu_core::EngineBuilder::version`]).
    pub fn version(mut self, label: impl Into<String>) -> Self {
        self.version = Some(label.into());
        self
    }

    /// Where webhook actions may connect (default: public addresses only).
    pub fn webhook_policy(mut self, policy: kefu_core::WebhookPolicy) -> Self {
        self.webhook_policy = Some(policy);
        self
    }

    /// Writes FAQ answers at turn time (`kefu_llm::GroundedWriter`: an LLM grounded in the
    /// retrieved entries), streamed to clients as generated; see
    /// [`kefu_core::EngineBuilder::answer_writer`].
    pub fn answer_writer(mut self, writer: Arc<dyn kefu_core::AnswerWriter>) -> Self {
        self.answer_writer = Some(writer);
        self
    }

    /// Registers the handler of a `code: true` action.
    pub fn action(mut self, name: impl Into<String>, handler: Arc<dyn ActionHandler>) -> Self {
        self.actions.push((name.into(), handler));
        self
    }

    /// Called once per training epoch when the model must be trained.
    #[cfg(feature = "nlu")]
    pub fn on_training_progress(mut self, f: impl FnMut(kefu_nlu::lexical::TrainProgress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// Loads the bot and builds the engine.
    pub fn build(self) -> Result<Engine, Error> {
        let bot = kefu_core::load_bot_dir(&self.dir)?;
        self.build_with(bot)
    }

    /// Builds the engine for an already loaded bot definition.
    #[allow(unused_mut)]
    pub fn build_with(mut self, bot: BotDefinition) -> Result<Engine, Error> {
        let mut builder = Engine::builder(bot.clone());
        #[cfg(feature = "nlu")]
        {
            let path = self
                .cache_model
                .then(|| self.model_path.clone().unwrap_or_else(|| Assistant::default_model_path(&self.dir)));
            let mut progress = self.progress.take();
            let mut report = |p: kefu_nlu::lexical::TrainProgress| {
                if let Some(f) = progress.as_mut() {
                    f(p);
                }
            };
            if bot.nlu.pipeline == "lexical" {
                let classifier = load_or_train(&bot, path.as_deref(), &mut report)?;
                builder = builder.classifier(scoped(&bot, Arc::new(classifier)));
            } else {
                builder = self.with_encoder(builder, &bot)?;
            }
            builder = builder.extractor(Arc::new(kefu_nlu::BuiltinEntityExtractor));
            if let Some(learned) = kefu_nlu::learned::LearnedEntityExtractor::train(&bot) {
                builder = builder.extractor(Arc::new(learned));
            }
        }
        #[cfg(not(feature = "nlu"))]
        {
            let _ = (&self.model_path, self.cache_model);
            return Err(Error::Core(kefu_core::Error::Config(
                "built without the `nlu` feature: use Engine::builder with your own classifier".into(),
            )));
        }
        #[cfg(feature = "kb")]
        {
            if !bot.faq.is_empty() && bot.nlu.pipeline == "lexical" {
                builder = builder.knowledge_base(Arc::new(kefu_kb::FaqIndex::from_entries(&bot.faq)));
            }
        }
        if let Some(store) = self.store {
            builder = builder.session_store(store);
        }
        if let Some(sink) = self.sink {
            builder = builder.event_sink(sink);
        }
        if let Some(lock) = self.lock {
            builder = builder.conversation_lock(lock);
        }
        if let Some(version) = self.version {
            builder = builder.version(version);
        }
        if let Some(policy) = self.webhook_policy {
            builder = builder.webhook_policy(policy);
        }
        if let Some(writer) = self.answer_writer {
            builder = builder.answer_writer(writer);
        }
        for (name, handler) in self.actions {
            builder = builder.action(name, handler);
        }
        #[allow(unreachable_code)]
        Ok(builder.build()?)
    }
}

impl AssistantBuilder {
    /// Wires the `neural`/`fused` pipeline: encoders, fused intent model, hybrid FAQ index.
    #[cfg(feature = "neural")]
    fn with_encoder(
        &mut self,
        mut builder: kefu_core::EngineBuilder,
        bot: &BotDefinition,
    ) -> Result<kefu_core::EngineBuilder, Error> {
        let encoders = crate::pipeline::load_encoders(&self.dir, bot)?;
        let cache = self.cache_model.then(|| crate::pipeline::default_fused_dir(&self.dir));
        let model =
            crate::pipeline::load_or_train_fused(bot, &encoders, cache.as_deref(), &mut |stage, done, total| {
                tracing::debug!(?stage, done, total, "training the fused intent model");
            })?;
        builder = builder.classifier(scoped(bot, Arc::new(model)));
        #[cfg(feature = "kb")]
        if !bot.faq.is_empty() {
            builder = builder.knowledge_base(crate::pipeline::hybrid_kb(bot, &encoders)?);
        }
        Ok(builder)
    }

    #[cfg(all(feature = "nlu", not(feature = "neural")))]
    fn with_encoder(
        &mut self,
        _builder: kefu_core::EngineBuilder,
        bot: &BotDefinition,
    ) -> Result<kefu_core::EngineBuilder, Error> {
        Err(Error::Core(kefu_core::Error::Config(format!(
            "nlu.pipeline `{}` needs kefu's `neural` feature (a build with the sentence encoder)",
            bot.nlu.pipeline
        ))))
    }
}

/// Trains the bot's intent model and, with `policy.intent_threshold: auto` (the default),
/// calibrates its threshold.
#[cfg(feature = "nlu")]
pub fn train(
    bot: &BotDefinition,
    progress: &mut dyn FnMut(kefu_nlu::lexical::TrainProgress),
) -> Result<kefu_nlu::LexicalIntentClassifier, Error> {
    let examples = normalized_examples(bot);
    let config = lexical_config(bot);
    let mut model = kefu_nlu::LexicalIntentClassifier::train(&examples, &config, progress)?;
    calibrate_if_auto(bot, &examples, &config, &mut model)?;
    Ok(model)
}

/// With `policy.intent_threshold: auto`, chooses the threshold of a model that has none yet
/// ([`kefu_nlu::eval::calibrate_bot_threshold`]: one more training on 80 % of the examples
/// with some intents hidden). Returns whether the model changed.
#[cfg(feature = "nlu")]
fn calibrate_if_auto(
    bot: &BotDefinition,
    examples: &[(String, String)],
    config: &kefu_nlu::lexical::LexicalConfig,
    model: &mut kefu_nlu::LexicalIntentClassifier,
) -> Result<bool, Error> {
    if bot.policy.intent_threshold != kefu_core::bot::IntentThreshold::Auto
        || model.header().calibrated_threshold.is_some()
    {
        return Ok(false);
    }
    let threshold = kefu_nlu::eval::calibrate_bot_threshold(examples, config.seed, &mut |fit| {
        kefu_nlu::LexicalIntentClassifier::train(fit, config, &mut |_| {})
    })?;
    tracing::info!(threshold, "intent threshold calibrated on the training examples");
    model.set_calibrated_threshold(Some(threshold));
    Ok(true)
}

/// What the intent model trains on, normalised like messages: the bot's examples, its FAQ
/// questions, and the built-in off-topic messages of its languages that are not close to its
/// own examples, as `out_of_scope` (besides the bot's own `out_of_scope` examples, if any).
#[cfg(feature = "nlu")]
pub fn training_examples(bot: &BotDefinition) -> Vec<(String, String)> {
    let mut examples: Vec<(String, String)> =
        bot.training_examples().into_iter().map(|(t, l)| (kefu_core::text::normalize(&t), l)).collect();
    let in_scope: Vec<(String, String)> =
        examples.iter().filter(|(_, l)| l != kefu_core::bot::OUT_OF_SCOPE_INTENT).cloned().collect();
    let off_topic = kefu_nlu::scope::builtin_out_of_scope(&bot.bot.languages, &in_scope);
    examples.extend(off_topic);
    examples
}

#[cfg(feature = "nlu")]
pub(crate) fn normalized_examples(bot: &BotDefinition) -> Vec<(String, String)> {
    training_examples(bot)
}

/// Puts `out_of_scope` first for messages far from every in-scope training example.
#[cfg(feature = "nlu")]
pub(crate) fn scoped(bot: &BotDefinition, classifier: Arc<dyn IntentClassifier>) -> Arc<dyn IntentClassifier> {
    let in_scope: Vec<(String, String)> =
        normalized_examples(bot).into_iter().filter(|(_, l)| l != kefu_core::bot::OUT_OF_SCOPE_INTENT).collect();
    let detector = kefu_nlu::scope::ScopeDetector::train(&in_scope, bot.nlu.seed);
    Arc::new(kefu_nlu::scope::ScopedClassifier::new(classifier, detector))
}

#[cfg(feature = "nlu")]
fn lexical_config(bot: &BotDefinition) -> kefu_nlu::lexical::LexicalConfig {
    kefu_nlu::lexical::LexicalConfig { seed: bot.nlu.seed, ..Default::default() }
}

/// Reuses the cached model when it was trained on the bot's current examples; otherwise
/// trains and (best effort) caches it.
#[cfg(feature = "nlu")]
pub fn load_or_train(
    bot: &BotDefinition,
    path: Option<&Path>,
    progress: &mut dyn FnMut(kefu_nlu::lexical::TrainProgress),
) -> Result<kefu_nlu::LexicalIntentClassifier, Error> {
    let examples = normalized_examples(bot);
    let config = lexical_config(bot);
    let mut cached = None;
    if let Some(path) = path.filter(|p| p.exists()) {
        let fingerprint = kefu_nlu::training_fingerprint(&examples, &config);
        match kefu_nlu::LexicalIntentClassifier::load_matching(path, &fingerprint) {
            Ok(m) => cached = Some(m),
            Err(e) => tracing::info!(error = %e, "retraining the intent model"),
        }
    }
    let trained = cached.is_none();
    let mut model = match cached {
        Some(m) => m,
        None => kefu_nlu::LexicalIntentClassifier::train(&examples, &config, progress)?,
    };
    let changed = calibrate_if_auto(bot, &examples, &config, &mut model)? || trained;
    if let Some(path) = path.filter(|_| changed) {
        if let Err(e) = model.save(path) {
            tracing::warn!(error = %e, "could not cache the intent model; continuing with the trained one");
        }
    }
    Ok(model)
}
