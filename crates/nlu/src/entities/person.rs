//! Person names, without training data.
//!
//! - Chinese: a surname from a table (single or compound) and one or two given-name
//!   characters, or 小/老 + surname. Surnames are common characters, so a name is only taken
//!   where customers name people: after a cue (给, 叫, 帮, 收件人是…), before a title (先生,
//!   女士…), or as a whole short message ("王小明").
//! - English: one to three capitalised words after a cue ("for", "send it to", "my name is",
//!   "passenger"…), or a whole message that is only a name. Words that start sentences for
//!   other reasons (days, months, greetings, pronouns) are never names.
//!
//! The span covers the whole name, so a numeral inside it (赵六, 孙七) is not also read as a
//! number: the longer span wins the overlap resolution.

use serde_json::json;

use super::lexicon::EN_DAY_AND_MONTH_NAMES;
use super::text::{is_cjk, Doc};
use super::value::Candidate;
use super::EntityKind;

/// Common single-character surnames. Characters that are mostly something else in support
/// messages (和, 时, 全, 万, 于, 解, 查, 连, 向, 应, 单, 常, 关, 车, 路…) are left out.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤温康施牛樊葛邢齐乔伍庞颜倪庄聂章鲁岳翟殷詹欧耿兰焦俞左柳甘祝包宁尚舒阮柯纪梅童凌毕季裴霍涂苗谷盛翁冉骆蓝辛靳柴蒙鲍喻祁蒲滕屈饶艾尤穆卓缪褚娄窦戚岑宫卜冷晏卫柏瞿桂佟臧闵苟邬卞姬仇栾隋刁巫寇桑甄丛仲虞敖巩佘邝";

/// Compound surnames.
const COMPOUND_SURNAMES: [&str; 12] =
    ["欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯"];

/// Characters that end a Chinese given name: particles, pronouns, verbs of ordering and
/// sending, measure words, punctuation-like characters.
const NOT_GIVEN: &str = "的了是在和与跟给我你他她它们吗呢吧啊呀哦嘛要不没有这那哪个位张份件些订买寄送发退换改签充查付取拿办打叫说问找帮替为让请到从去来回坐乘也都就还又再很太先姐老师同学经理师傅阿姨总生士票单号码电话地得着过把被对向往于以及或并且色元块钱次点分秒里";

/// Words after which a Chinese name may follow.
const ZH_CUES: [&str; 28] = [
    "收件人是",
    "收件人",
    "收货人",
    "寄件人",
    "联系人",
    "乘客",
    "旅客",
    "客户",
    "持卡人",
    "姓名是",
    "姓名",
    "名字是",
    "名字",
    "我叫",
    "叫做",
    "叫",
    "我是",
    "是",
    "给",
    "帮",
    "替",
    "为",
    "和",
    "跟",
    "找",
    "请",
    "转给",
    "改成",
];

/// Titles after a Chinese name.
const ZH_TITLES: [&str; 9] = ["先生", "女士", "小姐", "老师", "同学", "经理", "师傅", "阿姨", "总"];

/// Two-character words that start with a surname character but are not names.
const ZH_NOT_NAMES: [&str; 46] = [
    "谢了", "何时", "何处", "程度", "成本", "孙子", "高铁", "高速", "高兴", "金额", "黄金", "方便", "方式", "方法",
    "白天", "石油", "马上", "周末", "周一", "周二", "周三", "周四", "周五", "周六", "周日", "周天", "余额", "温度",
    "程序", "江苏", "任何", "任务", "许多", "龙虾", "包裹", "包邮", "包装", "毛巾", "钱包", "宁可", "尚未", "苏州",
    "卫生", "于是", "林子", "夏天",
];

/// English words after which a name may follow (lower case; the last word of the cue).
const EN_CUES: [&str; 13] =
    ["for", "named", "i'm", "im", "me", "passenger", "recipient", "contact", "mr", "mrs", "ms", "miss", "dr"];

