//! # kefu-llm — optional LLM helpers
//!
//! Owns everything in Kefu that talks to a large language model: an OpenAI-compatible
//! chat-completions client ([`ChatClient`]) with timeouts, retries and a circuit breaker;
//! [`LlmIntentAssist`], which asks the model to settle intent rankings the local classifier is
//! unsure about; and [`GroundedAnswerer`], which answers FAQ questions only from retrieved
//! knowledge-base passages, with citations, and refuses without calling the model when nothing
//! relevant was retrieved; [`GroundedWriter`] does the same inside conversations, as the
//! engine's [`kefu_core::AnswerWriter`], streaming the answer to clients as it is generated.
//!
//! It plugs into the engine only through kefu-core's traits ([`IntentClassifier`] and
//! [`kefu_core::AnswerWriter`] are implemented, [`KnowledgeBase`] is consumed) and must not
//! touch the engine, the dialogue policy, session state or any other crate: the engine neither
//! knows nor needs to know that an LLM is involved. LLM failures must degrade to what Kefu does without one: the intent assist
//! returns the local ranking, the grounded answerer a typed error the caller answers with its
//! usual fallback. API keys are never logged, serialised or put in error messages.
//!
//! ```no_run
//! use futures::StreamExt;
//! use kefu_core::{IntentClassifier, KbQuery, KnowledgeBase, Language};
//! use kefu_llm::{AnswerEvent, ChatClient, ChatConfig, Grounded, GroundedAnswerer, LlmIntentAssist};
//! use std::sync::Arc;
//!
//! async fn wire(local: Arc<dyn IntentClassifier>, kb: Arc<dyn KnowledgeBase>) -> Result<(), Box<dyn std::error::Error>> {
//!     // The key comes from KEFU_LLM_API_KEY or OPENAI_API_KEY (ChatConfig::api_key_env).
//!     let client = ChatClient::new(ChatConfig { model: "gpt-4o-mini".into(), ..Default::default() })?;
//!     // Hand this to the engine builder in place of the local classifier.
//!     let _classifier: Arc<dyn IntentClassifier> =
//!         Arc::new(LlmIntentAssist::new(local, client.clone(), Default::default()));
//!
//!     let answerer = GroundedAnswerer::new(kb, client, Default::default());
//!     let query = KbQuery { tenant: "acme".into(), text: "能退货吗？".into(), language: Language::Zh, top_k: 4 };
//!     match answerer.answer_stream(&query).await? {
//!         Grounded::Refused(refusal) => println!("no relevant passage (best {:?})", refusal.best_score),
//!         Grounded::Answer(mut stream) => {
//!             while let Some(event) = stream.next().await {
//!                 match event? {
//!                     AnswerEvent::Token(t) => print!("{t}"),
//!                     AnswerEvent::Done(answer) => println!("\nsources: {:?}", answer.cited_ids()),
//!                 }
//!             }
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! Configuration, the band, the breaker and citations are described in `docs/llm.md`.
//!
//! [`IntentClassifier`]: kefu_core::IntentClassifier
//! [`KnowledgeBase`]: kefu_core::KnowledgeBase
#![warn(missing_docs)]

mod breaker;
mod client;
mod error;
pub mod grounded;
mod intent_assist;
mod sse;

pub use breaker::{BreakerConfig, BreakerState};
pub use client::{ApiKey, CallOptions, ChatClient, ChatConfig, ChatMessage, Role};
pub use error::LlmError;
pub use grounded::{
    citation_markers, Answer, AnswerEvent, AnswerStream, Citation, Grounded, GroundedAnswerer, GroundedConfig,
    GroundedError, GroundedWriter, Refusal, RefusalReason,
};
pub use intent_assist::{parse_choice, IntentAssistConfig, IntentChoice, IntentHint, LlmIntentAssist};
