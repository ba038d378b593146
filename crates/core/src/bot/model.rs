//! The typed bot definition, as deserialised from the YAML files of a bot folder.

use crate::language::Language;
use crate::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Text in several languages. Each language has one or more variations (for prompts:
/// the numbered re-prompts, in order).
pub type Localized = BTreeMap<Language, OneOrMany>;

/// One string or a list of strings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single string.
    One(String),
    /// Several strings.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The strings as a slice.
    pub fn as_slice(&self) -> &[String] {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s),
            OneOrMany::Many(v) => v,
        }
    }
}

/// One value for every language, or one per language (`{zh: CNY, en: USD}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PerLanguage<T> {
    /// Per language; a language without an entry has none.
    ByLanguage(BTreeMap<Language, T>),
    /// The same in every language.
    All(T),
}

impl<T> PerLanguage<T> {
    /// The value for `lang`.
    pub fn get(&self, lang: Language) -> Option<&T> {
        match self {
            PerLanguage::All(v) => Some(v),
            PerLanguage::ByLanguage(m) => m.get(&lang),
        }
    }
}

impl BotMeta {
    /// The currency of bare amounts in `lang`.
    pub fn currency_for(&self, lang: Language) -> Option<&str> {
        self.currency.as_ref().and_then(|c| c.get(lang)).map(String::as_str)
    }
}

/// `bot:` — identity and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotMeta {
    /// Assistant name.
    pub name: String,
    /// Languages it speaks; every text must exist in each.
    pub languages: Vec<Language>,
    /// Used when detection is inconclusive.
    #[serde(default)]
    pub default_language: Option<Language>,
    /// IANA time zone for resolving dates ("明天", "next Friday").
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// ISO 4217 currency of bare amounts: "三百五" answering an `amount` question means 350 of
    /// it. One code, or one per language (`{zh: CNY, en: USD}`).
    #[serde(default)]
    pub currency: Option<PerLanguage<String>>,
    /// Free-form description.
    #[serde(default)]
    pub description: Option<String>,
}

fn default_timezone() -> String {
    "UTC".to_string()
}

/// `nlu:` — which intent model the bot trains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NluConfig {
    /// `lexical` (default), `neural` (sentence encoder + dense head) or `fused` (both, score
    /// fusion with a weight chosen on held-out training data).
    #[serde(default = "default_pipeline")]
    pub pipeline: String,
    /// Training seed (training is deterministic).
    #[serde(default)]
    pub seed: u64,
    /// Sentence-encoder folder (Hugging Face layout) for `neural`/`fused`, relative to the
    /// bot folder. The environment variable `KEFU_ENCODER_DIR` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
    /// Languages the encoder understands; messages in other languages use the lexical model
    /// (and the lexical knowledge base). Default: `[en]` (all-MiniLM-L6-v2 is English-only).
    #[serde(default = "default_encoder_languages")]
    pub encoder_languages: Vec<Language>,
    /// One encoder folder per language (`{en: models/minilm, zh: models/bge-small-zh}`),
    /// relative to the bot folder; replaces `encoder`/`encoder_languages`. Each message uses
    /// its language's encoder (intent model and FAQ); languages without one use the lexical
    /// model. `KEFU_ENCODER_DIR_<LANG>` (e.g. `KEFU_ENCODER_DIR_ZH`) overrides or adds one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub encoders: BTreeMap<Language, String>,
}

fn default_encoder_languages() -> Vec<Language> {
    vec![Language::En]
}

fn default_pipeline() -> String {
    "lexical".to_string()
}

impl Default for NluConfig {
    fn default() -> Self {
        Self {
            pipeline: default_pipeline(),
            seed: 0,
            encoder: None,
            encoder_languages: default_encoder_languages(),
            encoders: BTreeMap::new(),
        }
    }
}

/// `policy.intent_threshold`: a fixed confidence, or `auto`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum IntentThreshold {
    /// The threshold the intent model calibrated on its own training data
    /// ([`crate::IntentClassifier::calibrated_threshold`]); [`IntentThreshold::FALLBACK`] for a
    /// classifier that has none.
    #[default]
    Auto,
    /// This confidence, in `[0, 1]`.
    Fixed(f32),
}

