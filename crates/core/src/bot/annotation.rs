//! Entity annotations inside intent examples, in Rasa's syntax: `[Maria Lopez](passenger)`,
//! `[帝都](city:北京)` (with a value), `[北京]{"entity": "city", "role": "from"}` and
//! `[card][{"entity": "m"}, {"entity": "n"}]` (several readings of one span).
//!
//! The loader strips them from the examples the intent model sees and keeps them as
//! [`AnnotatedExample`]s, from which the NLU trains an entity tagger.

use crate::language::Language;
use serde::{Deserialize, Serialize};

/// One annotated span of an example, in the plain text (annotation markup removed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    /// Start offset in code points.
    pub start: usize,
    /// End offset in code points (exclusive).
    pub end: usize,
    /// The annotated words.
    pub text: String,
    /// Entity name.
    pub entity: String,
    /// The value it stands for, when it differs from the words (`[帝都](city:北京)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Role, telling apart entities of one kind (`from` and `to` cities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Group, binding entities that belong together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// An intent example with its entity annotations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotatedExample {
    /// Language of the example.
    pub language: Language,
    /// Intent it trains.
    pub intent: String,
    /// The text without markup.
    pub text: String,
    /// Annotated spans, in order.
    pub annotations: Vec<Annotation>,
}

/// An example's plain text and annotations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedExample {
    /// The text without markup.
    pub text: String,
    /// Annotated spans, in order.
    pub annotations: Vec<Annotation>,
}

/// Parses the annotations out of an example. Brackets that do not form an annotation stay
/// text; a malformed JSON annotation is an error (with the annotation in the message).
pub fn parse_annotated(raw: &str) -> Result<ParsedExample, String> {
    let mut text = String::new();
    let mut annotations = Vec::new();
    let mut last = 0;
    for found in find_annotations(raw) {
        text.push_str(&raw[last..found.start]);
        let start = text.chars().count();
        text.push_str(found.text);
        let end = text.chars().count();
        last = found.end;
        let span = |entity: &str, value: Option<String>, role: Option<String>, group: Option<String>| Annotation {
            start,
            end,
            text: found.text.to_string(),
            entity: entity.trim().to_string(),
            value,
            role,
            group,
        };
        match found.form {
            Form::Entity { entity, value } => {
                annotations.push(span(entity, value.map(|v| v.trim().to_string()), None, None));
            }
            Form::Object(json) => {
                let (e, v, r, g) = json_annotation(json, found.text)?;
                annotations.push(span(&e, v, r, g));
            }
            Form::List(items) => {
                for json in json_objects(items) {
                    let (e, v, r, g) = json_annotation(json, found.text)?;
                    annotations.push(span(&e, v, r, g));
                }
            }
        }
    }
    text.push_str(&raw[last..]);
    Ok(ParsedExample { text, annotations })
}

type JsonParts = (String, Option<String>, Option<String>, Option<String>);

fn json_annotation(json: &str, span: &str) -> Result<JsonParts, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("entity annotation `[{span}]{json}` is not valid JSON: {e}"))?;
    let Some(obj) = value.as_object() else {
        return Err(format!("entity annotation `[{span}]{json}` must be a JSON object"));
    };
    let Some(entity) = obj.get("entity").and_then(|e| e.as_str()).filter(|e| !e.trim().is_empty()) else {
        return Err(format!("entity annotation `[{span}]{json}` needs an \"entity\" name"));
    };
    let text_of = |key: &str| match obj.get(key) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Some(other) => Some(other.to_string()),
    };
    Ok((entity.trim().to_string(), text_of("value"), text_of("role"), text_of("group")))
}

/// One inline annotation: `[text](entity)`, `[text](entity:value)`, `[text]{json object}` or
/// `[text][json object, …]`.
struct Found<'a> {
    /// Byte range of the whole annotation in the example.
    start: usize,
    end: usize,
    /// The annotated words.
    text: &'a str,
    form: Form<'a>,
}

