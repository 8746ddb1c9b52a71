//! A Nomad job file to the API JSON that `nomad job run -output` prints.
//!
//! The steps are those of Nomad's HCL2 job parser: read `variable`,
//! `variables` and `locals`; take variable values from `NOMAD_VAR_*`, var
//! files and `--var` (later wins); evaluate locals; decode the `job` block
//! against the API's structs ([`schema`]); apply the parser's normalisations
//! (defaults for templates and vault, top-level tasks as groups, dynamic
//! ports). The result prints every field Go would print.
//!
//! ```
//! let job = hcl2json::nomad::Options::default()
//!     .convert("job \"web\" {\n  datacenters = [\"dc1\"]\n}\n", None)
//!     .unwrap();
//! assert_eq!(job["Job"]["ID"], "web");
//! assert_eq!(job["Job"]["Datacenters"][0], "dc1");
//! ```

mod decode;
mod normalize;
pub mod schema;
mod variables;

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::error::Error;
use crate::json_writer::JsonWriter;
use crate::syntax;

/// How to convert a job file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--var name=value` arguments, in order.
    pub vars: Vec<(String, String)>,
    /// `--var-file` paths, in order.
    pub var_files: Vec<PathBuf>,
    /// Process environment entries (`NAME=value`); only `NOMAD_VAR_*` are read.
    pub env: Vec<String>,
}

impl Options {
    /// Options with the `NOMAD_VAR_*` variables of this process.
    pub fn from_process_env() -> Options {
        Options {
            env: std::env::vars()
                .filter(|(k, _)| k.starts_with(variables::ENV_PREFIX))
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            ..Options::default()
        }
    }

    /// Converts the job file `src` (read from `path`, which sets the folder
    /// file functions start from) to `{"Job": {...}}`. The value's objects
    /// have their keys sorted; [`Options::convert_to_text`] keeps Go's field
    /// order.
    pub fn convert(&self, src: &str, path: Option<&Path>) -> Result<Json, Error> {
        let text = self.convert_to_text(src, path, None)?;
        serde_json::from_slice(&text).map_err(|e| Error::general(format!("internal: {e}")))
    }

    /// Like [`Options::convert`], but straight to JSON text, indented with
    /// `indent` (`None`: compact), with Go's string escapes, as `nomad job
    /// run -output` prints it. This is the fast path of the CLI.
    pub fn convert_to_text(
        &self,
        src: &str,
        path: Option<&Path>,
        indent: Option<&'static str>,
    ) -> Result<Vec<u8>, Error> {
        let base_dir = path
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let body = syntax::parse_body(src)?;
        let top = variables::TopLevel::read(src, &body)?;
        let vars = variables::resolve(src, &top, self, &base_dir)?;
        let scope = decode::Scope::new(src, base_dir, vars);
        let mut w = JsonWriter::new(indent, true, src.len() * 2);
        w.object_start();
        w.key("Job");
        decode::write_job(&scope, &top, &mut w)?;
        w.end_object();
        Ok(w.into_bytes())
    }
}
