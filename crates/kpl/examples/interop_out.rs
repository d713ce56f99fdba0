//! Writes kstream-kpl's Kinesis records for the interop cases, for the Python and Node libraries
//! to deaggregate (tests/interop/check_python.py, check_node.js; run by scripts/test-interop.sh).
//!
//! Usage: `cargo run -p kstream-kpl --example interop_out -- tests/interop/cases.json OUT.json`
//!
//! For every case: the records our [`Aggregator`] emits at the case's size limit and at 300 bytes
//! (aggregates and raw single records), and all records [`encode`]d as one aggregate; plus a case
//! with tags, which the libraries must skip over.

use std::error::Error;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kstream_kpl::{AggregatedRecord, Aggregator, AggregatorConfig, UserRecord, encode};
use serde_json::{Value, json};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(cases_path), Some(out_path)) = (args.next(), args.next()) else {
        return Err("usage: interop_out CASES.json OUT.json".into());
    };
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(&cases_path)?)?;
    let mut out = Vec::new();
    for case in cases["cases"].as_array().ok_or("cases.json: no cases")? {
        let name = case["name"].as_str().ok_or("case without name")?;
        let max_size = case["maxSize"].as_u64().ok_or("case without maxSize")? as usize;
        let records = case["records"]
            .as_array()
            .ok_or("case without records")?
            .iter()
            .map(|r| {
                Ok(UserRecord {
                    partition_key: r["partitionKey"]
                        .as_str()
                        .ok_or("no partitionKey")?
                        .to_owned(),
                    explicit_hash_key: r["explicitHashKey"].as_str().map(str::to_owned),
                    data: STANDARD
                        .decode(r["data"].as_str().ok_or("no data")?)?
                        .into(),
                    tags: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, Box<dyn Error>>>()?;
        for size in [max_size, 300] {
            let mut agg = Aggregator::new(AggregatorConfig::builder().max_size(size).build()?);
            let mut emitted = Vec::new();
            let mut pending = records.iter();
            for r in &records {
                emitted.extend(agg.add(r.clone())?);
            }
            emitted.extend(agg.flush());
            for rec in emitted {
                let users: Vec<_> = pending.by_ref().take(rec.user_records).collect();
                out.push(entry(
                    name,
                    &format!("aggregator max_size={size}"),
                    &rec,
                    &users,
                ));
            }
        }
        let whole = AggregatedRecord {
            partition_key: "a".into(),
            explicit_hash_key: None,
            data: encode(&records).into(),
            user_records: records.len(),
        };
        out.push(entry(
            name,
            "encode",
            &whole,
            &records.iter().collect::<Vec<_>>(),
        ));
    }
    let tagged = vec![
        UserRecord::new("t1", "tagged one").with_tag("source", Some("sensor".into())),
        UserRecord::new("t2", "tagged two")
            .with_tag("flag", None)
            .with_tag("k", Some("v".into())),
    ];
    let rec = AggregatedRecord {
        partition_key: "a".into(),
        explicit_hash_key: None,
        data: encode(&tagged).into(),
        user_records: 2,
    };
    out.push(entry(
        "tags",
        "encode",
        &rec,
        &tagged.iter().collect::<Vec<_>>(),
    ));

    let doc = json!({
        "producer": "kstream-kpl (examples/interop_out.rs)",
        "kinesisRecords": out,
    });
    if let Some(dir) = std::path::Path::new(&out_path).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out_path, serde_json::to_vec(&doc)?)?;
    eprintln!(
        "wrote {} Kinesis records to {out_path}",
        doc["kinesisRecords"].as_array().map_or(0, Vec::len)
    );
    Ok(())
}

fn entry(case: &str, how: &str, rec: &AggregatedRecord, users: &[&UserRecord]) -> Value {
    json!({
        "case": case,
        "how": how,
        "partitionKey": rec.partition_key,
        "explicitHashKey": rec.explicit_hash_key,
        "aggregated": rec.user_records > 1 || how == "encode",
        "data": STANDARD.encode(&rec.data),
        "expected": users.iter().map(|u| json!({
            "partitionKey": u.partition_key,
            "explicitHashKey": u.explicit_hash_key,
            "data": STANDARD.encode(&u.data),
        })).collect::<Vec<_>>(),
    })
}
