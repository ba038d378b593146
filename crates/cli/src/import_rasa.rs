//! `kefu import-rasa <source> <bot-dir>`: converts Rasa 2.x/3.x NLU training data (YAML)
//! into a Kefu bot folder — intents, entities (regex and lookup lists with synonyms) and a
//! placeholder response per intent — then loads the result and reports what is left to do.
//!
//! Everything is read and converted before anything is written, so a malformed input or a
//! refused overwrite leaves the bot folder untouched.

use kefu::bot::BUILTIN_ENTITIES;
use kefu::language::detect_language;
use kefu::Language;
use regex::Regex;
use serde_yaml::{Mapping, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// A Rasa NLU file (`nlu.yml`) or a folder of Rasa YAML files (read recursively).
    source: PathBuf,
    /// The bot folder to write (created when missing).
    bot_dir: PathBuf,
    /// Language of every example: `en` or `zh` (default: detected per example).
    #[arg(long, value_parser = parse_language)]
    lang: Option<Language>,
    /// Overwrite the files the import writes when they already exist.
    #[arg(long)]
    force: bool,
}

fn parse_language(s: &str) -> Result<Language, String> {
    s.parse::<Language>().map_err(|e| e.to_string())
}

/// Intents the policy uses on its own: they need no response.
const POLICY_INTENTS: [&str; 4] = ["affirm", "deny", "cancel", "out_of_scope"];
/// Files the import writes (`bot.yaml` only when the folder has no `bot:` section).
const OUTPUT_FILES: [&str; 3] = ["intents.yaml", "entities.yaml", "responses.yaml"];
/// At most this many lines per list of notes or skipped items are printed.
const MAX_LISTED: usize = 25;

/// Why an import failed. Nothing is written when it does.
#[derive(Debug)]
pub enum ImportError {
    /// A file or folder could not be read or written.
    Io { path: PathBuf, message: String },
    /// A file is not valid YAML.
    Yaml { path: PathBuf, line: Option<usize>, message: String },
    /// A file is YAML but not Rasa NLU training data.
    Malformed { path: PathBuf, line: Option<usize>, message: String },
    /// The source holds no intent with examples.
    NoIntents { source: PathBuf },
    /// Files to write exist already and `--force` was not given.
    WouldOverwrite { files: Vec<PathBuf> },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |path: &Path, line: &Option<usize>| match line {
            Some(l) => format!("{}:{l}", path.display()),
            None => path.display().to_string(),
        };
        match self {
            ImportError::Io { path, message } => write!(f, "{}: {message}", path.display()),
            ImportError::Yaml { path, line, message } => write!(f, "{}: invalid YAML: {message}", at(path, line)),
            ImportError::Malformed { path, line, message } => write!(f, "{}: {message}", at(path, line)),
            ImportError::NoIntents { source } => write!(
                f,
                "{}: no Rasa intent with examples found (expected `nlu:` with `- intent:` items)",
                source.display()
            ),
            ImportError::WouldOverwrite { files } => {
                let list: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
                write!(f, "refusing to overwrite {} (pass --force to replace)", list.join(", "))
            }
        }
    }
}

impl std::error::Error for ImportError {}

