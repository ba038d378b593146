//! Tests of the tantivy FAQ index (feature `tantivy`).
#![cfg(feature = "tantivy")]
#![allow(clippy::unwrap_used)]

use kefu_core::bot::FaqEntry;
use kefu_core::kb::{KbQuery, KnowledgeBase};
use kefu_core::language::Language;
use kefu_kb::{Error, TantivyFaqIndex, SHARED_TENANT};

fn entry(id: &str, zh: &[&str], en: &[&str]) -> FaqEntry {
    FaqEntry {
        id: id.into(),
        questions: [
            (Language::Zh, zh.iter().map(|s| s.to_string()).collect()),
            (Language::En, en.iter().map(|s| s.to_string()).collect()),
        ]
        .into(),
        answer: [(Language::Zh, format!("{id}-zh")), (Language::En, format!("{id}-en"))].into(),
        tags: vec!["t".into()],
    }
}

fn q(tenant: &str, text: &str, language: Language) -> KbQuery {
    KbQuery { tenant: tenant.into(), text: text.into(), language, top_k: 3 }
}

fn index() -> TantivyFaqIndex {
    TantivyFaqIndex::from_entries(&[
        entry("shipping", &["多久能发货", "什么时候发货"], &["how long does shipping take", "when will my order ship"]),
        entry(
            "payment",
            &["支持哪些付款方式", "可以用支付宝吗"],
            &["which payment methods do you accept", "can I pay with paypal"],
        ),
        entry(
            "returns",
            &["退货政策是什么", "多少天内可以退货"],
            &["what is your return policy", "how many days do I have to return"],
        ),
    ])
    .unwrap()
}

