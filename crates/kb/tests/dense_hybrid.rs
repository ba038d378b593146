//! Dense and hybrid retrieval: tenant isolation, updates, language routing, fusion, the
//! answer threshold through the engine, and (feature `ann`) HNSW against exact search.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{BrokenEmbedder, TrigramEmbedder, WrongDimEmbedder};
use kefu_core::bot::FaqEntry;
use kefu_core::kb::{KbHit, KbQuery, KnowledgeBase};
use kefu_core::language::Language;
use kefu_kb::{fuse, DenseFaqIndex, DenseOptions, FaqIndex, Fusion, HybridKb, HybridOptions, SHARED_TENANT};
use std::sync::Arc;

fn entry(id: &str, en: &[&str], zh: &[&str]) -> FaqEntry {
    let mut questions = std::collections::BTreeMap::new();
    questions.insert(Language::En, en.iter().map(|s| s.to_string()).collect());
    if !zh.is_empty() {
        questions.insert(Language::Zh, zh.iter().map(|s| s.to_string()).collect());
    }
    FaqEntry {
        id: id.into(),
        questions,
        answer: [(Language::En, format!("answer {id}")), (Language::Zh, format!("答案 {id}"))].into(),
        tags: vec![],
    }
}

fn entries() -> Vec<FaqEntry> {
    vec![
        entry("shipping", &["how long does shipping take", "when will my parcel arrive"], &["多久发货"]),
        entry("returns", &["how do I return an item", "can I send my order back"], &["怎么退货"]),
        entry("payment", &["which payment methods do you accept", "can I pay by card"], &["支持哪些付款方式"]),
    ]
}

fn query(text: &str, tenant: &str, language: Language) -> KbQuery {
    KbQuery { tenant: tenant.into(), text: text.into(), language, top_k: 3 }
}

fn dense() -> DenseFaqIndex {
    DenseFaqIndex::from_entries(Arc::new(TrigramEmbedder { dim: 512 }), DenseOptions::default(), &entries()).unwrap()
}

#[test]
fn dense_finds_the_closest_entry_with_a_unit_score() {
    let index = dense();
    let hits = index.search_sync(&query("how long does the shipping take?", "acme", Language::En)).unwrap();
    assert_eq!(hits[0].id, "shipping");
    assert_eq!(hits[0].answer, "answer shipping");
    assert!(hits[0].score > 0.5 && hits[0].score <= 1.0, "{hits:?}");
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    let zh = index.search_sync(&query("怎么退货呢", "acme", Language::Zh)).unwrap();
    assert_eq!(zh[0].id, "returns");
    assert_eq!(zh[0].answer, "答案 returns");
}

#[test]
fn tenants_never_see_each_others_entries() {
    let index = dense();
    index.upsert("acme", entry("acme-only", &["where is the acme warehouse"], &[])).unwrap();
    index.upsert("globex", entry("globex-only", &["where is the globex warehouse"], &[])).unwrap();
    let for_globex = index.search_sync(&query("where is the acme warehouse", "globex", Language::En)).unwrap();
    assert!(for_globex.iter().all(|h| h.id != "acme-only"), "{for_globex:?}");
    assert_eq!(for_globex[0].id, "globex-only");
    let for_acme = index.search_sync(&query("where is the acme warehouse", "acme", Language::En)).unwrap();
    assert_eq!(for_acme[0].id, "acme-only");
    assert!(for_acme.iter().all(|h| h.id != "globex-only"));
}

#[test]
fn upsert_replaces_and_remove_deletes() {
    let index = dense();
    assert_eq!(index.len(), 3);
    index.upsert(SHARED_TENANT, entry("shipping", &["do you deliver on sundays"], &[])).unwrap();
    assert_eq!(index.len(), 3);
    let hits = index.search_sync(&query("how long does shipping take", "t", Language::En)).unwrap();
    assert!(hits.iter().all(|h| h.question != "how long does shipping take"), "old variants must be gone: {hits:?}");
    let sunday = index.search_sync(&query("do you deliver on sundays", "t", Language::En)).unwrap();
    assert_eq!(sunday[0].id, "shipping");
    assert!(index.remove(SHARED_TENANT, "shipping"));
    assert!(!index.remove(SHARED_TENANT, "shipping"));
    let after = index.search_sync(&query("do you deliver on sundays", "t", Language::En)).unwrap();
    assert!(after.iter().all(|h| h.id != "shipping"));
    assert_eq!(index.len(), 2);
}

#[test]
fn many_removals_compact_without_losing_live_entries() {
    let index = DenseFaqIndex::new(Arc::new(TrigramEmbedder { dim: 128 }), DenseOptions::default());
    for round in 0..3 {
        let batch: Vec<FaqEntry> =
            (0..600).map(|i| entry(&format!("e{i}"), &[&format!("question number {i} round {round}")], &[])).collect();
        index.upsert_many(SHARED_TENANT, batch).unwrap();
    }
    assert_eq!(index.len(), 600);
    let hits = index.search_sync(&query("question number 417 round 2", "t", Language::En)).unwrap();
    assert_eq!(hits[0].id, "e417");
    assert_eq!(hits[0].question, "question number 417 round 2");
}

