//! Text analysis for the tantivy index: one tokenizer for mixed Chinese/English text.
//!
//! Runs of CJK ideographs are cut by the configured [`ChineseTokenizer`]; runs of letters and
//! digits (any script but CJK) become words, which the analyzer then limits in length,
//! lower-cases, optionally filters through tantivy's English stop-word list and stems with
//! tantivy's English (Snowball) [`Stemmer`]. The English filters leave CJK tokens untouched.
//! Everything else (spaces, punctuation, emoji, symbols) separates tokens.

use kefu_core::language::is_cjk;
use tantivy::tokenizer::{
    Language as StemLanguage, LowerCaser, RemoveLongFilter, Stemmer, StopWordFilter, TextAnalyzer, Token, TokenStream,
    Tokenizer,
};

/// How Chinese text (which has no spaces) is cut into terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChineseTokenizer {
    /// Every character (minus a few function characters) and every pair of adjacent characters.
    /// No dictionary; robust to new words and typos. The default (see the crate docs for the
    /// comparison that chose it).
    Bigram,
    /// jieba-rs word segmentation (`cut`, HMM on for unknown words).
    #[cfg(feature = "jieba")]
    Jieba,
    /// jieba-rs search-engine mode (`cut_for_search`): words plus their dictionary sub-words.
    #[cfg(feature = "jieba")]
    JiebaSearch,
}

impl ChineseTokenizer {
    /// Every mode compiled in.
    pub fn all() -> Vec<ChineseTokenizer> {
        #[allow(unused_mut)]
        let mut v = vec![ChineseTokenizer::Bigram];
        #[cfg(feature = "jieba")]
        v.extend([ChineseTokenizer::Jieba, ChineseTokenizer::JiebaSearch]);
        v
    }

    /// Short name used in the registered tokenizer name.
    pub fn code(self) -> &'static str {
        match self {
            ChineseTokenizer::Bigram => "bigram",
            #[cfg(feature = "jieba")]
            ChineseTokenizer::Jieba => "jieba",
            #[cfg(feature = "jieba")]
            ChineseTokenizer::JiebaSearch => "jiebasearch",
        }
    }
}

/// Analyzer settings; they are part of the index schema (the tokenizer name) and must not
/// change for an existing index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AnalyzerConfig {
    /// Chinese segmentation.
    pub chinese: ChineseTokenizer,
    /// Drop English stop words (tantivy's Lucene list).
    pub english_stop_words: bool,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig { chinese: ChineseTokenizer::Bigram, english_stop_words: true }
    }
}

const PREFIX: &str = "kefu_";

impl AnalyzerConfig {
    /// The tokenizer name stored in the schema, e.g. `kefu_bigram_stop`.
    pub fn tokenizer_name(&self) -> String {
        format!("{PREFIX}{}_{}", self.chinese.code(), if self.english_stop_words { "stop" } else { "nostop" })
    }

    /// Parses a name made by [`AnalyzerConfig::tokenizer_name`]; `Err` carries a reason.
    pub fn from_tokenizer_name(name: &str) -> Result<AnalyzerConfig, String> {
        let rest = name.strip_prefix(PREFIX).ok_or_else(|| format!("unknown tokenizer `{name}`"))?;
        let (zh, stop) = rest.rsplit_once('_').ok_or_else(|| format!("unknown tokenizer `{name}`"))?;
        let english_stop_words = match stop {
            "stop" => true,
            "nostop" => false,
            _ => return Err(format!("unknown tokenizer `{name}`")),
        };
        let chinese = ChineseTokenizer::all().into_iter().find(|c| c.code() == zh).ok_or_else(|| {
            format!("index uses Chinese tokenizer `{zh}`, not compiled in (enable kefu-kb's `jieba` feature)")
        })?;
        Ok(AnalyzerConfig { chinese, english_stop_words })
    }

    /// Builds the tantivy analyzer.
    pub fn analyzer(&self) -> TextAnalyzer {
        let base = TextAnalyzer::builder(KefuTokenizer { chinese: self.chinese })
            .filter(RemoveLongFilter::limit(48))
            .filter(LowerCaser);
        match (self.english_stop_words, StopWordFilter::new(StemLanguage::English)) {
            (true, Some(stop)) => base.filter(stop).filter(Stemmer::new(StemLanguage::English)).build(),
            _ => base.filter(Stemmer::new(StemLanguage::English)).build(),
        }
    }
}

/// Runs `analyzer` over `text` and returns the terms in order.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

/// Chinese characters that carry no topic (particles, pronouns, copula).
const ZH_STOP_CHARS: &str = "的了吗呢吧啊呀哦嘛么我你您是";

