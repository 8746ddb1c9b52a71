//! Settings from flags over environment variables, as the Nomad and Consul
//! command lines merge them: what the API clients' configurations share.

use std::path::{Path, PathBuf};

use crate::http::Secret;
use crate::Error;

/// An environment seen through a lookup of a variable by name (the
/// process environment, or a table in tests).
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A flag value if set and non-empty, else the environment variable if
/// set and non-empty.
pub(crate) fn pick(flag: Option<&str>, env: Env<'_>, var: &str) -> Option<String> {
    flag.filter(|v| !v.is_empty())
        .map(str::to_string)
        .or_else(|| env(var).filter(|v| !v.is_empty()))
}

/// [`pick`] for a path.
pub(crate) fn pick_path(flag: Option<&PathBuf>, env: Env<'_>, var: &str) -> Option<PathBuf> {
    flag.filter(|p| !p.as_os_str().is_empty())
        .cloned()
        .or_else(|| env(var).filter(|v| !v.is_empty()).map(PathBuf::from))
}

/// Reads a token file: whitespace-trimmed, `None` when empty. An
/// unreadable file is a usage error `Error loading token file <path>: …`
/// (Consul's words).
pub fn read_token_file(path: &Path) -> Result<Option<Secret>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("Error loading token file {}: {e}", path.display())))?;
    let token = text.trim();
    Ok((!token.is_empty()).then(|| Secret::new(token)))
}
