//! Built-in entities behind `kefu_core::EntityExtractor`.

use crate::entities::{parse, Lang, ParseContext};
use kefu_core::nlu::{Entity, EntityExtractor, ExtractionContext};
use kefu_core::Language;

/// Extracts the built-in entities (number, ordinal, amount, duration, time, phone, email,
/// url) in-process, resolving relative dates against the turn's local time.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuiltinEntityExtractor;

impl EntityExtractor for BuiltinEntityExtractor {
    fn extract(&self, text: &str, ctx: &ExtractionContext) -> Vec<Entity> {
        let lang = match ctx.language {
            Language::Zh => Lang::Zh,
            Language::En => Lang::En,
        };
        parse(text, &ParseContext::new(lang, ctx.now))
            .into_iter()
            .map(|e| Entity {
                kind: e.kind.as_str().to_string(),
                start: e.start,
                end: e.end,
                text: e.text,
                value: e.value,
            })
            .collect()
    }
}
