//! Template registration: any source is either registered or refused with a `TemplateError`,
//! in both output formats, never a panic; a registered template renders a small record to
//! Ok or Err, never a panic.
#![no_main]

use kstream_transform::{OutputFormat, Templates};
use libfuzzer_sys::fuzz_target;

const RECORD: &str =
    r#"{"id":7,"name":"x\"y","nested":{"a":[1,2.5,null,true]},"when":"2024-01-02T03:04:05Z"}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if source.len() > 4096 {
        return;
    }
    let value: serde_json::Value = serde_json::from_str(RECORD).expect("valid record");
    for format in [OutputFormat::Json, OutputFormat::Text] {
        let mut templates = Templates::new();
        if templates.add("t", source, format).is_ok() {
            assert!(templates.contains("t"));
            let _ = templates.render("t", &value);
        } else {
            assert!(!templates.contains("t"));
        }
    }
});
