//! Amounts of money with ISO 4217 currencies: ¥350, 三百五十元, 两毛五, "$12.50",
//! "20 dollars 43 cents", ranges ("100到200元", "between $10 and $20") and
//! bounds ("under 50 bucks", "至少三块").

use once_cell::sync::Lazy;
use serde_json::{Map, Value};

use super::lexicon::Lexicon;
use super::number_en::read_word;
use super::numeral::{number_at, Num};
use super::text::{at, is_cjk, skip_ws, word_start, Doc};
use super::value::{num, Candidate};
use super::{EntityKind, Lang};

/// A currency marker: ISO code (empty = unnamed) and multiplier (0.01 for cents).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cur {
    code: &'static str,
    mult: f64,
}

const fn cur(code: &'static str) -> Cur {
    Cur { code, mult: 1.0 }
}

const fn cents(code: &'static str) -> Cur {
    Cur { code, mult: 0.01 }
}

/// Markers written before the number.
static PREFIX: Lazy<Lexicon<Cur>> = Lazy::new(|| {
    Lexicon::new(&[
        ("$", cur("USD")),
        ("us$", cur("USD")),
        ("usd", cur("USD")),
        ("€", cur("EUR")),
        ("eur", cur("EUR")),
        ("£", cur("GBP")),
        ("gbp", cur("GBP")),
        ("¥", cur("CNY")),
        ("\u{FFE5}", cur("CNY")),
        ("rmb", cur("CNY")),
        ("cny", cur("CNY")),
        ("人民币", cur("CNY")),
        ("人民幣", cur("CNY")),
        ("港币", cur("HKD")),
        ("港幣", cur("HKD")),
        ("港元", cur("HKD")),
        ("hkd", cur("HKD")),
        ("hk$", cur("HKD")),
        ("美元", cur("USD")),
        ("美金", cur("USD")),
        ("欧元", cur("EUR")),
        ("歐元", cur("EUR")),
        ("rs.", cur("INR")),
        ("rs", cur("INR")),
        ("inr", cur("INR")),
        ("cad", cur("CAD")),
        ("chf", cur("CHF")),
        ("jpy", cur("JPY")),
        ("aud", cur("AUD")),
        ("sgd", cur("SGD")),
        ("twd", cur("TWD")),
        ("nt$", cur("TWD")),
        ("krw", cur("KRW")),
        ("kwd", cur("KWD")),
        ("myr", cur("MYR")),
        ("rm", cur("MYR")),
        ("ringgit", cur("MYR")),
        ("ringgits", cur("MYR")),
        ("malaysia ringgit", cur("MYR")),
        ("malaysian ringgit", cur("MYR")),
        ("malaysia ringgits", cur("MYR")),
        ("malaysian ringgits", cur("MYR")),
        ("uah", cur("UAH")),
        ("ils", cur("ILS")),
        ("mnt", cur("MNT")),
        ("egp", cur("EGP")),
        ("sar", cur("SAR")),
        ("qar", cur("QAR")),
    ])
});

