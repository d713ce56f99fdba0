//! S3 PutObject: a whole object in one signed request (the payload's SHA-256 signed, so S3
//! rejects a body changed on the way), to the bucket's virtual-hosted address on AWS
//! (`https://<bucket>.s3.<region>.amazonaws.com/<key>`), or in the path on a configured
//! endpoint (an emulator) and for bucket names that are not one DNS label (dots: the TLS
//! certificate covers one level), as the SDK's S3 endpoint rules do. Error answers are S3's
//! XML error document: `Code`, `Message` (read by [`xml_field`]: S3's error document is flat,
//! with no attributes or namespaces on those elements, so no XML library is linked for it).

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SigningSettings, UriPathNormalizationMode,
};
use bytes::Bytes;

use super::{Answer, AwsClient, Endpoint, Request, S3};
use crate::error::AwsError;

impl AwsClient {
    /// Puts `body` under `key` in `bucket` with `content_type` (encryption is the bucket's
    /// default).
    ///
    /// # Errors
    /// [`AwsError`] with S3's code (`NoSuchBucket`, `AccessDenied`…) once retries are spent.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<(), AwsError> {
        let request = Request {
            operation: "S3 PutObject",
            service: S3,
            method: http::Method::PUT,
            url: object_url(&self.endpoint(S3), bucket, key),
            headers: vec![("content-type", content_type.to_owned())],
            body,
            settings: s3_signing(),
        };
        self.send(&request, s3_error).await.map(drop)
    }
}

/// S3's signing rules: the path signed as sent (encoded once, not normalised), the payload's
/// hash in `x-amz-content-sha256`.
fn s3_signing() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings
}

/// The object's URL.
fn object_url(endpoint: &Endpoint, bucket: &str, key: &str) -> String {
    let key = encode_key(key);
    if endpoint.configured || !virtual_hostable(bucket) {
        return format!("{}/{bucket}/{key}", endpoint.base);
    }
    let host = endpoint
        .base
        .strip_prefix("https://")
        .unwrap_or(&endpoint.base);
    format!("https://{bucket}.{host}/{key}")
}

/// Whether `bucket` can be the first label of the host: 3 to 63 lowercase letters, digits and
/// hyphens, starting and ending with a letter or digit.
fn virtual_hostable(bucket: &str) -> bool {
    let bytes = bucket.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// The key in a URL path: every byte but unreserved ones and `/` percent-encoded (what S3's
/// signature expects).
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for &b in key.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// S3's error code and message (`<Error><Code>…</Code><Message>…</Message>…</Error>`); the
/// HTTP status's reason when the answer has none (HEAD, a proxy's page).
fn s3_error(answer: &Answer) -> (String, String) {
    let text = String::from_utf8_lossy(&answer.body);
    let reason = http::StatusCode::from_u16(answer.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error");
    (
        xml_field(&text, "Code").unwrap_or_else(|| format!("Http{}", answer.status)),
        xml_field(&text, "Message").unwrap_or_else(|| reason.to_owned()),
    )
}

/// The text of the first `<name>…</name>` element of `xml`, its entities decoded.
fn xml_field(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(
        xml[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(region: &str) -> Endpoint {
        Endpoint {
            base: format!("https://s3.{region}.amazonaws.com"),
            configured: false,
        }
    }

    #[test]
    fn buckets_are_virtual_hosted_on_aws_and_in_the_path_elsewhere() {
        assert_eq!(
            object_url(&aws("eu-west-1"), "kstream-archive", "failed/a b+c.json"),
            "https://kstream-archive.s3.eu-west-1.amazonaws.com/failed/a%20b%2Bc.json"
        );
        assert_eq!(
            object_url(&aws("eu-west-1"), "my.dotted.bucket", "k"),
            "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/k"
        );
        let emulator = Endpoint {
            base: "http://127.0.0.1:4566".into(),
            configured: true,
        };
        assert_eq!(
            object_url(&emulator, "archive", "shard/1=2"),
            "http://127.0.0.1:4566/archive/shard/1%3D2"
        );
    }

    #[test]
    fn keys_keep_slashes_and_unreserved_bytes_only() {
        assert_eq!(encode_key("a/b-c_d.e~f"), "a/b-c_d.e~f");
        assert_eq!(encode_key("é?#%"), "%C3%A9%3F%23%25");
    }

    #[test]
    fn s3_error_documents_give_code_and_message() {
        let answer = Answer {
            status: 404,
            headers: http::HeaderMap::new(),
            body: Bytes::from_static(
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>\
                  <Message>The specified bucket does not exist &amp; never did</Message>\
                  <BucketName>x</BucketName><RequestId>R1</RequestId></Error>",
            ),
        };
        assert_eq!(
            s3_error(&answer),
            (
                "NoSuchBucket".to_owned(),
                "The specified bucket does not exist & never did".to_owned()
            )
        );
        let empty = Answer {
            status: 403,
            headers: http::HeaderMap::new(),
            body: Bytes::new(),
        };
        assert_eq!(
            s3_error(&empty),
            ("Http403".to_owned(), "Forbidden".to_owned())
        );
    }
}
