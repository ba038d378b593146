//! Archive configuration, from YAML or environment variables.
//!
//! ```yaml
//! store:
//!   kind: s3                                # or: { kind: local, path: data/archive }
//!   endpoint: http://127.0.0.1:9000         # omit for AWS
//!   bucket: kefu-archive
//!   region: us-east-1
//!   access_key_id: AKIAEXAMPLE              # omit to use the AWS_* environment / instance role
//!   secret_access_key_env: KEFU_S3_SECRET   # the variable holding the secret, never the secret
//!   allow_http: true                        # tests and private networks only
//! redact: true                              # default true
//! encryption_key_env: KEFU_ARCHIVE_KEY      # optional: base64 of 32 bytes, enables AES-256-GCM
//! ```
//!
//! The configuration holds only the *names* of the variables that hold secrets, so it can be
//! logged and checked in; the secrets are read when the archive is opened and never logged.

use super::ArchiveError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where and how transcripts are archived.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveConfig {
    /// The object store.
    pub store: StoreConfig,
    /// Redact personal data (phones, e-mails, ID cards, bank cards, addresses) before writing.
    #[serde(default = "yes")]
    pub redact: bool,
    /// Name of the environment variable holding the base64 of a 32-byte AES-256-GCM key.
    /// Absent: objects are stored unencrypted (gzip only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key_env: Option<String>,
}

fn yes() -> bool {
    true
}

fn default_region() -> String {
    "us-east-1".to_string()
}

fn default_retries() -> usize {
    3
}

/// The object store behind the archive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StoreConfig {
    /// A local folder (created if missing).
    Local {
        /// The folder.
        path: PathBuf,
    },
    /// An S3-compatible object store (AWS S3, MinIO, Ceph, moto…), path-style requests.
    S3 {
        /// Endpoint URL (`http://127.0.0.1:9000`); absent for AWS itself.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
        /// Bucket (must exist).
        bucket: String,
        /// Region.
        #[serde(default = "default_region")]
        region: String,
        /// Access key id; absent to take credentials from the `AWS_*` environment or the instance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_key_id: Option<String>,
        /// Name of the environment variable holding the secret access key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_access_key_env: Option<String>,
        /// Allow plain-HTTP endpoints (tests, private networks).
        #[serde(default)]
        allow_http: bool,
        /// Retries of a failed request (with backoff) before reporting the store unavailable.
        #[serde(default = "default_retries")]
        max_retries: usize,
    },
}

impl ArchiveConfig {
    /// A local-folder archive with redaction on and no encryption.
    pub fn local(path: impl Into<PathBuf>) -> Self {
        Self { store: StoreConfig::Local { path: path.into() }, redact: true, encryption_key_env: None }
    }

