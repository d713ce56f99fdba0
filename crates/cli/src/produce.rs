//! `kstream produce` (not built yet).

/// Arguments of `kstream produce`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `kstream produce`.
pub(crate) async fn run(_args: Args) -> miette::Result<()> {
    Err(miette::miette!("kstream produce is not built yet"))
}
