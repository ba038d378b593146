//! Which slots a message fills: entities matched to the slots of the active form by kind,
//! role, the words around them and what was asked; corrections of filled slots; defaults.

use crate::language::Language;
use serde_json::Value;

/// A default written per language (`{zh: CNY, en: USD}`): every key is a language code.
pub(crate) fn per_language_default(d: &Value) -> Option<Vec<(Language, &Value)>> {
    let obj = d.as_object()?;
    if obj.is_empty() {
        return None;
    }
    obj.iter().map(|(k, v)| k.parse::<Language>().ok().map(|l| (l, v))).collect()
}

/// Date words a time slot's default may use, besides an ISO date.
pub(crate) fn time_default_is_known(s: &str) -> bool {
    matches!(s.trim(), "today" | "tomorrow" | "yesterday" | "now")
        || chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").is_ok()
        || chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S").is_ok()
}

use crate::bot::OUT_OF_SCOPE_INTENT;
use crate::bot::{FlowDef, FlowSlot, SlotDef, SlotType, BUILTIN_ENTITIES};
use crate::engine::TurnRun;
use crate::flow::slot_value;
use crate::nlu::Entity;
use crate::policy::Interpretation;
use crate::session::ActiveFlow;

/// What a message does to the slots of the active form.
pub(crate) enum Plan {
    /// Values for these flow slots (index into the form's slots), in form order.
    Fill(Vec<(usize, Value)>),
    /// A correction whose target cannot be told (two filled slots take the same value kind).
    Ambiguous,
    /// A correction that names a slot without a new value ("the date is wrong"): ask it again.
    Reask(usize),
    /// Nothing in the message concerns the form's slots.
    Nothing,
}

/// Words that announce a correction of something said before.
pub(crate) fn is_correction(text: &str) -> bool {
    let t = text.to_lowercase();
    const ZH: [&str; 18] = [
        "还是",
        "改",
        "不对",
        "错了",
        "不是",
        "改成",
        "改为",
        "改到",
        "换成",
        "应该是",
        "更正",
        "改一下",
        "搞错",
        "写错",
        "说错",
        "其实是",
        "重新",
        "修改",
    ];
    const EN: [&str; 17] = [
        "changed my mind",
        "change",
        "actually",
        "instead",
        "make it",
        "correct",
        "wrong",
        "rather",
        "i meant",
        "should be",
        "update",
        "mistake",
        "not ",
        "no,",
        "no ",
        "oops",
        "sorry,",
    ];
    ZH.iter().any(|w| t.contains(w)) || EN.iter().any(|w| t.starts_with(w) || t.contains(&format!(" {w}")))
}

/// Words too common in prompts to name a slot.
const GENERIC_EN: [&str; 40] = [
    "the", "and", "what", "what's", "whats", "which", "please", "could", "would", "you", "your", "yours", "for",
    "with", "this", "that", "tell", "send", "give", "like", "want", "need", "again", "sure", "let", "know", "me",
    "can", "are", "is", "it", "to", "of", "a", "an", "do", "does", "how", "any", "just",
];
const GENERIC_ZH: [&str; 24] = [
    "请问", "多少", "是多", "什么", "一下", "您的", "麻烦", "告诉", "请告", "诉我", "哪个", "哪一", "您要", "需要",
    "可以", "好的", "我们", "帮您", "是什", "么时", "少呢", "一个", "是哪", "您想",
];

/// Terms that name a slot of a form in `lang`: its declared mentions, the words of its name,
/// and the words (en) or character pairs (zh) of its prompts (examples of answers left out)
/// that no competing slot's prompts use.
fn slot_terms(def: &FlowDef, slot_defs: &[Option<&SlotDef>], lang: Language) -> Vec<Vec<String>> {
    let prompt_terms: Vec<std::collections::BTreeSet<String>> = def
        .slots
        .iter()
        .map(|fs| {
            let mut terms: std::collections::BTreeSet<String> =
                fs.slot.split('_').filter(|w| w.len() >= 3).map(str::to_lowercase).collect();
            // Examples of answers in the prompts ("比如「尺码不对」", 'like "Tokyo"') would
            // name the slot by its values: they are left out.
            for text in fs.prompt.get(&lang).map(|p| p.as_slice()).unwrap_or_default() {
                terms.extend(text_terms(&strip_examples(&strip_placeholders(text))));
            }
            terms
        })
        .collect();
    def.slots
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let mut out: Vec<String> = slot_defs[i]
                .and_then(|d| d.mentions.get(&lang))
                .map(|m| m.iter().map(|w| w.to_lowercase()).collect())
                .unwrap_or_default();
            out.extend(
                prompt_terms[i]
                    .iter()
                    .filter(|t| {
                        prompt_terms
                            .iter()
                            .enumerate()
                            .all(|(j, other)| j == i || !competes(slot_defs[i], slot_defs[j]) || !other.contains(*t))
                    })
                    .cloned(),
            );
            out
        })
        .collect()
}

