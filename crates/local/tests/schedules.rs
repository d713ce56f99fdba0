//! EventBridge Scheduler schedules in the whole data plane: read with the deployment's name
//! prefix, fired at the test function, counted in the status file.
//!
//! Needs the emulator: run by scripts/test-e2e.sh (`cargo test -- --ignored`).

use std::time::Duration;

use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, Target};
use kstream_local::dataplane::DataPlane;
use kstream_local::lambda::deployed::BinaryResolver;
use kstream_local::status::StatusReport;
use kstream_local_testkit::{emulator, test_fn, wait_for};
use tokio::sync::oneshot;

async fn create(emu: &kstream_local_testkit::Emulator, name: &str, target: &str) {
    aws_sdk_scheduler::Client::new(&emu.sdk)
        .create_schedule()
        .name(name)
        .schedule_expression("rate(1 minute)")
        .flexible_time_window(
            FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Off)
                .build()
                .unwrap(),
        )
        .target(
            Target::builder()
                .arn(target)
                .role_arn("arn:aws:iam::123456789012:role/scheduler")
                .input(r#"{"echo": "scheduled"}"#)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateSchedule");
}

#[tokio::test]
#[ignore = "needs the emulator (scripts/test-e2e.sh)"]
async fn the_data_plane_fires_its_deployments_schedules_and_reports_them() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let role = emu.role().await;
    let function = format!("{}-fn", emu.prefix);
    let arn = emu.function(&function, &role, 10, &[]).await;
    let fired = format!("{}-every-minute", emu.prefix);
    create(&emu, &fired, &arn).await;
    // A target this plane does not run: listed as skipped, never fired.
    let orphan = format!("{}-orphan", emu.prefix);
    create(&emu, &orphan, &arn.replace(&function, "elsewhere")).await;

    let state = dir.path().join("state");
    let plane = DataPlane::builder()
        .name_prefix(format!("{}-", emu.prefix))
        .state_dir(&state)
        .binaries(BinaryResolver::default().binary(&function, test_fn()))
        .schedule_speedup(60.0)
        .start(&emu.sdk)
        .await
        .unwrap();
    let names: Vec<String> = plane.schedules().into_iter().map(|s| s.name).collect();
    assert_eq!(names, std::slice::from_ref(&fired));
    let skipped = plane.skipped_schedules();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].0.ends_with(&orphan) && skipped[0].1.contains("cannot run here"));

    let status = plane.status();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(plane.run(async {
        let _ = stopped.await;
    }));
    wait_for("two scheduled invocations", Duration::from_secs(30), || {
        status
            .report("running")
            .schedules
            .first()
            .is_some_and(|s| s.invocations >= 2)
    })
    .await;
    let _ = stop.send(());
    task.await.unwrap().unwrap();

    let report = StatusReport::read(&state).unwrap();
    assert_eq!(report.state, "stopped");
    let s = &report.schedules[0];
    assert_eq!(s.schedule, format!("default/{fired}"));
    assert!(s.fires >= 2 && s.invocations == s.fires, "{s:?}");
    assert_eq!((s.function_errors, s.delivery_failures), (0, 0), "{s:?}");
    assert!(s.last_fire.is_some());
}