/// Markers written after the number.
static SUFFIX: Lazy<Lexicon<Cur>> = Lazy::new(|| {
    Lexicon::new(&[
        ("$", cur("USD")),
        ("us$", cur("USD")),
        ("usd", cur("USD")),
        ("dollar", cur("USD")),
        ("dollars", cur("USD")),
        ("cent", cents("USD")),
        ("cents", cents("USD")),
        ("c", cents("USD")),
        ("¢", cents("USD")),
        ("penny", cents("USD")),
        ("pennies", cents("USD")),
        ("€", cur("EUR")),
        ("€ur", cur("EUR")),
        ("eur", cur("EUR")),
        ("euro", cur("EUR")),
        ("euros", cur("EUR")),
        ("£", cur("GBP")),
        ("gbp", cur("GBP")),
        ("pound", cur("GBP")),
        ("pounds", cur("GBP")),
        ("pence", cents("GBP")),
        ("rs", cur("INR")),
        ("rupee", cur("INR")),
        ("rupees", cur("INR")),
        ("inr", cur("INR")),
        ("cad", cur("CAD")),
        ("chf", cur("CHF")),
        ("cny", cur("CNY")),
        ("rmb", cur("CNY")),
        ("yuan", cur("CNY")),
        ("renminbi", cur("CNY")),
        ("jpy", cur("JPY")),
        ("yen", cur("JPY")),
        ("hkd", cur("HKD")),
        ("bucks", cur("")),
        ("buck", cur("")),
        ("kwd", cur("KWD")),
        ("kuwaiti dinar", cur("KWD")),
        ("kuwaiti dinars", cur("KWD")),
        ("dinar", cur("")),
        ("dinars", cur("")),
        ("lbp", cur("LBP")),
        ("lebanese pound", cur("LBP")),
        ("lebanese pounds", cur("LBP")),
        ("egp", cur("EGP")),
        ("egyptianpound", cur("EGP")),
        ("egyptian pound", cur("EGP")),
        ("egyptian pounds", cur("EGP")),
        ("le", cur("EGP")),
        ("l.e", cur("EGP")),
        ("l.e.", cur("EGP")),
        ("geneh", cur("EGP")),
        ("genihat masriya", cur("EGP")),
        ("qar", cur("QAR")),
        ("qatari riyal", cur("QAR")),
        ("qatari riyals", cur("QAR")),
        ("sar", cur("SAR")),
        ("saudiriyal", cur("SAR")),
        ("saudi riyal", cur("SAR")),
        ("saudi riyals", cur("SAR")),
        ("riyal", cur("")),
        ("riyals", cur("")),
        ("rial", cur("")),
        ("rials", cur("")),
        ("bgn", cur("BGN")),
        ("myr", cur("MYR")),
        ("rm", cur("MYR")),
        ("ringgit", cur("MYR")),
        ("ringgits", cur("MYR")),
        ("malaysia ringgit", cur("MYR")),
        ("malaysian ringgit", cur("MYR")),
        ("malaysia ringgits", cur("MYR")),
        ("malaysian ringgits", cur("MYR")),
        ("sen", cents("MYR")),
        ("sens", cents("MYR")),
        ("ils", cur("ILS")),
        ("shekel", cur("ILS")),
        ("shekels", cur("ILS")),
        ("mnt", cur("MNT")),
        ("tugrik", cur("MNT")),
        ("tugriks", cur("MNT")),
        ("uah", cur("UAH")),
        ("hryvnia", cur("UAH")),
        ("kopiyka", cents("UAH")),
        ("kopiykas", cents("UAH")),
        ("aud", cur("AUD")),
        ("sgd", cur("SGD")),
        ("人民币", cur("CNY")),
        ("人民幣", cur("CNY")),
        ("港币", cur("HKD")),
        ("港幣", cur("HKD")),
        ("港元", cur("HKD")),
        ("美元", cur("USD")),
        ("美金", cur("USD")),
        ("欧元", cur("EUR")),
        ("歐元", cur("EUR")),
        ("英镑", cur("GBP")),
        ("英鎊", cur("GBP")),
        ("日元", cur("JPY")),
        ("日圆", cur("JPY")),
        ("日圓", cur("JPY")),
        ("韩元", cur("KRW")),
        ("韓元", cur("KRW")),
        ("澳元", cur("AUD")),
        ("加元", cur("CAD")),
        ("新台币", cur("TWD")),
        ("新台幣", cur("TWD")),
        ("台币", cur("TWD")),
        ("台幣", cur("TWD")),
        ("卢布", cur("RUB")),
        ("盧布", cur("RUB")),
    ])
});

/// Chinese unit characters: value multiplier; 块/元 name CNY.
fn zh_unit(c: &[char], i: usize) -> Option<(f64, usize)> {
    match at(c, i) {
        '元' | '圆' | '圓' => Some((1.0, i + 1)),
        '块' | '塊' => {
            if at(c, i + 1) == '钱' || at(c, i + 1) == '錢' {
                Some((1.0, i + 2))
            } else {
                Some((1.0, i + 1))
            }
        }
        '蚊' => Some((1.0, i + 1)),
        '毛' | '角' | '毫' => Some((0.1, i + 1)),
        '分' | '仙' => Some((0.01, i + 1)),
        _ => None,
    }
}

