//! `kstream tail` (not built yet).

/// Arguments of `kstream tail`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `kstream tail`.
pub(crate) async fn run(_args: Args) -> miette::Result<()> {
    Err(miette::miette!("kstream tail is not built yet"))
}