pub fn run(a: Args) -> Result<ExitCode, String> {
    match import(&a) {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn import(a: &Args) -> Result<ExitCode, ImportError> {
    let data = read_source(&a.source)?;
    let conv = convert(data, &a.source, a.lang)?;
    let target = inspect_target(&a.bot_dir)?;
    let mut languages = conv.languages.clone();
    for l in &target.languages {
        if !languages.contains(l) {
            languages.push(*l);
        }
    }
    let mut files: Vec<(&str, String)> = Vec::new();
    if !target.has_bot {
        files.push(("bot.yaml", bot_yaml(&a.bot_dir, &conv.languages)?));
    }
    files.push(("intents.yaml", intents_yaml(&conv)?));
    files.push(("entities.yaml", entities_yaml(&conv)?));
    files.push(("responses.yaml", responses_yaml(&conv, &languages)?));

    let existing: Vec<PathBuf> = files.iter().map(|(n, _)| a.bot_dir.join(n)).filter(|p| p.exists()).collect();
    if !existing.is_empty() && !a.force {
        return Err(ImportError::WouldOverwrite { files: existing });
    }
    let io = |path: &Path, e: std::io::Error| ImportError::Io { path: path.to_path_buf(), message: e.to_string() };
    std::fs::create_dir_all(&a.bot_dir).map_err(|e| io(&a.bot_dir, e))?;
    for (name, text) in &files {
        let path = a.bot_dir.join(name);
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
    }

    print_summary(a, &conv, &files);
    match kefu::core::load_bot_dir(&a.bot_dir) {
        Ok(bot) => {
            println!(
                "kefu check: ok — {} intents, {} entities, {} responses",
                bot.intents.len(),
                bot.entities.len(),
                bot.responses.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            println!("kefu check: the imported bot does not load yet:");
            for p in &problems.0 {
                println!("  {p}");
            }
            if problems.0.iter().any(|p| p.message.contains("missing translation")) {
                println!(
                    "  hint: every intent needs examples in every language of `bot.languages`; add the missing \
                     ones, or re-import with --lang"
                );
            }
            println!("{} problem(s)", problems.0.len());
            Ok(ExitCode::from(1))
        }
    }
}

// ------------------------------------------------------------------------------------ reading

/// A place in an input file.
#[derive(Clone, Debug)]
struct Loc {
    file: PathBuf,
    line: Option<usize>,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// An entity annotation of a training example.
#[derive(Debug)]
struct Annotation {
    entity: String,
    text: String,
    value: Option<String>,
    role_or_group: bool,
}

#[derive(Debug)]
struct Example {
    text: String,
    /// The example with its annotations, as Kefu's intent examples take them (they train the
    /// entity tagger); only when it annotates an entity that is not built in.
    marked: Option<String>,
    annotations: Vec<Annotation>,
    loc: Loc,
}

#[derive(Debug)]
struct RasaIntent {
    name: String,
    examples: Vec<Example>,
    loc: Loc,
}

/// A `synonym:`, `regex:` or `lookup:` item: a name and its lines.
#[derive(Debug)]
struct RasaList {
    name: String,
    items: Vec<(String, Loc)>,
    loc: Loc,
}

/// Everything read from the source, before conversion.
#[derive(Debug, Default)]
struct RasaData {
    files: Vec<PathBuf>,
    intents: Vec<RasaIntent>,
    synonyms: Vec<RasaList>,
    regexes: Vec<RasaList>,
    lookups: Vec<RasaList>,
    skipped: Vec<String>,
    notes: Vec<String>,
    metadata: usize,
}

fn read_source(source: &Path) -> Result<RasaData, ImportError> {
    let mut reader = Reader { data: RasaData::default() };
    let meta = std::fs::metadata(source)
        .map_err(|e| ImportError::Io { path: source.to_path_buf(), message: format!("cannot read: {e}") })?;
    if meta.is_dir() {
        let mut files = Vec::new();
        collect_yaml(source, &mut files)?;
        files.sort();
        if files.is_empty() {
            return Err(ImportError::Malformed {
                path: source.to_path_buf(),
                line: None,
                message: "no .yml or .yaml files in this folder".into(),
            });
        }
        for f in &files {
            reader.read_file(f, false)?;
        }
    } else {
        reader.read_file(source, true)?;
    }
    Ok(reader.data)
}

/// The `*.yml` / `*.yaml` files below `dir`, skipping hidden entries (`.rasa/`, `.git/`).
fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ImportError> {
    let io = |e: std::io::Error| ImportError::Io { path: dir.to_path_buf(), message: format!("cannot read: {e}") };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            collect_yaml(&path, out)?;
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
            out.push(path);
        }
    }
    Ok(())
}

struct Reader {
    data: RasaData,
}

impl Reader {
    /// Reads one file; `explicit` is true when it was named on the command line, which makes
    /// a file without NLU data an error instead of a skipped file.
    fn read_file(&mut self, path: &Path, explicit: bool) -> Result<(), ImportError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ImportError::Io { path: path.to_path_buf(), message: format!("cannot read: {e}") })?;
        let root: Value = serde_yaml::from_str(&text).map_err(|e| ImportError::Yaml {
            path: path.to_path_buf(),
            line: e.location().map(|l| l.line()),
            message: strip_location(&e.to_string()),
        })?;
        let not_nlu = |message: &str| ImportError::Malformed {
            path: path.to_path_buf(),
            line: Some(1),
            message: message.to_string(),
        };
        let Some(map) = root.as_mapping() else {
            let message = "not Rasa training data: expected a mapping with an `nlu:` list";
            if explicit {
                return Err(not_nlu(message));
            }
            self.data.skipped.push(format!("{}: {message}", path.display()));
            return Ok(());
        };
        let others: Vec<String> = map
            .keys()
            .filter_map(Value::as_str)
            .filter(|k| *k != "version" && *k != "nlu")
            .map(|k| format!("`{k}`"))
            .collect();
        let Some(nlu) = map.get("nlu") else {
            let mut message = "no `nlu:` section (only NLU training data is imported)".to_string();
            if !others.is_empty() {
                message = format!("{message}; not imported: {}", others.join(", "));
            }
            if explicit {
                return Err(not_nlu(&message));
            }
            self.data.skipped.push(format!("{}: {message}", path.display()));
            return Ok(());
        };
        if let Some(v) = map.get("version").and_then(scalar) {
            if !(v.starts_with('2') || v.starts_with('3')) {
                self.data.notes.push(format!(
                    "{}: version \"{v}\": this importer knows the Rasa 2.x/3.x format; read it anyway",
                    path.display()
                ));
            }
        }
        if !others.is_empty() {
            self.data.skipped.push(format!("{}: sections not imported: {}", path.display(), others.join(", ")));
        }
        self.data.files.push(path.to_path_buf());
        let items =
            match nlu {
                Value::Null => return Ok(()),
                Value::Sequence(items) => items,
                _ => return Err(ImportError::Malformed {
                    path: path.to_path_buf(),
                    line: find_key_line(&text, "nlu", 0).map(|l| l + 1),
                    message:
                        "`nlu:` must be a list of items (`- intent: …`, `- synonym: …`, `- regex: …`, `- lookup: …`)"
                            .into(),
                }),
            };
        let lines: Vec<&str> = text.lines().collect();
        let mut cursor = find_key_line(&text, "nlu", 0).unwrap_or(0);
        for item in items {
            self.read_item(path, &lines, &mut cursor, item)?;
        }
        Ok(())
    }

    fn read_item(&mut self, path: &Path, lines: &[&str], cursor: &mut usize, item: &Value) -> Result<(), ImportError> {
        let at = |line: Option<usize>| Loc { file: path.to_path_buf(), line: line.map(|l| l + 1) };
        let Some(map) = item.as_mapping() else {
            self.data.skipped.push(format!("{}: an `nlu:` item that is not a mapping", at(None)));
            return Ok(());
        };
        let Some(kind) = ["intent", "synonym", "regex", "lookup"].into_iter().find(|k| map.contains_key(*k)) else {
            let keys: Vec<String> = map.keys().filter_map(Value::as_str).map(|k| format!("`{k}`")).collect();
            self.data.skipped.push(format!(
                "{}: an `nlu:` item with none of `intent`, `synonym`, `regex`, `lookup` (keys: {})",
                at(None),
                keys.join(", ")
            ));
            return Ok(());
        };
        let name = map.get(kind).and_then(scalar).map(|s| s.trim().to_string()).unwrap_or_default();
        let item_line = find_item_line(lines, *cursor, kind, &name);
        if let Some(l) = item_line {
            *cursor = l + 1;
        }
        let loc = at(item_line);
        if name.is_empty() {
            self.data.skipped.push(format!("{loc}: a `{kind}:` item with an empty name"));
            return Ok(());
        }
        if map.contains_key("metadata") {
            self.data.metadata += 1;
        }
        let examples_line = item_line.and_then(|l| find_key_line_in(lines, "examples", l));
        let examples = map.get("examples").unwrap_or(&Value::Null);
        if kind == "intent" {
            let mut out = Vec::new();
            match examples {
                Value::Null => {}
                Value::String(block) => {
                    for (text, line) in self.block_lines(block, examples_line, &loc, kind, &name) {
                        out.push(self.example(&text, at(line))?);
                    }
                }
                Value::Sequence(list) => {
                    let mut search = examples_line.unwrap_or(0);
                    for entry in list {
                        let line = find_key_line_in(lines, "text", search);
                        if let Some(l) = line {
                            search = l + 1;
                        }
                        let text = match entry {
                            Value::Mapping(m) => {
                                if m.contains_key("metadata") {
                                    self.data.metadata += 1;
                                }
                                m.get("text").and_then(scalar)
                            }
                            other => scalar(other),
                        };
                        match text.map(|t| t.trim_matches(['\n', '\r', ' ']).to_string()) {
                            Some(t) if !t.is_empty() => out.push(self.example(&t, at(line))?),
                            _ => self
                                .data
                                .skipped
                                .push(format!("{}: intent `{name}`: an example without `text`", at(line))),
                        }
                    }
                }
                _ => {
                    self.data.skipped.push(format!(
                        "{loc}: intent `{name}`: `examples` must be a `|` block of `- example` lines or a list of \
                         `text:` items"
                    ));
                    return Ok(());
                }
            }
            if out.is_empty() {
                self.data.skipped.push(format!("{loc}: intent `{name}` has no examples"));
                return Ok(());
            }
            self.data.intents.push(RasaIntent { name, examples: out, loc });
            return Ok(());
        }
        let Value::String(block) = examples else {
            let what =
                if examples.is_null() { "has no examples" } else { "`examples` must be a `|` block of `- …` lines" };
            self.data.skipped.push(format!("{loc}: {kind} `{name}` {what}"));
            return Ok(());
        };
        let items: Vec<(String, Loc)> =
            self.block_lines(block, examples_line, &loc, kind, &name).into_iter().map(|(t, l)| (t, at(l))).collect();
        if items.is_empty() {
            self.data.skipped.push(format!("{loc}: {kind} `{name}` has no examples"));
            return Ok(());
        }
        let list = RasaList { name, items, loc };
        match kind {
            "synonym" => self.data.synonyms.push(list),
            "regex" => self.data.regexes.push(list),
            _ => self.data.lookups.push(list),
        }
        Ok(())
    }

    /// The `- …` lines of a block (Rasa's rule: lines not starting with `-` are skipped),
    /// each with its 0-based line in the file when known.
    fn block_lines(
        &mut self,
        block: &str,
        examples_line: Option<usize>,
        loc: &Loc,
        kind: &str,
        name: &str,
    ) -> Vec<(String, Option<usize>)> {
        let mut out = Vec::new();
        for (i, raw) in block.lines().enumerate() {
            let line = examples_line.map(|l| l + 1 + i);
            if raw.trim().is_empty() {
                continue;
            }
            let here = Loc { file: loc.file.clone(), line: line.map(|l| l + 1) };
            let Some(rest) = raw.strip_prefix('-') else {
                self.data.skipped.push(format!("{here}: {kind} `{name}`: line without a leading `- `: {}", raw.trim()));
                continue;
            };
            let text = rest.trim_matches(['\n', '\r', ' ']);
            if text.is_empty() {
                self.data.skipped.push(format!("{here}: {kind} `{name}`: empty example"));
                continue;
            }
            out.push((text.to_string(), line));
        }
        out
    }

    /// Parses Rasa's inline entity annotations out of an example.
    fn example(&self, raw: &str, loc: Loc) -> Result<Example, ImportError> {
        let parsed = kefu::core::bot::parse_annotated(raw).map_err(|message| ImportError::Malformed {
            path: loc.file.clone(),
            line: loc.line,
            message,
        })?;
        let marked = marked_example(&parsed);
        let annotations: Vec<Annotation> = parsed
            .annotations
            .into_iter()
            .map(|a| Annotation {
                entity: a.entity,
                text: a.text,
                value: a.value,
                role_or_group: a.role.is_some() || a.group.is_some(),
            })
            .collect();
        let text = parsed.text.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok(Example { text, marked, annotations, loc })
    }
}

