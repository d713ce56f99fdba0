//! `kstream local` (not built yet).

/// Arguments of `kstream local`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `kstream local`.
pub(crate) async fn run(_args: Args) -> miette::Result<()> {
    Err(miette::miette!("kstream local is not built yet"))
}
