//! kstream local's EventBridge Scheduler: fires the deployed schedules at their Lambda targets.
//!
//! The emulator (moto) stores schedules but never fires them. This crate reads them (every
//! schedule group, [`deployed`]), evaluates their expressions ([`expression`]: `rate(...)`,
//! AWS's six-field `cron(...)`, `at(...)`, in `ScheduleExpressionTimezone`, between `StartDate`
//! and `EndDate`), and at each fire time invokes the target through `kstream-local-lambda`'s
//! `FunctionHost` with the target's `Input`, honouring `State`, `FlexibleTimeWindow`,
//! `RetryPolicy` and `DeadLetterConfig` ([`runner`]). `kstream-local` composes it into
//! `kstream local up` and shows each schedule's counters ([`stats`]) in `kstream local status`.
//!
//! Only Lambda targets are fired (the other templated and universal targets are reported as
//! skipped at start-up); `ActionAfterCompletion` and the target's `RoleArn` are not used.
//!
//! # Layout
//! - [`deployed`]: the schedules as deployed (the convention of `kstream_local_lambda`'s crate
//!   docs, "How a service crate reads what Terraform deployed").
//! - [`schedule`]: one schedule's settings and the payload of one delivery.
//! - [`expression`]: expressions and fire times.
//! - [`runner`]: firing, delivery, retries, dead letters, the speed-up for tests.
//! - [`stats`]: counters and their status snapshot.
//!
//! # Example
//!
//! ```no_run
//! # async fn example() -> kstream_local_scheduler::Result<()> {
//! use kstream_local_lambda::runtime::{FunctionHost, FunctionSpec};
//! use kstream_local_scheduler::{Scheduler, SchedulerOptions, deployed};
//!
//! let sdk = aws_config::load_from_env().await;
//! let host = FunctionHost::builder().build();
//! host.register(FunctionSpec::new("p2-producer", "target/release/scheduled-producer"));
//! let schedules = deployed::load(&sdk).await?.schedules;
//! let scheduler = Scheduler::new(schedules, host, &sdk, SchedulerOptions::default());
//! let (stop, stopped) = tokio::sync::watch::channel(false);
//! tokio::spawn(async move {
//!     let _ = tokio::signal::ctrl_c().await;
//!     stop.send_replace(true);
//! });
//! scheduler.run(stopped).await;
//! # Ok(())
//! # }
//! ```

pub mod deployed;
pub mod expression;
pub mod runner;
pub mod schedule;
pub mod stats;

mod error;

pub use error::{Error, ExpressionError, Result};
pub use runner::{Scheduler, SchedulerOptions};
pub use schedule::ScheduleSpec;
pub use stats::{ScheduleStats, ScheduleStatus};
