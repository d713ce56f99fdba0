//! The data of one CloudWatch upload: the metrics of an interval, broken down to the
//! configured [`MetricsGranularity`] and kept to the [`MetricsLevel`], as the KPL does (see the
//! [module docs](super)).

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};

use super::{MetricsSnapshot, RecordMetrics};
use crate::config::{MetricsGranularity, MetricsLevel};

/// One stream's counters now and at the previous upload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamCounts<'a> {
    pub(crate) stream: &'a str,
    pub(crate) now: &'a MetricsSnapshot,
    pub(crate) previous: &'a MetricsSnapshot,
}

fn dimension(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

fn datum(name: &str, dimensions: &[Dimension], value: f64, unit: StandardUnit) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(name)
        .set_dimensions((!dimensions.is_empty()).then(|| dimensions.to_vec()))
        .value(value)
        .unit(unit)
        .build()
}

/// The metrics of [`SHARD_METRIC_NAMES`](super::SHARD_METRIC_NAMES) for one series
/// (overall, one stream or one shard): the counters of the interval `counts`, with
/// `dimensions`. `ErrorsByCode` puts its `ErrorCode` first, as the KPL.
fn per_shard_data(data: &mut Vec<MetricDatum>, dimensions: &[Dimension], counts: &RecordMetrics) {
    let count = |n: u64| n as f64;
    data.extend([
        datum(
            "UserRecordsPut",
            dimensions,
            count(counts.user_records_put),
            StandardUnit::Count,
        ),
        datum(
            "UserRecordsDataPut",
            dimensions,
            count(counts.user_records_data_put),
            StandardUnit::Bytes,
        ),
        datum(
            "KinesisRecordsPut",
            dimensions,
            count(counts.kinesis_records_put),
            StandardUnit::Count,
        ),
        datum(
            "KinesisRecordsDataPut",
            dimensions,
            count(counts.kinesis_records_data_put),
            StandardUnit::Bytes,
        ),
        datum(
            "UserRecordExpired",
            dimensions,
            count(counts.user_record_expired),
            StandardUnit::Count,
        ),
        datum(
            "AllErrors",
            dimensions,
            count(counts.all_errors()),
            StandardUnit::Count,
        ),
    ]);
    if counts.kinesis_records_put > 0 {
        data.push(datum(
            "UserRecordsPerKinesisRecord",
            dimensions,
            counts.user_records_per_kinesis_record(),
            StandardUnit::Count,
        ));
    }
    if counts.completed() > 0 {
        data.push(datum(
            "RetriesPerRecord",
            dimensions,
            counts.retries_per_record(),
            StandardUnit::Count,
        ));
    }
    if counts.buffered_records > 0 {
        data.push(datum(
            "BufferingTime",
            dimensions,
            counts.buffering_time().as_secs_f64() * 1000.0,
            StandardUnit::Milliseconds,
        ));
    }
    for (code, n) in &counts.errors_by_code {
        let mut with_code = Vec::with_capacity(dimensions.len() + 1);
        with_code.push(dimension("ErrorCode", code));
        with_code.extend_from_slice(dimensions);
        data.push(datum(
            "ErrorsByCode",
            &with_code,
            count(*n),
            StandardUnit::Count,
        ));
    }
}

/// The metrics that stop at the stream, as in the KPL, for one series (overall or one
/// stream) of the interval `counts`: `UserRecordsReceived`, `UserRecordsPending` and the
/// per-request ones, `RequestTime` (ms, over the requests that ended in the interval),
/// `KinesisRecordsPerPutRecordsRequest` and `UserRecordsPerPutRecordsRequest` (over the
/// requests sent in the interval).
fn stream_only_data(
    data: &mut Vec<MetricDatum>,
    dimensions: &[Dimension],
    counts: &MetricsSnapshot,
) {
    data.push(datum(
        "UserRecordsReceived",
        dimensions,
        counts.user_records_received as f64,
        StandardUnit::Count,
    ));
    data.push(datum(
        "UserRecordsPending",
        dimensions,
        counts.user_records_pending as f64,
        StandardUnit::Count,
    ));
    if counts.put_records_completed > 0 {
        data.push(datum(
            "RequestTime",
            dimensions,
            counts.request_time().as_secs_f64() * 1000.0,
            StandardUnit::Milliseconds,
        ));
    }
    if counts.put_records_requests > 0 {
        data.push(datum(
            "KinesisRecordsPerPutRecordsRequest",
            dimensions,
            counts.kinesis_records_per_request(),
            StandardUnit::Count,
        ));
        data.push(datum(
            "UserRecordsPerPutRecordsRequest",
            dimensions,
            counts.user_records_per_request(),
            StandardUnit::Count,
        ));
    }
}

