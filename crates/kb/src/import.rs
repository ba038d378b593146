//! Bulk import of FAQ entries from YAML, JSON or CSV files.
//!
//! * **YAML / JSON** (`.yaml`, `.yml`, `.json`): a list of entries in the bot format, or a map
//!   with that list under `faq` (so a bot's `faq.yaml` imports as is):
//!   `[{id, questions: {zh: [..], en: [..]}, answer: {zh, en}, tags: [..]}]`.
//! * **CSV** (`.csv`, UTF-8, optional header): columns `id,language,question,answer[,tags]`, one
//!   question variant per row. Rows with the same `id` merge into one entry; the answer of a
//!   language may repeat but must not differ; `tags` are separated by `|`, `;` or `,`. With a
//!   header row (first cell `id`), columns may come in any order.
//!
//! Every error names the file and, where known, the line (CSV: the record's line); nothing panics.

use crate::error::{Error, Result};
use kefu_core::bot::FaqEntry;
use kefu_core::language::Language;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A supported import format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    /// YAML list (or `faq:` map) of entries.
    Yaml,
    /// JSON list (or `{"faq": [...]}`) of entries.
    Json,
    /// CSV rows `id,language,question,answer[,tags]`.
    Csv,
}

impl ImportFormat {
    /// The format of a path, by extension.
    pub fn from_path(path: &Path) -> Option<ImportFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(ImportFormat::Yaml),
            "json" => Some(ImportFormat::Json),
            "csv" => Some(ImportFormat::Csv),
            _ => None,
        }
    }
}

/// Reads and validates a file of entries.
pub fn read_entries(path: &Path) -> Result<Vec<FaqEntry>> {
    let format = ImportFormat::from_path(path).ok_or_else(|| Error::UnsupportedFormat { file: path.to_path_buf() })?;
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    parse_entries(&bytes, format, path)
}

/// Parses and validates entries from bytes; `file` is only used in errors.
pub fn parse_entries(bytes: &[u8], format: ImportFormat, file: &Path) -> Result<Vec<FaqEntry>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let entries = match format {
        ImportFormat::Csv => parse_csv(bytes, file)?,
        ImportFormat::Yaml | ImportFormat::Json => {
            let text = std::str::from_utf8(bytes).map_err(|e| Error::Parse {
                file: file.to_path_buf(),
                line: Some(line_of_offset(bytes, e.valid_up_to())),
                message: format!("not UTF-8: {e}"),
            })?;
            if format == ImportFormat::Yaml {
                parse_yaml(text, file)?
            } else {
                parse_json(text, file)?
            }
        }
    };
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        validate(e).map_err(|message| Error::InvalidEntry {
            file: Some(file.to_path_buf()),
            line: None,
            id: e.id.clone(),
            message: format!("{message} (entry #{})", i + 1),
        })?;
        if let Some(first) = seen.insert(e.id.as_str(), i) {
            return Err(Error::InvalidEntry {
                file: Some(file.to_path_buf()),
                line: None,
                id: e.id.clone(),
                message: format!("duplicate id (entries #{} and #{})", first + 1, i + 1),
            });
        }
    }
    Ok(entries)
}

/// Checks that an entry can be indexed and answered: non-empty id without control characters,
/// at least one non-blank question, at least one non-blank answer.
pub fn validate(e: &FaqEntry) -> Result<(), String> {
    if e.id.trim().is_empty() {
        return Err("empty id".into());
    }
    if e.id.chars().any(char::is_control) {
        return Err("id contains control characters".into());
    }
    if !e.questions.values().flatten().any(|q| !q.trim().is_empty()) {
        return Err("no question".into());
    }
    if !e.answer.values().any(|a| !a.trim().is_empty()) {
        return Err("no answer".into());
    }
    Ok(())
}