/// The example in Kefu's annotation syntax with only the entities Kefu learns (built-in kinds
/// lose their markup: the built-in extractor finds them); `None` when none is left. Of several
/// readings of one span, the first is kept.
fn marked_example(parsed: &kefu::core::bot::ParsedExample) -> Option<String> {
    let chars: Vec<char> = parsed.text.chars().collect();
    let mut out = String::new();
    let mut at = 0;
    for a in &parsed.annotations {
        if BUILTIN_ENTITIES.contains(&a.entity.as_str()) || a.start < at || a.end > chars.len() {
            continue;
        }
        out.extend(&chars[at..a.start]);
        let words: String = chars[a.start..a.end].iter().collect();
        if a.role.is_none() && a.group.is_none() && a.value.is_none() {
            out.push_str(&format!("[{words}]({})", a.entity));
        } else {
            let mut json = serde_json::Map::new();
            json.insert("entity".into(), a.entity.clone().into());
            for (key, v) in [("role", &a.role), ("group", &a.group), ("value", &a.value)] {
                if let Some(v) = v {
                    json.insert(key.into(), v.clone().into());
                }
            }
            out.push_str(&format!("[{words}]{}", serde_json::Value::Object(json)));
        }
        at = a.end;
    }
    if at == 0 {
        return None;
    }
    out.extend(&chars[at..]);
    Some(out.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A scalar as text (`yes`, `12` and `true` are names too).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// serde_yaml's message without its trailing " at line L column C" (the line is reported apart).
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The 0-based line of the first `key:` at or after line `from`.
fn find_key_line(text: &str, key: &str, from: usize) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    find_key_line_in(&lines, key, from)
}

fn find_key_line_in(lines: &[&str], key: &str, from: usize) -> Option<usize> {
    lines.iter().enumerate().skip(from).find(|(_, l)| key_value(l, key).is_some()).map(|(i, _)| i)
}

/// The value after `key:` on a line (`key: v`, `- key: v`), if the line holds that key.
fn key_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let content = line.trim_start();
    let content = content.strip_prefix("- ").unwrap_or(content).trim_start();
    let rest = content.strip_prefix(key)?.trim_start();
    let rest = rest.strip_prefix(':')?;
    Some(rest.trim())
}

