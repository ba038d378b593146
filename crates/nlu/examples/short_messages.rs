//! Warm per-parse latency on short, realistic customer-service messages (zh and
//! en, with and without entities), all kinds enabled.
//!
//! Usage: `cargo run --release --example short_messages [-- REPS]` (default 400
//! repetitions of the whole set). Prints median / p99 / max µs per parse and the
//! slowest messages by their median.
use std::time::Instant;

use kefu_nlu::entities::{parse, Lang, ParseContext};

const MESSAGES: &[(&str, Lang)] = &[
    ("明天下午三点送到", Lang::Zh),
    ("退三百五十块", Lang::Zh),
    ("我上周五下的单，到现在还没发货", Lang::Zh),
    ("你好，我想问一下我的快递什么时候能到", Lang::Zh),
    ("订单号是2023051812345，麻烦帮我查一下", Lang::Zh),
    ("能不能后天上午送过来？我白天不在家", Lang::Zh),
    ("我昨天付了199元，但是显示没付款", Lang::Zh),
    ("请在下周一之前给我回复", Lang::Zh),
    ("收到的商品有破损，要求退款", Lang::Zh),
    ("我的电话是13812345678，有问题打给我", Lang::Zh),
    ("等了两个小时了还没人处理", Lang::Zh),
    ("三天前就说发货了，物流一直没更新", Lang::Zh),
    ("客服你好", Lang::Zh),
    ("晚上八点以后都可以", Lang::Zh),
    ("这件衣服多少钱", Lang::Zh),
    ("我要买两件，能便宜点吗", Lang::Zh),
    ("优惠券满200减30怎么用不了", Lang::Zh),
    ("12月25号之前能到吗", Lang::Zh),
    ("谢谢，辛苦了", Lang::Zh),
    ("半小时后再联系我", Lang::Zh),
    ("I was charged $12.50 twice", Lang::En),
    ("the parcel was due last Friday", Lang::En),
    ("can you deliver it next Monday afternoon", Lang::En),
    ("Hi, where is my order?", Lang::En),
    ("I want a refund please", Lang::En),
    ("My order number is 884213, placed on March 3rd", Lang::En),
    ("please call me back at 415-555-0132 after 5pm", Lang::En),
    ("It has been two weeks and nothing arrived", Lang::En),
    ("The package was damaged when it arrived", Lang::En),
    ("Can I change the delivery address?", Lang::En),
    ("I paid 49.99 dollars yesterday", Lang::En),
    ("deliver tomorrow between 9 and 11am", Lang::En),
    ("thanks for your help!", Lang::En),
    ("I ordered 3 items but only got 2", Lang::En),
    ("email me at jane.doe@example.com", Lang::En),
    ("still waiting after 10 days", Lang::En),
    ("is the store open on Christmas Eve?", Lang::En),
    ("I need it by the end of the week", Lang::En),
    ("how do I cancel my subscription", Lang::En),
    ("can someone call me in an hour", Lang::En),
];

fn main() {
    let reps: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(400);
    let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).and_then(|d| d.and_hms_opt(10, 0, 0)).expect("valid date");
    let ctxs: Vec<ParseContext> = MESSAGES.iter().map(|(_, l)| ParseContext::new(*l, now)).collect();
    // warm up
    let mut found = 0usize;
    for ((t, _), ctx) in MESSAGES.iter().zip(&ctxs) {
        found += parse(t, ctx).len();
    }
    let mut all: Vec<f64> = Vec::with_capacity(reps * MESSAGES.len());
    let mut per: Vec<Vec<f64>> = vec![Vec::with_capacity(reps); MESSAGES.len()];
    for _ in 0..reps {
        for (k, ((t, _), ctx)) in MESSAGES.iter().zip(&ctxs).enumerate() {
            let s = Instant::now();
            let r = parse(t, ctx);
            let us = s.elapsed().as_secs_f64() * 1e6;
            std::hint::black_box(r);
            all.push(us);
            per[k].push(us);
        }
    }
    all.sort_by(|a, b| a.total_cmp(b));
    let q = |v: &[f64], p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    println!("{} messages x {} reps, {} entities per pass", MESSAGES.len(), reps, found);
    println!("latency per parse (µs): median {:.1}  p99 {:.1}  max {:.1}", q(&all, 0.5), q(&all, 0.99), q(&all, 1.0));
    let mut meds: Vec<(f64, &str)> = per
        .iter_mut()
        .zip(MESSAGES)
        .map(|(v, (t, _))| {
            v.sort_by(|a, b| a.total_cmp(b));
            (q(v, 0.5), *t)
        })
        .collect();
    meds.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("slowest by median:");
    for (m, t) in meds.iter().take(8) {
        println!("  {m:7.1} µs  {t}");
    }
}
