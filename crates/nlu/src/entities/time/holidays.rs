//! Holidays: fixed dates, n-th weekdays, Easter-based (Gregorian and Orthodox)
//! and Chinese lunar dates, each computed for any year.

use chrono::{Datelike, Duration, NaiveDate};
use once_cell::sync::Lazy;

use super::{calendars, lunar};
use crate::entities::lexicon::Lexicon;

/// How a holiday's date is computed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rule {
    /// Month, day.
    Fixed(u32, u32),
    /// Month, weekday (0 = Monday), n (1-based; -1 = last).
    Nth(u32, u32, i32),
    /// Days after Western Easter Sunday.
    Easter(i64),
    /// Days after Orthodox Easter Sunday.
    Orthodox(i64),
    /// Chinese lunar month, day.
    Lunar(u32, u32),
    /// Last day of the Chinese lunar year.
    LunarEve,
    /// Day after the 4th Thursday of November.
    BlackFriday,
    /// October 16, moved to the nearest weekday.
    BossDay,
    /// Winter solstice day (冬至), Qingming (清明).
    SolarTerm(u32),
    /// Hebrew month (from Tishrei = 1), day, with the postponement rule; the
    /// holiday is given as its eve (the Hebrew day starts at sunset).
    Hebrew(u32, u32, Post),
    /// Hebrew month, day and length in days of a festival, from its eve.
    HebrewSpan(u32, u32, i64),
    /// Hijri month, day.
    Hijri(u32, u32),
    /// The month of Ramadan, up to Eid al-Fitr.
    Ramadan,
    /// Last Friday of Ramadan.
    RamadanLastFriday,
    /// [Easter + a, Easter + b) as an interval of days.
    EasterSpan(i64, i64),
    /// [Orthodox Easter + a, Orthodox Easter + b) as an interval of days.
    OrthodoxSpan(i64, i64),
    /// King's Day (NL): April 27, on a Sunday the day before.
    KingsDay,
    /// Parsi (Shahenshahi) new year: a 365-day year with no leap day.
    Parsi,
    /// Earth Hour: last Saturday of March, 20:30 to 21:30.
    EarthHour,
    /// Sidereal solar ingress (sankranti) into the sign at this longitude (Lahiri
    /// ayanamsa), India time; after sunset it is kept the next day. Plus an offset.
    Sankranti(u32, i64),
}

/// Postponement rules of Hebrew days that must not fall on some weekdays.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Post {
    None,
    /// Tisha B'Av: from Saturday to Sunday.
    TishaBav,
    /// Yom Ha'atzmaut: Friday or Saturday back to Thursday, Monday to Tuesday.
    Independence,
    /// Yom HaShoah: Friday back to Thursday, Sunday to Monday.
    Shoah,
}