/// The 0-based line of the item `- kind: name` at or after `from`.
fn find_item_line(lines: &[&str], from: usize, kind: &str, name: &str) -> Option<usize> {
    lines.iter().enumerate().skip(from).find_map(|(i, l)| {
        let v = key_value(l, kind)?;
        let v = v.split(" #").next().unwrap_or(v).trim().trim_matches(['"', '\'']);
        (v == name).then_some(i)
    })
}

// --------------------------------------------------------------------------------- conversion

/// A bot-defined entity to write.
#[derive(Debug)]
enum OutEntity {
    Regex(String),
    Lookup(Vec<LookupBuild>),
}

#[derive(Debug, Clone)]
struct LookupBuild {
    value: String,
    synonyms: Vec<String>,
}

#[derive(Debug, Default)]
struct EntityBuild {
    patterns: Vec<String>,
    values: Vec<LookupBuild>,
    /// Has values from a `lookup:` or `synonym:` item (not only from annotations).
    explicit_values: bool,
    annotations: usize,
    roles: usize,
}

impl EntityBuild {
    fn value_index(&self, value: &str) -> Option<usize> {
        self.values.iter().position(|v| v.value.to_lowercase() == value.to_lowercase())
    }

    fn add_value(&mut self, value: &str) -> usize {
        match self.value_index(value) {
            Some(i) => i,
            None => {
                self.values.push(LookupBuild { value: value.to_string(), synonyms: Vec::new() });
                self.values.len() - 1
            }
        }
    }

