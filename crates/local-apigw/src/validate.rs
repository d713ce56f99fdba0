//! Request validation: bodies against the method's model (JSON Schema draft-04), and required
//! request parameters.
//!
//! Models may reference other models of the same API with API Gateway's URL form
//! (`{"$ref": "https://apigateway.amazonaws.com/restapis/<id>/models/<Name>"}`); those references
//! are inlined before the schema is compiled (no network access).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::model::{DeployedApi, Method};

/// The compiled models of one API.
pub(crate) struct Models {
    by_name: HashMap<String, Result<jsonschema::Validator, String>>,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models")
            .field("names", &self.by_name.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Why a body was rejected (the detail goes to the log; the client gets API Gateway's message).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BodyRejection {
    /// Not JSON.
    Malformed(String),
    /// JSON that does not match the model.
    Invalid(Vec<String>),
    /// The model itself does not compile (a deployment problem: 500).
    BadModel(String),
}

impl Models {
    pub(crate) fn compile(api: &DeployedApi) -> Self {
        let raw: BTreeMap<&str, Option<Value>> = api
            .models
            .values()
            .map(|m| {
                (
                    m.name.as_str(),
                    m.schema
                        .as_deref()
                        .and_then(|s| serde_json::from_str(s).ok()),
                )
            })
            .collect();
        let by_name = api
            .models
            .values()
            .map(|m| {
                let compiled = match m.schema.as_deref().map(serde_json::from_str::<Value>) {
                    None => Err("the model has no schema".to_owned()),
                    Some(Err(e)) => Err(format!("the schema is not JSON: {e}")),
                    Some(Ok(schema)) => inline_refs(schema, &raw, 0).and_then(|s| {
                        jsonschema::draft4::new(&s).map_err(|e| format!("invalid schema: {e}"))
                    }),
                };
                (m.name.clone(), compiled)
            })
            .collect();
        Self { by_name }
    }

    /// Validates a body against the model `name`.
    pub(crate) fn validate(&self, name: &str, body: &[u8]) -> Result<(), BodyRejection> {
        // API Gateway's built-in `Empty` model accepts anything.
        let validator = match self.by_name.get(name) {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(BodyRejection::BadModel(format!("model {name}: {e}"))),
            None if name == "Empty" || name == "Error" => return Ok(()),
            None => {
                return Err(BodyRejection::BadModel(format!(
                    "model {name} is not defined"
                )));
            }
        };
        let instance: Value = if body.iter().all(|b| b.is_ascii_whitespace()) {
            Value::Null
        } else {
            serde_json::from_slice(body).map_err(|e| BodyRejection::Malformed(e.to_string()))?
        };
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{e} (at {})", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(BodyRejection::Invalid(errors))
        }
    }
}

/// The model a method applies to a request with this content type: the exact media type,
/// else `$default`. A request without a content type is treated as `application/json`.
pub(crate) fn model_for<'m>(method: &'m Method, content_type: Option<&str>) -> Option<&'m str> {
    let media = media_type(content_type.unwrap_or("application/json"));
    method
        .request_models
        .iter()
        .find(|(ct, _)| ct.eq_ignore_ascii_case(&media))
        .or_else(|| {
            method
                .request_models
                .iter()
                .find(|(ct, _)| *ct == "$default")
        })
        .map(|(_, m)| m.as_str())
}

/// The media type without parameters, lower-cased (`application/json; charset=utf-8` →
/// `application/json`).
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn inline_refs(
    v: Value,
    models: &BTreeMap<&str, Option<Value>>,
    depth: usize,
) -> Result<Value, String> {
    if depth > 32 {
        return Err("model references nest too deeply (a cycle?)".to_owned());
    }
    match v {
        Value::Object(mut o) => {
            if let Some(Value::String(r)) = o.get("$ref")
                && let Some(name) = r
                    .strip_prefix("https://apigateway.amazonaws.com/restapis/")
                    .and_then(|rest| rest.split("/models/").nth(1))
            {
                let target = models
                    .get(name)
                    .cloned()
                    .flatten()
                    .ok_or_else(|| format!("referenced model {name} is not defined"))?;
                let mut inlined = inline_refs(target, models, depth + 1)?;
                if let Value::Object(t) = &mut inlined {
                    t.remove("$schema");
                }
                return Ok(inlined);
            }
            for (_, child) in o.iter_mut() {
                *child = inline_refs(std::mem::take(child), models, depth)?;
            }
            Ok(Value::Object(o))
        }
        Value::Array(a) => a
            .into_iter()
            .map(|x| inline_refs(x, models, depth))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other),
    }
}

