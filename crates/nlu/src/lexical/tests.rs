use super::*;

fn ex(text: &str, label: &str) -> TrainingExample {
    TrainingExample { text: text.to_string(), label: label.to_string() }
}

fn toy() -> Vec<TrainingExample> {
    vec![
        ex("hello", "greet"),
        ex("hello there", "greet"),
        ex("hi, good morning", "greet"),
        ex("你好", "greet"),
        ex("您好呀", "greet"),
        ex("I want to return this", "refund"),
        ex("how do I return my order", "refund"),
        ex("return and refund please", "refund"),
        ex("我要退货", "refund"),
        ex("怎么退货退款", "refund"),
    ]
}

/// A synthetic data set large enough to exercise the calibration split and both threads.
fn synthetic(n_labels: usize, per_label: usize) -> Vec<TrainingExample> {
    let words = ["card", "transfer", "退货", "payment", "账户", "refund", "pin", "top up", "卡"];
    let mut out = Vec::new();
    for l in 0..n_labels {
        for j in 0..per_label {
            let w = words[(l + j) % words.len()];
            out.push(ex(&format!("intent{l} token{} {w} please {}", l * 7 % 13, j % 3), &format!("L{l}")));
        }
    }
    out
}

fn saved(m: &LexicalModel) -> Vec<u8> {
    let mut v = Vec::new();
    m.save(&mut v).expect("save to Vec");
    v
}

fn assert_distribution(p: &[(usize, f32)], k: usize) {
    assert_eq!(p.len(), k);
    let sum: f32 = p.iter().map(|x| x.1).sum();
    assert!((sum - 1.0).abs() < 1e-4, "sum {sum}");
    assert!(p.windows(2).all(|w| w[0].1 >= w[1].1), "not sorted");
    assert!(p.iter().all(|x| x.1.is_finite() && x.1 >= 0.0));
}

#[test]
fn toy_bilingual_set_is_learned() {
    let m = LexicalModel::train(&toy(), &LexicalConfig::default(), &mut |_| {}).expect("train");
    assert_eq!(m.labels(), ["greet", "refund"]);
    for (text, want) in [("你好", "greet"), ("hello", "greet"), ("退货", "refund"), ("return", "refund")] {
        let top = m.predict_top(text, 1);
        assert_eq!(top[0].0, want, "{text}");
    }
    // Full-width input is normalised.
    assert_eq!(m.predict_top("ＨＥＬＬＯ！", 1)[0].0, "greet");
}

#[test]
fn empty_and_odd_inputs_give_valid_distributions() {
    let m = LexicalModel::train(&toy(), &LexicalConfig::default(), &mut |_| {}).expect("train");
    let long = "x".repeat(100_000);
    for text in ["", "   ", "?!。，", "🙂🙃 \u{202e}abc\u{0000}\u{FFFF}", "\u{10FFFF}", long.as_str()] {
        assert_distribution(&m.predict(text), 2);
    }
    assert!(m.predict_top("", 0).is_empty());
    assert_eq!(m.predict_top("", 10).len(), 2);
}

#[test]
fn training_is_deterministic_and_thread_independent() {
    let data = synthetic(12, 25);
    let cfg = LexicalConfig { epochs: 4, ..LexicalConfig::default() };
    let a = LexicalModel::train(&data, &cfg, &mut |_| {}).expect("train a");
    let b = LexicalModel::train(&data, &cfg, &mut |_| {}).expect("train b");
    assert_eq!(saved(&a), saved(&b));
    let one = LexicalConfig { threads: 1, ..cfg.clone() };
    let c = LexicalModel::train(&data, &one, &mut |_| {}).expect("train c");
    // Only the stored `threads` setting differs; the learned parameters are identical.
    assert_eq!(a.linear, c.linear);
    assert_eq!(a.vectorizer.keys, c.vectorizer.keys);
    assert_eq!(a.temperature, c.temperature);
    let other = LexicalConfig { seed: 7, ..cfg };
    let d = LexicalModel::train(&data, &other, &mut |_| {}).expect("train d");
    assert_ne!(saved(&a), saved(&d));
}

#[test]
fn progress_is_reported_once_per_epoch() {
    let cfg = LexicalConfig { epochs: 3, ..LexicalConfig::default() };
    let mut seen = Vec::new();
    LexicalModel::train(&toy(), &cfg, &mut |p| seen.push((p.epoch, p.epochs, p.loss))).expect("train");
    assert_eq!(seen.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(), [(1, 3), (2, 3), (3, 3)]);
    assert!(seen.iter().all(|s| s.2.is_finite()));
}

#[test]
fn save_load_round_trip_predicts_identically() {
    let data = synthetic(8, 10);
    let m = LexicalModel::train(&data, &LexicalConfig::default(), &mut |_| {}).expect("train");
    let bytes = saved(&m);
    let back = LexicalModel::load(&mut bytes.as_slice()).expect("load");
    assert_eq!(back.labels(), m.labels());
    assert_eq!(back.config(), m.config());
    assert_eq!(back.temperature(), m.temperature());
    for text in ["intent3 token8 card please", "", "我要退货", "hello world"] {
        assert_eq!(back.predict(text), m.predict(text));
    }
    assert_eq!(saved(&back), bytes);
}

