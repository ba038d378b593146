//! Chinese words that contain numerals but are not quantities: 一直, 一样, 一心一意,
//! 乱七八糟, 万一, 十分满意, "便宜一点", names such as 张三 or 周九.
//!
//! The scanners read every numeral they meet; this filter runs before overlap resolution and
//! drops what Chinese readers would not take as a number, a clock time, a sum of money or a
//! duration. A lone numeral (一, 三, 七八…) is a quantity only when something makes it one:
//! a measure word after it ("三件", "一个"), a number-taking verb or operator before it
//! ("选三", "等于七"), or nothing else in the message ("三"). Everything longer than a
//! lone numeral (三百五, 一万五, 12) is left alone.

use super::number_zh;
use super::text::{at, Doc};
use super::value::Candidate;
use super::EntityKind;

/// Characters that make a following 近 part of another word (附近 "nearby", 接近 "close to"),
/// not "the last …" (近三天). Kept here: the time grammar's literals must all be openers.
pub(crate) const NEAR_COMPOUND_FIRSTS: &str = "附接靠将將亲親";

/// Second characters of words that start with 前 or 后 (前台, 后面, 后续…): after a date,
/// 前/后 followed by one of them is not "before"/"after".
pub(crate) const FRONT_BACK_COMPOUND_SECONDS: &str = "台面端边邊往门門排方续續悔来來";

/// Measure words and units that make a preceding lone numeral a quantity.
const MEASURE_WORDS: &str = "个個件次位名张張本台只隻条條双雙套份瓶盒包袋箱支块塊元圆圓毛角天日月年号號岁歲楼樓层層间間人家趟遍斤克米里度倍成折级級期周週秒刻季排栋棟座辆輛架班桌杯碗盘盤口部把枚颗顆粒片根封笔筆单單款种種样樣夜顿頓餐站分小钟鐘点點毫千百万萬亿億十拾佰仟半";

/// Single characters before a lone numeral that make it a quantity ("选三", "第" is the
/// ordinal scanner's).
const NUMBER_TAKERS: &str = "选選要买買于於乘加减減除剩差共约約第每前后後和或到至";

/// Set phrases (chengyu and idioms) whose numerals count nothing: a candidate inside one of
/// them is dropped. A closed class of the language, like a stop list.
const IDIOMS: &[&str] = &[
    "一五一十",
    "一心一意",
    "一模一样",
    "一波三折",
    "一清二楚",
    "一干二净",
    "一石二鸟",
    "一举两得",
    "一刀两断",
    "一分为二",
    "一言为定",
    "一路顺风",
    "一帆风顺",
    "一应俱全",
    "一丝不苟",
    "一目了然",
    "一无所知",
    "一事无成",
    "一塌糊涂",
    "一言难尽",
    "一步到位",
    "一劳永逸",
    "一如既往",
    "一视同仁",
    "一针见血",
    "一本正经",
    "一成不变",
    "一筹莫展",
    "一见钟情",
    "一知半解",
    "一举一动",
    "一来二去",
    "三心二意",
    "三言两语",
    "三番五次",
    "三天两头",
    "三三两两",
    "三长两短",
    "接二连三",
    "丢三落四",
    "低三下四",
    "朝三暮四",
    "说三道四",
    "颠三倒四",
    "不三不四",
    "不管三七二十一",
    "四分五裂",
    "四面八方",
    "四平八稳",
    "五颜六色",
    "五花八门",
    "五湖四海",
    "六神无主",
    "七上八下",
    "七嘴八舌",
    "七零八落",
    "乱七八糟",
    "横七竖八",
    "八九不离十",
    "十有八九",
    "十拿九稳",
    "十全十美",
    "十万火急",
    "九死一生",
    "九牛一毛",
    "百里挑一",
    "百发百中",
    "千方百计",
    "千辛万苦",
    "千真万确",
    "千载难逢",
    "万无一失",
    "万众一心",
    "半斤八两",
    "独一无二",
    "说一不二",
    "一分钱一分货",
];

/// [`IDIOMS`] as code points.
static IDIOM_CHARS: once_cell::sync::Lazy<Vec<Vec<char>>> =
    once_cell::sync::Lazy::new(|| IDIOMS.iter().map(|i| i.chars().collect()).collect());

/// Whether `[s, e)` lies inside an occurrence of one of [`IDIOMS`].
fn inside_idiom(c: &[char], s: usize, e: usize) -> bool {
    IDIOM_CHARS.iter().any(|idiom| {
        let n = idiom.len();
        // every start that would make the idiom cover [s, e)
        (e.saturating_sub(n)..=s)
            .any(|start| start + n <= c.len() && start + n >= e && c[start..start + n] == idiom[..])
    })
}

/// Lone numerals of one or two characters this filter judges ("七八" is "seven or eight").
fn is_lone_numeral(chars: &[char]) -> bool {
    match chars {
        [a] => number_zh::digit(*a).is_some() || *a == '十',
        [a, b] => number_zh::digit(*a).is_some() && number_zh::digit(*b).is_some() && a != b,
        _ => false,
    }
}

fn is_text(ch: char) -> bool {
    ch.is_alphanumeric()
}

