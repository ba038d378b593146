//! GroundedAnswerer over an in-test knowledge base and the chat-completions test double.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use async_trait::async_trait;
use common::{completion, sse, MockLlm, Reply};
use futures::StreamExt;
use kefu_core::kb::KbError;
use kefu_core::{KbHit, KbQuery, KnowledgeBase, Language};
use kefu_llm::{AnswerEvent, Grounded, GroundedAnswerer, GroundedConfig, GroundedError, LlmError, RefusalReason};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Test fixture: a knowledge base over a Vec whose hits carry fixed scores.
struct VecKb {
    hits: Vec<KbHit>,
    searches: AtomicUsize,
}

#[async_trait]
impl KnowledgeBase for VecKb {
    async fn search(&self, query: &KbQuery) -> Result<Vec<KbHit>, KbError> {
        self.searches.fetch_add(1, Ordering::SeqCst);
        let mut hits = self.hits.clone();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(query.top_k);
        Ok(hits)
    }
}

struct BrokenKb;

#[async_trait]
impl KnowledgeBase for BrokenKb {
    async fn search(&self, _: &KbQuery) -> Result<Vec<KbHit>, KbError> {
        Err(KbError::Unavailable("index is being rebuilt".into()))
    }
}

fn hit(id: &str, question: &str, answer: &str, score: f32) -> KbHit {
    KbHit { id: id.into(), question: question.into(), answer: answer.into(), score }
}

fn kb(scores: [f32; 3]) -> Arc<VecKb> {
    Arc::new(VecKb {
        hits: vec![
            hit(
                "faq-returns",
                "How long do I have to return an item?",
                "Items can be returned within 7 days.",
                scores[0],
            ),
            hit("faq-refunds", "Where does my refund go?", "Refunds go back to the original card.", scores[1]),
            hit("faq-shipping", "How much is shipping?", "Shipping is free over 99 CNY.", scores[2]),
        ],
        searches: AtomicUsize::new(0),
    })
}

fn query() -> KbQuery {
    KbQuery {
        tenant: "acme".into(),
        text: "Can I return it and get my money back?".into(),
        language: Language::En,
        top_k: 3,
    }
}

const TOKENS: [&str; 5] = ["You can return items within 7 days [", "1]. ", "Refunds go back to your card [", "2", "]."];

#[tokio::test]
async fn streams_tokens_then_the_citations_used() {
    let llm = MockLlm::start(|_, _| sse(&TOKENS)).await;
    let answerer = GroundedAnswerer::new(kb([0.9, 0.7, 0.1]), llm.client(|_| {}), GroundedConfig::default());
    let Grounded::Answer(stream) = answerer.answer_stream(&query()).await.unwrap() else { panic!("refused") };
    let events: Vec<AnswerEvent> = stream.map(|e| e.unwrap()).collect().await;

    let tokens: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            AnswerEvent::Token(t) => Some(t.as_str()),
            AnswerEvent::Done(_) => None,
        })
        .collect();
    assert_eq!(tokens, TOKENS);
    let Some(AnswerEvent::Done(answer)) = events.last() else { panic!("no Done event: {events:?}") };
    assert_eq!(answer.text, TOKENS.concat());
    assert_eq!(answer.cited_ids(), ["faq-returns", "faq-refunds"]);
    assert_eq!(answer.citations[1].number, 2);
    assert_eq!(events.len(), TOKENS.len() + 1);

    // The prompt numbers only the relevant passages and asks for [n] citations.
    let seen = &llm.requests()[0];
    assert_eq!(seen.body["stream"], true);
    assert_eq!(seen.body["temperature"], 0.0);
    let (_, system) = seen.message(0);
    assert!(system.contains("only the") && system.contains("[1] or [2]") && system.contains("in English"), "{system}");
    let (_, user) = seen.message(1);
    assert!(
        user.contains("[1] Q: How long do I have to return an item?\nA: Items can be returned within 7 days."),
        "{user}"
    );
    assert!(user.contains("[2] Q: Where does my refund go?"), "{user}");
    assert!(!user.contains("[3]") && !user.contains("Shipping"), "the 0.1 hit is below min_score: {user}");
    assert!(user.ends_with("Question: Can I return it and get my money back?"), "{user}");
}

#[tokio::test]
async fn answers_without_streaming() {
    let llm = MockLlm::start(|_, _| completion("退货期为7天【1】，退款原路返回[2][1]。")).await;
    let answerer = GroundedAnswerer::new(kb([0.8, 0.6, 0.5]), llm.client(|_| {}), GroundedConfig::default());
    let mut q = query();
    q.language = Language::Zh;
    let Grounded::Answer(answer) = answerer.answer(&q).await.unwrap() else { panic!("refused") };
    assert_eq!(answer.cited_ids(), ["faq-returns", "faq-refunds"]);
    assert!(llm.requests()[0].message(0).1.contains("in Chinese"));
    assert_eq!(llm.requests()[0].body["stream"], false);
}