/// Whether one value could fill either slot, so that only words their prompts do not share
/// tell them apart (a city for `from_city` or `to_city`; a number for a count or an amount).
fn competes(a: Option<&SlotDef>, b: Option<&SlotDef>) -> bool {
    let (Some(a), Some(b)) = (a, b) else { return true };
    let numeric = |d: &SlotDef| matches!(d.slot_type, SlotType::Number | SlotType::Amount);
    (a.slot_type == b.slot_type && a.entity == b.entity)
        || (numeric(a) && numeric(b))
        || (a.slot_type == SlotType::Text && b.slot_type == SlotType::Text)
}

/// A prompt without its examples: quoted text and what follows "比如", "e.g.", "for example"
/// up to the end of the sentence.
fn strip_examples(text: &str) -> String {
    const OPEN: &str = "「『“\"‘'(（";
    const CLOSE: &str = "」』”\"’')）";
    const LEADS: [&str; 8] = ["比如", "例如", "譬如", "e.g.", "for example", "such as", "like ", "如："];
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut skipping_example = false;
    let mut lead_end = 0;
    let lower = text.to_lowercase();
    let same_len = lower.len() == text.len();
    for (i, c) in text.char_indices() {
        if i < lead_end {
            continue;
        }
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        if skipping_example {
            if "。.!！?？;；\n".contains(c) {
                skipping_example = false;
                out.push(c);
            }
            continue;
        }
        if let Some(k) = OPEN.find(c) {
            let close = CLOSE[k..].chars().next().unwrap_or(c);
            quote = Some(if c == '"' || c == '\'' { c } else { close });
            continue;
        }
        if let Some(lead) = LEADS.iter().find(|l| same_len && lower.get(i..).is_some_and(|rest| rest.starts_with(**l)))
        {
            skipping_example = true;
            lead_end = i + lead.len();
            continue;
        }
        out.push(c);
    }
    out
}

/// The answers a prompt offers as examples: the text inside its quotes
/// ("比如「尺码不对」「不想要了」" → 尺码不对, 不想要了; 'e.g. "Tokyo"' → Tokyo).
pub(crate) fn quoted_examples(text: &str) -> Vec<String> {
    const PAIRS: [(char, char); 5] = [('「', '」'), ('『', '』'), ('“', '”'), ('"', '"'), ('‘', '’')];
    let mut out = Vec::new();
    let mut open: Option<(char, usize)> = None;
    for (i, c) in text.char_indices() {
        match open {
            Some((close, start)) if c == close => {
                let inner = text[start..i].trim();
                if !inner.is_empty() && !inner.contains('{') {
                    out.push(inner.to_string());
                }
                open = None;
            }
            Some(_) => {}
            None => {
                if let Some(&(_, close)) = PAIRS.iter().find(|(o, _)| *o == c) {
                    open = Some((close, i + c.len_utf8()));
                }
            }
        }
    }
    out
}

fn strip_placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = (depth - 1).max(0),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Content words (Latin letters) and pairs of adjacent Han characters.
fn text_terms(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out: Vec<String> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '\''))
        .filter(|w| w.len() >= 3 && !GENERIC_EN.contains(w) && !w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect();
    let han: Vec<char> = lower.chars().collect();
    for pair in han.windows(2) {
        if pair.iter().all(|c| crate::language::is_cjk(*c)) {
            let s: String = pair.iter().collect();
            if !GENERIC_ZH.contains(&s.as_str()) {
                out.push(s);
            }
        }
    }
    out
}

/// Whether `window` mentions one of `terms` (English words match on a shared stem).
fn mentions(window: &str, terms: &[String]) -> bool {
    mention_end(window, terms).is_some()
}

