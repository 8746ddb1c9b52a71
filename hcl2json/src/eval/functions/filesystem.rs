//! Filesystem functions, following HashiCorp's go-cty-funcs `filesystem`
//! package as Nomad's CLI enables it: relative paths given to `file`,
//! `filebase64`, `fileexists` and `fileset` start at the job file's folder;
//! `abspath` resolves against the working directory, as Go's
//! `filepath.Abs` does. Paths are handled with Go's (Unix) lexical rules.

use std::collections::BTreeSet;
use std::fs;
use std::io::ErrorKind;

use base64::Engine as _;
use globset::GlobBuilder;
use walkdir::WalkDir;

use super::args::{go_quote, FuncResult, Signature, MAX_RESULT_BYTES};
use super::encoding::GO_BASE64;
use super::FuncContext;
use crate::value::Value;

const ABSPATH: Signature = Signature::fixed("abspath", &["path"]);
const BASENAME: Signature = Signature::fixed("basename", &["path"]);
const DIRNAME: Signature = Signature::fixed("dirname", &["path"]);
const FILE: Signature = Signature::fixed("file", &["path"]);
const FILEBASE64: Signature = Signature::fixed("filebase64", &["path"]);
const FILEEXISTS: Signature = Signature::fixed("fileexists", &["path"]);
const FILESET: Signature = Signature::fixed("fileset", &["path", "pattern"]);
const PATHEXPAND: Signature = Signature::fixed("pathexpand", &["path"]);

/// The most directory entries `fileset` looks at before giving up.
const FILESET_VISIT_LIMIT: usize = 1_000_000;

/// Reads the single string argument of `sig`.
fn one_string(sig: &Signature, args: Vec<Value>) -> Result<String, String> {
    let [s] = sig.exact(args)?;
    sig.string(0, &s)
}

/// `abspath(path)`: the path made absolute against the working directory.
pub(crate) fn abspath(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let path = one_string(&ABSPATH, args)?;
    if path.starts_with('/') {
        return Ok(Value::String(clean(&path)));
    }
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    Ok(Value::String(join(&cwd.to_string_lossy(), &path)))
}

/// `basename(path)`: the last element of the path.
pub(crate) fn basename(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    Ok(Value::String(base(&one_string(&BASENAME, args)?)))
}

/// `dirname(path)`: the path without its last element.
pub(crate) fn dirname(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    Ok(Value::String(dir(&one_string(&DIRNAME, args)?)))
}

/// `pathexpand(path)`: a leading `~` replaced by the home directory.
pub(crate) fn pathexpand(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    expand_home(&one_string(&PATHEXPAND, args)?).map(Value::String)
}

/// `file(path)`: the contents of a UTF-8 text file.
pub(crate) fn file(ctx: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let path = one_string(&FILE, args)?;
    let bytes = read_file(ctx, &path)?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        format!("contents of {path} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead")
    })
}

/// `filebase64(path)`: the contents of any file, in Base64.
pub(crate) fn filebase64(ctx: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let path = one_string(&FILEBASE64, args)?;
    Ok(Value::String(GO_BASE64.encode(read_file(ctx, &path)?)))
}

/// `fileexists(path)`: whether a regular file exists there; other kinds of
/// file are an error.
pub(crate) fn fileexists(ctx: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let path = resolve(ctx, &one_string(&FILEEXISTS, args)?)?;
    match fs::metadata(&path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(_) => Err(format!("failed to stat {path}")),
        Ok(meta) if meta.is_file() => Ok(Value::Bool(true)),
        Ok(meta) => Err(format!(
            "{path} is not a regular file, but {}",
            go_quote(&mode_string(&meta))
        )),
    }
}

