//! Entities learned from a bot's annotated examples: one [`EntityTagger`] per language,
//! wrapped as a `kefu_core::EntityExtractor`, and its cross-validation for `kefu test`.

use crate::entities::Lang;
use crate::tagger::{cross_validate, EntityTagger, SpanScore, TaggedSpan, TaggerConfig, TaggerExample};
use kefu_core::bot::{AnnotatedExample, BotDefinition, BUILTIN_ENTITIES};
use kefu_core::nlu::{Entity, EntityExtractor, ExtractionContext};
use kefu_core::text::normalize;
use kefu_core::Language;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Finds the entities a bot annotated in its training examples.
pub struct LearnedEntityExtractor {
    taggers: Vec<(Language, EntityTagger)>,
    /// (entity, lower-cased words) → value, from annotations with a value and from the
    /// lookup lists of bot entities of the same name.
    values: HashMap<(String, String), String>,
    /// Entities whose annotated values are mostly names the built-in `person` scanner
    /// finds: their spans take the scanner's boundaries ("宋雨" → "宋雨桐", "Tom充" → "Tom").
    name_like: HashSet<String>,
    /// Free-form entities whose annotated values run to the end of their clause ("备注写
    /// [装修款](memo)", "[尺码偏小](reason)，我要退货"): a span the tagger starts is extended
    /// to the clause end.
    clause_final: HashSet<String>,
}

/// Where a clause ends: punctuation or the end of the text.
fn is_clause_end(chars: &[char], at: usize) -> bool {
    chars.get(at).is_none_or(|c| "，,。.!！?？;；\n".contains(*c))
}

/// Words that are never a learned entity on their own, however the tagger reads them.
const FUNCTION_WORDS: [&str; 40] = [
    "for", "to", "from", "it", "it's", "its", "is", "the", "a", "an", "my", "me", "please", "and", "of", "on", "in",
    "at", "with", "by", "this", "that", "actually", "no", "yes", "change", "make", "给", "帮", "替", "是", "的", "到",
    "从", "去", "把", "为", "让", "请", "改",
];

fn is_function_word(words: &str) -> bool {
    let lower = words.trim().to_lowercase();
    FUNCTION_WORDS.contains(&lower.as_str())
}

/// Share of each entity's annotated spans that are exactly a built-in `person`.
fn person_share(examples: &[TaggerExample], lang: Lang) -> HashMap<String, (usize, usize)> {
    let mut out: HashMap<String, (usize, usize)> = HashMap::new();
    for ex in examples.iter().filter(|e| !e.spans.is_empty()) {
        let persons = persons(&ex.text, lang);
        for s in &ex.spans {
            let e = out.entry(s.entity.clone()).or_default();
            e.1 += 1;
            e.0 += usize::from(persons.contains(&(s.start, s.end)));
        }
    }
    out
}

/// Spans of the built-in `person` entities of a text.
fn persons(text: &str, lang: Lang) -> Vec<(usize, usize)> {
    let now = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(12, 0, 0)).unwrap_or_default();
    let mut ctx = crate::entities::ParseContext::new(lang, now);
    ctx.kinds = Some(vec![crate::entities::EntityKind::Person]);
    crate::entities::parse(text, &ctx).into_iter().map(|e| (e.start, e.end)).collect()
}

fn lang_of(l: Language) -> Lang {
    match l {
        Language::Zh => Lang::Zh,
        Language::En => Lang::En,
    }
}

/// The tagger's training data for `lang`: every intent example of that language, with the
/// spans of its annotations (examples without any teach where no entity is). Texts are
/// normalised as messages are. Annotations of built-in kinds are left to the built-ins.
pub fn tagger_examples(bot: &BotDefinition, lang: Language) -> Vec<TaggerExample> {
    let annotated: HashMap<(&str, &str), &AnnotatedExample> = bot
        .annotations
        .iter()
        .filter(|a| a.language == lang)
        .map(|a| ((a.intent.as_str(), a.text.as_str()), a))
        .collect();
    let mut out = Vec::new();
    for (intent, def) in &bot.intents {
        for text in def.examples.get(&lang).map(Vec::as_slice).unwrap_or_default() {
            let spans = annotated.get(&(intent.as_str(), text.as_str())).map(|a| spans_of(a)).unwrap_or_default();
            out.push(TaggerExample { text: normalize(text), spans });
        }
    }
    out
}

