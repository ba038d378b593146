//! PII redaction for archived transcripts (pure functions, no I/O).
//!
//! [`redact_text`] replaces personal data in Chinese and English text with typed placeholders;
//! [`redact_json`] applies it to every free-text string of a JSON value (event envelopes, slot
//! values, entity texts), leaving structural fields (ids, names, timestamps) alone.
//!
//! Rules, applied in this order (each on the output of the previous one):
//!
//! | placeholder | what |
//! |---|---|
//! | `[EMAIL]` | `local@domain.tld` |
//! | `[ID_CARD]` | Chinese resident ID: 18 characters (6-digit region, valid birth date, 3-digit sequence, ISO 7064 MOD 11-2 check character `0-9X`) or the old 15-digit form (valid `YYMMDD` birth date) |
//! | `[BANK_CARD]` | 13–19 digits, optionally grouped by single spaces or dashes, passing the Luhn check |
//! | `[PHONE]` | Chinese mobiles `1[3-9]` + 9 digits (optional `+86`/`0086`, spaces or dashes as 3-4-4), landlines with an area code (`010-12345678`, `(0755) 8888 8888`, optional extension), international E.164 `+<country><number>` (8–15 digits), North-American `(415) 555-2671` / `415-555-2671` |
//! | `[ADDRESS]` | Chinese: a chain of at least two address components (province / city / district / 街道·镇·乡 / road 路·街·大道·巷·弄·胡同 / 号 / 小区·花园·大厦… / 栋·单元·室…) containing at least one below-district component; English: house number + street name + suffix (Street, St, Avenue, Ave, Road, Rd, Lane, Ln, Blvd, Drive…), optional unit (Apt, Suite, Unit, Floor, #…), optional city names, state and ZIP or 6-digit postal code |
//!
//! Numbers only count when they stand alone: a digit run glued to ASCII letters (`SO123456`,
//! `SF1234567890123`) is an order or tracking number and is never touched. Validation (check
//! digit, birth date, Luhn) keeps order numbers and timestamps out: an 18-digit order number
//! whose check character is wrong is not an ID card, a 16-digit number failing Luhn is not a
//! bank card.

use regex::Regex;
use std::sync::LazyLock;

/// Placeholder for e-mail addresses.
pub const EMAIL: &str = "[EMAIL]";
/// Placeholder for phone numbers.
pub const PHONE: &str = "[PHONE]";
/// Placeholder for Chinese resident ID-card numbers.
pub const ID_CARD: &str = "[ID_CARD]";
/// Placeholder for bank-card numbers.
pub const BANK_CARD: &str = "[BANK_CARD]";
/// Placeholder for postal addresses.
pub const ADDRESS: &str = "[ADDRESS]";

/// JSON object keys whose string values are identifiers or names, not free text: they are kept
/// as they are (the archive needs `user_id` to find a user's objects for deletion).
pub const STRUCTURAL_KEYS: &[&str] = &[
    "id",
    "tenant",
    "conversation_id",
    "user_id",
    "channel",
    "timestamp",
    "type",
    "language",
    "intent",
    "name",
    "slot",
    "flow",
    "action",
    "entry_id",
    "kind",
    "grain",
    "currency",
];

#[allow(clippy::expect_used)] // the patterns are constants, checked by the tests
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid redaction pattern")
}

static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}",
    )
});

static ID18_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}[01][0-9][0-3][0-9][0-9]{3}[0-9Xx]"));
static ID15_RE: LazyLock<Regex> = LazyLock::new(|| re(r"[1-9][0-9]{5}[0-9]{2}[01][0-9][0-3][0-9][0-9]{3}"));

/// Digit groups separated by single spaces or dashes (bank-card candidates are made of whole groups).
static DIGIT_RUN_RE: LazyLock<Regex> = LazyLock::new(|| re(r"[0-9]+(?:[ \-][0-9]+)*"));

static PHONE_RES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    vec![
        // Chinese mobile, optional +86 / 0086, 3-4-4 grouping.
        re(r"(?:(?:\+|00)86[ \-]?)?1[3-9][0-9][ \-]?[0-9]{4}[ \-]?[0-9]{4}"),
        // International E.164 with optional grouping: + country code, then digits.
        re(r"\+[1-9][0-9]{0,2}(?:[ \-]?\([0-9]{1,4}\))?(?:[ \-]?[0-9]{1,5}){2,6}"),
        // Chinese landline with area code, optional extension.
        re(
            r"(?:\(0[1-9][0-9]{1,2}\)|0[1-9][0-9]{1,2})[ \-]?[2-9][0-9]{2,3}[ \-]?[0-9]{4}(?:[ \-]?(?:转|ext\.?|x)[ \-]?[0-9]{1,6})?",
        ),
        // North-American: (415) 555-2671, 415-555-2671, 415.555.2671.
        re(r"(?:\([2-9][0-9]{2}\)[ ]?|[2-9][0-9]{2}[\-. ])[2-9][0-9]{2}[\-. ][0-9]{4}"),
    ]
});

