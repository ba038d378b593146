//! The lexical intent model as a `kefu_core::IntentClassifier`, with a model file that
//! records what it was trained on.

use crate::error::Error;
use crate::lexical::{LexicalConfig, LexicalModel, TrainProgress, TrainingExample};
use async_trait::async_trait;
use kefu_core::nlu::{IntentClassifier, IntentScore, NluError};
use kefu_core::Language;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::Path;

/// Version of the intent model file layout (header + lexical model).
pub const MODEL_FILE_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"KEFUINT\n";
const MAX_HEADER_BYTES: u32 = 1 << 20;

/// What a model file says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// [`MODEL_FILE_VERSION`] at the time of writing.
    pub format_version: u32,
    /// `lexical`.
    pub pipeline: String,
    /// Fingerprint of the training examples and configuration (see [`training_fingerprint`]).
    pub fingerprint: String,
    /// Number of intents.
    pub labels: usize,
    /// Number of training examples.
    pub examples: usize,
    /// Kefu version that trained it.
    pub kefu_version: String,
    /// The confidence threshold chosen on the training data
    /// ([`crate::eval::calibrate_bot_threshold`]), when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibrated_threshold: Option<f32>,
}

/// A stable fingerprint (FNV-1a, 64 bits, hex) of training examples and configuration: a
/// model is reused only when its fingerprint matches the bot's current data.
pub fn training_fingerprint(examples: &[(String, String)], config: &LexicalConfig) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(serde_json::to_string(config).unwrap_or_default().as_bytes());
    for (text, label) in examples {
        feed(text.as_bytes());
        feed(&[0]);
        feed(label.as_bytes());
        feed(&[1]);
    }
    feed(env!("CARGO_PKG_VERSION").as_bytes());
    format!("{h:016x}")
}

/// The lexical intent model behind [`IntentClassifier`].
pub struct LexicalIntentClassifier {
    model: LexicalModel,
    header: ModelHeader,
}

impl LexicalIntentClassifier {
    /// Trains on `(text, intent)` pairs; deterministic for a given `config.seed`.
    pub fn train(
        examples: &[(String, String)],
        config: &LexicalConfig,
        progress: &mut dyn FnMut(TrainProgress),
    ) -> Result<Self, Error> {
        let data: Vec<TrainingExample> =
            examples.iter().map(|(t, l)| TrainingExample { text: t.clone(), label: l.clone() }).collect();
        let model = LexicalModel::train(&data, config, progress)?;
        let header = ModelHeader {
            format_version: MODEL_FILE_VERSION,
            pipeline: "lexical".into(),
            fingerprint: training_fingerprint(examples, config),
            labels: model.labels().len(),
            examples: examples.len(),
            kefu_version: env!("CARGO_PKG_VERSION").into(),
            calibrated_threshold: None,
        };
        Ok(Self { model, header })
    }

    /// The header (what the model was trained on).
    pub fn header(&self) -> &ModelHeader {
        &self.header
    }

    /// The intents it knows.
    pub fn labels(&self) -> &[String] {
        self.model.labels()
    }

    /// Records the confidence threshold chosen for this model (saved with it).
    pub fn set_calibrated_threshold(&mut self, threshold: Option<f32>) {
        self.header.calibrated_threshold = threshold;
    }

    /// Ranked intents with calibrated confidences (at most `k`).
    pub fn rank(&self, text: &str, k: usize) -> Vec<IntentScore> {
        self.model
            .predict_top(text, k)
            .into_iter()
            .map(|(name, confidence)| IntentScore { name: name.to_string(), confidence })
            .collect()
    }