/// `fileset(path, pattern)`: the regular files under `path` matching the
/// glob `pattern` (`*`, `**`, `?`, `[...]`, `{a,b}`), relative to `path`,
/// in lexical order.
pub(crate) fn fileset(ctx: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [path, pattern] = FILESET.exact(args)?;
    let path = FILESET.string(0, &path)?;
    let pattern = FILESET.string(1, &pattern)?;
    let root = if path.starts_with('/') {
        path
    } else {
        join(&ctx.base_dir.to_string_lossy(), &path)
    };
    let full_pattern = join(&root, &pattern);
    let matches =
        glob(&full_pattern).map_err(|e| format!("failed to glob pattern ({full_pattern}): {e}"))?;
    let relative: BTreeSet<String> = matches.iter().map(|m| rel(&root, m)).collect();
    Ok(Value::Tuple(
        relative.into_iter().map(Value::String).collect(),
    ))
}

/// Expands `~`, then makes the path absolute against the job file's folder.
fn resolve(ctx: &FuncContext<'_>, path: &str) -> Result<String, String> {
    let path = expand_home(path).map_err(|e| format!("failed to expand ~: {e}"))?;
    if path.starts_with('/') {
        Ok(clean(&path))
    } else {
        Ok(join(&ctx.base_dir.to_string_lossy(), &path))
    }
}

fn read_file(ctx: &FuncContext<'_>, path: &str) -> Result<Vec<u8>, String> {
    let path = resolve(ctx, path)?;
    let meta = fs::metadata(&path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => format!("no file exists at {path}"),
        _ => format!("failed to read {path}"),
    })?;
    if usize::try_from(meta.len()).map_or(true, |len| len > MAX_RESULT_BYTES) {
        return Err(format!(
            "failed to read {path}: larger than {MAX_RESULT_BYTES} bytes"
        ));
    }
    fs::read(&path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => format!("no file exists at {path}"),
        _ => format!("failed to read {path}"),
    })
}

/// go-homedir's `Expand`: `~` or `~/...` becomes the home directory.
fn expand_home(path: &str) -> Result<String, String> {
    let Some(rest) = path.strip_prefix('~') else {
        return Ok(path.to_owned());
    };
    if !rest.is_empty() && !rest.starts_with(['/', '\\']) {
        return Err("cannot expand user-specific home dir".to_owned());
    }
    let home = std::env::var("HOME")
        .ok()
        .filter(|h| !h.is_empty())
        .ok_or("blank output when reading home directory")?;
    Ok(join(&home, rest))
}

/// Go's `filepath.Clean`: the shortest lexically equivalent path.
fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

/// Go's `filepath.Join` of two elements.
fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => String::new(),
        (true, false) => clean(b),
        (false, true) => clean(a),
        (false, false) => clean(&format!("{a}/{b}")),
    }
}

/// Go's `filepath.Base`.
fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Go's `filepath.Dir`.
fn dir(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => clean(&path[..=i]),
        None => ".".to_owned(),
    }
}

/// Go's `filepath.Rel` for a target known to share the base's kind
/// (both absolute or both relative), with `/` separators.
fn rel(base: &str, target: &str) -> String {
    let base = clean(base);
    let target = clean(target);
    let parts = |p: &str| -> Vec<String> {
        if p == "." {
            Vec::new()
        } else {
            p.split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        }
    };
    let (b, t) = (parts(&base), parts(&target));
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut out: Vec<String> = vec!["..".to_owned(); b.len() - common];
    out.extend(t[common..].iter().cloned());
    if out.is_empty() {
        ".".to_owned()
    } else {
        out.join("/")
    }
}

/// Whether a path element holds glob syntax.
fn has_glob_syntax(part: &str) -> bool {
    part.contains(['*', '?', '[', '{', '\\'])
}

