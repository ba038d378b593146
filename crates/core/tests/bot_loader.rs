//! The loader reports every mistake at once, each with its file and line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kefu_core::bot::{load_bot_files, Problem};
use std::path::{Path, PathBuf};

const BASE: &str = "bot:
  name: test
  languages: [zh, en]
";

fn load(files: &[(&str, &str)]) -> Result<kefu_core::BotDefinition, Vec<Problem>> {
    let files: Vec<(PathBuf, String)> = files.iter().map(|(n, t)| (PathBuf::from(n), t.to_string())).collect();
    load_bot_files(Path::new("."), &files).map_err(|p| p.0)
}

fn problems(files: &[(&str, &str)]) -> Vec<Problem> {
    load(files).expect_err("the definition should be rejected")
}

fn find<'a>(ps: &'a [Problem], needle: &str) -> &'a Problem {
    ps.iter()
        .find(|p| p.message.contains(needle))
        .unwrap_or_else(|| panic!("no problem mentioning {needle:?} in {ps:#?}"))
}

#[test]
fn valid_definition_loads() {
    let bot = load(&[(
        "bot.yaml",
        &format!("{BASE}intents:\n  greet:\n    examples: {{zh: [你好], en: [hi]}}\n    response: greet\nresponses:\n  greet:\n    text: {{zh: 你好, en: Hello}}\n"),
    )])
    .unwrap();
    assert_eq!(bot.intents.len(), 1);
    assert_eq!(bot.policy.max_history, 50);
}

#[test]
fn invalid_yaml_points_at_the_line() {
    let ps = problems(&[("a.yaml", "bot:\n  name: [unclosed\n  languages: zh\n")]);
    assert_eq!(ps.len(), 1);
    assert!(ps[0].message.starts_with("invalid YAML"), "{:?}", ps[0]);
    assert_eq!(ps[0].file, PathBuf::from("a.yaml"));
    assert!(ps[0].line.is_some());
}

#[test]
fn unknown_intent_in_a_flow() {
    let text = format!(
        "{BASE}slots:\n  order_id: {{type: text}}\nflows:\n  returns:\n    triggers:\n      - request_return\n    slots:\n      - slot: order_id\n        prompt: {{zh: 订单号？, en: Order?}}\n"
    );
    let ps = problems(&[("flows.yaml", &text)]);
    let p = find(&ps, "unknown intent `request_return`");
    assert_eq!(p.file, PathBuf::from("flows.yaml"));
    assert_eq!(p.line, Some(9), "{p}");
}

#[test]
fn missing_translation() {
    let text = format!("{BASE}intents:\n  greet:\n    examples:\n      zh: [你好]\n    response: greet\nresponses:\n  greet:\n    text: {{zh: 你好}}\n");
    let ps = problems(&[("bot.yaml", &text)]);
    let p = find(&ps, "intent `greet` has no examples in en (missing translation)");
    assert_eq!(p.line, Some(6), "{p}");
    let p = find(&ps, "response `greet` has no text in en");
    assert_eq!(p.line, Some(10), "{p}");
}

#[test]
fn bad_regex() {
    let text = format!("{BASE}entities:\n  order_id:\n    regex: 'SO(\\d{{6}}'\n");
    let ps = problems(&[("entities.yaml", &text)]);
    let p = find(&ps, "entity `order_id` has a bad regex");
    assert_eq!(p.line, Some(6), "{p}");
}

#[test]
fn duplicate_names_across_files() {
    let intent = "intents:\n  greet:\n    examples: {zh: [你好], en: [hi]}\n    response: greet\n";
    let ps = problems(&[
        ("a.yaml", &format!("{BASE}{intent}responses:\n  greet:\n    text: {{zh: 你好, en: Hi}}\n")),
        ("b.yaml", intent),
    ]);
    let p = find(&ps, "duplicate intent `greet` (first defined at a.yaml:5)");
    assert_eq!(p.file, PathBuf::from("b.yaml"));
    assert_eq!(p.line, Some(2));
}

#[test]
fn duplicate_names_in_one_file() {
    let ps = problems(&[("a.yaml", &format!("{BASE}slots:\n  x: {{type: text}}\n  x: {{type: number}}\n"))]);
    assert!(ps[0].message.contains("duplicate entry with key \"x\""), "{ps:?}");
    assert_eq!(ps[0].line, Some(5));
}

#[test]
fn unknown_fields_sections_and_references_all_reported_together() {
    let text = format!(
        "{BASE}  timezone: Mars/Olympus\ncolours: [red]\nintents:\n  greet:\n    examples: {{zh: [你好], en: [hi]}}\n    respnse: greet\n  bye:\n    examples: {{zh: [再见], en: [bye]}}\n    response: nope\n"
    );
    let ps = problems(&[("bot.yaml", &text)]);
    find(&ps, "not an IANA time zone");
    assert_eq!(find(&ps, "unknown section `colours`").line, Some(5));
    let p = find(&ps, "unknown field `respnse`");
    assert_eq!(p.line, Some(9), "{p}");
    assert_eq!(find(&ps, "unknown response `nope`").line, Some(12));
    assert!(ps.len() >= 4);
}

