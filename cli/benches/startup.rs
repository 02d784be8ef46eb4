//! What a tcloud command pays before it sends anything: finding its
//! service's description in the embedded bundles, inflating it, parsing it
//! and building the model that checks parameters and shapes the output.
//!
//! Side by side with a baseline in the same run: parsing the same JSON,
//! already inflated, into a `serde_json::Value`, the least any run-time
//! reading of a description costs. Three sizes: STS (19 KB, imported), CVM
//! (360 KB, imported, with rules and waiters) and the largest official one,
//! csip (2 MB before its prose is stripped).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tencentcloud_cli::catalog::Catalog;

fn decode(c: &mut Criterion) {
    let catalog = Catalog::embedded().expect("the embedded bundles read");
    let mut group = c.benchmark_group("decode one service");
    group.sample_size(20);
    for service in ["sts", "cvm", "csip"] {
        let text = catalog.text(service, None).expect("embedded");
        group.bench_function(
            format!("{service} ({} KB): parse JSON only (baseline)", text.len() / 1000),
            |b| b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&text)).unwrap()),
        );
        group.bench_function(format!("{service}: find, inflate, parse, model all"), |b| {
            b.iter(|| catalog.load(black_box(service), None).unwrap())
        });
        let action = catalog.load(service, None).unwrap().model.actions[0].name.clone();
        group.bench_function(
            format!("{service}: find, inflate, parse, model one action"),
            |b| b.iter(|| catalog.load_action(black_box(service), None, &action).unwrap()),
        );
    }
    group.bench_function("open the bundles' indexes", |b| {
        b.iter(|| Catalog::embedded().unwrap())
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
