//! Binary model file.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `KEFULEX\0` |
//! | 4 | format version (`u32`) |
//! | 8 | payload length `P` (`u64`) |
//! | P | payload |
//! | 8 | FNV-1a 64 checksum of the payload |
//!
//! Payload: a `u32` length and a JSON header (configuration, labels, sizes, temperature),
//! then the feature keys (`u64` each, sorted), the idf values (`f32`), the class biases
//! (`f32`) and the feature-major weight matrix (`f32`).
//!
//! Loading reads the whole stream, then checks magic, version, length, checksum and every
//! size before building anything, so garbage or truncated input gives a typed error and
//! never a panic or a huge allocation.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::logreg::Linear;
use super::tfidf::Vectorizer;
use super::vectors::StaticVectors;
use super::{LexicalConfig, LexicalError, LexicalModel, PlainHead, WordVectors};

/// First bytes of every model file.
pub(crate) const MAGIC: &[u8; 8] = b"KEFULEX\0";
/// Format version written by this build (and the only one it reads).
pub(crate) const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    config: LexicalConfig,
    labels: Vec<String>,
    n_features: u64,
    n_classes: u64,
    temperature: f32,
    /// Present when the model uses static vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    plain: Option<PlainHead>,
}

pub(super) fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01B3);
    }
    h
}

fn put_f32s(out: &mut Vec<u8>, v: &[f32]) {
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

pub(crate) fn save(model: &LexicalModel, w: &mut dyn Write) -> Result<(), LexicalError> {
    let header = Header {
        config: model.config.clone(),
        labels: model.labels.clone(),
        n_features: model.vectorizer.len() as u64,
        n_classes: model.linear.k as u64,
        temperature: model.temperature,
        plain: model.plain.clone(),
    };
    let json = serde_json::to_vec(&header).map_err(|e| LexicalError::Corrupt(format!("cannot encode header: {e}")))?;
    let json_len = u32::try_from(json.len()).map_err(|_| LexicalError::Corrupt("header too large".into()))?;
    let v = &model.vectorizer;
    let mut payload = Vec::with_capacity(4 + json.len() + v.len() * 12 + (model.linear.w.len() + 64) * 4);
    payload.extend_from_slice(&json_len.to_le_bytes());
    payload.extend_from_slice(&json);
    for k in &v.keys {
        payload.extend_from_slice(&k.to_le_bytes());
    }
    put_f32s(&mut payload, &v.idf);
    put_f32s(&mut payload, &model.linear.b);
    put_f32s(&mut payload, &model.linear.w);
    w.write_all(MAGIC)?;
    w.write_all(&FORMAT_VERSION.to_le_bytes())?;
    w.write_all(&(payload.len() as u64).to_le_bytes())?;
    w.write_all(&payload)?;
    w.write_all(&fnv1a(&payload).to_le_bytes())?;
    w.flush()?;
    Ok(())
}

/// Bounds-checked reader over a byte slice.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], LexicalError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end {
            Some(e) => {
                let s = &self.data[self.pos..e];
                self.pos = e;
                Ok(s)
            }
            None => Err(LexicalError::Corrupt(format!("payload too short for {what}"))),
        }
    }

    fn u32(&mut self, what: &str) -> Result<u32, LexicalError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f32s(&mut self, n: usize, what: &str) -> Result<Vec<f32>, LexicalError> {
        let bytes = n.checked_mul(4).ok_or_else(|| LexicalError::Corrupt(format!("{what}: size overflow")))?;
        let b = self.take(bytes, what)?;
        let v: Vec<f32> = b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        if v.iter().any(|x| !x.is_finite()) {
            return Err(LexicalError::Corrupt(format!("{what}: non-finite value")));
        }
        Ok(v)
    }
}

