//! Parity with the reference: every row of `tests/parity/fares.json` (made by node running the
//! reference's function, `tests/parity/fares.js`) must come back from the handler byte for byte.
//! scripts/test-interop.sh regenerates the table with node and fails if it differs from the
//! committed one.

mod common;

use fare_api::Faults;
use serde::Deserialize;

#[derive(Deserialize)]
struct Row {
    ride_request_id: Option<String>,
    status: u16,
    body: String,
}

#[tokio::test]
async fn every_row_matches_node_byte_for_byte() {
    let rows: Vec<Row> =
        serde_json::from_str(include_str!("parity/fares.json")).expect("fares.json is a table");
    assert!(rows.len() >= 200, "the table has {} rows", rows.len());
    let mut mismatches = Vec::new();
    for row in &rows {
        let event = match &row.ride_request_id {
            Some(id) => common::event(Some(&[("ride_request_id", id)])),
            // the reference's own 400 test: another parameter only
            None => common::event(Some(&[("foo", "bar")])),
        };
        let (status, content_type, body) = common::call(&event, &Faults::default()).await;
        let expected_type = if row.status == 200 {
            "application/json"
        } else {
            "text/plain"
        };
        if (status, content_type.as_str(), body.as_bytes())
            != (row.status, expected_type, row.body.as_bytes())
        {
            mismatches.push(format!(
                "{:?}: got {status} {content_type} {body}, node {} {}",
                row.ride_request_id, row.status, row.body
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} rows differ:\n{}",
        mismatches.len(),
        rows.len(),
        mismatches.join("\n")
    );
}
