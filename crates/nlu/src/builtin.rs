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
        let mut parse_ctx = ParseContext::new(lang, ctx.now);
        parse_ctx.past_leaning = ctx.past_leaning;
        parse(text, &parse_ctx)
            .into_iter()
            .map(|e| Entity {
                kind: e.kind.as_str().to_string(),
                start: e.start,
                end: e.end,
                text: e.text,
                value: e.value,
                role: None,
                group: None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_leaning_turns_bare_weekdays_backwards() {
        // Thursday 2026-11-26
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap();
        let get = |past_leaning: bool| {
            let ctx = ExtractionContext { language: Language::En, now, past_leaning };
            let e = BuiltinEntityExtractor.extract("I ordered on Monday", &ctx);
            e.iter().find(|e| e.kind == "time").map(|e| e.value["value"].as_str().unwrap_or("").to_string())
        };
        assert_eq!(get(false).as_deref(), Some("2026-11-30T00:00:00"));
        assert_eq!(get(true).as_deref(), Some("2026-11-23T00:00:00"));
    }
}
