//! Static sub-word vectors: a sentence embedding made of table look-ups, no network.
//!
//! The built-in table (`assets/minilm-static-256.kvec`, feature `static-vectors`) was distilled
//! from all-MiniLM-L6-v2 by `assets/distill_static_vectors.py`: one 256-d vector per ASCII
//! WordPiece token of its vocabulary. A text is cut like BERT's uncased tokenizer cuts it
//! (lower-case, accents stripped, punctuation split off, greedy longest-match WordPiece) and its
//! vector is the L2-normalised mean of its tokens' vectors. It gives the lexical model what
//! n-grams cannot: "cash machine" lands near "ATM". Text with no known token (Chinese, for
//! instance: the table is for Latin-script text) gets no vector.
//!
//! File layout (little-endian): magic `KEFUVEC\0`, `u32` version (1), `u64` payload length,
//! payload, `u64` FNV-1a checksum of the payload. Payload: `u32` dim, `u32` count, `count`
//! tokens (`u8` length + ASCII bytes, continuation pieces keep their `##` prefix), `count`
//! `f32` row scales, `count * dim` `i8` values.

// Without the built-in table only the tests parse tables.
#![cfg_attr(not(feature = "static-vectors"), allow(dead_code))]

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use super::model_file::fnv1a;
use super::LexicalError;

const MAGIC: &[u8; 8] = b"KEFUVEC\0";
const VERSION: u32 = 1;
/// Words longer than this (in characters) are skipped, as BERT maps them to `[UNK]`.
const MAX_WORD_CHARS: usize = 100;

/// A loaded static vector table.
#[derive(Debug)]
pub(crate) struct StaticVectors {
    dim: usize,
    /// Word-initial pieces.
    first: HashMap<Box<str>, u32>,
    /// Continuation pieces (`##` removed).
    cont: HashMap<Box<str>, u32>,
    scales: Vec<f32>,
    values: Vec<i8>,
}

/// Reusable buffers for [`StaticVectors::embed_into`].
#[derive(Default, Debug)]
pub(crate) struct EmbedScratch {
    word: String,
    ids: Vec<u32>,
    /// Words of the current text found whole in the vocabulary.
    whole_words: usize,
}