/// The required request parameters (`method.request.{header,querystring,path}.NAME` with
/// `true`) missing from a request, in API Gateway's order and spelling.
pub(crate) fn missing_parameters(
    method: &Method,
    headers: &http::HeaderMap,
    query: &BTreeMap<String, Vec<String>>,
    path: &BTreeMap<String, String>,
) -> Vec<String> {
    method
        .request_parameters
        .iter()
        .filter(|(_, required)| **required)
        .filter_map(|(key, _)| {
            let rest = key.strip_prefix("method.request.")?;
            let (kind, name) = rest.split_once('.')?;
            let present = match kind {
                "header" => headers.contains_key(name),
                "querystring" => query.contains_key(name),
                "path" => path.contains_key(name),
                _ => true,
            };
            (!present).then(|| name.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::Model;

    /// The pattern 1 models as the Terraform module declares them.
    fn api() -> DeployedApi {
        let mut api = DeployedApi::default();
        let put_record = json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": "PutRecord", "type": "object", "required": ["data", "partitionKey"],
            "properties": {
                "data": {"type": "string", "maxLength": 1048576},
                "partitionKey": {"type": "string", "minLength": 1, "maxLength": 256}
            }
        });
        let put_records = json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": "PutRecords", "type": "object", "required": ["records"],
            "properties": {"records": {
                "type": "array", "minItems": 1, "maxItems": 500,
                "items": {"$ref": "https://apigateway.amazonaws.com/restapis/abc/models/PutRecordModel"}
            }}
        });
        for (name, schema) in [
            ("PutRecordModel", put_record),
            ("PutRecordsModel", put_records),
        ] {
            api.models.insert(
                name.into(),
                Model {
                    name: name.into(),
                    content_type: "application/json".into(),
                    schema: Some(schema.to_string()),
                    ..Model::default()
                },
            );
        }
        api.models.insert(
            "Broken".into(),
            Model {
                name: "Broken".into(),
                schema: Some("{not json".into()),
                ..Model::default()
            },
        );
        api
    }

    #[test]
    fn valid_bodies_pass() {
        let m = Models::compile(&api());
        assert_eq!(
            m.validate("PutRecordModel", br#"{"data": "x", "partitionKey": "k"}"#),
            Ok(())
        );
        assert_eq!(
            m.validate(
                "PutRecordsModel",
                br#"{"records": [{"data": "x", "partitionKey": "k"}]}"#
            ),
            Ok(())
        );
        assert_eq!(m.validate("Empty", b"anything"), Ok(()));
    }

    #[test]
    fn required_type_and_item_errors_are_reported() {
        let m = Models::compile(&api());
        let invalid = |name: &str, body: &str| match m.validate(name, body.as_bytes()) {
            Err(BodyRejection::Invalid(e)) => e.join("; "),
            other => panic!("{body}: expected Invalid, got {other:?}"),
        };
        assert!(invalid("PutRecordModel", r#"{"data": "x"}"#).contains("partitionKey"));
        assert!(
            invalid("PutRecordModel", r#"{"data": 1, "partitionKey": "k"}"#).contains("string")
        );
        assert!(
            invalid("PutRecordModel", r#"{"data": "x", "partitionKey": ""}"#)
                .contains("/partitionKey")
        );
        assert!(invalid("PutRecordModel", "[]").contains("object"));
        assert!(invalid("PutRecordsModel", r#"{"records": []}"#).contains("/records"));
        assert!(
            invalid("PutRecordsModel", r#"{"records": [{"data": "x"}]}"#).contains("/records/0")
        );
        assert!(invalid("PutRecordsModel", r#"{"records": "no"}"#).contains("array"));
        assert!(invalid("PutRecordModel", "").contains("object"));
    }

    #[test]
    fn malformed_json_and_bad_models_are_distinguished() {
        let m = Models::compile(&api());
        assert!(matches!(
            m.validate("PutRecordModel", b"{\"data\": "),
            Err(BodyRejection::Malformed(_))
        ));
        assert!(matches!(
            m.validate("Broken", b"{}"),
            Err(BodyRejection::BadModel(_))
        ));
        assert!(matches!(
            m.validate("Nope", b"{}"),
            Err(BodyRejection::BadModel(_))
        ));
    }

    #[test]
    fn model_selection_by_content_type() {
        let mut method = Method::default();
        method
            .request_models
            .insert("application/json".into(), "A".into());
        assert_eq!(model_for(&method, None), Some("A"));
        assert_eq!(
            model_for(&method, Some("Application/JSON; charset=utf-8")),
            Some("A")
        );
        assert_eq!(model_for(&method, Some("text/plain")), None);
        method.request_models.insert("$default".into(), "D".into());
        assert_eq!(model_for(&method, Some("text/plain")), Some("D"));
    }

    #[test]
    fn required_parameters() {
        let mut method = Method::default();
        method
            .request_parameters
            .insert("method.request.header.x-id".into(), true);
        method
            .request_parameters
            .insert("method.request.querystring.q".into(), true);
        method
            .request_parameters
            .insert("method.request.querystring.opt".into(), false);
        let mut headers = http::HeaderMap::new();
        let query = BTreeMap::new();
        assert_eq!(
            missing_parameters(&method, &headers, &query, &BTreeMap::new()),
            vec!["x-id", "q"]
        );
        headers.insert("x-id", "1".parse().unwrap());
        assert_eq!(
            missing_parameters(&method, &headers, &query, &BTreeMap::new()),
            vec!["q"]
        );
    }
}
