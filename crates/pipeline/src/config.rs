//! Function configuration, read from the environment once per cold start, the same way in
//! every function.
//!
//! A function's configuration type implements [`FunctionConfig`]: it reads its variables
//! from an [`Env`] (the process environment in Lambda, a list of pairs in tests) and fails
//! with an error naming the variable at fault. `main.rs` calls [`configure`], which reads
//! it, logs it and stops the cold start on an error.
//!
//! # Example
//! ```
//! use kstream_pipeline::EnvError;
//! use kstream_pipeline::config::{Env, FunctionConfig};
//!
//! #[derive(Debug)]
//! struct Config {
//!     required: Vec<String>,
//!     strict: bool,
//! }
//!
//! impl FunctionConfig for Config {
//!     const NAME: &'static str = "demo";
//!     type Error = EnvError;
//!
//!     fn from_env_with(env: &Env<'_>) -> Result<Self, EnvError> {
//!         Ok(Self {
//!             required: env.list("REQUIRED_FIELDS"),
//!             strict: env.bool("STRICT")?.unwrap_or(true),
//!         })
//!     }
//! }
//!
//! let env = Env::from_pairs(&[("REQUIRED_FIELDS", "id, ts"), ("STRICT", "off")]);
//! let config = Config::from_env_with(&env).unwrap();
//! assert_eq!(config.required, ["id", "ts"]);
//! assert!(!config.strict);
//! let err = Config::from_env_with(&Env::from_pairs(&[("STRICT", "maybe")])).unwrap_err();
//! assert_eq!(err.to_string(), r#"STRICT="maybe": true or false"#);
//! ```

use std::fmt;

use crate::error::EnvError;

/// A variable lookup: its value, `None` when unset.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// Where a function's variables come from: the process environment, or a lookup (tests).
pub struct Env<'a> {
    lookup: Lookup<'a>,
}

impl fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env").finish_non_exhaustive()
    }
}

impl Env<'static> {
    /// The process environment (what Lambda sets).
    pub fn process() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Fixed variables (tests, tools).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Self::from_lookup(move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }
}

impl<'a> Env<'a> {
    /// Variables read through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String> + 'a) -> Self {
        Self {
            lookup: Box::new(lookup),
        }
    }

    /// The variable's value; `None` when it is unset or empty.
    pub fn get(&self, var: &str) -> Option<String> {
        self.get_raw(var).filter(|v| !v.is_empty())
    }

    /// The variable's value as set, empty included.
    pub fn get_raw(&self, var: &str) -> Option<String> {
        (self.lookup)(var)
    }

    /// A boolean: `true/false`, `1/0`, `yes/no`, `on/off` (any case); `None` when unset
    /// or empty.
    ///
    /// # Errors
    /// [`EnvError::Invalid`] for any other value.
    pub fn bool(&self, var: &'static str) -> Result<Option<bool>, EnvError> {
        let Some(value) = self.get(var) else {
            return Ok(None);
        };
        match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Some(true)),
            "false" | "0" | "no" | "off" => Ok(Some(false)),
            _ => Err(EnvError::Invalid {
                var,
                value,
                expected: "true or false",
            }),
        }
    }

    /// A comma-separated list, items trimmed, blank items dropped; empty when unset.
    pub fn list(&self, var: &str) -> Vec<String> {
        self.get_raw(var)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// A function's configuration: everything its handler needs, built once per cold start.
pub trait FunctionConfig: Sized {
    /// The function's name: the `FunctionName` metrics dimension outside Lambda, and the
    /// name in the cold start's log line.
    const NAME: &'static str;

    /// Why the configuration cannot be built (names the variable at fault).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Reads the configuration from `env`.
    ///
    /// # Errors
    /// [`Self::Error`](FunctionConfig::Error) naming the variable at fault.
    fn from_env_with(env: &Env<'_>) -> Result<Self, Self::Error>;

    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    /// As [`from_env_with`](Self::from_env_with).
    fn from_env() -> Result<Self, Self::Error> {
        Self::from_env_with(&Env::process())
    }
}

/// The cold start of `main.rs`: reads `C` from the process environment and logs it at
/// `info`, or logs the error at `error` and returns it (which stops the cold start).
///
/// # Errors
/// As [`FunctionConfig::from_env`].
pub fn configure<C: FunctionConfig + fmt::Debug>() -> Result<C, C::Error> {
    match C::from_env() {
        Ok(config) => {
            tracing::info!(config = ?config, "{} configured", C::NAME);
            Ok(config)
        }
        Err(error) => {
            tracing::error!(error = %error, "invalid {} configuration; fix the environment", C::NAME);
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_booleans_and_lists() {
        let env = Env::from_pairs(&[
            ("EMPTY", ""),
            ("ON", "YES"),
            ("OFF", "0"),
            ("BAD", "maybe"),
            ("LIST", " a, ,b ,"),
        ]);
        assert_eq!(env.get("EMPTY"), None);
        assert_eq!(env.get_raw("EMPTY").as_deref(), Some(""));
        assert_eq!(env.get("UNSET"), None);
        assert_eq!(env.bool("ON"), Ok(Some(true)));
        assert_eq!(env.bool("OFF"), Ok(Some(false)));
        assert_eq!(env.bool("EMPTY"), Ok(None));
        assert_eq!(
            env.bool("BAD").unwrap_err().to_string(),
            r#"BAD="maybe": true or false"#
        );
        assert_eq!(env.list("LIST"), ["a", "b"]);
        assert!(env.list("UNSET").is_empty());
    }
}