/// A money value: amount, currency code (None = not named), end.
#[derive(Clone, Copy, Debug)]
struct Money {
    v: f64,
    cur: Option<&'static str>,
    named: bool,
    end: usize,
}

fn number(c: &[char], i: usize, lang: Lang) -> Option<Num> {
    let n = number_at(c, i, lang)?;
    Some(n)
}

/// Chinese yuan/jiao/fen chains: 三块四毛五, 两毛五, 一块二, 三块零四, 五個半.
fn zh_money(c: &[char], i: usize) -> Option<Money> {
    let mut total = 0.0;
    let mut p = i;
    let mut last: Option<f64> = None;
    let mut any_unit = false;
    let mut cantonese = false;
    for _ in 0..4 {
        let zero = at(c, p) == '零';
        // 個 as the dollar unit: "個半", "五個半", "三個一毫四"
        let (n, after) = if (at(c, p) == '个' || at(c, p) == '個') && last.is_none() && p == i {
            (1.0, p)
        } else {
            match number(c, p, Lang::Zh) {
                Some(n) => (n.v, n.e),
                None => break,
            }
        };
        let unit = if at(c, after) == '个' || at(c, after) == '個' {
            let nx = at(c, after + 1);
            if last.is_none() && (nx == '半' || super::number_zh::digit(nx).is_some()) {
                cantonese = true;
                Some((1.0, after + 1))
            } else {
                None
            }
        } else {
            zh_unit(c, after)
        };
        match unit {
            Some((u, e)) if last.map(|l| u < l).unwrap_or(true) => {
                total += n * u;
                last = Some(u);
                any_unit = true;
                p = e;
                if at(c, p) == '半' && u == 1.0 {
                    total += 0.5;
                    p += 1;
                    break;
                }
            }
            Some(_) => break,
            None => {
                // implied next unit: 一块二 (0.2), 三块零四 (0.04), 两毛五 (0.05)
                if let Some(l) = last {
                    if n < 10.0 && n == n.trunc() && after > p {
                        let u = if zero && l == 1.0 { 0.01 } else { l / 10.0 };
                        if u >= 0.01 {
                            total += n * u;
                            p = after;
                        }
                    }
                }
                break;
            }
        }
    }
    if !any_unit {
        return None;
    }
    Some(Money {
        v: (total * 1e6).round() / 1e6,
        cur: Some(if cantonese { "HKD" } else { "CNY" }),
        named: true,
        end: p,
    })
}

fn lex_at<'a>(lx: &'a Lexicon<Cur>, c: &[char], i: usize) -> Option<(usize, &'a Cur)> {
    let (e, v) = lx.longest(c, i, false)?;
    // a marker made of letters must not be glued to other letters
    if at(c, i).is_ascii_alphabetic() && i > 0 && c[i - 1].is_ascii_alphabetic() {
        return None;
    }
    if at(c, e - 1).is_ascii_alphabetic() && at(c, e).is_ascii_alphabetic() {
        return None;
    }
    Some((e, v))
}

/// Cents after a main amount: "$20 and 43c", "20 dollars 43 cents", "$20 43".
fn cents_after(c: &[char], e: usize, lang: Lang, main: Cur) -> Option<(f64, usize)> {
    let mut q = skip_ws(c, e);
    if let Some((w, e2)) = read_word(c, q) {
        if w == "and" {
            q = skip_ws(c, e2);
        }
    }
    if q == e {
        return None;
    }
    let n = number(c, q, lang)?;
    if !n.is_int() || n.v >= 100.0 {
        return None;
    }
    let q2 = skip_ws(c, n.e);
    if let Some((e3, cu)) = lex_at(&SUFFIX, c, q2) {
        if cu.mult == 0.01 {
            return Some((n.v / 100.0, e3));
        }
        return None;
    }
    let _ = main;
    Some((n.v / 100.0, n.e))
}

