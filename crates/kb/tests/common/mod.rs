//! A deterministic embedder for tests: hashed character trigrams, L2-normalised. It is a
//! real (if weak) embedding model, so dense and hybrid code paths run end to end without
//! model files; `kefu kb eval --encoder` (benches/kb) measures the real MiniLM encoder.
#![allow(dead_code)]

use kefu_core::{EmbedError, TextEmbedder};

pub struct TrigramEmbedder {
    pub dim: usize,
}

impl TextEmbedder for TrigramEmbedder {
    fn model_id(&self) -> &str {
        "test-trigram"
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|t| trigram_vector(t, self.dim)).collect())
    }
}

pub fn trigram_vector(text: &str, dim: usize) -> Vec<f32> {
    let chars: Vec<char> = format!("  {}  ", text.to_lowercase()).chars().collect();
    let mut v = vec![0f32; dim];
    for w in chars.windows(3) {
        let mut h: u64 = 0xcbf29ce484222325;
        for c in w {
            h ^= *c as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        v[(h % dim as u64) as usize] += 1.0;
    }
    normalise(v)
}

pub fn normalise(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

/// An embedder that fails, to check errors surface as typed errors.
pub struct BrokenEmbedder;

impl TextEmbedder for BrokenEmbedder {
    fn model_id(&self) -> &str {
        "broken"
    }
    fn dim(&self) -> usize {
        8
    }
    fn embed(&self, _texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Err(EmbedError::Failed("device lost".into()))
    }
}

/// An embedder that returns vectors of the wrong length.
pub struct WrongDimEmbedder;

impl TextEmbedder for WrongDimEmbedder {
    fn model_id(&self) -> &str {
        "wrong-dim"
    }
    fn dim(&self) -> usize {
        8
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|_| vec![1.0; 4]).collect())
    }
}