/// Characters that may be part of a Chinese place name: Han characters other than pronouns,
/// particles and verbs that typically precede an address ("我住在", "寄到", "地址是").
const ZH_NAME: &str =
    r"[\p{Han}--[我你您他她它们的是在住到送寄收址请帮把往至给要想了呢吗吧啊和及与或从就还也都这那个]]";

static ZH_COMPONENT_RE: LazyLock<Regex> = LazyLock::new(|| {
    let n = ZH_NAME;
    let num = r"[0-9０-９一二三四五六七八九十百千零〇]";
    let alnum = r"[0-9０-９A-Za-z一二三四五六七八九十百零〇]";
    re(&format!(
        concat!(
            r"^(?:",
            r"(?P<province>{n}{{2,7}}(?:省|自治区|特别行政区))",
            r"|(?P<city>{n}{{2,4}}(?:市|地区|盟))",
            r"|(?P<subdistrict>{n}{{1,6}}(?:街道|镇|乡))",
            r"|(?P<district>{n}{{1,4}}(?:区|县|旗))",
            r"|(?P<community>{n}{{2,8}}(?:小区|花园|公寓|大厦|新村|家园|社区|广场|园区|村))",
            r"|(?P<road>(?:{n}|{alnum}){{1,8}}?(?:大道|大街|路|街|巷|弄|胡同))",
            r"|(?P<building>{alnum}{{1,6}}(?:号楼|号院|栋|幢|座|单元|楼|层|室|号|户))",
            r"|(?P<number>{num}{{1,6}}(?:-{num}{{1,6}})?号)",
            r")[ 　]?"
        ),
        n = n,
        num = num,
        alnum = alnum,
    ))
});

static EN_ADDRESS_RE: LazyLock<Regex> = LazyLock::new(|| {
    let suffix = r"(?i:street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|drive|dr|court|ct|place|pl|way|terrace|ter|parkway|pkwy|highway|hwy|circle|cir|square|sq|crescent|cres|close|alley|plaza)";
    let unit = r"(?i:apt|apartment|unit|suite|ste|flat|room|rm|floor|fl|#)";
    re(&format!(
        concat!(
            r"(?:{unit}\.?[ ]?#?[A-Za-z0-9\-]{{1,6}},?[ ]+)?",
            r"\b[0-9]{{1,6}}[A-Za-z]?(?:-[0-9]{{1,4}})?[ ]+",
            r"(?P<name>(?:[A-Za-z0-9][A-Za-z0-9'\-]*\.?[ ]+){{1,4}})",
            r"{suffix}\b\.?",
            r"(?:,?[ ]*{unit}\.?[ ]?#?[A-Za-z0-9\-]{{1,6}}\b)?",
            r"(?:,[ ]*[A-Z][A-Za-z]+(?:[ ][A-Z][A-Za-z]+){{0,2}}){{0,3}}",
            r"(?:,?[ ]*[A-Z]{{2}}\b)?",
            r"(?:,?[ ]*[0-9]{{5,6}}(?:-[0-9]{{4}})?\b)?"
        ),
        unit = unit,
        suffix = suffix,
    ))
});

/// Words that never make a street name ("3 days on the road" is no address).
const EN_STOPWORDS: &[&str] = &[
    "the", "a", "an", "on", "of", "in", "to", "at", "for", "by", "my", "your", "our", "his", "her", "their", "its",
    "this", "that", "these", "those", "and", "or", "but", "with", "from", "is", "are", "was", "were", "be", "been",
    "it", "i", "you", "we", "they", "me", "us", "them", "more", "less", "than", "days", "day", "hours", "hour",
    "minutes", "minute", "weeks", "week", "months", "month", "years", "year", "times", "items", "pairs", "pieces",
    "orders", "order", "yuan", "dollars", "usd", "rmb", "cny", "percent", "per", "all", "way",
];

