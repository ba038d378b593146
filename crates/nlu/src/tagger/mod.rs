//! Trained entity tagger: learns the entities annotated in training examples
//! (`帮[孙七](passenger)订票`, `from [Paris]{"entity": "city", "role": "from"}`) and finds
//! them in new messages.
//!
//! The model is an averaged structured perceptron with Viterbi decoding over BIO labels,
//! where a label is an (entity, role, group) triple; decoding never emits an `I` label that
//! does not continue a span of the same label. Text is cut into tokens (every CJK character
//! is one token, a run of other letters and digits is one (with apostrophes and hyphens
//! inside it: Xi'an, Jean-Luc), every other non-space character
//! is one); annotated spans snap outward to whole tokens. Each token is described by its
//! word, its neighbours, bigrams, shapes, affixes and the built-in entity kinds
//! ([`crate::entities::parse`]) covering it, so an entity trained on a few names generalises
//! to names the built-in `person` scanner finds.
//!
//! Built-in entities that are certain (amount, time, duration, number, ordinal, phone,
//! e-mail, URL) are never swallowed: [`EntityTagger::tag`] drops a predicted span that
//! crosses the boundary of one, or strictly contains one. A span equal to (or inside) a
//! built-in span is kept, so a user may specialise a number; built-in persons constrain
//! nothing. Two touching spans of the same label inside one built-in entity are merged
//! (a tagger trained on two-character names may otherwise split `欧阳娜娜`).
//!
//! Few examples teach few lengths: an entity trained only on two-character city names tags
//! the first two characters of `乌鲁木齐`. Varied examples fix that; the built-in kinds only
//! help where a built-in scanner knows the values (names, numbers, times…).
//!
//! Training 300 short examples for 15 epochs takes tens of milliseconds (release build);
//! tagging a short message takes tens of microseconds, mostly the built-in parser. Texts
//! longer than 512 tokens are tagged in pieces cut after sentence ends, so time and memory
//! stay linear.
//!
//! ```
//! use kefu_nlu::entities::Lang;
//! use kefu_nlu::tagger::{EntityTagger, TaggedSpan, TaggerConfig, TaggerExample};
//!
//! let ex = |text: &str, name: &str| {
//!     let start = text.find(name).map_or(0, |i| text[..i].chars().count());
//!     let end = start + name.chars().count();
//!     let span = TaggedSpan { start, end, entity: "passenger".into(), role: None, group: None };
//!     TaggerExample { text: text.into(), spans: vec![span] }
//! };
//! let data = vec![ex("帮孙七订票", "孙七"), ex("帮王芳订一张票", "王芳"), ex("给李雷订票", "李雷"),
//!                 TaggerExample { text: "我要订票".into(), spans: vec![] }];
//! let tagger = EntityTagger::train(&data, Lang::Zh, &TaggerConfig::default());
//! let found = tagger.tag("帮周八订票");
//! assert_eq!((found[0].start, found[0].end, found[0].entity.as_str()), (1, 3, "passenger"));
//! ```

mod cv;
mod features;
mod labels;
mod perceptron;
mod postprocess;
mod tokens;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::entities::{Lang, ParsedEntity};

pub use cv::{cross_validate, SpanScore};

use labels::SpanType;
use perceptron::{Linear, Trainer};
use tokens::Token;

/// One labelled span; offsets are Unicode code points into the text, end exclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaggedSpan {
    /// Start offset, in code points.
    pub start: usize,
    /// End offset (exclusive), in code points.
    pub end: usize,
    /// Entity name (`"passenger"`).
    pub entity: String,
    /// Role of the entity in the message (`"from"`, `"to"`), if annotated.
    pub role: Option<String>,
    /// Group the entity belongs to, if annotated.
    pub group: Option<String>,
}

/// One training message with its annotated spans; a message without spans is a negative
/// example (nothing in it is an entity) and is used as such.
#[derive(Clone, Debug)]
pub struct TaggerExample {
    /// The message text.
    pub text: String,
    /// The annotated spans (any order; overlapping ones after the first are ignored).
    pub spans: Vec<TaggedSpan>,
}

/// Training settings.
#[derive(Clone, Debug)]
pub struct TaggerConfig {
    /// Passes over the training data (default 15).
    pub epochs: usize,
    /// Seed of the example order; the same seed gives the same model.
    pub seed: u64,
}

impl Default for TaggerConfig {
    fn default() -> Self {
        TaggerConfig { epochs: 15, seed: 42 }
    }
}

/// Most (entity, role, group) combinations one tagger learns; decoding costs grow with the
/// square of their number.
pub const MAX_TYPES: usize = 256;

/// Version of the serialized tagger layout.
const FORMAT: u32 = 1;

/// A trained sequence tagger (see the [module documentation](self)).
///
/// It serializes with serde (weights, label set, language and a format version) so it can be
/// stored next to a trained bot; its `Debug` output is a short summary, not the weights.
#[derive(Clone, Serialize, Deserialize)]
pub struct EntityTagger {
    format: u32,
    lang: Lang,
    types: Vec<SpanType>,
    model: Linear,
}

impl fmt::Debug for EntityTagger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntityTagger")
            .field("lang", &self.lang)
            .field("types", &self.types)
            .field("features", &self.model.keys.len())
            .finish()
    }
}

/// A text cut into folded code points and tokens, with its built-in entities.
struct Prepared {
    chars: Vec<char>,
    tokens: Vec<Token>,
    found: Vec<ParsedEntity>,
    marks: Vec<u32>,
}

