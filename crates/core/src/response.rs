//! Responses: per-language variations, `{slot}` interpolation, conditions, channel variants
//! and quick-reply buttons.

use crate::bot::Localized;
use crate::language::Language;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A quick-reply button. `payload` is sent back as the user's next message; `/intent`
/// selects an intent directly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Button {
    /// Label per language (or one label for all).
    pub title: ButtonTitle,
    /// What the click sends.
    pub payload: String,
}

/// A button label: one string, or one per language.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ButtonTitle {
    /// The same label in every language.
    Plain(String),
    /// A label per language.
    Localized(BTreeMap<Language, String>),
}

impl ButtonTitle {
    /// The label in `language` (or any label as a last resort).
    pub fn get(&self, language: Language) -> &str {
        match self {
            ButtonTitle::Plain(s) => s,
            ButtonTitle::Localized(m) => m.get(&language).or_else(|| m.values().next()).map_or("", String::as_str),
        }
    }
}

/// A button as sent to a channel: label already in the conversation's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedButton {
    /// Label.
    pub title: String,
    /// What the click sends.
    pub payload: String,
}

/// A condition on slot values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Slot to test.
    pub slot: String,
    /// The slot equals this value (strings compare with the slot's text form).
    #[serde(default)]
    pub equals: Option<serde_json::Value>,
    /// The slot is (true) or is not (false) set.
    #[serde(default)]
    pub is_set: Option<bool>,
}

impl Condition {
    /// Whether the slots satisfy the condition.
    pub fn holds(&self, slots: &BTreeMap<String, serde_json::Value>) -> bool {
        let value = slots.get(&self.slot).filter(|v| !v.is_null());
        if let Some(want) = self.is_set {
            if value.is_some() != want {
                return false;
            }
        }
        if let Some(expected) = &self.equals {
            match value {
                Some(v) => v == expected || value_text(v) == value_text(expected),
                None => false,
            }
        } else {
            true
        }
    }
}

/// One variant of a response: texts per language plus when it applies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseVariant {
    /// Texts per language; one is picked per turn (rotating through the variations).
    pub text: Localized,
    /// Quick replies.
    #[serde(default)]
    pub buttons: Vec<Button>,
    /// Applies only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// Applies only on this channel (variants with a matching channel win over generic ones).
    #[serde(default)]
    pub channel: Option<String>,
}

/// A named response: one variant, or a list tried in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Response {
    /// Several variants (conditions/channels).
    Variants(Vec<ResponseVariant>),
    /// A single variant.
    Single(ResponseVariant),
}

impl Response {
    /// The variants as a slice.
    pub fn variants(&self) -> &[ResponseVariant] {
        match self {
            Response::Variants(v) => v,
            Response::Single(v) => std::slice::from_ref(v),
        }
    }

    /// Picks the variant for this channel and these slots: a channel-specific variant whose
    /// condition holds beats a generic one; among equals, the first listed wins.
    pub fn select(&self, channel: &str, slots: &BTreeMap<String, serde_json::Value>) -> Option<&ResponseVariant> {
        let applicable = |v: &&ResponseVariant| v.when.as_ref().is_none_or(|c| c.holds(slots));
        self.variants()
            .iter()
            .filter(applicable)
            .find(|v| v.channel.as_deref() == Some(channel))
            .or_else(|| self.variants().iter().filter(applicable).find(|v| v.channel.is_none()))
    }
}

/// A text from a localized set, rotating through variations with `pick`.
pub fn pick_text(texts: &Localized, language: Language, pick: usize) -> Option<&str> {
    let options = texts.get(&language).or_else(|| texts.values().next())?.as_slice();
    if options.is_empty() {
        return None;
    }
    Some(options[pick % options.len()].as_str())
}

/// The n-th text of a localized list, the last one repeating (numbered re-prompts).
pub fn nth_text(texts: &Localized, language: Language, n: usize) -> Option<&str> {
    let options = texts.get(&language).or_else(|| texts.values().next())?.as_slice();
    options.get(n.min(options.len().saturating_sub(1))).map(String::as_str)
}

/// Replaces `{slot}` placeholders with slot values (`{{` and `}}` are literal braces).
/// Unknown or empty slots render as an empty string.
pub fn interpolate(template: &str, slots: &BTreeMap<String, serde_json::Value>, language: Language) -> String {
    let mut out = String::with_capacity(template.len());
    let mut chars = template.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if matches!(chars.peek(), Some((_, '{'))) => {
                chars.next();
                out.push('{');
            }
            '}' if matches!(chars.peek(), Some((_, '}'))) => {
                chars.next();
                out.push('}');
            }
            '{' => match template[i + 1..].find('}') {
                Some(len) => {
                    let name = template[i + 1..i + 1 + len].trim();
                    if let Some(v) = slots.get(name) {
                        out.push_str(&display_value(v, language));
                    }
                    for _ in 0..=len {
                        chars.next();
                    }
                }
                None => out.push('{'),
            },
            _ => out.push(c),
        }
    }
    out
}

