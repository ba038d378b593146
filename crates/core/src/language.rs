//! Languages an assistant speaks, and detection of the language of a message.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A language an assistant can speak. Kefu is bilingual from day one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Chinese (Mandarin, simplified or traditional script).
    Zh,
    /// English.
    En,
}

impl Language {
    /// Every supported language, in a fixed order.
    pub const ALL: [Language; 2] = [Language::Zh, Language::En];

    /// The ISO 639-1 code (`"zh"`, `"en"`).
    pub fn code(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Returned when a language code is not one Kefu supports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported language `{0}` (supported: zh, en)")]
pub struct UnknownLanguage(pub String);

impl FromStr for Language {
    type Err = UnknownLanguage;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh-hans" | "zh-tw" | "zh-hant" | "cn" | "chinese" => Ok(Language::Zh),
            "en" | "en-us" | "en-gb" | "english" => Ok(Language::En),
            other => Err(UnknownLanguage(other.to_string())),
        }
    }
}

/// True for CJK ideographs (the characters that mark Chinese text).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF | 0x3000..=0x303F | 0xFF01..=0xFF5E)
}

/// Detects the language of `text` among `candidates`.
///
/// Chinese is chosen when ideographs make up a meaningful share of the letters: a Chinese
/// message often embeds Latin order numbers or brand names ("SO123456 还没到"), so a single
/// ideograph outweighs several Latin letters. Returns `fallback` when the text has no letters
/// or only one candidate is allowed.
pub fn detect_language(text: &str, candidates: &[Language], fallback: Language) -> Language {
    if candidates.len() == 1 {
        return candidates[0];
    }
    let (mut cjk, mut latin) = (0usize, 0usize);
    // Latin letters count only in purely alphabetic words: order numbers ("SO123456"),
    // codes and units carry no language.
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '\'')) {
        if !token.is_empty() && token.chars().all(|c| c.is_ascii_alphabetic() || c == '\'') {
            latin += token.chars().filter(char::is_ascii_alphabetic).count();
        }
    }
    for c in text.chars() {
        if is_cjk(c) && c.is_alphabetic() {
            cjk += 1;
        }
    }
    if cjk == 0 && latin < 2 {
        return fallback;
    }
    let guess = if cjk == 0 && latin == 0 {
        return fallback;
    } else if cjk * 4 >= latin {
        Language::Zh
    } else {
        Language::En
    };
    if candidates.is_empty() || candidates.contains(&guess) {
        guess
    } else {
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: [Language; 2] = [Language::Zh, Language::En];

    #[test]
    fn detects_chinese_english_and_mixed() {
        assert_eq!(detect_language("我要退货", &BOTH, Language::En), Language::Zh);
        assert_eq!(detect_language("I want to return my shoes", &BOTH, Language::Zh), Language::En);
        assert_eq!(detect_language("SO123456 还没到", &BOTH, Language::En), Language::Zh);
        assert_eq!(detect_language("my order SO123456 hasn't arrived", &BOTH, Language::Zh), Language::En);
        assert_eq!(detect_language("12345", &BOTH, Language::En), Language::En);
        assert_eq!(detect_language("12345", &BOTH, Language::Zh), Language::Zh);
        assert_eq!(detect_language("SO123456", &BOTH, Language::Zh), Language::Zh);
        assert_eq!(detect_language("SO123456", &BOTH, Language::En), Language::En);
        assert_eq!(detect_language("hello", &[Language::Zh], Language::Zh), Language::Zh);
    }

    #[test]
    fn parses_codes() {
        assert_eq!("zh-CN".parse::<Language>(), Ok(Language::Zh));
        assert_eq!("EN".parse::<Language>(), Ok(Language::En));
        assert!("fr".parse::<Language>().is_err());
    }
}
