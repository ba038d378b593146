//! Phone numbers, e-mail addresses and URLs.

use serde_json::{json, Value};

use super::text::{at, is_alnum, Doc};
use super::value::Candidate;
use super::{EntityKind, ParseContext};

/// Scans phones, e-mails and URLs.
pub(crate) fn scan(doc: &Doc, ctx: &ParseContext, out: &mut Vec<Candidate>) {
    let c = &doc.c;
    if ctx.wants(EntityKind::Email) {
        emails(doc, out);
    }
    if ctx.wants(EntityKind::Url) {
        urls(doc, out);
    }
    if ctx.wants(EntityKind::Phone) {
        let mut i = 0;
        while i < c.len() {
            let ch = c[i];
            let starts = (ch == '+' || ch.is_ascii_digit() || ch == '(')
                && (i == 0 || !(is_alnum(c[i - 1]) || c[i - 1] == '+' || c[i - 1] == '.'));
            if starts {
                if let Some((e, v)) = phone_at(c, i) {
                    out.push(Candidate::new(EntityKind::Phone, i, e, json!({ "value": v })));
                    i = e;
                    continue;
                }
                // skip the rest of this digit run
                let mut j = i + 1;
                while j < c.len() && c[j].is_ascii_digit() {
                    j += 1;
                }
                i = j;
                continue;
            }
            i += 1;
        }
    }
}

fn is_local(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '%' | '+' | '-')
}

fn is_host(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || ch == '-' || ch == '.'
}

/// End of a host name starting at `i` with at least one dot and an alphabetic TLD.
fn host_end(c: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    while j < c.len() && is_host(c[j]) && j - i < 255 {
        j += 1;
    }
    while j > i && (c[j - 1] == '.' || c[j - 1] == '-') {
        j -= 1;
    }
    let host = &c[i..j];
    let dot = host.iter().rposition(|&x| x == '.')?;
    let tld = &host[dot + 1..];
    if tld.len() < 2 || !tld.iter().all(|x| x.is_ascii_alphabetic()) || dot == 0 {
        return None;
    }
    Some(j)
}

fn emails(doc: &Doc, out: &mut Vec<Candidate>) {
    let c = &doc.c;
    let mut last_end = 0;
    for at_pos in 0..c.len() {
        if c[at_pos] != '@' || at_pos < last_end {
            continue;
        }
        let mut s = at_pos;
        while s > last_end && is_local(doc.orig[s - 1]) && at_pos - s < 64 {
            s -= 1;
        }
        while s < at_pos && (c[s] == '.' || c[s] == '-') {
            s += 1;
        }
        if s == at_pos {
            continue;
        }
        let Some(e) = host_end(c, at_pos + 1) else {
            continue;
        };
        let local: String = doc.orig[s..at_pos].iter().collect();
        let host: String = c[at_pos + 1..e].iter().collect();
        out.push(Candidate::new(
            EntityKind::Email,
            s,
            e,
            json!({ "value": format!("{local}@{}", host.to_ascii_lowercase()) }),
        ));
        last_end = e;
    }
}

const TLDS: &[&str] = &[
    "com", "cn", "net", "org", "io", "edu", "gov", "co", "uk", "hk", "tw", "jp", "de", "fr", "info", "biz", "me", "ai",
    "app", "dev", "top", "xyz", "us", "sg", "au", "ca",
];

