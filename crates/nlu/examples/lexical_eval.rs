//! Evaluates the lexical classifier on a CSV train/test pair.
//!
//! ```text
//! cargo run --release --example eval -- train.csv test.csv [label_col] [--holdout FRAC] [--repeat N]
//! ```
//!
//! `--holdout FRAC` ignores the test file and evaluates on a stratified split of the training
//! file (for choosing hyper-parameters). The environment variable `LEXICAL_CONFIG` may hold a
//! JSON object overriding fields of `LexicalConfig`.
//!
//! Experiment hooks: `--cv N` also prints `bal`, the mean per-class recall (= the accuracy
//! expected on a class-balanced test set); `LEXICAL_DUMP=path` writes gold, prediction,
//! probability and text of every evaluated example; in `--cv` mode `LEXICAL_CONFIG2` (a
//! second override) trains a second model per fold and averages the two models'
//! log-probabilities with weight `LEXICAL_W2` (default 0.5) on the second.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::time::Instant;

use kefu_nlu::lexical::{LexicalConfig, LexicalModel, TrainingExample};

fn read_csv(path: &str, label_col: Option<&str>) -> Result<Vec<TrainingExample>, Box<dyn Error>> {
    let mut rdr = csv::Reader::from_path(path)?;
    let headers = rdr.headers()?.clone();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let text_i = find("text").ok_or("no `text` column")?;
    let label_i = match label_col {
        Some(c) => find(c).ok_or_else(|| format!("no `{c}` column"))?,
        None => find("category").or_else(|| find("label")).ok_or("no label column")?,
    };
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec?;
        let text = rec.get(text_i).unwrap_or_default().to_string();
        let label = rec.get(label_i).unwrap_or_default().to_string();
        out.push(TrainingExample { text, label });
    }
    Ok(out)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut pos = Vec::new();
    let mut holdout: Option<f64> = None;
    let mut repeat = 1usize;
    let mut cv: Option<usize> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--holdout" => holdout = Some(it.next().ok_or("--holdout needs a value")?.parse()?),
            "--cv" => cv = Some(it.next().ok_or("--cv needs a value")?.parse()?),
            "--repeat" => repeat = it.next().ok_or("--repeat needs a value")?.parse()?,
            _ => pos.push(a.clone()),
        }
    }
    if pos.len() < 2 {
        return Err("usage: eval train.csv test.csv [label_col] [--holdout FRAC] [--repeat N]".into());
    }
    let label_col = pos.get(2).map(String::as_str);
    let mut train = read_csv(&pos[0], label_col)?;
    if let Some(folds) = cv {
        return cross_validate(&train, folds.max(2));
    }
    let test = if let Some(frac) = holdout {
        // Deterministic stratified split of the training file: every 1/frac-th example
        // of each label (in file order) is held out.
        let every = (1.0 / frac).round().max(2.0) as usize;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let (mut tr, mut te) = (Vec::new(), Vec::new());
        for ex in train {
            let c = seen.entry(ex.label.clone()).or_insert(0);
            *c += 1;
            if (*c).is_multiple_of(every) {
                te.push(ex);
            } else {
                tr.push(ex);
            }
        }
        train = tr;
        te
    } else {
        read_csv(&pos[1], label_col)?
    };

    let config = config_from_env()?;
    eprintln!("config: {}", serde_json::to_string(&config)?);

    let mut train_secs = Vec::new();
    let mut model = None;
    for _ in 0..repeat.max(1) {
        let t0 = Instant::now();
        let m = LexicalModel::train(&train, &config, &mut |p| {
            eprintln!("  epoch {}/{} loss {:.4}", p.epoch, p.epochs, p.loss);
        })?;
        train_secs.push(t0.elapsed().as_secs_f64());
        model = Some(m);
    }
    let model = model.ok_or("no model")?;

    let mut bytes = Vec::new();
    model.save(&mut bytes)?;

    // Warm-up, then time each prediction on its own.
    for ex in test.iter().take(50) {
        std::hint::black_box(model.predict(&ex.text));
    }
    let mut lat = Vec::with_capacity(test.len());
    let mut correct = 0usize;
    let mut pairs: Vec<(String, String, f32)> = Vec::with_capacity(test.len());
    for ex in &test {
        let t0 = Instant::now();
        let ranked = model.predict(&ex.text);
        lat.push(t0.elapsed().as_secs_f64() * 1e3);
        let (top, p) = ranked.first().copied().unwrap_or((0, 0.0));
        let pred = model.labels()[top].clone();
        if pred == ex.label {
            correct += 1;
        }
        pairs.push((ex.label.clone(), pred, p));
    }
    lat.sort_by(f64::total_cmp);
    if let Ok(path) = std::env::var("LEXICAL_DUMP") {
        let mut out = String::new();
        for (ex, (g, p, pr)) in test.iter().zip(&pairs) {
            out.push_str(&format!("{g}\t{p}\t{pr:.3}\t{}\n", ex.text.replace(['\t', '\n'], " ")));
        }
        std::fs::write(path, out)?;
    }

    // Macro-F1 over every label that occurs in the gold or the predictions.
    let classes: BTreeSet<&str> = pairs.iter().flat_map(|(g, p, _)| [g.as_str(), p.as_str()]).collect();
    let mut f1_sum = 0.0;
    for c in &classes {
        let tp = pairs.iter().filter(|(g, p, _)| g == c && p == c).count() as f64;
        let fp = pairs.iter().filter(|(g, p, _)| g != c && p == c).count() as f64;
        let fn_ = pairs.iter().filter(|(g, p, _)| g == c && p != c).count() as f64;
        let f1 = if tp == 0.0 { 0.0 } else { 2.0 * tp / (2.0 * tp + fp + fn_) };
        f1_sum += f1;
    }
    let macro_f1 = f1_sum / classes.len().max(1) as f64;

    // Expected calibration error of the top probability (10 equal-width bins).
    let mut bins = [(0usize, 0.0f64, 0.0f64); 10];
    for (g, p, prob) in &pairs {
        let b = ((*prob as f64) * 10.0).min(9.0) as usize;
        bins[b].0 += 1;
        bins[b].1 += *prob as f64;
        bins[b].2 += if g == p { 1.0 } else { 0.0 };
    }
    let n = pairs.len().max(1) as f64;
    let ece: f64 = bins.iter().filter(|b| b.0 > 0).map(|b| (b.0 as f64 / n) * ((b.1 - b.2) / b.0 as f64).abs()).sum();

    let acc = correct as f64 / test.len().max(1) as f64;
    let secs: Vec<String> = train_secs.iter().map(|s| format!("{s:.2}")).collect();
    println!("train examples   {}", train.len());
    println!("test examples    {}", test.len());
    println!("labels           {}", model.labels().len());
    println!("features         {}", model.n_features());
    println!("accuracy         {:.2} %", acc * 100.0);
    println!("macro-F1         {macro_f1:.4}");
    println!("train seconds    {}", secs.join(" "));
    println!("predict p50 ms   {:.4}", percentile(&lat, 0.5));
    println!("predict p99 ms   {:.4}", percentile(&lat, 0.99));
    println!("model bytes      {} ({:.1} MiB)", bytes.len(), bytes.len() as f64 / 1048576.0);
    println!("temperature      {:.3}", model.temperature());
    println!("ECE (top prob)   {ece:.4}");
    Ok(())
}

