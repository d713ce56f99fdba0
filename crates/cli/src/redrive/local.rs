//! `kstream redrive --invoke FN --local`: the function's binary on this machine, through the
//! local Runtime API host, with its configuration as deployed on the emulator.

use kstream_local::lambda::deployed::{self, BinaryResolver};
use kstream_local::lambda::mapping::event::EventContext;
use kstream_local::lambda::runtime::{FunctionHost, InvokeResult};
use kstream_redrive::{BatchInfo, Invoke};

use super::LocalArgs;

/// Invokes a function registered on a local [`FunctionHost`].
pub(crate) struct LocalInvoker {
    host: FunctionHost,
    function: String,
}

impl LocalInvoker {
    /// A host running `function` as deployed on the emulator, from its local binary.
    pub(crate) async fn start(
        local: &LocalArgs,
        sdk: &aws_config::SdkConfig,
        function: &str,
    ) -> miette::Result<Self> {
        let refused = crate::local_guard::non_local_endpoints(std::env::vars()).await;
        if !refused.is_empty() {
            return Err(crate::local_guard::refusal(&refused)
                .wrap_err("--invoke --local runs the function as deployed on the emulator"));
        }
        let deployed = deployed::load(sdk)
            .await
            .map_err(|e| miette::miette!("cannot read the deployed functions: {e}"))?;
        let found = deployed
            .functions
            .iter()
            .find(|f| f.spec.name == function || f.spec.arn == function)
            .ok_or_else(|| miette::miette!("no function {function} is deployed on the emulator"))?;
        let mut resolver = BinaryResolver::default().functions_dir(&local.functions_dir);
        for (name, path) in &local.binaries {
            resolver = resolver.binary(name, path);
        }
        let binary = resolver.resolve(found).ok_or_else(|| {
            miette::miette!(
                help = format!("pass --functions-dir or --binary {}=PATH", found.spec.name),
                "no binary found for {}",
                found.spec.name
            )
        })?;
        let mut spec = found.spec.clone();
        spec.binary = binary;
        let host = FunctionHost::builder().build();
        host.register(spec);
        Ok(Self {
            host,
            function: function.to_owned(),
        })
    }

    /// Stops the function's processes.
    pub(crate) async fn shutdown(&self) {
        self.host.shutdown().await;
    }
}

impl Invoke for LocalInvoker {
    fn function(&self) -> &str {
        &self.function
    }

    fn context(&self, info: &BatchInfo) -> EventContext {
        let (region, role_arn) = self
            .host
            .function(&self.function)
            .map(|f| (f.region, f.role.unwrap_or_default()))
            .unwrap_or_default();
        EventContext {
            stream_arn: info.stream_arn.clone(),
            region,
            role_arn,
        }
    }

    async fn invoke(&self, payload: Vec<u8>) -> kstream_redrive::Result<InvokeResult> {
        self.host
            .invoke(&self.function, payload)
            .await
            .map(|outcome| outcome.result)
            .map_err(|e| kstream_redrive::Error::Invoke {
                function: self.function.clone(),
                message: format!("on this machine: {e}"),
            })
    }
}