/// One money amount at `i` (no range/bound words).
fn money_at(c: &[char], i: usize, lang: Lang) -> Option<Money> {
    let zh_first = is_cjk(at(c, i)) || at(c, i) == '个' || at(c, i) == '個';
    // prefix currency
    if let Some((e, cu)) = lex_at(&PREFIX, c, i) {
        let q = skip_ws(c, e);
        if let Some(m) = zh_money(c, q) {
            return Some(Money { cur: Some(cu.code), named: true, ..m });
        }
        let n = number(c, q, lang)?;
        let mut v = n.v;
        let mut end = n.e;
        // trailing marker repeated or cents
        if let Some((c2, e2)) = cents_after(c, end, lang, *cu) {
            v += c2;
            end = e2;
        }
        return Some(Money { v, cur: if cu.code.is_empty() { None } else { Some(cu.code) }, named: true, end });
    }
    if zh_first || lang == Lang::Zh {
        if let Some(m) = zh_money(c, i) {
            // optional currency name after: 3块人民币
            let q = skip_ws(c, m.end);
            if let Some((e, cu)) = lex_at(&SUFFIX, c, q) {
                if is_cjk(at(c, q)) {
                    return Some(Money { cur: Some(cu.code), named: true, end: e, ..m });
                }
            }
            return Some(m);
        }
    }
    let n = if word_start(c, i) && (read_word(c, i).map(|w| w.0 == "a" || w.0 == "an").unwrap_or(false)) {
        // "a dollar", "a US$4.7 billion"
        let (_, e) = read_word(c, i)?;
        let q = skip_ws(c, e);
        if let Some(m) = money_at(c, q, lang) {
            if lex_at(&PREFIX, c, q).is_some() {
                return Some(m);
            }
        }
        Num { v: 1.0, s: i, e, form: super::numeral::Form::Words, ndig: 0 }
    } else {
        number(c, i, lang)?
    };
    let q = skip_ws(c, n.e);
    let (e, cu) = lex_at(&SUFFIX, c, q)?;
    // a lone "c"/"le"/"rm" after a space must be a whole word; "10 c" is fine
    let mut v = n.v * cu.mult;
    let mut end = e;
    if cu.mult == 1.0 {
        if let Some((c2, e2)) = cents_after(c, end, lang, *cu) {
            v += c2;
            end = e2;
        }
    }
    Some(Money { v, cur: if cu.code.is_empty() { None } else { Some(cu.code) }, named: true, end })
}

/// A number that may be the first bound of a range whose currency comes later.
fn bare_or_money(c: &[char], i: usize, lang: Lang) -> Option<Money> {
    if let Some(m) = money_at(c, i, lang) {
        return Some(m);
    }
    let n = number(c, i, lang)?;
    Some(Money { v: n.v, cur: None, named: false, end: n.e })
}

const MAX_WORDS: &[(&str, bool)] = &[
    ("under", true),
    ("less than", true),
    ("lower than", true),
    ("no more than", true),
    ("not more than", true),
    ("at most", true),
    ("up to", true),
    ("below", true),
    ("最多", true),
    ("至多", true),
    ("不超过", true),
    ("不超過", true),
    ("more than", false),
    ("at least", false),
    ("over", false),
    ("above", false),
    ("no less than", false),
    ("not less than", false),
    ("至少", false),
    ("起码", false),
    ("起碼", false),
    ("最少", false),
];

static BOUNDS: Lazy<Lexicon<bool>> = Lazy::new(|| Lexicon::new(MAX_WORDS));

static HEDGES: Lazy<Lexicon<()>> = Lazy::new(|| {
    Lexicon::new(&[
        ("around", ()),
        ("about", ()),
        ("exactly", ()),
        ("approximately", ()),
        ("roughly", ()),
        ("大约", ()),
        ("大約", ()),
        ("大概", ()),
        ("约", ()),
        ("約", ()),
    ])
});

