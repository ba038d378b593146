//! `GroundedAnswerer`: FAQ answers written by an LLM from retrieved passages only, with the
//! passages it used cited as `[n]`, and a refusal without any LLM call when retrieval found
//! nothing relevant (an LLM given irrelevant passages tends to answer anyway, from memory).

use crate::client::{CallOptions, ChatClient, ChatMessage};
use crate::error::LlmError;
use futures::stream::{BoxStream, Stream, StreamExt};
use kefu_core::kb::KbError;
use kefu_core::{AnswerError, AnswerPieces, AnswerRequest, AnswerWriter, KbHit, KbQuery, KnowledgeBase, Language};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::sync::Arc;

/// Configuration of [`GroundedAnswerer`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroundedConfig {
    /// Hits below this relevance are not shown to the model; with none at or above it the
    /// answerer refuses. Same scale as the engine's `kb_threshold`.
    pub min_score: f32,
    /// Each passage is cut to this many characters.
    pub max_passage_chars: usize,
    /// Sampling temperature (low: the answer should restate the passages, not improvise).
    pub temperature: f32,
    /// Cap on the answer's length in tokens.
    pub max_tokens: Option<u32>,
    /// Extra instructions appended to the system prompt (tone, brand, format).
    pub instructions: Option<String>,
}

impl Default for GroundedConfig {
    fn default() -> Self {
        Self { min_score: 0.35, max_passage_chars: 1_500, temperature: 0.0, max_tokens: Some(400), instructions: None }
    }
}

/// A passage the answer cites.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    /// The marker number used in the text (`[number]`).
    pub number: usize,
    /// The knowledge-base entry behind it.
    pub hit: KbHit,
}

/// A grounded answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The model's text, markers included.
    pub text: String,
    /// Passages actually cited in `text`, in order of first citation, each once. Empty when the
    /// model cited nothing: treat such an answer as ungrounded.
    pub citations: Vec<Citation>,
}

impl Answer {
    /// Ids of the cited knowledge-base entries.
    pub fn cited_ids(&self) -> Vec<&str> {
        self.citations.iter().map(|c| c.hit.id.as_str()).collect()
    }
}

/// Why the answerer declined without calling the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    /// The reason.
    pub reason: RefusalReason,
    /// Score of the best hit, if there was any.
    pub best_score: Option<f32>,
}

/// Reasons for a [`Refusal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RefusalReason {
    /// Retrieval returned no hit at or above `min_score`.
    NoRelevantPassage,
}

/// The outcome of a grounded question: an answer (or answer stream), or a refusal.
#[derive(Debug)]
pub enum Grounded<T> {
    /// The model was asked; here is its answer.
    Answer(T),
    /// The model was not asked.
    Refused(Refusal),
}

/// One item of a streamed grounded answer.
#[derive(Clone, Debug, PartialEq)]
pub enum AnswerEvent {
    /// The next piece of text, as generated.
    Token(String),
    /// The end: the whole text and the citations it uses. Always the last item of a stream
    /// that did not fail.
    Done(Answer),
}

/// A streamed grounded answer; an `Err` item ends it.
pub type AnswerStream = BoxStream<'static, Result<AnswerEvent, LlmError>>;

