//! The error type of `kstream local`: an error of one of the services it composes.

/// Everything that can go wrong in `kstream local` outside a function's own code: an error of
/// the Lambda host and mappings, the API Gateway executor or the Firehose delivery, as that
/// service reports it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// The Lambda host, the mappings, the checkpoints or the state files.
    #[diagnostic(transparent)]
    #[error(transparent)]
    Lambda(#[from] kstream_local_lambda::Error),
    /// The REST API executor could not load or serve the deployed APIs.
    #[diagnostic(code(kstream_local::apigw))]
    #[error(transparent)]
    Apigw(#[from] kstream_local_apigw::ApigwError),
    /// The Firehose delivery.
    #[diagnostic(transparent)]
    #[error(transparent)]
    Firehose(#[from] kstream_local_firehose::Error),
    /// The REST API executor was asked to listen on an address other machines can reach: the
    /// local data plane serves loopback only (its APIs check no real IAM signature or Cognito
    /// token signature).
    #[diagnostic(
        code(kstream_local::not_loopback),
        help("listen on 127.0.0.1 or ::1 and forward the port if another machine must reach it")
    )]
    #[error("the local REST API executor listens on loopback only, not on {addr}")]
    NotLoopback {
        /// The address asked for.
        addr: std::net::SocketAddr,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