enum Form<'a> {
    Entity {
        entity: &'a str,
        value: Option<&'a str>,
    },
    /// `{…}` including the braces.
    Object(&'a str),
    /// The inside of `[…]`.
    List(&'a str),
}

/// Scans an example left to right for annotations; brackets that do not form one are text.
fn find_annotations(raw: &str) -> Vec<Found<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = raw[from..].find('[').map(|i| from + i) {
        let Some(found) = annotation_at(raw, open) else {
            from = open + 1;
            continue;
        };
        from = found.end;
        out.push(found);
    }
    out
}

/// The annotation starting at the `[` at byte `open`, if there is one.
fn annotation_at(raw: &str, open: usize) -> Option<Found<'_>> {
    let close = open + 1 + raw[open + 1..].find(']')?;
    let text = &raw[open + 1..close];
    if text.trim().is_empty() || text.contains('[') {
        return None;
    }
    let rest = &raw[close + 1..];
    let (form, len) = match rest.chars().next()? {
        '(' => {
            let inner_len = rest[1..].find(')')?;
            let inner = &rest[1..1 + inner_len];
            let (entity, value) = match inner.split_once(':') {
                Some((_, v)) if v.starts_with("//") => return None,
                Some((e, v)) => (e, Some(v).filter(|v| !v.trim().is_empty())),
                None => (inner, None),
            };
            if entity.trim().is_empty() || !is_name(entity.trim()) {
                return None;
            }
            (Form::Entity { entity, value }, inner_len + 2)
        }
        '{' => {
            let inner_len = rest.find('}')?;
            (Form::Object(&rest[..=inner_len]), inner_len + 1)
        }
        '[' => {
            let inner_len = rest[1..].find(']')?;
            (Form::List(&rest[1..1 + inner_len]), inner_len + 2)
        }
        _ => return None,
    };
    Some(Found { start: open, end: close + 1 + len, text, form })
}

/// Entity names are identifiers: `[see](here)` with a URL or a sentence is plain text.
fn is_name(s: &str) -> bool {
    s.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The `{…}` objects of a list annotation (annotation objects hold no nested braces).
fn json_objects(list: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = list[from..].find('{').map(|i| from + i) {
        let Some(len) = list[open..].find('}') else { break };
        out.push(&list[open..=open + len]);
        from = open + len + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_annotation_form_is_parsed_and_plain_brackets_are_text() {
        let raw = r#"send [50](amount:fifty) to [Anna]{"entity": "person", "role": "payee"} via [card][{"entity":"m"},{"entity":"n","group":"1"}] [x] (y)"#;
        let p = parse_annotated(raw).expect("parses");
        assert_eq!(p.text, "send 50 to Anna via card [x] (y)");
        assert_eq!(p.annotations.len(), 4);
        assert_eq!((p.annotations[0].entity.as_str(), p.annotations[0].value.as_deref()), ("amount", Some("fifty")));
        assert_eq!((p.annotations[0].start, p.annotations[0].end), (5, 7));
        assert_eq!(p.annotations[1].role.as_deref(), Some("payee"));
        assert_eq!(&p.text[11..15], "Anna");
        assert_eq!((p.annotations[1].start, p.annotations[1].end), (11, 15));
        assert_eq!(p.annotations[3].group.as_deref(), Some("1"));
        assert_eq!(parse_annotated("[unclosed(x) and [](e)").expect("text").annotations.len(), 0);
    }

    #[test]
    fn chinese_offsets_are_code_points() {
        let p = parse_annotated("后天帮[孙七](passenger)订两张去[上海]{\"entity\":\"city\",\"role\":\"to\"}的票")
            .expect("ok");
        assert_eq!(p.text, "后天帮孙七订两张去上海的票");
        let chars: Vec<char> = p.text.chars().collect();
        let a = &p.annotations[1];
        assert_eq!(chars[a.start..a.end].iter().collect::<String>(), "上海");
        assert_eq!(a.role.as_deref(), Some("to"));
    }

    #[test]
    fn malformed_json_is_an_error_and_links_stay_text() {
        assert!(parse_annotated("[x]{\"entity\": }").is_err());
        assert!(parse_annotated("[x]{\"role\": \"a\"}").is_err());
        let p = parse_annotated("see [the docs](https://example.com/a b)").expect("text");
        assert!(p.annotations.is_empty());
    }
}
