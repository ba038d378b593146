//! Token features for the tagger, hashed to `u64` keys.
//!
//! Per token: the lower-cased token and its neighbours at -2..+2, the bigrams with its
//! neighbours, the shapes of the token and its neighbours (`Xx`, `x`, `d`, CJK, punctuation),
//! capitalisation, prefixes and suffixes of words, sentence start and end, and the built-in
//! entity kinds ([`crate::entities::parse`]) that cover the token (`person:B`, `time:I`…)
//! or its neighbours. The built-in kinds let a trained entity generalise to values the
//! built-in scanners recognise but the training data never showed (a new name).
//!
//! All hashing is our own (FNV-1a over code points, then SplitMix64's finaliser), so keys
//! are stable across platforms and Rust versions and can be stored with the model.

use std::ops::Range;

use crate::entities::{self, EntityKind, Lang, ParseContext, ParsedEntity};

use super::tokens::{class_of, Token, TokenClass};

/// Feature families; each seeds its own keys so equal values in two families differ.
#[derive(Clone, Copy)]
#[repr(u64)]
enum Family {
    Bias = 1,
    Word,
    WordM1,
    WordM2,
    WordP1,
    WordP2,
    BigramM1,
    BigramP1,
    BigramM2M1,
    BigramP1P2,
    Shape,
    ShapeM1,
    ShapeP1,
    Capitalised,
    Prefix,
    Suffix,
    First,
    Last,
    Builtin,
    BuiltinM1,
    BuiltinP1,
}

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;
/// Token ids of the padding around a sequence.
const PAD_BEFORE: [u64; 2] = [0x5BD1_E995_0000_0001, 0x5BD1_E995_0000_0002];
const PAD_AFTER: [u64; 2] = [0x5BD1_E995_0000_0003, 0x5BD1_E995_0000_0004];

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over code points, finalised.
fn hash_chars(chars: impl IntoIterator<Item = char>) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for c in chars {
        h = (h ^ u64::from(u32::from(c))).wrapping_mul(0x0100_0000_01B3);
    }
    mix(h)
}

fn key1(f: Family, a: u64) -> u64 {
    mix((f as u64).wrapping_mul(MUL) ^ a)
}

fn key2(f: Family, a: u64, b: u64) -> u64 {
    mix(key1(f, a).wrapping_mul(MUL) ^ b.rotate_left(17))
}

/// Kinds of built-in entity; a token's marks have bit `2k` when kind `k` starts on the
/// token and bit `2k + 1` when the token continues it.
fn kind_index(k: EntityKind) -> usize {
    EntityKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

/// Runs the built-in parser at a fixed reference time (only the kinds and spans matter).
pub(crate) fn builtins(text: &str, lang: Lang) -> Vec<ParsedEntity> {
    let now = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(12, 0, 0)).unwrap_or_default();
    // every numeral, also inside names (张三): a raw signal; the model learns what it means
    entities::parse_with(text, &ParseContext::new(lang, now), entities::Numerals::All)
}

/// Per token, the built-in kinds covering it (see [`kind_index`]).
pub(crate) fn builtin_marks(found: &[ParsedEntity], tokens: &[Token]) -> Vec<u32> {
    let mut marks = vec![0u32; tokens.len()];
    for e in found {
        let bit = 2 * kind_index(e.kind);
        let first = tokens.partition_point(|t| t.end <= e.start);
        let mut i = first;
        while i < tokens.len() && tokens[i].start < e.end {
            marks[i] |= 1 << if i == first { bit } else { bit + 1 };
            i += 1;
        }
    }
    marks
}

/// What is computed once per token before the features are put together.
struct TokenInfo {
    id: u64,
    shape: u64,
    class: TokenClass,
    capitalised: bool,
}

fn token_info(chars: &[char], t: Token) -> TokenInfo {
    let text = &chars[t.start..t.end];
    let first = text.first().copied().unwrap_or(' ');
    let class = class_of(first);
    let id = hash_chars(text.iter().flat_map(|c| c.to_lowercase()));
    let shape = match class {
        TokenClass::Cjk => 1,
        TokenClass::Punct => 2,
        TokenClass::Symbol => 3,
        TokenClass::Word => {
            // Runs of one class collapse: "Maria" -> "Xx", "3pm" -> "dx", "SO123" -> "Xd".
            let mut shape = Vec::with_capacity(8);
            for &c in text {
                let s = if c.is_ascii_digit() || c.is_numeric() {
                    'd'
                } else if c.is_uppercase() {
                    'X'
                } else if c.is_lowercase() {
                    'x'
                } else {
                    'a'
                };
                if shape.last() != Some(&s) {
                    if shape.len() == 8 {
                        break;
                    }
                    shape.push(s);
                }
            }
            hash_chars(shape)
        }
    };
    TokenInfo { id, shape, class, capitalised: first.is_uppercase() }
}

/// The hashed features of the tokens of one piece, flattened: token `j` of the piece has
/// `keys[offsets[j]..offsets[j + 1]]`.
#[derive(Default, Debug)]
pub(crate) struct PieceFeatures {
    pub keys: Vec<u64>,
    pub offsets: Vec<usize>,
}

