//! Amounts of money with ISO 4217 currencies: ¥350, 三百五十元, 两毛五, "$12.50",
//! "20 dollars 43 cents", ranges ("100到200元", "between $10 and $20") and
//! bounds ("under 50 bucks", "至少三块"); other currencies by symbol ("C$45", "₩35,000"),
//! ISO code ("CHF 20", "500 jpy") or name ("75 swiss francs", "五百港币"), and cents
//! ("a 50-cent fee", "1 dollar 20 cents").

use once_cell::sync::Lazy;
use serde_json::{Map, Value};

use super::lexicon::Lexicon;
use super::number_en::read_word;
use super::numeral::{number_at, Form, Num};
use super::text::{at, is_cjk, skip_ws, word_start, Doc};
use super::value::{num, Candidate};
use super::{EntityKind, Lang};

/// A currency marker: ISO code (empty = unnamed) and multiplier (0.01 for cents).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cur {
    code: &'static str,
    mult: f64,
}

impl Cur {
    /// The amount `n` of this unit in the main unit (cents: n / 100, exactly rounded).
    fn apply(&self, n: f64) -> f64 {
        if self.mult == 0.01 {
            n / 100.0
        } else {
            n * self.mult
        }
    }
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
        ("c$", cur("CAD")),
        ("ca$", cur("CAD")),
        ("can$", cur("CAD")),
        ("a$", cur("AUD")),
        ("au$", cur("AUD")),
        ("s$", cur("SGD")),
        ("sg$", cur("SGD")),
        ("nz$", cur("NZD")),
        ("r$", cur("BRL")),
        ("mx$", cur("MXN")),
        ("mex$", cur("MXN")),
        ("jp¥", cur("JPY")),
        ("₩", cur("KRW")),
        ("\u{FFE6}", cur("KRW")),
        ("₹", cur("INR")),
        ("₽", cur("RUB")),
        ("฿", cur("THB")),
        ("nzd", cur("NZD")),
        ("brl", cur("BRL")),
        ("mxn", cur("MXN")),
        ("rub", cur("RUB")),
        ("thb", cur("THB")),
        ("日元", cur("JPY")),
        ("日圓", cur("JPY")),
        ("英镑", cur("GBP")),
        ("英鎊", cur("GBP")),
        ("韩元", cur("KRW")),
        ("韓元", cur("KRW")),
        ("澳元", cur("AUD")),
        ("加元", cur("CAD")),
        ("新台币", cur("TWD")),
        ("新台幣", cur("TWD")),
        ("台币", cur("TWD")),
        ("台幣", cur("TWD")),
        ("新加坡元", cur("SGD")),
        ("新币", cur("SGD")),
        ("新幣", cur("SGD")),
        ("卢布", cur("RUB")),
        ("盧布", cur("RUB")),
        ("瑞士法郎", cur("CHF")),
        ("泰铢", cur("THB")),
        ("泰銖", cur("THB")),
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
        ("nzd", cur("NZD")),
        ("twd", cur("TWD")),
        ("krw", cur("KRW")),
        ("rub", cur("RUB")),
        ("mxn", cur("MXN")),
        ("brl", cur("BRL")),
        ("thb", cur("THB")),
        ("₩", cur("KRW")),
        ("\u{FFE6}", cur("KRW")),
        ("₹", cur("INR")),
        ("₽", cur("RUB")),
        ("฿", cur("THB")),
        ("us dollar", cur("USD")),
        ("us dollars", cur("USD")),
        ("euro cent", cents("EUR")),
        ("euro cents", cents("EUR")),
        ("franc", cur("CHF")),
        ("francs", cur("CHF")),
        ("swiss franc", cur("CHF")),
        ("swiss francs", cur("CHF")),
        ("japanese yen", cur("JPY")),
        ("won", cur("KRW")),
        ("korean won", cur("KRW")),
        ("ruble", cur("RUB")),
        ("rubles", cur("RUB")),
        ("rouble", cur("RUB")),
        ("roubles", cur("RUB")),
        ("russian rubles", cur("RUB")),
        ("peso", cur("MXN")),
        ("pesos", cur("MXN")),
        ("mexican peso", cur("MXN")),
        ("mexican pesos", cur("MXN")),
        ("reais", cur("BRL")),
        ("brazilian real", cur("BRL")),
        ("brazilian reais", cur("BRL")),
        ("baht", cur("THB")),
        ("thai baht", cur("THB")),
        ("australian dollar", cur("AUD")),
        ("australian dollars", cur("AUD")),
        ("aussie dollars", cur("AUD")),
        ("canadian dollar", cur("CAD")),
        ("canadian dollars", cur("CAD")),
        ("hong kong dollar", cur("HKD")),
        ("hong kong dollars", cur("HKD")),
        ("hk dollars", cur("HKD")),
        ("singapore dollar", cur("SGD")),
        ("singapore dollars", cur("SGD")),
        ("new taiwan dollar", cur("TWD")),
        ("new taiwan dollars", cur("TWD")),
        ("taiwan dollar", cur("TWD")),
        ("taiwan dollars", cur("TWD")),
        ("nt dollars", cur("TWD")),
        ("new zealand dollar", cur("NZD")),
        ("new zealand dollars", cur("NZD")),
        ("pound sterling", cur("GBP")),
        ("pounds sterling", cur("GBP")),
        ("british pounds", cur("GBP")),
        ("quid", cur("GBP")),
        ("美分", cents("USD")),
        ("欧分", cents("EUR")),
        ("歐分", cents("EUR")),
        ("円", cur("JPY")),
        ("新加坡元", cur("SGD")),
        ("新加坡币", cur("SGD")),
        ("新加坡幣", cur("SGD")),
        ("新币", cur("SGD")),
        ("新幣", cur("SGD")),
        ("加币", cur("CAD")),
        ("加幣", cur("CAD")),
        ("加拿大元", cur("CAD")),
        ("澳币", cur("AUD")),
        ("澳幣", cur("AUD")),
        ("澳大利亚元", cur("AUD")),
        ("韩币", cur("KRW")),
        ("韓幣", cur("KRW")),
        ("日币", cur("JPY")),
        ("日幣", cur("JPY")),
        ("瑞士法郎", cur("CHF")),
        ("法郎", cur("CHF")),
        ("泰铢", cur("THB")),
        ("泰銖", cur("THB")),
        ("卢比", cur("INR")),
        ("盧比", cur("INR")),
        ("新西兰元", cur("NZD")),
        ("纽币", cur("NZD")),
        ("紐幣", cur("NZD")),
        ("澳门币", cur("MOP")),
        ("澳門幣", cur("MOP")),
        ("澳门元", cur("MOP")),
        ("澳門元", cur("MOP")),
        ("比索", cur("MXN")),
        ("雷亚尔", cur("BRL")),
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
    let article = word_start(c, i) && read_word(c, i).map(|w| w.0 == "a" || w.0 == "an").unwrap_or(false);
    let n = if article {
        // "a dollar", "a US$4.7 billion"
        let (_, e) = read_word(c, i)?;
        let q = skip_ws(c, e);
        if let Some(m) = money_at(c, q, lang) {
            if lex_at(&PREFIX, c, q).is_some() {
                return Some(m);
            }
        }
        Num { v: 1.0, s: i, e, form: Form::Words, ndig: 0 }
    } else {
        number(c, i, lang)?
    };
    let mut q = skip_ws(c, n.e);
    // "a 50-cent fee", "a five-dollar bill"
    if q == n.e && at(c, q) == '-' && at(c, q + 1).is_ascii_alphabetic() {
        q += 1;
    }
    let (e, cu) = lex_at(&SUFFIX, c, q)?;
    if !plausible_name(c, i, &n, article, q, e) {
        return None;
    }
    // a lone "c"/"le"/"rm" after a space must be a whole word; "10 c" is fine
    let mut v = cu.apply(n.v);
    let mut end = e;
    if cu.mult == 1.0 {
        if let Some((c2, e2)) = cents_after(c, end, lang, *cu) {
            v += c2;
            end = e2;
        }
    }
    Some(Money { v, cur: if cu.code.is_empty() { None } else { Some(cu.code) }, named: true, end })
}