impl IntentThreshold {
    /// What `auto` means for a classifier without a calibrated threshold.
    pub const FALLBACK: f32 = 0.5;

    /// The threshold to apply, given the classifier's calibrated one.
    pub fn resolve(self, calibrated: Option<f32>) -> f32 {
        match self {
            IntentThreshold::Fixed(t) => t,
            IntentThreshold::Auto => calibrated.unwrap_or(Self::FALLBACK),
        }
    }
}

impl Serialize for IntentThreshold {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            IntentThreshold::Auto => serializer.serialize_str("auto"),
            IntentThreshold::Fixed(t) => serializer.serialize_f32(*t),
        }
    }
}

impl<'de> Deserialize<'de> for IntentThreshold {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f32),
            Word(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(t) => Ok(IntentThreshold::Fixed(t)),
            Raw::Word(w) if w == "auto" => Ok(IntentThreshold::Auto),
            Raw::Word(w) => {
                Err(serde::de::Error::custom(format!("expected a number between 0 and 1 or `auto`, got `{w}`")))
            }
        }
    }
}

/// `policy:` — thresholds of the dialogue policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Below this confidence the top intent is not trusted: a number, or `auto` (the default)
    /// for the threshold the intent model chose when it was trained.
    pub intent_threshold: IntentThreshold,
    /// When the top two intents are closer than this, the turn is ambiguous.
    pub ambiguity_margin: f32,
    /// A knowledge-base hit answers only at or above this score.
    pub kb_threshold: f32,
    /// Consecutive fallbacks before a human is offered (0 = never).
    pub fallbacks_before_handoff: u32,
    /// A session idle this long starts over.
    pub session_idle_timeout_secs: u64,
    /// Messages kept per conversation (user and bot); older ones are dropped.
    pub max_history: usize,
    /// Invalid answers to one slot before the form gives up and offers a human.
    pub max_slot_attempts: u32,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            intent_threshold: IntentThreshold::Auto,
            ambiguity_margin: 0.05,
            kb_threshold: 0.5,
            fallbacks_before_handoff: 2,
            session_idle_timeout_secs: 1800,
            max_history: 50,
            max_slot_attempts: 3,
        }
    }
}

/// One intent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentDef {
    /// Training examples per language.
    pub examples: BTreeMap<Language, Vec<String>>,
    /// Short label per language, shown on disambiguation buttons ("Did you mean…").
    #[serde(default)]
    pub title: Option<Localized>,
    /// Reply with this response.
    #[serde(default)]
    pub response: Option<String>,
    /// Start this flow.
    #[serde(default)]
    pub flow: Option<String>,
    /// Run this action.
    #[serde(default)]
    pub action: Option<String>,
    /// Hand the conversation to a human agent.
    #[serde(default)]
    pub handoff: bool,
    /// Small talk that may interrupt a form (answered, then the form re-asks).
    #[serde(default)]
    pub chitchat: bool,
    /// Dates without a direction in messages of this intent mean the past ("I ordered on
    /// Monday", "it was delivered on the 3rd"), not the next such day.
    #[serde(default)]
    pub past_dates: bool,
}

/// One bot-defined entity: a regular expression or a lookup list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityDef {
    /// A regular expression (Rust `regex` syntax) matching the entity.
    #[serde(default)]
    pub regex: Option<String>,
    /// Canonical values with synonyms.
    #[serde(default)]
    pub lookup: Vec<LookupValue>,
    /// Lookup matching ignores case (default true).
    #[serde(default = "yes")]
    pub ignore_case: bool,
}

fn yes() -> bool {
    true
}

/// A canonical lookup value and the words that mean it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupValue {
    /// The value slots receive.
    pub value: String,
    /// Other spellings (both languages).
    #[serde(default)]
    pub synonyms: Vec<String>,
}

