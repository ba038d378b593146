//! Text normalisation applied to every user message before NLU.

use unicode_normalization::UnicodeNormalization;

/// Normalises a user message: Unicode NFKC (which also folds full-width ASCII such as
/// `ＳＯ１２３` to `SO123` and the ideographic space to a plain one), control characters
/// dropped, runs of whitespace collapsed, ends trimmed. Case is kept: entity values such
/// as order numbers and e-mail addresses are case-sensitive to the user.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkc() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c.is_control() || is_invisible(c) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_and_spaces() {
        assert_eq!(normalize("  ＳＯ１２３４５６\u{3000}还没到！ "), "SO123456 还没到!");
        assert_eq!(normalize("a\u{0007}b\u{200B}c\n\n d"), "abc d");
        assert_eq!(normalize(""), "");
    }
}