/// Where the first mention of one of `terms` in `text` ends (a byte offset into `text`).
fn mention_end(text: &str, terms: &[String]) -> Option<usize> {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        return None; // lower-casing changed byte offsets: no position to trust
    }
    let mut best: Option<usize> = None;
    for t in terms {
        if t.chars().any(crate::language::is_cjk) {
            if let Some(i) = lower.find(t.as_str()) {
                best = Some(best.map_or(i + t.len(), |b| b.min(i + t.len())));
            }
            continue;
        }
        let mut from = 0;
        for w in lower.split(|c: char| !(c.is_ascii_alphanumeric() || c == '\'')) {
            let start = from;
            from += w.len() + 1;
            let hit = !w.is_empty()
                && (w == t
                    || (w.len() >= 4 && t.len() >= 4 && (w.starts_with(t.as_str()) || t.starts_with(w)))
                    || w.chars().zip(t.chars()).take_while(|(a, b)| a == b).count() >= 6);
            if hit {
                best = Some(best.map_or(start + w.len(), |b| b.min(start + w.len())));
                break;
            }
        }
    }
    best
}

/// The words after a slot's name in a correction: "原因是尺码太小" → "尺码太小", "the reason
/// is wrong size" → "wrong size". Connecting words and punctuation are skipped.
fn value_after(text: &str, end: usize) -> Option<String> {
    const LINKS: [&str; 19] = [
        "应该是",
        "改成",
        "改为",
        "换成",
        "其实是",
        "写成",
        "是",
        "为",
        "叫",
        "写",
        "填",
        "should be",
        "is",
        "was",
        "to",
        "be",
        ":",
        "：",
        "=",
    ];
    let mut rest = text.get(end..)?.trim_start();
    loop {
        let before = rest;
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || ",，:：".contains(c));
        for l in LINKS {
            if let Some(r) = rest.strip_prefix(l) {
                let boundary = l.chars().any(crate::language::is_cjk) || r.is_empty() || r.starts_with(' ');
                if boundary {
                    rest = r;
                    break;
                }
            }
        }
        if rest == before {
            break;
        }
    }
    // One clause: "原因是尺码偏小，订单SO123456" → "尺码偏小".
    let clause = rest.split(|c: char| "，,。；;!！?？\n".contains(c)).next().unwrap_or("");
    let value = clause.trim().trim_end_matches(|c: char| ".~～".contains(c)).trim();
    // "日期不对", "the name is wrong": a complaint about the value, not a new one.
    let complaint =
        crate::policy::is_deny(value) || ["有误", "不正确", "错误", "not right", "is wrong"].contains(&value);
    (!value.is_empty() && !complaint).then(|| value.to_string())
}

