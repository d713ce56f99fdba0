//! The on-failure message a Kinesis event source mapping sends its destination.

use kstream_local_lambda::mapping::stream_name_of;
use serde::Deserialize;

/// The `KinesisBatchInfo` of an on-failure message (Lambda developer guide, "Retain discarded
/// batch records for a Kinesis Data Streams event source"): the batch's place in the stream.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchInfo {
    /// The shard.
    pub shard_id: String,
    /// The batch's first sequence number.
    pub start_sequence_number: String,
    /// The batch's last sequence number.
    pub end_sequence_number: String,
    /// The stream's ARN.
    pub stream_arn: String,
    /// Kinesis records in the batch (the mapping's count; absent in some hand-made messages).
    #[serde(default)]
    pub batch_size: Option<u64>,
}

impl BatchInfo {
    /// The stream's name (from its ARN).
    pub fn stream_name(&self) -> &str {
        stream_name_of(&self.stream_arn)
    }
}

impl std::fmt::Display for BatchInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}..{}",
            self.stream_name(),
            self.shard_id,
            self.start_sequence_number,
            self.end_sequence_number
        )
    }
}

/// An on-failure message: only its batch info matters here.
#[derive(Debug, Clone, Deserialize)]
pub struct OnFailureMessage {
    /// The batch's place in the stream.
    #[serde(rename = "KinesisBatchInfo")]
    pub info: BatchInfo,
}

impl OnFailureMessage {
    /// Parses a message body.
    ///
    /// # Errors
    /// When the body is not a Kinesis on-failure message (no `KinesisBatchInfo` with its
    /// fields).
    pub fn parse(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_info_of_an_on_failure_message_parses() {
        // The documented example (Lambda developer guide).
        let body = r#"{
          "requestContext": {"requestId": "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
            "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
            "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 1},
          "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
          "version": "1.0", "timestamp": "2019-11-14T00:38:06.021Z",
          "KinesisBatchInfo": {"shardId": "shardId-000000000001",
            "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
            "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
            "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
            "approximateArrivalOfLastRecord": "2019-11-14T00:38:05.580Z",
            "batchSize": 500,
            "streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream"}}"#;
        let info = OnFailureMessage::parse(body).unwrap().info;
        assert_eq!(info.shard_id, "shardId-000000000001");
        assert_eq!(info.batch_size, Some(500));
        assert_eq!(info.stream_name(), "mystream");
        assert!(
            info.to_string()
                .starts_with("mystream shardId-000000000001 4960")
        );
        assert!(OnFailureMessage::parse(r#"{"Records": []}"#).is_err());
    }
}
