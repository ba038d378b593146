use super::postprocess::{drop_swallowing, is_sure, merge_split_builtins};
use super::*;

use crate::entities::{EntityKind, ParsedEntity};

/// Test-only reader of `[text](entity)` and `[text](entity:role)` annotations.
fn ex(annotated: &str) -> TaggerExample {
    let mut text = String::new();
    let mut spans = Vec::new();
    let mut rest = annotated;
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find("](").expect("](");
        let end_label = after[close..].find(')').expect(")") + close;
        let value = &after[..close];
        let label = &after[close + 2..end_label];
        let (entity, role) = match label.split_once(':') {
            Some((e, r)) => (e.to_string(), Some(r.to_string())),
            None => (label.to_string(), None),
        };
        let start = text.chars().count();
        text.push_str(value);
        spans.push(TaggedSpan { start, end: text.chars().count(), entity, role, group: None });
        rest = &after[end_label + 1..];
    }
    text.push_str(rest);
    TaggerExample { text, spans }
}

/// The tagged spans as (surface text, entity, role).
fn found(tagger: &EntityTagger, text: &str) -> Vec<(String, String, Option<String>)> {
    let chars: Vec<char> = text.chars().collect();
    tagger.tag(text).into_iter().map(|s| (chars[s.start..s.end].iter().collect(), s.entity, s.role)).collect()
}

fn plain(value: &str, entity: &str) -> (String, String, Option<String>) {
    (value.to_string(), entity.to_string(), None)
}

fn role(value: &str, entity: &str, role: &str) -> (String, String, Option<String>) {
    (value.to_string(), entity.to_string(), Some(role.to_string()))
}

fn zh_passengers() -> Vec<TaggerExample> {
    [
        "帮[孙七](passenger)订票",
        "给[王芳](passenger)订一张去上海的票",
        "乘客是[李雷](passenger)",
        "帮[张伟](passenger)买两张票",
        "替[刘洋](passenger)订明天的机票",
        "我要给[陈静](passenger)订票",
        "乘客[赵敏](passenger)，明天上午出发",
        "帮[黄磊](passenger)改签",
        "给[杨柳](passenger)退票",
        "帮[吴昊](passenger)查一下订单",
        "请帮[郑爽](passenger)订后天的票",
        "乘客姓名是[林涛](passenger)",
        "帮[韩梅梅](passenger)订一张票",
        "给[徐静](passenger)付三百元的订金",
        "我要订票",
        "帮我查一下订单",
        "明天的票还有吗",
        "帮我退票",
        "我想改签到后天",
        "付五百元可以吗",
    ]
    .iter()
    .map(|s| ex(s))
    .collect()
}

fn en_passengers() -> Vec<TaggerExample> {
    [
        "book a ticket for [Maria Lopez](passenger)",
        "a seat for [John Smith](passenger) please",
        "the passenger is [Anne Lee](passenger)",
        "book it for [David Chen](passenger) tomorrow",
        "please add [Sarah Connor](passenger) to the booking",
        "change the name to [Peter Parker](passenger)",
        "I need a ticket for [Linda Brown](passenger) on Friday",
        "for [James Wilson](passenger), two bags",
        "my name is [Emily Clark](passenger)",
        "book a flight for [Robert King](passenger) and pay 300 dollars",
        "passenger [Karen White](passenger)",
        "can you book for [Michael Scott](passenger)",
        "I want to book a ticket",
        "cancel my booking please",
        "change my flight to Friday",
        "how much is a ticket for tomorrow",
        "add two bags to the booking",
    ]
    .iter()
    .map(|s| ex(s))
    .collect()
}

