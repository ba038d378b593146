//! Downloading a model folder from the Hugging Face Hub (feature `hub`).
//!
//! Uses `hf-hub`'s blocking client (HTTPS via rustls, no C dependency). Files land in the
//! standard Hugging Face cache (`$HF_HOME/hub`, default `~/.cache/huggingface/hub`; the
//! `HF_HOME` and `HF_TOKEN` variables are honoured), so a second call does not download again.
//! Nothing in Kefu's tests uses this module: the test machines reach no model hub.

use std::path::PathBuf;

use hf_hub::api::sync::ApiBuilder;
use hf_hub::{Repo, RepoType};

use super::encoder::{CONFIG_FILE, POOLING_CONFIG_FILE, SBERT_CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE};
use super::EncoderError;

/// Downloads (or finds in the cache) the files [`super::SentenceEncoder::load`] reads from
/// the model repository `repo_id` (e.g. `"sentence-transformers/all-MiniLM-L6-v2"`) at
/// `revision` (`None`: `main`), and returns the local folder that holds them.
///
/// Required: `config.json`, `tokenizer.json`, `model.safetensors`. Optional (fetched when the
/// repository has them): `sentence_bert_config.json`, `1_Pooling/config.json`.
pub fn download_model(repo_id: &str, revision: Option<&str>) -> Result<PathBuf, EncoderError> {
    let hub_err = |reason: String| EncoderError::Hub { repo: repo_id.to_string(), reason };
    let api = ApiBuilder::from_env().with_progress(false).build().map_err(|e| hub_err(e.to_string()))?;
    let repo = match revision {
        Some(rev) => Repo::with_revision(repo_id.to_string(), RepoType::Model, rev.to_string()),
        None => Repo::new(repo_id.to_string(), RepoType::Model),
    };
    let repo = api.repo(repo);
    let mut folder = None;
    for file in [CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE] {
        let path = repo.get(file).map_err(|e| hub_err(format!("{file}: {e}")))?;
        folder = path.parent().map(PathBuf::from);
    }
    for file in [SBERT_CONFIG_FILE, POOLING_CONFIG_FILE] {
        // Optional files: a repository without them is fine.
        let _ = repo.get(file);
    }
    folder.ok_or_else(|| hub_err("downloaded files have no parent folder".into()))
}
