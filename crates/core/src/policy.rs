//! The dialogue policy outside forms: how an NLU result becomes a decision, and the
//! built-in words and texts every assistant understands in both languages.

use crate::bot::PolicyConfig;
use crate::language::Language;
use crate::nlu::IntentScore;

/// How sure the NLU is about a message.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Interpretation {
    /// The top intent clears the threshold and the margin.
    Confident(IntentScore),
    /// The top two are too close to tell apart.
    Ambiguous(IntentScore, IntentScore),
    /// Below the threshold (or no intent at all).
    Unsure,
}

impl Interpretation {
    pub(crate) fn confident(&self) -> Option<&str> {
        match self {
            Interpretation::Confident(s) => Some(&s.name),
            _ => None,
        }
    }
}

/// `intent_threshold` is the policy's, resolved against the classifier's calibrated one.
pub(crate) fn interpret(ranking: &[IntentScore], policy: &PolicyConfig, intent_threshold: f32) -> Interpretation {
    let Some(top) = ranking.first() else {
        return Interpretation::Unsure;
    };
    if top.confidence < intent_threshold {
        return Interpretation::Unsure;
    }
    match ranking.get(1) {
        Some(second) if top.confidence - second.confidence < policy.ambiguity_margin => {
            Interpretation::Ambiguous(top.clone(), second.clone())
        }
        _ => Interpretation::Confident(top.clone()),
    }
}

fn strip(text: &str) -> String {
    text.trim()
        .trim_end_matches(|c: char| c.is_ascii_punctuation() || "。！？，、~～".contains(c))
        .trim()
        .to_lowercase()
}

/// The first word of a lower-cased text (Latin words; a CJK text is its own first word).
fn first_word(t: &str) -> &str {
    t.split(|c: char| c.is_whitespace() || c == ',' || c == '.' || c == '!').next().unwrap_or("")
}

/// "取消", "算了", "cancel", "never mind"… as the whole message, or a short message starting
/// with one and carrying no other information (no digits: "取消订单SO123456" is a request).
pub(crate) fn is_cancel(text: &str) -> bool {
    let t = strip(text);
    const EXACT: [&str; 16] = [
        "取消",
        "算了",
        "不要了",
        "不用了",
        "不办了",
        "退出",
        "取消吧",
        "算了吧",
        "cancel",
        "stop",
        "never mind",
        "nevermind",
        "forget it",
        "quit",
        "cancel it",
        "cancel that",
    ];
    if EXACT.contains(&t.as_str()) {
        return true;
    }
    let short = t.chars().count() <= 16 && !t.chars().any(|c| c.is_ascii_digit());
    short
        && (["取消", "算了", "不用了", "不要了", "never mind", "forget it"].iter().any(|p| t.starts_with(p))
            || first_word(&t) == "cancel")
}

/// Yes-like answers.
pub(crate) fn is_affirm(text: &str) -> bool {
    let t = strip(text);
    const WORDS: [&str; 26] = [
        "是",
        "是的",
        "对",
        "对的",
        "好",
        "好的",
        "确认",
        "确定",
        "可以",
        "嗯",
        "行",
        "没错",
        "没问题",
        "对啊",
        "是啊",
        "yes",
        "y",
        "yeah",
        "yep",
        "sure",
        "ok",
        "okay",
        "correct",
        "confirm",
        "right",
        "please do",
    ];
    WORDS.contains(&t.as_str())
        || (["yes", "yeah", "yep", "sure", "ok", "okay"].contains(&first_word(&t)) && t.split_whitespace().count() <= 4)
        || ["是的", "确认", "没错", "对的"].iter().any(|p| t.starts_with(p) && t.chars().count() <= 8)
}

/// No-like answers.
pub(crate) fn is_deny(text: &str) -> bool {
    let t = strip(text);
    const WORDS: [&str; 16] = [
        "不",
        "不是",
        "否",
        "不对",
        "不用",
        "不要",
        "错了",
        "没有",
        "no",
        "n",
        "nope",
        "not really",
        "wrong",
        "incorrect",
        "no thanks",
        "no thank you",
    ];
    WORDS.contains(&t.as_str())
        || ((t.starts_with("no,") || t.starts_with("nope")) && t.split_whitespace().count() <= 4)
}

/// "Yes" / "No" quick replies in the conversation's language.
pub(crate) fn yes_no_buttons(lang: Language) -> Vec<crate::response::RenderedButton> {
    ["yes", "no"]
        .iter()
        .map(|k| crate::response::RenderedButton {
            title: builtin_text(k, lang).into(),
            payload: builtin_text(k, lang).into(),
        })
        .collect()
}