/// The plain text form of a JSON value (strings unquoted).
pub fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(m) if m.len() == 1 && m.contains_key("value") => value_text(&m["value"]),
        other => other.to_string(),
    }
}

/// How a slot value reads in a reply: amounts with their currency, times as dates and clock
/// times, durations with units.
pub fn display_value(v: &serde_json::Value, language: Language) -> String {
    let obj = match v.as_object() {
        Some(o) => o,
        None => return value_text(v),
    };
    if let Some(cur) = obj.get("currency").and_then(|c| c.as_str()) {
        let amount = |k: &str| obj.get(k).map(value_text);
        let sym = match (cur, language) {
            ("CNY", Language::Zh) => "元".to_string(),
            ("CNY", _) => " CNY".to_string(),
            ("USD", Language::Zh) => "美元".to_string(),
            (c, _) => format!(" {c}"),
        };
        let prefix = if cur == "USD" && language == Language::En { "$" } else { "" };
        let suffix = if prefix.is_empty() { sym.as_str() } else { "" };
        return match (amount("value"), amount("min"), amount("max")) {
            (Some(x), _, _) => format!("{prefix}{x}{suffix}"),
            (None, Some(a), Some(b)) => format!("{prefix}{a}–{b}{suffix}"),
            (None, Some(a), None) => format!("≥{prefix}{a}{suffix}"),
            (None, None, Some(b)) => format!("≤{prefix}{b}{suffix}"),
            _ => value_text(v),
        };
    }
    match obj.get("type").and_then(|t| t.as_str()) {
        Some("instant") => {
            let value = obj.get("value").and_then(|x| x.as_str()).unwrap_or("");
            let grain = obj.get("grain").and_then(|x| x.as_str()).unwrap_or("second");
            display_instant(value, grain)
        }
        Some("interval") => {
            let from = obj.get("from").and_then(|x| x.as_str()).unwrap_or("");
            let to = obj.get("to").and_then(|x| x.as_str()).unwrap_or("");
            let grain = obj.get("grain").and_then(|x| x.as_str()).unwrap_or("hour");
            format!("{} – {}", display_instant(from, grain), display_instant(to, grain))
        }
        Some("time_of_day") => obj.get("value").map(value_text).unwrap_or_default(),
        _ => {
            if let (Some(n), Some(unit)) = (obj.get("value"), obj.get("unit").and_then(|u| u.as_str())) {
                return format!("{} {unit}{}", value_text(n), if value_text(n) == "1" { "" } else { "s" });
            }
            value_text(v)
        }
    }
}

fn display_instant(value: &str, grain: &str) -> String {
    match grain {
        "year" => value.get(..4).unwrap_or(value).to_string(),
        "month" | "quarter" => value.get(..7).unwrap_or(value).to_string(),
        "day" | "week" => value.get(..10).unwrap_or(value).to_string(),
        "hour" | "minute" => value.get(..16).unwrap_or(value).replace('T', " "),
        _ => value.replace('T', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn slots() -> BTreeMap<String, serde_json::Value> {
        let mut s = BTreeMap::new();
        s.insert("order_id".to_string(), json!("SO123456"));
        s.insert("amount".to_string(), json!({"value": 350, "currency": "CNY"}));
        s.insert("when".to_string(), json!({"type": "instant", "value": "2026-11-27T15:00:00", "grain": "hour"}));
        s
    }

    #[test]
    fn interpolates_slots_and_braces() {
        let s = slots();
        assert_eq!(interpolate("订单 {order_id} 退款 {amount}", &s, Language::Zh), "订单 SO123456 退款 350元");
        assert_eq!(interpolate("{{literal}} {missing}!", &s, Language::En), "{literal} !");
        assert_eq!(interpolate("at {when}", &s, Language::En), "at 2026-11-27 15:00");
        assert_eq!(interpolate("unclosed {order_id", &s, Language::En), "unclosed {order_id");
    }

    #[test]
    fn selects_channel_and_condition_variants() {
        let yaml = r#"
- text: {en: "generic"}
- text: {en: "sms"}
  channel: sms
- text: {en: "shipped"}
  when: {slot: status, equals: shipped}
"#;
        let r: Response = serde_yaml::from_str(yaml).unwrap();
        let mut s = BTreeMap::new();
        assert_eq!(pick_text(&r.select("web", &s).unwrap().text, Language::En, 0), Some("generic"));
        assert_eq!(pick_text(&r.select("sms", &s).unwrap().text, Language::En, 0), Some("sms"));
        s.insert("status".to_string(), json!("shipped"));
        let r2: Response = serde_yaml::from_str(&yaml.replace("- text: {en: \"generic\"}\n", "")).unwrap();
        assert_eq!(pick_text(&r2.select("web", &s).unwrap().text, Language::En, 0), Some("shipped"));
    }
}
