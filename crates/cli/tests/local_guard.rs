//! `kstream local up` refuses endpoints that are not on this machine before it reads or starts
//! anything, unless `--allow-real-aws` is given.

use std::process::Command;

/// Runs `kstream local up` with a clean AWS environment plus `env`; returns whether it exited
/// with success, the words of its stderr, and its directory.
fn local_up(extra_args: &[&str], env: &[(&str, &str)]) -> (bool, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kstream"));
    cmd.args(["local", "up", "--no-status-line", "--no-api", "--state-dir"])
        .arg(dir.path().join("state"))
        .args(extra_args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("AWS_CONFIG_FILE", dir.path().join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("credentials"),
        )
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    // miette wraps and frames the message: compare its words.
    let words = String::from_utf8_lossy(&out.stderr)
        .replace(['│', '×'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (out.status.success(), words, dir)
}

#[test]
fn without_an_endpoint_it_refuses_and_touches_nothing() {
    let (ok, stderr, dir) = local_up(&[], &[]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("runs only against an emulator on this machine"),
        "{stderr}"
    );
    assert!(stderr.contains("AWS_ENDPOINT_URL: not set"), "{stderr}");
    assert!(stderr.contains("--allow-real-aws"), "{stderr}");
    assert!(
        !dir.path().join("state").exists(),
        "nothing is written before the check"
    );
}

#[test]
fn a_remote_endpoint_is_refused() {
    let (ok, stderr, _dir) = local_up(&[], &[("AWS_ENDPOINT_URL", "http://10.1.2.3:4566")]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr
            .contains("AWS_ENDPOINT_URL=http://10.1.2.3:4566: 10.1.2.3 is not a loopback address"),
        "{stderr}"
    );
}

#[test]
fn allow_real_aws_gets_past_the_check() {
    // Past the check, the data plane tries to read the deployment from the endpoint: a host that
    // does not resolve fails there, with a different error.
    let (ok, stderr, _dir) = local_up(
        &["--allow-real-aws"],
        &[
            ("AWS_ENDPOINT_URL", "http://no-such-host.invalid:9"),
            ("AWS_MAX_ATTEMPTS", "1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert!(!ok, "{stderr}");
    assert!(
        !stderr.contains("runs only against an emulator on this machine"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--allow-real-aws"),
        "the override is logged: {stderr}"
    );
}