impl StaticVectors {
    /// Parses a table; every size is checked, so bad input is an error, never a panic.
    pub(crate) fn parse(data: &[u8]) -> Result<Self, LexicalError> {
        let bad = |m: &str| LexicalError::Corrupt(format!("static vectors: {m}"));
        if data.len() < 20 || &data[..8] != MAGIC {
            return Err(bad("bad magic bytes"));
        }
        let version = u32::from_le_bytes([data[8], data[9], data[10], data[11]]);
        if version != VERSION {
            return Err(bad(&format!("unsupported version {version}")));
        }
        let mut len8 = [0u8; 8];
        len8.copy_from_slice(&data[12..20]);
        let plen = usize::try_from(u64::from_le_bytes(len8)).map_err(|_| bad("payload too large"))?;
        let end = 20usize.checked_add(plen).filter(|e| e.checked_add(8) == Some(data.len()));
        let end = end.ok_or_else(|| bad("length does not match the file size"))?;
        let payload = &data[20..end];
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&data[end..]);
        if u64::from_le_bytes(sum) != fnv1a(payload) {
            return Err(bad("checksum mismatch"));
        }
        let mut pos = 0usize;
        let mut take = |n: usize| -> Result<&[u8], LexicalError> {
            let e = pos.checked_add(n).filter(|&e| e <= payload.len()).ok_or_else(|| bad("truncated payload"))?;
            let s = &payload[pos..e];
            pos = e;
            Ok(s)
        };
        let u32_of = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let dim = u32_of(take(4)?);
        let count = u32_of(take(4)?);
        if dim == 0 || dim > 4096 || count > 1_000_000 {
            return Err(bad("implausible sizes"));
        }
        let (mut first, mut cont) = (HashMap::new(), HashMap::new());
        for row in 0..count {
            let n = take(1)?[0] as usize;
            let token = std::str::from_utf8(take(n)?).map_err(|_| bad("token is not UTF-8"))?;
            match token.strip_prefix("##") {
                Some(piece) if !piece.is_empty() => cont.insert(piece.into(), row as u32),
                _ => first.insert(token.into(), row as u32),
            };
        }
        let scales: Vec<f32> =
            take(count * 4)?.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        if scales.iter().any(|s| !s.is_finite()) {
            return Err(bad("non-finite scale"));
        }
        let values: Vec<i8> = take(count * dim)?.iter().map(|&b| b as i8).collect();
        if pos != payload.len() {
            return Err(bad("trailing bytes in payload"));
        }
        Ok(Self { dim, first, cont, scales, values })
    }

    /// The built-in table, parsed once. `None` when this build was made without the
    /// `static-vectors` feature.
    pub(crate) fn builtin() -> Option<Result<&'static Self, LexicalError>> {
        #[cfg(feature = "static-vectors")]
        {
            static TABLE: std::sync::OnceLock<Result<StaticVectors, String>> = std::sync::OnceLock::new();
            const BYTES: &[u8] = include_bytes!("../../assets/minilm-static-256.kvec");
            let parsed = TABLE.get_or_init(|| Self::parse(BYTES).map_err(|e| e.to_string()));
            Some(parsed.as_ref().map_err(|e| LexicalError::Corrupt(e.clone())))
        }
        #[cfg(not(feature = "static-vectors"))]
        {
            None
        }
    }

    /// Vector dimension.
    pub(crate) fn dim(&self) -> usize {
        self.dim
    }

    /// Writes the text's unit-length vector times `weight` into `out` (length `dim`).
    /// Returns false, leaving `out` at zero, when the text has no known token.
    pub(crate) fn embed_into(&self, text: &str, weight: f32, s: &mut EmbedScratch, out: &mut [f32]) -> bool {
        out.iter_mut().for_each(|v| *v = 0.0);
        self.tokenize(text, s);
        if s.ids.is_empty() {
            return false;
        }
        for &id in &s.ids {
            let row = id as usize;
            let scale = self.scales[row];
            let vals = &self.values[row * self.dim..(row + 1) * self.dim];
            for (o, &q) in out.iter_mut().zip(vals) {
                *o += scale * f32::from(q);
            }
        }
        let norm = out.iter().map(|v| v * v).sum::<f32>().sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            out.iter_mut().for_each(|v| *v = 0.0);
            return false;
        }
        let k = weight / norm;
        out.iter_mut().for_each(|v| *v *= k);
        true
    }

    /// BERT-style basic tokenisation followed by WordPiece; pushes token rows into `s.ids`.
    fn tokenize(&self, text: &str, s: &mut EmbedScratch) {
        s.word.clear();
        s.ids.clear();
        s.whole_words = 0;
        for c in text.nfd() {
            if is_combining_mark(c) {
                continue;
            }
            if c.is_whitespace() || c.is_control() {
                self.flush_word(s);
            } else if is_split_char(c) {
                self.flush_word(s);
                s.word.push(c);
                self.flush_word(s);
            } else {
                s.word.extend(c.to_lowercase());
            }
        }
        self.flush_word(s);
        if s.whole_words == 0 {
            // Only pieces of unknown words ("wubba lubba"): gibberish, not a sentence.
            s.ids.clear();
        }
    }

    /// Looks up the pending word, whole or else cut into WordPiece pieces.
    fn flush_word(&self, s: &mut EmbedScratch) {
        if s.word.is_empty() {
            return;
        }
        let word = std::mem::take(&mut s.word);
        // Numbers and identifiers (order numbers, amounts, phone numbers) say nothing about
        // the intent: a bare "SO123456" must not look like any sentence.
        let has_digit = word.bytes().any(|b| b.is_ascii_digit());
        if !has_digit && word.chars().count() <= MAX_WORD_CHARS {
            if let Some(&id) = self.first.get(word.as_str()) {
                s.ids.push(id);
                s.whole_words += 1;
            } else {
                self.push_pieces(&word, s);
            }
        }
        s.word = word;
        s.word.clear();
    }

    /// Greedy longest-match-first WordPiece; a word that cannot be cut into known pieces is
    /// skipped whole (BERT's `[UNK]`).
    fn push_pieces(&self, word: &str, s: &mut EmbedScratch) {
        let mark = s.ids.len();
        let mut start = 0usize;
        while start < word.len() {
            let map = if start == 0 { &self.first } else { &self.cont };
            let mut end = word.len();
            let mut found = None;
            while end > start {
                if word.is_char_boundary(end) {
                    if let Some(&id) = map.get(&word[start..end]) {
                        found = Some(id);
                        break;
                    }
                }
                end -= 1;
            }
            match found {
                Some(id) => {
                    s.ids.push(id);
                    start = end;
                }
                None => {
                    s.ids.truncate(mark);
                    return;
                }
            }
        }
    }
}

