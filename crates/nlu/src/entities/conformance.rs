//! Conformance-corpus support: loads the Duckling-derived cases
//! (`shared/data/duckling/{zh,en}.jsonl`), runs them through [`parse`] and scores
//! the predictions with the rules of the corpus README (same as `entity_eval.py`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde_json::Value;

use super::{parse, EntityKind, Lang, ParseContext, ParsedEntity};

/// One corpus case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Case id.
    pub id: String,
    /// Language.
    pub lang: Lang,
    /// Input text.
    pub text: String,
    /// Reference time.
    pub now: NaiveDateTime,
    /// Kinds the case tests.
    pub kinds: Vec<EntityKind>,
    /// Expected entities as (kind, accepted values).
    pub expect: Vec<(EntityKind, Vec<Value>)>,
}

/// Walks up from `start` until a folder containing `shared/data/duckling` is found.
pub fn find_corpus(start: &Path) -> Option<PathBuf> {
    let mut p = Some(start);
    while let Some(d) = p {
        let cand = d.join("shared").join("data").join("duckling");
        if cand.join("zh.jsonl").is_file() {
            return Some(cand);
        }
        p = d.parent();
    }
    None
}

/// Loads the cases of one JSONL file.
pub fn load(path: &Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        let lang = match v["lang"].as_str() {
            Some("zh") => Lang::Zh,
            _ => Lang::En,
        };
        let now = NaiveDateTime::parse_from_str(v["now"].as_str().unwrap_or(""), "%Y-%m-%dT%H:%M:%S")
            .map_err(|e| format!("line {}: now: {e}", n + 1))?;
        let kinds = v["kinds"]
            .as_array()
            .map(|a| a.iter().filter_map(|k| k.as_str()?.parse().ok()).collect())
            .unwrap_or_default();
        let mut expect = Vec::new();
        for e in v["expect"].as_array().cloned().unwrap_or_default() {
            let Some(kind) = e["kind"].as_str().and_then(|k| k.parse().ok()) else {
                continue;
            };
            let vals = if let Some(a) = e["any_of"].as_array() { a.clone() } else { vec![e["value"].clone()] };
            expect.push((kind, vals));
        }
        out.push(Case {
            id: v["id"].as_str().unwrap_or("").to_string(),
            lang,
            text: v["text"].as_str().unwrap_or("").to_string(),
            now,
            kinds,
            expect,
        });
    }
    Ok(out)
}

/// Runs one case through [`parse`] with all kinds enabled (`kinds: None`), as the
/// official acceptance check (`kefu parse --json`) does.
pub fn run_case(case: &Case) -> Vec<ParsedEntity> {
    run_case_with(case, false)
}

/// Runs one case; with `per_case_kinds` the parse is restricted to the kinds the
/// case tests (the older, more lenient measurement), else all kinds are enabled.
pub fn run_case_with(case: &Case, per_case_kinds: bool) -> Vec<ParsedEntity> {
    let ctx = ParseContext {
        lang: case.lang,
        now: case.now,
        past_leaning: false,
        kinds: if per_case_kinds && !case.kinds.is_empty() { Some(case.kinds.clone()) } else { None },
    };
    parse(&case.text, &ctx)
}

/// Per-group counters: (cases, correct, negatives, false positives).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Positive cases.
    pub cases: usize,
    /// Positive cases fully matched.
    pub correct: usize,
    /// Negative cases.
    pub negatives: usize,
    /// Negative cases with a false positive.
    pub fp: usize,
}

impl Tally {
    /// Accuracy over positive cases.
    pub fn accuracy(&self) -> f64 {
        if self.cases == 0 {
            0.0
        } else {
            self.correct as f64 / self.cases as f64
        }
    }
}

