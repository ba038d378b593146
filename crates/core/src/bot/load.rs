//! Reading a bot folder: every `*.yaml`/`*.yml` file at its top level is parsed, checked
//! item by item (so one mistake does not hide the next) and merged.

use super::model::*;
use super::problem::{BotProblems, Locator, Problem};
use super::validate::validate;
use crate::response::Response;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Loads and validates the bot in `dir`; returns every problem found.
pub fn load_bot_dir(dir: &Path) -> Result<BotDefinition, BotProblems> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        BotProblems(vec![Problem {
            file: dir.to_path_buf(),
            line: None,
            message: format!("cannot read the bot folder: {e}"),
        }])
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    paths.sort();
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push((path, text)),
            Err(e) => problems.push(Problem { file: path, line: None, message: format!("cannot read file: {e}") }),
        }
    }
    if files.is_empty() && problems.is_empty() {
        problems.push(Problem {
            file: dir.to_path_buf(),
            line: None,
            message: "no .yaml files in the bot folder".into(),
        });
    }
    match load_bot_files(dir, &files) {
        Ok(bot) if problems.is_empty() => Ok(bot),
        Ok(_) => Err(BotProblems(problems)),
        Err(BotProblems(more)) => {
            problems.extend(more);
            Err(BotProblems(problems))
        }
    }
}

/// Loads a bot from in-memory files `(path, text)`; `dir` resolves lookup tables.
pub fn load_bot_files(dir: &Path, files: &[(PathBuf, String)]) -> Result<BotDefinition, BotProblems> {
    let mut acc = Accumulator::default();
    for (path, text) in files {
        acc.add_file(path, text);
    }
    acc.finish(dir)
}

/// Where an item was defined, for duplicate and reference errors.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    pub file: PathBuf,
    pub line: Option<usize>,
}

#[derive(Default)]
struct Accumulator {
    problems: Vec<Problem>,
    bot: Option<(BotMeta, Origin)>,
    nlu: Option<(NluConfig, Origin)>,
    policy: Option<(PolicyConfig, Origin)>,
    intents: BTreeMap<String, (IntentDef, Origin)>,
    entities: BTreeMap<String, (EntityDef, Origin)>,
    slots: BTreeMap<String, (SlotDef, Origin)>,
    flows: BTreeMap<String, (FlowDef, Origin)>,
    responses: BTreeMap<String, (Response, Origin)>,
    actions: BTreeMap<String, (ActionDef, Origin)>,
    faq: Vec<(FaqEntry, Origin)>,
    texts: BTreeMap<PathBuf, String>,
    unparsable_files: usize,
}

const SECTIONS: [&str; 10] =
    ["bot", "nlu", "policy", "intents", "entities", "slots", "flows", "responses", "actions", "faq"];

