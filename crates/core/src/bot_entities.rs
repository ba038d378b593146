//! Extraction of the bot-defined entities: regular expressions and lookup lists.

use crate::bot::BotDefinition;
use crate::nlu::{Entity, EntityExtractor, ExtractionContext};
use regex::Regex;

enum Matcher {
    Regex(Regex),
    /// (pattern lower-cased when `ignore_case`, canonical value), longest pattern first.
    Lookup {
        entries: Vec<(String, String)>,
        ignore_case: bool,
    },
}

/// Finds the regex and lookup entities declared in a bot definition.
pub struct BotEntityExtractor {
    matchers: Vec<(String, Matcher)>,
}

impl BotEntityExtractor {
    /// Compiles the bot's entities (the loader has already checked the regexes).
    pub fn new(bot: &BotDefinition) -> Self {
        let mut matchers = Vec::new();
        for (name, def) in &bot.entities {
            if let Some(re) = def.regex.as_deref().and_then(|r| Regex::new(r).ok()) {
                matchers.push((name.clone(), Matcher::Regex(re)));
            } else if !def.lookup.is_empty() {
                let mut entries: Vec<(String, String)> = def
                    .lookup
                    .iter()
                    .flat_map(|v| {
                        std::iter::once(&v.value).chain(v.synonyms.iter()).map(move |s| (s.clone(), v.value.clone()))
                    })
                    .filter(|(s, _)| !s.trim().is_empty())
                    .map(|(s, v)| (if def.ignore_case { s.to_lowercase() } else { s }, v))
                    .collect();
                entries.sort_by_key(|e| std::cmp::Reverse(e.0.chars().count()));
                matchers.push((name.clone(), Matcher::Lookup { entries, ignore_case: def.ignore_case }));
            }
        }
        Self { matchers }
    }
}

impl EntityExtractor for BotEntityExtractor {
    fn extract(&self, text: &str, _ctx: &ExtractionContext) -> Vec<Entity> {
        let mut out = Vec::new();
        let lowered = text.to_lowercase();
        for (name, m) in &self.matchers {
            match m {
                Matcher::Regex(re) => {
                    for mat in re.find_iter(text) {
                        if mat.as_str().is_empty() {
                            continue;
                        }
                        out.push(entity(
                            name,
                            text,
                            mat.start(),
                            mat.end(),
                            serde_json::json!({"value": mat.as_str()}),
                        ));
                    }
                }
                Matcher::Lookup { entries, ignore_case } => {
                    // Lower-casing can change byte lengths; only trust it when it did not.
                    let hay = if *ignore_case && lowered.len() == text.len() { lowered.as_str() } else { text };
                    let mut taken: Vec<(usize, usize)> = Vec::new();
                    for (pattern, canonical) in entries {
                        for (start, _) in hay.match_indices(pattern.as_str()) {
                            let end = start + pattern.len();
                            if taken.iter().any(|(s, e)| start < *e && *s < end) || !on_word_boundary(hay, start, end) {
                                continue;
                            }
                            taken.push((start, end));
                            out.push(entity(name, text, start, end, serde_json::json!({"value": canonical})));
                        }
                    }
                }
            }
        }
        out.sort_by_key(|e| e.start);
        out
    }
}

/// Latin words must not match inside other words ("us" in "bus"); CJK has no boundaries.
fn on_word_boundary(hay: &str, start: usize, end: usize) -> bool {
    let before = hay[..start].chars().next_back();
    let after = hay[end..].chars().next();
    let first = hay[start..end].chars().next();
    let last = hay[start..end].chars().next_back();
    let wordy = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    !((wordy(before) && wordy(first)) || (wordy(after) && wordy(last)))
}

fn entity(kind: &str, text: &str, start: usize, end: usize, value: serde_json::Value) -> Entity {
    Entity {
        kind: kind.to_string(),
        start: text[..start].chars().count(),
        end: text[..end].chars().count(),
        text: text[start..end].to_string(),
        value,
        role: None,
        group: None,
    }
}