/// The type of a slot, which decides what fills it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotType {
    /// Any text: from its entity, or the whole answer when the slot was asked for.
    Text,
    /// Built-in number.
    Number,
    /// Built-in amount of money.
    Amount,
    /// Built-in date/time (instant or interval).
    Time,
    /// Built-in duration.
    Duration,
    /// Built-in phone number.
    Phone,
    /// Built-in e-mail address.
    Email,
    /// Built-in URL.
    Url,
    /// Yes or no.
    Bool,
    /// One of the listed `values` (or the canonical values of its lookup entity).
    Categorical,
}

impl SlotType {
    /// The built-in entity kind that fills this type, if any.
    pub fn builtin_kind(self) -> Option<&'static str> {
        match self {
            SlotType::Number => Some("number"),
            SlotType::Amount => Some("amount"),
            SlotType::Time => Some("time"),
            SlotType::Duration => Some("duration"),
            SlotType::Phone => Some("phone"),
            SlotType::Email => Some("email"),
            SlotType::Url => Some("url"),
            _ => None,
        }
    }
}

/// One slot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotDef {
    /// What kind of value it holds.
    #[serde(rename = "type", default = "text_type")]
    pub slot_type: SlotType,
    /// Bot-defined entity that fills it (defaults to the built-in kind of its type).
    #[serde(default)]
    pub entity: Option<String>,
    /// Allowed values for `categorical` slots.
    #[serde(default)]
    pub values: Vec<String>,
    /// Only entities with this role fill it (`[北京]{"entity": "city", "role": "from"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Value a form uses when the user did not give one: a value, `today`/`tomorrow`/`now`
    /// for time slots, or one per language (`{zh: CNY, en: USD}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// Words that name this slot in a correction ("不对，**金额**应该是六百", "change the
    /// **date**"), per language; the slot's name and prompts are used as well.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mentions: BTreeMap<Language, Vec<String>>,
}

fn text_type() -> SlotType {
    SlotType::Text
}

/// How an answer to a slot is checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    /// The value (as text) must match this regular expression.
    #[serde(default)]
    pub regex: Option<String>,
    /// Numeric values must be at least this.
    #[serde(default)]
    pub min: Option<f64>,
    /// Numeric values must be at most this.
    #[serde(default)]
    pub max: Option<f64>,
    /// An action that must succeed (it may reject the value).
    #[serde(default)]
    pub action: Option<String>,
}

/// One required slot of a form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSlot {
    /// Slot name.
    pub slot: String,
    /// Prompts per language; the n-th prompt is used for the n-th attempt (the last repeats).
    /// Only a slot the form asks for needs one.
    #[serde(default)]
    pub prompt: Localized,
    /// Checks on the value.
    #[serde(default)]
    pub validate: Option<Validation>,
    /// Said when a value is rejected, before re-asking.
    #[serde(default)]
    pub invalid: Option<Localized>,
    /// Buttons offered with the prompt.
    #[serde(default)]
    pub buttons: Vec<crate::response::Button>,
    /// `false`: never asked; filled when the user says it, else from its default.
    #[serde(default = "yes")]
    pub required: bool,
    /// Default for this form (overrides the slot's `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
}

/// What happens when a form ends.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowOutcome {
    /// Action to run.
    #[serde(default)]
    pub action: Option<String>,
    /// Response to send (after the action).
    #[serde(default)]
    pub response: Option<String>,
    /// Clear the form's slots afterwards (default true).
    #[serde(default = "yes")]
    pub clear_slots: bool,
}

/// A form: slots to fill, then optional confirmation and a completion action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowDef {
    /// Intents that start the flow (besides intents naming it with `flow:`).
    #[serde(default)]
    pub triggers: Vec<String>,
    /// Required slots, asked in order (already-filled ones are skipped).
    pub slots: Vec<FlowSlot>,
    /// Asked once every slot is filled; `{slot}` placeholders are filled in.
    #[serde(default)]
    pub confirm: Option<Localized>,
    /// When the form is complete (and confirmed).
    #[serde(default)]
    pub on_complete: FlowOutcome,
    /// When the user declines the confirmation.
    #[serde(default)]
    pub on_decline: Option<FlowOutcome>,
}