/// Whether the case's predictions are correct (positive) or clean (negative).
pub fn judge(case: &Case, preds: &[ParsedEntity]) -> bool {
    if case.expect.is_empty() {
        return !preds.iter().any(|p| case.kinds.contains(&p.kind));
    }
    let mut used = vec![false; preds.len()];
    for (kind, alts) in &case.expect {
        let hit = preds
            .iter()
            .enumerate()
            .position(|(i, p)| !used[i] && p.kind == *kind && alts.iter().any(|a| value_match(*kind, a, &p.value)));
        match hit {
            Some(i) => used[i] = true,
            None => return false,
        }
    }
    true
}

/// Scores all cases: groups "all", "lang:xx", "kind:xx".
pub fn score(cases: &[Case], preds: &[Vec<ParsedEntity>]) -> BTreeMap<String, Tally> {
    let mut t: BTreeMap<String, Tally> = BTreeMap::new();
    for (c, p) in cases.iter().zip(preds) {
        let ok = judge(c, p);
        let lang = match c.lang {
            Lang::Zh => "zh",
            Lang::En => "en",
        };
        let mut groups = vec!["all".to_string(), format!("lang:{lang}")];
        if let Some((k, _)) = c.expect.first() {
            groups.push(format!("kind:{k}"));
            groups.push(format!("{lang}:{k}"));
        }
        for g in groups {
            let e = t.entry(g).or_default();
            if c.expect.is_empty() {
                e.negatives += 1;
                e.fp += usize::from(!ok);
            } else {
                e.cases += 1;
                e.correct += usize::from(ok);
            }
        }
    }
    t
}

fn close(a: &Value, b: &Value, rel: f64) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= (rel * x.abs().max(y.abs())).max(1e-9),
        _ => false,
    }
}

fn value_match(kind: EntityKind, e: &Value, p: &Value) -> bool {
    match kind {
        EntityKind::Number | EntityKind::Ordinal => close(&e["value"], &p["value"], 1e-9),
        EntityKind::Duration => {
            let s = e["seconds"].as_f64().unwrap_or(0.0);
            close(&e["seconds"], &p["seconds"], if s >= 28.0 * 86400.0 { 0.02 } else { 1e-9 })
        }
        EntityKind::Amount => {
            if let Some(cur) = e["currency"].as_str() {
                if p["currency"].as_str().map(|x| x.to_ascii_uppercase()) != Some(cur.to_string()) {
                    return false;
                }
            }
            ["value", "min", "max"].iter().all(|b| {
                let (ea, pa) = (e.get(*b), p.get(*b));
                match (ea, pa) {
                    (None, None) => true,
                    (Some(x), Some(y)) => close(x, y, 1e-9),
                    _ => false,
                }
            })
        }
        EntityKind::Time => time_match(e, p),
        _ => e == p,
    }
}