#[tokio::test]
async fn answers_in_both_languages_with_scores_in_unit_range() {
    let idx = index();
    let hits = idx.search(&q("t", "发货要多久？", Language::Zh)).await.unwrap();
    assert_eq!(hits[0].id, "shipping");
    assert_eq!(hits[0].answer, "shipping-zh");
    let hits = idx.search(&q("t", "What's the return policy?", Language::En)).await.unwrap();
    assert_eq!(hits[0].id, "returns");
    assert_eq!(hits[0].answer, "returns-en");
    assert!(hits[0].score > 0.5, "{hits:?}");
    // A question asked verbatim scores 1.
    let hits = idx.search_sync(&q("t", "can I pay with paypal", Language::En)).unwrap();
    assert_eq!(hits[0].question, "can I pay with paypal");
    assert!((hits[0].score - 1.0).abs() < 1e-4, "{hits:?}");
    for h in &hits {
        assert!((0.0..=1.0).contains(&h.score));
    }
    // Sorted, one hit per entry.
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn unrelated_or_empty_text_scores_low() {
    let idx = index();
    let hits = idx.search_sync(&q("t", "tell me a joke about penguins", Language::En)).unwrap();
    assert!(hits.first().is_none_or(|h| h.score < 0.3), "{hits:?}");
    assert!(idx.search_sync(&q("t", "", Language::En)).unwrap().is_empty());
    assert!(idx.search_sync(&q("t", "  ？！ ", Language::Zh)).unwrap().is_empty());
}

#[test]
fn any_input_is_safe() {
    let idx = index();
    let long = "shipping \"quoted\" key:value (paren) [bracket] {brace} ^~*?\\ AND OR NOT - + 🙂 发货 ".repeat(120);
    assert!(long.len() > 10_000);
    for text in [
        "\"how long\"",
        "shipping:fast",
        "title:(a OR b)",
        "[1 TO 5]",
        "{*}",
        "-shipping +return",
        "🙂🙃🚚",
        "发货🙂吗？",
        "\u{0}\u{1f}\u{feff}",
        &long,
    ] {
        let hits = idx.search_sync(&q("t", text, Language::En)).unwrap();
        assert!(hits.iter().all(|h| (0.0..=1.0).contains(&h.score)), "{text}: {hits:?}");
    }
    assert_eq!(idx.search_sync(&q("t", &long, Language::En)).unwrap()[0].id, "shipping");
    assert_eq!(idx.search_sync(&q("t", "shipping:fast", Language::En)).unwrap()[0].id, "shipping");
}

#[test]
fn tenants_never_see_each_other() {
    let idx = TantivyFaqIndex::create_in_ram().unwrap();
    idx.upsert("acme", entry("secret", &["内部折扣码"], &["internal discount code"])).unwrap();
    idx.upsert("globex", entry("other", &["营业时间"], &["opening hours"])).unwrap();
    idx.upsert(SHARED_TENANT, entry("hours", &["客服几点上班"], &["customer service hours"])).unwrap();
    idx.commit().unwrap();
    for text in ["internal discount code", "内部折扣码", "opening hours internal discount code hours"] {
        let globex = idx.search_sync(&q("globex", text, Language::En)).unwrap();
        assert!(globex.iter().all(|h| h.id != "secret"), "{globex:?}");
        let acme = idx.search_sync(&q("acme", text, Language::En)).unwrap();
        assert!(acme.iter().all(|h| h.id != "other"), "{acme:?}");
        let stranger = idx.search_sync(&q("initech", text, Language::En)).unwrap();
        assert!(stranger.iter().all(|h| h.id == "hours"), "{stranger:?}");
        // The raw BM25 path enforces the same filter.
        assert!(idx.search_bm25("globex", text, 50).unwrap().iter().all(|h| h.tenant != "acme"));
    }
    assert_eq!(idx.search_sync(&q("acme", "internal discount code", Language::En)).unwrap()[0].id, "secret");
    // Shared entries are visible to every tenant.
    assert_eq!(idx.search_sync(&q("globex", "customer service hours", Language::En)).unwrap()[0].id, "hours");
    // A tenant named like the query syntax is just a string.
    assert!(idx.search_sync(&q("acme OR globex", "internal discount code", Language::En)).unwrap().is_empty());
    assert!(idx.remove("acme", "secret").unwrap());
    assert!(!idx.remove("globex", "secret").unwrap());
    idx.commit().unwrap();
    assert!(idx.search_sync(&q("acme", "internal discount code", Language::En)).unwrap().is_empty());
    let stats = idx.stats().unwrap();
    assert_eq!(stats.entries, 2);
    assert!(!stats.tenants.contains_key("acme"));
}

#[test]
fn changes_are_visible_right_after_commit() {
    let idx = index();
    idx.upsert(SHARED_TENANT, entry("shipping", &["运费多少"], &["how much is shipping"])).unwrap();
    // Buffered until commit: the old variants are still served.
    assert_eq!(idx.search_sync(&q("t", "when will my order ship", Language::En)).unwrap()[0].id, "shipping");
    idx.commit().unwrap();
    let hits = idx.search_sync(&q("t", "how much is shipping", Language::En)).unwrap();
    assert_eq!(hits[0].id, "shipping");
    assert_eq!(hits[0].question, "how much is shipping");
    // The replaced variants are gone.
    let hits = idx.search_sync(&q("t", "when will my order ship", Language::En)).unwrap();
    assert!(hits.iter().all(|h| h.question != "when will my order ship"), "{hits:?}");
    assert_eq!(idx.stats().unwrap().entries, 3);
    assert_eq!(idx.get(SHARED_TENANT, "shipping").unwrap().unwrap().questions[&Language::Zh], vec!["运费多少"]);
    idx.upsert(SHARED_TENANT, entry("warranty", &["保修多久"], &["how long is the warranty"])).unwrap();
    idx.commit().unwrap();
    assert_eq!(idx.search_sync(&q("t", "warranty", Language::En)).unwrap()[0].id, "warranty");
    assert!(idx.remove(SHARED_TENANT, "warranty").unwrap());
    idx.commit().unwrap();
    assert!(idx.search_sync(&q("t", "warranty", Language::En)).unwrap().is_empty());
    assert!(idx.get(SHARED_TENANT, "warranty").unwrap().is_none());
}

#[test]
fn invalid_entries_are_errors() {
    let idx = TantivyFaqIndex::create_in_ram().unwrap();
    let mut e = entry("x", &[], &["  "]);
    assert!(matches!(idx.upsert("t", e.clone()), Err(Error::InvalidEntry { .. })));
    e.questions.insert(Language::En, vec!["hi".into()]);
    e.answer.clear();
    assert!(matches!(idx.upsert("t", e.clone()), Err(Error::InvalidEntry { .. })));
    assert!(matches!(idx.upsert("t\u{1f}x", entry("y", &["你好"], &[])), Err(Error::InvalidEntry { .. })));
    let kb_err: kefu_core::kb::KbError = idx.upsert("", entry("y", &["你好"], &[])).unwrap_err().into();
    assert!(kb_err.to_string().contains("invalid tenant"));
}

#[test]
fn on_disk_index_persists_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb");
    {
        let idx = TantivyFaqIndex::open_or_create(&path).unwrap();
        idx.upsert("acme", entry("shipping", &["多久能发货"], &["how long does shipping take"])).unwrap();
        idx.upsert(SHARED_TENANT, entry("payment", &["支持哪些付款方式"], &["which payment methods"])).unwrap();
        idx.commit().unwrap();
        let stats = idx.stats().unwrap();
        assert_eq!(stats.entries, 2);
        assert_eq!(stats.documents, 4);
        assert_eq!(stats.tenants["acme"].documents, 2);
        assert_eq!(stats.tenants["*"].entries, 1);
        assert!(stats.disk_bytes.unwrap() > 0);
    }
    let idx = TantivyFaqIndex::open_or_create(&path).unwrap();
    let hits = idx.search_sync(&q("acme", "多久发货", Language::Zh)).unwrap();
    assert_eq!(hits[0].id, "shipping");
    assert_eq!(hits[0].answer, "shipping-zh");
    assert_eq!(idx.stats().unwrap().entries, 2);
    assert!(TantivyFaqIndex::create_in_ram().unwrap().stats().unwrap().disk_bytes.is_none());
}