/// Redacts personal data in one text. Pure and deterministic; text without PII is returned unchanged.
pub fn redact_text(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let mut s = EMAIL_RE.replace_all(text, EMAIL).into_owned();
    s = replace_validated(&s, &ID18_RE, ID_CARD, |t, m| standalone(t, m.0, m.1) && valid_id18(&t[m.0..m.1]));
    s = replace_validated(&s, &ID15_RE, ID_CARD, |t, m| standalone(t, m.0, m.1) && valid_id15(&t[m.0..m.1]));
    s = redact_bank_cards(&s);
    for r in PHONE_RES.iter() {
        s = replace_validated(&s, r, PHONE, |t, m| standalone(t, m.0, m.1) && phone_digits_ok(&t[m.0..m.1]));
    }
    s = redact_en_addresses(&s);
    redact_zh_addresses(&s)
}

/// Redacts every free-text string inside a JSON value, in place. Strings under the
/// [`STRUCTURAL_KEYS`] keep their value; object keys are never changed. A number whose digits
/// are a phone, ID-card or bank-card number (a slot value stored as a number) becomes the
/// placeholder string.
pub fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            let r = redact_text(s);
            if r != *s {
                *s = r;
            }
        }
        serde_json::Value::Number(n) => {
            if n.is_u64() || n.is_i64() {
                let digits = n.to_string();
                let r = redact_text(&digits);
                if r != digits {
                    *value = serde_json::Value::String(r);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if STRUCTURAL_KEYS.contains(&k.as_str()) && !v.is_object() && !v.is_array() {
                    continue;
                }
                redact_json(v);
            }
        }
        serde_json::Value::Null | serde_json::Value::Bool(_) => {}
    }
}

/// Replaces the matches of `re` accepted by `accept(text, (start, end))`. A rejected match is
/// retried one character further, so an accepted match overlapping a rejected one is still found.
fn replace_validated(
    text: &str,
    re: &Regex,
    placeholder: &str,
    accept: impl Fn(&str, (usize, usize)) -> bool,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut pos = 0;
    while pos < text.len() {
        let Some(m) = re.find_at(text, pos) else { break };
        if accept(text, (m.start(), m.end())) {
            out.push_str(&text[copied..m.start()]);
            out.push_str(placeholder);
            copied = m.end();
            pos = m.end();
        } else {
            pos = next_boundary(text, m.start());
        }
    }
    out.push_str(&text[copied..]);
    out
}

fn next_boundary(text: &str, i: usize) -> usize {
    let mut j = i + 1;
    while j < text.len() && !text.is_char_boundary(j) {
        j += 1;
    }
    j
}

/// A number stands alone when it is not glued to ASCII letters or digits (`SO123456`) and not
/// the continuation of a longer digit group (`…1234 5678` or `…1234-5678`).
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let before: Vec<char> = text[..start].chars().rev().take(2).collect();
    let after: Vec<char> = text[end..].chars().take(2).collect();
    let glued = |c: Option<&char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_');
    let continues = |sep: Option<&char>, next: Option<&char>| {
        sep.is_some_and(|c| *c == '-' || *c == '.') && next.is_some_and(|c| c.is_ascii_digit())
    };
    // A leading '+' belongs to the number only when the pattern took it.
    let plus_before = before.first() == Some(&'+');
    !glued(before.first())
        && !glued(after.first())
        && !plus_before
        && !continues(before.first(), before.get(1))
        && !continues(after.first(), after.get(1))
}

fn phone_digits_ok(m: &str) -> bool {
    let n = m.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&n)
}