fn trips() -> Vec<TaggerExample> {
    let cities = ["北京", "上海", "广州", "深圳", "成都", "武汉", "西安", "重庆", "南京", "长沙"];
    let templates = ["从{a}到{b}", "我要从{a}去{b}", "{a}到{b}的机票", "买一张从{a}飞{b}的票", "明天从{a}出发去{b}"];
    let mut out = Vec::new();
    for (i, t) in templates.iter().enumerate() {
        for j in 0..cities.len() {
            let a = cities[(j + i) % cities.len()];
            let b = cities[(j + i + 3) % cities.len()];
            out.push(ex(&t.replace("{a}", &format!("[{a}](city:from)")).replace("{b}", &format!("[{b}](city:to)"))));
        }
    }
    let en = ["Paris", "London", "Berlin", "Madrid", "Rome", "Vienna", "Prague", "Lisbon"];
    let en_templates =
        ["from {a} to {b}", "a flight from {a} to {b}", "I fly to {b} from {a}", "going to {b} from {a}"];
    for (i, t) in en_templates.iter().enumerate() {
        for j in 0..en.len() {
            let a = en[(j + i) % en.len()];
            let b = en[(j + i + 3) % en.len()];
            out.push(ex(&t.replace("{a}", &format!("[{a}](city:from)")).replace("{b}", &format!("[{b}](city:to)"))));
        }
    }
    out.push(ex("我要订机票"));
    out.push(ex("I want a flight"));
    out
}

#[test]
fn learns_chinese_names_and_tags_unseen_ones() {
    let tagger = EntityTagger::train(&zh_passengers(), Lang::Zh, &TaggerConfig::default());
    assert_eq!(tagger.labels(), ["passenger"]);
    assert!(!tagger.is_empty());
    assert_eq!(found(&tagger, "帮周八订票"), [plain("周八", "passenger")]);
    assert_eq!(found(&tagger, "给何琳订一张票"), [plain("何琳", "passenger")]);
    assert_eq!(found(&tagger, "乘客是马超"), [plain("马超", "passenger")]);
    assert_eq!(found(&tagger, "帮欧阳娜娜订票"), [plain("欧阳娜娜", "passenger")]);
    assert_eq!(found(&tagger, "我要订票"), []);
    assert_eq!(found(&tagger, "明天的票还有吗"), []);
}

#[test]
fn learns_english_names_and_tags_unseen_ones() {
    let tagger = EntityTagger::train(&en_passengers(), Lang::En, &TaggerConfig::default());
    assert_eq!(found(&tagger, "for Tom Baker"), [plain("Tom Baker", "passenger")]);
    assert_eq!(found(&tagger, "book a ticket for Emma Stone please"), [plain("Emma Stone", "passenger")]);
    assert_eq!(found(&tagger, "the passenger is Bruce Wayne"), [plain("Bruce Wayne", "passenger")]);
    assert_eq!(found(&tagger, "cancel my booking"), []);
}

#[test]
fn roles_are_told_apart_by_context() {
    let tagger = EntityTagger::train(&trips(), Lang::Zh, &TaggerConfig::default());
    assert_eq!(tagger.labels(), ["city"]);
    // pairs in an order never seen in training
    assert_eq!(found(&tagger, "从上海到北京"), [role("上海", "city", "from"), role("北京", "city", "to")]);
    assert_eq!(found(&tagger, "我要从长沙去成都"), [role("长沙", "city", "from"), role("成都", "city", "to")]);
    assert_eq!(found(&tagger, "从杭州到北京"), [role("杭州", "city", "from"), role("北京", "city", "to")]);
    assert_eq!(found(&tagger, "from London to Paris"), [role("London", "city", "from"), role("Paris", "city", "to")]);
    assert_eq!(
        found(&tagger, "I fly to Rome from Berlin"),
        [role("Rome", "city", "to"), role("Berlin", "city", "from")]
    );
}

#[test]
fn a_learned_span_never_swallows_an_amount_or_a_date() {
    let tagger = EntityTagger::train(&zh_passengers(), Lang::Zh, &TaggerConfig::default());
    assert_eq!(found(&tagger, "帮赵六付六百元"), [plain("赵六", "passenger")]);
    for (text, _) in [("帮钱多多订明天下午三点的票", ()), ("帮孙七付300块", ())] {
        let spans = tagger.tag(text);
        let builtins = features::builtins(text, Lang::Zh);
        for s in &spans {
            for b in builtins.iter().filter(|b| is_sure(b.kind)) {
                let overlaps = b.start < s.end && s.start < b.end;
                assert!(!overlaps || (b.start <= s.start && s.end <= b.end), "{text}: {s:?} swallows {b:?}");
            }
        }
    }
    let en = EntityTagger::train(&en_passengers(), Lang::En, &TaggerConfig::default());
    let text = "book it for Tom Baker tomorrow at 3pm";
    assert_eq!(found(&en, text), [plain("Tom Baker", "passenger")]);
}

