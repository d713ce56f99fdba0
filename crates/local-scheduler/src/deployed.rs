//! What is deployed: schedules, read from the emulator's EventBridge Scheduler API.
//!
//! This module follows the convention every service crate of the local data plane shares:
//! `kstream_local_lambda`'s crate docs, "How a service crate reads what Terraform deployed".
//! `ListSchedules` (every schedule group) names the schedules and `GetSchedule` reads each one
//! whole (the listing carries only the target's ARN).

use crate::error::{Error, Result};
use crate::schedule::ScheduleSpec;

/// The schedules as deployed.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Deployed {
    /// Those kstream local can fire (a Lambda target, an expression it evaluates).
    pub schedules: Vec<ScheduleSpec>,
    /// Those it cannot, as `group/name`, with the reason.
    pub skipped: Vec<(String, Error)>,
}

/// Reads every deployed schedule, in every schedule group (see the module docs).
///
/// # Errors
/// [`Error::Aws`] when the Scheduler API cannot be read.
pub async fn load(sdk: &aws_config::SdkConfig) -> Result<Deployed> {
    load_matching(sdk, |_| true).await
}

/// [`load`] for the schedules whose name `keep` accepts; the others are not read further.
///
/// # Errors
/// [`Error::Aws`] when the Scheduler API cannot be read.
pub async fn load_matching(
    sdk: &aws_config::SdkConfig,
    keep: impl Fn(&str) -> bool,
) -> Result<Deployed> {
    let scheduler = aws_sdk_scheduler::Client::new(sdk);
    let summaries: Vec<_> = scheduler
        .list_schedules()
        .max_results(100)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::aws("Scheduler.ListSchedules", e))?;
    let mut deployed = Deployed::default();
    for summary in summaries {
        let Some(name) = summary.name() else { continue };
        if !keep(name) {
            continue;
        }
        let group = summary.group_name().unwrap_or("default");
        let out = scheduler
            .get_schedule()
            .name(name)
            .group_name(group)
            .send()
            .await
            .map_err(|e| Error::aws("Scheduler.GetSchedule", e))?;
        tracing::debug!(schedule = %name, group = %group, "found a deployed schedule");
        match ScheduleSpec::from_schedule(&out) {
            Ok(spec) => deployed.schedules.push(spec),
            Err(e) => deployed.skipped.push((format!("{group}/{name}"), e)),
        }
    }
    Ok(deployed)
}
