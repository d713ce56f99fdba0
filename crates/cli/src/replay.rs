//! `kstream replay` (not built yet).

/// Arguments of `kstream replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `kstream replay`.
pub(crate) async fn run(_args: Args) -> miette::Result<()> {
    Err(miette::miette!("kstream replay is not built yet"))
}
