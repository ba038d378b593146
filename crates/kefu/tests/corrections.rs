//! Corrections that cannot be resolved by kind are asked back, and a correction that names a
//! slot without a value asks that slot again — in Chinese and English, with the real NLU.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kefu::{Assistant, Engine, Turn};

const BOT: &str = r#"
bot:
  name: Tours
  languages: [zh, en]
  timezone: Asia/Shanghai
intents:
  book:
    flow: book
    examples:
      zh: [我想报个旅游团, 报名旅行团, 帮我订一个团, 我要参团, 报个团, 想跟团游]
      en: [book a tour, I want to join a tour, sign me up for a trip, book a group tour, reserve a tour, tour booking]
  greet:
    response: greet
    examples:
      zh: [你好, 您好, 在吗, 哈喽, 早上好, 嗨]
      en: [hi, hello, hey, good morning, hi there, hello there]
slots:
  adults: {type: number}
  children: {type: number}
  start: {type: time}
flows:
  book:
    slots:
      - slot: adults
        prompt: {zh: 几位成人？, en: How many adults?}
      - slot: children
        prompt: {zh: 几位儿童？, en: How many children?}
      - slot: start
        prompt: {zh: 哪天出发？, en: Which day do you leave?}
    confirm:
      zh: 成人 {adults} 位，儿童 {children} 位，{start} 出发，确认吗？
      en: '{adults} adults, {children} children, leaving {start}. Confirm?'
    on_complete: {response: booked}
responses:
  greet:
    text: {zh: 您好！, en: Hello!}
  booked:
    text: {zh: 已报名。, en: Booked.}
"#;

fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bot.yaml"), BOT).unwrap();
    let engine = Assistant::builder(dir.path()).no_model_cache().build().unwrap();
    (dir, engine)
}

async fn say(engine: &Engine, conversation: &str, text: &str) -> kefu::Reply {
    let mut turn = Turn::new(conversation, text);
    turn.timestamp = Some("2026-12-07T02:00:00Z".parse().unwrap());
    engine.handle(turn).await.unwrap()
}

#[tokio::test]
async fn a_bare_number_fitting_two_filled_slots_is_asked_back() {
    let (_dir, engine) = engine();
    for (c, lines, fix) in [
        ("zh", ["我想报个旅游团", "2", "1", "明天"], "不对，应该是3"),
        ("en", ["book a tour", "2", "1", "tomorrow"], "no, make it 3"),
    ] {
        for l in lines {
            say(&engine, c, l).await;
        }
        let reply = say(&engine, c, fix).await;
        let names: Vec<_> = reply.messages.iter().filter_map(|m| m.response.clone()).collect();
        assert_eq!(names.first().map(String::as_str), Some("correction_unclear"), "{c}: {reply:?}");
        assert_eq!(reply.slots["adults"], serde_json::json!(2), "{c}: nothing changed");
        assert_eq!(reply.slots["children"], serde_json::json!(1), "{c}: nothing changed");
        assert_eq!(reply.flow.as_deref(), Some("book"), "{c}: the form goes on");
        // Naming the slot resolves it.
        let named = if c == "zh" { "儿童改成3位" } else { "change the children to 3" };
        let reply = say(&engine, c, named).await;
        assert_eq!(reply.slots["children"], serde_json::json!(3), "{c}: {reply:?}");
        assert_eq!(reply.slots["adults"], serde_json::json!(2), "{c}: {reply:?}");
    }
}

#[tokio::test]
async fn a_correction_naming_a_slot_without_a_value_asks_it_again() {
    let (_dir, engine) = engine();
    for (c, lines, fix, asked) in [
        ("zh2", ["我想报个旅游团", "2", "1", "明天"], "出发日期不对", "哪天出发"),
        ("en2", ["book a tour", "2", "1", "tomorrow"], "the day you leave is wrong", "Which day"),
    ] {
        for l in lines {
            say(&engine, c, l).await;
        }
        let reply = say(&engine, c, fix).await;
        assert!(reply.text().contains(asked), "{c}: {reply:?}");
        assert!(!reply.slots.contains_key("start"), "{c}: {reply:?}");
        assert_eq!(reply.flow.as_deref(), Some("book"), "{c}");
    }
}