    /// Adds `synonym` to `value`; false when it is the value itself or already used.
    fn add_synonym(&mut self, value: &str, synonym: &str) -> bool {
        let lower = synonym.to_lowercase();
        let used = self
            .values
            .iter()
            .any(|v| v.value.to_lowercase() == lower || v.synonyms.iter().any(|s| s.to_lowercase() == lower));
        if used {
            return false;
        }
        let i = self.add_value(value);
        self.values[i].synonyms.push(synonym.to_string());
        true
    }
}

/// Entities being built, in first-seen order.
#[derive(Debug, Default)]
struct Builds {
    list: Vec<(String, EntityBuild)>,
}

impl Builds {
    fn get(&mut self, name: &str) -> &mut EntityBuild {
        let i = match self.list.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.list.push((name.to_string(), EntityBuild::default()));
                self.list.len() - 1
            }
        };
        &mut self.list[i].1
    }
}

#[derive(Debug, Default)]
struct Stats {
    examples: BTreeMap<Language, usize>,
    duplicates: usize,
    synonym_values: usize,
    synonyms: usize,
    regexes: usize,
    patterns: usize,
    lookups: usize,
    lookup_values: usize,
    annotations: usize,
}

/// The converted bot, ready to be written.
#[derive(Debug)]
struct Converted {
    files: Vec<PathBuf>,
    /// Languages of the examples, the most frequent first.
    languages: Vec<Language>,
    intents: Vec<(String, BTreeMap<Language, Vec<String>>)>,
    entities: Vec<(String, OutEntity)>,
    stats: Stats,
    notes: Vec<String>,
    skipped: Vec<String>,
}

