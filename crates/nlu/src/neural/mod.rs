//! Transformer sentence encoder (feature `neural`).
//!
//! [`SentenceEncoder`] loads a BERT-family model folder in the Hugging Face layout and turns
//! texts into unit-length vectors with the same computation as sentence-transformers
//! (`Transformer → Pooling(mean over the attention mask) → Normalize`), using
//! [candle](https://github.com/huggingface/candle) for the network and the `tokenizers`
//! crate (pure Rust here: `fancy-regex`, no Oniguruma) for WordPiece.
//!
//! ```no_run
//! use kefu_nlu::neural::{Device, SentenceEncoder};
//! # fn main() -> Result<(), kefu_nlu::neural::EncoderError> {
//! let encoder = SentenceEncoder::load("models/all-MiniLM-L6-v2".as_ref(), Device::Cpu)?;
//! let v = encoder.embed(&["where is my order?", "我要退货"])?;
//! assert_eq!(v[0].len(), encoder.dim());
//! let cosine: f32 = v[0].iter().zip(&v[1]).map(|(a, b)| a * b).sum(); // vectors are unit length
//! println!("{} {cosine}", encoder.model_id());
//! # Ok(()) }
//! ```
//!
//! * **Model folder**: `config.json` (a BERT config, `model_type` `"bert"`), `tokenizer.json`,
//!   `model.safetensors`; optionally `sentence_bert_config.json` (its `max_seq_length` sets
//!   the truncation length) and `1_Pooling/config.json` (mean pooling, or CLS pooling as BGE
//!   models use; absent = mean).
//!   Padding configured in `tokenizer.json` is ignored: each batch is padded to its own
//!   longest member only.
//! * **Batching**: [`SentenceEncoder::embed`] sorts the texts it must compute by token length
//!   and runs them in batches of [`EncoderOptions::batch_size`] (default 32).
//! * **Cache**: a bounded, thread-safe LRU of embeddings keyed by [`cache_key`]
//!   (whitespace-collapsed text), [`EncoderOptions::cache_capacity`] entries (default
//!   10 000, 0 disables), with hit/miss counters ([`SentenceEncoder::cache_stats`]).
//! * **Identity**: [`SentenceEncoder::model_id`] is `name@fnv64` over the configuration, the
//!   tokenizer, the safetensors header and a sample of the weights (cheap: the 90 MB of
//!   weights are not hashed in full); anything trained on the vectors should record it.
//! * **Devices**: [`Device::Cpu`] always; features `cuda` (needs the CUDA toolkit and `nvcc`
//!   at build time) / `metal` compile candle's GPU back-ends, and [`best_device`] picks a GPU
//!   when one is compiled in and present; [`device_from_name`] parses `cpu`, `cuda:0`, `auto`…
//!   CPU threads: candle uses rayon's pool (`RAYON_NUM_THREADS`); programs should call
//!   [`init_cpu_threads`] first thing in `main` (see [`threads`] for why it matters).
//! * **Async callers**: the forward pass runs through [`kefu_core::run_cpu_bound`], so on a
//!   multi-threaded tokio runtime (a server) the worker's other tasks move to another thread
//!   instead of waiting ~10 ms per message behind it.
//! * **Errors**: every problem with a model folder is an [`EncoderError`], never a panic.
//! * **Hub** (feature `hub`): `hub::download_model` fetches a folder by repository id into
//!   the Hugging Face cache (hf-hub's blocking client over rustls; `ring` builds some C).
//!   Not used by the tests.
//!
//! Run the real-model test with `--release`: unoptimised candle takes minutes for it.

mod bert;
mod cache;
mod cpu_ops;
mod encoder;
mod error;
#[cfg(feature = "hub")]
pub mod hub;
mod model_id;
pub mod threads;

pub use cache::{cache_key, CacheStats, EmbeddingCache};
pub use candle_core::Device;
pub use encoder::{
    EncoderEngine, EncoderOptions, Pooling, SentenceEncoder, CONFIG_FILE, POOLING_CONFIG_FILE, SBERT_CONFIG_FILE,
    TOKENIZER_FILE, WEIGHTS_FILE,
};
pub use error::EncoderError;
pub use threads::init_cpu_threads;

/// The fastest device available to this build: the first CUDA GPU with feature `cuda`, else
/// the first Metal GPU with feature `metal`, else the CPU. Never fails: a GPU that cannot be
/// opened falls back to the CPU (with a `tracing` warning).
pub fn best_device() -> Device {
    #[cfg(feature = "cuda")]
    {
        match Device::cuda_if_available(0) {
            Ok(d) if d.is_cuda() => return d,
            Ok(_) => {}
            Err(e) => tracing::warn!("CUDA device unavailable, using the CPU: {e}"),
        }
    }
    #[cfg(feature = "metal")]
    {
        match Device::metal_if_available(0) {
            Ok(d) if d.is_metal() => return d,
            Ok(_) => {}
            Err(e) => tracing::warn!("Metal device unavailable, using the CPU: {e}"),
        }
    }
    Device::Cpu
}

/// Opens the device named `name`: `"cpu"`, `"cuda"` / `"cuda:N"`, `"metal"` / `"metal:N"`,
/// or `"auto"` ([`best_device`]). A GPU not compiled into this build is a
/// [`EncoderError::Device`].
pub fn device_from_name(name: &str) -> Result<Device, EncoderError> {
    let (kind, ordinal) = match name.split_once(':') {
        Some((k, n)) => {
            let n = n.parse::<usize>().map_err(|_| EncoderError::Device(format!("bad device ordinal in {name:?}")))?;
            (k, n)
        }
        None => (name, 0),
    };
    let open = |r: candle_core::Result<Device>| r.map_err(|e| EncoderError::Device(error::candle_message(&e)));
    match kind.to_ascii_lowercase().as_str() {
        "cpu" => Ok(Device::Cpu),
        "auto" => Ok(best_device()),
        "cuda" => open(Device::new_cuda(ordinal)),
        "metal" => open(Device::new_metal(ordinal)),
        other => Err(EncoderError::Device(format!("unknown device {other:?} (cpu, cuda[:N], metal[:N], auto)"))),
    }
}