/// Texts the engine says on its own when the bot does not define a response of that name.
pub(crate) fn builtin_text(key: &str, lang: Language) -> &'static str {
    match (key, lang) {
        ("fallback", Language::Zh) => "抱歉，我没有理解您的意思，能换个说法吗？",
        ("fallback", Language::En) => "Sorry, I didn't understand that. Could you rephrase it?",
        ("handoff_offer", Language::Zh) => "看来我没能帮上忙，需要为您转接人工客服吗？",
        ("handoff_offer", Language::En) => "It seems I can't help with this. Shall I connect you to a human agent?",
        ("handoff", Language::Zh) => "正在为您转接人工客服，请稍候。",
        ("handoff", Language::En) => "I'm connecting you to a human agent, please wait a moment.",
        ("handoff_declined", Language::Zh) => "好的，请继续告诉我您需要什么帮助。",
        ("handoff_declined", Language::En) => "Alright, please tell me what you need.",
        ("flow_cancelled", Language::Zh) => "好的，已取消。还有什么可以帮您？",
        ("flow_cancelled", Language::En) => "Okay, I've cancelled that. Anything else I can help with?",
        ("flow_declined", Language::Zh) => "好的，没有提交。还有什么可以帮您？",
        ("flow_declined", Language::En) => "Okay, nothing was submitted. Anything else I can help with?",
        ("invalid_value", Language::Zh) => "这个信息好像不太对。",
        ("invalid_value", Language::En) => "That doesn't look right.",
        ("too_many_attempts", Language::Zh) => "抱歉，我还是没能确认这个信息。",
        ("too_many_attempts", Language::En) => "Sorry, I still couldn't get that information.",
        ("action_failed", Language::Zh) => "抱歉，系统暂时无法处理，请稍后再试。",
        ("action_failed", Language::En) => "Sorry, something went wrong on our side. Please try again later.",
        ("anything_else", Language::Zh) => "好的。还有什么可以帮您？",
        ("anything_else", Language::En) => "Okay. Is there anything else I can help you with?",
        ("correction_unclear", Language::Zh) => "抱歉，您想修改的是哪一项？请连同名称一起告诉我，比如「金额改成600」。",
        ("correction_unclear", Language::En) => {
            "Sorry, which detail should I change? Please name it, for example \"change the amount to 45\"."
        }
        ("disambiguate", Language::Zh) => "您是想咨询哪一项？",
        ("disambiguate", Language::En) => "Which of these did you mean?",
        ("yes", Language::Zh) => "是的",
        ("yes", Language::En) => "Yes",
        ("no", Language::Zh) => "不是",
        ("no", Language::En) => "No",
        (_, Language::Zh) => "好的。",
        (_, Language::En) => "Okay.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, c: f32) -> IntentScore {
        IntentScore { name: name.into(), confidence: c }
    }

    #[test]
    fn interprets_thresholds_and_margin() {
        let p = PolicyConfig { ambiguity_margin: 0.1, ..Default::default() };
        assert_eq!(interpret(&[s("a", 0.9), s("b", 0.05)], &p, 0.5).confident(), Some("a"));
        assert!(matches!(interpret(&[s("a", 0.55), s("b", 0.5)], &p, 0.5), Interpretation::Ambiguous(..)));
        assert_eq!(interpret(&[s("a", 0.3)], &p, 0.5), Interpretation::Unsure);
        assert_eq!(interpret(&[s("a", 0.3)], &p, 0.25).confident(), Some("a"));
        assert_eq!(interpret(&[], &p, 0.5), Interpretation::Unsure);
    }

    #[test]
    fn intent_threshold_is_a_number_or_auto() {
        use crate::bot::IntentThreshold;
        let parse = |y: &str| serde_yaml::from_str::<PolicyConfig>(y).map(|p| p.intent_threshold);
        assert_eq!(parse("{}").ok(), Some(IntentThreshold::Auto));
        assert_eq!(parse("intent_threshold: auto").ok(), Some(IntentThreshold::Auto));
        assert_eq!(parse("intent_threshold: 0.4").ok(), Some(IntentThreshold::Fixed(0.4)));
        let err = parse("intent_threshold: high").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("`auto`"), "{err}");
        assert_eq!(IntentThreshold::Auto.resolve(Some(0.62)), 0.62);
        assert_eq!(IntentThreshold::Auto.resolve(None), IntentThreshold::FALLBACK);
        assert_eq!(IntentThreshold::Fixed(0.4).resolve(Some(0.62)), 0.4);
        assert_eq!(serde_json::to_string(&IntentThreshold::Auto).ok().as_deref(), Some("\"auto\""));
    }

    #[test]
    fn understands_builtin_words() {
        assert!(is_cancel("算了"));
        assert!(is_cancel("Cancel."));
        assert!(is_cancel("取消吧！"));
        assert!(!is_cancel("我想取消订单SO123456的退货申请然后重新下单"));
        assert!(is_affirm("是的"));
        assert!(is_affirm("Yes please"));
        assert!(is_deny("不是"));
        assert!(is_deny("No"));
        assert!(!is_affirm("no"));
        assert!(!is_affirm("yesterday my parcel was late"));
        assert!(!is_deny("no idea where my parcel is"));
        assert!(is_deny("no, that's wrong"));
        assert!(!is_cancel("取消订单SO123456"));
        assert!(is_cancel("cancel please"));
    }
}