/// Whether the lone numeral at `[s, e)` is licensed as a quantity by its context.
fn licensed(c: &[char], s: usize, e: usize) -> bool {
    let next = at(c, e);
    let prev = if s == 0 { '\0' } else { at(c, s - 1) };
    // 一点 / 一样 are "a little" / "the same"; 十分 without 钟 or 钱 is "very".
    let word_not_measure = (c[s..e] == ['一'] && matches!(next, '点' | '點' | '样' | '樣'))
        || (next == '分' && !matches!(at(c, e + 1), '钟' | '鐘' | '钱' | '錢'));
    if MEASURE_WORDS.contains(next) && next != '\0' && !word_not_measure {
        return true;
    }
    // 十来个, 三多斤, 五余天: "about" between the numeral and its measure word.
    if "来來多余餘".contains(next) && next != '\0' && MEASURE_WORDS.contains(at(c, e + 1)) && at(c, e + 1) != '\0'
    {
        return true;
    }
    if NUMBER_TAKERS.contains(prev) && prev != '\0' {
        return true;
    }
    licensed_alone(c, s, e)
}

/// Alone in the message (an answer to "how many?"), punctuation aside.
fn licensed_alone(c: &[char], s: usize, e: usize) -> bool {
    !c[..s].iter().any(|&ch| is_text(ch)) && !c[e..].iter().any(|&ch| is_text(ch))
}

/// Whether a candidate is a numeral-looking part of an ordinary word (see the module).
pub(crate) fn is_false_numeral(doc: &Doc, cand: &Candidate) -> bool {
    let c = &doc.c;
    let span = &c[cand.start..cand.end];
    let next = at(c, cand.end);
    let numeric_kind = matches!(
        cand.kind,
        EntityKind::Number | EntityKind::Ordinal | EntityKind::Amount | EntityKind::Duration | EntityKind::Time
    );
    if numeric_kind && span.iter().any(|&ch| number_zh::is_num_char(ch)) && inside_idiom(c, cand.start, cand.end) {
        return true;
    }
    match cand.kind {
        EntityKind::Number => {
            // 万一 ("in case"), 千万 ("by all means"): a big unit with nothing to multiply, in
            // running text (alone, "千一" is Cantonese for 1,100).
            let bare_unit = matches!(span.first(), Some('百' | '千' | '万' | '萬' | '亿' | '億'))
                && !matches!(span.get(1..3), Some(['分', '之']))
                && (cand.start == 0 || number_zh::digit(at(c, cand.start - 1)).is_none())
                && !at(c, cand.start.wrapping_sub(1)).is_ascii_digit();
            // 零件 ("spare part"): a lone zero counts nothing unless it stands alone.
            let lone_zero = matches!(span, ['零' | '〇']) && !licensed_alone(c, cand.start, cand.end);
            lone_zero || ((bare_unit || is_lone_numeral(span)) && !licensed(c, cand.start, cand.end))
        }
        // 十分满意 ("very satisfied"), 万分感谢: 分 without 钟 or 钱 is an adverb, not ten
        // minutes or ten fen.
        // 四分五裂: a lone numeral + 分 with neither 钟 nor 钱 is rarely minutes or fen either.
        EntityKind::Amount | EntityKind::Duration => {
            // 三分之一 is a third, not three fen or three minutes
            (span.last() == Some(&'分') && next == '之')
                || matches!(span, [n, '分'] if number_zh::digit(*n).is_some() || matches!(n, '十' | '万' | '萬'))
                    && !matches!(next, '钟' | '鐘' | '钱' | '錢')
                    && !licensed_alone(c, cand.start, cand.end)
        }
        // 一点 is "a little" ("便宜一点", "一点都不好") unless time words surround it.
        EntityKind::Time => {
            let prev = if cand.start == 0 { '\0' } else { at(c, cand.start - 1) };
            matches!(span, ['一', '点' | '點'])
                && !matches!(
                    next,
                    '钟' | '鐘' | '整' | '半' | '零' | '到' | '至' | '前' | '后' | '後' | '左' | '-' | '~'
                )
                && number_zh::digit(next).is_none()
                && !next.is_ascii_digit()
                && !"上下中午晚凌早夜天号號日在于於".contains(prev)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, EntityKind, Lang, ParseContext};

    fn kinds(text: &str) -> Vec<(EntityKind, String)> {
        let now =
            chrono::NaiveDate::from_ymd_opt(2026, 3, 11).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap_or_default();
        parse(text, &ParseContext::new(Lang::Zh, now)).into_iter().map(|e| (e.kind, e.text)).collect()
    }

    #[test]
    fn words_with_numerals_are_not_entities() {
        for text in [
            "我一心一意等你们发货",
            "跟图片一模一样",
            "三心二意",
            "乱七八糟的包装",
            "七上八下的",
            "我一直在等",
            "万一丢了怎么办",
            "请稍等一下",
            "一样的问题",
            "十分满意",
            "唯一的办法",
            "张三说的",
            "周九来了吗",
            "一会儿再说",
            "一点都不好",
            "能便宜一点吗",
            "一起寄过来",
            "千万别发错",
            "万分感谢",
            "请把情况一五一十告诉我",
            "快递把花瓶摔得四分五裂",
            "零件缺了",
            "十万火急！",
            "这个订单真是一波三折",
            "万一行李丢了怎么赔偿",
        ] {
            assert_eq!(kinds(text), vec![], "{text}");
        }
    }

    #[test]
    fn quantities_stay() {
        let one = |text: &str, kind: EntityKind, span: &str| {
            assert!(kinds(text).contains(&(kind, span.to_string())), "{text}: {:?}", kinds(text));
        };
        one("我要三件", EntityKind::Number, "三");
        one("买一个", EntityKind::Number, "一个");
        one("三", EntityKind::Number, "三");
        one("选二", EntityKind::Number, "二");
        one("三百五", EntityKind::Number, "三百五");
        one("一万五", EntityKind::Number, "一万五");
        one("大概要十分钟", EntityKind::Duration, "十分钟");
        one("下午一点到", EntityKind::Time, "下午一点");
        one("一点半开会", EntityKind::Time, "一点半");
    }
}
