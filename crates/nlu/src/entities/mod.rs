//! Built-in entity parser: numbers, ordinals, amounts of money, durations, times,
//! phone numbers, e-mail addresses, URLs and person names in Chinese and English text.
//!
//! The parser is a set of hand-written scanners over the code points of the input
//! (see [`parse`]). Every scanner proposes candidates; overlapping candidates are
//! resolved by preferring the longest span, then a fixed kind priority.

mod amount;
pub mod conformance;
mod contact;
mod duration;
mod lexicon;
mod number_en;
mod number_zh;
mod numeral;
mod ordinal;
mod person;
mod text;
mod time;
mod value;
mod zh_words;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use value::Candidate;

/// Language of the text being parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Chinese (simplified, traditional and some Cantonese forms).
    Zh,
    /// English.
    En,
}

/// The kinds of entity the parser recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    /// A cardinal number: `{"value": 350}`.
    Number,
    /// An ordinal number: `{"value": 3}`.
    Ordinal,
    /// An amount of money: `{"value": 350, "currency": "CNY"}` or a range.
    Amount,
    /// A duration: `{"seconds": 7200, "value": 2, "unit": "hour"}`.
    Duration,
    /// A time: an instant, an interval or a time of day.
    Time,
    /// A phone number, normalised.
    Phone,
    /// An e-mail address, with its domain lower-cased.
    Email,
    /// A URL.
    Url,
    /// A person's name: `{"value": "Maria Lopez"}` (see the `person` scanner for when a name
    /// is taken).
    Person,
}

impl EntityKind {
    /// All kinds, in resolution priority order (earlier wins on equal spans).
    pub const ALL: [EntityKind; 9] = [
        EntityKind::Email,
        EntityKind::Url,
        EntityKind::Phone,
        EntityKind::Time,
        EntityKind::Amount,
        EntityKind::Duration,
        EntityKind::Ordinal,
        EntityKind::Person,
        EntityKind::Number,
    ];

    /// The lowercase name used in JSON (`"number"`, `"time"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Number => "number",
            EntityKind::Ordinal => "ordinal",
            EntityKind::Amount => "amount",
            EntityKind::Duration => "duration",
            EntityKind::Time => "time",
            EntityKind::Phone => "phone",
            EntityKind::Email => "email",
            EntityKind::Url => "url",
            EntityKind::Person => "person",
        }
    }

    fn priority(self) -> usize {
        EntityKind::ALL.iter().position(|k| *k == self).unwrap_or(EntityKind::ALL.len())
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error returned when a string names no [`EntityKind`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown entity kind: {:?}", self.0)
    }
}

impl std::error::Error for UnknownKind {}

impl FromStr for EntityKind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let k = match s.trim().to_ascii_lowercase().as_str() {
            "number" => EntityKind::Number,
            "ordinal" => EntityKind::Ordinal,
            "amount" | "amount-of-money" | "money" => EntityKind::Amount,
            "duration" => EntityKind::Duration,
            "time" => EntityKind::Time,
            "phone" | "phone-number" => EntityKind::Phone,
            "email" => EntityKind::Email,
            "url" => EntityKind::Url,
            "person" | "person-name" | "name" => EntityKind::Person,
            _ => return Err(UnknownKind(s.to_string())),
        };
        Ok(k)
    }
}

/// What the parser needs to know besides the text.
#[derive(Clone, Debug)]
pub struct ParseContext {
    /// Language of the text.
    pub lang: Lang,
    /// Local wall time in the user's zone; relative times resolve against it.
    pub now: chrono::NaiveDateTime,
    /// When true, a bare weekday or date resolves to the most recent past one.
    pub past_leaning: bool,
    /// Kinds to extract; `None` means all.
    pub kinds: Option<Vec<EntityKind>>,
}

impl ParseContext {
    /// A context for `lang` at `now`, all kinds, future-leaning.
    pub fn new(lang: Lang, now: chrono::NaiveDateTime) -> Self {
        ParseContext { lang, now, past_leaning: false, kinds: None }
    }

    fn wants(&self, k: EntityKind) -> bool {
        match &self.kinds {
            None => true,
            Some(v) => v.contains(&k),
        }
    }
}

/// One entity found in the text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParsedEntity {
    /// What kind of entity this is.
    pub kind: EntityKind,
    /// Start offset, in Unicode code points.
    pub start: usize,
    /// End offset (exclusive), in Unicode code points.
    pub end: usize,
    /// The matched text.
    pub text: String,
    /// The normalised value; its shape depends on `kind`.
    pub value: serde_json::Value,
}

/// Finds the entities in `text`.
///
/// Never panics; runs in time linear in the length of the input. Overlapping
/// candidates are resolved by preferring the longest span, then a fixed kind
/// priority (email, url, phone, time, amount, duration, ordinal, person, number). Readings
/// of different kinds over exactly the same span (a time and a number, a duration
/// and an ordinal…) are all returned, at most one per kind, ordered by that
/// priority; entities are sorted by start.
pub fn parse(text: &str, ctx: &ParseContext) -> Vec<ParsedEntity> {
    parse_with(text, ctx, Numerals::AsReaders)
}

/// How numerals inside ordinary words are treated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Numerals {
    /// As a reader takes them: 一直, 张三, 一五一十 hold no number ([`parse`]).
    AsReaders,
    /// Every numeral the scanners find, also inside words: the raw signal the learned-entity
    /// tagger's features are built from (names such as 张三 do contain a numeral).
    All,
}

