//! The VTL engine (crates/local-apigw vtl) on arbitrary templates: parse, then render against
//! a fixed request (body, parameters, `$context`, stage variables). Never a panic; a parse or
//! render failure is an error value. Templates are kept to 2 KiB so a run stays bounded
//! (API Gateway's mapping templates are limited to 300 KB; `#foreach` over a range multiplies
//! work, which the engine bounds itself).
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use kstream_local_apigw::vtl::{RequestParams, Template, TemplateInput};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

struct Fixture {
    params: RequestParams,
    context: Value,
    stage: BTreeMap<String, String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut params = RequestParams::default();
        params.path.insert("id".into(), "42".into());
        params.querystring.insert("q".into(), "a b".into());
        params.header.insert("X-Trace".into(), "t-1".into());
        Fixture {
            params,
            context: json!({
                "requestId": "c0ffee00-0000-4000-8000-000000000000",
                "stage": "prod",
                "httpMethod": "POST",
                "identity": {"sourceIp": "127.0.0.1"},
                "responseOverride": {"header": {}},
                "requestOverride": {"header": {}}
            }),
            stage: BTreeMap::from([("env".to_owned(), "dev".to_owned())]),
        }
    })
}

const BODY: &str = r#"{"records":[{"data":"a","n":1},{"data":"b","n":3}],"name":"Zoë \"Z\"","nested":{"x":[1,2,{"y":null}]}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if source.len() > 2048 {
        return;
    }
    let Ok(template) = Template::parse(source) else {
        return;
    };
    let f = fixture();
    let input = TemplateInput {
        body: BODY,
        params: &f.params,
        context: &f.context,
        stage_variables: &f.stage,
    };
    if let Ok((out, context)) = template.render_with_context(&input) {
        assert!(
            context.is_object(),
            "$context is no longer an object: {context}"
        );
        let _ = out;
    }
});
