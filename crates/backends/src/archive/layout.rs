//! Object keys: `tenant=<t>/date=<YYYY-MM-DD>/<conversation>-<first turn>-<last turn>.jsonl.gz`.
//!
//! Tenant and conversation ids are escaped so that any id makes one safe key segment on every
//! store (local folders on Linux, macOS and Windows, S3, GCS): ASCII letters, digits, `_`, `.`
//! and `-` are kept; every other byte of the UTF-8 form becomes `!` and two upper-case hex
//! digits (`商城` → `!E5!95!86!E5!9F!8E`, `a/b` → `a!2Fb`, `!` → `!21`). `!` is one of the
//! characters S3 documents as safe and object_store does not re-encode it.

use super::ArchiveError;
use chrono::NaiveDate;

/// File-name suffix of every archived object.
pub const SUFFIX: &str = ".jsonl.gz";

/// Where one archived part of a conversation lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArchiveKey {
    /// Tenant (unescaped).
    pub tenant: String,
    /// UTC date of the part's first event.
    pub date: NaiveDate,
    /// Conversation id (unescaped).
    pub conversation_id: String,
    /// First turn in the object.
    pub first_turn: u64,
    /// Last turn in the object.
    pub last_turn: u64,
}

impl ArchiveKey {
    /// The object path, relative to the archive root.
    pub fn path(&self) -> String {
        format!("{}/{}", date_prefix(&self.tenant, self.date), self.file_name())
    }

    /// `<conversation>-<first>-<last>.jsonl.gz`, escaped.
    pub fn file_name(&self) -> String {
        format!("{}-{}-{}{SUFFIX}", escape(&self.conversation_id), self.first_turn, self.last_turn)
    }

    /// Parses an object path made by [`ArchiveKey::path`].
    pub fn parse(path: &str) -> Result<Self, ArchiveError> {
        let bad =
            |why: &str| ArchiveError::Corrupt { key: path.to_string(), reason: format!("not an archive key: {why}") };
        let mut parts = path.split('/');
        let (Some(t), Some(d), Some(f), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected tenant=…/date=…/file"));
        };
        let tenant = t.strip_prefix("tenant=").and_then(unescape).ok_or_else(|| bad("tenant segment"))?;
        let date = d
            .strip_prefix("date=")
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| bad("date segment"))?;
        let stem = f.strip_suffix(SUFFIX).ok_or_else(|| bad("suffix"))?;
        let mut it = stem.rsplitn(3, '-');
        let (Some(last), Some(first), Some(conv)) = (it.next(), it.next(), it.next()) else {
            return Err(bad("file name"));
        };
        let last_turn = last.parse().map_err(|_| bad("last turn"))?;
        let first_turn = first.parse().map_err(|_| bad("first turn"))?;
        let conversation_id = unescape(conv).ok_or_else(|| bad("conversation segment"))?;
        Ok(Self { tenant, date, conversation_id, first_turn, last_turn })
    }
}

impl std::fmt::Display for ArchiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path())
    }
}

/// `tenant=<t>`.
pub fn tenant_prefix(tenant: &str) -> String {
    format!("tenant={}", escape(tenant))
}

/// `tenant=<t>/date=<YYYY-MM-DD>`.
pub fn date_prefix(tenant: &str, date: NaiveDate) -> String {
    format!("{}/date={}", tenant_prefix(tenant), date.format("%Y-%m-%d"))
}

/// Escapes an id into a safe key segment (see the module documentation).
pub fn escape(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("!{b:02X}"));
        }
    }
    if out.is_empty() {
        // An empty id still needs a visible segment; a lone `!` is no escape sequence.
        out.push('!');
    }
    out
}

/// Reverses [`escape`]; `None` for a malformed segment.
pub fn unescape(segment: &str) -> Option<String> {
    if segment == "!" {
        return Some(String::new());
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'!' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escape_round_trips() {
        for id in ["shop", "商城", "a/b", "../x", "t=1", "a b%c", "x!y", "conv-42-1", "", "a.b_c-d"] {
            let e = escape(id);
            assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-!".contains(&b)), "{e}");
            assert_eq!(unescape(&e).as_deref(), Some(id));
        }
        assert_eq!(escape("商城"), "!E5!95!86!E5!9F!8E");
        assert_eq!(escape("a/b"), "a!2Fb");
    }

    #[test]
    fn keys_round_trip() {
        let k = ArchiveKey {
            tenant: "商城/1".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            conversation_id: "conv-42-x".into(),
            first_turn: 1,
            last_turn: 12,
        };
        assert_eq!(k.path(), "tenant=!E5!95!86!E5!9F!8E!2F1/date=2026-11-26/conv-42-x-1-12.jsonl.gz");
        assert_eq!(ArchiveKey::parse(&k.path()).unwrap(), k);
        assert!(ArchiveKey::parse("tenant=a/date=2026-13-01/c-1-2.jsonl.gz").is_err());
        assert!(ArchiveKey::parse("tenant=a/date=2026-01-01/c-1.jsonl.gz").is_err());
        assert!(ArchiveKey::parse("other/file").is_err());
    }
}