fn merge(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

fn config_from_env() -> Result<LexicalConfig, Box<dyn Error>> {
    let mut config = LexicalConfig::default();
    if let Ok(js) = std::env::var("LEXICAL_CONFIG") {
        let mut base = serde_json::to_value(&config)?;
        let over: serde_json::Value = serde_json::from_str(&js)?;
        merge(&mut base, over);
        config = serde_json::from_value(base)?;
    }
    Ok(config)
}

/// Stratified k-fold cross-validation on the training file: prints mean accuracy and mean
/// macro-F1 over the folds.
fn cross_validate(data: &[TrainingExample], folds: usize) -> Result<(), Box<dyn Error>> {
    let config = config_from_env()?;
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let fold_of: Vec<usize> = data
        .iter()
        .map(|ex| {
            let c = seen.entry(ex.label.as_str()).or_insert(0);
            *c += 1;
            *c % folds
        })
        .collect();
    let (mut accs, mut secs, mut nll) = (Vec::new(), Vec::new(), 0.0f64);
    let mut bals: Vec<f64> = Vec::new();
    let mut ece_sum = 0.0;
    for f in 0..folds {
        let tr: Vec<TrainingExample> =
            data.iter().zip(&fold_of).filter(|(_, &k)| k != f).map(|(e, _)| e.clone()).collect();
        let te: Vec<&TrainingExample> = data.iter().zip(&fold_of).filter(|(_, &k)| k == f).map(|(e, _)| e).collect();
        let t0 = Instant::now();
        let m = LexicalModel::train(&tr, &config, &mut |_| {})?;
        let m2 = match std::env::var("LEXICAL_CONFIG2") {
            Ok(js) => {
                let mut base = serde_json::to_value(&config)?;
                merge(&mut base, serde_json::from_str(&js)?);
                let c2: LexicalConfig = serde_json::from_value(base)?;
                Some(LexicalModel::train(&tr, &c2, &mut |_| {})?)
            }
            Err(_) => None,
        };
        let w2: f32 = std::env::var("LEXICAL_W2").ok().and_then(|v| v.parse().ok()).unwrap_or(0.5);
        secs.push(t0.elapsed().as_secs_f64());
        let mut ok = 0usize;
        let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        let mut bins = [(0usize, 0.0f64, 0.0f64); 10];
        for ex in &te {
            let mut ranked = m.predict(&ex.text);
            if let Some(m2) = &m2 {
                let mut lp = vec![0.0f32; ranked.len()];
                for &(i, p) in &ranked {
                    lp[i] += (1.0 - w2) * p.max(1e-9).ln();
                }
                for (i, p) in m2.predict(&ex.text) {
                    lp[i] += w2 * p.max(1e-9).ln();
                }
                let mx = lp.iter().copied().fold(f32::MIN, f32::max);
                let z: f32 = lp.iter().map(|v| (v - mx).exp()).sum();
                ranked = lp.iter().enumerate().map(|(i, v)| (i, (v - mx).exp() / z)).collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            }
            let (top, p) = ranked[0];
            let hit = m.labels()[top] == ex.label;
            ok += usize::from(hit);
            let e = per.entry(ex.label.as_str()).or_insert((0, 0));
            e.0 += usize::from(hit);
            e.1 += 1;
            let pg = ranked.iter().find(|(i, _)| m.labels()[*i] == ex.label).map(|x| x.1).unwrap_or(1e-6);
            nll -= f64::from(pg.max(1e-6)).ln() / te.len() as f64 / folds as f64;
            let b = ((p as f64) * 10.0).min(9.0) as usize;
            bins[b].0 += 1;
            bins[b].1 += p as f64;
            bins[b].2 += if hit { 1.0 } else { 0.0 };
        }
        let n = te.len().max(1) as f64;
        ece_sum +=
            bins.iter().filter(|b| b.0 > 0).map(|b| (b.0 as f64 / n) * ((b.1 - b.2) / b.0 as f64).abs()).sum::<f64>();
        accs.push(ok as f64 / n);
        bals.push(per.values().map(|&(a, b)| a as f64 / b as f64).sum::<f64>() / per.len() as f64);
    }
    let mean = accs.iter().sum::<f64>() / accs.len() as f64;
    let accs_s: Vec<String> = accs.iter().map(|a| format!("{:.2}", a * 100.0)).collect();
    println!(
        "cv accuracy {:.2} % [{}] bal {:.2} nll {:.4} ece {:.4} train s {:.2}",
        mean * 100.0,
        accs_s.join(" "),
        bals.iter().sum::<f64>() / bals.len() as f64 * 100.0,
        nll,
        ece_sum / folds as f64,
        secs.iter().sum::<f64>() / secs.len() as f64
    );
    Ok(())
}
