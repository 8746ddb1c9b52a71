//! Reading the job: API JSON (`{"Job": {...}}` or a bare job) or a Nomad
//! job file in HCL, told apart by content as Nomad does (JSON starts with
//! `{`).

use std::io::Read;
use std::path::{Path, PathBuf};

use cli_common::{Error, Exit};
use serde_json::{json, Map, Value as Json};

/// A job ready to register, with what the Nomad UI shows as its source.
#[derive(Debug)]
pub struct LoadedJob {
    /// The API job object.
    pub job: Map<String, Json>,
    /// The `Submission` sent along: source text, format, variables.
    pub submission: Json,
}

impl LoadedJob {
    /// The job's ID.
    pub fn id(&self) -> &str {
        self.job
            .get("ID")
            .and_then(Json::as_str)
            .unwrap_or_default()
    }

    /// A string field of the job, when set and not empty.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.job
            .get(name)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Whether Nomad registers the job without scheduling it now (periodic,
    /// parameterized) or schedules it region by region (multiregion): such
    /// jobs are not followed.
    pub fn is_unmonitored(&self) -> bool {
        ["Periodic", "ParameterizedJob", "Multiregion"]
            .iter()
            .any(|k| self.job.get(*k).is_some_and(|v| !v.is_null()))
    }
}

/// Where the job comes from and how HCL variables are set.
pub struct Source<'a> {
    /// The file, or `None`/`-` for stdin.
    pub file: Option<&'a Path>,
    /// `--var NAME=VALUE`.
    pub vars: &'a [String],
    /// `--var-file FILE`.
    pub var_files: &'a [PathBuf],
}

/// Reads and converts the job. Errors are bad input (exit 3) or usage
/// (exit 2); nothing has been sent when they happen.
pub fn load(source: &Source<'_>) -> Result<LoadedJob, Error> {
    let (text, path) = read(source.file)?;
    let name = path
        .as_ref()
        .map_or_else(|| "<stdin>".to_owned(), |p| p.display().to_string());
    let job = if is_json(&text) {
        if !source.vars.is_empty() || !source.var_files.is_empty() {
            return Err(Error::usage(
                "--var and --var-file apply to HCL job files, not to JSON jobs",
            ));
        }
        let job = from_json(&text).map_err(|why| Error::bad_input(format!("{name}:{why}")))?;
        let submission =
            json!({"Source": text, "Format": "json", "VariableFlags": null, "Variables": ""});
        LoadedJob { job, submission }
    } else {
        from_hcl(&text, path.as_deref(), &name, source)?
    };
    if job.id().is_empty() {
        return Err(Error::bad_input(format!("{name}: the job has no ID")));
    }
    Ok(job)
}

fn read(file: Option<&Path>) -> Result<(String, Option<PathBuf>), Error> {
    let path = file.filter(|p| *p != Path::new("-"));
    let bytes = match path {
        Some(p) => std::fs::read(p)
            .map_err(|e| Error::bad_input(format!("{}: cannot read: {e}", p.display())))?,
        None => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| Error::bad_input(format!("<stdin>: cannot read: {e}")))?;
            bytes
        }
    };
    let name = path.map_or_else(|| "<stdin>".to_owned(), |p| p.display().to_string());
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::bad_input(format!("{name}: the job is not UTF-8 text")))?;
    Ok((text, path.map(Path::to_path_buf)))
}

/// Nomad's rule: JSON when the first non-space character is `{`.
fn is_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// Reads `{"Job": {...}}` or a bare job object.
fn from_json(text: &str) -> Result<Map<String, Json>, String> {
    let value: Json = serde_json::from_str(text)
        .map_err(|e| format!("{}:{}: invalid JSON: {e}", e.line(), e.column()))?;
    let Json::Object(mut top) = value else {
        return Err("1:1: a job must be a JSON object".into());
    };
    match top.remove("Job") {
        Some(Json::Object(job)) => Ok(job),
        Some(_) => Err("1:1: \"Job\" must be an object".into()),
        None => Ok(top),
    }
}

fn from_hcl(
    text: &str,
    path: Option<&Path>,
    name: &str,
    source: &Source<'_>,
) -> Result<LoadedJob, Error> {
    let mut options = hcl2json::nomad::Options::from_process_env();
    options.vars = source
        .vars
        .iter()
        .map(|v| match v.split_once('=') {
            Some((k, val)) if !k.is_empty() => Ok((k.to_owned(), val.to_owned())),
            _ => Err(Error::new(
                Exit::Usage,
                format!("--var {v:?}: expected NAME=VALUE"),
            )),
        })
        .collect::<Result<_, _>>()?;
    options.var_files = source.var_files.to_vec();
    let converted = options
        .convert(text, path)
        .map_err(|e| Error::bad_input(e.in_file(name).to_string()))?;
    let Some(Json::Object(job)) = converted.get("Job").cloned() else {
        return Err(Error::bad_input(format!("{name}: the file holds no job")));
    };
    let var_flags: Map<String, Json> = options
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), Json::String(v.clone())))
        .collect();
    let var_file_text = source
        .var_files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect::<Vec<_>>()
        .join("\n");
    let submission = json!({
        "Source": text,
        "Format": "hcl2",
        "VariableFlags": if var_flags.is_empty() { Json::Null } else { Json::Object(var_flags) },
        "Variables": var_file_text,
    });
    Ok(LoadedJob { job, submission })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_recognised_by_its_first_character() {
        assert!(is_json("  \n{\"Job\": {}}"));
        assert!(!is_json("job \"x\" {}"));
    }

    #[test]
    fn wrapped_and_bare_jobs_are_accepted() {
        let wrapped = from_json(r#"{"Job": {"ID": "a"}}"#).unwrap();
        assert_eq!(wrapped["ID"], "a");
        let bare = from_json(r#"{"ID": "b", "Type": "service"}"#).unwrap();
        assert_eq!(bare["ID"], "b");
        assert!(from_json("[1]").is_err());
        let err = from_json("{\n  \"ID\": ,\n}").unwrap_err();
        assert!(err.starts_with("2:"), "{err}");
    }
}