/// Why a grounded question could not be answered or refused.
#[derive(Debug, thiserror::Error)]
pub enum GroundedError {
    /// Retrieval failed.
    #[error(transparent)]
    Kb(#[from] KbError),
    /// The model call failed.
    #[error(transparent)]
    Llm(#[from] LlmError),
}

/// Answers questions from a [`KnowledgeBase`] through an LLM, citing the passages it used.
pub struct GroundedAnswerer {
    kb: Arc<dyn KnowledgeBase>,
    client: ChatClient,
    config: GroundedConfig,
}

impl GroundedAnswerer {
    /// Builds the answerer; `client` carries the endpoint, timeouts, retries and breaker.
    pub fn new(kb: Arc<dyn KnowledgeBase>, client: ChatClient, config: GroundedConfig) -> Self {
        Self { kb, client, config }
    }

    /// Retrieves `query.top_k` hits and answers from those at or above `min_score`.
    pub async fn answer(&self, query: &KbQuery) -> Result<Grounded<Answer>, GroundedError> {
        let hits = match self.retrieve(query).await? {
            Ok(hits) => hits,
            Err(refusal) => return Ok(Grounded::Refused(refusal)),
        };
        let text = self.client.complete_with(&self.prompt(&query.text, query.language, &hits), &self.options()).await?;
        let citations = cite(&text, &hits);
        Ok(Grounded::Answer(Answer { text, citations }))
    }

    /// Like [`GroundedAnswerer::answer`], streaming the text as it is generated and ending
    /// with [`AnswerEvent::Done`]. Retrieval errors and refusals come back before any stream.
    pub async fn answer_stream(&self, query: &KbQuery) -> Result<Grounded<AnswerStream>, GroundedError> {
        let hits = match self.retrieve(query).await? {
            Ok(hits) => hits,
            Err(refusal) => return Ok(Grounded::Refused(refusal)),
        };
        let tokens = self.client.stream_with(&self.prompt(&query.text, query.language, &hits), &self.options());
        Ok(Grounded::Answer(with_citations(tokens, hits).boxed()))
    }

    fn options(&self) -> CallOptions {
        CallOptions { temperature: Some(self.config.temperature), max_tokens: self.config.max_tokens }
    }

    /// The relevant hits, or the refusal when there are none.
    async fn retrieve(&self, query: &KbQuery) -> Result<Result<Vec<KbHit>, Refusal>, KbError> {
        let hits = self.kb.search(query).await?;
        let best_score = hits.iter().map(|h| h.score).reduce(f32::max);
        let relevant: Vec<KbHit> =
            hits.into_iter().filter(|h| h.score >= self.config.min_score).take(query.top_k.max(1)).collect();
        if relevant.is_empty() {
            tracing::debug!(
                ?best_score,
                min_score = self.config.min_score,
                "grounded answer refused: nothing relevant"
            );
            return Ok(Err(Refusal { reason: RefusalReason::NoRelevantPassage, best_score }));
        }
        Ok(Ok(relevant))
    }

    /// The prompt: rules in the system message; numbered passages and the question in the user
    /// message, so knowledge-base text is data to quote rather than instructions to follow.
    pub fn prompt(&self, question: &str, language: Language, hits: &[KbHit]) -> Vec<ChatMessage> {
        grounded_prompt(&self.config, question, language, hits)
    }
}

/// The engine's [`AnswerWriter`]: FAQ answers in conversations written by the model from the
/// entries the engine retrieved (same prompt and citations as [`GroundedAnswerer`]), streamed
/// to clients as generated. The engine decides whether the knowledge base answers; when the
/// model fails, the stored answer is used.
pub struct GroundedWriter {
    client: ChatClient,
    config: GroundedConfig,
}

impl GroundedWriter {
    /// Builds the writer; `client` carries the endpoint, timeouts, retries and breaker.
    pub fn new(client: ChatClient, config: GroundedConfig) -> Self {
        Self { client, config }
    }
}

#[async_trait::async_trait]
impl AnswerWriter for GroundedWriter {
    async fn write(&self, request: &AnswerRequest) -> Result<AnswerPieces, AnswerError> {
        let messages = grounded_prompt(&self.config, &request.question, request.language, &request.hits);
        let options = CallOptions { temperature: Some(self.config.temperature), max_tokens: self.config.max_tokens };
        let pieces = self
            .client
            .stream_with(&messages, &options)
            .map(|piece| piece.map_err(|e| AnswerError::Failed(e.to_string())));
        Ok(Box::pin(pieces))
    }
}

/// The grounded prompt shared by [`GroundedAnswerer`] and [`GroundedWriter`].
fn grounded_prompt(config: &GroundedConfig, question: &str, language: Language, hits: &[KbHit]) -> Vec<ChatMessage> {
    let lang = match language {
        Language::Zh => "Chinese",
        Language::En => "English",
    };
    let mut system = format!(
        "You are a customer-service assistant. Answer the customer's question using only the \
         numbered passages in the message. After each statement, cite the passage it comes \
         from by its number in square brackets, like [1] or [2]. If the passages do not contain \
         the answer, say that you do not know; never use other knowledge. Answer briefly, in {lang}."
    );
    if let Some(extra) = &config.instructions {
        let _ = write!(system, "\n\n{extra}");
    }
    let mut user = String::from("Passages:\n");
    for (i, hit) in hits.iter().enumerate() {
        let passage = format!("Q: {}\nA: {}", hit.question.trim(), hit.answer.trim());
        let _ = write!(user, "\n[{}] {}\n", i + 1, truncate(&passage, config.max_passage_chars));
    }
    let _ = write!(user, "\nQuestion: {}", question.trim());
    vec![ChatMessage::system(system), ChatMessage::user(user)]
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Passes tokens through and, when the token stream ends cleanly, appends the `Done` event.
fn with_citations(
    tokens: impl Stream<Item = Result<String, LlmError>> + Send + 'static,
    hits: Vec<KbHit>,
) -> impl Stream<Item = Result<AnswerEvent, LlmError>> + Send + 'static {
    struct State<S> {
        tokens: S,
        text: String,
        hits: Vec<KbHit>,
        ended: bool,
    }
    let state = State { tokens: Box::pin(tokens), text: String::new(), hits, ended: false };
    futures::stream::unfold(state, |mut st| async move {
        if st.ended {
            return None;
        }
        match st.tokens.next().await {
            Some(Ok(token)) => {
                st.text.push_str(&token);
                Some((Ok(AnswerEvent::Token(token)), st))
            }
            Some(Err(e)) => {
                st.ended = true;
                Some((Err(e), st))
            }
            None => {
                st.ended = true;
                // Markers can straddle tokens ("[" + "2]"), so they are read from the whole text.
                let text = std::mem::take(&mut st.text);
                let citations = cite(&text, &st.hits);
                Some((Ok(AnswerEvent::Done(Answer { text, citations })), st))
            }
        }
    })
}

fn cite(text: &str, hits: &[KbHit]) -> Vec<Citation> {
    let numbers = citation_markers(text);
    let mut out = Vec::new();
    for n in numbers {
        match n.checked_sub(1).and_then(|i| hits.get(i)) {
            Some(hit) => out.push(Citation { number: n, hit: hit.clone() }),
            None => tracing::warn!(marker = n, passages = hits.len(), "answer cites a passage that was not given"),
        }
    }
    out
}

/// The passage numbers cited in `text`, in order of first appearance, each once: `[1]`,
/// `[1][2]`, `[1, 2]`, and the full-width `【1】` / `［1］` Chinese models often write.
pub fn citation_markers(text: &str) -> Vec<usize> {
    let mut found: Vec<usize> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(['[', '【', '［']) {
        let after = &rest[open..];
        let Some(first) = after.chars().next() else { break };
        let body_start = first.len_utf8();
        let close = after[body_start..].find([']', '】', '］']).map(|i| i + body_start);
        let Some(close) = close.filter(|c| c - body_start <= 24) else {
            rest = &after[body_start..];
            continue;
        };
        let body = &after[body_start..close];
        let parts: Vec<&str> = body.split([',', '，', '、', ' ']).filter(|p| !p.is_empty()).collect();
        let all_numbers = !parts.is_empty() && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()));
        if all_numbers {
            for n in parts.iter().filter_map(|p| p.parse::<usize>().ok()) {
                if !found.contains(&n) {
                    found.push(n);
                }
            }
        }
        // Resume inside the brackets: "[see [2]]" still finds [2].
        rest = &after[body_start..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_markers_in_all_their_shapes() {
        assert_eq!(citation_markers("Returns take 7 days [2]. Refunds go to the card [1][2]."), vec![2, 1]);
        assert_eq!(citation_markers("a [1, 3] b [3,2]"), vec![1, 3, 2]);
        assert_eq!(citation_markers("七天无理由退货【1】，运费由买家承担［2］。"), vec![1, 2]);
        assert_eq!(citation_markers("no markers [here] or [] or [1a] or [see [4]]"), vec![4]);
        assert_eq!(citation_markers("unclosed [1"), Vec::<usize>::new());
    }

    #[test]
    fn maps_markers_to_hits_and_drops_unknown_numbers() {
        let hit = |id: &str| KbHit { id: id.into(), question: "q".into(), answer: "a".into(), score: 0.9 };
        let hits = vec![hit("faq-a"), hit("faq-b")];
        let c = cite("x [2] y [0] z [9] w [1]", &hits);
        assert_eq!(
            c.iter().map(|c| (c.number, c.hit.id.as_str())).collect::<Vec<_>>(),
            vec![(2, "faq-b"), (1, "faq-a")]
        );
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("退货政策", 2), "退货");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