#[test]
fn languages_not_served_get_no_dense_hits() {
    let options = DenseOptions { languages: vec![Language::En], ..Default::default() };
    let index = DenseFaqIndex::from_entries(Arc::new(TrigramEmbedder { dim: 256 }), options, &entries()).unwrap();
    assert!(index.search_sync(&query("怎么退货", "t", Language::Zh)).unwrap().is_empty());
    assert!(!index.search_sync(&query("how do I return an item", "t", Language::En)).unwrap().is_empty());
}

#[test]
fn embedder_failures_are_typed_errors() {
    let broken = DenseFaqIndex::from_entries(Arc::new(BrokenEmbedder), DenseOptions::default(), &entries());
    assert!(matches!(broken, Err(kefu_kb::Error::Embedding(_))), "{:?}", broken.err());
    let wrong = DenseFaqIndex::from_entries(Arc::new(WrongDimEmbedder), DenseOptions::default(), &entries());
    assert!(matches!(wrong, Err(kefu_kb::Error::Dimension { expected: 8, got: 4 })), "{:?}", wrong.err());
}

fn hit(id: &str, score: f32) -> KbHit {
    KbHit { id: id.into(), question: id.into(), answer: id.into(), score }
}

#[test]
fn linear_fusion_ranks_by_weighted_mean_and_reports_it() {
    let options = HybridOptions { fusion: Fusion::Linear, dense_weight: 0.75, candidates: 10 };
    let lexical = vec![hit("a", 0.9), hit("b", 0.5)];
    let dense = vec![hit("b", 0.8), hit("a", 0.4), hit("c", 0.7)];
    let fused = fuse(lexical, dense, &options, 3);
    let ids: Vec<&str> = fused.iter().map(|h| h.id.as_str()).collect();
    // b: .75*.8+.25*.5 = .725; c: .75*.7 = .525; a: .75*.4+.25*.9 = .525 (tie broken by id)
    assert_eq!(ids, ["b", "a", "c"]);
    assert!((fused[0].score - 0.725).abs() < 1e-6);
}

#[test]
fn rrf_ranks_by_rank_but_reports_the_weighted_score() {
    let options = HybridOptions { fusion: Fusion::Rrf { k: 60.0 }, dense_weight: 0.5, candidates: 10 };
    let lexical = vec![hit("a", 0.2), hit("b", 0.1)];
    let dense = vec![hit("a", 0.3), hit("c", 0.9)];
    let fused = fuse(lexical, dense, &options, 2);
    assert_eq!(fused[0].id, "a", "first in both lists wins under RRF");
    assert!((fused[0].score - 0.25).abs() < 1e-6);
    assert_eq!(fused.len(), 2);
}

#[tokio::test]
async fn hybrid_answers_from_both_sides_and_routes_unserved_languages_to_lexical() {
    let lexical = Arc::new(FaqIndex::from_entries(&entries()));
    let dense_only_en = DenseOptions { languages: vec![Language::En], ..Default::default() };
    let dense = Arc::new(
        DenseFaqIndex::from_entries(Arc::new(TrigramEmbedder { dim: 512 }), dense_only_en, &entries()).unwrap(),
    );
    let hybrid = HybridKb::new(lexical.clone(), dense, HybridOptions::default());
    let en = hybrid.search(&query("can I send the order back", "t", Language::En)).await.unwrap();
    assert_eq!(en[0].id, "returns");
    let zh = hybrid.search(&query("多久发货", "t", Language::Zh)).await.unwrap();
    let zh_lexical = lexical.search(&query("多久发货", "t", Language::Zh)).await.unwrap();
    assert_eq!(zh, zh_lexical, "an unserved language is answered by the lexical side unchanged");
}

