//! Cognito/JWT token parsing (crates/local-apigw auth.rs, `COGNITO_USER_POOLS`) on an arbitrary
//! `Authorization` header value: never a panic; a refusal is 401 with API Gateway's message; an
//! accepted token has claims that are all strings (as API Gateway hands them on), an `exp` in
//! the future and, with a user pool configured, an `iss` naming that pool.
#![no_main]

use kstream_local_apigw::fuzz_check_cognito;
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000;
const POOL: &str = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Pool";

fuzz_target!(|data: &[u8]| {
    let pools = [POOL.to_owned()];
    for arns in [&[][..], &pools[..]] {
        match fuzz_check_cognito(data, arns, NOW) {
            Ok(claims) => {
                assert!(
                    claims.values().all(serde_json::Value::is_string),
                    "{claims:?}"
                );
                let exp: i64 = claims["exp"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .expect("exp");
                assert!(exp > NOW);
                if !arns.is_empty() {
                    let iss = claims["iss"].as_str().expect("iss");
                    assert!(iss.ends_with("cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"));
                }
            }
            Err((status, message)) => {
                assert_eq!(status, 401);
                assert!(
                    message == "Unauthorized" || message == "The incoming token has expired",
                    "{message}"
                );
            }
        }
    }
});
