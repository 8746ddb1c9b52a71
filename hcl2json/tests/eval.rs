//! The evaluator against HCL's semantics, through the public API.

use std::collections::BTreeMap;

use hcl2json::eval::Context;
use hcl2json::syntax::parse_expr;
use hcl2json::Value;
use serde_json::{json, Value as Json};

fn root() -> BTreeMap<String, Value> {
    let vars = Value::from_json(&json!({
        "name": "web",
        "count": 3,
        "dcs": ["dc1", "dc2"],
        "ports": {"http": 80, "https": 443},
        "servers": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
        "flag": "true",
        "groups": [
            {"tasks": [{"name": "a"}, {"name": "b"}]},
            {"tasks": [{"name": "c"}]}
        ]
    }));
    BTreeMap::from([
        ("var".to_owned(), vars),
        ("local".to_owned(), Value::Object(BTreeMap::new())),
    ])
}

/// Evaluates `src` as Nomad does (unknown roots kept as text).
fn eval(src: &str) -> Result<Json, String> {
    let vars = root();
    let expr = parse_expr(src).map_err(|e| e.to_string())?;
    let ctx = Context {
        src,
        vars: Some(&vars),
        functions: true,
        base_dir: std::path::Path::new("."),
        keep_unknown: true,
    };
    ctx.eval(&expr).map(|v| v.to_json()).map_err(|e| e.message)
}

#[test]
fn arithmetic_and_comparison() {
    assert_eq!(eval("1 + 2 * 3").unwrap(), json!(7));
    assert_eq!(eval("(1 + 2) * 3").unwrap(), json!(9));
    assert_eq!(eval("7 / 2").unwrap(), json!(3.5));
    assert_eq!(eval("7 % 4").unwrap(), json!(3));
    assert_eq!(eval("-var.count").unwrap(), json!(-3));
    assert_eq!(eval("\"5\" + 1").unwrap(), json!(6));
    assert_eq!(eval("var.count >= 3 && !false").unwrap(), json!(true));
    assert_eq!(eval("1 == \"1\"").unwrap(), json!(false));
    assert!(eval("1 / 0").unwrap_err().contains("Division by zero"));
    assert!(eval("\"a\" + 1")
        .unwrap_err()
        .contains("a number is required"));
}

#[test]
fn conditionals_unify_to_string() {
    assert_eq!(
        eval("var.count > 2 ? \"big\" : \"small\"").unwrap(),
        json!("big")
    );
    assert_eq!(eval("var.flag ? 1 : 2").unwrap(), json!(1));
    assert_eq!(eval("false ? \"a\" : 5").unwrap(), json!("5"));
    assert!(eval("null ? 1 : 2").unwrap_err().contains("Null condition"));
}

#[test]
fn references_index_and_attributes() {
    assert_eq!(eval("var.dcs[1]").unwrap(), json!("dc2"));
    assert_eq!(eval("var.ports[\"https\"]").unwrap(), json!(443));
    assert_eq!(eval("var.ports.http").unwrap(), json!(80));
    assert_eq!(eval("var.servers.0.ip").unwrap(), json!("10.0.0.1"));
    assert!(eval("var.dcs[5]").unwrap_err().contains("Invalid index"));
    assert!(eval("var.nope")
        .unwrap_err()
        .contains("Unsupported attribute"));
}

#[test]
fn splats_and_for_expressions() {
    assert_eq!(
        eval("var.servers[*].ip").unwrap(),
        json!(["10.0.0.1", "10.0.0.2"])
    );
    assert_eq!(
        eval("var.servers.*.ip").unwrap(),
        json!(["10.0.0.1", "10.0.0.2"])
    );
    assert_eq!(
        eval("[for i, d in var.dcs : \"${i}-${d}\"]").unwrap(),
        json!(["0-dc1", "1-dc2"])
    );
    assert_eq!(
        eval("{for k, v in var.ports : v => k if v > 100}").unwrap(),
        json!({"443": "https"})
    );
    assert_eq!(
        eval("{for s in [\"a\", \"b\", \"a\"] : s => s...}").unwrap(),
        json!({"a": ["a", "a"], "b": ["b"]})
    );
    assert!(eval("{for s in [\"a\", \"a\"] : s => s}")
        .unwrap_err()
        .contains("Duplicate object key"));
}

#[test]
fn nested_splats_give_nested_lists() {
    assert_eq!(
        eval("var.groups[*].tasks[*].name").unwrap(),
        json!([["a", "b"], ["c"]])
    );
    assert_eq!(
        eval("var.groups[*].tasks.*.name").unwrap(),
        json!([["a", "b"], ["c"]])
    );
    assert_eq!(
        eval("var.groups[*].tasks.*.name[0]").unwrap(),
        json!(["a", "c"])
    );
}

#[test]
fn templates_and_directives() {
    assert_eq!(
        eval("\"${var.name}-${var.count}\"").unwrap(),
        json!("web-3")
    );
    // A template that is one interpolation gives the value itself.
    assert_eq!(eval("\"${var.dcs}\"").unwrap(), json!(["dc1", "dc2"]));
    assert_eq!(
        eval("\"%{ for d in var.dcs }[${d}]%{ endfor }\"").unwrap(),
        json!("[dc1][dc2]")
    );
    assert_eq!(
        eval("\"%{ if var.count > 5 }many%{ else }few%{ endif }\"").unwrap(),
        json!("few")
    );
    assert!(eval("\"${var.dcs}x\"")
        .unwrap_err()
        .contains("string required"));
}

#[test]
fn unknown_roots_are_kept_as_text() {
    assert_eq!(eval("node.class").unwrap(), json!("${node.class}"));
    assert_eq!(eval("\"${node.class}\"").unwrap(), json!("${node.class}"));
    assert_eq!(
        eval("\"dc-${node.datacenter}-${var.name}\"").unwrap(),
        json!("dc-${node.datacenter}-web")
    );
    assert_eq!(eval("env[\"HOME\"]").unwrap(), json!("${env[\"HOME\"]}"));
    assert_eq!(eval("\"${ attr.a }\"").unwrap(), json!("${ attr.a }"));
}

#[test]
fn try_can_and_convert() {
    assert_eq!(
        eval("try(var.nope, \"fallback\")").unwrap(),
        json!("fallback")
    );
    assert_eq!(eval("can(var.dcs[9])").unwrap(), json!(false));
    assert_eq!(eval("can(var.dcs[0])").unwrap(), json!(true));
    assert_eq!(eval("convert(5, string)").unwrap(), json!("5"));
    assert_eq!(
        eval("convert([\"b\", \"a\", \"b\"], set(string))").unwrap(),
        json!(["a", "b"])
    );
    assert!(eval("nosuchfn(1)")
        .unwrap_err()
        .contains("unknown function"));
}

#[test]
fn constant_context_rejects_variables_and_functions() {
    let src = "var.x";
    let expr = parse_expr(src).unwrap();
    let err = Context::constant(src).eval(&expr).unwrap_err();
    assert!(
        err.message.contains("Variables not allowed"),
        "{}",
        err.message
    );
    let src = "upper(\"a\")";
    let expr = parse_expr(src).unwrap();
    let err = Context::constant(src).eval(&expr).unwrap_err();
    assert!(
        err.message.contains("Function calls not allowed"),
        "{}",
        err.message
    );
}
