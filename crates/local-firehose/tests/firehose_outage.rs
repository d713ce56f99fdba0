//! Firehose delivery through an emulator outage: the source stream and the bucket unreachable
//! for a while (connections refused and cut, as when the emulator restarts or the network
//! drops). Firehose keeps polling its source and retries S3 "every 5 seconds" (developer guide,
//! "Handle data delivery failure"); the local delivery must do the same, not stop.
//!
//! Found by the fault run (`scripts/soak.sh`): the delivery stopped at the first failed
//! GetRecords, or after five failed PutObject tries (2 s), and moved no more data until
//! `kstream local up` was restarted.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_sdk_firehose::types::CompressionFormat;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::firehose_emulator::{
    Running, create_delivery, fast_delivery_with, jq_ticker_destination, objects, out_bucket,
};
use kstream_local_testkit::emulator;

/// A TCP forwarder to the emulator that can be taken down (its listener closed, its
/// connections cut: clients get "connection refused") and brought back on the same port.
struct Outage {
    addr: SocketAddr,
    up: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Outage {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, rx) = watch::channel(true);
        let task = tokio::spawn(forward(listener, upstream, rx));
        Self { addr, up, task }
    }

    fn down(&self) {
        self.up.send_replace(false);
    }

    fn up(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(first: TcpListener, upstream: SocketAddr, mut up: watch::Receiver<bool>) {
    let addr = first.local_addr().unwrap();
    let mut listener = Some(first);
    loop {
        let l = match listener.take() {
            Some(l) => l,
            None => TcpListener::bind(addr).await.expect("the port again"),
        };
        let mut conns = JoinSet::new();
        loop {
            tokio::select! {
                accepted = l.accept() => {
                    let Ok((mut client, _)) = accepted else { continue };
                    conns.spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                }
                _ = up.wait_for(|u| !*u) => break,
            }
        }
        // Down: nothing listens, every open connection is cut.
        drop(l);
        conns.abort_all();
        if up.wait_for(|u| *u).await.is_err() {
            return;
        }
    }
}

fn upstream(endpoint: &str) -> SocketAddr {
    let host = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .replace("localhost", "127.0.0.1");
    host.parse()
        .expect("AWS_ENDPOINT_URL is http://<ip>:<port>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulator: run by scripts/test-e2e.sh"]
async fn an_emulator_outage_delays_the_delivery_and_loses_nothing() {
    let emu = emulator().await;
    let (stream, stream_arn) = emu.stream(1).await;
    let (s3, bucket) = out_bucket(&emu).await;
    let name = format!("{}-delivery", emu.prefix);
    let dest = jq_ticker_destination(
        &bucket,
        "q/ticker=!{partitionKeyFromQuery:ticker}/",
        "errors/!{firehose:error-output-type}/",
    )
    .compression_format(CompressionFormat::Uncompressed);
    create_delivery(&emu, &name, &stream_arn, dest.build().unwrap()).await;
    let put = |from: usize| {
        let emu = &emu;
        let stream = stream.clone();
        async move {
            for n in from..from + 20 {
                emu.put(
                    &stream,
                    &format!("pk{n}"),
                    &format!(r#"{{"ticker":"T","n":{n}}}"#),
                )
                .await;
            }
        }
    };
    put(0).await;

    // The delivery reaches the emulator (Kinesis and S3) only through the forwarder.
    let outage = Outage::start(upstream(&emu.endpoint)).await;
    let sdk = emu
        .sdk
        .to_builder()
        .endpoint_url(format!("http://{}", outage.addr))
        .build();
    let fh = fast_delivery_with(&sdk).only([name.clone()]).build();
    let stats = fh.stats();
    let running = Running::start(&fh);
    let snapshot = || {
        format!(
            "(read, delivered, dropped, failed, objects) = {:?}",
            stats.snapshot()
        )
    };
    running
        .wait(
            "the first records read",
            Duration::from_secs(30),
            || stats.records_read.load(Ordering::Relaxed) >= 20,
            snapshot,
        )
        .await;
    // Read but not yet written (objects go after 1 s): the outage catches them in the buffer,
    // and the next GetRecords.
    outage.down();
    put(20).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert!(
        !running.is_finished(),
        "the delivery stopped during the outage: {}",
        snapshot()
    );
    outage.up();
    running
        .wait(
            "every record delivered after the outage",
            Duration::from_secs(60),
            || stats.records_delivered.load(Ordering::Relaxed) >= 40,
            snapshot,
        )
        .await;
    running.finish().await;

    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    for (key, lines) in objects(&s3, &bucket).await {
        assert!(key.starts_with("q/ticker=T/"), "no error output: {key}");
        for line in lines {
            let v: Value = serde_json::from_str(&line).unwrap();
            *seen.entry(v["n"].as_u64().unwrap()).or_default() += 1;
        }
    }
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (0..40).collect::<Vec<_>>(),
        "every record in S3 (at least once)"
    );
}