fn model_bytes() -> Vec<u8> {
    let m = LexicalModel::train(&toy(), &LexicalConfig::default(), &mut |_| {}).expect("train");
    saved(&m)
}

#[test]
fn load_rejects_garbage() {
    for garbage in [&b""[..], b"hello world, not a model", &[0u8; 64], b"KEFU"] {
        let err = LexicalModel::load(&mut &garbage[..]).expect_err("garbage accepted");
        assert!(matches!(err, LexicalError::BadMagic | LexicalError::Truncated(_)), "{err:?}");
    }
    let err = LexicalModel::load(&mut &b"not a model at all"[..]).expect_err("accepted");
    assert!(matches!(err, LexicalError::BadMagic), "{err:?}");
}

#[test]
fn load_rejects_truncated_files() {
    let bytes = model_bytes();
    for cut in [3, 8, 10, 12, 15, 20, 21, 100, bytes.len() / 2, bytes.len() - 9, bytes.len() - 1] {
        let err = LexicalModel::load(&mut &bytes[..cut]).expect_err("truncated accepted");
        assert!(matches!(err, LexicalError::Truncated(_)), "cut {cut}: {err:?}");
    }
}

#[test]
fn load_rejects_other_versions() {
    let mut bytes = model_bytes();
    bytes[8..12].copy_from_slice(&99u32.to_le_bytes());
    let err = LexicalModel::load(&mut bytes.as_slice()).expect_err("wrong version accepted");
    assert!(matches!(err, LexicalError::UnsupportedVersion { found: 99, supported: 1 }), "{err:?}");
}

#[test]
fn load_rejects_corruption() {
    let bytes = model_bytes();
    // A flipped byte anywhere in the payload fails the checksum.
    for pos in [20, 30, bytes.len() / 2, bytes.len() - 9] {
        let mut b = bytes.clone();
        b[pos] ^= 0x55;
        let err = LexicalModel::load(&mut b.as_slice()).expect_err("corrupt accepted");
        assert!(matches!(err, LexicalError::Corrupt(_)), "pos {pos}: {err:?}");
    }
    let mut b = bytes.clone();
    b.push(0);
    assert!(matches!(LexicalModel::load(&mut b.as_slice()), Err(LexicalError::Corrupt(_))));
    // A huge announced length must not allocate or panic.
    let mut b = bytes;
    b[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(LexicalModel::load(&mut b.as_slice()), Err(LexicalError::Truncated(_))));
}

#[test]
fn edge_cases_of_training_data() {
    assert!(matches!(LexicalModel::train(&[], &LexicalConfig::default(), &mut |_| {}), Err(LexicalError::NoExamples)));
    assert!(matches!(
        LexicalModel::train(&[ex("a", " ")], &LexicalConfig::default(), &mut |_| {}),
        Err(LexicalError::EmptyLabel { index: 0 })
    ));
    let bad = LexicalConfig { learning_rate: -1.0, ..LexicalConfig::default() };
    assert!(matches!(LexicalModel::train(&toy(), &bad, &mut |_| {}), Err(LexicalError::InvalidConfig(_))));
    // One example, one label.
    let one = LexicalModel::train(&[ex("only", "x")], &LexicalConfig::default(), &mut |_| {}).expect("one example");
    assert_eq!(one.predict("anything"), vec![(0, 1.0)]);
    // Duplicate texts, with conflicting labels too.
    let dups = vec![ex("same", "a"), ex("same", "a"), ex("same", "b"), ex("other", "b")];
    let m = LexicalModel::train(&dups, &LexicalConfig::default(), &mut |_| {}).expect("dups");
    assert_distribution(&m.predict("same"), 2);
    // Texts with no letters at all.
    let m = LexicalModel::train(&[ex("", "a"), ex("!!", "b")], &LexicalConfig::default(), &mut |_| {})
        .expect("empty texts");
    assert_distribution(&m.predict(""), 2);
}

#[test]
fn hundreds_of_labels() {
    let data = synthetic(300, 3);
    let cfg = LexicalConfig { epochs: 5, ..LexicalConfig::default() };
    let m = LexicalModel::train(&data, &cfg, &mut |_| {}).expect("train");
    assert_eq!(m.labels().len(), 300);
    assert_distribution(&m.predict("intent42 token3 card please"), 300);
    assert_eq!(m.predict_top("intent42 token3 card please 0", 1)[0].0, "L42");
}