/// Whether the KPL uploads metric `name` at `level` (its table in
/// `aws/metrics/metrics_constants.cc`: [`SUMMARY_METRIC_NAMES`](super::SUMMARY_METRIC_NAMES)
/// from `summary` on, everything else only at `detailed`).
pub(crate) fn published_at(level: MetricsLevel, name: &str) -> bool {
    match level {
        MetricsLevel::None => false,
        MetricsLevel::Summary => super::SUMMARY_METRIC_NAMES.contains(&name),
        MetricsLevel::Detailed => true,
    }
}

/// The data of one upload: for each stream, what `now` counts beyond `previous`, broken down
/// to `granularity` as the KPL does (see the [module docs](super)): the overall series
/// (no dimension, summed over the streams), then with [`MetricsGranularity::Stream`] and
/// finer one series per stream (`StreamName`), then with [`MetricsGranularity::Shard`] one
/// series per shard that counted something in the interval (`StreamName`, `ShardId`) for
/// the per-shard metrics. A producer has one stream; the overall series of several are the
/// sums of theirs. Only the metrics the KPL uploads at `level` are kept ([`published_at`]).
pub(crate) fn data(
    level: MetricsLevel,
    granularity: MetricsGranularity,
    streams: &[StreamCounts<'_>],
) -> Vec<MetricDatum> {
    let mut data = all_data(granularity, streams);
    data.retain(|d| published_at(level, d.metric_name().unwrap_or_default()));
    data
}

/// [`data`] at [`MetricsLevel::Detailed`]: every metric.
fn all_data(granularity: MetricsGranularity, streams: &[StreamCounts<'_>]) -> Vec<MetricDatum> {
    let mut data = Vec::new();
    let mut overall = MetricsSnapshot::default();
    let mut deltas = Vec::with_capacity(streams.len());
    for stream in streams {
        overall.add_since(stream.now, stream.previous);
        let mut delta = MetricsSnapshot::default();
        delta.add_since(stream.now, stream.previous);
        deltas.push(delta);
    }
    stream_only_data(&mut data, &[], &overall);
    per_shard_data(&mut data, &[], &overall.totals);
    if granularity < MetricsGranularity::Stream {
        return data;
    }
    for (stream, delta) in streams.iter().zip(&deltas) {
        let dimensions = [dimension("StreamName", stream.stream)];
        stream_only_data(&mut data, &dimensions, delta);
        per_shard_data(&mut data, &dimensions, &delta.totals);
    }
    if granularity < MetricsGranularity::Shard {
        return data;
    }
    let none = RecordMetrics::default();
    for stream in streams {
        for (shard, now) in &stream.now.shards {
            let mut delta = RecordMetrics::default();
            delta.add_since(now, stream.previous.shards.get(shard).unwrap_or(&none));
            // A shard that counted nothing in the interval has no series.
            if delta == none {
                continue;
            }
            let dimensions = [
                dimension("StreamName", stream.stream),
                dimension("ShardId", shard),
            ];
            per_shard_data(&mut data, &dimensions, &delta);
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use super::*;
    use crate::metrics::{METRIC_NAMES, SHARD_METRIC_NAMES, SUMMARY_METRIC_NAMES};

    const THROTTLED: &str = "ProvisionedThroughputExceededException";

    /// A snapshot whose totals are the sums of `shards`: (shard, user records put, Kinesis
    /// records put, throttled entries).
    fn snapshot(shards: &[(&str, u64, u64, u64)]) -> MetricsSnapshot {
        let mut snapshot = MetricsSnapshot {
            user_records_received: 0,
            user_records_pending: 7,
            ..MetricsSnapshot::default()
        };
        for &(shard, put, kinesis, throttled) in shards {
            let mut counts = RecordMetrics {
                user_records_put: put,
                user_records_data_put: put * 10,
                kinesis_records_put: kinesis,
                kinesis_records_data_put: kinesis * 100,
                retries: throttled,
                buffering_time_total: Duration::from_millis(5 * put),
                buffered_records: put,
                ..RecordMetrics::default()
            };
            if throttled > 0 {
                counts
                    .errors_by_code
                    .insert(THROTTLED.to_owned(), throttled);
            }
            // One request per Kinesis record, of 20 ms each.
            snapshot.put_records_requests += kinesis;
            snapshot.put_records_entries += kinesis;
            snapshot.put_records_user_records += put;
            snapshot.put_records_completed += kinesis;
            snapshot.request_time_total += Duration::from_millis(20 * kinesis);
            snapshot.user_records_received += put;
            snapshot
                .totals
                .add_since(&counts, &RecordMetrics::default());
            snapshot.shards.insert(shard.to_owned(), counts);
        }
        snapshot
    }

    /// Each datum of metric `name` as its dimensions (`Name=value`, sorted) and value.
    fn series(data: &[MetricDatum], name: &str) -> Vec<(BTreeSet<String>, f64)> {
        data.iter()
            .filter(|d| d.metric_name() == Some(name))
            .map(|d| {
                let dims = d
                    .dimensions()
                    .iter()
                    .map(|x| format!("{}={}", x.name().unwrap(), x.value().unwrap()))
                    .collect();
                (dims, d.value().unwrap())
            })
            .collect()
    }

    fn dims(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn two_streams_of_two_shards() -> (MetricsSnapshot, MetricsSnapshot) {
        (
            snapshot(&[("shardId-0", 100, 2, 1), ("shardId-1", 50, 1, 0)]),
            snapshot(&[("shardId-0", 30, 1, 0), ("shardId-1", 20, 1, 2)]),
        )
    }

    fn upload(
        level: MetricsLevel,
        granularity: MetricsGranularity,
        a: &MetricsSnapshot,
        b: &MetricsSnapshot,
    ) -> Vec<MetricDatum> {
        let none = MetricsSnapshot::default();
        data(
            level,
            granularity,
            &[
                StreamCounts {
                    stream: "a",
                    now: a,
                    previous: &none,
                },
                StreamCounts {
                    stream: "b",
                    now: b,
                    previous: &none,
                },
            ],
        )
    }

    #[test]
    fn shard_granularity_gives_one_series_per_shard_per_stream_and_overall() {
        let (a, b) = two_streams_of_two_shards();
        let data = upload(MetricsLevel::Detailed, MetricsGranularity::Shard, &a, &b);
        for name in SHARD_METRIC_NAMES {
            if name == "ErrorsByCode" {
                continue;
            }
            assert_eq!(series(&data, name).len(), 7, "{name}");
        }
        let put = series(&data, "UserRecordsPut");
        let expected = [
            (dims(&[]), 200.0),
            (dims(&["StreamName=a"]), 150.0),
            (dims(&["StreamName=b"]), 50.0),
            (dims(&["StreamName=a", "ShardId=shardId-0"]), 100.0),
            (dims(&["StreamName=a", "ShardId=shardId-1"]), 50.0),
            (dims(&["StreamName=b", "ShardId=shardId-0"]), 30.0),
            (dims(&["StreamName=b", "ShardId=shardId-1"]), 20.0),
        ];
        assert_eq!(put, expected);
        // The stream-only metrics: overall and per stream, never per shard.
        for name in ["UserRecordsReceived", "UserRecordsPending"] {
            let found: Vec<_> = series(&data, name).into_iter().map(|(d, _)| d).collect();
            assert_eq!(
                found,
                [dims(&[]), dims(&["StreamName=a"]), dims(&["StreamName=b"])],
                "{name}"
            );
        }
        assert_eq!(series(&data, "UserRecordsPending")[0].1, 14.0, "summed");
        // ErrorsByCode keeps ErrorCode at every level; only the shards with errors have one.
        let errors = series(&data, "ErrorsByCode");
        let code = format!("ErrorCode={THROTTLED}");
        assert_eq!(
            errors,
            [
                (dims(&[&code]), 3.0),
                (dims(&[&code, "StreamName=a"]), 1.0),
                (dims(&[&code, "StreamName=b"]), 2.0),
                (dims(&[&code, "StreamName=a", "ShardId=shardId-0"]), 1.0),
                (dims(&[&code, "StreamName=b", "ShardId=shardId-1"]), 2.0),
            ]
        );
        let ratio = series(&data, "UserRecordsPerKinesisRecord");
        assert!(ratio.contains(&(dims(&[]), 40.0)), "{ratio:?}");
        assert!(
            ratio.contains(&(dims(&["StreamName=b", "ShardId=shardId-0"]), 30.0)),
            "{ratio:?}"
        );
        let names: BTreeSet<&str> = data.iter().filter_map(|d| d.metric_name()).collect();
        assert_eq!(names, METRIC_NAMES.into_iter().collect(), "every name");
    }

    #[test]
    fn stream_granularity_has_no_shard_series() {
        let (a, b) = two_streams_of_two_shards();
        let data = upload(MetricsLevel::Detailed, MetricsGranularity::Stream, &a, &b);
        for name in METRIC_NAMES {
            let found = series(&data, name);
            if name != "ErrorsByCode" {
                assert_eq!(found.len(), 3, "{name}: {found:?}");
            }
            assert!(
                found
                    .iter()
                    .all(|(d, _)| !d.iter().any(|x| x.starts_with("ShardId="))),
                "{name}: {found:?}"
            );
        }
        assert_eq!(
            series(&data, "KinesisRecordsPut"),
            [
                (dims(&[]), 5.0),
                (dims(&["StreamName=a"]), 3.0),
                (dims(&["StreamName=b"]), 2.0)
            ]
        );
    }

    #[test]
    fn global_granularity_has_no_stream_name() {
        let (a, b) = two_streams_of_two_shards();
        let data = upload(MetricsLevel::Detailed, MetricsGranularity::Global, &a, &b);
        assert_eq!(data.len(), METRIC_NAMES.len(), "one series per metric");
        for datum in &data {
            let expected = usize::from(datum.metric_name() == Some("ErrorsByCode"));
            assert_eq!(datum.dimensions().len(), expected, "{datum:?}");
        }
        assert_eq!(series(&data, "UserRecordsPut"), [(dims(&[]), 200.0)]);
        assert_eq!(series(&data, "BufferingTime"), [(dims(&[]), 5.0)]);
        assert_eq!(series(&data, "RetriesPerRecord"), [(dims(&[]), 0.015)]);
    }

    #[test]
    fn uploads_carry_deltas_and_idle_shards_are_left_out() {
        let previous = snapshot(&[("shardId-0", 100, 10, 0), ("shardId-1", 40, 4, 0)]);
        let now = snapshot(&[("shardId-0", 400, 20, 3), ("shardId-1", 40, 4, 0)]);
        let data = data(
            MetricsLevel::Detailed,
            MetricsGranularity::Shard,
            &[StreamCounts {
                stream: "ticks",
                now: &now,
                previous: &previous,
            }],
        );
        assert_eq!(
            series(&data, "UserRecordsPut"),
            [
                (dims(&[]), 300.0),
                (dims(&["StreamName=ticks"]), 300.0),
                (dims(&["StreamName=ticks", "ShardId=shardId-0"]), 300.0),
            ],
            "shardId-1 counted nothing since the previous upload"
        );
        let shard0 = dims(&["StreamName=ticks", "ShardId=shardId-0"]);
        for (name, value) in [
            ("KinesisRecordsPut", 10.0),
            ("UserRecordsPerKinesisRecord", 30.0),
            ("RetriesPerRecord", 0.01),
            ("BufferingTime", 5.0),
            ("AllErrors", 3.0),
        ] {
            assert!(
                series(&data, name).contains(&(shard0.clone(), value)),
                "{name}: {:?}",
                series(&data, name)
            );
        }
        assert!(data_at(MetricsLevel::None, &now, &previous).is_empty());
    }

    /// The KPL's table (`metrics_constants.cc`): `summary` is exactly `UserRecordsPut`,
    /// `KinesisRecordsPut`, `ErrorsByCode`, `AllErrors`, `UserRecordExpired` and
    /// `BufferingTime`, at every granularity; `detailed` is everything.
    #[test]
    fn summary_level_uploads_only_the_kpls_summary_metrics() {
        let (mut a, b) = two_streams_of_two_shards();
        a.totals.user_record_expired = 1;
        a.totals.user_records_failed = 1;
        a.shards.get_mut("shardId-0").unwrap().user_record_expired = 1;
        a.shards.get_mut("shardId-0").unwrap().user_records_failed = 1;
        let summary: BTreeSet<&str> = SUMMARY_METRIC_NAMES.into_iter().collect();
        assert_eq!(summary.len(), 6);
        assert!(summary.iter().all(|n| METRIC_NAMES.contains(n)));
        for granularity in [
            MetricsGranularity::Global,
            MetricsGranularity::Stream,
            MetricsGranularity::Shard,
        ] {
            let data = upload(MetricsLevel::Summary, granularity, &a, &b);
            let names: BTreeSet<&str> = data.iter().filter_map(|d| d.metric_name()).collect();
            assert_eq!(names, summary, "{granularity:?}");
            let detailed = upload(MetricsLevel::Detailed, granularity, &a, &b);
            let names: BTreeSet<&str> = detailed.iter().filter_map(|d| d.metric_name()).collect();
            assert_eq!(names, METRIC_NAMES.into_iter().collect(), "{granularity:?}");
            // Summary keeps every series of its metrics, ErrorsByCode's included.
            for name in SUMMARY_METRIC_NAMES {
                assert_eq!(
                    series(&data, name),
                    series(&detailed, name),
                    "{name} at {granularity:?}"
                );
            }
        }
        let data = upload(MetricsLevel::Summary, MetricsGranularity::Shard, &a, &b);
        let code = format!("ErrorCode={THROTTLED}");
        assert!(
            series(&data, "ErrorsByCode")
                .contains(&(dims(&[&code, "StreamName=a", "ShardId=shardId-0"]), 1.0)),
            "{data:?}"
        );
        assert!(
            series(&data, "UserRecordExpired")
                .contains(&(dims(&["StreamName=a", "ShardId=shardId-0"]), 1.0)),
            "{data:?}"
        );
    }

    /// `RequestTime` (ms), `KinesisRecordsPerPutRecordsRequest` and
    /// `UserRecordsPerPutRecordsRequest`: per stream and overall at `detailed`, never per shard
    /// (the KPL's retrier puts them with the stream only).
    #[test]
    fn request_metrics_are_uploaded_per_stream_in_milliseconds() {
        let with_requests = |requests, entries, user_records, millis| MetricsSnapshot {
            put_records_requests: requests,
            put_records_entries: entries,
            put_records_user_records: user_records,
            put_records_completed: requests,
            request_time_total: Duration::from_millis(millis),
            ..snapshot(&[("shardId-0", user_records, entries, 0)])
        };
        let a = with_requests(3, 6, 300, 60);
        let b = with_requests(1, 1, 10, 100);
        let data = upload(MetricsLevel::Detailed, MetricsGranularity::Shard, &a, &b);
        for (name, expected) in [
            ("RequestTime", [40.0, 20.0, 100.0]),
            ("KinesisRecordsPerPutRecordsRequest", [1.75, 2.0, 1.0]),
            ("UserRecordsPerPutRecordsRequest", [77.5, 100.0, 10.0]),
        ] {
            assert_eq!(
                series(&data, name),
                [
                    (dims(&[]), expected[0]),
                    (dims(&["StreamName=a"]), expected[1]),
                    (dims(&["StreamName=b"]), expected[2]),
                ],
                "{name}"
            );
            assert!(!SHARD_METRIC_NAMES.contains(&name));
        }
        let units: BTreeSet<_> = data
            .iter()
            .filter(|d| d.metric_name() == Some("RequestTime"))
            .map(|d| d.unit().cloned())
            .collect();
        assert_eq!(
            units,
            [Some(aws_sdk_cloudwatch::types::StandardUnit::Milliseconds)]
                .into_iter()
                .collect()
        );
        // An interval without requests has nothing to divide by: no series.
        let data = data_at(MetricsLevel::Detailed, &a, &a);
        assert!(series(&data, "RequestTime").is_empty(), "{data:?}");
        // Detailed only.
        let summary = upload(MetricsLevel::Summary, MetricsGranularity::Shard, &a, &b);
        assert!(series(&summary, "RequestTime").is_empty());
    }

    fn data_at(
        level: MetricsLevel,
        now: &MetricsSnapshot,
        previous: &MetricsSnapshot,
    ) -> Vec<MetricDatum> {
        data(
            level,
            MetricsGranularity::Shard,
            &[StreamCounts {
                stream: "ticks",
                now,
                previous,
            }],
        )
    }
}