/// The annotations of an example as spans of its normalised text.
fn spans_of(a: &AnnotatedExample) -> Vec<TaggedSpan> {
    let norm = normalize(&a.text);
    let norm_chars: Vec<char> = norm.chars().collect();
    let mut out: Vec<TaggedSpan> = Vec::new();
    for an in a.annotations.iter().filter(|x| !BUILTIN_ENTITIES.contains(&x.entity.as_str())) {
        let prefix: String = a.text.chars().take(an.start).collect();
        let estimate = normalize(&prefix).chars().count();
        let words: Vec<char> = normalize(&an.text).chars().collect();
        if words.is_empty() {
            continue;
        }
        let found = (estimate.saturating_sub(1)..norm_chars.len().saturating_sub(words.len() - 1))
            .find(|&i| norm_chars[i..i + words.len()] == words[..]);
        if let Some(start) = found {
            let end = start + words.len();
            // Several readings of one span ([card][{…},{…}]): the tagger learns the first.
            if out.iter().any(|s| s.start < end && start < s.end) {
                continue;
            }
            out.push(TaggedSpan {
                start,
                end,
                entity: an.entity.clone(),
                role: an.role.clone(),
                group: an.group.clone(),
            });
        }
    }
    out.sort_by_key(|s| s.start);
    out
}

impl LearnedEntityExtractor {
    /// Trains a tagger per language that has annotations; `None` when the bot annotates
    /// no entity of its own.
    pub fn train(bot: &BotDefinition) -> Option<Self> {
        let config = TaggerConfig { seed: bot.nlu.seed, ..Default::default() };
        let mut taggers = Vec::new();
        let mut shares: HashMap<String, (usize, usize)> = HashMap::new();
        let mut clause_ends: HashMap<String, (usize, usize)> = HashMap::new();
        for &lang in &bot.bot.languages {
            let examples = tagger_examples(bot, lang);
            if examples.iter().all(|e| e.spans.is_empty()) {
                continue;
            }
            for ex in examples.iter().filter(|e| !e.spans.is_empty()) {
                let chars: Vec<char> = ex.text.chars().collect();
                for sp in &ex.spans {
                    let c = clause_ends.entry(sp.entity.clone()).or_default();
                    c.0 += usize::from(is_clause_end(&chars, sp.end));
                    c.1 += 1;
                }
            }
            for (entity, (persons, total)) in person_share(&examples, lang_of(lang)) {
                let s = shares.entry(entity).or_default();
                s.0 += persons;
                s.1 += total;
            }
            let tagger = EntityTagger::train(&examples, lang_of(lang), &config);
            if !tagger.is_empty() {
                taggers.push((lang, tagger));
            }
        }
        if taggers.is_empty() {
            return None;
        }
        let mut values = HashMap::new();
        for (name, def) in &bot.entities {
            for v in &def.lookup {
                for w in std::iter::once(&v.value).chain(&v.synonyms) {
                    values.insert((name.clone(), w.to_lowercase()), v.value.clone());
                }
            }
        }
        for an in bot.annotations.iter().flat_map(|a| &a.annotations) {
            if let Some(v) = &an.value {
                values.insert((an.entity.clone(), normalize(&an.text).to_lowercase()), v.clone());
            }
        }
        let name_like: HashSet<String> =
            shares.into_iter().filter(|(_, (p, t))| *p * 2 >= *t).map(|(e, _)| e).collect();
        let clause_final = clause_ends
            .into_iter()
            .filter(|(e, (ends, total))| !name_like.contains(e) && *total >= 5 && *ends * 10 >= *total * 7)
            .map(|(e, _)| e)
            .collect();
        Some(Self { taggers, values, name_like, clause_final })
    }
}