fn line_of_offset(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

#[derive(serde::Deserialize)]
struct Wrapped {
    faq: Vec<FaqEntry>,
}

fn parse_yaml(text: &str, file: &Path) -> Result<Vec<FaqEntry>> {
    let err = |e: serde_yaml::Error| Error::Parse {
        file: file.to_path_buf(),
        line: e.location().map(|l| l.line()),
        message: e.to_string(),
    };
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(err)?;
    if value.is_null() {
        return Ok(Vec::new());
    }
    if value.is_mapping() {
        serde_yaml::from_str::<Wrapped>(text).map(|w| w.faq).map_err(err)
    } else {
        serde_yaml::from_str::<Vec<FaqEntry>>(text).map_err(err)
    }
}

fn parse_json(text: &str, file: &Path) -> Result<Vec<FaqEntry>> {
    let err = |e: serde_json::Error| Error::Parse {
        file: file.to_path_buf(),
        line: Some(e.line()).filter(|&l| l > 0),
        message: e.to_string(),
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(err)?;
    if value.is_object() {
        serde_json::from_str::<Wrapped>(text).map(|w| w.faq).map_err(err)
    } else {
        serde_json::from_str::<Vec<FaqEntry>>(text).map_err(err)
    }
}

#[derive(Clone, Copy)]
struct Columns {
    id: usize,
    language: usize,
    question: usize,
    answer: usize,
    tags: Option<usize>,
}

const DEFAULT_COLUMNS: Columns = Columns { id: 0, language: 1, question: 2, answer: 3, tags: Some(4) };

fn parse_csv(bytes: &[u8], file: &Path) -> Result<Vec<FaqEntry>> {
    let file_buf: PathBuf = file.to_path_buf();
    let parse_err = |line: Option<usize>, message: String| Error::Parse { file: file_buf.clone(), line, message };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut order: Vec<String> = Vec::new();
    let mut entries: HashMap<String, FaqEntry> = HashMap::new();
    let mut answer_line: HashMap<(String, Language), usize> = HashMap::new();
    let mut columns: Option<Columns> = None;
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            parse_err(line, format!("bad CSV: {e}"))
        })?;
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let cols = match columns {
            Some(c) => c,
            None => {
                let first = record.get(0).unwrap_or("").trim().to_ascii_lowercase();
                if first == "id" {
                    columns = Some(header_columns(&record).map_err(|m| parse_err(Some(line), m))?);
                    continue;
                }
                columns = Some(DEFAULT_COLUMNS);
                DEFAULT_COLUMNS
            }
        };
        let field = |i: usize, name: &str| -> Result<String> {
            record.get(i).map(|s| s.trim().to_string()).ok_or_else(|| {
                parse_err(Some(line), format!("missing column `{name}` (expected id,language,question,answer[,tags])"))
            })
        };
        let id = field(cols.id, "id")?;
        let lang_text = field(cols.language, "language")?;
        let question = field(cols.question, "question")?;
        let answer = field(cols.answer, "answer")?;
        let tags = cols.tags.and_then(|i| record.get(i)).unwrap_or("");
        let invalid = |message: String| Error::InvalidEntry {
            file: Some(file.to_path_buf()),
            line: Some(line),
            id: id.clone(),
            message,
        };
        if id.is_empty() {
            return Err(invalid("empty id".into()));
        }
        let language = Language::from_str(&lang_text).map_err(|e| invalid(e.to_string()))?;
        if question.is_empty() {
            return Err(invalid("empty question".into()));
        }
        let entry = entries.entry(id.clone()).or_insert_with(|| {
            order.push(id.clone());
            FaqEntry { id: id.clone(), questions: BTreeMap::new(), answer: BTreeMap::new(), tags: Vec::new() }
        });
        entry.questions.entry(language).or_default().push(question);
        if !answer.is_empty() {
            match entry.answer.get(&language) {
                Some(existing) if *existing != answer => {
                    let first = answer_line.get(&(id.clone(), language)).copied().unwrap_or(0);
                    return Err(invalid(format!("{language} answer differs from the one on line {first}")));
                }
                Some(_) => {}
                None => {
                    entry.answer.insert(language, answer);
                    answer_line.insert((id.clone(), language), line);
                }
            }
        }
        for tag in tags.split(['|', ';', ',']).map(str::trim).filter(|t| !t.is_empty()) {
            if !entry.tags.iter().any(|t| t == tag) {
                entry.tags.push(tag.to_string());
            }
        }
    }
    Ok(order.into_iter().filter_map(|id| entries.remove(&id)).collect())
}

