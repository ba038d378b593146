//! Incremental Server-Sent Events parsing for streamed chat completions.
//!
//! Network chunks split lines (and UTF-8 characters) anywhere, so bytes are buffered until a
//! full line is in; an event is dispatched at the blank line that ends it, as the SSE spec
//! says, so multi-line `data:` fields are joined rather than parsed piecemeal.

use crate::error::LlmError;

/// What one dispatched SSE event means for a chat-completions stream.
#[derive(Debug, PartialEq)]
pub(crate) enum Delta {
    /// Generated text (possibly empty pieces are dropped before this).
    Text(String),
    /// `choices[0].finish_reason` was set: the answer is complete even without `[DONE]`.
    Finished,
    /// `data: [DONE]`.
    Done,
}

#[derive(Default)]
pub(crate) struct SseParser {
    buf: Vec<u8>,
    data: Vec<String>,
}

impl SseParser {
    /// Feeds bytes; returns the deltas of every event completed by them, in order.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<Delta>, LlmError> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.buf.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    let data = std::mem::take(&mut self.data).join("\n");
                    out.extend(interpret(&data)?);
                }
            } else if let Some(value) = line.strip_prefix("data:") {
                self.data.push(value.strip_prefix(' ').unwrap_or(value).to_string());
            }
            // Comments (`: keep-alive`) and the `event:`, `id:`, `retry:` fields carry nothing
            // the chat protocol uses.
        }
        Ok(out)
    }

    /// Called at end of body: an event not yet terminated by a blank line still counts (some
    /// servers close right after the last `data:` line).
    pub(crate) fn finish(&mut self) -> Result<Vec<Delta>, LlmError> {
        let mut out = self.push(b"\n")?;
        if !self.data.is_empty() {
            let data = std::mem::take(&mut self.data).join("\n");
            out.extend(interpret(&data)?);
        }
        Ok(out)
    }
}

fn interpret(data: &str) -> Result<Vec<Delta>, LlmError> {
    if data.trim() == "[DONE]" {
        return Ok(vec![Delta::Done]);
    }
    let v: serde_json::Value =
        serde_json::from_str(data).map_err(|e| LlmError::BadJson(format!("stream chunk: {e}")))?;
    if let Some(err) = v.get("error") {
        let message =
            err.get("message").and_then(|m| m.as_str()).map(str::to_string).unwrap_or_else(|| err.to_string());
        return Err(LlmError::Upstream(message));
    }
    let Some(choice) = v.get("choices").and_then(|c| c.get(0)) else {
        // Usage-only chunks (`stream_options.include_usage`) have an empty `choices`.
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    if let Some(text) = choice.pointer("/delta/content").and_then(|c| c.as_str()) {
        if !text.is_empty() {
            out.push(Delta::Text(text.to_string()));
        }
    }
    if choice.get("finish_reason").is_some_and(|r| !r.is_null()) {
        out.push(Delta::Finished);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str) -> String {
        format!("data: {}\n\n", serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}}]}))
    }

    #[test]
    fn parses_chunks_split_anywhere_including_inside_utf8() {
        let body = format!(
            ": keep-alive\n\ndata: {}\n\n{}{}data: {}\n\ndata: [DONE]\n\n",
            serde_json::json!({"choices": [{"delta": {"role": "assistant"}}]}),
            chunk("退货"),
            chunk(" policy"),
            serde_json::json!({"choices": [{"delta": {}, "finish_reason": "stop"}]}),
        );
        let bytes = body.as_bytes();
        for split in 1..bytes.len() {
            let mut p = SseParser::default();
            let mut got = p.push(&bytes[..split]).unwrap();
            got.extend(p.push(&bytes[split..]).unwrap());
            got.extend(p.finish().unwrap());
            assert_eq!(
                got,
                vec![Delta::Text("退货".into()), Delta::Text(" policy".into()), Delta::Finished, Delta::Done],
                "split at {split}"
            );
        }
    }

    #[test]
    fn crlf_lines_and_an_unterminated_last_event() {
        let mut p = SseParser::default();
        let body = chunk("a").replace('\n', "\r\n") + "data: [DONE]";
        let mut got = p.push(body.as_bytes()).unwrap();
        got.extend(p.finish().unwrap());
        assert_eq!(got, vec![Delta::Text("a".into()), Delta::Done]);
    }

    #[test]
    fn errors_in_the_stream_are_typed() {
        let mut p = SseParser::default();
        assert!(matches!(p.push(b"data: {not json\n\n"), Err(LlmError::BadJson(_))));
        let mut p = SseParser::default();
        let err = p.push(b"data: {\"error\": {\"message\": \"overloaded\"}}\n\n").unwrap_err();
        assert_eq!(err, LlmError::Upstream("overloaded".into()));
    }
}