impl TurnRun<'_> {
    /// A slot the form asks for: required and without a default.
    pub(crate) fn is_asked(&self, fs: &FlowSlot) -> bool {
        fs.required && fs.default.is_none() && self.bot().slots.get(&fs.slot).is_none_or(|d| d.default.is_none())
    }

    /// The default of a form slot for this turn: its value in the turn's language, date words
    /// resolved against today in the bot's time zone, bare numbers of amount slots in the
    /// language's currency.
    pub(crate) fn slot_default(&self, fs: &FlowSlot) -> Option<Value> {
        let slot = self.bot().slots.get(&fs.slot)?;
        let raw = fs.default.as_ref().or(slot.default.as_ref())?;
        let raw = match per_language_default(raw) {
            Some(per) => per.into_iter().find(|(l, _)| *l == self.language).map(|(_, v)| v)?,
            None => raw,
        };
        match (slot.slot_type, raw) {
            (SlotType::Time, Value::String(word)) => {
                let today = self.local_now();
                let (at, grain) = match word.trim() {
                    "now" => (chrono::Timelike::with_nanosecond(&today, 0).unwrap_or(today), "second"),
                    "today" => (today.date().and_time(chrono::NaiveTime::MIN), "day"),
                    "tomorrow" => ((today.date() + chrono::Days::new(1)).and_time(chrono::NaiveTime::MIN), "day"),
                    "yesterday" => ((today.date() - chrono::Days::new(1)).and_time(chrono::NaiveTime::MIN), "day"),
                    other => match chrono::NaiveDate::parse_from_str(other, "%Y-%m-%d") {
                        Ok(d) => (d.and_time(chrono::NaiveTime::MIN), "day"),
                        Err(_) => (chrono::NaiveDateTime::parse_from_str(other, "%Y-%m-%dT%H:%M:%S").ok()?, "second"),
                    },
                };
                Some(serde_json::json!({
                    "type": "instant", "value": at.format("%Y-%m-%dT%H:%M:%S").to_string(), "grain": grain
                }))
            }
            (SlotType::Amount, Value::Number(n)) => Some(self.amount_of(Value::Number(n.clone()))),
            (_, v) => Some(v.clone()),
        }
    }

    /// `{"value": n, "currency": <the language's currency>}`.
    pub(crate) fn amount_of(&self, n: Value) -> Value {
        let mut amount = serde_json::Map::new();
        amount.insert("value".into(), n);
        if let Some(c) = self.bot().bot.currency_for(self.language) {
            amount.insert("currency".into(), Value::String(c.to_string()));
        }
        Value::Object(amount)
    }

    /// Matches this message's entities to the slots of the active form.
    ///
    /// Every (entity, slot) pair that fits is scored — the words before the entity naming the
    /// slot, the slot being asked, the entity's kind and role being the slot's own — and the
    /// best pairs win, one slot per entity and one entity per slot. A bare number may fill an
    /// amount slot and a name a text slot of a learned entity, but only where that slot is
    /// asked, named, or being corrected. In a correction, a tie between slots is ambiguous.
    pub(crate) fn plan_fill(&self, def: &FlowDef, active: &ActiveFlow) -> Plan {
        let bot = self.bot();
        let slot_defs: Vec<Option<&SlotDef>> = def.slots.iter().map(|fs| bot.slots.get(&fs.slot)).collect();
        let cue = is_correction(&self.text);
        let correcting = cue || active.confirming;
        let terms = slot_terms(def, &slot_defs, self.language);
        let chars: Vec<char> = self.text.chars().collect();
        let learned_text: Vec<usize> = (0..def.slots.len())
            .filter(|&si| {
                slot_defs[si].is_some_and(|d| {
                    d.slot_type == SlotType::Text && d.entity.as_deref().is_some_and(|k| self.is_learned_entity(k))
                })
            })
            .collect();
        let lone_learned = (learned_text.len() == 1).then(|| learned_text[0]);
        let mut pairs: Vec<(i32, usize, usize, Value)> = Vec::new(); // (score, entity, slot, value)
        let mut window_start = 0;
        let letters = chars.iter().filter(|c| c.is_alphanumeric()).count();
        let off_topic = matches!(&self.interpretation, Interpretation::Confident(top)
            if top.name == OUT_OF_SCOPE_INTENT && top.confidence >= 0.85);
        for (ei, e) in self.entities.iter().enumerate() {
            let end = e.end.min(chars.len());
            let outside =
                letters.saturating_sub(chars[e.start.min(end)..end].iter().filter(|c| c.is_alphanumeric()).count());
            let bare_answer = outside <= 1;
            let window: String = chars[window_start.min(end)..end].iter().collect();
            window_start = end;
            for (si, fs) in def.slots.iter().enumerate() {
                let Some(sd) = slot_defs[si] else { continue };
                let Some((exact, mut value)) = self.entity_fits(e, sd) else { continue };
                // The words naming a slot override a role the tagger guessed from context, and a
                // bare answer ("savings account") has no context to guess a role from.
                let role = if bare_answer { None } else { e.role.as_ref() };
                let role_clash = matches!((&sd.role, role), (Some(want), Some(got)) if want != got);
                let requested = active.requested_slot.as_deref() == Some(fs.slot.as_str());
                // The answer to the question of a learned free-form slot is the whole answer
                // ("颜色和图片差太多", not the "和图片差太多" the tagger read); names excepted.
                let is_name = self.entities.iter().any(|o| o.kind == "person" && o.start < e.end && e.start < o.end);
                if requested && exact && !is_name && self.is_learned_entity(&e.kind) {
                    value = Value::String(crate::flow::typed_text(&self.turn.text));
                }
                let named = mentions(&window, &terms[si]);
                let filled = self.session.slots.contains_key(&fs.slot);
                // A name fills the form's only learned text slot even when it was not asked:
                // "帮蔡文华交一下账单" while the tagger read no payer.
                let lone_name_slot = e.kind == "person" && lone_learned == Some(si) && !filled;
                if !(exact || requested || named || (correcting && filled) || lone_name_slot) {
                    continue;
                }
                if role_clash && !named {
                    continue;
                }
                // Off-topic text ("who painted the Mona Lisa?") names no passenger.
                if !exact && off_topic && e.kind == "person" {
                    continue;
                }
                let score = 8 * i32::from(named)
                    + 3 * i32::from(requested)
                    + 3 * i32::from(sd.role.is_some() && sd.role.as_ref() == role)
                    + 2 * i32::from(exact)
                    + i32::from(if correcting { filled } else { !filled });
                pairs.push((score, ei, si, value));
            }
        }
        // Best pairs first; at equal score, earlier entities and earlier slots first.
        pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut used_entities: Vec<usize> = Vec::new();
        let mut used_slots: Vec<usize> = Vec::new();
        let mut fills: Vec<(usize, Value)> = Vec::new();
        for (k, (score, ei, si, value)) in pairs.iter().enumerate() {
            if used_entities.contains(ei) || used_slots.contains(si) {
                continue;
            }
            let rival = pairs[k + 1..]
                .iter()
                .any(|(s, e, other, _)| s == score && e == ei && !used_slots.contains(other) && other != si);
            if rival && correcting && self.session.slots.contains_key(&def.slots[*si].slot) {
                return Plan::Ambiguous;
            }
            let (s, e) = (self.entities[*ei].start, self.entities[*ei].end);
            used_entities
                .extend(self.entities.iter().enumerate().filter(|(_, o)| o.start < e && s < o.end).map(|(i, _)| i));
            used_slots.push(*si);
            fills.push((*si, value.clone()));
        }
        // Categorical slots with listed values and no entity: the value written in the text.
        let lower = self.text.to_lowercase();
        for (si, sd) in slot_defs.iter().enumerate() {
            let Some(sd) = sd else { continue };
            if used_slots.contains(&si) || sd.slot_type != SlotType::Categorical || sd.entity.is_some() {
                continue;
            }
            if let Some(v) = sd.values.iter().find(|v| lower.contains(&v.to_lowercase())) {
                fills.push((si, Value::String(v.clone())));
            }
        }
        // A learned free-form value the tagger cut short in a correction ("actually the reason
        // is wrong colour" read as "colour"): the words after the slot's name.
        if cue {
            for (si, value) in fills.iter_mut() {
                let Some(short) = value.as_str() else { continue };
                let free_form = slot_defs[*si].is_some_and(|d| {
                    d.slot_type == SlotType::Text && d.entity.as_deref().is_some_and(|k| self.is_learned_entity(k))
                });
                if !free_form || self.entities.iter().any(|o| o.kind == "person" && o.text == short) {
                    continue;
                }
                let longer = mention_end(&self.text, &terms[*si]).and_then(|end| value_after(&self.text, end));
                if let Some(v) = longer.filter(|v| v.len() > short.len() && v.contains(short)) {
                    *value = Value::String(v);
                }
            }
        }
        if fills.is_empty() && cue {
            if let Some(si) = (0..def.slots.len())
                .find(|&si| self.session.slots.contains_key(&def.slots[si].slot) && mentions(&self.text, &terms[si]))
            {
                // A text slot takes the words after its name: "不对，原因是尺码太小".
                let text_slot = slot_defs[si].is_some_and(|d| {
                    d.slot_type == SlotType::Text && d.entity.as_deref().is_none_or(|k| self.is_learned_entity(k))
                });
                if text_slot {
                    if let Some(v) = mention_end(&self.text, &terms[si]).and_then(|end| value_after(&self.text, end)) {
                        return Plan::Fill(vec![(si, Value::String(v))]);
                    }
                }
                return Plan::Reask(si);
            }
        }
        fills.sort_by_key(|(si, _)| *si);
        if fills.is_empty() {
            Plan::Nothing
        } else {
            Plan::Fill(fills)
        }
    }

    /// Whether entity `e` can fill a slot declared as `sd`, exactly (its own kind) or by
    /// conversion (a number as an amount, a name for a learned entity); with the value.
    fn entity_fits(&self, e: &Entity, sd: &SlotDef) -> Option<(bool, Value)> {
        let kind = sd.entity.as_deref().or(sd.slot_type.builtin_kind());
        if kind == Some(e.kind.as_str()) {
            return Some((true, slot_value(e)));
        }
        match (sd.slot_type, e.kind.as_str()) {
            (SlotType::Amount, "number") if sd.entity.is_none() && !self.counts_something(e) => {
                Some((false, self.amount_of(slot_value(e))))
            }
            (SlotType::Text, "person") if sd.entity.as_deref().is_none_or(|k| self.is_learned_entity(k)) => {
                Some((false, slot_value(e)))
            }
            _ => None,
        }
    }

    /// A Chinese number followed by a measure word counts things ("一笔", "两张", "3个"): it
    /// is not a bare amount of money.
    fn counts_something(&self, e: &Entity) -> bool {
        const MEASURE_WORDS: &str = "笔个张件次位天号份条本台辆间家只双套瓶杯种样下点些楼层岁年月周分秒趟遍口";
        self.text.chars().nth(e.end).is_some_and(|c| MEASURE_WORDS.contains(c))
    }

    /// An entity known only from annotations of the training examples.
    pub(crate) fn is_learned_entity(&self, kind: &str) -> bool {
        !self.bot().entities.contains_key(kind) && !BUILTIN_ENTITIES.contains(&kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correction_words_in_both_languages() {
        for t in
            ["不对，金额应该是六百", "错了，改成一千二", "no, change it to $45", "actually it is for Dana", "改成后天"]
        {
            assert!(is_correction(t), "{t}");
        }
        for t in ["六百", "for Dana", "明天", "book a flight to Tokyo", "我要订票"] {
            assert!(!is_correction(t), "{t}");
        }
    }

    #[test]
    fn per_language_defaults_need_every_key_to_be_a_language() {
        let both = serde_json::json!({"zh": "CNY", "en": "USD"});
        let per = per_language_default(&both).expect("per language");
        assert_eq!(per.len(), 2);
        assert!(per_language_default(&serde_json::json!({"value": 5, "currency": "CNY"})).is_none());
        assert!(per_language_default(&serde_json::json!("today")).is_none());
        assert!(time_default_is_known("today") && time_default_is_known("2026-12-24"));
        assert!(!time_default_is_known("someday"));
    }

    #[test]
    fn prompt_terms_and_mentions() {
        let zh = text_terms("请问退款金额是多少？");
        assert!(zh.contains(&"金额".to_string()) && !zh.contains(&"请问".to_string()), "{zh:?}");
        let en = text_terms("What's the refund amount?");
        assert!(en.contains(&"amount".to_string()) && !en.contains(&"the".to_string()), "{en:?}");
        assert!(mentions("不对，金额应该是", &["金额".to_string()]));
        assert!(mentions("wait, the departure city is", &["departing".to_string()]));
        assert!(mentions("change the amounts", &["amount".to_string()]));
        assert!(!mentions("change the date", &["amount".to_string()]));
        assert_eq!(strip_placeholders("确认 {order_id} 吗"), "确认  吗");
        assert_eq!(
            strip_examples("简单说一下原因就好，比如「尺码不对」「不想要了」。谢谢"),
            "简单说一下原因就好，。谢谢"
        );
        assert_eq!(
            strip_examples("Please tell me the destination city, e.g. \"Tokyo\". Thanks"),
            "Please tell me the destination city, . Thanks"
        );
        assert_eq!(strip_examples("请告诉我目的地城市（如「北京」）"), "请告诉我目的地城市");
        assert_eq!(quoted_examples("简单说一下原因就好，比如「尺码不对」「不想要了」。"), ["尺码不对", "不想要了"]);
        assert_eq!(quoted_examples("Which city, e.g. \"Tokyo\"? Or “Paris”"), ["Tokyo", "Paris"]);
        assert!(quoted_examples("订单号是 {order_id} 吗？「").is_empty());
        let reason = ["原因".to_string(), "reason".to_string()];
        let zh = "不对，原因是尺码太小";
        assert_eq!(mention_end(zh, &reason).and_then(|e| value_after(zh, e)).as_deref(), Some("尺码太小"));
        let en = "no, the reason is wrong size.";
        assert_eq!(mention_end(en, &reason).and_then(|e| value_after(en, e)).as_deref(), Some("wrong size"));
        assert_eq!(
            mention_end("日期不对", &["日期".to_string()]).and_then(|e| value_after("日期不对", e)).as_deref(),
            None
        );
    }
}
