#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `kefu import-rasa` on Rasa fixtures: the written bot loads and passes `kefu check`.

use kefu::bot::{BotDefinition, EntityDef};
use kefu::Language;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rasa").join(rel)
}

/// A fresh, empty scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("import_rasa").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    dir
}

fn kefu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kefu")).args(args).output().expect("run kefu")
}

fn import(source: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["import-rasa", source.to_str().unwrap(), out.to_str().unwrap()];
    args.extend_from_slice(extra);
    kefu(&args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status.code(), stdout(o), stderr(o));
}

fn load(dir: &Path) -> BotDefinition {
    kefu::core::load_bot_dir(dir).unwrap_or_else(|p| panic!("{p}"))
}

fn check_passes(dir: &Path) {
    let o = kefu(&["check", dir.to_str().unwrap()]);
    assert_ok(&o);
}

fn examples(bot: &BotDefinition, intent: &str, lang: Language) -> Vec<String> {
    bot.intents[intent].examples.get(&lang).cloned().unwrap_or_default()
}

/// `value → synonyms` of a lookup entity.
fn lookup(e: &EntityDef) -> Vec<(String, Vec<String>)> {
    assert!(e.regex.is_none(), "{e:?}");
    e.lookup.iter().map(|v| (v.value.clone(), v.synonyms.clone())).collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn banking_nlu_file_becomes_a_bot_that_checks() {
    let out = scratch("banking");
    let o = import(&fixture("banking/nlu.yml"), &out, &[]);
    assert_ok(&o);
    let text = stdout(&o);
    assert!(text.contains("intents:   6"), "{text}");
    assert!(text.contains("examples:  23 (en 23; detected per example; 1 duplicate(s) dropped)"), "{text}");
    assert!(text.contains("kefu check: ok"), "{text}");
    // Skipped items come with their reason and line.
    assert!(text.contains("nlu.yml:20: intent `check_balance`: line without a leading `- `: balance please"), "{text}");
    assert!(text.contains("synonym `platinum`: no entity annotation or lookup uses this value"), "{text}");
    assert!(text.contains("nlu.yml:72: regex `iban`: pattern `(?<=IBAN )[A-Z]{2}\\d{2}` is not supported"), "{text}");
    assert!(text.contains("entity `amount` (2 annotation(s)) is built into Kefu"), "{text}");
    assert!(
        text.contains("entity `account_type`: its 9 annotation(s), 2 with a role or group, stay in the examples"),
        "{text}"
    );
    // `person` is a built-in kind: names are found beyond the three annotated ones.
    assert!(text.contains("entity `person` (3 annotation(s)) is built into Kefu"), "{text}");

    let bot = load(&out);
    assert_eq!(bot.bot.languages, vec![Language::En]);
    let names: Vec<&str> = bot.intents.keys().map(String::as_str).collect();
    assert_eq!(names, ["affirm", "block_card", "check_balance", "deny", "greet", "transfer_money"]);
    assert_eq!(examples(&bot, "greet", Language::En), strings(&["hey", "hello", "hi there", "good morning"]));
    assert_eq!(examples(&bot, "check_balance", Language::En).len(), 6);
    assert_eq!(examples(&bot, "transfer_money", Language::En).len(), 5);
    // Annotations are stripped to plain text; list-form examples and `(entity:value)` work.
    assert_eq!(examples(&bot, "check_balance", Language::En)[2], "show me the balance of my savings account",);
    assert_eq!(
        examples(&bot, "block_card", Language::En),
        strings(&["my card was stolen, block it", "freeze my credit card", "I lost my debit card"])
    );
    // Placeholder responses, except for the intents the policy understands itself.
    assert_eq!(bot.intents["greet"].response.as_deref(), Some("greet"));
    assert!(bot.responses.contains_key("check_balance"));
    assert!(bot.intents["affirm"].response.is_none() && !bot.responses.contains_key("affirm"));

    // Entities: annotations, synonyms (from `synonym:` items and annotation values) and lookups.
    let names: Vec<&str> = bot.entities.keys().map(String::as_str).collect();
    assert_eq!(names, ["account_number", "account_type", "bank", "iban"]);
    assert_eq!(
        lookup(&bot.entities["account_type"]),
        vec![
            ("checking".to_string(), strings(&["current account", "chequing"])),
            ("savings".to_string(), strings(&["saving account", "sav", "savings acct"])),
            ("credit card".to_string(), vec![]),
            ("debit".to_string(), strings(&["debit card"])),
            ("mortgage".to_string(), vec![]),
        ]
    );
    // Annotations stay in the examples in Kefu's syntax (built-in kinds lose their markup);
    // the loader hands them to the entity tagger.
    let written = std::fs::read_to_string(out.join("intents.yaml")).unwrap();
    assert!(
        written.contains(r#"move $100 to my [sav]{"entity":"account_type","value":"savings"} account"#),
        "{written}"
    );
    assert!(written.contains("wire money to Bob at [Chase](bank)"), "{written}");
    assert!(!written.contains("(amount)") && !written.contains("(person)"), "{written}");
    let roles: Vec<_> = bot.annotations.iter().flat_map(|a| &a.annotations).filter_map(|a| a.role.clone()).collect();
    assert_eq!(roles, strings(&["source", "destination"]));
    let bank: Vec<String> = lookup(&bot.entities["bank"]).into_iter().map(|(v, _)| v).collect();
    assert_eq!(bank, strings(&["Chase", "Bank of America", "Wells Fargo"]));
    // A regex entity does not list its annotated values; unsupported patterns are dropped.
    assert_eq!(bot.entities["account_number"].regex.as_deref(), Some(r"\d{10,12}"));
    assert!(bot.entities["account_number"].lookup.is_empty());
    assert_eq!(bot.entities["iban"].regex.as_deref(), Some(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}"));
    assert!(!bot.entities.contains_key("amount"), "built-in entities are not redefined");

    check_passes(&out);
}

#[test]
fn existing_files_are_not_overwritten_without_force() {
    let out = scratch("overwrite");
    assert_ok(&import(&fixture("banking/nlu.yml"), &out, &[]));
    let intents = out.join("intents.yaml");
    std::fs::write(&intents, "intents: {}\n# edited by hand\n").unwrap();

    let o = import(&fixture("banking/nlu.yml"), &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert!(err.contains("intents.yaml") && err.contains("--force"), "{err}");
    assert!(std::fs::read_to_string(&intents).unwrap().contains("edited by hand"));

    // bot.yaml (already there, with the user's settings) is kept; the rest is replaced.
    let bot_yaml = out.join("bot.yaml");
    let edited =
        std::fs::read_to_string(&bot_yaml).unwrap().replace("languages:", "timezone: Asia/Shanghai\n  languages:");
    std::fs::write(&bot_yaml, &edited).unwrap();
    let o = import(&fixture("banking/nlu.yml"), &out, &["--force"]);
    assert_ok(&o);
    assert!(!std::fs::read_to_string(&intents).unwrap().contains("edited by hand"));
    assert_eq!(std::fs::read_to_string(&bot_yaml).unwrap(), edited);
    assert_eq!(load(&out).bot.timezone, "Asia/Shanghai");
    check_passes(&out);
}

#[test]
fn folder_of_files_is_merged_per_language() {
    let out = scratch("bilingual");
    let o = import(&fixture("bilingual"), &out, &[]);
    assert_ok(&o);
    let text = stdout(&o);
    assert!(text.contains("Imported 2 Rasa file(s)"), "{text}");
    assert!(text.contains("nlu_zh.yml: sections not imported: `rules`"), "{text}");

    let bot = load(&out);
    // As many examples in each language: the tie goes to zh, which is then the default language.
    assert_eq!(bot.bot.languages, vec![Language::Zh, Language::En]);
    assert_eq!(bot.intents.len(), 3);
    assert_eq!(examples(&bot, "greet", Language::En), strings(&["hello", "hi there"]));
    assert_eq!(examples(&bot, "greet", Language::Zh), strings(&["你好", "在吗"]));
    // "SO123456" has no language of its own: it goes with the rest of its (Chinese) file.
    assert_eq!(
        examples(&bot, "order_status", Language::Zh),
        strings(&["我的订单到哪了", "查一下订单SO654321", "SO123456"])
    );
    assert_eq!(examples(&bot, "order_status", Language::En).len(), 3);
    // A synonym in one file attaches to the lookup of another.
    assert_eq!(
        lookup(&bot.entities["city"]),
        vec![("Shanghai".to_string(), strings(&["上海", "沪"])), ("Beijing".to_string(), vec![])]
    );
    let zh = &bot.responses["greet"].variants()[0].text;
    assert!(zh.contains_key(&Language::Zh) && zh.contains_key(&Language::En));
    check_passes(&out);
}

#[test]
fn lang_option_puts_every_example_in_one_language() {
    let out = scratch("lang");
    assert_ok(&import(&fixture("bilingual/nlu_en.yml"), &out, &["--lang", "zh"]));
    let bot = load(&out);
    assert_eq!(bot.bot.languages, vec![Language::Zh]);
    assert_eq!(examples(&bot, "order_status", Language::Zh).len(), 3);
    assert!(examples(&bot, "order_status", Language::En).is_empty());
    check_passes(&out);
}

#[test]
fn malformed_yaml_is_reported_with_file_and_line() {
    let out = scratch("bad_yaml");
    let o = import(&fixture("malformed/bad_yaml.yml"), &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("bad_yaml.yml:7: invalid YAML: mapping values are not allowed"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn malformed_annotation_is_reported_with_file_and_line() {
    let out = scratch("bad_annotation");
    let o = import(&fixture("malformed/bad_annotation.yml"), &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(
            r#"bad_annotation.yml:6: entity annotation `[Alice]{"entity": "person", "role": }` is not valid JSON"#
        ),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn a_file_without_nlu_data_is_an_error() {
    let dir = scratch("no_nlu");
    std::fs::create_dir_all(&dir).unwrap();
    let domain = dir.join("domain.yml");
    std::fs::write(&domain, "version: \"3.1\"\nintents:\n  - greet\nresponses:\n  utter_greet:\n  - text: Hi\n")
        .unwrap();
    let o = import(&domain, &dir.join("bot"), &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("domain.yml:1: no `nlu:` section"), "{err}");
    assert!(err.contains("`intents`, `responses`"), "{err}");

    let o = import(&dir.join("missing.yml"), &dir.join("bot"), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing.yml: cannot read"), "{}", stderr(&o));
}