#[test]
fn missing_bot_section() {
    let ps = problems(&[("a.yaml", "intents: {}\n")]);
    find(&ps, "no `bot:` section");
}

#[test]
fn placeholders_must_be_slots_and_buttons_must_name_intents() {
    let text = format!(
        "{BASE}responses:\n  hi:\n    text: {{zh: \"你好 {{name}}\", en: \"Hi {{name}}\"}}\n    buttons:\n      - {{title: {{zh: 退货, en: Return}}, payload: /return}}\n"
    );
    let ps = problems(&[("r.yaml", &text)]);
    find(&ps, "`{name}` in \"你好 {name}\" is not a slot");
    find(&ps, "names unknown intent `return`");
}

#[test]
fn problems_display_as_file_line_message() {
    let ps = problems(&[("x.yaml", &format!("{BASE}entities:\n  e:\n    regex: '('\n"))]);
    let line = ps[0].to_string();
    assert!(line.starts_with("x.yaml:6: entity `e` has a bad regex"), "{line}");
}

#[test]
fn loads_from_a_folder_and_reports_unreadable_ones() {
    let err = kefu_core::load_bot_dir(Path::new("/definitely/not/here")).unwrap_err();
    assert!(err.0[0].message.contains("cannot read the bot folder"));
    let bot = kefu_core::load_bot_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini")).unwrap();
    assert_eq!(bot.bot.name, "mini");
}

const BOOKING: &str = "intents:
  book:
    flow: book
    examples:
      zh: ['帮[孙七](passenger)订票', '从[北京]{\"entity\": \"city\", \"role\": \"from\"}出发', 我要订票]
      en: ['book [Maria Lopez](passenger) a seat', 'fly from [NYC](city:New York)', book a ticket]
slots:
  passenger: {type: text, entity: passenger}
  from_city: {type: text, entity: city, role: from}
  when: {type: time, default: today}
  pay: {type: text, default: {zh: CNY, en: USD}}
flows:
  book:
    slots:
      - slot: passenger
        prompt: {zh: 乘客是谁？, en: Who is flying?}
      - slot: from_city
        prompt: {zh: 从哪出发？, en: From where?}
      - slot: when
        required: false
      - slot: pay
";

#[test]
fn annotations_are_taken_out_of_examples_and_kept_for_the_tagger() {
    let bot = load(&[("bot.yaml", &format!("{BASE}  currency: {{zh: CNY, en: USD}}\n{BOOKING}"))]).unwrap();
    let zh = &bot.intents["book"].examples[&kefu_core::Language::Zh];
    assert_eq!(zh[0], "帮孙七订票");
    assert_eq!(bot.annotations.len(), 4);
    let city = bot.annotations.iter().flat_map(|a| &a.annotations).find(|a| a.role.is_some()).unwrap();
    assert_eq!((city.text.as_str(), city.entity.as_str(), city.role.as_deref()), ("北京", "city", Some("from")));
    let nyc = bot.annotations.iter().flat_map(|a| &a.annotations).find(|a| a.text == "NYC").unwrap();
    assert_eq!(nyc.value.as_deref(), Some("New York"));
    assert_eq!(bot.bot.currency_for(kefu_core::Language::En), Some("USD"));
    assert!(!bot.flows["book"].slots[2].required);
}

#[test]
fn bad_annotations_defaults_and_unasked_prompts_are_reported() {
    let broken = BOOKING
        .replace("'帮[孙七](passenger)订票'", "'帮[孙七]{\"role\": \"x\"}订票'")
        .replace("when: {type: time, default: today}", "when: {type: time, default: someday}")
        .replace("      - slot: pay\n", "      - slot: pay\n      - slot: tickets\n")
        .replace("slots:\n  passenger", "slots:\n  tickets: {type: number, default: many}\n  passenger");
    let ps = problems(&[("bot.yaml", &format!("{BASE}  currency: {{zh: CNY, en: usd}}\n{broken}"))]);
    find(&ps, "needs an \"entity\" name");
    find(&ps, "the default of a time slot");
    find(&ps, "the default of a number slot");
    find(&ps, "`bot.currency` `usd`");
    // `tickets` has a default, so the form never asks it and needs no prompt.
    assert!(!ps.iter().any(|p| p.message.contains("prompt for `tickets`")), "{ps:#?}");
}

#[test]
fn a_slot_filled_by_an_entity_nobody_declares_or_annotates_is_reported() {
    let ps =
        problems(&[("bot.yaml", &format!("{BASE}{}", BOOKING.replace("entity: passenger}", "entity: traveller}")))]);
    find(&ps, "unknown entity `traveller`");
}
