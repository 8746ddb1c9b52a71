//! The function library a Nomad job file may call.
//!
//! The same set Nomad's HCL2 parser offers: go-cty's standard library plus
//! HashiCorp's encoding, crypto, cidr, uuid, yaml and filesystem functions.
//! `try` and `can` are not here: they need unevaluated arguments, so the
//! evaluator handles them itself; neither is `convert`, whose second
//! argument is a type expression.
//!
//! The semantics are those of the Go libraries Nomad v1.6 links (go-cty
//! v1.12, go-cty-funcs, go-cty-yaml v1.0.3), including where they differ
//! from Terraform's functions of the same name: `replace` is literal,
//! `reverse` reverses a string, `index` reads an element by key, `lookup`
//! requires its default, `coalesce` returns an empty string if it comes
//! first, and `length` does not take strings.
//!
//! Arguments are converted the way HCL converts them to a function's
//! parameter types (`upper(5)` is `"5"`). Errors are one line, worded as
//! cty words them; the evaluator adds which call failed.

use std::path::Path;

use crate::value::Value;

mod args;
mod cidr;
mod collections;
mod crypto;
mod datetime;

pub(crate) use datetime::parse_go_duration;
pub(crate) use sets::cty_set_order;
mod encoding;
mod filesystem;
mod format;
mod numeric;
mod numfmt;
mod sets;
mod strings;
mod yaml;

/// What a function may need from the file being converted.
pub struct FuncContext<'a> {
    /// The folder of the job file; relative paths of file functions start here.
    pub base_dir: &'a Path,
}

