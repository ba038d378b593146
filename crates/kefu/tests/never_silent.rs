//! Invariant over thousands of random turns on the demo bot (real lexical NLU): a turn the bot
//! owns always gets at least one message; only a conversation a human agent owns gets a
//! `silent` reply. The turns mix training examples, FAQ questions, button clicks, yes/no/cancel
//! out of context, off-topic questions and junk, in both languages, over interleaved
//! conversations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kefu::{Assistant, Turn};
use std::path::PathBuf;

/// A small deterministic generator, so that a failure replays.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn junk(rng: &mut Lcg) -> String {
    const PIECES: [&str; 16] = [
        "asdf",
        "？",
        "!!",
        "😀",
        "123",
        "SO123456",
        "的",
        "qwer zxcv",
        "，",
        "$45",
        "明天",
        "no",
        "嗯",
        "ok",
        "...",
        "黑洞",
    ];
    (0..1 + rng.below(4)).map(|_| PIECES[rng.below(PIECES.len())]).collect::<Vec<_>>().join(" ")
}

fn shop() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots/shop")
}

#[tokio::test]
async fn no_turn_of_the_demo_bot_gets_an_empty_reply() {
    random_walk(&shop()).await;
}

/// The airline example has no `out_of_scope` intent, optional slots and learned entities.
#[tokio::test]
async fn no_turn_of_the_airline_bot_gets_an_empty_reply() {
    random_walk(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots/airline")).await;
}

/// The telecom example was written from the docs alone, as users write bots.
#[tokio::test]
async fn no_turn_of_the_telecom_bot_gets_an_empty_reply() {
    random_walk(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots/telecom")).await;
}

/// The demo bot with its `affirm` and `deny` intents stripped of their responses, as a new bot
/// may well have them: "yes" with no question pending must still get an answer.
#[tokio::test]
async fn intents_with_nothing_to_say_still_get_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("shop");
    let status = std::process::Command::new("cp").arg("-r").arg(shop()).arg(&copy).status().unwrap();
    assert!(status.success());
    let intents = copy.join("intents.yaml");
    let text = std::fs::read_to_string(&intents).unwrap();
    let stripped = text.replace("    response: affirm\n", "").replace("    response: deny\n", "");
    assert_ne!(stripped, text);
    std::fs::write(&intents, stripped).unwrap();
    let engine = Assistant::builder(&copy).no_model_cache().build().unwrap();
    for (text, conversation) in [("yes", "y-en"), ("是的", "y-zh"), ("no", "n-en")] {
        let reply = engine.handle(Turn::new(conversation, text)).await.unwrap();
        assert_eq!(reply.messages.len(), 1, "{text}: {reply:?}");
        assert_eq!(reply.messages[0].response.as_deref(), Some("anything_else"));
    }
    random_walk(&copy).await;
}

async fn random_walk(dir: &std::path::Path) {
    let engine = Assistant::builder(dir).no_model_cache().build().unwrap();
    let bot = engine.bot().clone();
    let mut pool: Vec<String> = bot.intents.values().flat_map(|i| i.examples.values().flatten().cloned()).collect();
    pool.extend(bot.faq.iter().flat_map(|f| f.questions.values().flatten().cloned()));
    pool.extend(
        [
            "yes",
            "no",
            "cancel",
            "是的",
            "不是",
            "取消",
            "好",
            "thanks",
            "谢谢",
            "黑洞是怎么形成的",
            "how are black holes formed?",
            "what is the capital of France",
            "今天天气怎么样",
            "/affirm",
            "/deny",
        ]
        .map(String::from),
    );
    let mut rng = Lcg(0x6b65_6675);
    let mut buttons: Vec<Vec<String>> = vec![Vec::new(); 40];
    let (mut said, mut silent) = (0, 0);
    for i in 0..3_000 {
        let c = rng.below(40);
        let text = match rng.below(20) {
            0..=2 if !buttons[c].is_empty() => buttons[c][rng.below(buttons[c].len())].clone(),
            3..=5 => junk(&mut rng),
            _ => pool[rng.below(pool.len())].clone(),
        };
        let conversation = format!("random-{c}");
        let reply =
            engine.handle(Turn::new(&conversation, &text)).await.unwrap_or_else(|e| panic!("turn {i} {text:?}: {e}"));
        if reply.silent {
            assert!(reply.handoff && reply.messages.is_empty(), "turn {i} {text:?}: {reply:?}");
            silent += 1;
            // Give the conversation back, so the walk keeps exploring the bot.
            engine.release_handoff("default", &conversation).await.unwrap();
        } else {
            assert!(
                reply.messages.iter().any(|m| !m.text.trim().is_empty()),
                "turn {i} in {conversation}: {text:?} got an empty reply: {reply:?}"
            );
            said += 1;
        }
        buttons[c] = reply.messages.iter().flat_map(|m| m.buttons.iter().map(|b| b.payload.clone())).collect();
    }
    assert!(said > 2_500, "{said} answered, {silent} silent");
}