/// English verbs whose "to" introduces a person ("send it to Tom", "pay 45 to Dana").
const EN_TO_VERBS: [&str; 14] = [
    "send", "sent", "give", "gave", "transfer", "pay", "paid", "deliver", "ship", "mail", "forward", "write", "it",
    "them",
];

/// Capitalised words that are never (the start of) a name.
const EN_NOT_NAMES: [&str; 39] = [
    "i",
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank",
    "please",
    "yes",
    "no",
    "ok",
    "okay",
    "sorry",
    "the",
    "a",
    "an",
    "my",
    "your",
    "it",
    "this",
    "that",
    "what",
    "when",
    "where",
    "why",
    "how",
    "can",
    "could",
    "would",
    "should",
    "do",
    "does",
    "is",
    "are",
    "will",
    "today",
    "tomorrow",
    "yesterday",
    "sure",
    "actually",
];

/// A capitalised word that is never (the start of) a name.
fn is_not_name(lower: &str) -> bool {
    EN_NOT_NAMES.contains(&lower) || EN_DAY_AND_MONTH_NAMES.contains(&lower)
}

pub(crate) fn scan(doc: &Doc, out: &mut Vec<Candidate>) {
    scan_zh(doc, out);
    scan_en(doc, out);
}

fn candidate(doc: &Doc, start: usize, end: usize) -> Candidate {
    let name: String = doc.orig[start..end].iter().collect();
    Candidate::new(EntityKind::Person, start, end, json!({ "value": name }))
}

// ---- Chinese ---------------------------------------------------------------------------------

/// Length of the surname at `i` (2 for a compound one), if any.
fn surname_at(c: &[char], i: usize) -> Option<usize> {
    for s in COMPOUND_SURNAMES {
        if super::text::starts(c, i, s) {
            return Some(2);
        }
    }
    c.get(i).filter(|ch| is_surname(**ch)).map(|_| 1)
}

/// Surname lookup in a sorted table (built once): this runs for every CJK character.
fn is_surname(ch: char) -> bool {
    static TABLE: std::sync::OnceLock<Vec<char>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t: Vec<char> = SURNAMES.chars().collect();
        t.sort_unstable();
        t.dedup();
        t
    });
    table.binary_search(&ch).is_ok()
}

fn given_char(ch: Option<&char>) -> bool {
    ch.is_some_and(|&ch| is_cjk(ch) && !NOT_GIVEN.contains(ch))
}

/// The end of a full name starting at `i` (surname + one or two given characters).
fn name_from(c: &[char], i: usize) -> Option<usize> {
    let s = surname_at(c, i)?;
    let g = i + s;
    if !given_char(c.get(g)) || title_at(c, g) {
        return None;
    }
    let end = if given_char(c.get(g + 1)) && !title_at(c, g + 1) { g + 2 } else { g + 1 };
    let word: String = c[i..end].iter().collect();
    // 谢谢, 常常: a surname character doubled is a word, not a name.
    let doubled = s == 1 && c.get(g) == c.get(i);
    if doubled || ZH_NOT_NAMES.iter().any(|w| word.starts_with(w)) {
        return None;
    }
    Some(end)
}

fn title_at(c: &[char], i: usize) -> bool {
    ZH_TITLES.iter().any(|t| super::text::starts(c, i, t))
}

/// 小王, 老李: the familiar form, taken only where a name is expected.
fn familiar_from(c: &[char], i: usize) -> Option<usize> {
    if !matches!(c.get(i), Some('小' | '老')) {
        return None;
    }
    let s = surname_at(c, i + 1)?;
    let end = i + 1 + s;
    (!given_char(c.get(end)) || title_at(c, end)).then_some(end)
}

fn is_boundary(ch: Option<&char>) -> bool {
    ch.is_none_or(|&ch| !is_cjk(ch) && !ch.is_alphanumeric())
}

/// True when a Chinese cue ends at `i` (Chinese text naming a person written in Latin letters).
fn zh_cue_before(c: &[char], i: usize) -> bool {
    ZH_CUES.iter().any(|cue| {
        let k = cue.chars().count();
        i >= k && super::text::starts(c, i - k, cue)
    })
}