impl Accumulator {
    fn add_file(&mut self, path: &Path, text: &str) {
        self.texts.insert(path.to_path_buf(), text.to_string());
        let root: serde_yaml::Value = match serde_yaml::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                let line = e.location().map(|l| l.line());
                self.unparsable_files += 1;
                self.problems.push(Problem {
                    file: path.into(),
                    line,
                    message: format!("invalid YAML: {}", strip_location(&e)),
                });
                return;
            }
        };
        if root.is_null() {
            return; // an empty file is fine
        }
        let locator = Locator::new(text);
        let Some(map) = root.as_mapping() else {
            self.problems.push(Problem {
                file: path.into(),
                line: Some(1),
                message: format!("a bot file must be a mapping of sections ({})", SECTIONS.join(", ")),
            });
            return;
        };
        for (key, value) in map {
            let Some(section) = key.as_str() else {
                self.problems.push(Problem {
                    file: path.into(),
                    line: None,
                    message: "section names must be strings".into(),
                });
                continue;
            };
            let origin = Origin { file: path.into(), line: locator.line_of(&[section]) };
            match section {
                "bot" => self.single(value, origin, |a| &mut a.bot, "bot", &locator),
                "nlu" => self.single(value, origin, |a| &mut a.nlu, "nlu", &locator),
                "policy" => self.single(value, origin, |a| &mut a.policy, "policy", &locator),
                "intents" => self.named(value, path, &locator, section, |a| &mut a.intents, "intent"),
                "entities" => self.named(value, path, &locator, section, |a| &mut a.entities, "entity"),
                "slots" => self.named(value, path, &locator, section, |a| &mut a.slots, "slot"),
                "flows" => self.named(value, path, &locator, section, |a| &mut a.flows, "flow"),
                "responses" => self.named(value, path, &locator, section, |a| &mut a.responses, "response"),
                "actions" => self.named(value, path, &locator, section, |a| &mut a.actions, "action"),
                "faq" => self.faq_section(value, path, &locator),
                other => self.problems.push(Problem {
                    file: path.into(),
                    line: origin.line,
                    message: format!("unknown section `{other}` (expected one of: {})", SECTIONS.join(", ")),
                }),
            }
        }
    }

    fn single<T: DeserializeOwned>(
        &mut self,
        value: &serde_yaml::Value,
        origin: Origin,
        slot: impl Fn(&mut Self) -> &mut Option<(T, Origin)>,
        section: &str,
        locator: &Locator<'_>,
    ) {
        match parse_item::<T>(value) {
            Ok(item) => {
                if let Some((_, first)) = slot(self) {
                    let message = format!("duplicate `{section}` section (first defined at {})", describe(first));
                    self.problems.push(Problem { file: origin.file.clone(), line: origin.line, message });
                } else {
                    *slot(self) = Some((item, origin));
                }
            }
            Err(message) => {
                let line = field_line(locator, &[section], &message).or(origin.line);
                self.problems.push(Problem { file: origin.file, line, message: format!("in `{section}`: {message}") })
            }
        }
    }

    fn named<T: DeserializeOwned>(
        &mut self,
        value: &serde_yaml::Value,
        path: &Path,
        locator: &Locator<'_>,
        section: &str,
        map: impl Fn(&mut Self) -> &mut BTreeMap<String, (T, Origin)>,
        what: &str,
    ) {
        if value.is_null() {
            return;
        }
        let Some(items) = value.as_mapping() else {
            self.problems.push(Problem {
                file: path.into(),
                line: locator.line_of(&[section]),
                message: format!("`{section}` must be a mapping from {what} name to its definition"),
            });
            return;
        };
        for (k, v) in items {
            let Some(name) = k.as_str().map(str::to_string) else {
                self.problems.push(Problem {
                    file: path.into(),
                    line: locator.line_of(&[section]),
                    message: format!("{what} names must be strings"),
                });
                continue;
            };
            let origin = Origin { file: path.into(), line: locator.line_of(&[section, &name]) };
            match parse_item::<T>(v) {
                Ok(item) => {
                    if let Some((_, first)) = map(self).get(&name) {
                        let message = format!("duplicate {what} `{name}` (first defined at {})", describe(first));
                        self.problems.push(Problem { file: origin.file, line: origin.line, message });
                    } else {
                        map(self).insert(name, (item, origin));
                    }
                }
                Err(message) => {
                    let line = field_line(locator, &[section, &name], &message).or(origin.line);
                    self.problems.push(Problem {
                        file: origin.file,
                        line,
                        message: format!("{what} `{name}`: {message}"),
                    });
                }
            }
        }
    }

    fn faq_section(&mut self, value: &serde_yaml::Value, path: &Path, locator: &Locator<'_>) {
        let Some(items) = value.as_sequence() else {
            if !value.is_null() {
                self.problems.push(Problem {
                    file: path.into(),
                    line: locator.line_of(&["faq"]),
                    message: "`faq` must be a list of entries".into(),
                });
            }
            return;
        };
        for (i, v) in items.iter().enumerate() {
            let id = v.get("id").and_then(|x| x.as_str()).unwrap_or("").to_string();
            let line = if id.is_empty() { locator.line_of(&["faq"]) } else { locator.line_of(&["faq", &id]) };
            match parse_item::<FaqEntry>(v) {
                Ok(entry) => {
                    if let Some((_, first)) = self.faq.iter().find(|(e, _)| e.id == entry.id) {
                        let message = format!("duplicate FAQ id `{}` (first defined at {})", entry.id, describe(first));
                        self.problems.push(Problem { file: path.into(), line, message });
                    } else {
                        self.faq.push((entry, Origin { file: path.into(), line }));
                    }
                }
                Err(message) => {
                    let label = if id.is_empty() { format!("#{}", i + 1) } else { format!("`{id}`") };
                    self.problems.push(Problem {
                        file: path.into(),
                        line,
                        message: format!("FAQ entry {label}: {message}"),
                    });
                }
            }
        }
    }

    fn finish(mut self, dir: &Path) -> Result<BotDefinition, BotProblems> {
        let Some((bot, bot_origin)) = self.bot.take() else {
            if self.unparsable_files > 0 {
                return Err(BotProblems(self.problems)); // the `bot:` section may be in the broken file
            }
            self.problems.push(Problem {
                file: dir.to_path_buf(),
                line: None,
                message: "no `bot:` section (name, languages) in any file of the folder".into(),
            });
            return Err(BotProblems(self.problems));
        };
        let origins = Origins {
            bot: bot_origin,
            intents: self.intents.iter().map(|(k, (_, o))| (k.clone(), o.clone())).collect(),
            entities: self.entities.iter().map(|(k, (_, o))| (k.clone(), o.clone())).collect(),
            slots: self.slots.iter().map(|(k, (_, o))| (k.clone(), o.clone())).collect(),
            flows: self.flows.iter().map(|(k, (_, o))| (k.clone(), o.clone())).collect(),
            responses: self.responses.iter().map(|(k, (_, o))| (k.clone(), o.clone())).collect(),
            actions: self.actions.iter().map(|(k, (_, o))| (k.clone(), o.clone())).collect(),
            faq: self.faq.iter().map(|(e, o)| (e.id.clone(), o.clone())).collect(),
            texts: std::mem::take(&mut self.texts),
        };
        let mut def = BotDefinition {
            bot,
            nlu: self.nlu.map(|(n, _)| n).unwrap_or_default(),
            policy: self.policy.map(|(p, _)| p).unwrap_or_default(),
            intents: self.intents.into_iter().map(|(k, (v, _))| (k, v)).collect(),
            entities: self.entities.into_iter().map(|(k, (v, _))| (k, v)).collect(),
            slots: self.slots.into_iter().map(|(k, (v, _))| (k, v)).collect(),
            flows: self.flows.into_iter().map(|(k, (v, _))| (k, v)).collect(),
            responses: self.responses.into_iter().map(|(k, (v, _))| (k, v)).collect(),
            actions: self.actions.into_iter().map(|(k, (v, _))| (k, v)).collect(),
            faq: self.faq.into_iter().map(|(e, _)| e).collect(),
            annotations: Vec::new(),
            tables: BTreeMap::new(),
        };
        let mut problems = self.problems;
        validate(&mut def, dir, &origins, &mut problems);
        if problems.is_empty() {
            Ok(def)
        } else {
            Err(BotProblems(problems))
        }
    }
}

