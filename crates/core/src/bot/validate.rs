//! Cross-reference checks of a merged bot definition.

use super::annotation::{parse_annotated, AnnotatedExample};
use super::load::Origins;
use super::model::*;
use super::problem::Problem;
use crate::language::Language;
use crate::response::Response;
use std::collections::BTreeSet;
use std::path::Path;

/// Longest idle timeout a bot may set: one year (longer ones overflow date arithmetic).
const MAX_IDLE_TIMEOUT_SECS: u64 = 366 * 24 * 3600;

/// Built-in entity kinds a slot or response may refer to without declaring them.
pub const BUILTIN_ENTITIES: [&str; 9] =
    ["number", "ordinal", "amount", "duration", "time", "phone", "email", "url", "person"];

pub(crate) fn validate(def: &mut BotDefinition, dir: &Path, o: &Origins, problems: &mut Vec<Problem>) {
    let langs: Vec<Language> = def.bot.languages.clone();
    let bot_problem = |message: String| Problem { file: o.bot.file.clone(), line: o.bot.line, message };
    if langs.is_empty() {
        problems.push(bot_problem("`bot.languages` must list at least one language (zh, en)".into()));
    }
    if let Some(d) = def.bot.default_language {
        if !langs.contains(&d) {
            problems.push(bot_problem(format!("`bot.default_language` {d} is not one of `bot.languages`")));
        }
    }
    if def.bot.timezone.parse::<chrono_tz::Tz>().is_err() {
        problems.push(bot_problem(format!(
            "`bot.timezone` `{}` is not an IANA time zone (e.g. Asia/Shanghai)",
            def.bot.timezone
        )));
    }
    let currencies: Vec<&String> = match &def.bot.currency {
        None => Vec::new(),
        Some(PerLanguage::All(c)) => vec![c],
        Some(PerLanguage::ByLanguage(m)) => m.values().collect(),
    };
    for c in currencies {
        if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
            problems.push(bot_problem(format!("`bot.currency` `{c}` is not an ISO 4217 code such as CNY or USD")));
        }
    }
    if def.bot.name.trim().is_empty() {
        problems.push(bot_problem("`bot.name` is empty".into()));
    }
    if def.nlu.pipeline != "lexical" && def.nlu.pipeline != "neural" && def.nlu.pipeline != "fused" {
        problems
            .push(bot_problem(format!("`nlu.pipeline` `{}` is unknown (lexical, neural, fused)", def.nlu.pipeline)));
    }
    if !def.nlu.encoders.is_empty() && def.nlu.encoder.is_some() {
        problems.push(bot_problem(
            "`nlu.encoders` (one encoder per language) and `nlu.encoder` (one for `encoder_languages`) exclude each other: keep one".into(),
        ));
    }
    if def.nlu.encoders.values().any(|dir| dir.trim().is_empty()) {
        problems.push(bot_problem("`nlu.encoders` names an empty folder".into()));
    }
    let p = &def.policy;
    let fixed_intent_threshold = match p.intent_threshold {
        crate::bot::IntentThreshold::Fixed(t) => Some(("intent_threshold", t)),
        crate::bot::IntentThreshold::Auto => None,
    };
    for (name, v) in fixed_intent_threshold
        .into_iter()
        .chain([("ambiguity_margin", p.ambiguity_margin), ("kb_threshold", p.kb_threshold)])
    {
        if !(0.0..=1.0).contains(&v) {
            problems.push(bot_problem(format!("`policy.{name}` must be between 0 and 1, got {v}")));
        }
    }
    if p.max_history == 0 {
        problems.push(bot_problem("`policy.max_history` must be at least 1".into()));
    }
    if p.session_idle_timeout_secs == 0 || p.session_idle_timeout_secs > MAX_IDLE_TIMEOUT_SECS {
        problems.push(bot_problem(format!(
            "`policy.session_idle_timeout_secs` must be between 1 and {MAX_IDLE_TIMEOUT_SECS} (one year)"
        )));
    }

    let missing_langs = |present: &dyn Fn(Language) -> bool| -> Vec<String> {
        langs.iter().filter(|l| !present(**l)).map(|l| l.to_string()).collect()
    };

    // Entity annotations: taken out of the examples, kept for the entity tagger.
    let mut annotations = Vec::new();
    for (name, intent) in def.intents.iter_mut() {
        for (lang, examples) in intent.examples.iter_mut() {
            for example in examples.iter_mut() {
                if !example.contains('[') {
                    continue;
                }
                match parse_annotated(example) {
                    Ok(parsed) => {
                        if !parsed.annotations.is_empty() {
                            annotations.push(AnnotatedExample {
                                language: *lang,
                                intent: name.clone(),
                                text: parsed.text.clone(),
                                annotations: parsed.annotations,
                            });
                        }
                        *example = parsed.text;
                    }
                    Err(m) => {
                        problems.push(o.problem("intents", name, &["examples"], None, format!("intent `{name}`: {m}")))
                    }
                }
            }
        }
    }
    def.annotations = annotations;
    let learned: BTreeSet<String> =
        def.annotations.iter().flat_map(|a| a.annotations.iter().map(|x| x.entity.clone())).collect();

    // Intents.
    for (name, intent) in &def.intents {
        let pb = |field: &[&str], needle: Option<&str>, m: String| o.problem("intents", name, field, needle, m);
        if name == FAQ_INTENT || name.starts_with('/') || name.contains(char::is_whitespace) {
            problems.push(pb(&[], None, format!("intent name `{name}` is reserved or contains spaces or `/`")));
        }
        let missing = missing_langs(&|l| intent.examples.get(&l).is_some_and(|v| !v.is_empty()));
        if !missing.is_empty() {
            problems.push(pb(
                &["examples"],
                None,
                format!("intent `{name}` has no examples in {} (missing translation)", missing.join(", ")),
            ));
        }
        for lang in intent.examples.keys() {
            if !langs.contains(lang) {
                problems.push(pb(
                    &["examples"],
                    None,
                    format!("intent `{name}` has examples in {lang}, which is not in `bot.languages`"),
                ));
            }
        }
        if let Some(r) = &intent.response {
            if !def.responses.contains_key(r) {
                problems.push(pb(&["response"], None, format!("intent `{name}` uses unknown response `{r}`")));
            }
        }
        if let Some(f) = &intent.flow {
            if !def.flows.contains_key(f) {
                problems.push(pb(&["flow"], None, format!("intent `{name}` starts unknown flow `{f}`")));
            }
        }
        if let Some(a) = &intent.action {
            if !def.actions.contains_key(a) {
                problems.push(pb(&["action"], None, format!("intent `{name}` runs unknown action `{a}`")));
            }
        }
        let triggers_flow = def.flows.values().any(|f| f.triggers.iter().any(|t| t == name));
        let builtin = ["affirm", "deny", "cancel", OUT_OF_SCOPE_INTENT].contains(&name.as_str());
        if intent.response.is_none()
            && intent.flow.is_none()
            && intent.action.is_none()
            && !intent.handoff
            && !triggers_flow
            && !builtin
        {
            problems.push(pb(
                &[],
                None,
                format!("intent `{name}` does nothing: give it a `response`, `flow`, `action` or `handoff: true`"),
            ));
        }
        if let Some(t) = &intent.title {
            let missing = missing_langs(&|l| t.contains_key(&l));
            if !missing.is_empty() {
                problems.push(pb(
                    &["title"],
                    None,
                    format!("intent `{name}` has no title in {} (missing translation)", missing.join(", ")),
                ));
            }
        }
    }

    // Entities.
    for (name, e) in &def.entities {
        let pb = |field: &[&str], m: String| o.problem("entities", name, field, None, m);
        if BUILTIN_ENTITIES.contains(&name.as_str()) {
            problems.push(pb(&[], format!("entity `{name}` shadows the built-in entity of the same name")));
        }
        match (&e.regex, e.lookup.is_empty()) {
            (Some(_), false) => {
                problems.push(pb(&[], format!("entity `{name}` has both `regex` and `lookup`; choose one")))
            }
            (None, true) => problems.push(pb(&[], format!("entity `{name}` needs a `regex` or a `lookup` list"))),
            _ => {}
        }
        if let Some(re) = &e.regex {
            if let Err(err) = regex::Regex::new(re) {
                problems
                    .push(pb(&["regex"], format!("entity `{name}` has a bad regex: {}", one_line(&err.to_string()))));
            }
        }
    }

    // Slots.
    for (name, s) in &def.slots {
        let pb = |field: &[&str], m: String| o.problem("slots", name, field, None, m);
        if let Some(ent) = &s.entity {
            if !def.entities.contains_key(ent) && !BUILTIN_ENTITIES.contains(&ent.as_str()) && !learned.contains(ent) {
                problems.push(pb(
                    &["entity"],
                    format!(
                        "slot `{name}` is filled by unknown entity `{ent}` (declare it in `entities:` or annotate it \
                         in intent examples: `[words]({ent})`)"
                    ),
                ));
            }
        }
        if let Some(d) = &s.default {
            if let Err(m) = check_default(d, s.slot_type, &langs) {
                problems.push(pb(&["default"], format!("slot `{name}`: {m}")));
            }
        }
        for lang in s.mentions.keys() {
            if !langs.contains(lang) {
                problems
                    .push(pb(&["mentions"], format!("slot `{name}` has mentions in {lang}, not in `bot.languages`")));
            }
        }
        if s.slot_type == SlotType::Categorical && s.values.is_empty() && s.entity.is_none() {
            problems.push(pb(&[], format!("categorical slot `{name}` needs `values` or a lookup `entity`")));
        }
    }

    // Flows.
    let slot_names: BTreeSet<&str> = def.slots.keys().map(String::as_str).collect();
    for (name, f) in &def.flows {
        let pb = |field: &[&str], needle: Option<&str>, m: String| o.problem("flows", name, field, needle, m);
        for t in &f.triggers {
            if !def.intents.contains_key(t) {
                problems.push(pb(
                    &["triggers"],
                    Some(t),
                    format!("flow `{name}` is triggered by unknown intent `{t}`"),
                ));
            }
        }
        if f.slots.is_empty() {
            problems.push(pb(&[], None, format!("flow `{name}` asks for no slot")));
        }
        let mut seen = BTreeSet::new();
        for fs in &f.slots {
            let here = |m: String| pb(&["slots"], Some(&fs.slot), m);
            if !slot_names.contains(fs.slot.as_str()) {
                problems.push(here(format!("flow `{name}` asks for unknown slot `{}`", fs.slot)));
            }
            if !seen.insert(fs.slot.as_str()) {
                problems.push(here(format!("flow `{name}` asks for slot `{}` twice", fs.slot)));
            }
            let slot_def = def.slots.get(&fs.slot);
            if let (Some(d), Some(sd)) = (&fs.default, slot_def) {
                if let Err(m) = check_default(d, sd.slot_type, &langs) {
                    problems.push(here(format!("flow `{name}`, slot `{}`: {m}", fs.slot)));
                }
            }
            let asked = fs.required && fs.default.is_none() && slot_def.is_none_or(|d| d.default.is_none());
            let missing = missing_langs(&|l| fs.prompt.get(&l).is_some_and(|p| !p.as_slice().is_empty()));
            if asked && !missing.is_empty() {
                problems.push(here(format!(
                    "flow `{name}`: the prompt for `{}` is missing in {} (missing translation)",
                    fs.slot,
                    missing.join(", ")
                )));
            }
            check_templates_localized(&fs.prompt, &slot_names, &mut |m| {
                problems.push(here(format!("flow `{name}`: {m}")))
            });
            if let Some(inv) = &fs.invalid {
                let missing = missing_langs(&|l| inv.contains_key(&l));
                if !missing.is_empty() {
                    problems.push(here(format!(
                        "flow `{name}`: the invalid message for `{}` is missing in {}",
                        fs.slot,
                        missing.join(", ")
                    )));
                }
            }
            if let Some(v) = &fs.validate {
                if let Some(re) = &v.regex {
                    if let Err(err) = regex::Regex::new(re) {
                        problems.push(here(format!(
                            "flow `{name}`: bad validation regex for `{}`: {}",
                            fs.slot,
                            one_line(&err.to_string())
                        )));
                    }
                }
                if let Some(a) = &v.action {
                    if !def.actions.contains_key(a) {
                        problems.push(here(format!("flow `{name}`: validation uses unknown action `{a}`")));
                    }
                }
            }
            check_buttons(&fs.buttons, def, &langs, &mut |m| problems.push(here(format!("flow `{name}`: {m}"))));
        }
        if let Some(c) = &f.confirm {
            let missing = missing_langs(&|l| c.contains_key(&l));
            if !missing.is_empty() {
                problems.push(pb(
                    &["confirm"],
                    None,
                    format!("flow `{name}`: `confirm` is missing in {} (missing translation)", missing.join(", ")),
                ));
            }
            check_templates_localized(c, &slot_names, &mut |m| {
                problems.push(pb(&["confirm"], None, format!("flow `{name}`: {m}")))
            });
        }
        for (field, outcome) in [("on_complete", Some(&f.on_complete)), ("on_decline", f.on_decline.as_ref())] {
            let Some(outcome) = outcome else { continue };
            if let Some(a) = &outcome.action {
                if !def.actions.contains_key(a) {
                    problems.push(pb(&[field], None, format!("flow `{name}`: `{field}` runs unknown action `{a}`")));
                }
            }
            if let Some(r) = &outcome.response {
                if !def.responses.contains_key(r) {
                    problems.push(pb(&[field], None, format!("flow `{name}`: `{field}` uses unknown response `{r}`")));
                }
            }
        }
    }

    // Responses.
    for (name, r) in &def.responses {
        let pb = |m: String| o.problem("responses", name, &[], None, m);
        check_response(name, r, def, &langs, &slot_names, &mut |m| problems.push(pb(m)));
    }

    // Actions.
    let mut tables = std::collections::BTreeMap::new();
    for (name, a) in &def.actions {
        let pb = |field: &[&str], m: String| o.problem("actions", name, field, None, m);
        let kinds = a.lookup.is_some() as u8 + a.webhook.is_some() as u8 + a.code as u8;
        if kinds != 1 {
            problems.push(pb(&[], format!("action `{name}` must be exactly one of `lookup`, `webhook`, `code: true`")));
        }
        if let Some(w) = &a.webhook {
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                problems.push(pb(
                    &["webhook", "url"],
                    format!("action `{name}`: webhook url must start with http:// or https://"),
                ));
            }
            if !cfg!(feature = "webhook") {
                problems.push(pb(
                    &["webhook"],
                    format!("action `{name}` is a webhook, but Kefu was built without the `webhook` feature"),
                ));
            }
        }
        if let Some(l) = &a.lookup {
            if !slot_names.contains(l.key.as_str()) {
                problems.push(pb(&["lookup", "key"], format!("action `{name}`: lookup key `{}` is not a slot", l.key)));
            }
            for slot in l.set.keys() {
                if !slot_names.contains(slot.as_str()) {
                    problems.push(pb(&["lookup", "set"], format!("action `{name}`: sets unknown slot `{slot}`")));
                }
            }
            for r in l.found.iter().chain(l.not_found.iter()) {
                if !def.responses.contains_key(r) {
                    problems.push(pb(&["lookup"], format!("action `{name}`: unknown response `{r}`")));
                }
            }
            if !tables.contains_key(&l.table) {
                match load_table(&dir.join(&l.table)) {
                    Ok(rows) => {
                        tables.insert(l.table.clone(), rows);
                    }
                    Err(m) => {
                        problems.push(pb(&["lookup", "table"], format!("action `{name}`: table `{}`: {m}", l.table)))
                    }
                }
            }
        }
    }
    def.tables = tables;

    // FAQ.
    for e in &def.faq {
        let pb = |field: &[&str], m: String| o.problem("faq", &e.id, field, None, m);
        if e.id.trim().is_empty() {
            problems.push(pb(&[], "a FAQ entry has an empty id".into()));
        }
        let missing = missing_langs(&|l| e.questions.get(&l).is_some_and(|q| !q.is_empty()));
        if !missing.is_empty() {
            problems.push(pb(
                &["questions"],
                format!("FAQ `{}` has no question in {} (missing translation)", e.id, missing.join(", ")),
            ));
        }
        let missing = missing_langs(&|l| e.answer.get(&l).is_some_and(|a| !a.trim().is_empty()));
        if !missing.is_empty() {
            problems.push(pb(
                &["answer"],
                format!("FAQ `{}` has no answer in {} (missing translation)", e.id, missing.join(", ")),
            ));
        }
    }
}