fn urls(doc: &Doc, out: &mut Vec<Candidate>) {
    let c = &doc.c;
    let mut i = 0;
    while i < c.len() {
        if i > 0 && (is_alnum(c[i - 1]) || c[i - 1] == '@' || c[i - 1] == '.') {
            i += 1;
            continue;
        }
        let scheme = if super::text::starts(c, i, "https://") {
            8
        } else if super::text::starts(c, i, "http://") {
            7
        } else {
            0
        };
        let host_start = i + scheme;
        if scheme == 0 && !c[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let Some(he) = host_end(c, host_start) else {
            i += 1;
            continue;
        };
        if at(c, he) == '@' {
            i = he + 1;
            continue;
        }
        let host: String = c[host_start..he].iter().collect();
        let www = host.starts_with("www.");
        let tld = host.rsplit('.').next().unwrap_or("");
        if scheme == 0 && !www && !TLDS.contains(&tld) {
            i = he.max(i + 1);
            continue;
        }
        if scheme == 0 && host.chars().all(|x| x.is_ascii_digit() || x == '.') {
            i = he.max(i + 1);
            continue;
        }
        // path, query, fragment
        let mut e = he;
        if at(c, e) == ':' && at(c, e + 1).is_ascii_digit() {
            e += 1;
            while at(c, e).is_ascii_digit() {
                e += 1;
            }
        }
        if matches!(at(c, e), '/' | '?' | '#') {
            while e < c.len() && is_url_char(doc.orig[e]) {
                e += 1;
            }
            while e > he && matches!(c[e - 1], '.' | ',' | ')' | ';' | ':' | '!' | '?' | '\'') {
                e -= 1;
            }
        }
        let text: String = doc.orig[i..e].iter().collect();
        let value = normalise_url(&text, scheme, he - i);
        out.push(Candidate::new(EntityKind::Url, i, e, json!({ "value": value })));
        i = e;
    }
}

fn is_url_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(ch)
}

/// Lower-cases scheme and host; keeps the path as written.
fn normalise_url(text: &str, _scheme: usize, host_end: usize) -> Value {
    let chars: Vec<char> = text.chars().collect();
    let split = host_end.min(chars.len());
    let head: String = chars[..split].iter().collect::<String>().to_ascii_lowercase();
    let tail: String = chars[split..].iter().collect();
    Value::String(format!("{head}{tail}"))
}

/// A phone number at `i`: (end, normalised value).
fn phone_at(c: &[char], i: usize) -> Option<(usize, String)> {
    // collect digit groups separated by single separators
    let mut j = i;
    let plus = at(c, j) == '+';
    if plus {
        j += 1;
    }
    let mut digits = String::new();
    let mut ends: Vec<(usize, usize)> = Vec::new(); // (end offset, digits so far)
    let mut paren = false;
    loop {
        if at(c, j) == '(' && !paren {
            paren = true;
            j += 1;
        }
        let g0 = j;
        while j < c.len() && c[j].is_ascii_digit() && digits.len() < 20 {
            digits.push(c[j]);
            j += 1;
        }
        if j == g0 {
            break;
        }
        if at(c, j).is_ascii_digit() {
            return None;
        }
        if at(c, j) == ')' && paren {
            j += 1;
        }
        ends.push((j, digits.len()));
        if digits.len() >= 20 || ends.len() > 6 {
            break;
        }
        let sep = at(c, j);
        if matches!(sep, ' ' | '-' | '.') && (at(c, j + 1).is_ascii_digit() || at(c, j + 1) == '(') {
            j += 1;
            continue;
        }
        if at(c, j) == '(' || at(c, j).is_ascii_digit() {
            continue;
        }
        break;
    }
    // try the longest prefix of groups that forms a phone number
    for &(e, n) in ends.iter().rev() {
        if at(c, e).is_ascii_alphanumeric() && !super::text::is_cjk(at(c, e)) {
            continue;
        }
        let d = &digits[..n];
        if let Some(v) = classify(d, plus, ends.len() > 1) {
            return Some((e, v));
        }
    }
    None
}

fn is_mobile(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
}

fn classify(d: &str, plus: bool, grouped: bool) -> Option<String> {
    if plus {
        if let Some(rest) = d.strip_prefix("86") {
            if is_mobile(rest) {
                return Some(format!("+86{rest}"));
            }
        }
        if (8..=15).contains(&d.len()) {
            return Some(format!("+{d}"));
        }
        return None;
    }
    if is_mobile(d) {
        return Some(format!("+86{d}"));
    }
    if let Some(rest) = d.strip_prefix("0086").or_else(|| d.strip_prefix("86")) {
        if is_mobile(rest) {
            return Some(format!("+86{rest}"));
        }
    }
    if d.starts_with('0') && !d.starts_with("00") && (10..=12).contains(&d.len()) && grouped {
        return Some(d.to_string());
    }
    if d.starts_with("00") && (10..=17).contains(&d.len()) {
        return Some(format!("+{}", &d[2..]));
    }
    if d.len() == 10 && grouped && !d.starts_with('0') {
        return Some(d.to_string());
    }
    None
}