/// Where every named item came from, for validation messages.
pub(crate) struct Origins {
    pub bot: Origin,
    pub intents: BTreeMap<String, Origin>,
    pub entities: BTreeMap<String, Origin>,
    pub slots: BTreeMap<String, Origin>,
    pub flows: BTreeMap<String, Origin>,
    pub responses: BTreeMap<String, Origin>,
    pub actions: BTreeMap<String, Origin>,
    pub faq: BTreeMap<String, Origin>,
    pub texts: BTreeMap<PathBuf, String>,
}

impl Origins {
    /// A problem about `item` of `section`, pointing at `field` (and `needle` below it) when found.
    pub(crate) fn problem(
        &self,
        section: &str,
        item: &str,
        field: &[&str],
        needle: Option<&str>,
        message: String,
    ) -> Problem {
        let origin = match section {
            "intents" => self.intents.get(item),
            "entities" => self.entities.get(item),
            "slots" => self.slots.get(item),
            "flows" => self.flows.get(item),
            "responses" => self.responses.get(item),
            "actions" => self.actions.get(item),
            "faq" => self.faq.get(item),
            _ => None,
        }
        .unwrap_or(&self.bot);
        let mut line = origin.line;
        if let Some(text) = self.texts.get(&origin.file) {
            let loc = Locator::new(text);
            let mut path = vec![section, item];
            path.extend_from_slice(field);
            line = match needle {
                Some(n) => loc.line_of_value(&path, n),
                None => loc.line_of(&path),
            }
            .or(line);
        }
        Problem { file: origin.file.clone(), line, message }
    }
}

fn parse_item<T: DeserializeOwned>(value: &serde_yaml::Value) -> Result<T, String> {
    serde_yaml::from_value::<T>(value.clone()).map_err(|e| strip_location(&e))
}

fn strip_location(e: &serde_yaml::Error) -> String {
    let s = e.to_string();
    match s.find(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Best-effort line for a serde message naming a field (`unknown field `foo``, `missing field `bar``).
fn field_line(locator: &Locator<'_>, base: &[&str], message: &str) -> Option<usize> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    let field = &message[start..start + len];
    if message.starts_with("unknown field") {
        let mut path = base.to_vec();
        path.push(field);
        let line = locator.line_of(&path);
        if line != locator.line_of(base) {
            return line;
        }
    }
    None
}

fn describe(o: &Origin) -> String {
    match o.line {
        Some(l) => format!("{}:{}", o.file.display(), l),
        None => o.file.display().to_string(),
    }
}
