//! Lambda entry point (wiring only).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    Err("not built yet".into())
}
