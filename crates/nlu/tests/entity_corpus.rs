//! Kefu's own entity corpus (`benches/entities/corpus/*.jsonl`, one file per class of
//! expression, written for this project in Duckling's corpus format): every file must keep
//! positive-case accuracy ≥ 90 %, and the entity-free messages (`negatives_*.jsonl`) a
//! false-positive rate ≤ 2 %. Prints per-file figures (reported in docs/benchmarks.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use kefu_nlu::entities::conformance::{judge, load, run_case, score};

const MIN_ACCURACY: f64 = 0.90;
const MAX_FALSE_POSITIVE_RATE: f64 = 0.02;

#[test]
fn own_entity_corpus_holds_its_floors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../benches/entities/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    let mut failures = Vec::new();
    for path in &files {
        let cases = load(path).unwrap();
        let preds: Vec<_> = cases.iter().map(run_case).collect();
        let all = score(&cases, &preds).get("all").copied().unwrap_or_default();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let fp_rate = if all.negatives == 0 { 0.0 } else { all.fp as f64 / all.negatives as f64 };
        eprintln!(
            "{name}: {}/{} positive cases ({:.1} %), {}/{} negatives with a false positive ({:.1} %)",
            all.correct,
            all.cases,
            100.0 * all.accuracy(),
            all.fp,
            all.negatives,
            100.0 * fp_rate
        );
        for (case, pred) in cases.iter().zip(&preds) {
            if !judge(case, pred) {
                let got: Vec<String> = pred.iter().map(|p| format!("{:?} {}", p.kind, p.value)).collect();
                eprintln!("  miss {}: {:?} → {}", case.id, case.text, got.join("; "));
            }
        }
        if all.cases > 0 && all.accuracy() < MIN_ACCURACY {
            failures.push(format!("{name}: accuracy {:.3} < {MIN_ACCURACY}", all.accuracy()));
        }
        if fp_rate > MAX_FALSE_POSITIVE_RATE {
            failures.push(format!("{name}: false-positive rate {fp_rate:.3} > {MAX_FALSE_POSITIVE_RATE}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