impl EntityExtractor for LearnedEntityExtractor {
    fn extract(&self, text: &str, ctx: &ExtractionContext) -> Vec<Entity> {
        let chars: Vec<char> = text.chars().collect();
        let mut spans: Vec<TaggedSpan> = Vec::new();
        // The message's language first; the other taggers add what it did not cover
        // (a mixed-language message: "帮我book一张给Tom的票").
        let order = self
            .taggers
            .iter()
            .filter(|(l, _)| *l == ctx.language)
            .chain(self.taggers.iter().filter(|(l, _)| *l != ctx.language));
        for (_, tagger) in order {
            for s in tagger.tag(text) {
                if !spans.iter().any(|o| o.start < s.end && s.start < o.end) {
                    spans.push(s);
                }
            }
        }
        spans.sort_by_key(|s| s.start);
        if spans.iter().any(|s| self.name_like.contains(&s.entity)) {
            let names = persons(text, lang_of(ctx.language));
            for s in spans.iter_mut().filter(|s| self.name_like.contains(&s.entity)) {
                if let Some(&(start, end)) = names.iter().find(|(a, b)| *a < s.end && s.start < *b) {
                    s.start = start;
                    s.end = end;
                }
            }
            spans.dedup_by(|a, b| a.start == b.start && a.end == b.end && a.entity == b.entity);
        }
        let sure_starts: Vec<usize> = if spans.iter().any(|s| self.clause_final.contains(&s.entity)) {
            let mut pctx = crate::entities::ParseContext::new(lang_of(ctx.language), ctx.now);
            pctx.past_leaning = ctx.past_leaning;
            crate::entities::parse(text, &pctx)
                .into_iter()
                .filter(|e| e.kind != crate::entities::EntityKind::Person)
                .map(|e| e.start)
                .collect()
        } else {
            Vec::new()
        };
        for k in 0..spans.len() {
            if !self.clause_final.contains(&spans[k].entity) {
                continue;
            }
            // Up to the clause end, never over the next span or a built-in entity (an amount).
            let next_builtin = sure_starts.iter().copied().filter(|&b| b >= spans[k].end).min();
            let limit = spans.get(k + 1).map_or(chars.len(), |next| next.start).min(next_builtin.unwrap_or(usize::MAX));
            let mut end = spans[k].end.min(chars.len());
            while end < limit && !is_clause_end(&chars, end) {
                end += 1;
            }
            spans[k].end = end;
        }
        spans
            .into_iter()
            .filter(|s| s.end <= chars.len() && s.start < s.end)
            .filter(|s| !is_function_word(&chars[s.start..s.end].iter().collect::<String>()))
            .map(|s| {
                let words: String = chars[s.start..s.end].iter().collect();
                let value = self
                    .values
                    .get(&(s.entity.clone(), words.to_lowercase()))
                    .cloned()
                    .unwrap_or_else(|| words.clone());
                Entity {
                    kind: s.entity,
                    start: s.start,
                    end: s.end,
                    text: words,
                    value: serde_json::json!({ "value": value }),
                    role: s.role,
                    group: s.group,
                }
            })
            .collect()
    }
}

/// `folds`-fold cross-validation of the learned entities, per entity (`entity#role` for a
/// role), over every language of the bot. Empty when nothing is annotated.
pub fn entity_cross_validation(bot: &BotDefinition, folds: usize) -> BTreeMap<String, SpanScore> {
    let config = TaggerConfig { seed: bot.nlu.seed, ..Default::default() };
    let mut total: BTreeMap<String, SpanScore> = BTreeMap::new();
    for &lang in &bot.bot.languages {
        let examples = tagger_examples(bot, lang);
        if examples.iter().all(|e| e.spans.is_empty()) {
            continue;
        }
        for (name, s) in cross_validate(&examples, lang_of(lang), folds, &config) {
            let t = total.entry(name).or_insert(SpanScore {
                support: 0,
                predicted: 0,
                correct: 0,
                precision: 0.0,
                recall: 0.0,
                f1: 0.0,
            });
            t.support += s.support;
            t.predicted += s.predicted;
            t.correct += s.correct;
        }
    }
    for s in total.values_mut() {
        s.precision = if s.predicted == 0 { 0.0 } else { s.correct as f64 / s.predicted as f64 };
        s.recall = if s.support == 0 { 0.0 } else { s.correct as f64 / s.support as f64 };
        s.f1 =
            if s.precision + s.recall == 0.0 { 0.0 } else { 2.0 * s.precision * s.recall / (s.precision + s.recall) };
    }
    total
}