/// (names, rule). Names are matched case-insensitively, longest first.
pub(crate) static TABLE: &[(&[&str], Rule)] = &[
    (&["thanksgiving", "thanksgiving day", "感恩节", "感恩節"], Rule::Nth(11, 3, 4)),
    (&["christmas", "christmas day", "xmas", "x-mas", "圣诞", "聖誕", "圣诞节", "聖誕節"], Rule::Fixed(12, 25)),
    (&["christmas eve", "xmas eve", "平安夜"], Rule::Fixed(12, 24)),
    (&["new year's eve", "new years eve", "new year eve"], Rule::Fixed(12, 31)),
    (
        &[
            "new year's day",
            "new years day",
            "new year day",
            "new year's",
            "元旦",
            "元旦节",
            "元旦節",
            "阳历新年",
            "陽曆新年",
        ],
        Rule::Fixed(1, 1),
    ),
    (
        &[
            "valentine's day",
            "valentine day",
            "valentines day",
            "valentine's",
            "情人节",
            "情人節",
            "圣瓦伦丁节",
            "聖瓦倫丁節",
        ],
        Rule::Fixed(2, 14),
    ),
    (&["independence day", "4th of july", "fourth of july", "4 of july", "july 4th"], Rule::Fixed(7, 4)),
    (&["halloween", "万圣节", "萬聖節"], Rule::Fixed(10, 31)),
    (&["black friday"], Rule::BlackFriday),
    (&["boss's day", "boss's", "boss day", "bosses day", "boss' day", "老板节", "老闆節"], Rule::BossDay),
    (
        &[
            "mlk day",
            "mlk jr. day",
            "mlk jr day",
            "martin luther king day",
            "martin luther king's day",
            "martin luther kings day",
            "martin luther king jr. day",
            "martin luther king jr day",
            "civil rights day",
        ],
        Rule::Nth(1, 0, 3),
    ),
    (&["world vegan day"], Rule::Fixed(11, 1)),
    (&["easter", "easter sunday", "复活节", "復活節", "主復活日", "主复活日"], Rule::Easter(0)),
    (&["easter mon", "easter monday", "复活节星期一", "復活節星期一"], Rule::Easter(1)),
    (
        &[
            "maundy thursday",
            "covenant thu",
            "covenant thursday",
            "thu of mysteries",
            "thursday of mysteries",
            "holy thursday",
            "濯足節",
            "濯足节",
            "神聖星期四",
            "神圣星期四",
            "圣周星期四",
            "圣周四",
            "聖週四",
            "設立聖餐日",
            "设立圣餐日",
        ],
        Rule::Easter(-3),
    ),
    (
        &[
            "good friday",
            "great friday",
            "holy friday",
            "主受难日",
            "主受难节",
            "主受難日",
            "主受難節",
            "沈默周五",
            "沈默週五",
            "聖週五",
            "圣周五",
            "耶穌受難日",
            "耶稣受难日",
        ],
        Rule::Easter(-2),
    ),
    (
        &[
            "holy saturday",
            "black saturday",
            "easter eve",
            "神圣周六",
            "神聖週六",
            "聖週六",
            "圣周六",
            "耶稣受难日翌日",
            "耶穌受難日翌日",
            "主受難節翌日",
            "主受难节翌日",
            "復活節前夜",
            "复活节前夜",
            "黑色星期六",
        ],
        Rule::Easter(-1),
    ),
    (
        &[
            "pentecost",
            "white sunday",
            "whit sunday",
            "whitsunday",
            "五旬节",
            "五旬節",
            "圣灵降临节",
            "聖靈降臨節",
            "聖靈降臨日",
            "圣灵降临日",
        ],
        Rule::Easter(49),
    ),
    (&["whit monday", "monday of the holy spirit", "圣灵节庆日", "聖靈節慶日"], Rule::Easter(50)),
    (
        &[
            "palm sunday",
            "branch sunday",
            "棕枝主日",
            "圣枝主日",
            "聖枝主日",
            "聖樹主日",
            "基督苦難主日",
            "基督苦难主日",
        ],
        Rule::Easter(-7),
    ),
    (&["trinity sunday", "圣三一主日", "天主三一主日", "天主聖三一节", "聖三主日", "圣三节"], Rule::Easter(56)),
    (
        &["pancake day", "mardi gras", "shrove tuesday", "忏悔節", "忏悔节", "忏悔火曜日", "煎餅星期二", "煎饼星期二"],
        Rule::Easter(-47),
    ),
    (
        &["ash wednesday", "大斋首日", "大齋首日", "聖灰星期三", "圣灰星期三", "灰日", "圣灰礼仪日", "圣灰日"],
        Rule::Easter(-46),
    ),
    (
        &["corpus christi", "基督聖體节", "基督聖體聖血瞻礼", "基督聖體聖血節", "基督圣体节", "基督圣体圣血节"],
        Rule::Easter(60),
    ),
    (&["ascension day", "ascension thursday"], Rule::Easter(39)),
    (
        &[
            "st patrick's day",
            "st. patrick's day",
            "saint patrick's day",
            "st paddy's day",
            "saint paddy's day",
            "saint patricks day",
            "st patricks day",
            "st. paddy's day",
        ],
        Rule::Fixed(3, 17),
    ),
    (&["orthodox easter", "orthodox easter sunday", "东正教复活节", "東正教復活節"], Rule::Orthodox(0)),
    (&["orthodox easter monday", "东正教复活节星期一", "東正教復活節星期一"], Rule::Orthodox(1)),
    (
        &[
            "orthodox good friday",
            "orthodox great friday",
            "東正教耶穌受难日",
            "东正教主受难节",
            "东正教圣周五",
            "東正教聖週五",
            "東正教沈默週五",
            "东正教耶稣受难日",
            "東正教主受難節",
        ],
        Rule::Orthodox(-2),
    ),
    (
        &[
            "orthodox holy saturday",
            "東正教神聖週六",
            "東正教聖週六",
            "東正教耶稣受难日翌日",
            "東正教主受難節翌日",
            "東正教复活节前夜",
            "东正教圣周六",
        ],
        Rule::Orthodox(-1),
    ),
    (
        &["orthodox palm sunday", "东正教棕枝主日", "东正教圣枝主日", "东正教聖樹主日", "東正教基督苦難主日"],
        Rule::Orthodox(-7),
    ),
    (&["clean monday", "orthodox shrove monday", "pure monday"], Rule::Orthodox(-48)),
    (&["lazarus saturday", "拉撒路聖週六", "拉匝路周六"], Rule::Orthodox(-8)),
    (&["mother's day", "mothers day", "母亲节", "母親節"], Rule::Nth(5, 6, 2)),
    (&["father's day", "fathers day", "父亲节", "父親節"], Rule::Nth(6, 6, 3)),
    (&["memorial day"], Rule::Nth(5, 0, -1)),
    (&["labor day", "labour day"], Rule::Nth(9, 0, 1)),
    (&["presidents day", "presidents' day", "president's day", "washington's birthday"], Rule::Nth(2, 0, 3)),
    (&["columbus day"], Rule::Nth(10, 0, 2)),
    (&["veterans day", "veteran's day", "armistice day"], Rule::Fixed(11, 11)),
    (&["earth day"], Rule::Fixed(4, 22)),
    (&["april fools", "april fool's day", "april fools day", "愚人节", "愚人節"], Rule::Fixed(4, 1)),
    (
        &["妇女节", "婦女節", "三八妇女节", "国际妇女节", "國際婦女節", "women's day", "international women's day"],
        Rule::Fixed(3, 8),
    ),
    (&["劳动节", "勞動節", "五一国际劳动节", "五一劳动节", "五一", "国际劳动节", "May day"], Rule::Fixed(5, 1)),
    (&["儿童节", "兒童節", "国际儿童节", "國際兒童節", "六一儿童节", "children's day"], Rule::Fixed(6, 1)),
    (&["建军节", "建軍節", "八一建军节", "八一建軍節"], Rule::Fixed(8, 1)),
    (&["澳门回归纪念日", "澳門回歸紀念日"], Rule::Fixed(12, 20)),
    (&["香港回归纪念日", "香港回歸紀念日"], Rule::Fixed(7, 1)),
    (&["国际消费者权益日", "国际消費者權益日", "國際消費者權益日", "消费者权益日", "三一五"], Rule::Fixed(3, 15)),
    (&["国庆节", "国庆", "國慶節", "國慶", "十一国庆节"], Rule::Fixed(10, 1)),
    (&["植树节", "植樹節"], Rule::Fixed(3, 12)),
    (&["教师节", "教師節"], Rule::Fixed(9, 10)),
    (&["青年节", "青年節", "五四青年节"], Rule::Fixed(5, 4)),
    (&["建党节", "建黨節"], Rule::Fixed(7, 1)),
    (&["护士节", "護士節"], Rule::Fixed(5, 12)),
    (&["光棍节", "光棍節", "双十一", "雙十一"], Rule::Fixed(11, 11)),
    (&["双十二", "雙十二"], Rule::Fixed(12, 12)),
    (
        &[
            "春节",
            "春節",
            "农历新年",
            "農曆新年",
            "新春",
            "正月正时",
            "正月正時",
            "正月朔日",
            "大年初一",
            "chinese new year",
            "chinese lunar new year",
            "chinese lunar new year's day",
            "chinese new year's day",
            "chinese new years",
            "lunar new year",
            "spring festival",
        ],
        Rule::Lunar(1, 1),
    ),
    (&["元宵节", "元宵節", "元宵", "上元节", "上元節", "lantern festival"], Rule::Lunar(1, 15)),
    (&["龙抬头", "龍抬頭"], Rule::Lunar(2, 2)),
    (&["端午节", "端午節", "端午", "dragon boat festival"], Rule::Lunar(5, 5)),
    (&["七夕", "七夕节", "七夕節"], Rule::Lunar(7, 7)),
    (&["中元节", "中元節"], Rule::Lunar(7, 15)),
    (&["中秋节", "中秋節", "中秋", "mid-autumn festival", "mid autumn festival"], Rule::Lunar(8, 15)),
    (&["重阳节", "重陽節", "重阳", "重陽"], Rule::Lunar(9, 9)),
    (&["腊八节", "臘八節", "腊八", "臘八"], Rule::Lunar(12, 8)),
    (&["小年"], Rule::Lunar(12, 23)),
    (&["除夕", "大年三十", "年三十"], Rule::LunarEve),
    (&["冬至"], Rule::SolarTerm(270)),
    (&["清明节", "清明節", "清明", "qingming festival", "tomb-sweeping day"], Rule::SolarTerm(15)),
    (
        &[
            "rosh hashanah",
            "rosh hashana",
            "rosh hashanna",
            "rosh ha-shanah",
            "jewish new year",
            "犹太新年",
            "猶太新年",
        ],
        Rule::HebrewSpan(1, 1, 3),
    ),
    (&["yom kippur", "赎罪日", "贖罪日"], Rule::Hebrew(1, 10, Post::None)),
    (&["shemini atzeret", "圣会节", "聖会節", "聖會節", "圣会節"], Rule::Hebrew(1, 22, Post::None)),
    (
        &[
            "simchat torah",
            "simchas torah",
            "simhat torah",
            "西赫托拉节",
            "西赫托拉節",
            "西赫妥拉节",
            "西赫妥拉節",
            "诵经节",
            "誦經节",
            "誦經節",
            "转经节",
            "轉經節",
            "律法节",
            "律法節",
            "欢庆圣法节",
            "歡慶聖法節",
        ],
        Rule::Hebrew(1, 23, Post::None),
    ),
    (
        &[
            "sukkot",
            "succot",
            "succos",
            "sukkos",
            "feast of booths",
            "feast of tabernacles",
            "feast of the ingathering",
            "住棚节",
            "住棚節",
        ],
        Rule::HebrewSpan(1, 15, 9),
    ),
    (
        &[
            "hanukkah",
            "hanukah",
            "hannukah",
            "hannukkah",
            "chanukah",
            "chanukkah",
            "hanuka",
            "chanuka",
            "光明节",
            "光明節",
            "修殿节",
            "修殿節",
            "献殿节",
            "獻殿节",
            "獻殿節",
            "烛光节",
            "燭光節",
            "哈努卡节",
            "哈努卡節",
            "马加比节",
            "馬加比節",
        ],
        Rule::HebrewSpan(3, 25, 8),
    ),
    (
        &[
            "tu bishvat",
            "tu b'shvat",
            "tu bshvat",
            "tu b'shevat",
            "tu bishevat",
            "犹太植树节",
            "猶太植樹節",
            "图比舍巴特节",
            "圖比舍巴特節",
            "树木新年",
            "樹木新年",
        ],
        Rule::Hebrew(5, 15, Post::None),
    ),
    (&["purim", "普珥节", "普珥節"], Rule::Hebrew(6, 14, Post::None)),
    (&["shushan purim"], Rule::Hebrew(6, 15, Post::None)),
    (&["passover", "pesach", "pesah", "逾越节", "逾越節"], Rule::HebrewSpan(7, 15, 9)),
    (&["yom hashoah", "yom ha'shoah", "holocaust day", "holocaust remembrance day"], Rule::Hebrew(7, 27, Post::Shoah)),
    (
        &[
            "yom haatzmaut",
            "yom ha'atzmaut",
            "israel independence day",
            "以色列独立日",
            "以色列獨立日",
            "以色列国庆节",
            "以色列國慶節",
        ],
        Rule::Hebrew(8, 5, Post::Independence),
    ),
    (
        &["lag b'omer", "lag baomer", "lag ba'omer", "lag bomer", "篝火节", "篝火節", "犹太教篝火节", "猶太教篝火節"],
        Rule::Hebrew(8, 18, Post::None),
    ),
    (
        &[
            "shavuot",
            "shavuos",
            "feast of weeks",
            "七七节",
            "七七節",
            "沙夫幼特节",
            "沙夫幼特節",
            "週日節",
            "周日节",
            "收获节",
            "收穫節",
            "新果实节",
            "新果實節",
        ],
        Rule::HebrewSpan(9, 6, 3),
    ),
    (
        &["tisha b'av", "tisha bav", "tisha be'av", "圣殿被毁日", "聖殿被毁日", "聖殿被毀日", "禁食日"],
        Rule::Hebrew(11, 9, Post::TishaBav),
    ),
    (
        &[
            "eid al-fitr",
            "eid al fitr",
            "eid ul-fitr",
            "eid ul fitr",
            "id al-fitr",
            "id ul-fitr",
            "开斋节",
            "開齋節",
            "肉孜节",
            "肉孜節",
            "尔代节",
            "爾代節",
        ],
        Rule::Hijri(10, 1),
    ),
    (
        &[
            "eid al-adha",
            "eid al adha",
            "eid ul-adha",
            "eid ul adha",
            "id al-adha",
            "id ul-adha",
            "sacrifice feast",
            "feast of sacrifice",
            "feast of the sacrifice",
            "bakr id",
            "bakr-id",
            "bakrid",
            "古尔邦节",
            "古爾邦節",
            "宰牲节",
            "宰牲節",
        ],
        Rule::Hijri(12, 10),
    ),
    (&["ramadan", "ramazan", "斋月", "齋月", "穆斯林斋月", "穆斯林齋月"], Rule::Ramadan),
    (
        &[
            "islamic new year",
            "hijri new year",
            "arabic new year",
            "amun jadid",
            "伊斯兰新年",
            "伊斯蘭新年",
            "伊斯兰教新年",
            "伊斯蘭教新年",
            "伊斯兰历新年",
            "伊斯蘭曆新年",
        ],
        Rule::Hijri(1, 1),
    ),
    (&["ashura", "day of ashura", "阿舒拉节", "阿舒拉節"], Rule::Hijri(1, 10)),
    (
        &[
            "mawlid",
            "mawlid al-nabawi",
            "mawlid an-nabawi",
            "mawlid an-nabi",
            "mawlid al-nabi",
            "milad un nabi",
            "prophet's birthday",
            "the prophet's birthday",
            "圣纪节",
            "聖紀節",
        ],
        Rule::Hijri(3, 12),
    ),
    (
        &[
            "isra and mi'raj",
            "isra and miraj",
            "isra' and mi'raj",
            "al isra wal miraj",
            "the prophet's ascension",
            "prophet's ascension",
            "the night journey",
            "night journey",
            "ascension to heaven",
            "登霄节",
            "登霄節",
            "夜行登霄节",
            "夜行登霄節",
        ],
        Rule::Hijri(7, 27),
    ),
    (
        &[
            "laylat al kadr",
            "laylat al-kadr",
            "laylat al qadr",
            "laylat al-qadr",
            "lailat al qadr",
            "lailat al-qadr",
            "night of measures",
            "night of power",
            "night of decree",
            "法令之夜",
            "权力之夜",
            "權力之夜",
        ],
        Rule::Hijri(9, 27),
    ),
    (
        &["jamat ul-vida", "jamat ul vida", "jamat-ul-vida", "jumu'atul-wida", "jumu'atul wida", "jumuatul wida"],
        Rule::RamadanLastFriday,
    ),
    (&["lent", "大斋期", "大齋期", "大斋节", "大齋節"], Rule::EasterSpan(-46, 0)),
    (&["great lent", "great fast", "orthodox lent", "四旬节", "四旬節"], Rule::OrthodoxSpan(-48, -8)),
    (&["koningsdag", "king's day", "kings day"], Rule::KingsDay),
    (&["parsi new year", "jamshedi navroz", "jamshedi nowruz"], Rule::Parsi),
    (&["earth hour", "地球一小时", "地球一小時"], Rule::EarthHour),
    (
        &[
            "pongal",
            "thai pongal",
            "makar sankranti",
            "makara sankranti",
            "makara sankranthi",
            "maghi",
            "印度丰收节",
            "印度豐收節",
            "淡米尔丰收节",
            "淡米爾豐收節",
            "庞格尔节",
            "龐格爾節",
        ],
        Rule::Sankranti(270, 0),
    ),
    (&["bogi pandigai", "bhogi"], Rule::Sankranti(270, -1)),
    (&["maattu pongal", "mattu pongal"], Rule::Sankranti(270, 1)),
    (&["kaanum pongal", "kanni pongal"], Rule::Sankranti(270, 2)),
    (&["vaisakhi", "baisakhi", "vasakhi", "vaishakhi", "mesha sankranti"], Rule::Sankranti(0, 0)),
];
/// Lexicon from holiday names to table indices.
pub(crate) static NAMES: Lazy<Lexicon<usize>> = Lazy::new(|| {
    let mut entries: Vec<(&str, usize)> = Vec::new();
    for (i, (names, _)) in TABLE.iter().enumerate() {
        for n in names.iter() {
            entries.push((n, i));
        }
    }
    Lexicon::new(&entries)
});