fn convert(data: RasaData, source: &Path, forced: Option<Language>) -> Result<Converted, ImportError> {
    let RasaData { files, intents: rasa_intents, synonyms, regexes, lookups, mut skipped, mut notes, metadata } = data;
    if rasa_intents.is_empty() {
        return Err(ImportError::NoIntents { source: source.to_path_buf() });
    }
    let mut stats = Stats::default();
    if metadata > 0 {
        notes.push(format!("`metadata` ignored on {metadata} item(s) and example(s)"));
    }

    // Languages: detected per example; an example without enough letters gets the most
    // frequent language of its file.
    let detect = |text: &str| {
        let zh = detect_language(text, &Language::ALL, Language::Zh);
        let en = detect_language(text, &Language::ALL, Language::En);
        (zh == en).then_some(zh)
    };
    let mut per_file: HashMap<&Path, BTreeMap<Language, usize>> = HashMap::new();
    let mut overall: BTreeMap<Language, usize> = BTreeMap::new();
    for ex in rasa_intents.iter().flat_map(|i| &i.examples) {
        if let Some(l) = detect(&ex.text) {
            *per_file.entry(ex.loc.file.as_path()).or_default().entry(l).or_default() += 1;
            *overall.entry(l).or_default() += 1;
        }
    }
    let most = |counts: Option<&BTreeMap<Language, usize>>| {
        counts.and_then(|c| c.iter().max_by_key(|(l, n)| (**n, std::cmp::Reverse(**l))).map(|(l, _)| *l))
    };
    let global = most(Some(&overall)).unwrap_or(Language::En);
    let language_of = |ex: &Example| match forced {
        Some(l) => l,
        None => detect(&ex.text).unwrap_or_else(|| most(per_file.get(ex.loc.file.as_path())).unwrap_or(global)),
    };

    // Intents, in first-seen order; the same name in several items or files is merged.
    let mut intents: Vec<(String, BTreeMap<Language, Vec<String>>)> = Vec::new();
    let mut owner: HashMap<String, String> = HashMap::new();
    let mut clashes = 0usize;
    let mut seen: std::collections::HashSet<(usize, Language, String)> = std::collections::HashSet::new();
    for intent in &rasa_intents {
        let name = intent_name(&intent.name);
        if name.is_empty() {
            skipped.push(format!("{}: intent `{}`: not a usable intent name", intent.loc, intent.name));
            continue;
        }
        if name != intent.name {
            notes.push(format!("{}: intent `{}` renamed `{name}`", intent.loc, intent.name));
        }
        let i = match intents.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                intents.push((name.clone(), BTreeMap::new()));
                intents.len() - 1
            }
        };
        for ex in &intent.examples {
            let lang = language_of(ex);
            let list = intents[i].1.entry(lang).or_default();
            if !seen.insert((i, lang, ex.text.clone())) {
                stats.duplicates += 1;
                continue;
            }
            match owner.get(&ex.text.to_lowercase()) {
                Some(other) if *other != name => {
                    clashes += 1;
                    if clashes <= MAX_LISTED {
                        notes.push(format!("{}: example \"{}\" is also in intent `{other}`", ex.loc, ex.text));
                    }
                }
                Some(_) => {}
                None => {
                    owner.insert(ex.text.to_lowercase(), name.clone());
                }
            }
            list.push(ex.marked.clone().unwrap_or_else(|| ex.text.clone()));
            *stats.examples.entry(lang).or_default() += 1;
        }
    }
    if clashes > MAX_LISTED {
        notes.push(format!("… and {} more examples shared by two intents", clashes - MAX_LISTED));
    }
    let mut languages: Vec<Language> = stats.examples.keys().copied().collect();
    languages.sort_by_key(|l| std::cmp::Reverse(stats.examples.get(l).copied().unwrap_or(0)));

    // Entities.
    let mut builds = Builds::default();
    // Rasa maps an extracted text to its synonym value (case-insensitively), from `synonym:`
    // items and from annotations that give a value.
    let mut synonym_of: HashMap<String, String> = HashMap::new();
    for s in &synonyms {
        for (text, _) in &s.items {
            synonym_of.insert(text.to_lowercase(), s.name.clone());
        }
    }
    for a in rasa_intents.iter().flat_map(|i| &i.examples).flat_map(|e| &e.annotations) {
        if let Some(v) = &a.value {
            if *v != a.text {
                synonym_of.insert(a.text.to_lowercase(), v.clone());
            }
        }
    }
    let mut builtin_annotations: BTreeMap<String, usize> = BTreeMap::new();
    for a in rasa_intents.iter().flat_map(|i| &i.examples).flat_map(|e| &e.annotations) {
        stats.annotations += 1;
        if BUILTIN_ENTITIES.contains(&a.entity.as_str()) {
            *builtin_annotations.entry(a.entity.clone()).or_default() += 1;
            continue;
        }
        let value =
            a.value.clone().or_else(|| synonym_of.get(&a.text.to_lowercase()).cloned()).unwrap_or(a.text.clone());
        let e = builds.get(&a.entity);
        e.annotations += 1;
        e.roles += usize::from(a.role_or_group);
        e.add_value(&value);
        if value.to_lowercase() != a.text.to_lowercase() {
            e.add_synonym(&value, &a.text);
        }
    }
    for (name, n) in &builtin_annotations {
        notes.push(format!(
            "entity `{name}` ({n} annotation(s)) is built into Kefu: not defined, the built-in extractor finds it"
        ));
    }
    let shadows = |kind: &str, list: &RasaList| {
        format!("{}: {kind} `{}` has the name of a built-in entity (Kefu extracts it itself)", list.loc, list.name)
    };
    for l in &lookups {
        if BUILTIN_ENTITIES.contains(&l.name.as_str()) {
            skipped.push(shadows("lookup", l));
            continue;
        }
        stats.lookups += 1;
        let e = builds.get(&l.name);
        e.explicit_values = true;
        for (value, _) in &l.items {
            e.add_value(value);
            stats.lookup_values += 1;
        }
    }
    for s in &synonyms {
        let mut used = false;
        for e in builds.list.iter_mut().map(|(_, e)| e) {
            if e.value_index(&s.name).is_none() {
                continue;
            }
            used = true;
            e.explicit_values = true;
            for (text, _) in &s.items {
                e.add_synonym(&s.name, text);
            }
        }
        if used {
            stats.synonym_values += 1;
        } else {
            skipped.push(format!(
                "{}: synonym `{}`: no entity annotation or lookup uses this value, so its entity is unknown",
                s.loc, s.name
            ));
        }
    }
    for r in &regexes {
        if BUILTIN_ENTITIES.contains(&r.name.as_str()) {
            skipped.push(shadows("regex", r));
            continue;
        }
        let mut valid = Vec::new();
        for (pattern, loc) in &r.items {
            match Regex::new(pattern) {
                Ok(_) => valid.push(pattern.clone()),
                Err(e) => skipped.push(format!(
                    "{loc}: regex `{}`: pattern `{pattern}` is not supported by Kefu's regex engine (Rust `regex`: \
                     no look-around or back-references): {}",
                    r.name,
                    e.to_string().lines().last().unwrap_or("").trim().trim_start_matches("error: ")
                )),
            }
        }
        if !valid.is_empty() {
            stats.patterns += valid.len();
            builds.get(&r.name).patterns.extend(valid);
        }
    }

    let mut entities: Vec<(String, OutEntity)> = Vec::new();
    let names: Vec<String> = builds.list.iter().map(|(n, _)| n.clone()).collect();
    for (name, e) in builds.list {
        if e.annotations > 0 {
            notes.push(format!(
                "entity `{name}`: its {} annotation(s){} stay in the examples and train the entity tagger \
                 (`kefu test` reports its F1)",
                e.annotations,
                if e.roles > 0 { format!(", {} with a role or group,", e.roles) } else { String::new() }
            ));
        }
        if e.patterns.is_empty() {
            if !e.explicit_values {
                notes.push(format!(
                    "entity `{name}`: a lookup of its {} annotated value(s) only; extend it, or use a `regex` for \
                     open-ended values",
                    e.values.len()
                ));
            }
            entities.push((name.clone(), OutEntity::Lookup(e.values)));
            continue;
        }
        stats.regexes += 1;
        let regex = if e.patterns.len() == 1 {
            e.patterns.concat()
        } else {
            e.patterns.iter().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|")
        };
        entities.push((name.clone(), OutEntity::Regex(regex)));
        if e.values.is_empty() {
            continue;
        }
        if e.explicit_values {
            let mut alt = format!("{name}_lookup");
            while names.contains(&alt) || entities.iter().any(|(n, _)| *n == alt) {
                alt.push('_');
            }
            notes.push(format!(
                "entity `{name}` has both a regex and lookup values: the regex keeps the name, the values are \
                 entity `{alt}`"
            ));
            entities.push((alt, OutEntity::Lookup(e.values)));
        } else {
            notes.push(format!(
                "entity `{name}`: {} annotated value(s) not listed, its regex finds them",
                e.values.len()
            ));
        }
    }
    stats.synonyms = entities
        .iter()
        .map(|(_, e)| match e {
            OutEntity::Lookup(v) => v.iter().map(|v| v.synonyms.len()).sum(),
            OutEntity::Regex(_) => 0,
        })
        .sum();

    Ok(Converted { files, languages, intents, entities, stats, notes, skipped })
}

