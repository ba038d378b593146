//! AES-256-GCM encryption at rest.
//!
//! An encrypted object is `header || ciphertext || tag`:
//!
//! | bytes | content |
//! |---|---|
//! | 0..4 | magic `KFAR` |
//! | 4 | format version, `1` |
//! | 5..17 | 96-bit nonce, random per object (OS random generator) |
//! | 17.. | AES-256-GCM ciphertext of the gzip stream, then the 16-byte tag |
//!
//! The associated data is the 17-byte header followed by the object's key (its path under the
//! archive root), so a ciphertext copied or moved to another key, a changed header or a
//! flipped bit all fail authentication. A plain (unencrypted) object starts with the gzip
//! magic `1f 8b` instead.

use super::ArchiveError;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;

/// Magic bytes of an encrypted object.
pub const MAGIC: &[u8; 4] = b"KFAR";
/// Current format version.
pub const VERSION: u8 = 1;
/// Header length: magic, version, nonce.
pub const HEADER_LEN: usize = 4 + 1 + 12;
const TAG_LEN: usize = 16;

/// A 256-bit key. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct EncryptionKey(Aes256Gcm);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(<redacted>)")
    }
}

impl EncryptionKey {
    /// From raw bytes (must be 32).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ArchiveError> {
        let cipher = Aes256Gcm::new_from_slice(bytes)
            .map_err(|_| ArchiveError::KeyLength { var: String::new(), len: bytes.len() })?;
        Ok(Self(cipher))
    }

    /// From the base64 text of 32 bytes (standard alphabet, padding optional); `var` names its
    /// source for error messages.
    pub fn from_base64(text: &str, var: &str) -> Result<Self, ArchiveError> {
        let t = text.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(t)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
            .map_err(|_| ArchiveError::KeyEncoding { var: var.to_string() })?;
        Self::from_bytes(&bytes).map_err(|_| ArchiveError::KeyLength { var: var.to_string(), len: bytes.len() })
    }

    /// Reads the key from the environment variable `var` (looked up with `lookup`).
    pub fn from_env_var(var: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ArchiveError> {
        let value = lookup(var)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ArchiveError::MissingKey { var: var.to_string() })?;
        Self::from_base64(&value, var)
    }

    /// Encrypts `plain` for the object at `key_path`.
    pub fn seal(&self, plain: &[u8], key_path: &str) -> Result<Vec<u8>, ArchiveError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let mut out = Vec::with_capacity(HEADER_LEN + plain.len() + TAG_LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        let aad = [&out[..HEADER_LEN], key_path.as_bytes()].concat();
        let sealed = self
            .0
            .encrypt(&nonce, Payload { msg: plain, aad: &aad })
            .map_err(|_| ArchiveError::Corrupt { key: key_path.to_string(), reason: "encryption failed".into() })?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts an object made by [`EncryptionKey::seal`] for `key_path`.
    pub fn open(&self, object: &[u8], key_path: &str) -> Result<Vec<u8>, ArchiveError> {
        if !is_encrypted(object) {
            return Err(ArchiveError::Corrupt {
                key: key_path.to_string(),
                reason: "not an encrypted archive object".into(),
            });
        }
        if object.len() < HEADER_LEN + TAG_LEN {
            return Err(ArchiveError::Corrupt {
                key: key_path.to_string(),
                reason: "truncated encrypted object".into(),
            });
        }
        if object[4] != VERSION {
            return Err(ArchiveError::Corrupt {
                key: key_path.to_string(),
                reason: format!("unsupported encryption format version {}", object[4]),
            });
        }
        let nonce = Nonce::from_slice(&object[5..HEADER_LEN]);
        let aad = [&object[..HEADER_LEN], key_path.as_bytes()].concat();
        self.0
            .decrypt(nonce, Payload { msg: &object[HEADER_LEN..], aad: &aad })
            .map_err(|_| ArchiveError::Decrypt { key: key_path.to_string() })
    }
}

/// Whether an object starts with the encryption magic.
pub fn is_encrypted(object: &[u8]) -> bool {
    object.starts_with(MAGIC)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(b: u8) -> EncryptionKey {
        EncryptionKey::from_bytes(&[b; 32]).unwrap()
    }

    #[test]
    fn round_trip_and_failures() {
        let k = key(7);
        let sealed = k.seal(b"hello", "a/b").unwrap();
        assert_eq!(&sealed[..4], MAGIC);
        assert_eq!(sealed.len(), HEADER_LEN + 5 + 16);
        assert_eq!(k.open(&sealed, "a/b").unwrap(), b"hello");
        // Fresh nonce every time.
        assert_ne!(k.seal(b"hello", "a/b").unwrap()[5..17], sealed[5..17]);
        assert!(matches!(key(8).open(&sealed, "a/b"), Err(ArchiveError::Decrypt { .. })));
        assert!(matches!(k.open(&sealed, "a/c"), Err(ArchiveError::Decrypt { .. })), "moved object");
        for i in [5, HEADER_LEN, sealed.len() - 1] {
            let mut t = sealed.clone();
            t[i] ^= 1;
            assert!(matches!(k.open(&t, "a/b"), Err(ArchiveError::Decrypt { .. })), "flip at {i}");
        }
        let mut v = sealed.clone();
        v[4] = 9;
        assert!(matches!(k.open(&v, "a/b"), Err(ArchiveError::Corrupt { .. })));
        assert!(matches!(k.open(&sealed[..20], "a/b"), Err(ArchiveError::Corrupt { .. })));
    }

    #[test]
    fn key_parsing() {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert!(EncryptionKey::from_base64(&b64, "K").is_ok());
        assert!(EncryptionKey::from_base64(b64.trim_end_matches('='), "K").is_ok());
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        assert!(matches!(EncryptionKey::from_base64(&short, "K"), Err(ArchiveError::KeyLength { len: 16, .. })));
        assert!(matches!(EncryptionKey::from_base64("not base64!!", "K"), Err(ArchiveError::KeyEncoding { .. })));
        assert!(matches!(EncryptionKey::from_env_var("K", |_| None), Err(ArchiveError::MissingKey { .. })));
        let dbg = format!("{:?}", EncryptionKey::from_base64(&b64, "K").unwrap());
        assert!(!dbg.contains(&b64) && dbg.contains("redacted"));
    }
}
