//! The text-embedding contract: dense sentence vectors for retrieval and classification.
//!
//! Implemented by `kefu-nlu`'s transformer encoder (feature `neural`) and consumed by
//! `kefu-kb`'s dense and hybrid indexes, so neither crate depends on the other.

/// Why an embedding could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model failed on this input (tokenizer, tensor or device error).
    #[error("embedding failed: {0}")]
    Failed(String),
}

/// Turns texts into L2-normalised vectors, so a dot product is their cosine similarity.
///
/// Calls are synchronous and CPU/GPU bound (milliseconds per sentence on a CPU); async
/// callers that serve many requests should run them on a blocking thread.
pub trait TextEmbedder: Send + Sync {
    /// Stable identity of the model and its weights; indexes store it and refuse vectors
    /// made by another model.
    fn model_id(&self) -> &str;
    /// Length of every vector.
    fn dim(&self) -> usize;
    /// One unit-length vector per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}