fn to_value(v: Option<f64>, min: Option<f64>, max: Option<f64>, cur: Option<&str>) -> Value {
    let mut m = Map::new();
    if let Some(v) = v {
        m.insert("value".into(), num(v));
    }
    if let Some(x) = min {
        m.insert("min".into(), num(x));
    }
    if let Some(x) = max {
        m.insert("max".into(), num(x));
    }
    if let Some(c) = cur {
        if !c.is_empty() {
            m.insert("currency".into(), Value::String(c.to_string()));
        }
    }
    Value::Object(m)
}

/// Full amount expression at `i`: (end, value).
fn amount_at(c: &[char], i: usize, lang: Lang) -> Option<(usize, Value)> {
    let mut p = i;
    if let Some((e, _)) = HEDGES.longest(c, p, true) {
        if word_start(c, p) || is_cjk(at(c, p)) {
            p = skip_ws(c, e);
        }
    }
    // bounds before: under $50, 至少三块
    if let Some((e, is_max)) = BOUNDS.longest(c, p, true) {
        if word_start(c, p) || is_cjk(at(c, p)) {
            let q = skip_ws(c, e);
            let m = money_at(c, q, lang)?;
            let (mn, mx) = if *is_max { (None, Some(m.v)) } else { (Some(m.v), None) };
            return Some((m.end, to_value(None, mn, mx, m.cur)));
        }
    }
    // between A and B / from A to B
    let (range_kw, q0) = match read_word(c, p) {
        Some((w, e)) if w == "between" || w == "from" => (true, skip_ws(c, e)),
        _ => (false, p),
    };
    let a = bare_or_money(c, q0, lang)?;
    // range connector
    let q = skip_ws(c, a.end);
    let conn = if range_kw { read_word(c, q).filter(|(w, _)| w == "and" || w == "to").map(|x| x.1) } else { None }
        .or_else(|| match at(c, q) {
            '-' | '~' | '到' | '至' => Some(q + 1),
            _ => read_word(c, q).filter(|(w, _)| w == "to").map(|x| x.1),
        });
    if let Some(ce) = conn {
        let q2 = skip_ws(c, ce);
        if let Some(b) = money_at(c, q2, lang).or_else(|| if a.named { bare_or_money(c, q2, lang) } else { None }) {
            if a.named || b.named {
                let cur = if b.named { b.cur } else { a.cur };
                if a.v <= b.v {
                    return Some((b.end, to_value(None, Some(a.v), Some(b.v), cur)));
                }
            }
        }
    }
    if !a.named {
        return None;
    }
    // bounds after: 1.2元以下, 3.04块以上
    let q = skip_ws(c, a.end);
    let tail = match (at(c, q), at(c, q + 1)) {
        ('以', '下') | ('以', '内') | ('以', '內') => Some((true, q + 2)),
        ('以', '上') => Some((false, q + 2)),
        _ => None,
    };
    if let Some((is_max, e)) = tail {
        let (mn, mx) = if is_max { (None, Some(a.v)) } else { (Some(a.v), None) };
        return Some((e, to_value(None, mn, mx, a.cur)));
    }
    Some((a.end, to_value(Some(a.v), None, None, a.cur)))
}

/// Scans amounts of money.
pub(crate) fn scan(doc: &Doc, lang: Lang, out: &mut Vec<Candidate>) {
    let c = &doc.c;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let plausible =
            ch.is_ascii_alphanumeric() || ch == '.' || is_cjk(ch) || matches!(ch, '$' | '€' | '£' | '¥' | '\u{FFE5}');
        if plausible && (!ch.is_ascii_alphanumeric() || word_start(c, i) || ch.is_ascii_digit()) {
            if let Some((e, v)) = amount_at(c, i, lang) {
                if e > i {
                    out.push(Candidate::new(EntityKind::Amount, i, e, v));
                    i = e;
                    continue;
                }
            }
        }
        if ch.is_ascii_alphabetic() {
            while i < c.len() && c[i].is_ascii_alphabetic() {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
}