fn u64_at(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

pub(crate) fn load(r: &mut dyn Read) -> Result<LexicalModel, LexicalError> {
    let mut data = Vec::new();
    r.read_to_end(&mut data)?;
    if data.len() < MAGIC.len() {
        return Err(if MAGIC.starts_with(&data) && !data.is_empty() {
            LexicalError::Truncated("stream ends inside the magic bytes".into())
        } else {
            LexicalError::BadMagic
        });
    }
    if &data[..8] != MAGIC {
        return Err(LexicalError::BadMagic);
    }
    if data.len() < 12 {
        return Err(LexicalError::Truncated("stream ends inside the version".into()));
    }
    let found = u32::from_le_bytes([data[8], data[9], data[10], data[11]]);
    if found != FORMAT_VERSION {
        return Err(LexicalError::UnsupportedVersion { found, supported: FORMAT_VERSION });
    }
    if data.len() < 20 {
        return Err(LexicalError::Truncated("stream ends inside the payload length".into()));
    }
    let plen = u64_at(&data[12..20]);
    let have = (data.len() - 20) as u64;
    if have < plen.saturating_add(8) {
        return Err(LexicalError::Truncated(format!(
            "payload of {plen} bytes plus checksum announced, {have} bytes present"
        )));
    }
    if have > plen + 8 {
        return Err(LexicalError::Corrupt("trailing bytes after the checksum".into()));
    }
    let plen = plen as usize;
    let payload = &data[20..20 + plen];
    let sum = u64_at(&data[20 + plen..]);
    if fnv1a(payload) != sum {
        return Err(LexicalError::Corrupt("checksum mismatch".into()));
    }
    parse_payload(payload)
}

fn parse_payload(payload: &[u8]) -> Result<LexicalModel, LexicalError> {
    let corrupt = |m: String| LexicalError::Corrupt(m);
    let mut c = Cursor { data: payload, pos: 0 };
    let hlen = c.u32("header length")? as usize;
    let hjson = c.take(hlen, "header")?;
    let header: Header = serde_json::from_slice(hjson).map_err(|e| corrupt(format!("bad header: {e}")))?;
    header.config.validate()?;
    let nf = usize::try_from(header.n_features).map_err(|_| corrupt("n_features".into()))?;
    let vectors = match header.config.word_vectors {
        WordVectors::Off => None,
        WordVectors::On => match StaticVectors::builtin() {
            Some(table) => Some(table?),
            None => {
                return Err(LexicalError::InvalidConfig(
                    "the model uses static vectors, but this build has none (feature `static-vectors`)".into(),
                ))
            }
        },
        WordVectors::Auto => return Err(corrupt("word_vectors must be resolved to on or off".into())),
    };
    let n_in = nf + vectors.map_or(0, |v| v.dim());
    let k = usize::try_from(header.n_classes).map_err(|_| corrupt("n_classes".into()))?;
    if k == 0 || header.labels.len() != k {
        return Err(corrupt(format!("{} labels for {k} classes", header.labels.len())));
    }
    if !(header.temperature.is_finite() && header.temperature > 0.0) {
        return Err(corrupt("temperature must be positive".into()));
    }
    let plain = header.plain;
    if let Some(p) = &plain {
        if p.bias.len() != k || !p.bias.iter().all(|b| b.is_finite()) {
            return Err(corrupt("n-gram head: bad bias".into()));
        }
        if !(p.inv_share.is_finite() && p.inv_share > 0.0 && p.temperature.is_finite() && p.temperature > 0.0) {
            return Err(corrupt("n-gram head: bad scale or temperature".into()));
        }
    }
    if plain.is_some() != vectors.is_some() {
        return Err(corrupt("n-gram head present without vectors or missing with them".into()));
    }
    let expected = nf
        .checked_mul(12)
        .and_then(|a| n_in.checked_mul(k).and_then(|w| w.checked_mul(4)).and_then(|b| a.checked_add(b)))
        .and_then(|a| a.checked_add(k * 4))
        .ok_or_else(|| corrupt("sizes overflow".into()))?;
    if payload.len() - c.pos != expected {
        return Err(corrupt(format!("payload holds {} bytes of arrays, sizes need {expected}", payload.len() - c.pos)));
    }
    let kb = c.take(nf * 8, "keys")?;
    let keys: Vec<u64> = kb.chunks_exact(8).map(u64_at).collect();
    if keys.windows(2).any(|w| w[0] >= w[1]) {
        return Err(corrupt("feature keys are not strictly increasing".into()));
    }
    let idf = c.f32s(nf, "idf")?;
    let b = c.f32s(k, "bias")?;
    let w = c.f32s(n_in * k, "weights")?;
    let cfg = header.config;
    let vectorizer = Vectorizer::from_parts(keys, idf, cfg.block_weights());
    Ok(LexicalModel {
        config: cfg,
        labels: header.labels,
        vectorizer,
        linear: Linear { k, w, b },
        temperature: header.temperature,
        vectors,
        plain,
    })
}