fn builtin(kind: EntityKind, start: usize, end: usize) -> ParsedEntity {
    ParsedEntity { kind, start, end, text: String::new(), value: serde_json::Value::Null }
}

fn span(start: usize, end: usize) -> TaggedSpan {
    TaggedSpan { start, end, entity: "x".into(), role: None, group: None }
}

#[test]
fn sure_builtins_are_not_cut_or_swallowed() {
    let found = [builtin(EntityKind::Amount, 10, 14), builtin(EntityKind::Person, 20, 25)];
    let kept = |s: TaggedSpan| !drop_swallowing(vec![s], &found).is_empty();
    assert!(!kept(span(8, 12)), "crosses the start");
    assert!(!kept(span(12, 16)), "crosses the end");
    assert!(!kept(span(8, 16)), "strictly contains");
    assert!(!kept(span(10, 15)), "contains, sharing the start");
    assert!(kept(span(10, 14)), "equal: a specialised amount");
    assert!(kept(span(11, 13)), "inside");
    assert!(kept(span(0, 10)), "adjacent");
    assert!(kept(span(14, 18)), "adjacent after");
    assert!(kept(span(18, 30)), "a person may be swallowed");
    assert!(kept(span(21, 23)), "or cut");
    let many = drop_swallowing(vec![span(0, 3), span(9, 11), span(14, 16)], &found);
    assert_eq!(many, [span(0, 3), span(14, 16)]);
}

#[test]
fn neighbouring_pieces_of_one_builtin_are_merged() {
    let chars: Vec<char> = "给欧阳娜娜 Tom Baker".chars().collect();
    let found = [builtin(EntityKind::Person, 1, 5), builtin(EntityKind::Person, 6, 15)];
    let merged = merge_split_builtins(vec![span(1, 3), span(3, 5), span(6, 9), span(10, 15)], &found, &chars);
    assert_eq!(merged, [span(1, 5), span(6, 15)]);
    // not across two built-ins, not with other labels, not when something lies between
    let other = TaggedSpan { entity: "y".into(), ..span(3, 5) };
    let kept = merge_split_builtins(vec![span(1, 3), other.clone(), span(5, 6)], &found, &chars);
    assert_eq!(kept, [span(1, 3), other, span(5, 6)]);
    let gap = merge_split_builtins(vec![span(1, 2), span(3, 5)], &found, &chars);
    assert_eq!(gap.len(), 2);
}

#[test]
fn cross_validation_scores_each_entity_and_role() {
    let scores = cross_validate(&zh_passengers(), Lang::Zh, 5, &TaggerConfig::default());
    let p = scores.get("passenger").expect("passenger");
    assert_eq!(p.support, 14);
    assert!(p.correct <= p.predicted && p.correct <= p.support);
    assert!(p.f1 > 0.5, "{p:?}");

    let data = trips();
    let scores = cross_validate(&data, Lang::Zh, 4, &TaggerConfig::default());
    assert_eq!(scores.keys().collect::<Vec<_>>(), ["city#from", "city#to"]);
    for s in scores.values() {
        assert_eq!(s.support, data.len() - 2);
        for x in [s.precision, s.recall, s.f1] {
            assert!((0.0..=1.0).contains(&x), "{s:?}");
        }
    }
    let again = cross_validate(&data, Lang::Zh, 4, &TaggerConfig::default());
    assert_eq!(scores, again);
    // degenerate inputs
    assert!(cross_validate(&[], Lang::Zh, 5, &TaggerConfig::default()).is_empty());
    let one = cross_validate(&data[..1], Lang::Zh, 5, &TaggerConfig::default());
    assert_eq!(one.values().map(|s| s.support).sum::<usize>(), 2);
    assert!(one.values().all(|s| s.f1 == 0.0));
    let serialized = serde_json::to_string(&scores).expect("json");
    assert!(serialized.contains("\"support\""));
}

#[test]
fn a_tagger_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + Clone + std::fmt::Debug>() {}
    shareable::<EntityTagger>();
    let tagger = EntityTagger::train(&zh_passengers(), Lang::Zh, &TaggerConfig::default());
    let debug = format!("{tagger:?}");
    assert!(debug.contains("passenger") && debug.len() < 500, "{debug}");
}