#[test]
fn imports_files_with_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let idx = TantivyFaqIndex::create_in_ram().unwrap();
    let faq = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/bots/shop/faq.yaml");
    let report = idx.import_file(faq, SHARED_TENANT).unwrap();
    assert!(report.entries >= 5);
    assert_eq!(idx.stats().unwrap().entries as usize, report.entries);
    assert_eq!(idx.search_sync(&q("t", "满多少包邮", Language::Zh)).unwrap()[0].id, "shipping_cost");

    let csv = dir.path().join("faq.csv");
    std::fs::write(
        &csv,
        "id,language,question,answer,tags\nhours,en,When are you open?,9-18,info\nhours,zh,几点上班,九点到六点,info\n",
    )
    .unwrap();
    assert_eq!(idx.import_file(&csv, "acme").unwrap(), kefu_kb::ImportReport { entries: 1, questions: 2 });
    assert_eq!(idx.search_sync(&q("acme", "when are you open", Language::Zh)).unwrap()[0].answer, "九点到六点");

    let json = dir.path().join("faq.json");
    std::fs::write(
        &json,
        r#"{"faq": [{"id": "j", "questions": {"en": ["json question"]}, "answer": {"en": "json answer"}}]}"#,
    )
    .unwrap();
    assert_eq!(idx.import_file(&json, "acme").unwrap().entries, 1);

    let bad_csv = dir.path().join("bad.csv");
    std::fs::write(&bad_csv, "a,en,q,ans\nb,klingon,q,ans\n").unwrap();
    match idx.import_file(&bad_csv, "acme") {
        Err(e @ Error::InvalidEntry { line: Some(2), .. }) => assert!(e.to_string().contains("bad.csv:2"), "{e}"),
        other => panic!("{other:?}"),
    }
    // Nothing of the bad file was written.
    assert!(idx.get("acme", "a").unwrap().is_none());
    let bad_yaml = dir.path().join("bad.yaml");
    std::fs::write(&bad_yaml, "- id: a\n  questions: [oops\n").unwrap();
    assert!(matches!(idx.import_file(&bad_yaml, "acme"), Err(Error::Parse { line: Some(_), .. })));
    assert!(matches!(idx.import_file(dir.path().join("faq.txt"), "acme"), Err(Error::UnsupportedFormat { .. })));
    assert!(matches!(idx.import_file(dir.path().join("missing.csv"), "acme"), Err(Error::Io { .. })));
}

#[test]
fn bm25_candidates_for_fusion() {
    let idx = index();
    let hits = idx.search_bm25("t", "how long does shipping take", 10).unwrap();
    assert_eq!(hits[0].id, "shipping");
    assert!(hits.windows(2).all(|w| w[0].raw_score >= w[1].raw_score));
    assert!(hits[0].raw_score > 1.0 && hits[0].score <= 1.0);
}