fn scan_zh(doc: &Doc, out: &mut Vec<Candidate>) {
    let c = &doc.c;
    let n = c.len();
    let mut taken_until = 0;
    for i in 0..n {
        if i < taken_until || !is_cjk(c[i]) {
            continue;
        }
        // Cheap rejection first: no surname (or 小/老) starts here.
        if !matches!(c[i], '小' | '老') && surname_at(c, i).is_none() {
            continue;
        }
        let after_cue = zh_cue_before(c, i);
        let whole_message = is_boundary(if i == 0 { None } else { c.get(i - 1) });
        // 王先生: a surname and a title make a name too.
        let surname_titled = surname_at(c, i).filter(|&s| title_at(c, i + s)).map(|s| i + s);
        let end = name_from(c, i).or_else(|| if after_cue { familiar_from(c, i) } else { None }).or(surname_titled);
        let Some(end) = end else { continue };
        let titled = title_at(c, end);
        let alone = whole_message && is_boundary(c.get(end));
        if after_cue || titled || alone {
            let title_len = ZH_TITLES.iter().find(|t| super::text::starts(c, end, t)).map_or(0, |t| t.chars().count());
            let span_end = if Some(end) == surname_titled { end + title_len } else { end };
            out.push(candidate(doc, i, span_end));
            taken_until = span_end;
        }
    }
}

// ---- English ---------------------------------------------------------------------------------

/// A word: `[start, end)` of letters (and inner `'` or `-`).
fn words(doc: &Doc) -> Vec<(usize, usize)> {
    let c = &doc.orig;
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_ascii_alphabetic() {
            let s = i;
            while i < c.len()
                && (c[i].is_ascii_alphabetic()
                    || (matches!(c[i], '\'' | '-' | '’') && c.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic())))
            {
                i += 1;
            }
            out.push((s, i));
        } else {
            i += 1;
        }
    }
    out
}

fn lower(doc: &Doc, (s, e): (usize, usize)) -> String {
    doc.c[s..e].iter().map(|&ch| if ch == '’' { '\'' } else { ch }).collect()
}

fn capitalised(doc: &Doc, (s, e): (usize, usize)) -> bool {
    doc.orig[s].is_ascii_uppercase() && e - s >= 2 && doc.orig[s + 1..e].iter().any(|ch| ch.is_ascii_lowercase())
}

/// Only spaces between two words.
fn adjacent(doc: &Doc, a: (usize, usize), b: (usize, usize)) -> bool {
    b.0 > a.1 && doc.orig[a.1..b.0].iter().all(|&ch| ch == ' ')
}

