//! Forms: filling slots from entities or free text, validation, numbered re-prompts,
//! corrections, digressions, cancel, switching flows, confirmation and completion.

use crate::bot::{FlowDef, FlowSlot, SlotType, FAQ_INTENT, OUT_OF_SCOPE_INTENT};
use crate::engine::TurnRun;
use crate::error::Error;
use crate::event::Event;
use crate::nlu::Entity;
use crate::policy::{is_affirm, is_cancel, is_deny, yes_no_buttons, Interpretation};
use crate::response::{interpolate, nth_text, value_text, RenderedButton};
use crate::session::ActiveFlow;
use crate::slot_fill::{is_correction, quoted_examples, Plan};
use serde_json::Value;
use std::collections::BTreeMap;

/// Confidence above which a message during a free-text question is treated as something
/// else (a question, small talk, another request) rather than as the answer.
const FREE_TEXT_DIGRESSION_CONFIDENCE: f32 = 0.85;

/// The value a slot takes from an entity: single-field values (`{"value": "SO123456"}`,
/// `{"value": 3}`) are unwrapped; structured ones (amounts, times) are kept whole.
pub(crate) fn slot_value(e: &Entity) -> Value {
    match e.value.as_object() {
        Some(m) if m.len() == 1 && m.contains_key("value") => m["value"].clone(),
        _ => e.value.clone(),
    }
}

/// A message as the customer typed it, for free-text slots: control characters dropped,
/// runs of whitespace collapsed, no Unicode folding (a Chinese comma stays "，").
pub(crate) fn typed_text(raw: &str) -> String {
    raw.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| !c.is_control() && !matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}'))
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Length of a text in words, a Chinese character counting as one.
fn text_length(text: &str) -> usize {
    let han = text.chars().filter(|c| crate::language::is_cjk(*c)).count();
    let words = text.split(|c: char| c.is_whitespace() || crate::language::is_cjk(c)).filter(|w| !w.is_empty()).count();
    han + words
}

enum Fill {
    /// At least one slot got a new value (or was cleared to be asked again).
    Changed,
    /// The value for the requested slot was rejected (the message was already said).
    Rejected,
    /// The message repeats values the slots already hold.
    Unchanged,
    /// An unclear correction: which slot was meant has been asked.
    Asked,
    /// Nothing in the message fills a slot.
    Nothing,
}