/// (y, m, d, H, M, S) of an ISO stamp, or a clock "HH:MM:SS" as (H, M, S) with len 3.
fn stamp(v: &Value) -> Option<Vec<i64>> {
    let s = v.as_str()?;
    if s.len() == 8 && s.as_bytes()[2] == b':' {
        let p: Vec<i64> = s.split(':').filter_map(|x| x.parse().ok()).collect();
        return (p.len() == 3).then_some(p);
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (date, time) = body.split_once('T').unwrap_or((body, "00:00:00"));
    let mut d: Vec<i64> = date.split('-').filter_map(|x| x.parse().ok()).collect();
    let t: Vec<i64> = time.split(':').filter_map(|x| x.parse().ok()).collect();
    if d.len() != 3 || t.len() < 2 {
        return None;
    }
    if neg {
        d[0] = -d[0];
    }
    d.extend(t.iter().copied());
    while d.len() < 6 {
        d.push(0);
    }
    Some(d)
}

fn key(t: &[i64], grain: &str) -> Vec<i64> {
    match grain {
        "week" => NaiveDate::from_ymd_opt(t[0] as i32, t[1] as u32, t[2] as u32)
            .map(|d| vec![d.iso_week().year() as i64, d.iso_week().week() as i64])
            .unwrap_or_else(|| t[..3].to_vec()),
        "quarter" => vec![t[0], (t[1] - 1) / 3],
        "year" => t[..1].to_vec(),
        "month" => t[..2].to_vec(),
        "day" => t[..3].to_vec(),
        "hour" => t[..4].to_vec(),
        "minute" => t[..5].to_vec(),
        _ => t[..6].to_vec(),
    }
}

fn as_interval(v: &Value) -> Option<Value> {
    let t = stamp(&v["value"])?;
    if t.len() != 6 {
        return None;
    }
    let g = v["grain"].as_str().unwrap_or("second");
    let d = NaiveDate::from_ymd_opt(t[0] as i32, t[1] as u32, t[2] as u32)?;
    let mut start = d.and_hms_opt(0, 0, 0)?;
    match g {
        "second" => start = d.and_hms_opt(t[3] as u32, t[4] as u32, t[5] as u32)?,
        "minute" => start = d.and_hms_opt(t[3] as u32, t[4] as u32, 0)?,
        "hour" => start = d.and_hms_opt(t[3] as u32, 0, 0)?,
        "week" => start -= Duration::days(d.weekday().num_days_from_monday() as i64),
        "month" => start = start.with_day(1)?,
        "quarter" => start = start.with_day(1)?.with_month((t[1] as u32 - 1) / 3 * 3 + 1)?,
        "year" => start = start.with_day(1)?.with_month(1)?,
        _ => {}
    }
    let end = match g {
        "second" => start + Duration::seconds(1),
        "minute" => start + Duration::minutes(1),
        "hour" => start + Duration::hours(1),
        "day" => start + Duration::days(1),
        "week" => start + Duration::days(7),
        _ => {
            let n = match g {
                "month" => 1,
                "quarter" => 3,
                _ => 12,
            };
            let m = start.year() * 12 + start.month0() as i32 + n;
            start.with_day(1)?.with_month(1)?.with_year(m / 12)?.with_month((m % 12) as u32 + 1)?
        }
    };
    let f = "%Y-%m-%dT%H:%M:%S";
    Some(serde_json::json!({"type": "interval", "from": start.format(f).to_string(),
        "to": end.format(f).to_string(), "grain": g}))
}

fn time_match(e: &Value, p: &Value) -> bool {
    let et = e["type"].as_str().unwrap_or("");
    let pt = p["type"].as_str().unwrap_or("");
    match et {
        "instant" => {
            let g = e["grain"].as_str().unwrap_or("second");
            if pt == "instant" {
                match (stamp(&e["value"]), stamp(&p["value"])) {
                    (Some(a), Some(b)) if b.len() == 6 && a.len() == 6 => key(&a, g) == key(&b, g),
                    _ => false,
                }
            } else if pt == "interval" {
                as_interval(e).map(|iv| time_match(&iv, p)).unwrap_or(false)
            } else {
                false
            }
        }
        "time_of_day" => {
            let fine = matches!(p["grain"].as_str().unwrap_or("second"), "second" | "minute" | "hour");
            let (Some(a), Some(b)) = (stamp(&e["value"]), stamp(&p["value"])) else {
                return false;
            };
            (pt == "instant" || pt == "time_of_day") && fine && b[b.len() - 3..] == a[..]
        }
        "interval" => {
            let p = if pt == "instant" {
                match as_interval(p) {
                    Some(x) => x,
                    None => return false,
                }
            } else if pt == "interval" {
                p.clone()
            } else {
                return false;
            };
            let g = e["grain"].as_str().unwrap_or("second");
            for b in ["from", "to"] {
                let (be, bp) = (stamp(&e[b]), stamp(&p[b]));
                match (be, bp) {
                    (None, None) => {}
                    (Some(x), Some(y)) => {
                        if x.len() == 3 {
                            if y[y.len() - 3..] != x[..] {
                                return false;
                            }
                        } else if y.len() != 6 || key(&x, g) != key(&y, g) {
                            return false;
                        }
                    }
                    _ => return false,
                }
            }
            true
        }
        _ => false,
    }
}
