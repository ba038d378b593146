//! `policy.intent_threshold: auto`: the threshold is calibrated when the model is trained,
//! saved with it, read back from the cache, and absent for a fixed threshold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kefu::core::bot::IntentThreshold;
use std::path::PathBuf;

fn shop() -> kefu::BotDefinition {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots/shop");
    kefu::core::load_bot_dir(&dir).unwrap()
}

#[test]
fn auto_calibrates_saves_and_reloads_the_threshold() {
    let bot = shop();
    assert_eq!(bot.policy.intent_threshold, IntentThreshold::Auto);
    let (low, high) = kefu_nlu::eval::BOT_THRESHOLD_RANGE;

    let path = std::env::temp_dir().join(format!("kefu-threshold-{}.bin", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let trained = kefu::load_or_train(&bot, Some(&path), &mut |_| {}).unwrap();
    let t = trained.header().calibrated_threshold.expect("auto calibrates");
    assert!((low..=high).contains(&t), "{t}");
    // Deterministic for the bot's seed, and read back from the cached file.
    assert_eq!(kefu::train(&bot, &mut |_| {}).unwrap().header().calibrated_threshold, Some(t));
    let reloaded = kefu_nlu::LexicalIntentClassifier::load(&path).unwrap();
    assert_eq!(reloaded.header().calibrated_threshold, Some(t));
    assert_eq!(kefu::load_or_train(&bot, Some(&path), &mut |_| {}).unwrap().header().calibrated_threshold, Some(t));
    std::fs::remove_file(&path).unwrap();

    let mut fixed = shop();
    fixed.policy.intent_threshold = IntentThreshold::Fixed(0.4);
    assert_eq!(kefu::train(&fixed, &mut |_| {}).unwrap().header().calibrated_threshold, None);
}