#[test]
fn the_same_seed_gives_the_same_model() {
    let config = TaggerConfig { epochs: 10, seed: 7 };
    let a = EntityTagger::train(&trips(), Lang::Zh, &config);
    let b = EntityTagger::train(&trips(), Lang::Zh, &config);
    let ja = serde_json::to_string(&a).expect("json");
    assert_eq!(ja, serde_json::to_string(&b).expect("json"));
    let back: EntityTagger = serde_json::from_str(&ja).expect("read back");
    for text in ["从上海到北京", "from Paris to Rome", "我要从成都去西安"] {
        assert_eq!(a.tag(text), back.tag(text));
    }
}

#[test]
fn no_spans_means_an_empty_tagger() {
    let negatives = [ex("我要订票"), ex("book a ticket")];
    for data in [&negatives[..], &[]] {
        let t = EntityTagger::train(data, Lang::Zh, &TaggerConfig::default());
        assert!(t.is_empty());
        assert!(t.labels().is_empty());
        assert!(t.tag("帮周八订票").is_empty());
    }
    // spans that cover no token are ignored
    let blank =
        TaggerExample { text: "a  b".into(), spans: vec![span(1, 3), TaggedSpan { start: 9, end: 12, ..span(0, 0) }] };
    assert!(EntityTagger::train(&[blank], Lang::En, &TaggerConfig::default()).is_empty());
}

#[test]
fn odd_inputs_never_panic() {
    let mut data = zh_passengers();
    data.push(TaggerExample { text: String::new(), spans: vec![span(0, 4)] });
    data.push(TaggerExample { text: "😀😀".into(), spans: vec![span(1, 1), span(3, 1), span(0, 99)] });
    data.push(TaggerExample { text: "帮王芳订票".into(), spans: vec![span(1, 3), span(2, 4), span(1, 2)] });
    let tagger = EntityTagger::train(&data, Lang::Zh, &TaggerConfig::default());
    let long = "帮周八订票，明天下午三点出发。for Tom Baker 😀 ".repeat(2_000);
    for text in ["", " ", "\n\t", "😀", "帮", "[", "ＡＢＣ１２３", "é\u{301}", long.as_str()] {
        let spans = tagger.tag(text);
        let n = text.chars().count();
        assert!(spans.iter().all(|s| s.start < s.end && s.end <= n));
        assert!(spans.windows(2).all(|w| w[0].end <= w[1].start), "sorted, non-overlapping");
    }
    assert!(tagger.tag(&long).len() >= 1_000, "every piece of a long text is tagged");

    // a model read from a damaged file finds nothing rather than panic
    let mut json = serde_json::to_value(&tagger).expect("json");
    json["model"]["weights"] = serde_json::json!([1.0]);
    let broken: EntityTagger = serde_json::from_value(json).expect("read");
    assert!(broken.tag("帮周八订票").is_empty());
}

#[test]
fn training_300_examples_for_15_epochs_completes() {
    let names = ["孙七", "王芳", "李雷", "张伟", "刘洋", "陈静", "赵敏", "黄磊", "杨柳", "吴昊", "郑爽", "林涛"];
    let templates = ["帮{n}订票", "给{n}订一张明天的票", "乘客是{n}", "替{n}改签到后天", "帮{n}付三百元"];
    let en_names = ["Maria Lopez", "John Smith", "Anne Lee", "David Chen", "Linda Brown", "Tom Baker"];
    let mut data = Vec::new();
    let mut i = 0;
    while data.len() < 300 {
        let t = templates[i % templates.len()];
        data.push(ex(&t.replace("{n}", &format!("[{}](passenger)", names[i % names.len()]))));
        if i % 3 == 0 {
            data.push(ex(&format!("book a seat for [{}](passenger) on Friday", en_names[i % en_names.len()])));
        }
        if i % 4 == 0 {
            data.push(ex("我要订票，明天上午十点出发"));
        }
        i += 1;
    }
    data.truncate(300);
    let start = std::time::Instant::now();
    let tagger = EntityTagger::train(&data, Lang::Zh, &TaggerConfig::default());
    let trained = start.elapsed();
    let start = std::time::Instant::now();
    let mut spans = 0;
    for e in &data {
        spans += tagger.tag(&e.text).len();
    }
    eprintln!(
        "tagger: trained 300 examples x 15 epochs in {trained:?}; tagged 300 in {:?} ({spans} spans)",
        start.elapsed()
    );
    assert!(spans > 0);
}