/// An action the bot can run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDef {
    /// Look a slot value up in a table shipped with the bot.
    #[serde(default)]
    pub lookup: Option<LookupAction>,
    /// Call an HTTP endpoint (needs the `webhook` feature).
    #[serde(default)]
    pub webhook: Option<WebhookAction>,
    /// Implemented in code and registered with the engine builder under this action's name.
    #[serde(default)]
    pub code: bool,
}

/// A table lookup: finds the row whose `key` column equals the slot `key`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupAction {
    /// YAML file (a list of rows) relative to the bot folder.
    pub table: String,
    /// Slot whose value is looked up, also the column name.
    pub key: String,
    /// Slots to set from the row: slot name → column name.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Response when a row is found.
    #[serde(default)]
    pub found: Option<String>,
    /// Response when none is (a validation using this action then rejects the value).
    #[serde(default)]
    pub not_found: Option<String>,
}

/// An HTTP webhook: receives the action call as JSON, answers with slots and texts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookAction {
    /// Endpoint URL.
    pub url: String,
    /// Timeout in milliseconds (default 3000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Extra headers; values starting with `$` are read from that environment variable.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn default_timeout_ms() -> u64 {
    3000
}

/// A FAQ entry for the knowledge base.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaqEntry {
    /// Stable id.
    pub id: String,
    /// Question variants per language.
    pub questions: BTreeMap<Language, Vec<String>>,
    /// Answer per language.
    pub answer: BTreeMap<Language, String>,
    /// Free tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The whole assistant, merged from every YAML file of its folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BotDefinition {
    /// Identity and defaults.
    pub bot: BotMeta,
    /// NLU settings.
    pub nlu: NluConfig,
    /// Policy thresholds.
    pub policy: PolicyConfig,
    /// Intents by name.
    pub intents: BTreeMap<String, IntentDef>,
    /// Bot-defined entities by name.
    pub entities: BTreeMap<String, EntityDef>,
    /// Slots by name.
    pub slots: BTreeMap<String, SlotDef>,
    /// Flows by name.
    pub flows: BTreeMap<String, FlowDef>,
    /// Responses by name.
    pub responses: BTreeMap<String, Response>,
    /// Actions by name.
    pub actions: BTreeMap<String, ActionDef>,
    /// FAQ entries.
    pub faq: Vec<FaqEntry>,
    /// Entity annotations of the intent examples (taken out of the example texts on load).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<crate::bot::AnnotatedExample>,
    /// Tables loaded for lookup actions: file name → rows.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tables: BTreeMap<String, Vec<BTreeMap<String, serde_json::Value>>>,
}

impl BotDefinition {
    /// The language used when detection is inconclusive.
    pub fn default_language(&self) -> Language {
        self.bot.default_language.or_else(|| self.bot.languages.first().copied()).unwrap_or(Language::En)
    }

    /// The flow an intent starts, if any (`flow:` on the intent, else a flow listing it as trigger).
    pub fn flow_for_intent(&self, intent: &str) -> Option<&str> {
        if let Some(f) = self.intents.get(intent).and_then(|i| i.flow.as_deref()) {
            return Some(f);
        }
        self.flows.iter().find(|(_, f)| f.triggers.iter().any(|t| t == intent)).map(|(n, _)| n.as_str())
    }

    /// Intent training examples `(text, intent)` for every language, plus the FAQ questions
    /// under the reserved intent [`FAQ_INTENT`] so FAQ-like messages are routed to the KB.
    pub fn training_examples(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, intent) in &self.intents {
            for examples in intent.examples.values() {
                out.extend(examples.iter().map(|e| (e.clone(), name.clone())));
            }
        }
        for entry in &self.faq {
            for qs in entry.questions.values() {
                out.extend(qs.iter().map(|q| (q.clone(), FAQ_INTENT.to_string())));
            }
        }
        out
    }
}

/// Intent name with a built-in meaning: the message is outside what the assistant does. It is
/// answered like a fallback (with the bot's `out_of_scope` response when defined) and counts
/// towards the offer of a human; give it examples of off-topic messages (weather, jokes…).
pub const OUT_OF_SCOPE_INTENT: &str = "out_of_scope";

/// Reserved intent name: the message is a FAQ question for the knowledge base.
pub const FAQ_INTENT: &str = "faq";
