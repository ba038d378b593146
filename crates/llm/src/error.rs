//! Every way a call to the chat API can fail, one variant per kind, so callers (and the
//! retry loop and circuit breaker) decide by type, never by parsing messages.

/// Why a chat call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The configuration cannot work (bad URL, HTTP client could not be built).
    #[error("LLM client misconfigured: {0}")]
    Config(String),
    /// No TCP/TLS connection could be made (refused, DNS, connect timeout).
    #[error("could not connect to the LLM endpoint: {0}")]
    Connect(String),
    /// No answer within the limit.
    #[error("LLM request timed out after {after_ms} ms ({stage})")]
    Timeout {
        /// The limit that expired.
        after_ms: u64,
        /// What was being waited for: `"response"` or `"stream idle"`.
        stage: &'static str,
    },
    /// The endpoint answered with a non-success status.
    #[error("LLM endpoint answered HTTP {status}: {body}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// The start of the response body (the API key, if echoed, is masked).
        body: String,
    },
    /// The body was not the JSON the chat-completions protocol promises.
    #[error("LLM endpoint sent malformed JSON: {0}")]
    BadJson(String),
    /// The endpoint reported an error inside a `200` stream (`data: {"error": …}`).
    #[error("LLM endpoint reported an error: {0}")]
    Upstream(String),
    /// The circuit breaker is open: no request was sent.
    #[error("LLM circuit breaker is open (retry in {retry_in_ms} ms)")]
    BreakerOpen {
        /// Time left before the breaker lets a probe through (0 while a probe is in flight).
        retry_in_ms: u64,
    },
    /// A streamed answer stopped before `data: [DONE]` (connection dropped or body error).
    #[error("LLM stream was cut: {0}")]
    StreamCut(String),
    /// Any other transport failure after the connection was made.
    #[error("LLM request failed: {0}")]
    Transport(String),
}

impl LlmError {
    /// True for failures worth another attempt: connect errors, 429 and 5xx. Timeouts are not
    /// retried (a hung endpoint would multiply the caller's wait), nor other 4xx (the request
    /// itself is wrong and would fail again).
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Connect(_) => true,
            LlmError::Status { status, .. } => *status == 429 || (500..600).contains(status),
            _ => false,
        }
    }

    /// True when the failure says something about the endpoint's health and so counts towards
    /// opening the circuit breaker. A 4xx other than 429 is the caller's mistake, and a refused
    /// or misconfigured call never reached the endpoint.
    pub fn counts_against_endpoint(&self) -> bool {
        match self {
            LlmError::Config(_) | LlmError::BreakerOpen { .. } => false,
            LlmError::Status { status, .. } => *status == 429 || *status >= 500,
            _ => true,
        }
    }
}

/// At most `max` characters of `body`, on a character boundary, with `secret` masked so an
/// endpoint that echoes the request headers cannot leak the key into logs or errors.
pub(crate) fn excerpt(body: &str, max: usize, secret: Option<&str>) -> String {
    let masked = match secret {
        Some(s) if !s.is_empty() => body.replace(s, "***"),
        _ => body.to_string(),
    };
    let trimmed = masked.trim();
    match trimmed.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &trimmed[..i]),
        None => trimmed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_and_breaker_classification() {
        let status = |s| LlmError::Status { status: s, body: String::new() };
        assert!(status(500).is_retryable() && status(503).is_retryable() && status(429).is_retryable());
        assert!(!status(400).is_retryable() && !status(401).is_retryable() && !status(404).is_retryable());
        assert!(LlmError::Connect("refused".into()).is_retryable());
        assert!(!LlmError::Timeout { after_ms: 1, stage: "response" }.is_retryable());
        assert!(status(500).counts_against_endpoint() && status(429).counts_against_endpoint());
        assert!(!status(400).counts_against_endpoint());
        assert!(!LlmError::BreakerOpen { retry_in_ms: 0 }.counts_against_endpoint());
        assert!(LlmError::StreamCut("eof".into()).counts_against_endpoint());
    }

    #[test]
    fn excerpt_is_bounded_and_masks_the_key() {
        assert_eq!(excerpt("  short ", 10, None), "short");
        assert_eq!(excerpt("订单订单订单", 2, None), "订单…");
        assert_eq!(excerpt("bad key sk-123 given", 100, Some("sk-123")), "bad key *** given");
    }
}