fn header_columns(record: &csv::StringRecord) -> Result<Columns, String> {
    let find = |name: &str| record.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let need = |name: &str| find(name).ok_or_else(|| format!("header lacks column `{name}`"));
    Ok(Columns {
        id: need("id")?,
        language: need("language")?,
        question: need("question")?,
        answer: need("answer")?,
        tags: find("tags"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str, f: ImportFormat) -> Result<Vec<FaqEntry>> {
        parse_entries(text.as_bytes(), f, Path::new("faq.x"))
    }

    #[test]
    fn csv_merges_rows_and_reports_lines() {
        let csv = "id,language,question,answer,tags\nship,en,How long is shipping?,2 days,shipping\nship,zh,多久发货,两天,\nship,en,\"When, roughly, do you ship?\",2 days,a|b\n";
        let e = p(csv, ImportFormat::Csv).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].questions[&Language::En].len(), 2);
        assert_eq!(e[0].tags, vec!["shipping", "a", "b"]);
        let bad = "ship,en,q,a\nship,xx,q,a\n";
        match p(bad, ImportFormat::Csv) {
            Err(Error::InvalidEntry { line: Some(2), .. }) => {}
            other => panic!("{other:?}"),
        }
        match p("ship,en\n", ImportFormat::Csv) {
            Err(Error::Parse { line: Some(1), .. }) => {}
            other => panic!("{other:?}"),
        }
        match p("ship,en,q,a\nship,en,q2,b\n", ImportFormat::Csv) {
            Err(e @ Error::InvalidEntry { line: Some(2), .. }) => assert!(e.to_string().contains("line 1"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn yaml_and_json_lists_or_faq_maps() {
        let y = "- id: a\n  questions: {en: [hi]}\n  answer: {en: hello}\n";
        assert_eq!(p(y, ImportFormat::Yaml).unwrap()[0].id, "a");
        let y2 = format!("faq:\n{}", y.lines().map(|l| format!("  {l}\n")).collect::<String>());
        assert_eq!(p(&y2, ImportFormat::Yaml).unwrap().len(), 1);
        let j = r#"[{"id":"a","questions":{"zh":["你好"]},"answer":{"zh":"好"},"tags":["x"]}]"#;
        assert_eq!(p(j, ImportFormat::Json).unwrap()[0].tags, vec!["x"]);
        match p("[{\"id\": \"a\",\n \"questions\": 3}]", ImportFormat::Json) {
            Err(Error::Parse { line: Some(2), .. }) => {}
            other => panic!("{other:?}"),
        }
        match p("- id: a\n  questions: {en: [hi]}\n  answer: {en: hello}\n  colour: red\n", ImportFormat::Yaml) {
            Err(Error::Parse { line: Some(_), .. }) => {}
            other => panic!("{other:?}"),
        }
        match p("- id: a\n  questions: {en: ['  ']}\n  answer: {en: hello}\n", ImportFormat::Yaml) {
            Err(Error::InvalidEntry { .. }) => {}
            other => panic!("{other:?}"),
        }
        match p(&format!("{y}{y}"), ImportFormat::Yaml) {
            Err(e @ Error::InvalidEntry { .. }) => assert!(e.to_string().contains("duplicate"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert!(p("", ImportFormat::Yaml).unwrap().is_empty());
        assert!(matches!(parse_entries(b"\xff\xfe", ImportFormat::Json, Path::new("x")), Err(Error::Parse { .. })));
        assert!(matches!(parse_entries(b"\xff,\xfe", ImportFormat::Csv, Path::new("x")), Err(Error::Parse { .. })));
    }
}