/// Splits mixed text: CJK runs by the Chinese mode, other letters/digits into words.
#[derive(Clone)]
pub struct KefuTokenizer {
    chinese: ChineseTokenizer,
}

/// A token stream over tokens computed up front.
pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1).min(self.tokens.len().saturating_sub(1))]
    }
    fn token_mut(&mut self) -> &mut Token {
        let i = self.next.saturating_sub(1).min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[i]
    }
}

#[derive(PartialEq, Clone, Copy)]
enum Class {
    Cjk,
    Word,
    Other,
}

fn class(c: char) -> Class {
    if is_cjk(c) && c.is_alphabetic() {
        Class::Cjk
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Other
    }
}

impl Tokenizer for KefuTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let mut tokens = Vec::new();
        let mut run_start = 0usize;
        let mut run_class = Class::Other;
        for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            let cl = if i == text.len() { Class::Other } else { class(c) };
            if cl != run_class {
                if run_class != Class::Other {
                    self.emit(&text[run_start..i], run_start, run_class, &mut tokens);
                }
                run_start = i;
                run_class = cl;
            }
        }
        // Placeholder token so `token()` never indexes an empty vector.
        if tokens.is_empty() {
            return VecTokenStream { tokens: vec![Token::default()], next: 1 };
        }
        VecTokenStream { tokens, next: 0 }
    }
}

impl KefuTokenizer {
    fn push(tokens: &mut Vec<Token>, text: &str, from: usize, to: usize) {
        let position = tokens.len();
        tokens.push(Token { offset_from: from, offset_to: to, position, text: text.to_string(), position_length: 1 });
    }

    fn emit(&self, run: &str, base: usize, class: Class, tokens: &mut Vec<Token>) {
        if class == Class::Word {
            Self::push(tokens, run, base, base + run.len());
            return;
        }
        match self.chinese {
            ChineseTokenizer::Bigram => {
                let chars: Vec<(usize, char)> = run.char_indices().collect();
                for (k, &(off, c)) in chars.iter().enumerate() {
                    let end = off + c.len_utf8();
                    if !ZH_STOP_CHARS.contains(c) || chars.len() == 1 {
                        Self::push(tokens, &run[off..end], base + off, base + end);
                    }
                    if let Some(&(noff, nc)) = chars.get(k + 1) {
                        let nend = noff + nc.len_utf8();
                        Self::push(tokens, &run[off..nend], base + off, base + nend);
                    }
                }
            }
            #[cfg(feature = "jieba")]
            ChineseTokenizer::Jieba | ChineseTokenizer::JiebaSearch => {
                let jieba = jieba();
                let words = if self.chinese == ChineseTokenizer::Jieba {
                    jieba.cut(run, true)
                } else {
                    jieba.cut_for_search(run, true)
                };
                for w in words {
                    let single_stop = w.word.chars().count() == 1 && w.word.chars().all(|c| ZH_STOP_CHARS.contains(c));
                    if !single_stop {
                        Self::push(tokens, w.word, base + w.byte_start, base + w.byte_end);
                    }
                }
            }
        }
    }
}

#[cfg(feature = "jieba")]
fn jieba() -> &'static jieba_rs::Jieba {
    static JIEBA: std::sync::OnceLock<jieba_rs::Jieba> = std::sync::OnceLock::new();
    JIEBA.get_or_init(jieba_rs::Jieba::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cfg: AnalyzerConfig, text: &str) -> Vec<String> {
        terms(&mut cfg.analyzer(), text)
    }

    #[test]
    fn english_is_lowercased_stemmed_and_stop_filtered() {
        let t = run(AnalyzerConfig::default(), "How many days for Returns? Shipping!");
        assert_eq!(t, vec!["how", "mani", "day", "return", "ship"]);
    }

    #[test]
    fn chinese_bigrams_and_mixed_text() {
        let t = run(AnalyzerConfig::default(), "iPhone能退货吗");
        assert_eq!(t, vec!["iphon", "能", "能退", "退", "退货", "货", "货吗"]);
    }

    #[test]
    fn tokenizer_names_round_trip() {
        for chinese in ChineseTokenizer::all() {
            for english_stop_words in [true, false] {
                let cfg = AnalyzerConfig { chinese, english_stop_words };
                assert_eq!(AnalyzerConfig::from_tokenizer_name(&cfg.tokenizer_name()), Ok(cfg));
            }
        }
        assert!(AnalyzerConfig::from_tokenizer_name("default").is_err());
    }

    #[test]
    fn odd_input_gives_no_panic() {
        for text in ["", "   ", "🙂🙂", "\"a:b\" (c) [d] {e} ^2 ~ * ?", "\u{0}\u{feff}"] {
            let _ = run(AnalyzerConfig::default(), text);
        }
    }
}