#[tokio::test]
async fn refuses_without_calling_the_llm_when_nothing_is_relevant() {
    let llm = MockLlm::start(|_, _| completion("should not be asked")).await;
    let store = kb([0.2, 0.1, 0.05]);
    let answerer = GroundedAnswerer::new(store.clone(), llm.client(|_| {}), GroundedConfig::default());
    match answerer.answer(&query()).await.unwrap() {
        Grounded::Refused(r) => {
            assert_eq!(r.reason, RefusalReason::NoRelevantPassage);
            assert_eq!(r.best_score, Some(0.2));
        }
        Grounded::Answer(a) => panic!("answered: {a:?}"),
    }
    assert!(matches!(answerer.answer_stream(&query()).await.unwrap(), Grounded::Refused(_)));

    let empty = Arc::new(VecKb { hits: vec![], searches: AtomicUsize::new(0) });
    let answerer = GroundedAnswerer::new(empty, llm.client(|_| {}), GroundedConfig::default());
    let Grounded::Refused(r) = answerer.answer(&query()).await.unwrap() else { panic!("answered") };
    assert_eq!(r.best_score, None);

    assert_eq!(store.searches.load(Ordering::SeqCst), 2);
    assert_eq!(llm.count(), 0);
}

#[tokio::test]
async fn a_cut_stream_ends_with_the_error_and_no_citations() {
    let llm = MockLlm::start(|_, _| Reply::SseCut { pieces: vec![common::sse_delta("Items can be [1")] }).await;
    let answerer = GroundedAnswerer::new(kb([0.9, 0.7, 0.1]), llm.client(|_| {}), GroundedConfig::default());
    let Grounded::Answer(stream) = answerer.answer_stream(&query()).await.unwrap() else { panic!("refused") };
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0], Ok(AnswerEvent::Token("Items can be [1".into())));
    assert!(matches!(items[1], Err(LlmError::StreamCut(_))));
}

#[tokio::test]
async fn llm_and_retrieval_failures_are_typed() {
    let llm = MockLlm::start(|_, _| Reply::Hang).await;
    let answerer = GroundedAnswerer::new(
        kb([0.9, 0.7, 0.1]),
        llm.client(|c| c.request_timeout_ms = 200),
        GroundedConfig::default(),
    );
    let started = std::time::Instant::now();
    let err = answerer.answer(&query()).await.unwrap_err();
    assert!(matches!(err, GroundedError::Llm(LlmError::Timeout { after_ms: 200, .. })), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(1));

    let answerer = GroundedAnswerer::new(Arc::new(BrokenKb), llm.client(|_| {}), GroundedConfig::default());
    assert!(matches!(answerer.answer(&query()).await, Err(GroundedError::Kb(_))));
    assert!(matches!(answerer.answer_stream(&query()).await, Err(GroundedError::Kb(_))));
    assert_eq!(llm.count(), 1);
}

#[tokio::test]
async fn the_engines_writer_streams_the_models_pieces_from_the_given_entries() {
    let llm = MockLlm::start(|_, _| sse(&TOKENS)).await;
    let writer = kefu_llm::GroundedWriter::new(llm.client(|_| {}), GroundedConfig::default());
    let request = kefu_core::AnswerRequest {
        tenant: "acme".into(),
        question: "Can I return it?".into(),
        language: Language::Zh,
        hits: kb([0.9, 0.7, 0.1]).hits[..2].to_vec(),
    };
    let pieces: Vec<String> =
        kefu_core::AnswerWriter::write(&writer, &request).await.unwrap().map(|p| p.unwrap()).collect().await;
    assert_eq!(pieces, TOKENS);
    let seen = &llm.requests()[0];
    let (_, system) = seen.message(0);
    assert!(system.contains("in Chinese"), "{system}");
    let (_, user) = seen.message(1);
    assert!(user.contains("[2] Q: Where does my refund go?") && !user.contains("[3]"), "{user}");

    // A failing endpoint ends the pieces with an error (the engine then uses the stored answer).
    let down = MockLlm::start(|_, _| common::status(500)).await;
    let writer = kefu_llm::GroundedWriter::new(down.client(|c| c.max_retries = 0), GroundedConfig::default());
    let items: Vec<_> = kefu_core::AnswerWriter::write(&writer, &request).await.unwrap().collect().await;
    assert!(matches!(items.last(), Some(Err(kefu_core::AnswerError::Failed(_)))), "{items:?}");
}
