//! Parser cases through the public API: deep nesting and stack safety.

use hcl2json::syntax::parse_body;

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!(
        "a = {}{}{}\n",
        open.repeat(depth),
        inner,
        close.repeat(depth)
    )
}

#[test]
fn deep_nesting_is_rejected_without_overflow() {
    for depth in [250usize, 100_000] {
        let inputs = [
            nested("[", "1", "]", depth),
            nested("(", "1", ")", depth),
            nested("{a=", "1", "}", depth),
            nested("\"${", "1", "}\"", depth),
            nested("-", "1", "", depth),
            nested("f(", "1", ")", depth),
            nested("a ? b : ", "1", "", depth),
            nested("[for x in ", "1", ": x]", depth),
            nested("x[", "1", "]", depth),
            format!(
                "a = \"{}{}\"\n",
                "%{if x}".repeat(depth),
                "%{endif}".repeat(depth)
            ),
            format!("{}{}", "b {\n".repeat(depth), "}\n".repeat(depth)),
        ];
        for input in &inputs {
            let result = parse_body(input);
            if depth > 256 {
                let err = result.expect_err("too deep");
                assert!(
                    err.message.starts_with("Nesting too deep"),
                    "{}",
                    err.message
                );
            } else {
                result.expect("deep but allowed");
            }
        }
    }
}

#[test]
fn long_chains_are_bounded_so_trees_drop_safely() {
    let chains = |n: usize| {
        [
            format!("a = x{}\n", ".a".repeat(n)),
            format!("a = x{}\n", "[0]".repeat(n)),
            format!("a = x{}\n", ".0.a".repeat(n / 2)),
            format!("a = 1{}\n", " + 1".repeat(n)),
            format!("a = 1{}\n", " || 1 && 1".repeat(n / 2)),
            format!("a = (x{}).b\n", ".a".repeat(n)),
            format!("a = [x{}] == 1\n", ".a".repeat(n)),
        ]
    };
    for input in chains(400) {
        let body = parse_body(&input).expect("long but allowed");
        drop(body);
    }
    for input in chains(100_000) {
        let err = parse_body(&input).expect_err("too long");
        assert!(
            err.message.starts_with("Nesting too deep"),
            "{}",
            err.message
        );
    }
}
