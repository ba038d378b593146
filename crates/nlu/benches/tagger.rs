//! Micro-benchmarks of the learned-entity tagger on the airline example's annotated
//! examples: `cargo bench -p kefu-nlu --bench tagger`.
//!
//! Rows: training the Chinese and the English tagger (15 epochs), tagging one message with
//! one tagger, and the whole learned-entity extractor (both taggers, name snapping).

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use kefu_core::nlu::{EntityExtractor, ExtractionContext};
use kefu_core::Language;
use kefu_nlu::entities::Lang;
use kefu_nlu::learned::{tagger_examples, LearnedEntityExtractor};
use kefu_nlu::tagger::{EntityTagger, TaggerConfig};

const MESSAGES: [(&str, Language); 6] = [
    ("后天帮周八订两张从广州到西安的票", Language::Zh),
    ("不对，目的地是成都", Language::Zh),
    ("乘客是欧阳娜娜", Language::Zh),
    ("Book two tickets from London to Tokyo for Dana Whitfield the day after tomorrow", Language::En),
    ("actually it is for Tom Baker", Language::En),
    ("wait, the departure city is Hangzhou", Language::En),
];

fn bench(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots/airline");
    let bot = match kefu_core::bot::load_bot_dir(&dir) {
        Ok(b) => b,
        Err(e) => panic!("the airline example must load: {e}"),
    };
    let config = TaggerConfig::default();
    let zh = tagger_examples(&bot, Language::Zh);
    let en = tagger_examples(&bot, Language::En);
    c.bench_function(&format!("tagger: train zh ({} examples)", zh.len()), |b| {
        b.iter(|| black_box(EntityTagger::train(black_box(&zh), Lang::Zh, &config)))
    });
    c.bench_function(&format!("tagger: train en ({} examples)", en.len()), |b| {
        b.iter(|| black_box(EntityTagger::train(black_box(&en), Lang::En, &config)))
    });
    let tagger = EntityTagger::train(&zh, Lang::Zh, &config);
    c.bench_function("tagger: tag one zh message", |b| b.iter(|| black_box(tagger.tag(black_box(MESSAGES[0].0)))));
    let Some(extractor) = LearnedEntityExtractor::train(&bot) else { panic!("the airline example annotates entities") };
    let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap_or_default();
    let mut i = 0;
    c.bench_function("learned-entity extractor: one message (6 zh/en cycled)", |b| {
        b.iter(|| {
            let (text, language) = MESSAGES[i % MESSAGES.len()];
            i += 1;
            let ctx = ExtractionContext { language, now, past_leaning: false };
            black_box(extractor.extract(black_box(text), &ctx))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