fn check_response(
    name: &str,
    r: &Response,
    def: &BotDefinition,
    langs: &[Language],
    slots: &BTreeSet<&str>,
    report: &mut dyn FnMut(String),
) {
    if r.variants().is_empty() {
        report(format!("response `{name}` has no variant"));
    }
    for v in r.variants() {
        let missing: Vec<String> = langs
            .iter()
            .filter(|l| v.text.get(l).is_none_or(|t| t.as_slice().is_empty()))
            .map(|l| l.to_string())
            .collect();
        if !missing.is_empty() {
            report(format!("response `{name}` has no text in {} (missing translation)", missing.join(", ")));
        }
        check_templates_localized(&v.text, slots, &mut |m| report(format!("response `{name}`: {m}")));
        if let Some(c) = &v.when {
            if !slots.contains(c.slot.as_str()) {
                report(format!("response `{name}`: condition on unknown slot `{}`", c.slot));
            }
        }
        check_buttons(&v.buttons, def, langs, &mut |m| report(format!("response `{name}`: {m}")));
    }
}

fn check_buttons(
    buttons: &[crate::response::Button],
    def: &BotDefinition,
    langs: &[Language],
    report: &mut dyn FnMut(String),
) {
    for b in buttons {
        if let Some(intent) = b.payload.strip_prefix('/') {
            if !def.intents.contains_key(intent) {
                report(format!("button payload `{}` names unknown intent `{intent}`", b.payload));
            }
        }
        if let crate::response::ButtonTitle::Localized(m) = &b.title {
            for l in langs {
                if !m.contains_key(l) {
                    report(format!("button `{}` has no title in {l} (missing translation)", b.payload));
                }
            }
        }
    }
}