pub(crate) fn parse_with(text: &str, ctx: &ParseContext, numerals: Numerals) -> Vec<ParsedEntity> {
    // Long inputs are parsed sentence by sentence (pieces of at most CHUNK_CHARS code
    // points): expressions never cross a sentence end, and bounded pieces keep the total
    // time linear in the input length whatever the scanners do inside a piece.
    if text.len() <= CHUNK_CHARS {
        return parse_piece(text, ctx, numerals);
    }
    let mut out = Vec::new();
    let mut offset = 0;
    for piece in split_bounded(text, CHUNK_CHARS) {
        let n = piece.chars().count();
        out.extend(parse_piece(piece, ctx, numerals).into_iter().map(|mut e| {
            e.start += offset;
            e.end += offset;
            e
        }));
        offset += n;
    }
    out
}

/// Largest piece handed to the scanners, in code points.
const CHUNK_CHARS: usize = 512;

/// Cuts `text` into consecutive pieces of at most `max` code points, preferably after a
/// sentence end (。！？；!?; or a newline, or ". "), else after whitespace, else anywhere.
fn split_bounded(text: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0; // byte offset of the current piece
    let mut count = 0; // code points in the current piece
    let mut sentence_cut = None; // byte offset just after the last sentence end
    let mut space_cut = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = i + c.len_utf8();
        count += 1;
        let next_char = chars.peek().map(|(_, n)| *n);
        if matches!(c, '。' | '！' | '？' | '；' | '!' | '?' | ';' | '\n')
            || (c == '.' && next_char.is_some_and(char::is_whitespace))
        {
            sentence_cut = Some(next);
        } else if c.is_whitespace() {
            space_cut = Some(next);
        }
        if count >= max {
            let cut = sentence_cut.or(space_cut).filter(|&b| b > start).unwrap_or(next);
            pieces.push(&text[start..cut]);
            count = text[cut..next].chars().count();
            start = cut;
            sentence_cut = None;
            space_cut = None;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

fn parse_piece(text: &str, ctx: &ParseContext, numerals: Numerals) -> Vec<ParsedEntity> {
    let doc = text::Doc::new(text);
    if doc.len() == 0 {
        return Vec::new();
    }
    let mut cands: Vec<Candidate> = Vec::new();
    if ctx.wants(EntityKind::Email) || ctx.wants(EntityKind::Url) || ctx.wants(EntityKind::Phone) {
        contact::scan(&doc, ctx, &mut cands);
    }
    if ctx.wants(EntityKind::Number) {
        numeral::scan(&doc, ctx.lang, &mut cands);
    }
    if ctx.wants(EntityKind::Ordinal) {
        ordinal::scan(&doc, ctx.lang, &mut cands);
    }
    if ctx.wants(EntityKind::Amount) {
        amount::scan(&doc, ctx.lang, &mut cands);
    }
    if ctx.wants(EntityKind::Duration) {
        duration::scan(&doc, ctx.lang, &mut cands);
    }
    if ctx.wants(EntityKind::Time) {
        time::scan(&doc, ctx, &mut cands);
    }
    if ctx.wants(EntityKind::Person) {
        person::scan(&doc, &mut cands);
    }
    cands.retain(|c| c.end > c.start && c.end <= doc.len() && ctx.wants(c.kind));
    if ctx.lang == Lang::Zh && numerals == Numerals::AsReaders {
        cands.retain(|c| !zh_words::is_false_numeral(&doc, c));
    }
    resolve(&doc, cands)
}

/// Longest span first, then kind priority, then leftmost; greedy non-overlapping.
/// A candidate of another kind covering exactly the same span as a kept entity is
/// kept too (one per kind): "3/15" is both a date and a fraction, "一點一" both a
/// clock time and the number 1.1, and only the caller knows which it wants (not
/// for phone numbers, e-mails and URLs, which are never also numbers).
fn resolve(doc: &text::Doc, mut cands: Vec<Candidate>) -> Vec<ParsedEntity> {
    cands.sort_by(|a, b| {
        (b.end - b.start)
            .cmp(&(a.end - a.start))
            .then(a.kind.priority().cmp(&b.kind.priority()))
            .then(a.start.cmp(&b.start))
    });
    let mut taken = vec![false; doc.len()];
    // spans kept, with the kinds already given for them
    let mut kept: std::collections::HashMap<(usize, usize), Vec<EntityKind>> = std::collections::HashMap::new();
    let mut out: Vec<ParsedEntity> = Vec::new();
    for c in cands {
        if taken[c.start..c.end].iter().any(|t| *t) {
            match kept.get_mut(&(c.start, c.end)) {
                // a phone number, e-mail or URL is not also a number
                Some(kinds)
                    if !kinds.contains(&c.kind)
                        && !kinds
                            .iter()
                            .chain([&c.kind])
                            .any(|k| matches!(k, EntityKind::Email | EntityKind::Url | EntityKind::Phone)) =>
                {
                    kinds.push(c.kind)
                }
                _ => continue,
            }
        } else {
            for t in &mut taken[c.start..c.end] {
                *t = true;
            }
            kept.insert((c.start, c.end), vec![c.kind]);
        }
        out.push(ParsedEntity {
            kind: c.kind,
            start: c.start,
            end: c.end,
            text: doc.orig_slice(c.start, c.end),
            value: c.value,
        });
    }
    out.sort_by_key(|e| (e.start, e.kind.priority()));
    out
}

#[cfg(test)]
mod tests;