/// A Kefu intent name for a Rasa one: no spaces, no leading `/`, not the reserved `faq`.
fn intent_name(raw: &str) -> String {
    let name = raw.split_whitespace().collect::<Vec<_>>().join("_");
    let name = name.trim_start_matches('/');
    if name == "faq" {
        "rasa_faq".to_string()
    } else {
        name.to_string()
    }
}

// ------------------------------------------------------------------------------------ writing

/// What the bot folder already holds.
struct Target {
    /// A top-level file has a `bot:` section (then `bot.yaml` is not written).
    has_bot: bool,
    /// Its `bot.languages`.
    languages: Vec<Language>,
}

fn inspect_target(dir: &Path) -> Result<Target, ImportError> {
    let mut target = Target { has_bot: false, languages: Vec::new() };
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(target) };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    paths.sort();
    for path in paths {
        // Files that will be replaced do not count.
        let replaced = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| OUTPUT_FILES.contains(&n));
        if replaced {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(root) = serde_yaml::from_str::<Value>(&text) else { continue };
        let Some(bot) = root.get("bot") else { continue };
        target.has_bot = true;
        if let Some(langs) = bot.get("languages").and_then(Value::as_sequence) {
            target.languages.extend(langs.iter().filter_map(Value::as_str).filter_map(|l| l.parse::<Language>().ok()));
        }
    }
    Ok(target)
}

fn to_yaml(header: &str, value: &Value, name: &str) -> Result<String, ImportError> {
    let body = serde_yaml::to_string(value)
        .map_err(|e| ImportError::Io { path: PathBuf::from(name), message: format!("cannot write YAML: {e}") })?;
    Ok(format!("{header}\n{body}"))
}