fn check_templates_localized(texts: &Localized, slots: &BTreeSet<&str>, report: &mut dyn FnMut(String)) {
    for t in texts.values().flat_map(|v| v.as_slice()) {
        for placeholder in placeholders(t) {
            if !slots.contains(placeholder.as_str()) {
                report(format!("`{{{placeholder}}}` in \"{t}\" is not a slot"));
            }
        }
    }
}

/// The `{name}` placeholders of a template (ignoring `{{` / `}}`).
pub(crate) fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let cleaned = template.replace("{{", "").replace("}}", "");
    let mut rest = cleaned.as_str();
    while let Some(i) = rest.find('{') {
        match rest[i + 1..].find('}') {
            Some(j) => {
                out.push(rest[i + 1..i + 1 + j].trim().to_string());
                rest = &rest[i + 2 + j..];
            }
            None => break,
        }
    }
    out
}

fn load_table(path: &Path) -> Result<Vec<std::collections::BTreeMap<String, serde_json::Value>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    serde_yaml::from_str(&text).map_err(|e| format!("must be a YAML list of rows: {e}"))
}

/// A default is a value of the slot's type, a date word for time slots, or one per language.
fn check_default(d: &serde_json::Value, ty: SlotType, langs: &[Language]) -> Result<(), String> {
    if let Some(per_language) = crate::slot_fill::per_language_default(d) {
        for (lang, v) in per_language {
            if !langs.contains(&lang) {
                return Err(format!("the default for {lang} is for a language not in `bot.languages`"));
            }
            check_default(v, ty, langs)?;
        }
        return Ok(());
    }
    match (ty, d) {
        (_, serde_json::Value::Null) => Err("`default` is empty".into()),
        (SlotType::Time, serde_json::Value::String(s)) if crate::slot_fill::time_default_is_known(s) => Ok(()),
        (SlotType::Time, _) => {
            Err(format!("the default of a time slot is `today`, `tomorrow`, `now` or a date like 2026-12-24, got {d}"))
        }
        (SlotType::Number, v) if !v.is_number() => {
            Err(format!("the default of a number slot must be a number, got {d}"))
        }
        (SlotType::Bool, v) if !v.is_boolean() => Err(format!("the default of a bool slot is true or false, got {d}")),
        _ => Ok(()),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