/// Western (Gregorian) Easter Sunday (anonymous Gregorian algorithm).
pub(crate) fn easter(y: i32) -> Option<NaiveDate> {
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(y, month as u32, day as u32)
}

/// Orthodox Easter Sunday (Julian computus, shown in the Gregorian calendar).
pub(crate) fn orthodox_easter(y: i32) -> Option<NaiveDate> {
    let a = y % 4;
    let b = y % 7;
    let c = y % 19;
    let d = (19 * c + 15) % 30;
    let e = (2 * a + 4 * b - d + 34) % 7;
    let month = (d + e + 114) / 31;
    let day = (d + e + 114) % 31 + 1;
    let julian = NaiveDate::from_ymd_opt(y, month as u32, day as u32)?;
    // Julian to Gregorian offset
    let offset = y / 100 - y / 400 - 2;
    Some(julian + Duration::days(offset as i64))
}

/// n-th weekday `wd` of month `m` (n = -1: last).
pub(crate) fn nth_weekday(y: i32, m: u32, wd: u32, n: i32) -> Option<NaiveDate> {
    if n > 0 {
        let first = NaiveDate::from_ymd_opt(y, m, 1)?;
        let off = (wd as i64 - first.weekday().num_days_from_monday() as i64).rem_euclid(7);
        let d = first + Duration::days(off + 7 * (n as i64 - 1));
        (d.month() == m).then_some(d)
    } else {
        let last = NaiveDate::from_ymd_opt(y, m, super::days_in_month(y, m))?;
        let off = (last.weekday().num_days_from_monday() as i64 - wd as i64).rem_euclid(7);
        Some(last - Duration::days(off + 7 * (-(n as i64) - 1)))
    }
}

