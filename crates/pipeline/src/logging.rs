//! The functions' log subscriber (feature `logging`): what
//! `lambda_runtime::tracing::init_default_subscriber` sets up, filtered by tracing-subscriber's
//! [`Targets`] instead of its `EnvFilter`.
//!
//! The same as upstream: Lambda's advanced logging controls decide. `AWS_LAMBDA_LOG_FORMAT=JSON`
//! gives one JSON object per line, anything else tracing's text lines; no timestamps (Lambda
//! stamps every line) and no targets; written to standard output. The level is
//! `AWS_LAMBDA_LOG_LEVEL` when set, else `RUST_LOG`'s, else INFO, and `RUST_LOG`'s `target=level`
//! directives apply on top.
//!
//! Why not `EnvFilter`: its span and field filters (`[span{field=value}]=level`), which no
//! function uses, link two regex engines into every function: about 0.3 MB of each binary
//! (bench/cold-start weighs the zips). `Targets` reads the rest of the `RUST_LOG` syntax
//! (`info`, `kds_consumer=debug,aws_smithy_runtime=warn`); a directive it cannot read is
//! skipped, as `EnvFilter::from_env_lossy` skips it. Two differences, on purpose: Lambda's
//! `FATAL` level filters as ERROR (upstream falls back to INFO for it), and a bare level in
//! `RUST_LOG` does not override `AWS_LAMBDA_LOG_LEVEL` (upstream's directive order lets it).

use std::str::FromStr as _;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Installs the subscriber from the environment, once per process (main.rs, before anything
/// logs). A second call leaves the first subscriber in place.
pub fn init() {
    let var = |name| std::env::var(name).ok();
    let filter = filter(
        var("AWS_LAMBDA_LOG_LEVEL").as_deref(),
        var("RUST_LOG").as_deref(),
    );
    let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let layer = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time()
        .with_writer(std::io::stdout);
    let registry = tracing_subscriber::registry().with(filter);
    // `try_init`: a subscriber set already (a test's) stays.
    let _ = if json {
        registry.with(layer.json()).try_init()
    } else {
        registry.with(layer).try_init()
    };
}

/// The filter of `AWS_LAMBDA_LOG_LEVEL` (`aws_level`) and `RUST_LOG` (`rust_log`).
pub fn filter(aws_level: Option<&str>, rust_log: Option<&str>) -> Targets {
    let directives: Vec<Targets> = rust_log
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .filter_map(|d| Targets::from_str(d).ok())
        .collect();
    // AWS_LAMBDA_LOG_LEVEL, the level Lambda's logging controls set, decides when it is set
    // (upstream lets a bare level in RUST_LOG override it); else RUST_LOG's bare level.
    let bare = directives
        .iter()
        .filter_map(Targets::default_level)
        .next_back();
    let default = match aws_level {
        Some(name) => level(name),
        None => bare,
    }
    .unwrap_or(LevelFilter::INFO);
    directives.iter().flat_map(|t| t.iter()).fold(
        Targets::new().with_default(default),
        |targets, (target, level)| targets.with_target(target, level),
    )
}

/// A level name as Lambda and tracing spell it, any case (`FATAL`: ERROR).
fn level(name: &str) -> Option<LevelFilter> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("fatal") {
        return Some(LevelFilter::ERROR);
    }
    LevelFilter::from_str(name).ok()
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    fn enabled(filter: &Targets, target: &str, level: Level) -> bool {
        filter.would_enable(target, &level)
    }

    #[test]
    fn info_when_nothing_is_set() {
        let f = filter(None, None);
        assert!(enabled(&f, "kds_consumer", Level::INFO));
        assert!(!enabled(&f, "kds_consumer", Level::DEBUG));
    }

    #[test]
    fn lambda_level_first_then_rust_log() {
        let f = filter(Some("WARN"), Some("debug"));
        assert!(!enabled(&f, "x", Level::INFO));
        assert!(enabled(&f, "x", Level::WARN));
        let f = filter(None, Some("debug"));
        assert!(enabled(&f, "x", Level::DEBUG));
        assert!(!enabled(&f, "x", Level::TRACE));
    }

    #[test]
    fn fatal_is_error_and_unknown_is_info() {
        let f = filter(Some("FATAL"), None);
        assert!(enabled(&f, "x", Level::ERROR));
        assert!(!enabled(&f, "x", Level::WARN));
        let f = filter(Some("loud"), None);
        assert!(enabled(&f, "x", Level::INFO));
        assert!(!enabled(&f, "x", Level::DEBUG));
    }

    #[test]
    fn rust_log_targets_apply_on_top_of_the_level() {
        let f = filter(
            Some("ERROR"),
            Some("kds_consumer=debug, aws_smithy_runtime=off"),
        );
        assert!(enabled(&f, "kds_consumer", Level::DEBUG));
        assert!(enabled(&f, "kds_consumer::top_level", Level::DEBUG));
        assert!(!enabled(&f, "aws_smithy_runtime", Level::ERROR));
        assert!(!enabled(&f, "hyper", Level::WARN));
        assert!(enabled(&f, "hyper", Level::ERROR));
    }

    #[test]
    fn a_directive_targets_cannot_read_is_skipped_alone() {
        let f = filter(None, Some("[span{id=1}]=trace,kds_consumer=debug,warn"));
        assert!(enabled(&f, "kds_consumer", Level::DEBUG));
        assert!(!enabled(&f, "kds_consumer", Level::TRACE));
        assert!(!enabled(&f, "hyper", Level::INFO));
        assert!(enabled(&f, "hyper", Level::WARN));
    }
}