/// Words before a number that make "pounds" a weight.
const WEIGHT_WORDS: &[&str] =
    &["weigh", "weighs", "weighed", "weighing", "weight", "weights", "lose", "lost", "gain", "gained", "heavy"];

/// The ASCII word ending right before `i` (spaces skipped), lower-cased.
fn word_before(c: &[char], i: usize) -> Option<super::text::Word> {
    let mut e = i;
    while e > 0 && (c[e - 1] == ' ' || c[e - 1] == '\t') {
        e -= 1;
    }
    let mut s = e;
    while s > 0 && c[s - 1].is_ascii_alphabetic() {
        s -= 1;
    }
    if s == e {
        return None;
    }
    super::text::Word::from_chars(&c[s..e])
}

/// Whether the currency name `c[q..e]` after the number `n` (starting at `start`;
/// `article` for "a"/"an") names money here. Words that are also ordinary English
/// need more: "a" only goes with a long name ("a dollar", not "a yen" or "a c"),
/// "won" wants digits or a large number ("which one won"), and "pounds" is a weight
/// before "of" or after "weighs" ("2 pounds of flour").
fn plausible_name(c: &[char], start: usize, n: &Num, article: bool, q: usize, e: usize) -> bool {
    let name: String = c[q..e].iter().collect();
    // "won't", "pound's": a contraction, not a currency
    if at(c, e) == '\'' && at(c, e + 1).is_ascii_alphabetic() {
        return false;
    }
    if article && (name.chars().count() < 4 || !name.chars().all(|ch| ch.is_ascii_alphabetic() || ch == ' ')) {
        return false;
    }
    match name.as_str() {
        "won" => n.form != Form::Words || n.v >= 100.0,
        "pound" | "pounds" => {
            let q2 = skip_ws(c, e);
            let of_next = q2 > e && read_word(c, q2).map(|w| w.0 == "of").unwrap_or(false);
            let weight = word_before(c, start).map(|w| WEIGHT_WORDS.contains(&w.as_str())).unwrap_or(false);
            !of_next && !weight
        }
        _ => true,
    }
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
    ("低于", true),
    ("低於", true),
    ("少于", true),
    ("少於", true),
    ("小于", true),
    ("小於", true),
    ("不到", true),
    ("不足", true),
    ("不高于", true),
    ("不高於", true),
    ("高于", false),
    ("高於", false),
    ("多于", false),
    ("多於", false),
    ("大于", false),
    ("大於", false),
    ("超过", false),
    ("超過", false),
    ("不低于", false),
    ("不低於", false),
    ("不少于", false),
    ("不少於", false),
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
        let plausible = ch.is_ascii_alphanumeric()
            || ch == '.'
            || is_cjk(ch)
            || matches!(ch, '$' | '€' | '£' | '¥' | '\u{FFE5}')
            || PREFIX.has_first(ch);
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

#[cfg(test)]
mod tests {
    use super::super::{parse, EntityKind, Lang, ParseContext};
    use chrono::NaiveDate;
    use serde_json::{json, Value};

    fn ctx(lang: Lang) -> ParseContext {
        let now = NaiveDate::from_ymd_opt(2026, 3, 11).and_then(|d| d.and_hms_opt(10, 0, 0)).expect("valid date");
        ParseContext::new(lang, now)
    }

    /// The amounts found in `text`: (matched text, value).
    fn amounts(text: &str, lang: Lang) -> Vec<(String, Value)> {
        parse(text, &ctx(lang))
            .into_iter()
            .filter(|e| e.kind == EntityKind::Amount)
            .map(|e| (e.text, e.value))
            .collect()
    }

    /// Asserts that `text` holds exactly one amount, spelled `span`, worth `value`.
    fn check(text: &str, lang: Lang, span: &str, value: Value) {
        let got = amounts(text, lang);
        assert_eq!(got, vec![(span.to_string(), value)], "{text:?}");
    }

    fn money(v: Value, cur: &str) -> Value {
        json!({"value": v, "currency": cur})
    }

    #[test]
    fn dollar_style_prefixes() {
        let en = Lang::En;
        check("I paid C$45 for shipping", en, "C$45", money(json!(45), "CAD"));
        check("charged HK$1,200 per night", en, "HK$1,200", money(json!(1200), "HKD"));
        check("billed A$89.95", en, "A$89.95", money(json!(89.95), "AUD"));
        check("it is AU$120", en, "AU$120", money(json!(120), "AUD"));
        check("quoted NT$3,500", en, "NT$3,500", money(json!(3500), "TWD"));
        check("costs S$15", en, "S$15", money(json!(15), "SGD"));
        check("refunded nz$30", en, "nz$30", money(json!(30), "NZD"));
        check("only R$ 49.90 a month", en, "R$ 49.90", money(json!(49.9), "BRL"));
        check("was MX$250", en, "MX$250", money(json!(250), "MXN"));
        check("between C$10 and C$20", en, "between C$10 and C$20", json!({"min": 10, "max": 20, "currency": "CAD"}));
        // the letters must not be glued to a word, and a number must follow
        // "ABC$5": not Canadian dollars, only the plain "$5"
        assert_eq!(amounts("ABC$5", en), vec![("$5".to_string(), money(json!(5), "USD"))]);
        assert!(amounts("the S$ symbol", en).is_empty());
        assert!(amounts("C$", en).is_empty());
    }

    #[test]
    fn symbols_and_iso_codes() {
        let en = Lang::En;
        check("charged me ₩35,000", en, "₩35,000", money(json!(35000), "KRW"));
        check("total ₹1,499", en, "₹1,499", money(json!(1499), "INR"));
        check("paid ₽2500", en, "₽2500", money(json!(2500), "RUB"));
        check("the fee is CHF 20", en, "CHF 20", money(json!(20), "CHF"));
        check("refund JPY 500", en, "JPY 500", money(json!(500), "JPY"));
        check("a charge of 20 CHF", en, "20 CHF", money(json!(20), "CHF"));
        check("it was 500 jpy", en, "500 jpy", money(json!(500), "JPY"));
        check("send 30 NZD", en, "30 NZD", money(json!(30), "NZD"));
        check("1200 THB", en, "1200 THB", money(json!(1200), "THB"));
    }

    #[test]
    fn english_currency_names() {
        let en = Lang::En;
        let cases = [
            ("75 swiss francs", json!(75), "CHF"),
            ("40 francs", json!(40), "CHF"),
            ("3000 yen", json!(3000), "JPY"),
            ("50000 won", json!(50000), "KRW"),
            ("five hundred won", json!(500), "KRW"),
            ("2000 rupees", json!(2000), "INR"),
            ("800 rubles", json!(800), "RUB"),
            ("350 pesos", json!(350), "MXN"),
            ("60 australian dollars", json!(60), "AUD"),
            ("25 Canadian dollars", json!(25), "CAD"),
            ("500 Hong Kong dollars", json!(500), "HKD"),
            ("12 singapore dollars", json!(12), "SGD"),
            ("300 new taiwan dollars", json!(300), "TWD"),
            ("45 euros", json!(45), "EUR"),
            ("ten pounds", json!(10), "GBP"),
            ("30 pounds sterling", json!(30), "GBP"),
            ("88 yuan", json!(88), "CNY"),
            ("500 rmb", json!(500), "CNY"),
            ("500 renminbi", json!(500), "CNY"),
            ("a five-dollar bill", json!(5), "USD"),
        ];
        for (text, v, cur) in cases {
            let span = text.trim_start_matches("a ").trim_end_matches(" bill");
            check(text, en, span, money(v, cur));
        }
        // "bucks" names no currency, as before
        check("42 bucks", en, "42 bucks", json!({"value": 42}));
    }

    #[test]
    fn chinese_currency_names() {
        let zh = Lang::Zh;
        let cases = [
            ("五百港币", json!(500), "HKD"),
            ("五百港元", json!(500), "HKD"),
            ("300日元", json!(300), "JPY"),
            ("2.5万日元", json!(25000), "JPY"),
            ("200英镑", json!(200), "GBP"),
            ("一千五百欧元", json!(1500), "EUR"),
            ("99美元", json!(99), "USD"),
            ("三百美金", json!(300), "USD"),
            ("五万韩元", json!(50000), "KRW"),
            ("45澳元", json!(45), "AUD"),
            ("八十加元", json!(80), "CAD"),
            ("1200新台币", json!(1200), "TWD"),
            ("五百台币", json!(500), "TWD"),
            ("30新加坡元", json!(30), "SGD"),
            ("20新币", json!(20), "SGD"),
            ("三千卢布", json!(3000), "RUB"),
            ("150瑞士法郎", json!(150), "CHF"),
            ("800泰铢", json!(800), "THB"),
            ("两千人民币", json!(2000), "CNY"),
            ("人民币350元", json!(350), "CNY"),
            ("港币一千", json!(1000), "HKD"),
            ("日元5000", json!(5000), "JPY"),
            ("五百块港币", json!(500), "HKD"),
            ("三十五美分", json!(0.35), "USD"),
        ];
        for (text, v, cur) in cases {
            check(text, zh, text, money(v, cur));
        }
        // a currency name with no number is no amount
        assert!(amounts("新加坡的天气很好", zh).is_empty());
        assert!(amounts("日本的樱花很漂亮", zh).is_empty());
    }

    #[test]
    fn cents() {
        let en = Lang::En;
        check("a 35-cent surcharge", en, "35-cent", money(json!(0.35), "USD"));
        check("a 50-cent fee", en, "50-cent", money(json!(0.5), "USD"));
        check("35 cents", en, "35 cents", money(json!(0.35), "USD"));
        check("overcharged 99 cents", en, "99 cents", money(json!(0.99), "USD"));
        check("1 dollar 20 cents", en, "1 dollar 20 cents", money(json!(1.2), "USD"));
        check("1 dollar and 20 cents", en, "1 dollar and 20 cents", money(json!(1.2), "USD"));
        check("ten cents", en, "ten cents", money(json!(0.1), "USD"));
        check("50 euro cents", en, "50 euro cents", money(json!(0.5), "EUR"));
        check("3 CAD 3 cents", en, "3 CAD 3 cents", money(json!(3.03), "CAD"));
        // a hyphen to a number is a range, not a unit
        check("10-20 dollars", en, "10-20 dollars", json!({"min": 10, "max": 20, "currency": "USD"}));
    }

    #[test]
    fn exact_decimal_scaling() {
        let en = Lang::En;
        let zh = Lang::Zh;
        check("worth $33.3 million", en, "$33.3 million", money(json!(33300000), "USD"));
        check("1.1 billion yuan", en, "1.1 billion yuan", money(json!(1100000000), "CNY"));
        check("$0.07", en, "$0.07", money(json!(0.07), "USD"));
        check("$4.35k", en, "$4.35k", money(json!(4350), "USD"));
        check("two point two million dollars", en, "two point two million dollars", money(json!(2200000), "USD"));
        check("2.675万元", zh, "2.675万元", money(json!(26750), "CNY"));
        check("1.1亿元", zh, "1.1亿元", money(json!(110000000), "CNY"));
        check("3.3千元", zh, "3.3千元", money(json!(3300), "CNY"));
        // the shared number path has the same fix
        let n: Vec<_> = parse("33.3 million", &ctx(en)).into_iter().filter(|e| e.kind == EntityKind::Number).collect();
        assert_eq!(n.len(), 1, "{n:?}");
        assert_eq!(n[0].value, json!({"value": 33300000}));
    }

    #[test]
    fn no_false_positives() {
        let en = Lang::En;
        for text in [
            "we won the match",
            "which one won the award",
            "the two won their games",
            "I have a yen for sushi",
            "the package weighs two pounds",
            "add 2 pounds of flour",
            "I lost 5 pounds this month",
            "order S12345",
            "grade a c",
            "the other 2 won't ship until Monday",
            "I ordered 3 sterling silver rings",
        ] {
            assert!(amounts(text, en).is_empty(), "{text:?}: {:?}", amounts(text, en));
        }
        check("I paid 5 pounds for it", en, "5 pounds", money(json!(5), "GBP"));
        check("they took 500 won", en, "500 won", money(json!(500), "KRW"));
        check("a dollar", en, "a dollar", money(json!(1), "USD"));
    }

    #[test]
    fn odd_input_never_panics() {
        for text in [
            "C$", "S$-", "₩", "₹.", "₽,", "CHF", "5-", "5-cent-", "-cent", "a-", "a 5-", "1e308 million", "0.000000000000000000000001 million",
            "999999999999999999999999999999.999999999999999999 billion yuan", "9999999999.99999999999万亿元", "零点七七七七七七七七七七七七七七七七七七七七七七七七七七",
            "two point seven seven seven seven seven seven seven seven seven seven seven seven seven seven seven seven seven seven seven seven million",
            "1 point 111111111111111111111111 dollars", "HK$HK$5", "$$$5", "5 won won", "pounds of", "weighs",
        ] {
            let _ = parse(text, &ctx(Lang::En));
            let _ = parse(text, &ctx(Lang::Zh));
        }
    }
}