impl TurnRun<'_> {
    fn flow_def(&self, name: &str) -> Option<&FlowDef> {
        self.inner.bot.flows.get(name)
    }

    /// Starts a flow, suspending the current one; fills what the message already tells.
    pub(crate) async fn start_flow(&mut self, name: &str) -> Result<(), Error> {
        if let Some(current) = self.session.flow.take() {
            if current.name == name {
                self.session.flow = Some(current);
                return self.next_step().await;
            }
            self.emit(Event::FlowSuspended { flow: current.name.clone() });
            self.session.suspended.push(current);
        }
        self.session.flow =
            Some(ActiveFlow { name: name.to_string(), requested_slot: None, attempts: 0, confirming: false });
        self.emit(Event::FlowStarted { flow: name.to_string() });
        // A rejected value's message was said; an unclear one asked; the prompt follows.
        self.fill_from_entities().await?;
        self.next_step().await
    }

    /// A message while a form is active.
    pub(crate) async fn continue_flow(&mut self) -> Result<(), Error> {
        let Some(active) = self.session.flow.clone() else {
            return Ok(());
        };
        let Some(def) = self.flow_def(&active.name).cloned() else {
            // The bot changed under a live session: drop the unknown flow.
            self.session.flow = None;
            return self.route_intent().await;
        };
        // "比如「不想要了」" offered as an answer and then said: the answer, whatever else it
        // could mean ("不想要了" would otherwise read as cancelling the form).
        if !active.confirming {
            let requested =
                active.requested_slot.as_deref().and_then(|r| def.slots.iter().find(|s| s.slot == r)).cloned();
            if let Some(fs) = requested.filter(|fs| self.repeats_offered_example(fs)) {
                let value = Value::String(typed_text(&self.turn.text));
                return match self.accept(&fs, value).await {
                    true => self.next_step().await,
                    false => self.reask().await,
                };
            }
        }
        if is_cancel(&self.text) || self.interpretation.confident() == Some("cancel") {
            // "算了，还是充一百五吧" / "never mind, make it $30": a new value, not a cancel.
            let corrects = is_correction(&self.text) && matches!(self.plan_fill(&def, &active), Plan::Fill(_));
            if !corrects {
                return self.end_flow(EndKind::Cancelled).await;
            }
        }
        if self.interpretation.confident().is_some_and(|i| self.bot().intents.get(i).is_some_and(|d| d.handoff)) {
            let name = self.interpretation.confident().unwrap_or_default().to_string();
            return self.run_intent(&name).await;
        }
        if active.confirming {
            match self.fill_from_entities().await? {
                Fill::Changed | Fill::Rejected | Fill::Asked => return self.next_step().await,
                Fill::Unchanged | Fill::Nothing => {}
            }
            if is_affirm(&self.text) || self.interpretation.confident() == Some("affirm") {
                return self.complete_flow(&def).await;
            }
            if is_deny(&self.text) || self.interpretation.confident() == Some("deny") {
                return self.end_flow(EndKind::Declined).await;
            }
            if self.switch_flow(&active.name).await? {
                return Ok(());
            }
            self.digress().await;
            return self.next_step().await;
        }
        match self.fill_from_entities().await? {
            Fill::Changed | Fill::Asked => return self.next_step().await,
            Fill::Rejected => return self.reask().await,
            Fill::Unchanged | Fill::Nothing => {}
        }
        if self.switch_flow(&active.name).await? {
            return Ok(());
        }
        let requested = active.requested_slot.as_deref().and_then(|r| def.slots.iter().find(|s| s.slot == r)).cloned();
        if let Some(fs) = requested {
            if let Some(value) = self.value_from_text(&fs) {
                return match self.accept(&fs, value).await {
                    true => self.next_step().await,
                    false => self.reask().await,
                };
            }
        }
        if self.digress().await {
            return self.next_step().await;
        }
        self.reask().await
    }

    /// Another flow's trigger, said confidently, suspends this one and starts it.
    async fn switch_flow(&mut self, current: &str) -> Result<bool, Error> {
        let Interpretation::Confident(top) = self.interpretation.clone() else {
            return Ok(false);
        };
        match self.bot().flow_for_intent(&top.name) {
            Some(other) if other != current => {
                let other = other.to_string();
                if let Some(r) = self.bot().intents.get(&top.name).and_then(|i| i.response.clone()) {
                    self.say_named(&r);
                }
                self.start_flow(&other).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Answers small talk or a FAQ in the middle of a form. True when something was said.
    async fn digress(&mut self) -> bool {
        if let Interpretation::Confident(top) = self.interpretation.clone() {
            if top.name == FAQ_INTENT {
                return self.answer_from_kb(0.0).await;
            }
            if top.name == OUT_OF_SCOPE_INTENT {
                self.say_fallback();
                return true;
            }
            if let Some(intent) = self.bot().intents.get(&top.name) {
                if intent.flow.is_none() && (intent.chitchat || intent.response.is_some()) {
                    if let Some(r) = intent.response.clone() {
                        self.say_named(&r);
                        return true;
                    }
                }
            }
        }
        let threshold = self.bot().policy.kb_threshold;
        self.answer_from_kb(threshold).await
    }

    /// Fills the slots of the active flow that this message gives values for (see
    /// [`TurnRun::plan_fill`]); a different value for a filled slot is a correction.
    async fn fill_from_entities(&mut self) -> Result<Fill, Error> {
        let Some(active) = self.session.flow.clone() else {
            return Ok(Fill::Nothing);
        };
        let Some(def) = self.flow_def(&active.name).cloned() else {
            return Ok(Fill::Nothing);
        };
        let fills = match self.plan_fill(&def, &active) {
            Plan::Nothing => return Ok(Fill::Nothing),
            Plan::Ambiguous => {
                self.say_named("correction_unclear");
                return Ok(Fill::Asked);
            }
            Plan::Reask(si) => {
                let slot = def.slots[si].slot.clone();
                self.set_slot(&slot, Value::Null);
                return Ok(Fill::Changed);
            }
            Plan::Fill(fills) => fills,
        };
        let mut result = Fill::Nothing;
        for (si, value) in fills {
            let fs = &def.slots[si];
            if self.session.slots.get(&fs.slot) == Some(&value) {
                if matches!(result, Fill::Nothing) {
                    result = Fill::Unchanged;
                }
                continue;
            }
            if self.accept(fs, value).await {
                result = Fill::Changed;
            } else if active.requested_slot.as_deref() == Some(fs.slot.as_str()) && !matches!(result, Fill::Changed) {
                result = Fill::Rejected;
            }
        }
        Ok(result)
    }

    /// Whether the message is one of the example answers quoted in the free-text slot's prompt.
    fn repeats_offered_example(&self, fs: &FlowSlot) -> bool {
        // A value the slot's entity recognised ("Shanghai" → 上海) is filled the usual way.
        let is_text = self.bot().slots.get(&fs.slot).is_some_and(|d| {
            d.slot_type == SlotType::Text
                && d.entity.as_ref().is_none_or(|k| !self.entities.iter().any(|e| &e.kind == k))
        });
        let trim = |t: &str| crate::text::normalize(t).trim_end_matches(['。', '.', '!', '！', '~', '～']).to_string();
        let said = trim(&self.turn.text);
        is_text
            && !said.is_empty()
            && fs
                .prompt
                .get(&self.language)
                .map(|p| p.as_slice())
                .unwrap_or_default()
                .iter()
                .flat_map(|p| quoted_examples(p))
                .any(|example| trim(&example) == said)
    }

    /// The answer to the requested slot taken from the text itself (free text, yes/no).
    fn value_from_text(&self, fs: &FlowSlot) -> Option<Value> {
        let def = self.bot().slots.get(&fs.slot)?;
        match def.slot_type {
            SlotType::Bool if is_affirm(&self.text) => Some(Value::Bool(true)),
            // A bare number answering "how much?" is an amount in the bot's currency.
            SlotType::Amount => {
                self.entities.iter().find(|e| e.kind == "number").map(|e| self.amount_of(slot_value(e)))
            }
            SlotType::Bool if is_deny(&self.text) => Some(Value::Bool(false)),
            // Free text: no entity, or a learned one (or a name) the tagger did not find.
            SlotType::Text
                if def.entity.as_deref().is_none_or(|k| k == "person" || self.is_learned_entity(k))
                    && !self.text.is_empty() =>
            {
                let elsewhere = match &self.interpretation {
                    Interpretation::Confident(top) if top.confidence >= FREE_TEXT_DIGRESSION_CONFIDENCE => {
                        top.name == FAQ_INTENT
                            || top.name == OUT_OF_SCOPE_INTENT
                            || self.bot().intents.get(&top.name).is_some_and(|i| i.chitchat || i.flow.is_some())
                    }
                    _ => false,
                };
                // An entity-bound slot takes an answer about as long as the values it was
                // trained on ("Dana", "赵六" for a name), not any sentence, nor a yes or no.
                let fits = def
                    .entity
                    .as_deref()
                    .is_none_or(|k| self.fits_entity_length(k) && !is_affirm(&self.text) && !is_deny(&self.text));
                // Shown back to the customer as typed ("临时要出差，去不了"), not normalised.
                (!elsewhere && fits).then(|| Value::String(typed_text(&self.turn.text)))
            }
            _ => None,
        }
    }

    /// Whether the message is shorter than twice the longest annotated value of entity
    /// `kind` (names and unannotated entities: eight words or characters).
    fn fits_entity_length(&self, kind: &str) -> bool {
        let longest = self
            .bot()
            .annotations
            .iter()
            .flat_map(|a| &a.annotations)
            .filter(|a| a.entity == kind)
            .map(|a| text_length(&a.text))
            .max()
            .unwrap_or(4)
            .max(4);
        text_length(&self.text) < 2 * longest
    }

    /// Validates a value and stores it; on rejection says why. True when stored.
    async fn accept(&mut self, fs: &FlowSlot, value: Value) -> bool {
        if let Some(v) = fs.validate.clone() {
            let text = value_text(&value);
            let mut ok = true;
            if let Some(re) = &v.regex {
                ok &= regex::Regex::new(re).map(|r| r.is_match(&text)).unwrap_or(false);
            }
            let number = value.as_f64().or_else(|| value.get("value").and_then(Value::as_f64));
            if let (Some(min), Some(n)) = (v.min, number) {
                ok &= n >= min;
            }
            if let (Some(max), Some(n)) = (v.max, number) {
                ok &= n <= max;
            }
            if (v.min.is_some() || v.max.is_some()) && number.is_none() {
                ok = false;
            }
            if !ok {
                self.say_invalid(fs);
                return false;
            }
            if let Some(action) = &v.action {
                let mut slots: BTreeMap<String, Value> = self.session.slots.clone();
                slots.insert(fs.slot.clone(), value.clone());
                match self.call_action(action, &slots).await {
                    Some(o) if o.reject => {
                        if o.response.is_none() && o.texts.is_empty() {
                            self.say_invalid(fs);
                        } else {
                            self.apply_outcome(&o);
                        }
                        return false;
                    }
                    Some(o) => {
                        self.set_slot(&fs.slot, value);
                        self.apply_outcome(&o);
                        return true;
                    }
                    None => {
                        self.say_named("action_failed");
                        return false;
                    }
                }
            }
        }
        self.set_slot(&fs.slot, value);
        true
    }

    fn say_invalid(&mut self, fs: &FlowSlot) {
        match fs.invalid.as_ref().and_then(|t| nth_text(t, self.language, 0)) {
            Some(t) => {
                let text = interpolate(t, &self.session.slots, self.language);
                let name = self.flow_response_name(&format!("invalid_{}", fs.slot));
                self.push_response(&name, text, Vec::new());
            }
            None => self.say_named("invalid_value"),
        }
    }

    /// Asks for the next missing slot, or for confirmation, or completes the form.
    pub(crate) async fn next_step(&mut self) -> Result<(), Error> {
        let Some(mut active) = self.session.flow.clone() else {
            return Ok(());
        };
        let Some(def) = self.flow_def(&active.name).cloned() else {
            return Ok(());
        };
        if let Some(fs) = def.slots.iter().find(|s| self.is_asked(s) && !self.session.slots.contains_key(&s.slot)) {
            if active.requested_slot.as_deref() != Some(fs.slot.as_str()) {
                active.requested_slot = Some(fs.slot.clone());
                active.attempts = 1;
            } else {
                active.attempts = active.attempts.max(1);
            }
            active.confirming = false;
            let attempt = active.attempts;
            self.session.flow = Some(active);
            self.prompt(fs, attempt);
            return Ok(());
        }
        for fs in &def.slots {
            if !self.session.slots.contains_key(&fs.slot) {
                if let Some(value) = self.slot_default(fs) {
                    self.set_slot(&fs.slot, value);
                }
            }
        }
        if let Some(confirm) = &def.confirm {
            active.confirming = true;
            active.requested_slot = None;
            let name = format!("{}.confirm", active.name);
            self.session.flow = Some(active);
            let lang = self.language;
            let text =
                nth_text(confirm, lang, 0).map(|t| interpolate(t, &self.session.slots, lang)).unwrap_or_default();
            let buttons = yes_no_buttons(lang);
            self.push_response(&name, text, buttons);
            return Ok(());
        }
        self.complete_flow(&def).await
    }

    fn prompt(&mut self, fs: &FlowSlot, attempt: u32) {
        let lang = self.language;
        let text = nth_text(&fs.prompt, lang, attempt.saturating_sub(1) as usize)
            .map(|t| interpolate(t, &self.session.slots, lang))
            .unwrap_or_default();
        let buttons = fs
            .buttons
            .iter()
            .map(|b| RenderedButton { title: b.title.get(lang).to_string(), payload: b.payload.clone() })
            .collect();
        let name = self.flow_response_name(&format!("ask_{}", fs.slot));
        self.push_response(&name, text, buttons);
    }

    /// `<flow>.<what>` for the flow in progress (`<what>` alone outside a flow).
    fn flow_response_name(&self, what: &str) -> String {
        match &self.session.flow {
            Some(f) => format!("{}.{what}", f.name),
            None => what.to_string(),
        }
    }

    /// Re-asks the requested slot with the next numbered prompt, giving up after too many.
    async fn reask(&mut self) -> Result<(), Error> {
        let Some(mut active) = self.session.flow.clone() else {
            return Ok(());
        };
        if active.confirming {
            return self.next_step().await;
        }
        active.attempts += 1;
        if active.attempts > self.bot().policy.max_slot_attempts {
            self.say_named("too_many_attempts");
            self.end_flow(EndKind::GaveUp).await?;
            self.offer_handoff();
            return Ok(());
        }
        self.session.flow = Some(active);
        self.next_step().await
    }

    /// Runs the completion action and response, then resumes a suspended flow.
    async fn complete_flow(&mut self, def: &FlowDef) -> Result<(), Error> {
        let Some(active) = self.session.flow.take() else {
            return Ok(());
        };
        let outcome = def.on_complete.clone();
        if let Some(action) = &outcome.action {
            self.run_action(action).await;
        }
        if let Some(r) = &outcome.response {
            self.say_named(r);
        }
        self.emit(Event::FlowCompleted { flow: active.name.clone() });
        if outcome.clear_slots {
            self.clear_flow_slots(def);
        }
        self.resume_suspended().await
    }

    async fn end_flow(&mut self, kind: EndKind) -> Result<(), Error> {
        let Some(active) = self.session.flow.take() else {
            return Ok(());
        };
        let def = self.flow_def(&active.name).cloned();
        match kind {
            EndKind::Declined => match def.as_ref().and_then(|d| d.on_decline.clone()) {
                Some(o) => {
                    if let Some(a) = &o.action {
                        self.run_action(a).await;
                    }
                    self.say_named(o.response.as_deref().unwrap_or("flow_declined"));
                }
                None => self.say_named("flow_declined"),
            },
            EndKind::Cancelled => self.say_named("flow_cancelled"),
            EndKind::GaveUp => {}
        }
        self.emit(Event::FlowCancelled { flow: active.name.clone() });
        if let Some(def) = &def {
            self.clear_flow_slots(def);
        }
        if matches!(kind, EndKind::GaveUp) {
            self.session.suspended.clear();
            return Ok(());
        }
        self.resume_suspended().await
    }

    fn clear_flow_slots(&mut self, def: &FlowDef) {
        for fs in &def.slots {
            if self.session.slots.contains_key(&fs.slot) {
                self.set_slot(&fs.slot, Value::Null);
            }
        }
    }

    async fn resume_suspended(&mut self) -> Result<(), Error> {
        if let Some(mut previous) = self.session.suspended.pop() {
            previous.attempts = 0;
            previous.requested_slot = None;
            self.emit(Event::FlowResumed { flow: previous.name.clone() });
            self.session.flow = Some(previous);
            // Boxed: completing a flow resumes another, whose next step may complete it.
            return Box::pin(self.next_step()).await;
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum EndKind {
    Cancelled,
    Declined,
    GaveUp,
}