#[test]
fn svm_and_ensemble_members_work() {
    for classifier in [Classifier::Svm, Classifier::Ensemble] {
        let cfg = LexicalConfig { classifier, ..LexicalConfig::default() };
        let m = LexicalModel::train(&synthetic(6, 10), &cfg, &mut |_| {}).expect("train");
        assert_eq!(m.predict_top("intent4 token2 卡 please", 1)[0].0, "L4");
        let back = LexicalModel::load(&mut saved(&m).as_slice()).expect("load");
        assert_eq!(back.predict("intent4"), m.predict("intent4"));
    }
}

#[test]
fn prior_correction_favours_rare_labels() {
    let mut data = Vec::new();
    for i in 0..60 {
        data.push(ex(&format!("common thing {i}"), "common"));
    }
    for i in 0..6 {
        data.push(ex(&format!("rare thing {i}"), "rare"));
    }
    let plain = LexicalModel::train(&data, &LexicalConfig::default(), &mut |_| {}).expect("a");
    let cfg = LexicalConfig { prior_correction: 1.0, ..LexicalConfig::default() };
    let corrected = LexicalModel::train(&data, &cfg, &mut |_| {}).expect("b");
    let p_rare = |m: &LexicalModel| {
        m.predict("thing").into_iter().find(|&(i, _)| m.labels()[i] == "rare").map(|x| x.1).unwrap_or(0.0)
    };
    assert!(p_rare(&corrected) > p_rare(&plain));
    assert_distribution(&corrected.predict("thing"), 2);
    let back = LexicalModel::load(&mut saved(&corrected).as_slice()).expect("load");
    assert_eq!(back.predict("rare"), corrected.predict("rare"));
    let bad = LexicalConfig { prior_correction: -1.0, ..LexicalConfig::default() };
    assert!(LexicalModel::train(&data, &bad, &mut |_| {}).is_err());
}

#[test]
fn word_vectors_follow_the_training_script() {
    let english = synthetic(4, 10);
    let chinese: Vec<TrainingExample> =
        (0..20).map(|i| ex(&format!("我要退货{i}"), if i % 2 == 0 { "a" } else { "b" })).collect();
    let en = LexicalModel::train(&english, &LexicalConfig::default(), &mut |_| {}).expect("train");
    let zh = LexicalModel::train(&chinese, &LexicalConfig::default(), &mut |_| {}).expect("train");
    assert_eq!(en.uses_word_vectors(), cfg!(feature = "static-vectors"));
    assert!(!zh.uses_word_vectors());
    assert_eq!(zh.config().word_vectors, WordVectors::Off);
    let off = LexicalConfig { word_vectors: WordVectors::Off, ..LexicalConfig::default() };
    let plain = LexicalModel::train(&english, &off, &mut |_| {}).expect("train");
    assert!(!plain.uses_word_vectors());
    let bad = LexicalConfig { vector_mix: 1.5, ..LexicalConfig::default() };
    assert!(matches!(LexicalModel::train(&english, &bad, &mut |_| {}), Err(LexicalError::InvalidConfig(_))));
}

#[cfg(feature = "static-vectors")]
#[test]
fn word_vectors_generalise_to_unseen_synonyms_and_survive_save_load() {
    // No n-gram of the queries occurs in the training data of their intent.
    let data = vec![
        ex("where is the nearest atm", "atm"),
        ex("find an atm near me", "atm"),
        ex("atm locations", "atm"),
        ex("is there an atm close by", "atm"),
        ex("my parcel has not arrived", "delivery"),
        ex("the package is late", "delivery"),
        ex("where is my shipment", "delivery"),
        ex("parcel still not here", "delivery"),
    ];
    // Few examples: give the vector member enough steps to fit them.
    let config = LexicalConfig {
        word_vectors: WordVectors::On,
        vector_mix: 0.8,
        vector_epochs: 200,
        vector_learning_rate: 4.0,
        ..LexicalConfig::default()
    };
    let m = LexicalModel::train(&data, &config, &mut |_| {}).expect("train");
    assert!(m.uses_word_vectors());
    for (text, want) in
        [("cash machine", "atm"), ("withdraw money from a cashpoint", "atm"), ("courier delayed", "delivery")]
    {
        eprintln!("{text}: {:?}", m.predict_top(text, 2));
        assert_eq!(m.predict_top(text, 1)[0].0, want, "{text}");
    }
    let bytes = saved(&m);
    let back = LexicalModel::load(&mut bytes.as_slice()).expect("load");
    assert!(back.uses_word_vectors());
    for text in ["cash machine", "courier delayed", "", "我要退货"] {
        assert_eq!(back.predict(text), m.predict(text));
    }
}

#[test]
fn model_files_without_the_vectors_option_read_as_off() {
    let off = LexicalConfig { word_vectors: WordVectors::Off, ..LexicalConfig::default() };
    let mut js = serde_json::to_value(&off).expect("json");
    js.as_object_mut().expect("object").remove("word_vectors");
    let back: LexicalConfig = serde_json::from_value(js).expect("parse");
    assert_eq!(back.word_vectors, WordVectors::Off);
}
