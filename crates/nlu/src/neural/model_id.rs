//! A cheap content fingerprint of a model folder.
//!
//! The id ties artefacts trained on top of an encoder (intent heads, cached vectors) to the
//! exact encoder that produced their inputs. It is FNV-1a (64 bit) over:
//!
//! * a format tag (`kefu-neural-id-v1`), so the scheme can change later;
//! * the full bytes of `config.json`, `tokenizer.json` and, when present,
//!   `sentence_bert_config.json` and `1_Pooling/config.json` (a few hundred KiB at most);
//! * the size of `model.safetensors`, its whole JSON header (every tensor's name, dtype, shape
//!   and byte range), and 16 windows of 4 KiB spread evenly over the tensor data.
//!
//! Hashing all 90 MB of MiniLM's weights would cost ~100 ms per load with FNV; the sampled
//! scheme reads about 64 KiB of weights and still changes with any retraining (every tensor
//! moves) and any change of architecture, dtype or tokenizer. What it can miss is an edit
//! confined to bytes outside the sampled windows with an identical header — not something a
//! fine-tune or a re-export produces.

use std::path::Path;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Number of weight windows sampled.
const SAMPLES: u64 = 16;
/// Size of one sampled window.
const WINDOW: u64 = 4096;

/// Incremental FNV-1a, 64 bit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv64(u64);

impl Fnv64 {
    pub(crate) fn new() -> Self {
        Fnv64(FNV_OFFSET)
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    /// Writes a length-prefixed section, so that section boundaries matter.
    pub(crate) fn section(&mut self, tag: &str, bytes: &[u8]) {
        self.write(tag.as_bytes());
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
    }

    pub(crate) fn finish(self) -> u64 {
        self.0
    }
}

/// Hashes the safetensors part of the fingerprint from the file's bytes: size, header, and
/// [`SAMPLES`] windows of the data. `weights` is the whole file (already read for loading).
pub(crate) fn hash_safetensors(h: &mut Fnv64, weights: &[u8]) {
    let len = weights.len() as u64;
    h.section("safetensors-size", &len.to_le_bytes());
    let header_len = weights.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_le_bytes).unwrap_or(0);
    let data_start = 8u64.saturating_add(header_len).min(len);
    h.section("safetensors-header", &weights[..data_start as usize]);
    let data_len = len - data_start;
    for i in 0..SAMPLES {
        let at = data_start + data_len.saturating_sub(WINDOW) * i / (SAMPLES - 1);
        let end = (at + WINDOW).min(len);
        h.section("w", &weights[at as usize..end as usize]);
    }
}

/// Hashes one optional side file of the folder (absent files hash as a fixed marker).
pub(crate) fn hash_optional_file(h: &mut Fnv64, dir: &Path, rel: &str) {
    match std::fs::read(dir.join(rel)) {
        Ok(bytes) => h.section(rel, &bytes),
        Err(_) => h.section(rel, b"<absent>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_vectors() {
        let mut h = Fnv64::new();
        h.write(b"");
        assert_eq!(h.finish(), 0xcbf2_9ce4_8422_2325);
        let mut h = Fnv64::new();
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
        let mut h = Fnv64::new();
        h.write(b"foobar");
        assert_eq!(h.finish(), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn sampling_sees_data_changes_and_tolerates_tiny_files() {
        let mut file = vec![0u8; 8 + 2 + 100_000];
        file[..8].copy_from_slice(&2u64.to_le_bytes());
        file[8..10].copy_from_slice(b"{}");
        let base = {
            let mut h = Fnv64::new();
            hash_safetensors(&mut h, &file);
            h.finish()
        };
        *file.last_mut().unwrap_or(&mut 0) = 1;
        let mut h = Fnv64::new();
        hash_safetensors(&mut h, &file);
        assert_ne!(base, h.finish());
        for tiny in [&b""[..], &b"abc"[..], &[255u8; 12][..]] {
            let mut h = Fnv64::new();
            hash_safetensors(&mut h, tiny); // must not panic on garbage
        }
    }
}