impl PieceFeatures {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The keys of token `j`.
    pub fn token(&self, j: usize) -> &[u64] {
        match (self.offsets.get(j), self.offsets.get(j + 1)) {
            (Some(&a), Some(&b)) => self.keys.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Features of the tokens `piece` of `tokens` over the folded code points `chars`;
/// `marks` are the built-in marks of all tokens.
pub(crate) fn extract(chars: &[char], tokens: &[Token], marks: &[u32], piece: Range<usize>) -> PieceFeatures {
    let toks = tokens.get(piece.clone()).unwrap_or(&[]);
    let marks = marks.get(piece).unwrap_or(&[]);
    let info: Vec<TokenInfo> = toks.iter().map(|&t| token_info(chars, t)).collect();
    let n = info.len();
    let id_at = |j: isize| -> u64 {
        if j < 0 {
            PAD_BEFORE[usize::from(j < -1)]
        } else {
            let j = j.unsigned_abs();
            info.get(j).map_or(PAD_AFTER[usize::from(j > n)], |t| t.id)
        }
    };
    let shape_at = |j: isize| -> u64 {
        if j < 0 {
            PAD_BEFORE[0]
        } else {
            info.get(j.unsigned_abs()).map_or(PAD_AFTER[0], |t| t.shape)
        }
    };
    let kinds: Vec<u64> = EntityKind::ALL.iter().map(|k| hash_chars(k.as_str().chars())).collect();
    let mut out = PieceFeatures { keys: Vec::with_capacity(n * 28), offsets: Vec::with_capacity(n + 1) };
    out.offsets.push(0);
    for (j, tok) in info.iter().enumerate() {
        let k = &mut out.keys;
        let i = j as isize;
        let (m2, m1, w, p1, p2) = (id_at(i - 2), id_at(i - 1), tok.id, id_at(i + 1), id_at(i + 2));
        k.push(key1(Family::Bias, 0));
        k.push(key1(Family::Word, w));
        k.push(key1(Family::WordM1, m1));
        k.push(key1(Family::WordM2, m2));
        k.push(key1(Family::WordP1, p1));
        k.push(key1(Family::WordP2, p2));
        k.push(key2(Family::BigramM1, m1, w));
        k.push(key2(Family::BigramP1, w, p1));
        k.push(key2(Family::BigramM2M1, m2, m1));
        k.push(key2(Family::BigramP1P2, p1, p2));
        k.push(key1(Family::Shape, tok.shape));
        k.push(key1(Family::ShapeM1, shape_at(i - 1)));
        k.push(key1(Family::ShapeP1, shape_at(i + 1)));
        if tok.capitalised {
            k.push(key1(Family::Capitalised, 1));
        }
        if tok.class == TokenClass::Word {
            let t = toks[j];
            let lower: Vec<char> =
                chars[t.start..t.end.min(t.start + 64)].iter().flat_map(|c| c.to_lowercase()).collect();
            if lower.len() >= 3 {
                for len in 1..=3 {
                    k.push(key2(Family::Prefix, len as u64, hash_chars(lower[..len].iter().copied())));
                    k.push(key2(Family::Suffix, len as u64, hash_chars(lower[lower.len() - len..].iter().copied())));
                }
            }
        }
        if j == 0 {
            k.push(key1(Family::First, 0));
        }
        if j + 1 == n {
            k.push(key1(Family::Last, 0));
        }
        let mark = marks.get(j).copied().unwrap_or(0);
        let before = if j > 0 { marks.get(j - 1).copied().unwrap_or(0) } else { 0 };
        let after = marks.get(j + 1).copied().unwrap_or(0);
        for (ki, &kh) in kinds.iter().enumerate() {
            let (b, inner) = (1u32 << (2 * ki), 1u32 << (2 * ki + 1));
            if mark & b != 0 {
                k.push(key2(Family::Builtin, kh, 0));
            }
            if mark & inner != 0 {
                k.push(key2(Family::Builtin, kh, 1));
            }
            if before & (b | inner) != 0 {
                k.push(key1(Family::BuiltinM1, kh));
            }
            if after & (b | inner) != 0 {
                k.push(key1(Family::BuiltinP1, kh));
            }
        }
        out.offsets.push(k.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tokens::{fold, tokenize};
    use super::*;

    fn feats(text: &str, lang: Lang) -> (Vec<Token>, Vec<u32>, PieceFeatures) {
        let chars: Vec<char> = text.chars().map(fold).collect();
        let tokens = tokenize(&chars);
        let marks = builtin_marks(&builtins(text, lang), &tokens);
        let f = extract(&chars, &tokens, &marks, 0..tokens.len());
        (tokens, marks, f)
    }

    #[test]
    fn builtin_person_marks_begin_and_inside() {
        let (tokens, marks, f) = feats("for Tom Baker", Lang::En);
        assert_eq!(tokens.len(), 3);
        let person = kind_index(EntityKind::Person);
        assert_eq!(marks, [0, 1 << (2 * person), 1 << (2 * person + 1)]);
        assert_eq!(f.len(), 3);
        let (_, marks, _) = feats("帮周八订票", Lang::Zh);
        assert_eq!(marks[1], 1 << (2 * person));
        assert_eq!(marks[2], 1 << (2 * person + 1));
    }

    #[test]
    fn case_and_width_do_not_change_word_keys() {
        let (_, _, a) = feats("book it", Lang::En);
        let (_, _, b) = feats("BOOK ｉｔ", Lang::En);
        // same word and context keys; shapes and capitalisation differ
        assert_eq!(a.token(0)[..10], b.token(0)[..10]);
        assert_ne!(a.token(0), b.token(0));
        assert!(a.token(99).is_empty());
    }
}