/// Date of holiday `h` in year `y`.
pub(crate) fn date(h: usize, y: i32) -> Option<NaiveDate> {
    let (_, rule) = TABLE.get(h)?;
    if !(1..=9999).contains(&y) {
        return None;
    }
    match *rule {
        Rule::Fixed(m, d) => NaiveDate::from_ymd_opt(y, m, d),
        Rule::Nth(m, wd, n) => nth_weekday(y, m, wd, n),
        Rule::Easter(off) => easter(y).map(|d| d + Duration::days(off)),
        Rule::Orthodox(off) => orthodox_easter(y).map(|d| d + Duration::days(off)),
        Rule::Lunar(m, d) => lunar::to_solar(y, m, d),
        Rule::LunarEve => lunar::new_years_eve(y),
        Rule::BlackFriday => nth_weekday(y, 11, 3, 4).map(|d| d + Duration::days(1)),
        Rule::BossDay => {
            let d = NaiveDate::from_ymd_opt(y, 10, 16)?;
            Some(match d.weekday().num_days_from_monday() {
                5 => d - Duration::days(1),
                6 => d + Duration::days(1),
                _ => d,
            })
        }
        Rule::SolarTerm(lon) => {
            let march = NaiveDate::from_ymd_opt(y, 3, 20)?;
            let g = march + Duration::days((lon as f64 / 360.0 * 365.2422) as i64);
            let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)?;
            let jd = 2451544.5 + (g - epoch).num_days() as f64;
            let t = lunar::solar_term(lon as f64, jd);
            let local = t + 0.5 + 8.0 / 24.0;
            epoch.checked_add_signed(Duration::days(local.floor() as i64 - 2451545))
        }
        Rule::Hebrew(m, d, post) => calendars::hebrew_in_year(y, m, d, |x| {
            let wd = x.weekday().num_days_from_monday();
            let shift = match (post, wd) {
                (Post::TishaBav, 5) => 1,
                (Post::Independence, 4) => -1,
                (Post::Independence, 5) => -2,
                (Post::Independence, 0) => 1,
                (Post::Shoah, 4) => -1,
                (Post::Shoah, 6) => 1,
                _ => 0,
            };
            x + Duration::days(shift - 1)
        }),
        Rule::HebrewSpan(m, d, _) => calendars::hebrew_in_year(y, m, d, |x| x - Duration::days(1)),
        Rule::Hijri(m, d) => calendars::hijri_in_year(y, m, d),
        Rule::Ramadan => calendars::hijri_in_year(y, 9, 1),
        Rule::RamadanLastFriday => {
            let start = calendars::hijri_in_year(y, 9, 1)?;
            let (hy, hm) = calendars::hijri_month_of(start)?;
            let end = calendars::hijri_next_month(hy, hm)?;
            let back = (end.weekday().num_days_from_monday() as i64 - 4 + 6).rem_euclid(7) + 1;
            Some(end - Duration::days(back))
        }
        Rule::EasterSpan(a, _) => easter(y).map(|d| d + Duration::days(a)),
        Rule::OrthodoxSpan(a, _) => orthodox_easter(y).map(|d| d + Duration::days(a)),
        Rule::KingsDay => {
            let d = NaiveDate::from_ymd_opt(y, 4, 27)?;
            Some(if d.weekday().num_days_from_monday() == 6 { d - Duration::days(1) } else { d })
        }
        Rule::Parsi => {
            // 1 Farvardin 1388 YZ fell on 17 August 2018; every year is 365 days
            let anchor = NaiveDate::from_ymd_opt(2018, 8, 17)?;
            let d = anchor + Duration::days(365 * (y as i64 - 2018));
            // the year drifts a day every four years: keep the one in year y
            Some(if d.year() > y { d - Duration::days(365) } else { d })
        }
        Rule::EarthHour => {
            // last Saturday of March, a week earlier when that is Holy Saturday
            let d = nth_weekday(y, 3, 5, -1)?;
            Some(if Some(d + Duration::days(1)) == easter(y) { d - Duration::days(7) } else { d })
        }
        Rule::Sankranti(lon, off) => {
            // Lahiri ayanamsa, degrees
            let ayanamsa = 23.853 + (y as f64 - 2000.0) * 0.013_969;
            let target = (lon as f64 + ayanamsa).rem_euclid(360.0);
            let month = if lon == 270 { 1 } else { 4 };
            let guess = NaiveDate::from_ymd_opt(y, month, 14)?;
            let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)?;
            let jd = 2451544.5 + (guess - epoch).num_days() as f64;
            let t = lunar::solar_term(target, jd) + 0.5 + 5.5 / 24.0;
            let day = t.floor();
            let after_sunset = (t - day) * 24.0 >= 18.0;
            let d = epoch.checked_add_signed(Duration::days(day as i64 - 2451545))?;
            Some(d + Duration::days(off + i64::from(after_sunset)))
        }
    }
}