/// Characters BERT's basic tokenizer cuts out as tokens of their own: punctuation and
/// symbols, and CJK ideographs.
fn is_split_char(c: char) -> bool {
    c.is_ascii_punctuation() || (!c.is_alphanumeric() && !c.is_whitespace()) || is_cjk(c)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// True when the text is mostly Latin-script letters (more ASCII letters than other letters).
pub(crate) fn is_latin_text(text: &str) -> bool {
    let (mut ascii, mut other) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        if c.is_ascii_alphabetic() {
            ascii += 1;
        } else {
            other += 1;
        }
    }
    ascii > other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(tokens: &[&str], dim: usize) -> Vec<u8> {
        let mut payload = Vec::new();
        payload.extend_from_slice(&(dim as u32).to_le_bytes());
        payload.extend_from_slice(&(tokens.len() as u32).to_le_bytes());
        for t in tokens {
            payload.push(t.len() as u8);
            payload.extend_from_slice(t.as_bytes());
        }
        for _ in tokens {
            payload.extend_from_slice(&1.0f32.to_le_bytes());
        }
        for (i, _) in tokens.iter().enumerate() {
            for j in 0..dim {
                payload.push(if j == i % dim { 10u8 } else { 0 });
            }
        }
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&fnv1a(&payload).to_le_bytes());
        out
    }

    fn ids(v: &StaticVectors, text: &str) -> Vec<u32> {
        let mut s = EmbedScratch::default();
        v.tokenize(text, &mut s);
        s.ids
    }

    #[test]
    fn wordpiece_cuts_like_bert() {
        let v = StaticVectors::parse(&table(&["card", "##s", "top", "-", "up", "cafe", "!"], 8)).unwrap();
        assert_eq!(ids(&v, "Cards top"), vec![0, 1, 2]);
        // Only pieces of unknown words, no whole word: gibberish gets no vector.
        assert!(ids(&v, "Cards").is_empty());
        // Numbers and identifiers are skipped.
        assert_eq!(ids(&v, "top SO123456"), vec![2]);
        assert_eq!(ids(&v, "top-up!"), vec![2, 3, 4, 6]);
        assert_eq!(ids(&v, "Café"), vec![5]);
        // An unknown word is skipped whole; Chinese has no token in the table.
        assert_eq!(ids(&v, "cardx top"), vec![2]);
        assert!(ids(&v, "我的卡").is_empty());
    }

    #[test]
    fn embedding_is_unit_length_times_weight() {
        let v = StaticVectors::parse(&table(&["card", "top"], 4)).unwrap();
        let mut s = EmbedScratch::default();
        let mut out = vec![0.0; 4];
        assert!(v.embed_into("card top", 2.0, &mut s, &mut out));
        let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 2.0).abs() < 1e-5, "{norm}");
        assert!(!v.embed_into("???", 2.0, &mut s, &mut out));
        assert!(out.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn corrupt_tables_are_errors() {
        let good = table(&["card"], 4);
        assert!(StaticVectors::parse(&good).is_ok());
        assert!(StaticVectors::parse(&good[..good.len() - 1]).is_err());
        let mut flipped = good.clone();
        flipped[25] ^= 1;
        assert!(StaticVectors::parse(&flipped).is_err());
        assert!(StaticVectors::parse(b"KEFUVEC\0").is_err());
        assert!(StaticVectors::parse(&[]).is_err());
    }

    #[cfg(feature = "static-vectors")]
    #[test]
    fn builtin_table_puts_paraphrases_together() {
        let v = StaticVectors::builtin().unwrap().unwrap();
        let mut s = EmbedScratch::default();
        let mut e = |t: &str| {
            let mut out = vec![0.0; v.dim()];
            assert!(v.embed_into(t, 1.0, &mut s, &mut out), "{t}");
            out
        };
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        let atm = e("where is the nearest atm");
        let cash = e("where can I find a cash machine");
        let weather = e("it will rain tomorrow afternoon");
        assert!(dot(&atm, &cash) > dot(&atm, &weather), "{} vs {}", dot(&atm, &cash), dot(&atm, &weather));
    }
}