    /// Parses YAML.
    pub fn from_yaml(text: &str) -> Result<Self, ArchiveError> {
        let c: Self = serde_yaml::from_str(text).map_err(|e| ArchiveError::Config(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    /// Reads a YAML file.
    pub fn from_yaml_file(path: &std::path::Path) -> Result<Self, ArchiveError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ArchiveError::Config(format!("{}: {e}", path.display())))?;
        Self::from_yaml(&text).map_err(|e| match e {
            ArchiveError::Config(m) => ArchiveError::Config(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Reads the process environment (see [`ArchiveConfig::from_env_with`]).
    pub fn from_env() -> Result<Self, ArchiveError> {
        Self::from_env_with(|k| std::env::var(k).ok())
    }

    /// Builds the configuration from `KEFU_ARCHIVE_*` variables, looked up with `var`:
    /// `KEFU_ARCHIVE_STORE` (`local`, the default, or `s3`), `KEFU_ARCHIVE_PATH` (local),
    /// `KEFU_ARCHIVE_S3_ENDPOINT`, `KEFU_ARCHIVE_S3_BUCKET`, `KEFU_ARCHIVE_S3_REGION`,
    /// `KEFU_ARCHIVE_S3_ACCESS_KEY_ID`, `KEFU_ARCHIVE_S3_SECRET_ACCESS_KEY_ENV`,
    /// `KEFU_ARCHIVE_S3_ALLOW_HTTP`, `KEFU_ARCHIVE_S3_MAX_RETRIES`, `KEFU_ARCHIVE_REDACT`
    /// (`true`/`false`), `KEFU_ARCHIVE_ENCRYPTION_KEY_ENV`.
    pub fn from_env_with(var: impl Fn(&str) -> Option<String>) -> Result<Self, ArchiveError> {
        let get = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let flag = |k: &str, default: bool| -> Result<bool, ArchiveError> {
            match get(k).map(|v| v.trim().to_ascii_lowercase()) {
                None => Ok(default),
                Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
                Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
                Some(v) => Err(ArchiveError::Config(format!("{k}: expected true or false, got `{v}`"))),
            }
        };
        let store = match get("KEFU_ARCHIVE_STORE").as_deref().map(str::trim) {
            None | Some("local") => StoreConfig::Local {
                path: get("KEFU_ARCHIVE_PATH")
                    .ok_or_else(|| ArchiveError::Config("KEFU_ARCHIVE_PATH is not set".into()))?
                    .into(),
            },
            Some("s3") => StoreConfig::S3 {
                endpoint: get("KEFU_ARCHIVE_S3_ENDPOINT"),
                bucket: get("KEFU_ARCHIVE_S3_BUCKET")
                    .ok_or_else(|| ArchiveError::Config("KEFU_ARCHIVE_S3_BUCKET is not set".into()))?,
                region: get("KEFU_ARCHIVE_S3_REGION").unwrap_or_else(default_region),
                access_key_id: get("KEFU_ARCHIVE_S3_ACCESS_KEY_ID"),
                secret_access_key_env: get("KEFU_ARCHIVE_S3_SECRET_ACCESS_KEY_ENV"),
                allow_http: flag("KEFU_ARCHIVE_S3_ALLOW_HTTP", false)?,
                max_retries: match get("KEFU_ARCHIVE_S3_MAX_RETRIES") {
                    None => default_retries(),
                    Some(v) => v.trim().parse().map_err(|_| {
                        ArchiveError::Config(format!("KEFU_ARCHIVE_S3_MAX_RETRIES: not a number: `{v}`"))
                    })?,
                },
            },
            Some(other) => {
                return Err(ArchiveError::Config(format!(
                    "KEFU_ARCHIVE_STORE: expected `local` or `s3`, got `{other}`"
                )))
            }
        };
        let c = Self {
            store,
            redact: flag("KEFU_ARCHIVE_REDACT", true)?,
            encryption_key_env: get("KEFU_ARCHIVE_ENCRYPTION_KEY_ENV"),
        };
        c.validate()?;
        Ok(c)
    }

    /// Checks what can be checked without the environment or the network.
    pub fn validate(&self) -> Result<(), ArchiveError> {
        let bad = |m: &str| Err(ArchiveError::Config(m.to_string()));
        match &self.store {
            StoreConfig::Local { path } if path.as_os_str().is_empty() => return bad("store.path is empty"),
            StoreConfig::S3 { bucket, .. } if bucket.trim().is_empty() => return bad("store.bucket is empty"),
            StoreConfig::S3 { endpoint: Some(e), .. } if !(e.starts_with("http://") || e.starts_with("https://")) => {
                return bad("store.endpoint must start with http:// or https://")
            }
            StoreConfig::S3 { endpoint: Some(e), allow_http: false, .. } if e.starts_with("http://") => {
                return bad("store.endpoint is plain http: set allow_http: true (tests and private networks only)")
            }
            StoreConfig::S3 { access_key_id: Some(_), secret_access_key_env: None, .. } => {
                return bad("store.access_key_id needs store.secret_access_key_env (the variable holding the secret)")
            }
            _ => {}
        }
        if self.encryption_key_env.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return bad("encryption_key_env is empty");
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn yaml_local_and_s3() {
        let c = ArchiveConfig::from_yaml("store: {kind: local, path: /tmp/a}\n").unwrap();
        assert_eq!(c, ArchiveConfig::local("/tmp/a"));
        let c = ArchiveConfig::from_yaml(
            "store:\n  kind: s3\n  endpoint: http://127.0.0.1:9000\n  bucket: b\n  access_key_id: k\n  secret_access_key_env: S\n  allow_http: true\nredact: false\nencryption_key_env: K\n",
        )
        .unwrap();
        assert!(!c.redact);
        assert_eq!(c.encryption_key_env.as_deref(), Some("K"));
        let StoreConfig::S3 { region, max_retries, allow_http, .. } = &c.store else { panic!() };
        assert_eq!((region.as_str(), *max_retries, *allow_http), ("us-east-1", 3, true));
    }

    #[test]
    fn bad_yaml_is_a_config_error() {
        for y in [
            "store: {kind: ftp, path: x}",
            "store: {kind: local, path: x}\nunknown: 1",
            "store: {kind: s3, bucket: ''}",
            "store: {kind: s3, bucket: b, endpoint: 'http://x'}",
            "store: {kind: s3, bucket: b, endpoint: 'ftp://x', allow_http: true}",
            "store: {kind: s3, bucket: b, access_key_id: k}",
            "store: {kind: local, path: x}\nencryption_key_env: ''",
        ] {
            assert!(matches!(ArchiveConfig::from_yaml(y), Err(ArchiveError::Config(_))), "{y}");
        }
    }

    #[test]
    fn from_env() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let c = ArchiveConfig::from_env_with(env(&[("KEFU_ARCHIVE_PATH", "/data/a"), ("KEFU_ARCHIVE_REDACT", "no")]))
            .unwrap();
        assert_eq!(c.store, StoreConfig::Local { path: "/data/a".into() });
        assert!(!c.redact);
        let c = ArchiveConfig::from_env_with(env(&[
            ("KEFU_ARCHIVE_STORE", "s3"),
            ("KEFU_ARCHIVE_S3_BUCKET", "b"),
            ("KEFU_ARCHIVE_S3_ENDPOINT", "http://h:1"),
            ("KEFU_ARCHIVE_S3_ALLOW_HTTP", "true"),
            ("KEFU_ARCHIVE_ENCRYPTION_KEY_ENV", "K"),
        ]))
        .unwrap();
        assert!(matches!(c.store, StoreConfig::S3 { allow_http: true, .. }));
        assert!(matches!(ArchiveConfig::from_env_with(env(&[])), Err(ArchiveError::Config(_))));
        assert!(matches!(
            ArchiveConfig::from_env_with(env(&[("KEFU_ARCHIVE_PATH", "x"), ("KEFU_ARCHIVE_REDACT", "maybe")])),
            Err(ArchiveError::Config(_))
        ));
    }
}
