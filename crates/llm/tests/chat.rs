//! ChatClient against a local test double of the chat-completions API: completion, streaming,
//! retries, timeouts and the circuit breaker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{completion, sse, sse_delta, sse_pieces, status, MockLlm, Reply};
use futures::StreamExt;
use kefu_llm::{BreakerConfig, BreakerState, ChatMessage, LlmError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn ask() -> Vec<ChatMessage> {
    vec![ChatMessage::system("be brief"), ChatMessage::user("我的快递到哪了？")]
}

#[tokio::test]
async fn completes_and_sends_the_protocol_request() {
    let llm = MockLlm::start(|_, _| completion("您的包裹已到达上海分拨中心。")).await;
    let client = llm.client(|c| c.temperature = Some(0.2));
    let text = client.complete(&ask()).await.unwrap();
    assert_eq!(text, "您的包裹已到达上海分拨中心。");
    let seen = &llm.requests()[0];
    assert_eq!(seen.path, "/v1/chat/completions");
    assert_eq!(seen.authorization.as_deref(), Some("Bearer sk-test-123"));
    assert_eq!(seen.body["model"], "test-model");
    assert_eq!(seen.body["stream"], false);
    assert_eq!(seen.body["temperature"].as_f64().unwrap() as f32, 0.2);
    assert_eq!(seen.message(0), ("system", "be brief"));
    assert_eq!(seen.message(1), ("user", "我的快递到哪了？"));
}

#[tokio::test]
async fn streams_tokens_in_order_as_they_arrive() {
    let tokens = ["Your ", "parcel ", "is ", "in ", "上海", "."];
    let llm =
        MockLlm::start(move |_, _| Reply::Sse { pieces: sse_pieces(&tokens), gap: Duration::from_millis(80) }).await;
    let client = llm.client(|_| {});
    let started = Instant::now();
    let mut stream = Box::pin(client.stream(&ask()));
    let first = stream.next().await.unwrap().unwrap();
    let first_at = started.elapsed();
    let mut got = vec![first];
    while let Some(item) = stream.next().await {
        got.push(item.unwrap());
    }
    let total = started.elapsed();
    assert_eq!(got, tokens);
    assert_eq!(llm.requests()[0].body["stream"], true);
    // 8 pieces 80 ms apart: the first token must not wait for the whole body.
    assert!(total >= Duration::from_millis(400), "{total:?}");
    assert!(first_at + Duration::from_millis(250) < total, "first token at {first_at:?} of {total:?}");
}

#[tokio::test]
async fn a_stream_split_mid_event_and_mid_character_is_reassembled() {
    let body = sse_pieces(&["退", "货", "政策"]).concat().into_bytes();
    // 5-byte writes split the JSON, the lines and the UTF-8 of every character.
    let pieces: Vec<Vec<u8>> = body.chunks(5).map(<[u8]>::to_vec).collect();
    let llm =
        MockLlm::start(move |_, _| Reply::SseBytes { pieces: pieces.clone(), gap: Duration::from_millis(1) }).await;
    let got: Vec<String> = llm.client(|_| {}).stream(&ask()).map(|r| r.unwrap()).collect().await;
    assert_eq!(got, ["退", "货", "政策"]);
}

#[tokio::test]
async fn retries_a_500_and_a_503_then_succeeds() {
    let llm = MockLlm::start(|n, _| match n {
        0 => status(500),
        1 => status(503),
        _ => completion("ok"),
    })
    .await;
    let client = llm.client(|c| c.max_retries = 2);
    assert_eq!(client.complete(&ask()).await.unwrap(), "ok");
    assert_eq!(llm.count(), 3);
}

#[tokio::test]
async fn retries_a_429() {
    let llm = MockLlm::start(|n, _| if n == 0 { status(429) } else { completion("ok") }).await;
    assert_eq!(llm.client(|_| {}).complete(&ask()).await.unwrap(), "ok");
    assert_eq!(llm.count(), 2);
}

#[tokio::test]
async fn does_not_retry_a_400_and_keeps_a_body_excerpt() {
    let llm = MockLlm::start(|_, _| status(400)).await;
    let err = llm.client(|c| c.max_retries = 3).complete(&ask()).await.unwrap_err();
    match &err {
        LlmError::Status { status: 400, body } => assert!(body.contains("test double says 400"), "{body}"),
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    assert_eq!(llm.count(), 1);
}

#[tokio::test]
async fn gives_up_after_max_retries() {
    let llm = MockLlm::start(|_, _| status(502)).await;
    let err = llm.client(|c| c.max_retries = 2).complete(&ask()).await.unwrap_err();
    assert!(matches!(err, LlmError::Status { status: 502, .. }), "{err:?}");
    assert_eq!(llm.count(), 3);
}

#[tokio::test]
async fn malformed_json_is_typed_and_not_retried() {
    let llm = MockLlm::start(|_, _| Reply::Json(200, "<html>gateway</html>".into())).await;
    let err = llm.client(|_| {}).complete(&ask()).await.unwrap_err();
    assert!(matches!(err, LlmError::BadJson(_)), "{err:?}");
    let llm2 = MockLlm::start(|_, _| Reply::Json(200, r#"{"choices": []}"#.into())).await;
    assert!(matches!(llm2.client(|_| {}).complete(&ask()).await, Err(LlmError::BadJson(_))));
    assert_eq!(llm.count() + llm2.count(), 2);
}

#[tokio::test]
async fn a_hanging_endpoint_times_out_within_the_bound_without_retrying() {
    let llm = MockLlm::start(|_, _| Reply::Hang).await;
    let client = llm.client(|c| {
        c.request_timeout_ms = 300;
        c.max_retries = 3;
    });
    let started = Instant::now();
    let err = client.complete(&ask()).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err, LlmError::Timeout { after_ms: 300, stage: "response" });
    assert!(took >= Duration::from_millis(300) && took < Duration::from_millis(1_000), "{took:?}");
    assert_eq!(llm.count(), 1);

    // The same bound holds for a stream whose headers never come.
    let started = Instant::now();
    let items: Vec<_> = client.stream(&ask()).collect().await;
    assert!(matches!(items[..], [Err(LlmError::Timeout { after_ms: 300, .. })]), "{items:?}");
    assert!(started.elapsed() < Duration::from_millis(1_000));
}

#[tokio::test]
async fn a_stalled_stream_hits_the_idle_timeout() {
    let llm = MockLlm::start(|_, _| Reply::Sse {
        pieces: vec![sse_delta("Hello"), sse_delta(" never"), "data: [DONE]\n\n".into()],
        gap: Duration::from_secs(30),
    })
    .await;
    let client = llm.client(|c| c.stream_idle_timeout_ms = 200);
    let started = Instant::now();
    let items: Vec<_> = client.stream(&ask()).collect().await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0].as_deref(), Ok("Hello"));
    assert_eq!(items[1], Err(LlmError::Timeout { after_ms: 200, stage: "stream idle" }));
    assert!(started.elapsed() < Duration::from_millis(1_500));
}

#[tokio::test]
async fn a_cut_stream_yields_what_came_then_stream_cut_and_is_not_retried() {
    let llm = MockLlm::start(|_, _| Reply::SseCut { pieces: vec![sse_delta("Part"), sse_delta("ial")] }).await;
    let items: Vec<_> = llm.client(|c| c.max_retries = 3).stream(&ask()).collect().await;
    assert_eq!(items[0].as_deref(), Ok("Part"));
    assert_eq!(items[1].as_deref(), Ok("ial"));
    assert!(matches!(items[2], Err(LlmError::StreamCut(_))), "{items:?}");
    assert_eq!(items.len(), 3);
    assert_eq!(llm.count(), 1);

    // A body that simply ends before [DONE] or a finish_reason is cut too.
    let llm = MockLlm::start(|_, _| Reply::Sse { pieces: vec![sse_delta("Part")], gap: Duration::ZERO }).await;
    let items: Vec<_> = llm.client(|_| {}).stream(&ask()).collect().await;
    assert!(matches!(items[..], [Ok(_), Err(LlmError::StreamCut(_))]), "{items:?}");
}

#[tokio::test]
async fn an_error_event_inside_the_stream_is_upstream() {
    let llm = MockLlm::start(|_, _| Reply::Sse {
        pieces: vec![sse_delta("a"), "data: {\"error\": {\"message\": \"model overloaded\"}}\n\n".into()],
        gap: Duration::ZERO,
    })
    .await;
    let items: Vec<_> = llm.client(|_| {}).stream(&ask()).collect().await;
    assert_eq!(items[1], Err(LlmError::Upstream("model overloaded".into())));
}

#[tokio::test]
async fn a_stream_that_fails_to_open_is_retried() {
    let llm = MockLlm::start(|n, _| if n == 0 { status(500) } else { sse(&["o", "k"]) }).await;
    let got: Vec<String> = llm.client(|_| {}).stream(&ask()).map(|r| r.unwrap()).collect().await;
    assert_eq!(got.concat(), "ok");
    assert_eq!(llm.count(), 2);
}

#[tokio::test]
async fn connect_errors_are_typed() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = kefu_llm::ChatClient::new(kefu_llm::ChatConfig {
        base_url: format!("http://127.0.0.1:{port}/v1"),
        api_key_env: vec![],
        max_retries: 1,
        backoff_base_ms: 10,
        ..Default::default()
    })
    .unwrap();
    let err = client.complete(&ask()).await.unwrap_err();
    assert!(matches!(err, LlmError::Connect(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn the_breaker_opens_short_circuits_and_half_opens_after_the_cool_down() {
    let healthy = Arc::new(AtomicBool::new(false));
    let h = healthy.clone();
    let llm = MockLlm::start(move |_, _| if h.load(Ordering::SeqCst) { completion("back") } else { status(500) }).await;
    let client = llm.client(|c| {
        c.max_retries = 0;
        c.breaker = BreakerConfig { failure_threshold: 3, cool_down_ms: 500 };
    });
    for _ in 0..3 {
        assert!(matches!(client.complete(&ask()).await, Err(LlmError::Status { status: 500, .. })));
    }
    assert_eq!(llm.count(), 3);
    assert_eq!(client.breaker_state(), BreakerState::Open);

    // Open: refused at once, by every clone, streams included, and nothing reaches the server.
    let other = client.clone();
    let started = Instant::now();
    let err = other.complete(&ask()).await.unwrap_err();
    assert!(matches!(err, LlmError::BreakerOpen { retry_in_ms } if retry_in_ms > 0 && retry_in_ms <= 500), "{err:?}");
    let items: Vec<_> = other.stream(&ask()).collect().await;
    assert!(matches!(items[..], [Err(LlmError::BreakerOpen { .. })]), "{items:?}");
    assert!(started.elapsed() < Duration::from_millis(150), "{:?}", started.elapsed());
    assert_eq!(llm.count(), 3);

    // After the cool-down one probe goes through; it succeeds and closes the breaker.
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert_eq!(client.breaker_state(), BreakerState::HalfOpen);
    healthy.store(true, Ordering::SeqCst);
    assert_eq!(other.complete(&ask()).await.unwrap(), "back");
    assert_eq!(llm.count(), 4);
    assert_eq!(client.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn half_open_admits_a_single_probe_and_a_failed_probe_reopens() {
    let llm = MockLlm::start(|n, _| match n {
        0 => status(500),
        1 => Reply::Delayed(Duration::from_millis(300), Box::new(status(503))),
        _ => completion("ok"),
    })
    .await;
    let client = llm.client(|c| {
        c.max_retries = 0;
        c.breaker = BreakerConfig { failure_threshold: 1, cool_down_ms: 100 };
    });
    assert!(client.complete(&ask()).await.is_err());
    tokio::time::sleep(Duration::from_millis(150)).await;

    let probe = tokio::spawn({
        let client = client.clone();
        async move { client.complete(&ask()).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // While the probe is out, everyone else is refused.
    assert_eq!(client.complete(&ask()).await, Err(LlmError::BreakerOpen { retry_in_ms: 0 }));
    assert!(matches!(probe.await.unwrap(), Err(LlmError::Status { status: 503, .. })));
    assert_eq!(client.breaker_state(), BreakerState::Open);
    assert!(matches!(client.complete(&ask()).await, Err(LlmError::BreakerOpen { .. })));
    assert_eq!(llm.count(), 2);

    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(client.complete(&ask()).await.unwrap(), "ok");
    assert_eq!(client.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn client_errors_do_not_trip_the_breaker() {
    let llm = MockLlm::start(|_, _| status(400)).await;
    let client = llm.client(|c| c.breaker = BreakerConfig { failure_threshold: 2, cool_down_ms: 60_000 });
    for _ in 0..4 {
        assert!(matches!(client.complete(&ask()).await, Err(LlmError::Status { status: 400, .. })));
    }
    assert_eq!(client.breaker_state(), BreakerState::Closed);
    assert_eq!(llm.count(), 4);
}
