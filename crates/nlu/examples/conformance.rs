//! Runs the Duckling conformance corpus through `parse`, writes prediction files
//! and prints per-language / per-kind accuracy and a latency summary.
//!
//! Usage: `cargo run --release --example conformance [-- [--per-case-kinds] [--fails [KIND|LANG] [N]]]`
//!
//! By default every case is parsed with all kinds enabled (`kinds: None`), as the
//! official acceptance check does; `--per-case-kinds` restricts each parse to the
//! kinds the case tests.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use kefu_nlu::entities::conformance::{find_corpus, judge, load, run_case_with, score};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let show_fails = args.iter().any(|a| a == "--fails");
    let per_case = args.iter().any(|a| a == "--per-case-kinds");
    let run_case = |c: &kefu_nlu::entities::conformance::Case| run_case_with(c, per_case);
    let filter = args.iter().skip_while(|a| *a != "--fails").nth(1).cloned();
    let limit: usize = args.iter().skip_while(|a| *a != "--fails").nth(2).and_then(|x| x.parse().ok()).unwrap_or(40);
    let Some(dir) = find_corpus(Path::new(env!("CARGO_MANIFEST_DIR"))) else {
        eprintln!("conformance corpus not found: no shared/data/duckling above {}", env!("CARGO_MANIFEST_DIR"));
        std::process::exit(2);
    };
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target").join("conformance");
    let _ = std::fs::create_dir_all(&out_dir);
    let mut all_cases = Vec::new();
    let mut all_preds = Vec::new();
    let mut lat: Vec<f64> = Vec::new();
    for lang in ["zh", "en"] {
        let path = dir.join(format!("{lang}.jsonl"));
        let cases = load(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut f = std::fs::File::create(out_dir.join(format!("{lang}.pred.jsonl"))).ok();
        for c in &cases {
            // warm + timed run
            let _ = run_case(c);
            let t = Instant::now();
            let p = run_case(c);
            let us = t.elapsed().as_secs_f64() * 1e6;
            if us > 300.0 {
                eprintln!("slow parse: {us:.0} µs for {:?}", c.text);
            }
            lat.push(us);
            if let Some(f) = f.as_mut() {
                let ents: Vec<_> =
                    p.iter().map(|e| serde_json::json!({"kind": e.kind, "value": e.value, "text": e.text})).collect();
                let _ = writeln!(f, "{}", serde_json::json!({"id": c.id, "entities": ents}));
            }
            if show_fails && !judge(c, &p) {
                let kind = c.expect.first().map(|x| x.0.to_string()).unwrap_or_else(|| "negative".into());
                let lang_s = if c.id.contains("/zh/") { "zh" } else { "en" };
                let ok = match &filter {
                    None => true,
                    Some(k) => *k == kind || *k == lang_s || *k == format!("{lang_s}:{kind}"),
                };
                if ok && limit > 0 {
                    let want: Vec<_> = c.expect.iter().map(|e| e.1[0].to_string()).collect();
                    let got: Vec<_> = p.iter().map(|e| format!("{}:{}", e.kind, e.value)).collect();
                    println!(
                        "FAIL {} {:?} now={}\n   want {}\n   got  {}",
                        c.id,
                        c.text,
                        c.now,
                        want.join(" "),
                        got.join(" ")
                    );
                }
            }
        }
        all_preds.extend(cases.iter().map(run_case));
        all_cases.extend(cases);
    }
    let t = score(&all_cases, &all_preds);
    println!("kinds per parse: {}", if per_case { "each case's own kinds" } else { "all (kinds: None)" });
    println!("{:<14} {:>6} {:>8} {:>9} {:>4}", "group", "cases", "accuracy", "negatives", "fp");
    for (g, x) in &t {
        println!("{:<14} {:>6} {:>7.1}% {:>9} {:>4}", g, x.cases, 100.0 * x.accuracy(), x.negatives, x.fp);
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let q = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    println!("latency per parse (µs): median {:.1}  p99 {:.1}  max {:.1}  (n={})", q(0.5), q(0.99), q(1.0), lat.len());
    println!("predictions written to {}", out_dir.display());
}
