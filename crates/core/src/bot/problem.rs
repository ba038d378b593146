//! Problems found while loading a bot, with the file and line they point at.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// One mistake in a bot definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// File the problem is in (the bot folder itself for folder-level problems).
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Every problem of a bot definition, reported together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub struct BotProblems(pub Vec<Problem>);

impl fmt::Display for BotProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the bot definition has {} problem(s)", self.0.len())?;
        for p in &self.0 {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// Finds the line of a key path (`["flows", "returns", "slots"]`) in block-style YAML text.
///
/// serde_yaml reports positions only for syntax and type errors; semantic checks (an unknown
/// intent in a flow) need the line of a node, so this walks the text by indentation. It
/// returns the deepest key it found, so a problem always points near its cause.
pub(crate) struct Locator<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { lines: text.lines().collect() }
    }

    pub(crate) fn line_of(&self, path: &[&str]) -> Option<usize> {
        let mut from = 0usize;
        let mut parent_indent: Option<usize> = None;
        let mut found = None;
        for key in path {
            let mut hit = None;
            for (i, raw) in self.lines.iter().enumerate().skip(from) {
                let content = raw.trim_start();
                if content.is_empty() || content.starts_with('#') {
                    continue;
                }
                let indent = raw.len() - content.len();
                if parent_indent.is_some_and(|p| indent <= p) {
                    break; // left the parent's block
                }
                if key_matches(content, key) {
                    hit = Some((i, indent));
                    break;
                }
            }
            match hit {
                Some((i, indent)) => {
                    found = Some(i + 1);
                    from = i + 1;
                    parent_indent = Some(indent);
                }
                None => break,
            }
        }
        found
    }

    /// The first line containing `needle` after the line of `path` (or anywhere).
    pub(crate) fn line_of_value(&self, path: &[&str], needle: &str) -> Option<usize> {
        let start = self.line_of(path).unwrap_or(1);
        self.lines
            .iter()
            .enumerate()
            .skip(start - 1)
            .find(|(_, l)| l.contains(needle))
            .map(|(i, _)| i + 1)
            .or(Some(start))
    }
}

fn key_matches(content: &str, key: &str) -> bool {
    let content = content.strip_prefix("- ").unwrap_or(content).trim_start();
    for quote in ["", "\"", "'"] {
        if let Some(rest) = content.strip_prefix(quote).and_then(|r| r.strip_prefix(key)) {
            if let Some(after) = rest.strip_prefix(quote) {
                if after.trim_start().starts_with(':') {
                    return true;
                }
            }
        }
    }
    // list items identified by `id: key`
    content.strip_prefix("id:").is_some_and(|v| v.trim().trim_matches(['"', '\'']) == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_nested_keys() {
        let text = "intents:\n  greet:\n    examples: []\nflows:\n  returns:\n    triggers: [x]\n    slots:\n      - slot: order_id\nfaq:\n  - id: ship\n    answer: {}\n";
        let l = Locator::new(text);
        assert_eq!(l.line_of(&["flows", "returns", "triggers"]), Some(6));
        assert_eq!(l.line_of(&["intents", "greet"]), Some(2));
        assert_eq!(l.line_of(&["faq", "ship", "answer"]), Some(11));
        assert_eq!(l.line_of(&["flows", "nope"]), Some(4));
        assert_eq!(l.line_of_value(&["flows", "returns"], "order_id"), Some(8));
    }
}
