//! `kstream deagg` (not built yet).

/// Arguments of `kstream deagg`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `kstream deagg`.
pub(crate) async fn run(_args: Args) -> miette::Result<()> {
    Err(miette::miette!("kstream deagg is not built yet"))
}
