//! The API key comes from the environment and never leaks into errors. Its own test binary:
//! it sets an environment variable, which must not race with other tests reading the env.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::MockLlm;
use common::Reply;
use kefu_llm::{ChatClient, ChatConfig, ChatMessage, LlmError};

#[tokio::test]
async fn reads_the_key_from_the_first_set_variable_and_masks_it_in_errors() {
    std::env::set_var("KEFU_LLM_TEST_KEY_B", "sk-from-env-456");
    // Echo the Authorization header back in a 401 body, as some gateways do.
    let llm = MockLlm::start(|_, seen| {
        Reply::Json(401, format!("{{\"error\": \"invalid key: {}\"}}", seen.authorization.clone().unwrap_or_default()))
    })
    .await;
    let client = ChatClient::new(ChatConfig {
        base_url: llm.base_url.clone(),
        api_key_env: vec!["KEFU_LLM_TEST_KEY_A_UNSET".into(), "KEFU_LLM_TEST_KEY_B".into()],
        ..ChatConfig::default()
    })
    .unwrap();
    assert!(!format!("{client:?}").contains("sk-from-env-456"));
    let err = client.complete(&[ChatMessage::user("hi")]).await.unwrap_err();
    assert_eq!(llm.requests()[0].authorization.as_deref(), Some("Bearer sk-from-env-456"));
    let LlmError::Status { status: 401, body } = &err else { panic!("{err:?}") };
    assert!(body.contains("Bearer ***") && !err.to_string().contains("sk-from-env-456"), "{err}");
    assert_eq!(llm.count(), 1, "401 is not retried");

    // No key anywhere: no Authorization header at all (local servers).
    let client = ChatClient::new(ChatConfig {
        base_url: llm.base_url.clone(),
        api_key_env: vec!["KEFU_LLM_TEST_KEY_A_UNSET".into()],
        ..ChatConfig::default()
    })
    .unwrap();
    let _ = client.complete(&[ChatMessage::user("hi")]).await;
    assert_eq!(llm.requests()[1].authorization, None);
}