#[tokio::test]
async fn below_the_threshold_the_engine_falls_back_instead_of_answering() {
    use kefu_core::nlu::{IntentClassifier, IntentScore, NluError};
    struct Unsure;
    #[async_trait::async_trait]
    impl IntentClassifier for Unsure {
        async fn classify(&self, _t: &str, _l: Language, _k: usize) -> Result<Vec<IntentScore>, NluError> {
            Ok(vec![IntentScore { name: "greet".into(), confidence: 0.05 }])
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/mini");
    let bot = kefu_core::load_bot_dir(&dir).unwrap();
    let lexical = Arc::new(FaqIndex::from_entries(&bot.faq));
    let dense = Arc::new(
        DenseFaqIndex::from_entries(Arc::new(TrigramEmbedder { dim: 512 }), DenseOptions::default(), &bot.faq).unwrap(),
    );
    let sink = Arc::new(kefu_core::MemoryEventSink::new(1000));
    let engine = kefu_core::Engine::builder(bot)
        .classifier(Arc::new(Unsure))
        .knowledge_base(Arc::new(HybridKb::new(lexical, dense, HybridOptions::default())))
        .event_sink(sink.clone())
        .action("increment", Arc::new(kefu_core::FnAction::new(|_| Ok(kefu_core::ActionOutcome::default()))))
        .build()
        .unwrap();
    let turn = |text: &str| kefu_core::Turn { language: Some(Language::En), ..kefu_core::Turn::new("c1", text) };
    let answered = engine.handle(turn("how long is shipping")).await.unwrap();
    assert!(answered.text().contains("48 hours"), "{answered:?}");
    let unrelated = engine.handle(turn("my cat likes jazz music")).await.unwrap();
    assert!(!unrelated.text().contains("48 hours"), "{unrelated:?}");
    let kinds: Vec<String> = sink
        .events()
        .iter()
        .map(|e| serde_json::to_value(&e.event).unwrap()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds.iter().filter(|k| k.as_str() == "kb_answer").count(), 1, "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "fallback"), "{kinds:?}");
}

#[cfg(feature = "ann")]
mod ann {
    use super::*;

    /// Pseudo-random unit vectors (a fixed LCG) clustered around 100 centres, like
    /// paraphrases of FAQ questions.
    fn vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let centres: Vec<Vec<f32>> = (0..100).map(|_| (0..dim).map(|_| next()).collect()).collect();
        (0..n).map(|i| common::normalise(centres[i % 100].iter().map(|c| c + 0.6 * next()).collect())).collect()
    }

    struct TableEmbedder {
        dim: usize,
        table: std::collections::HashMap<String, Vec<f32>>,
    }

    impl kefu_core::TextEmbedder for TableEmbedder {
        fn model_id(&self) -> &str {
            "table"
        }
        fn dim(&self) -> usize {
            self.dim
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, kefu_core::EmbedError> {
            texts
                .iter()
                .map(|t| {
                    self.table.get(*t).cloned().ok_or_else(|| kefu_core::EmbedError::Failed(format!("unknown {t}")))
                })
                .collect()
        }
    }

    #[test]
    fn hnsw_agrees_with_exact_search_and_keeps_tenants_apart() {
        let dim = 64;
        let docs = vectors(2000, dim, 7);
        let queries = vectors(100, dim, 99);
        let mut table = std::collections::HashMap::new();
        for (i, v) in docs.iter().enumerate() {
            table.insert(format!("doc {i}"), v.clone());
        }
        for (i, v) in queries.iter().enumerate() {
            table.insert(format!("query {i}"), v.clone());
        }
        let embedder = Arc::new(TableEmbedder { dim, table });
        let entries: Vec<FaqEntry> = (0..2000).map(|i| entry(&format!("e{i}"), &[&format!("doc {i}")], &[])).collect();
        let (even, odd): (Vec<_>, Vec<_>) = entries.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let build = |threshold: usize| {
            let index =
                DenseFaqIndex::new(embedder.clone(), DenseOptions { ann_threshold: threshold, ..Default::default() });
            index.upsert_many("even", even.iter().map(|(_, e)| e.clone()).collect()).unwrap();
            index.upsert_many("odd", odd.iter().map(|(_, e)| e.clone()).collect()).unwrap();
            index
        };
        let exact = build(usize::MAX);
        let approximate = build(500);
        assert!(!exact.uses_ann());
        assert!(approximate.uses_ann());
        let mut agree = 0;
        for i in 0..100 {
            let q = query(&format!("query {i}"), "odd", Language::En);
            let a = approximate.search_sync(&q).unwrap();
            let e = exact.search_sync(&q).unwrap();
            assert!(a.iter().all(|h| h.id[1..].parse::<usize>().unwrap() % 2 == 1), "tenant filter under HNSW");
            if a.first().map(|h| &h.id) == e.first().map(|h| &h.id) {
                agree += 1;
            }
        }
        assert!(agree >= 95, "HNSW top-1 matched exact search on {agree}/100 queries");
        // A tenant with one entry in the large index still finds it (exact fallback).
        approximate.upsert("tiny", entry("tiny-only", &["doc 5"], &[])).unwrap();
        let tiny = approximate.search_sync(&query("doc 5", "tiny", Language::En)).unwrap();
        assert_eq!(tiny.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), ["tiny-only"]);
        // Removal is honoured when filtering the graph's neighbours.
        let q = query("query 3", "odd", Language::En);
        let top = approximate.search_sync(&q).unwrap()[0].id.clone();
        assert!(approximate.remove("odd", &top));
        assert!(approximate.search_sync(&q).unwrap().iter().all(|h| h.id != top));
    }
}