    /// Writes the model file.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let io = |source| Error::Io { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // Write to a temporary file and rename, so a crash never leaves a truncated model.
        let tmp = path.with_extension("tmp");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io)?);
        let header = serde_json::to_vec(&self.header).map_err(|e| io(std::io::Error::other(e)))?;
        out.write_all(MAGIC).map_err(io)?;
        out.write_all(&(header.len() as u32).to_le_bytes()).map_err(io)?;
        out.write_all(&header).map_err(io)?;
        self.model.save(&mut out)?;
        out.flush().map_err(io)?;
        drop(out);
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a model file, checking its magic bytes and format version.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let io = |source| Error::Io { path: path.to_path_buf(), source };
        let mismatch = |reason: String| Error::ModelMismatch { path: path.to_path_buf(), reason };
        let mut r = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic).map_err(|_| mismatch("not a Kefu intent model (too short)".into()))?;
        if &magic != MAGIC {
            return Err(mismatch("not a Kefu intent model (bad magic bytes)".into()));
        }
        let mut len = [0u8; 4];
        r.read_exact(&mut len).map_err(|_| mismatch("truncated header".into()))?;
        let len = u32::from_le_bytes(len);
        if len > MAX_HEADER_BYTES {
            return Err(mismatch(format!("header of {len} bytes is implausible")));
        }
        let mut header = vec![0u8; len as usize];
        r.read_exact(&mut header).map_err(|_| mismatch("truncated header".into()))?;
        let header: ModelHeader = serde_json::from_slice(&header).map_err(|e| mismatch(format!("bad header: {e}")))?;
        if header.format_version != MODEL_FILE_VERSION {
            return Err(mismatch(format!(
                "format version {} is not supported (this build reads {MODEL_FILE_VERSION}); retrain with `kefu train`",
                header.format_version
            )));
        }
        let model = LexicalModel::load(&mut r)?;
        Ok(Self { model, header })
    }

    /// Reads a model file and checks it was trained on data with this fingerprint.
    pub fn load_matching(path: &Path, fingerprint: &str) -> Result<Self, Error> {
        let m = Self::load(path)?;
        if m.header.fingerprint != fingerprint {
            return Err(Error::ModelMismatch {
                path: path.to_path_buf(),
                reason: "trained on other data than the bot's current examples; retrain with `kefu train`".into(),
            });
        }
        Ok(m)
    }
}

#[async_trait]
impl IntentClassifier for LexicalIntentClassifier {
    async fn classify(&self, text: &str, _language: Language, top_k: usize) -> Result<Vec<IntentScore>, NluError> {
        Ok(self.rank(text, top_k))
    }

    fn calibrated_threshold(&self) -> Option<f32> {
        self.header.calibrated_threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Vec<(String, String)> {
        [
            ("你好", "greet"),
            ("hello", "greet"),
            ("hi there", "greet"),
            ("我要退货", "return"),
            ("I want to return it", "return"),
            ("退货怎么办", "return"),
        ]
        .iter()
        .map(|(t, l)| (t.to_string(), l.to_string()))
        .collect()
    }

    #[test]
    fn round_trips_and_detects_staleness() {
        let dir = std::env::temp_dir().join(format!("kefu-nlu-test-{}", std::process::id()));
        let path = dir.join("model.bin");
        let cfg = LexicalConfig::default();
        let m = LexicalIntentClassifier::train(&data(), &cfg, &mut |_| {}).unwrap();
        m.save(&path).unwrap();
        let fp = training_fingerprint(&data(), &cfg);
        let back = LexicalIntentClassifier::load_matching(&path, &fp).unwrap();
        assert_eq!(back.rank("我想退货", 2), m.rank("我想退货", 2));
        assert_eq!(back.rank("我想退货", 1)[0].name, "return");
        let mut other = data();
        other.push(("bye".into(), "goodbye".into()));
        let stale = LexicalIntentClassifier::load_matching(&path, &training_fingerprint(&other, &cfg));
        assert!(matches!(stale, Err(Error::ModelMismatch { .. })));
        std::fs::write(&path, b"garbage!garbage!").unwrap();
        assert!(matches!(LexicalIntentClassifier::load(&path), Err(Error::ModelMismatch { .. })));
        std::fs::write(&path, b"KEFUINT\n\xff\xff\xff\xff").unwrap();
        assert!(matches!(LexicalIntentClassifier::load(&path), Err(Error::ModelMismatch { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