impl Prepared {
    /// Code points and tokens only; [`Prepared::with_builtins`] adds the built-ins.
    fn new(text: &str) -> Prepared {
        let chars: Vec<char> = text.chars().map(tokens::fold).collect();
        let tokens = tokens::tokenize(&chars);
        Prepared { chars, tokens, found: Vec::new(), marks: Vec::new() }
    }

    /// Runs the built-in parser over `text` (the text this was made from).
    fn with_builtins(mut self, text: &str, lang: Lang) -> Prepared {
        if !self.tokens.is_empty() {
            self.found = features::builtins(text, lang);
        }
        self.marks = features::builtin_marks(&self.found, &self.tokens);
        self
    }
}

fn span_type(s: &TaggedSpan) -> SpanType {
    SpanType { entity: s.entity.clone(), role: s.role.clone(), group: s.group.clone() }
}

/// The annotated spans of `ex` as non-overlapping token ranges `(first, last, type)`.
fn snapped(tokens: &[Token], spans: &[TaggedSpan]) -> Vec<(usize, usize, SpanType)> {
    let mut found: Vec<(usize, usize, SpanType)> =
        spans.iter().filter_map(|s| tokens::snap(tokens, s.start, s.end).map(|(a, b)| (a, b, span_type(s)))).collect();
    found.sort_by(|x, y| x.0.cmp(&y.0).then(y.1.cmp(&x.1)));
    let mut out: Vec<(usize, usize, SpanType)> = Vec::with_capacity(found.len());
    for s in found {
        if out.last().is_none_or(|last| s.0 > last.1) {
            out.push(s);
        }
    }
    out
}

impl EntityTagger {
    /// Trains a tagger on `examples` (texts in `lang`, which selects the built-in parser's
    /// language). Examples without spans are negatives. With no usable span at all the
    /// tagger is empty ([`EntityTagger::is_empty`]) and finds nothing. Spans are snapped
    /// outward to whole tokens; a span overlapping an earlier one of the same example is
    /// ignored, and so are combinations of (entity, role, group) past the first
    /// [`MAX_TYPES`] in sorted order.
    pub fn train(examples: &[TaggerExample], lang: Lang, config: &TaggerConfig) -> EntityTagger {
        let mut prepared = Vec::with_capacity(examples.len());
        let mut types = BTreeSet::new();
        for ex in examples {
            let p = Prepared::new(&ex.text);
            let spans = snapped(&p.tokens, &ex.spans);
            types.extend(spans.iter().map(|s| s.2.clone()));
            prepared.push((p, spans));
        }
        let types: Vec<SpanType> = types.into_iter().take(MAX_TYPES).collect();
        let mut tagger = EntityTagger { format: FORMAT, lang, types, model: Linear::default() };
        if tagger.types.is_empty() {
            return tagger;
        }
        let mut trainer = Trainer::new(labels::n_labels(tagger.types.len()));
        for (ex, (p, spans)) in examples.iter().zip(prepared) {
            let p = p.with_builtins(&ex.text, lang);
            for piece in tokens::pieces(&p.chars, &p.tokens) {
                let mut gold = vec![labels::OUTSIDE; piece.len()];
                for (a, b, t) in &spans {
                    // spans crossing a piece boundary (texts over 512 tokens) are left out
                    if *a < piece.start || *b >= piece.end {
                        continue;
                    }
                    let Ok(k) = tagger.types.binary_search(t) else { continue };
                    gold[a - piece.start] = labels::begin(k);
                    for g in &mut gold[a - piece.start + 1..=b - piece.start] {
                        *g = labels::inside(k);
                    }
                }
                let feats = features::extract(&p.chars, &p.tokens, &p.marks, piece);
                trainer.add(&feats, gold);
            }
        }
        tagger.model = trainer.train(config.epochs, config.seed);
        tagger
    }

    /// The entities found in `text`, sorted by start and non-overlapping. Never panics;
    /// time is linear in the length of the text.
    pub fn tag(&self, text: &str) -> Vec<TaggedSpan> {
        if self.is_empty() || text.trim().is_empty() || !self.model.is_consistent() {
            return Vec::new();
        }
        let p = Prepared::new(text).with_builtins(text, self.lang);
        let mut out = Vec::new();
        for piece in tokens::pieces(&p.chars, &p.tokens) {
            let offset = piece.start;
            let feats = features::extract(&p.chars, &p.tokens, &p.marks, piece);
            let labels = self.model.decode(&feats);
            for (a, b, k) in labels::spans_of(&labels) {
                let (Some(first), Some(last), Some(t)) =
                    (p.tokens.get(offset + a), p.tokens.get(offset + b), self.types.get(k))
                else {
                    continue;
                };
                out.push(TaggedSpan {
                    start: first.start,
                    end: last.end,
                    entity: t.entity.clone(),
                    role: t.role.clone(),
                    group: t.group.clone(),
                });
            }
        }
        let out = postprocess::merge_split_builtins(out, &p.found, &p.chars);
        postprocess::drop_swallowing(out, &p.found)
    }

    /// The entity names the tagger can output, sorted.
    pub fn labels(&self) -> Vec<String> {
        let names: BTreeSet<&String> = self.types.iter().map(|t| &t.entity).collect();
        names.into_iter().cloned().collect()
    }

    /// True when the tagger was trained on no span: [`EntityTagger::tag`] finds nothing.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

#[cfg(test)]
mod tests;