/// The regular files matching a doublestar glob, as paths starting with the
/// pattern's literal leading directories.
fn glob(pattern: &str) -> Result<Vec<String>, String> {
    let parts: Vec<&str> = pattern.split('/').collect();
    let literal = parts.iter().take_while(|p| !has_glob_syntax(p)).count();
    if literal == parts.len() {
        let is_file = fs::metadata(pattern).map(|m| m.is_file()).unwrap_or(false);
        return Ok(if is_file {
            vec![pattern.to_owned()]
        } else {
            vec![]
        });
    }
    let start = match parts[..literal].join("/") {
        s if s.is_empty() && pattern.starts_with('/') => "/".to_owned(),
        s if s.is_empty() => ".".to_owned(),
        s => s,
    };
    let rest = &parts[literal..];
    let matcher = GlobBuilder::new(&rest.join("/"))
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| e.to_string())?
        .compile_matcher();
    let mut walker = WalkDir::new(&start).min_depth(1).follow_links(true);
    if !rest.contains(&"**") {
        walker = walker.max_depth(rest.len());
    }
    let mut found = Vec::new();
    for (visited, entry) in walker.into_iter().filter_map(Result::ok).enumerate() {
        if visited >= FILESET_VISIT_LIMIT {
            return Err(format!("more than {FILESET_VISIT_LIMIT} files to look at"));
        }
        let Ok(relative) = entry.path().strip_prefix(&start) else {
            continue;
        };
        let relative = relative.to_string_lossy();
        if matcher.is_match(relative.as_ref()) && entry.path().is_file() {
            found.push(join(&start, &relative));
        }
    }
    Ok(found)
}

/// Go's `os.FileMode.String` for a file's metadata.
#[cfg(unix)]
fn mode_string(meta: &fs::Metadata) -> String {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let kind = meta.file_type();
    let mode = meta.permissions().mode();
    let flags = [
        (kind.is_dir(), 'd'),
        (kind.is_symlink(), 'L'),
        (kind.is_block_device() || kind.is_char_device(), 'D'),
        (kind.is_fifo(), 'p'),
        (kind.is_socket(), 'S'),
        (mode & 0o4000 != 0, 'u'),
        (mode & 0o2000 != 0, 'g'),
        (kind.is_char_device(), 'c'),
        (mode & 0o1000 != 0, 't'),
    ];
    let mut out: String = flags
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, c)| *c)
        .collect();
    if out.is_empty() {
        out.push('-');
    }
    for (i, c) in "rwxrwxrwx".chars().enumerate() {
        out.push(if mode & (1 << (8 - i)) != 0 { c } else { '-' });
    }
    out
}