/// ISO 7064 MOD 11-2 check character of the first 17 digits of an 18-character ID.
pub fn id_check_char(first17: &str) -> Option<char> {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.chars().zip(W) {
        sum += c.to_digit(10)? * w;
    }
    Some(['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize])
}

fn valid_date(y: i32, m: u32, d: u32) -> bool {
    chrono::NaiveDate::from_ymd_opt(y, m, d).is_some()
}

/// Whether an 18-character string is a valid Chinese resident ID number (birth date and check character).
pub fn valid_id18(s: &str) -> bool {
    if s.len() != 18 || !s.is_ascii() {
        return false;
    }
    let num = |a: usize, b: usize| s[a..b].parse::<u32>().ok();
    let (Some(y), Some(m), Some(d)) = (num(6, 10), num(10, 12), num(12, 14)) else { return false };
    if !(1900..=2100).contains(&y) || !valid_date(y as i32, m, d) {
        return false;
    }
    let last = s.as_bytes()[17].to_ascii_uppercase() as char;
    id_check_char(&s[..17]) == Some(last)
}

/// Whether a 15-digit string is a valid old-style (first generation) Chinese ID number.
pub fn valid_id15(s: &str) -> bool {
    if s.len() != 15 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let num = |a: usize, b: usize| s[a..b].parse::<u32>().ok();
    let (Some(y), Some(m), Some(d)) = (num(6, 8), num(8, 10), num(10, 12)) else { return false };
    valid_date(1900 + y as i32, m, d)
}

/// Luhn (mod 10) check over the digits of `s` (other characters ignored).
pub fn luhn_valid(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.is_empty() {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Bank cards: within each run of digit groups, the longest sequence of whole groups (leftmost
/// first) with 13–19 digits that passes Luhn.
fn redact_bank_cards(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for run in DIGIT_RUN_RE.find_iter(text) {
        let before = text[..run.start()].chars().next_back();
        let after = text[run.end()..].chars().next();
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if glued(before) || before == Some('+') || glued(after) {
            continue;
        }
        // Group spans (byte offsets within text).
        let mut groups = Vec::new();
        let mut start = None;
        for (i, c) in run.as_str().char_indices() {
            match (c.is_ascii_digit(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    groups.push((run.start() + s, run.start() + i));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            groups.push((run.start() + s, run.end()));
        }
        let mut g = 0;
        while g < groups.len() {
            let mut found = None;
            let mut digits = 0;
            let mut candidates = Vec::new();
            for (h, &(_, e)) in groups.iter().enumerate().skip(g) {
                digits += e - groups[h].0;
                if digits > 19 {
                    break;
                }
                if digits >= 13 {
                    candidates.push((h, e));
                }
            }
            for &(h, e) in candidates.iter().rev() {
                if luhn_valid(&text[groups[g].0..e]) {
                    found = Some((h, e));
                    break;
                }
            }
            match found {
                Some((h, e)) => {
                    out.push_str(&text[copied..groups[g].0]);
                    out.push_str(BANK_CARD);
                    copied = e;
                    g = h + 1;
                }
                None => g += 1,
            }
        }
    }
    out.push_str(&text[copied..]);
    out
}

fn redact_en_addresses(text: &str) -> String {
    replace_validated(text, &EN_ADDRESS_RE, ADDRESS, |t, (s, e)| {
        let Some(c) = EN_ADDRESS_RE.captures(&t[s..e]) else { return false };
        let name = c.name("name").map_or("", |m| m.as_str());
        let glued_before = t[..s].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
        !glued_before
            && name
                .split_whitespace()
                .map(|w| w.trim_end_matches('.').to_ascii_lowercase())
                .all(|w| !EN_STOPWORDS.contains(&w.as_str()))
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ZhKind {
    Admin,
    Local,
}

fn zh_component(rest: &str) -> Option<(usize, ZhKind)> {
    let c = ZH_COMPONENT_RE.captures(rest)?;
    let len = c.get(0)?.end();
    let admin = ["province", "city", "district"].iter().any(|g| c.name(g).is_some());
    Some((len, if admin { ZhKind::Admin } else { ZhKind::Local }))
}

/// Chinese addresses: the leftmost chain of at least two components with at least one
/// component below the district level (a road, number, community, building or room).
fn redact_zh_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < text.len() {
        let mut pos = i;
        let mut kinds = Vec::new();
        while let Some((len, kind)) = zh_component(&text[pos..]) {
            if len == 0 {
                break;
            }
            kinds.push(kind);
            pos += len;
        }
        if kinds.len() >= 2 && kinds.contains(&ZhKind::Local) {
            // Keep a trailing space out of the placeholder.
            let mut end = pos;
            while let Some(c) = text[i..end].chars().next_back().filter(|c| *c == ' ' || *c == '　') {
                end -= c.len_utf8();
            }
            out.push_str(&text[copied..i]);
            out.push_str(ADDRESS);
            copied = end;
            i = end;
        } else {
            i = next_boundary(text, i);
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact_text(s)
    }

    /// Builds a valid 18-character ID from its first 17 digits.
    fn id18(first17: &str) -> String {
        format!("{first17}{}", id_check_char(first17).unwrap())
    }

    #[test]
    fn emails() {
        assert_eq!(r("我的邮箱是zhang.san+shop@example.com.cn，谢谢"), "我的邮箱是[EMAIL]，谢谢");
        assert_eq!(r("mail me at John_Doe@mail.example.org."), "mail me at [EMAIL].");
        assert_eq!(r("no email @ here, or a@b"), "no email @ here, or a@b");
    }

    #[test]
    fn chinese_mobiles() {
        assert_eq!(r("手机13800138000"), "手机[PHONE]");
        assert_eq!(r("电话：138 0013 8000，谢谢"), "电话：[PHONE]，谢谢");
        assert_eq!(r("call +86 138-0013-8000 please"), "call [PHONE] please");
        assert_eq!(r("号码+8613912345678"), "号码[PHONE]");
        assert_eq!(r("0086 13912345678"), "[PHONE]");
        assert_eq!(r("两个号码 13800138000 13900139000"), "两个号码 [PHONE] [PHONE]");
        // Not a mobile: 12 (second digit 2), or digits glued to letters, or part of a longer number.
        assert_eq!(r("12800138000"), "12800138000");
        assert_eq!(r("订单SO13800138000"), "订单SO13800138000");
        assert_eq!(r("编号138001380001"), "编号138001380001");
    }

    #[test]
    fn landlines_and_international() {
        assert_eq!(r("座机010-62345678"), "座机[PHONE]");
        assert_eq!(r("请拨打(0755) 8888 8888转123"), "请拨打[PHONE]");
        assert_eq!(r("021 61234567"), "[PHONE]");
        assert_eq!(r("call +44 20 7946 0958 now"), "call [PHONE] now");
        assert_eq!(r("my number is +14155552671"), "my number is [PHONE]");
        assert_eq!(r("or (415) 555-2671 / 415-555-2671"), "or [PHONE] / [PHONE]");
        // Dates, times, prices, order numbers and short codes stay.
        assert_eq!(r("2026-11-26 10:30 退三百五十块 $12.50"), "2026-11-26 10:30 退三百五十块 $12.50");
        assert_eq!(r("验证码 123456"), "验证码 123456");
    }

    #[test]
    fn id_cards() {
        let id = id18("11010519491231002");
        assert_eq!(id, "11010519491231002X");
        assert_eq!(r(&format!("身份证号{id}")), "身份证号[ID_CARD]");
        assert_eq!(r(&format!("ID {} ok", id.to_lowercase())), "ID [ID_CARD] ok");
        let id2 = id18("44030419900307123");
        assert_eq!(r(&format!("证件：{id2}。")), "证件：[ID_CARD]。");
        // Old 15-digit form with a valid birth date (1990-03-07).
        assert_eq!(r("老身份证440304900307123"), "老身份证[ID_CARD]");
        // Wrong check character: not an ID (and this one fails Luhn too, so it stays).
        let wrong = wrong_check_not_luhn("44030419900307123");
        assert!(!valid_id18(&wrong));
        assert_eq!(r(&format!("订单号{wrong}")), format!("订单号{wrong}"));
        // Invalid birth date (Feb 30).
        let bad_date = id18("44030419900230123");
        assert!(!valid_id18(&bad_date));
    }

    /// An 18-digit order number that fails both the ID check character and Luhn.
    fn wrong_check_not_luhn(first17: &str) -> String {
        let good = id_check_char(first17).unwrap();
        for d in '0'..='9' {
            let s = format!("{first17}{d}");
            if d != good && !luhn_valid(&s) {
                return s;
            }
        }
        unreachable!()
    }

    #[test]
    fn bank_cards() {
        assert!(luhn_valid("4111111111111111"));
        assert!(!luhn_valid("4111111111111112"));
        assert_eq!(
            r("卡号6222021234567890128"),
            format!("卡号{}", if luhn_valid("6222021234567890128") { BANK_CARD } else { "6222021234567890128" })
        );
        assert_eq!(r("card 4111 1111 1111 1111 exp 12/28"), "card [BANK_CARD] exp 12/28");
        assert_eq!(r("card 4111-1111-1111-1111"), "card [BANK_CARD]");
        assert_eq!(r("卡号：4111111111111111，cvv 123"), "卡号：[BANK_CARD]，cvv 123");
        assert_eq!(r("card 4111111111111111 123"), "card [BANK_CARD] 123");
        assert_eq!(r("amex 3782 822463 10005"), "amex [BANK_CARD]");
        // 16 digits failing Luhn: not a card.
        assert_eq!(r("单号4111111111111112"), "单号4111111111111112");
        // Glued to letters: an order / tracking number.
        assert_eq!(r("运单SF4111111111111111"), "运单SF4111111111111111");
    }

    #[test]
    fn order_numbers_untouched() {
        for s in ["SO123456", "订单SO123456已发货", "order SO654321 please", "金额 350 元", "第3次", "退货 2 件"]
        {
            assert_eq!(r(s), s);
        }
    }

    #[test]
    fn chinese_addresses() {
        assert_eq!(r("地址：广东省深圳市南山区科技园路1号"), "地址：[ADDRESS]");
        assert_eq!(r("我住在上海市浦东新区张江路123号3栋502室，谢谢"), "我住在[ADDRESS]，谢谢");
        assert_eq!(r("寄到北京市朝阳区建国路88号"), "寄到[ADDRESS]");
        assert_eq!(r("送到阳光小区5栋2单元301室"), "送到[ADDRESS]");
        assert_eq!(r("例如「上海市浦东新区世纪大道100号 10楼 张三 13800138000」"), "例如「[ADDRESS] 张三 [PHONE]」");
        assert_eq!(r("杭州市西湖区文新街道"), "[ADDRESS]");
        assert_eq!(r("中山路100号"), "[ADDRESS]");
        // A city or district alone, a road name alone, a store or a metro line are not addresses.
        assert_eq!(r("我在北京市朝阳区"), "我在北京市朝阳区");
        assert_eq!(r("中山路店几点开门"), "中山路店几点开门");
        assert_eq!(r("坐地铁3号线"), "坐地铁3号线");
        assert_eq!(r("我要退货"), "我要退货");
        assert_eq!(r("请问退货的原因是什么？"), "请问退货的原因是什么？");
        assert_eq!(r("订单 SO123456（男款跑步鞋（42码））申请退货"), "订单 SO123456（男款跑步鞋（42码））申请退货");
    }

    #[test]
    fn english_addresses() {
        assert_eq!(r("ship to 742 Evergreen Terrace, Springfield please"), "ship to [ADDRESS] please");
        assert_eq!(r("I live at 221B Baker Street."), "I live at [ADDRESS]");
        assert_eq!(r("1600 Amphitheatre Pkwy, Mountain View, CA 94043"), "[ADDRESS]");
        assert_eq!(r("address: 350 5th Ave Suite 3300, New York, NY 10118"), "address: [ADDRESS]");
        assert_eq!(r("it's 12 main st apt 4b"), "it's [ADDRESS]");
        assert_eq!(r("Apt 5, 88 Century Avenue"), "[ADDRESS]");
        assert_eq!(
            r("e.g. 100 Century Ave, Floor 10, Pudong, Shanghai 200120, Zhang San, 13800138000."),
            "e.g. [ADDRESS], Zhang San, [PHONE]."
        );
        // Not addresses.
        assert_eq!(r("it took 3 days on the road"), "it took 3 days on the road");
        assert_eq!(r("I want to return 2 pairs of shoes"), "I want to return 2 pairs of shoes");
        assert_eq!(r("how long does shipping take?"), "how long does shipping take?");
        assert_eq!(r("order SO123456 is late"), "order SO123456 is late");
    }

    #[test]
    fn mixed_text() {
        let id = id18("32010619850615201");
        let text = format!("I'm Li Lei, phone 13912345678, email li@x.cn, ID {id}, card 4111 1111 1111 1111, 南京市鼓楼区中山北路200号");
        assert_eq!(r(&text), "I'm Li Lei, phone [PHONE], email [EMAIL], ID [ID_CARD], card [BANK_CARD], [ADDRESS]");
    }

    #[test]
    fn json_walk() {
        let id = id18("11010519491231002");
        let mut v = serde_json::json!({
            "id": "t/c/1/0", "tenant": "t", "conversation_id": "c", "user_id": "13800138000",
            "type": "slot_set", "slot": "phone", "value": {"value": "13800138000"},
            "previous": 13900139000u64,
            "entities": [{"kind": "phone", "start": 0, "end": 11, "text": "13800138000", "value": {"value": 13800138000u64}}],
            "text": format!("身份证 {id}"), "order": "SO123456", "amount": 350,
        });
        redact_json(&mut v);
        assert_eq!(v["user_id"], "13800138000", "identifiers are kept");
        assert_eq!(v["slot"], "phone");
        assert_eq!(v["value"]["value"], PHONE);
        assert_eq!(v["previous"], PHONE);
        assert_eq!(v["entities"][0]["text"], PHONE);
        assert_eq!(v["entities"][0]["value"]["value"], PHONE);
        assert_eq!(v["entities"][0]["kind"], "phone");
        assert_eq!(v["text"], "身份证 [ID_CARD]");
        assert_eq!(v["order"], "SO123456");
        assert_eq!(v["amount"], 350);
    }
}