fn scan_en(doc: &Doc, out: &mut Vec<Candidate>) {
    let ws = words(doc);
    let only_words = doc.orig.iter().all(|ch| ch.is_ascii_alphabetic() || matches!(ch, ' ' | '\'' | '-' | '.' | '!'));
    let mut k = 0;
    while k < ws.len() {
        let w = ws[k];
        if !capitalised(doc, w) || is_not_name(&lower(doc, w)) {
            k += 1;
            continue;
        }
        let mut before = w.0;
        while before > 0 && doc.c[before - 1] == ' ' {
            before -= 1;
        }
        let zh_cue = (k == 0 || ws[k - 1].1 <= before) && zh_cue_before(&doc.c, before);
        let cue = zh_cue
            || k > 0 && adjacent(doc, ws[k - 1], w) && {
                let prev = lower(doc, ws[k - 1]);
                EN_CUES.contains(&prev.as_str())
                    || (prev == "to" && k > 1 && EN_TO_VERBS.contains(&lower(doc, ws[k - 2]).as_str()))
                    || (prev == "is"
                        && k > 1
                        && matches!(lower(doc, ws[k - 2]).as_str(), "name" | "this" | "it" | "passenger" | "recipient"))
            };
        let mut end = k + 1;
        while end < ws.len() && end < k + 3 && adjacent(doc, ws[end - 1], ws[end]) && capitalised(doc, ws[end]) {
            end += 1;
        }
        // A whole message of two or three capitalised words ("Maria Lopez"); one word alone
        // ("Cancel", "Refund") is too often something else.
        let whole = k == 0 && end == ws.len() && end - k >= 2 && only_words;
        if cue || whole {
            out.push(candidate(doc, w.0, ws[end - 1].1));
            k = end;
        } else {
            k += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, EntityKind, Lang, ParseContext};

    fn people(text: &str, lang: Lang) -> Vec<String> {
        let now =
            chrono::NaiveDate::from_ymd_opt(2026, 12, 7).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap_or_default();
        parse(text, &ParseContext::new(lang, now))
            .into_iter()
            .filter(|e| e.kind == EntityKind::Person)
            .map(|e| e.value["value"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn chinese_names_after_cues_before_titles_or_alone() {
        assert_eq!(people("寄给赵六", Lang::Zh), ["赵六"]);
        assert_eq!(people("后天帮孙七订两张票", Lang::Zh), ["孙七"]);
        assert_eq!(people("收件人是王小明", Lang::Zh), ["王小明"]);
        assert_eq!(people("我叫张伟，电话13800138000", Lang::Zh), ["张伟"]);
        assert_eq!(people("王先生您好", Lang::Zh), ["王先生"]);
        assert_eq!(people("帮我找小王", Lang::Zh), ["小王"]);
        assert_eq!(people("欧阳娜娜", Lang::Zh), ["欧阳娜娜"]);
        assert_eq!(people("不对，应该寄给李雷", Lang::Zh), ["李雷"]);
        assert_eq!(people("替何琳改签", Lang::Zh), ["何琳"]);
        assert_eq!(people("不对，是给韩冬充", Lang::Zh), ["韩冬"]);
    }

    #[test]
    fn a_numeral_inside_a_name_is_not_a_number() {
        let now =
            chrono::NaiveDate::from_ymd_opt(2026, 12, 7).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap_or_default();
        let found = parse("寄给赵六", &ParseContext::new(Lang::Zh, now));
        assert!(found.iter().all(|e| e.kind != EntityKind::Number), "{found:?}");
        let found = parse("后天帮孙七订两张票", &ParseContext::new(Lang::Zh, now));
        let numbers: Vec<&str> =
            found.iter().filter(|e| e.kind == EntityKind::Number).map(|e| e.text.as_str()).collect();
        assert_eq!(numbers, ["两"], "{found:?}");
    }

    #[test]
    fn chinese_words_that_start_with_a_surname_are_not_names() {
        for text in [
            "我要坐高铁",
            "周六下午三点",
            "黄色的",
            "金额是三百",
            "马上给我退款",
            "把钱转给他",
            "我要退货",
            "白色",
            "方便吗",
        ] {
            assert!(people(text, Lang::Zh).is_empty(), "{text}: {:?}", people(text, Lang::Zh));
        }
    }

    #[test]
    fn english_names_after_cues_or_as_the_whole_message() {
        assert_eq!(people("send it to Tom", Lang::En), ["Tom"]);
        assert_eq!(people("book it for Maria Lopez please", Lang::En), ["Maria Lopez"]);
        assert_eq!(people("actually it is for Dana", Lang::En), ["Dana"]);
        assert_eq!(people("my name is John Smith", Lang::En), ["John Smith"]);
        assert_eq!(people("Maria Lopez", Lang::En), ["Maria Lopez"]);
        assert_eq!(people("the passenger is Anne-Marie O'Neil", Lang::En), ["Anne-Marie O'Neil"]);
        assert_eq!(people("寄给 Tom Baker", Lang::Zh), ["Tom Baker"]);
    }

    #[test]
    fn english_words_that_are_not_names() {
        for text in [
            "Hello there",
            "I want to return my shoes",
            "can you do it for Monday",
            "Cancel",
            "Thanks a lot",
            "where is my order SO123456",
            "I fly to Paris",
            "send it to me",
        ] {
            assert!(people(text, Lang::En).is_empty(), "{text}: {:?}", people(text, Lang::En));
        }
    }
}