/// Go's `os.FileMode.String` for a file's metadata.
#[cfg(not(unix))]
fn mode_string(meta: &fs::Metadata) -> String {
    if meta.is_dir() {
        "drwxrwxrwx".to_owned()
    } else {
        "?rw-rw-rw-".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::s;
    use super::*;
    use std::path::Path;

    fn call_in(dir: &Path, f: super::super::FuncImpl, args: Vec<Value>) -> FuncResult {
        f(&FuncContext { base_dir: dir }, args)
    }

    fn call(f: super::super::FuncImpl, args: Vec<Value>) -> FuncResult {
        call_in(Path::new("."), f, args)
    }

    #[test]
    fn lexical_paths_follow_go() {
        assert_eq!(clean("a//b/./c/../d/"), "a/b/d");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("../../a"), "../../a");
        assert_eq!(clean(""), ".");
        assert_eq!(join("a", "../.."), "..");
        assert_eq!(rel("/a/b", "/a/b/c/d"), "c/d");
        assert_eq!(rel("a", "b/c"), "../b/c");
        assert_eq!(rel(".", "x"), "x");
    }

    #[test]
    fn basename_and_dirname() {
        assert_eq!(call(basename, vec![s("foo/bar/baz.txt")]), Ok(s("baz.txt")));
        assert_eq!(call(basename, vec![s("/foo/bar/")]), Ok(s("bar")));
        assert_eq!(call(basename, vec![s("/")]), Ok(s("/")));
        assert_eq!(call(basename, vec![s("")]), Ok(s(".")));
        assert_eq!(call(dirname, vec![s("foo/bar/baz.txt")]), Ok(s("foo/bar")));
        assert_eq!(call(dirname, vec![s("/foo/bar/")]), Ok(s("/foo/bar")));
        assert_eq!(call(dirname, vec![s("baz.txt")]), Ok(s(".")));
        assert_eq!(call(dirname, vec![s("/a")]), Ok(s("/")));
    }

    #[test]
    fn abspath_and_pathexpand() {
        assert_eq!(call(abspath, vec![s("/a/./b/../c")]), Ok(s("/a/c")));
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            call(abspath, vec![s("x/y")]),
            Ok(s(&format!("{}/x/y", cwd.display())))
        );
        assert_eq!(call(pathexpand, vec![s("/etc/x")]), Ok(s("/etc/x")));
        assert_eq!(
            call(pathexpand, vec![s("~user/x")]),
            Err("cannot expand user-specific home dir".to_owned())
        );
        if let Ok(home) = std::env::var("HOME") {
            if !home.is_empty() {
                assert_eq!(call(pathexpand, vec![s("~/x")]), Ok(s(&join(&home, "x"))));
            }
        }
    }

    #[test]
    fn reading_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("hello.txt"), "Hello World").unwrap();
        fs::write(dir.path().join("bin"), [0xff, 0x00]).unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        let d = dir.path();
        assert_eq!(call_in(d, file, vec![s("hello.txt")]), Ok(s("Hello World")));
        assert_eq!(
            call_in(d, file, vec![s("./sub/../hello.txt")]),
            Ok(s("Hello World"))
        );
        assert_eq!(
            call_in(d, filebase64, vec![s("hello.txt")]),
            Ok(s("SGVsbG8gV29ybGQ="))
        );
        assert_eq!(call_in(d, filebase64, vec![s("bin")]), Ok(s("/wA=")));
        assert!(call_in(d, file, vec![s("bin")])
            .unwrap_err()
            .contains("not valid UTF-8"));
        let missing = call_in(d, file, vec![s("nope.txt")]).unwrap_err();
        assert_eq!(
            missing,
            format!("no file exists at {}/nope.txt", d.display())
        );
        assert!(call_in(d, file, vec![s("sub")])
            .unwrap_err()
            .starts_with("failed to read"));
        assert_eq!(
            call_in(d, fileexists, vec![s("hello.txt")]),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            call_in(d, fileexists, vec![s("nope.txt")]),
            Ok(Value::Bool(false))
        );
        let not_regular = call_in(d, fileexists, vec![s("sub")]).unwrap_err();
        assert!(
            not_regular.contains("is not a regular file, but \"d"),
            "{not_regular}"
        );
    }

    #[test]
    fn fileset_globs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in [
            "a.txt",
            "b.txt",
            "c.md",
            "sub/d.txt",
            "sub/deep/e.txt",
            "other/f.txt",
        ] {
            let p = d.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "x").unwrap();
        }
        let set = |path: &str, pattern: &str| call_in(d, fileset, vec![s(path), s(pattern)]);
        let list = |items: &[&str]| Value::Tuple(items.iter().map(|&x| s(x)).collect());
        assert_eq!(set(".", "*.txt"), Ok(list(&["a.txt", "b.txt"])));
        assert_eq!(
            set(".", "**/*.txt"),
            Ok(list(&[
                "a.txt",
                "b.txt",
                "other/f.txt",
                "sub/d.txt",
                "sub/deep/e.txt"
            ]))
        );
        assert_eq!(set("sub", "*"), Ok(list(&["d.txt"])));
        assert_eq!(set(".", "{a,c}.*"), Ok(list(&["a.txt", "c.md"])));
        assert_eq!(set(".", "?.md"), Ok(list(&["c.md"])));
        assert_eq!(set(".", "sub/*/e.txt"), Ok(list(&["sub/deep/e.txt"])));
        assert_eq!(set(".", "a.txt"), Ok(list(&["a.txt"])));
        assert_eq!(set("sub", "../other/*"), Ok(list(&["../other/f.txt"])));
        assert_eq!(set(".", "*.none"), Ok(list(&[])));
        assert_eq!(set(&d.to_string_lossy(), "c.*"), Ok(list(&["c.md"])));
        assert!(set(".", "[")
            .unwrap_err()
            .starts_with("failed to glob pattern"));
    }
}