fn sources(conv: &Converted) -> String {
    conv.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn bot_yaml(dir: &Path, languages: &[Language]) -> Result<String, ImportError> {
    let name = std::path::absolute(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "Imported from Rasa".to_string());
    let mut bot = Mapping::new();
    bot.insert("name".into(), name.into());
    bot.insert("languages".into(), languages.iter().map(|l| Value::from(l.code())).collect::<Vec<_>>().into());
    let mut root = Mapping::new();
    root.insert("bot".into(), bot.into());
    to_yaml(
        "# Written by `kefu import-rasa`: set the bot's name, `timezone` and other settings\n# (docs/bot-format.md).",
        &root.into(),
        "bot.yaml",
    )
}

fn intents_yaml(conv: &Converted) -> Result<String, ImportError> {
    let mut intents = Mapping::new();
    for (name, examples) in &conv.intents {
        let mut def = Mapping::new();
        if !POLICY_INTENTS.contains(&name.as_str()) {
            def.insert("response".into(), name.as_str().into());
        }
        let mut by_lang = Mapping::new();
        for (lang, list) in examples {
            by_lang.insert(lang.code().into(), list.iter().map(|s| Value::from(s.as_str())).collect::<Vec<_>>().into());
        }
        def.insert("examples".into(), by_lang.into());
        intents.insert(name.as_str().into(), def.into());
    }
    let mut root = Mapping::new();
    root.insert("intents".into(), intents.into());
    let header = format!(
        "# Imported from Rasa NLU data by `kefu import-rasa` ({}).\n# Each intent says the placeholder \
         response of the same name (responses.yaml); give it a `flow`,\n# `action` or `handoff: true` instead where \
         that fits.",
        sources(conv)
    );
    to_yaml(&header, &root.into(), "intents.yaml")
}

fn entities_yaml(conv: &Converted) -> Result<String, ImportError> {
    let mut entities = Mapping::new();
    for (name, e) in &conv.entities {
        let mut def = Mapping::new();
        match e {
            OutEntity::Regex(r) => {
                def.insert("regex".into(), r.as_str().into());
            }
            OutEntity::Lookup(values) => {
                let list: Vec<Value> = values
                    .iter()
                    .map(|v| {
                        let mut m = Mapping::new();
                        m.insert("value".into(), v.value.as_str().into());
                        if !v.synonyms.is_empty() {
                            m.insert(
                                "synonyms".into(),
                                v.synonyms.iter().map(|s| Value::from(s.as_str())).collect::<Vec<_>>().into(),
                            );
                        }
                        m.into()
                    })
                    .collect();
                def.insert("lookup".into(), list.into());
            }
        }
        entities.insert(name.as_str().into(), def.into());
    }
    let mut root = Mapping::new();
    root.insert("entities".into(), entities.into());
    let header = format!(
        "# Imported from Rasa NLU data by `kefu import-rasa` ({}): annotated entities, synonyms,\n# lookup tables \
         and regexes. Slots that use them are not created (Rasa keeps slots in domain.yml).",
        sources(conv)
    );
    to_yaml(&header, &root.into(), "entities.yaml")
}

fn responses_yaml(conv: &Converted, languages: &[Language]) -> Result<String, ImportError> {
    let mut responses = Mapping::new();
    for (name, _) in conv.intents.iter().filter(|(n, _)| !POLICY_INTENTS.contains(&n.as_str())) {
        let mut text = Mapping::new();
        for lang in languages {
            let placeholder = match lang {
                Language::Zh => format!("（占位）请替换意图 {name} 的回复。"),
                Language::En => format!("(placeholder) Replace this reply to the intent {name}."),
            };
            text.insert(lang.code().into(), placeholder.into());
        }
        let mut def = Mapping::new();
        def.insert("text".into(), text.into());
        responses.insert(name.as_str().into(), def.into());
    }
    let mut root = Mapping::new();
    root.insert("responses".into(), responses.into());
    to_yaml(
        "# Placeholder responses written by `kefu import-rasa`, one per intent: replace every text\n# (Rasa \
         responses live in domain.yml and are not imported).",
        &root.into(),
        "responses.yaml",
    )
}

fn print_summary(a: &Args, conv: &Converted, files: &[(&str, String)]) {
    let s = &conv.stats;
    let total: usize = s.examples.values().sum();
    let per_lang: Vec<String> =
        conv.languages.iter().map(|l| format!("{l} {}", s.examples.get(l).copied().unwrap_or(0))).collect();
    let (mut regex, mut lookup) = (0, 0);
    for (_, e) in &conv.entities {
        match e {
            OutEntity::Regex(_) => regex += 1,
            OutEntity::Lookup(_) => lookup += 1,
        }
    }
    let lang_mode = match a.lang {
        Some(l) => format!("all {l} (--lang)"),
        None => "detected per example".to_string(),
    };
    println!("Imported {} Rasa file(s) into {}:", conv.files.len(), a.bot_dir.display());
    println!("  intents:   {}", conv.intents.len());
    println!("  examples:  {total} ({}; {lang_mode}; {} duplicate(s) dropped)", per_lang.join(", "), s.duplicates);
    println!(
        "  entities:  {} ({lookup} lookup, {regex} regex; from {} annotation(s))",
        conv.entities.len(),
        s.annotations
    );
    println!("  synonyms:  {} (from {} `synonym:` item(s) used)", s.synonyms, s.synonym_values);
    println!("  regexes:   {} ({} pattern(s))", s.regexes, s.patterns);
    println!("  lookups:   {} ({} value(s))", s.lookups, s.lookup_values);
    println!("  written:   {}", files.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "));
    let list = |title: &str, items: &[String]| {
        if items.is_empty() {
            return;
        }
        println!("{title} ({}):", items.len());
        for item in items.iter().take(MAX_LISTED) {
            println!("  - {item}");
        }
        if items.len() > MAX_LISTED {
            println!("  … and {} more", items.len() - MAX_LISTED);
        }
    };
    list("Notes", &conv.notes);
    list("Skipped", &conv.skipped);
    let placeholders = conv.intents.iter().filter(|(n, _)| !POLICY_INTENTS.contains(&n.as_str())).count();
    println!(
        "Next: replace the {placeholders} placeholder response(s) in {}; add slots and flows for the entities you \
         collect.",
        a.bot_dir.join("responses.yaml").display()
    );
}