/// End (exclusive) of a holiday lasting several days that starts on `start`, as a
/// date; `None` for one-day holidays.
pub(crate) fn span_end(h: usize, start: NaiveDate) -> Option<NaiveDate> {
    let (_, rule) = TABLE.get(h)?;
    match *rule {
        Rule::HebrewSpan(_, _, n) => Some(start + Duration::days(n)),
        Rule::Ramadan => {
            let (hy, hm) = calendars::hijri_month_of(start)?;
            calendars::hijri_next_month(hy, hm)
        }
        Rule::EasterSpan(a, b) | Rule::OrthodoxSpan(a, b) => Some(start + Duration::days(b - a)),
        _ => None,
    }
}

/// Clock span of a holiday that is a few hours long: (from, to) as (hour, minute),
/// `to` exclusive at minute grain.
pub(crate) fn clock_span(h: usize) -> Option<((u32, u32), (u32, u32))> {
    match TABLE.get(h)?.1 {
        Rule::EarthHour => Some(((20, 30), (21, 31))),
        _ => None,
    }
}

/// Whether a holiday name is also an everyday word, valid only with a year or a
/// modifier ("lent" the verb).
pub(crate) fn needs_context(c: &[char], start: usize, end: usize) -> bool {
    end - start == 4 && c[start..end].iter().copied().eq("lent".chars())
}
