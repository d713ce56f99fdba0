//! `kstream put` (not built yet).

/// Arguments of `kstream put`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `kstream put`.
pub(crate) async fn run(_args: Args) -> miette::Result<()> {
    Err(miette::miette!("kstream put is not built yet"))
}