/// A function implementation: evaluated arguments in, a value or a one-line
/// reason out.
pub type FuncImpl = fn(&FuncContext<'_>, Vec<Value>) -> Result<Value, String>;

/// Finds a function by the name a job file calls it with.
pub fn lookup(name: &str) -> Option<FuncImpl> {
    let f: FuncImpl = match name {
        "abs" => numeric::abs,
        "abspath" => filesystem::abspath,
        "base64decode" => encoding::base64decode,
        "base64encode" => encoding::base64encode,
        "basename" => filesystem::basename,
        "bcrypt" => crypto::bcrypt,
        "ceil" => numeric::ceil,
        "chomp" => strings::chomp,
        "chunklist" => collections::chunklist,
        "cidrhost" => cidr::cidrhost,
        "cidrnetmask" => cidr::cidrnetmask,
        "cidrsubnet" => cidr::cidrsubnet,
        "cidrsubnets" => cidr::cidrsubnets,
        "coalesce" => collections::coalesce,
        "coalescelist" => collections::coalescelist,
        "compact" => collections::compact,
        "concat" => collections::concat,
        "contains" => collections::contains,
        "csvdecode" => encoding::csvdecode,
        "dirname" => filesystem::dirname,
        "distinct" => collections::distinct,
        "element" => collections::element,
        "file" => filesystem::file,
        "filebase64" => filesystem::filebase64,
        "fileexists" => filesystem::fileexists,
        "fileset" => filesystem::fileset,
        "flatten" => collections::flatten,
        "floor" => numeric::floor,
        "format" => format::format,
        "formatdate" => datetime::formatdate,
        "formatlist" => format::formatlist,
        "indent" => strings::indent,
        "index" => collections::index,
        "join" => strings::join,
        "jsondecode" => encoding::jsondecode,
        "jsonencode" => encoding::jsonencode,
        "keys" => collections::keys,
        "length" => collections::length,
        "log" => numeric::log,
        "lookup" => collections::lookup,
        "lower" => strings::lower,
        "max" => numeric::max,
        "md5" => crypto::md5,
        "merge" => collections::merge,
        "min" => numeric::min,
        "parseint" => numeric::parseint,
        "pathexpand" => filesystem::pathexpand,
        "pow" => numeric::pow,
        "range" => collections::range,
        "regex_replace" => strings::regex_replace,
        "replace" => strings::replace,
        "reverse" => strings::reverse,
        "rsadecrypt" => crypto::rsadecrypt,
        "setintersection" => sets::setintersection,
        "setproduct" => sets::setproduct,
        "setunion" => sets::setunion,
        "sha1" => crypto::sha1,
        "sha256" => crypto::sha256,
        "sha512" => crypto::sha512,
        "signum" => numeric::signum,
        "slice" => collections::slice,
        "sort" => strings::sort,
        "split" => strings::split,
        "strlen" => strings::strlen,
        "strrev" => strings::strrev,
        "substr" => strings::substr,
        "timeadd" => datetime::timeadd,
        "title" => strings::title,
        "trim" => strings::trim,
        "trimprefix" => strings::trimprefix,
        "trimspace" => strings::trimspace,
        "trimsuffix" => strings::trimsuffix,
        "upper" => strings::upper,
        "urlencode" => encoding::urlencode,
        "uuidv4" => crypto::uuidv4,
        "uuidv5" => crypto::uuidv5,
        "values" => collections::values,
        "yamldecode" => yaml::yamldecode,
        "yamlencode" => yaml::yamlencode,
        "zipmap" => collections::zipmap,
        _ => return None,
    };
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every function Nomad v1.6.3's `jobspec2/functions.go` registers,
    /// except the three the evaluator handles.
    const NOMAD_FUNCTIONS: &[&str] = &[
        "abs",
        "abspath",
        "base64decode",
        "base64encode",
        "basename",
        "bcrypt",
        "ceil",
        "chomp",
        "chunklist",
        "cidrhost",
        "cidrnetmask",
        "cidrsubnet",
        "cidrsubnets",
        "coalesce",
        "coalescelist",
        "compact",
        "concat",
        "contains",
        "csvdecode",
        "dirname",
        "distinct",
        "element",
        "file",
        "filebase64",
        "fileexists",
        "fileset",
        "flatten",
        "floor",
        "format",
        "formatdate",
        "formatlist",
        "indent",
        "index",
        "join",
        "jsondecode",
        "jsonencode",
        "keys",
        "length",
        "log",
        "lookup",
        "lower",
        "max",
        "md5",
        "merge",
        "min",
        "parseint",
        "pathexpand",
        "pow",
        "range",
        "regex_replace",
        "replace",
        "reverse",
        "rsadecrypt",
        "setintersection",
        "setproduct",
        "setunion",
        "sha1",
        "sha256",
        "sha512",
        "signum",
        "slice",
        "sort",
        "split",
        "strlen",
        "strrev",
        "substr",
        "timeadd",
        "title",
        "trim",
        "trimprefix",
        "trimspace",
        "trimsuffix",
        "upper",
        "urlencode",
        "uuidv4",
        "uuidv5",
        "values",
        "yamldecode",
        "yamlencode",
        "zipmap",
    ];

    #[test]
    fn every_nomad_function_is_found() {
        for name in NOMAD_FUNCTIONS {
            assert!(lookup(name).is_some(), "{name} is missing");
        }
    }

    #[test]
    fn evaluator_functions_and_unknown_names_are_not() {
        for name in ["try", "can", "convert", "regex", "tostring", "Upper", ""] {
            assert!(lookup(name).is_none(), "{name} should not be found");
        }
    }

    #[test]
    fn functions_reject_wrong_argument_counts_without_panicking() {
        let ctx = FuncContext {
            base_dir: Path::new("."),
        };
        for name in NOMAD_FUNCTIONS {
            let f = lookup(name).expect("listed");
            for count in 0..5 {
                let args = vec![Value::Null; count];
                let _ = f(&ctx, args);
                let args = vec![Value::Tuple(vec![Value::from("a")]); count];
                let _ = f(&ctx, args);
            }
        }
    }

    /// Odd values of every kind, to throw at every function.
    fn odd_values() -> Vec<Value> {
        use crate::value::Number;
        let mut values = vec![
            Value::Null,
            Value::Bool(true),
            Value::from(0),
            Value::from(-1),
            Value::from(2.5),
            Value::Number(Number::Int(i64::MIN)),
            Value::Number(Number::Int(i64::MAX)),
            Value::Number(Number::Float(1e300)),
            Value::Number(Number::Float(f64::NEG_INFINITY)),
            Value::from(""),
            Value::from("%[2]*d%"),
            Value::from("e\u{301}\n~"),
            Value::from("10.0.0.0/8"),
            Value::from("::/0"),
            Value::from("2018-01-02T03:04:05Z"),
            Value::from("-2562047h"),
            Value::from("[{"),
            Value::from("99999999999999999999999"),
        ];
        values.push(Value::Tuple(vec![]));
        values.push(Value::Tuple(vec![
            Value::from(1),
            Value::from("a"),
            Value::Null,
        ]));
        values.push(Value::Tuple(vec![Value::Tuple(vec![Value::from(true)])]));
        values.push(Value::Object(Default::default()));
        values.push(Value::Object(
            [("k".to_owned(), Value::Tuple(vec![Value::from(1.5)]))]
                .into_iter()
                .collect(),
        ));
        values
    }

    #[test]
    fn odd_arguments_give_values_or_errors_never_panics() {
        let ctx = FuncContext {
            base_dir: Path::new("."),
        };
        let values = odd_values();
        let few = &values[..10];
        // bcrypt at cost 31 and fileset over "/" are merely slow, not unsafe.
        let slow = ["bcrypt", "fileset"];
        for name in NOMAD_FUNCTIONS.iter().filter(|n| !slow.contains(n)) {
            let f = lookup(name).expect("listed");
            let _ = f(&ctx, vec![]);
            for a in &values {
                let _ = f(&ctx, vec![a.clone()]);
                for b in &values {
                    let _ = f(&ctx, vec![a.clone(), b.clone()]);
                }
            }
            for a in few {
                for b in few {
                    for c in few {
                        let _ = f(&ctx, vec![a.clone(), b.clone(), c.clone()]);
                    }
                }
            }
        }
    }

    #[test]
    fn a_job_style_call_chain() {
        let ctx = FuncContext {
            base_dir: Path::new("."),
        };
        let call = |name: &str, args: Vec<Value>| lookup(name).expect("known")(&ctx, args);
        let names = call("split", vec![Value::from(","), Value::from("web,api,web")]).unwrap();
        let unique = call("distinct", vec![names]).unwrap();
        let upper = call("formatlist", vec![Value::from("svc-%s"), unique]).unwrap();
        assert_eq!(
            call("join", vec![Value::from(" "), upper]),
            Ok(Value::from("svc-web svc-api"))
        );
    }
}

/// Helpers shared by the functions' unit tests.
#[cfg(test)]
mod test_support {
    use std::path::Path;

    use super::{FuncContext, FuncImpl};
    use crate::value::Value;

    /// Calls `f` with the working directory as base folder.
    pub fn call(f: FuncImpl, args: Vec<Value>) -> Result<Value, String> {
        f(
            &FuncContext {
                base_dir: Path::new("."),
            },
            args,
        )
    }

    /// A string value.
    pub fn s(v: &str) -> Value {
        Value::from(v)
    }

    /// An integer value.
    pub fn i(v: i64) -> Value {
        Value::from(v)
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::Tuple(items)
    }

    /// An object value.
    pub fn object(entries: &[(&str, Value)]) -> Value {
        Value::Object(
            entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }
}
