//! What reading the system's root certificates costs, per call (roots.rs's figures):
//! `cargo run --release -p kstream-pipeline --features https --example roots_time`.
//! Run it with and without `SSL_CERT_DIR` / `SSL_CERT_FILE` set (Lambda sets neither).

use std::hint::black_box;
use std::time::{Duration, Instant};

use kstream_pipeline::https::Roots;

const CALLS: u32 = 50;

fn per_call(mut work: impl FnMut()) -> Duration {
    let began = Instant::now();
    for _ in 0..CALLS {
        work();
    }
    began.elapsed() / CALLS
}

fn main() {
    let probe = openssl_probe::probe();
    let bundle = probe.cert_file.clone();
    let native = per_call(|| {
        black_box(rustls_native_certs::load_native_certs());
    });
    let bundle_only = per_call(|| {
        black_box(rustls_native_certs::load_certs_from_paths(
            bundle.as_deref(),
            None,
        ));
    });
    let load = per_call(|| {
        black_box(Roots::load().expect("roots"));
    });
    let roots = Roots::load().expect("roots");
    let anchors = per_call(|| {
        black_box(roots.store());
    });
    eprintln!("probe: bundle {bundle:?}, directories {:?}", probe.cert_dir);
    eprintln!("load_native_certs: {native:?}; the bundle alone: {bundle_only:?}");
    eprintln!(
        "Roots::load: {load:?} ({} certificates); their trust anchors: {anchors:?}",
        roots.len()
    );
}
