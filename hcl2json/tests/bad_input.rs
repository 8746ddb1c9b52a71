//! Malformed and invalid inputs, run through the real `hcl2json` binary.
//!
//! Every case must end with exit code 3, nothing on stdout, and exactly one
//! line on stderr: `hcl2json: <path>:<line>:<col>: <message>`, pointing at
//! the problem (positions below are worked out by hand from each input;
//! columns count characters from 1) with a message that names it. None may
//! panic (exit code 101).
//!
//! Where real HCL reports a position that another, equally precise one
//! could replace (HCL points at the end of the file for an unclosed heredoc,
//! an implementation may point at its opener), a case lists both.

use std::path::Path;

use assert_cmd::Command;

mod common;
use common::command;

/// Where the error message must point.
#[derive(Debug, Clone, Copy)]
enum At {
    /// Exactly this line and column.
    Pos(usize, usize),
    /// One of these positions.
    OneOf(&'static [(usize, usize)]),
    /// The problem concerns the file as a whole: a position may be given or not.
    File,
}

/// Each inner list is a set of alternatives; the message must contain (case
/// insensitively) at least one word of every set.
type Words = &'static [&'static [&'static str]];

struct Outcome {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

fn run(mut cmd: Command) -> Outcome {
    let out = cmd.output().expect("hcl2json runs");
    Outcome {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `hcl2json ARGS FILE` on `input` written to a real file.
fn run_file(args: &[&str], input: &[u8]) -> (Outcome, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("input.hcl");
    std::fs::write(&path, input).expect("write input");
    let mut cmd = command();
    cmd.args(args).arg(&path).current_dir(dir.path());
    (run(cmd), path.display().to_string())
}

/// Runs `hcl2json ARGS [-]` with `input` on stdin.
fn run_stdin(args: &[&str], dash: bool, input: &[u8]) -> Outcome {
    let mut cmd = command();
    cmd.args(args);
    if dash {
        cmd.arg("-");
    }
    cmd.write_stdin(input.to_vec());
    run(cmd)
}

/// The input with a caret under `(line, col)`, for failure messages.
fn show(input: &[u8], pos: Option<(usize, usize)>) -> String {
    let text = String::from_utf8_lossy(input);
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        out.push_str(&format!("{:>3} | {line}\n", i + 1));
        if let Some((l, c)) = pos {
            if l == i + 1 {
                out.push_str(&format!("    | {}^\n", " ".repeat(c.saturating_sub(1))));
            }
        }
    }
    out
}

/// Splits `<line>:<col>: <message>` (or ` <message>` when there is no
/// position) into its parts.
fn split_position(rest: &str) -> (Option<(usize, usize)>, &str) {
    let parse = || -> Option<((usize, usize), &str)> {
        let (line, rest) = rest.split_once(':')?;
        let (col, rest) = rest.split_once(':')?;
        let line = line.parse().ok()?;
        let col = col.parse().ok()?;
        Some(((line, col), rest.strip_prefix(' ')?))
    };
    match parse() {
        Some((pos, message)) => (Some(pos), message),
        None => (None, rest.strip_prefix(' ').unwrap_or(rest)),
    }
}

/// Checks everything a rejected input must give: exit 3, empty stdout, one
/// line `hcl2json: <path>:<line>:<col>: <message>` on stderr.
fn assert_rejected(out: &Outcome, path: &str, input: &[u8], at: At, words: Words) {
    let context = || format!("input:\n{}stderr: {:?}", show(input, None), out.stderr);
    assert_ne!(out.code, Some(101), "hcl2json panicked\n{}", context());
    assert!(
        !out.stderr.contains("panicked"),
        "hcl2json panicked\n{}",
        context()
    );
    assert_eq!(out.code, Some(3), "exit code\n{}", context());
    assert!(
        out.stdout.is_empty(),
        "stdout must be empty, got {:?}\n{}",
        String::from_utf8_lossy(&out.stdout),
        context()
    );
    assert!(
        out.stderr.ends_with('\n'),
        "stderr must end with a newline\n{}",
        context()
    );
    assert_eq!(
        out.stderr.lines().count(),
        1,
        "stderr must be one line\n{}",
        context()
    );
    let line = out.stderr.trim_end_matches('\n');
    let prefix = format!("hcl2json: {path}:");
    let rest = line
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("stderr must start with {prefix:?}\n{}", context()));
    let (pos, message) = split_position(rest);
    let expected: Vec<(usize, usize)> = match at {
        At::Pos(l, c) => vec![(l, c)],
        At::OneOf(list) => list.to_vec(),
        At::File => Vec::new(),
    };
    match (at, pos) {
        (At::File, _) => {}
        (_, Some(p)) if expected.contains(&p) => {}
        (_, got) => panic!(
            "position: expected {}, got {}\nexpected:\n{}actual:\n{}stderr: {:?}",
            expected
                .iter()
                .map(|(l, c)| format!("{l}:{c}"))
                .collect::<Vec<_>>()
                .join(" or "),
            got.map_or_else(
                || "no `<line>:<col>: ` right after the path".to_owned(),
                |(l, c)| format!("{l}:{c}")
            ),
            show(input, expected.first().copied()),
            show(input, got),
            out.stderr
        ),
    }
    assert!(!message.trim().is_empty(), "empty message\n{}", context());
    let lower = message.to_lowercase();
    for alternatives in words {
        assert!(
            alternatives
                .iter()
                .any(|w| lower.contains(&w.to_lowercase())),
            "the message must mention one of {alternatives:?}: {message:?}\n{}",
            context()
        );
    }
}

/// Runs `hcl2json ARGS FILE` on `input` written to a file and checks that it
/// is rejected as `at` and `words` say.
fn check(args: &[&str], input: &str, at: At, words: Words) {
    check_bytes(args, input.as_bytes(), at, words);
}

/// [`check`] for input that need not be UTF-8.
fn check_bytes(args: &[&str], input: &[u8], at: At, words: Words) {
    let (out, path) = run_file(args, input);
    assert_rejected(&out, &path, input, at, words);
}

/// [`check`] for `input` given on stdin (after a `-` argument if `dash`):
/// errors must be reported for `<stdin>`.
fn check_stdin(args: &[&str], dash: bool, input: &[u8], at: At, words: Words) {
    let out = run_stdin(args, dash, input);
    assert_rejected(&out, "<stdin>", input, at, words);
}

/// Runs `hcl2json ARGS PATH` on a path that cannot be read as a file (it is
/// missing, or a directory): the error names the path, with no position.
fn check_unreadable(args: &[&str], path: &Path, words: Words) {
    let mut cmd = command();
    cmd.args(args).arg(path);
    let out = run(cmd);
    assert_rejected(&out, &path.display().to_string(), b"", At::File, words);
}

macro_rules! bad {
    ($name:ident, $input:expr, $at:expr, $words:expr) => {
        #[test]
        fn $name() {
            check(&[], $input, $at, $words);
        }
    };
}

macro_rules! bad_job {
    ($name:ident, $input:expr, $at:expr, $words:expr) => {
        #[test]
        fn $name() {
            check(&["--nomad"], $input, $at, $words);
        }
    };
}

const UNCLOSED: &[&str] = &[
    "unclosed",
    "unterminated",
    "no closing",
    "not closed",
    "missing clos",
    "end of file",
    "end of the file",
];

// ---------------------------------------------------------------------------
// Syntax errors (generic mode)
// ---------------------------------------------------------------------------

// HCL reports an unclosed block at its opening brace.
bad!(
    unclosed_block,
    concat!("server {\n", "  enabled = true\n"),
    At::Pos(1, 8),
    &[UNCLOSED, &["block", "brace", "}"]]
);

// The task and group braces are closed by the two `}`; the job's is not.
bad!(
    unclosed_outer_block,
    concat!(
        "job \"a\" {\n",
        "  group \"g\" {\n",
        "    task \"t\" {\n",
        "      driver = \"docker\"\n",
        "    }\n",
        "  }\n",
    ),
    At::Pos(1, 9),
    &[UNCLOSED, &["block", "brace", "}"]]
);

bad!(
    unclosed_bracket,
    "ports = [80, 443\n",
    At::Pos(1, 9),
    &[UNCLOSED, &["bracket", "]", "tuple", "list"]]
);

bad!(
    unclosed_object_brace,
    "tags = { a = 1",
    At::Pos(1, 8),
    &[UNCLOSED, &["brace", "}", "object"]]
);

// HCL points at the newline that ends the line inside the string; pointing
// at the opening quote is as good.
bad!(
    unclosed_string_at_newline,
    concat!("name = \"web\n", "port = 80\n"),
    At::OneOf(&[(1, 12), (1, 8)]),
    &[&[
        "unterminated",
        "unclosed",
        "newline",
        "no closing",
        "not closed",
        "missing"
    ]]
);

bad!(
    unclosed_string_at_eof,
    "name = \"web",
    At::OneOf(&[(1, 12), (1, 8)]),
    &[&[
        "unterminated",
        "unclosed",
        "no closing",
        "not closed",
        "missing",
        "end of file"
    ]]
);

// An unclosed heredoc runs to the end of the file (4:1), where HCL reports
// it; its opener (1:7) is the other sensible place.
bad!(
    unclosed_heredoc,
    concat!("cmd = <<EOT\n", "echo hello\n", "echo world\n"),
    At::OneOf(&[(4, 1), (1, 7)]),
    &[UNCLOSED, &["heredoc", "template", "string", "EOT"]]
);

// The `"` inside `${` shows the interpolation was never closed: HCL reports
// it at the `${`.
bad!(
    unclosed_interpolation,
    "name = \"${var.env\"\n",
    At::Pos(1, 9),
    &[UNCLOSED, &["interpolation", "template", "${", "brace"]]
);

bad!(
    empty_interpolation,
    "name = \"${}\"\n",
    At::OneOf(&[(1, 11), (1, 9)]),
    &[&["expression", "empty", "missing"]]
);

bad!(
    interpolation_extra_characters,
    "name = \"${var.a b}\"\n",
    At::Pos(1, 17),
    &[&["interpolation", "extra", "expected", "}"]]
);

// Inside a heredoc, `${var.y` runs into the `EOT` line: HCL reports the
// extra token at 4:1, the unclosed `${` is at 3:6.
bad!(
    unclosed_interpolation_in_heredoc,
    concat!("x = 1\n", "cmd = <<EOT\n", "echo ${var.y\n", "EOT\n"),
    At::OneOf(&[(4, 1), (3, 6)]),
    &[&["interpolation", "template", "${", "extra", "brace"]]
);

bad!(
    unclosed_template_if_directive,
    "msg = \"%{ if var.on }on\"\n",
    At::OneOf(&[(1, 24), (1, 8)]),
    &[&[
        "endif",
        "end of template",
        "unclosed",
        "unterminated",
        "directive",
        "if"
    ]]
);

// Line 5, column 9: a character HCL does not use.
bad!(
    invalid_character_line5_col9,
    concat!(
        "top = 1\n",
        "block {\n",
        "  inner {\n",
        "    a = 1\n",
        "    b = @bad\n",
        "  }\n",
        "}\n"
    ),
    At::Pos(5, 9),
    &[&["character"]]
);

bad!(
    missing_equals,
    "count 3\n",
    At::Pos(1, 1),
    &[&["=", "equals"]]
);

bad!(
    missing_equals_in_block,
    concat!("server {\n", "  bootstrap_expect 3\n", "}\n"),
    At::Pos(2, 3),
    &[&["=", "equals"]]
);

bad!(
    missing_newline_after_attribute,
    "a = 1 b = 2\n",
    At::Pos(1, 7),
    &[&["newline"]]
);

bad!(
    comma_after_attribute,
    "a = 1, b = 2\n",
    At::Pos(1, 6),
    &[&["comma", "newline"]]
);

bad!(
    missing_value,
    concat!("a =\n", "b = 2\n"),
    At::Pos(1, 4),
    &[&["expression", "value"]]
);

bad!(
    missing_value_at_eof,
    "a = ",
    At::Pos(1, 5),
    &[&["expression", "value"]]
);

bad!(semicolon, "a = 1;\n", At::Pos(1, 6), &[&[";", "semicolon"]]);

bad!(
    single_quotes,
    "name = 'web'\n",
    At::Pos(1, 8),
    &[&["quote", "'"]]
);

bad!(
    backtick,
    "name = `web`\n",
    At::Pos(1, 8),
    &[&["`", "backtick", "character"]]
);

// “ is one character (three bytes): columns count characters.
bad!(
    curly_quotes,
    "name = \u{201c}web\u{201d}\n",
    At::Pos(1, 8),
    &[&["quote", "character"]]
);

bad!(
    bitwise_operator,
    "a = x & y\n",
    At::Pos(1, 7),
    &[&["&", "operator", "character"]]
);

bad!(bad_number, "a = 1.2.3\n", At::Pos(1, 5), &[&["number"]]);

// An unquoted IP address is read as one (invalid) number literal.
bad!(
    bad_number_ip_address,
    concat!("client {\n", "  servers = [10.0.0.1]\n", "}\n"),
    At::Pos(2, 14),
    &[&["number"]]
);

bad!(
    stray_close_brace,
    concat!("a = 1\n", "}\n"),
    At::Pos(2, 1),
    &[&["argument or block", "unexpected", "}", "brace"]]
);

bad!(
    stray_close_brace_after_block,
    concat!("server {\n", "  enabled = true\n", "}\n", "}\n"),
    At::Pos(4, 1),
    &[&["argument or block", "unexpected", "}", "brace"]]
);

bad!(
    quoted_argument_name,
    "\"name\" = \"web\"\n",
    At::Pos(1, 1),
    &[&["quoted", "argument name", "name"]]
);

bad!(
    equals_in_block_header,
    concat!("server \"x\" = {\n", "}\n"),
    At::Pos(1, 12),
    &[&["block", "="]]
);

bad!(
    unterminated_block_comment,
    concat!("a = 1\n", "/* a comment\n", "b = 2\n"),
    At::Pos(2, 1),
    &[&["comment"]]
);

// HCL reports the bad escape at its backslash; its letter is as good.
bad!(
    invalid_escape,
    "name = \"bad \\q escape\"\n",
    At::OneOf(&[(1, 13), (1, 14)]),
    &[&["escape"]]
);

// HCL points at the end of the file, where the `)` is missing; the `(` is
// as good.
bad!(
    unclosed_parenthesis,
    "a = (1 + 2\n",
    At::OneOf(&[(2, 1), (1, 5)]),
    &[&["parenthes", ")"]]
);

// HCL points at the function name (`max(`), an implementation may point at
// the `(`.
bad!(
    unclosed_function_call,
    "a = max(1, 2\n",
    At::OneOf(&[(1, 5), (1, 8)]),
    &[&["unterminated", "unclosed", "missing", "parenthes", ")"]]
);

// ---------------------------------------------------------------------------
// Generic mode: valid syntax the fixed shape cannot hold
// ---------------------------------------------------------------------------

bad!(
    duplicate_attribute,
    concat!("name = \"a\"\n", "port = 1\n", "name = \"b\"\n"),
    At::Pos(3, 1),
    &[
        &["duplicate", "already", "redefined", "more than once"],
        &["name"]
    ]
);

bad!(
    duplicate_attribute_in_nested_block,
    concat!(
        "server {\n",
        "  enabled = true\n",
        "  ports {\n",
        "    http = 4646\n",
        "    http = 4647\n",
        "  }\n",
        "}\n"
    ),
    At::Pos(5, 5),
    &[
        &["duplicate", "already", "redefined", "more than once"],
        &["http"]
    ]
);

bad!(
    attribute_and_block_of_one_name,
    concat!("meta = {}\n", "meta {\n", "}\n"),
    At::Pos(2, 1),
    &[&["meta"], &["both", "conflict", "already", "duplicate"]]
);

bad!(
    blocks_of_one_type_with_different_label_counts,
    concat!("rule \"a\" {\n", "}\n", "rule {\n", "}\n"),
    At::Pos(3, 1),
    &[&["label"]]
);

// ---------------------------------------------------------------------------
// --nomad: job files Nomad rejects
// ---------------------------------------------------------------------------

bad_job!(
    nomad_unsupported_argument_in_group,
    concat!(
        "job \"web\" {\n",
        "  group \"g\" {\n",
        "    colour = \"red\"\n",
        "  }\n",
        "}\n"
    ),
    At::Pos(3, 5),
    &[&["unsupported argument", "not expected"], &["colour"]]
);

bad_job!(
    nomad_unsupported_argument_in_task,
    concat!(
        "job \"web\" {\n",
        "  group \"g\" {\n",
        "    task \"t\" {\n",
        "      driver = \"docker\"\n",
        "      imagee = \"nginx\"\n",
        "    }\n",
        "  }\n",
        "}\n",
    ),
    At::Pos(5, 7),
    &[&["unsupported argument", "not expected"], &["imagee"]]
);

bad_job!(
    nomad_unsupported_block_in_group,
    concat!(
        "job \"web\" {\n",
        "  group \"g\" {\n",
        "    sidecar {\n",
        "    }\n",
        "  }\n",
        "}\n"
    ),
    At::Pos(3, 5),
    &[&["block"], &["sidecar"]]
);

bad_job!(
    nomad_unsupported_top_level_block,
    concat!("jobs \"web\" {\n", "}\n"),
    At::Pos(1, 1),
    &[&["block"], &["jobs"]]
);

bad_job!(
    nomad_unsupported_argument_in_constraint,
    concat!(
        "job \"web\" {\n",
        "  constraint {\n",
        "    attr  = \"${attr.kernel.name}\"\n",
        "    value = \"linux\"\n",
        "  }\n",
        "}\n",
    ),
    At::Pos(3, 5),
    &[&["unsupported argument", "not expected"], &["attr"]]
);

// gohcl points at the start of the value: HCL's start of a quoted string is
// its first character, the quote is as good.
bad_job!(
    nomad_count_not_a_number,
    concat!(
        "job \"web\" {\n",
        "  group \"g\" {\n",
        "    count = \"abc\"\n",
        "  }\n",
        "}\n"
    ),
    At::OneOf(&[(3, 13), (3, 14)]),
    &[&["number"]]
);

bad_job!(
    nomad_count_not_whole,
    concat!(
        "job \"web\" {\n",
        "  group \"g\" {\n",
        "    count = 1.5\n",
        "  }\n",
        "}\n"
    ),
    At::Pos(3, 13),
    &[&["whole", "integer"]]
);

bad_job!(
    nomad_priority_bool,
    concat!("job \"web\" {\n", "  priority = true\n", "}\n"),
    At::Pos(2, 14),
    &[&["number"]]
);

bad_job!(
    nomad_datacenters_not_a_list,
    concat!("job \"web\" {\n", "  datacenters = \"dc1\"\n", "}\n"),
    At::OneOf(&[(2, 17), (2, 18)]),
    &[&["list"]]
);

bad_job!(
    nomad_bad_duration,
    concat!(
        "job \"web\" {\n",
        "  group \"g\" {\n",
        "    task \"t\" {\n",
        "      driver       = \"docker\"\n",
        "      kill_timeout = \"5x\"\n",
        "    }\n",
        "  }\n",
        "}\n",
    ),
    At::OneOf(&[(5, 22), (5, 23)]),
    &[&["duration", "unit"], &["5x"]]
);

bad_job!(
    nomad_duplicate_update_block,
    concat!(
        "job \"web\" {\n",
        "  group \"g\" {\n",
        "    update {\n",
        "      max_parallel = 1\n",
        "    }\n",
        "    update {\n",
        "      max_parallel = 2\n",
        "    }\n",
        "  }\n",
        "}\n",
    ),
    At::Pos(6, 5),
    &[&["duplicate", "only one", "more than once"], &["update"]]
);

bad_job!(
    nomad_duplicate_argument,
    concat!(
        "job \"web\" {\n",
        "  region = \"a\"\n",
        "  region = \"b\"\n",
        "}\n"
    ),
    At::Pos(3, 3),
    &[
        &["duplicate", "already", "redefined", "more than once"],
        &["region"]
    ]
);

// Nomad reports a missing job block without a position.
bad_job!(
    nomad_missing_job_block,
    concat!("variable \"x\" {\n", "  default = 1\n", "}\n"),
    At::File,
    &[&["job"], &["missing", "required", "no job"]]
);

bad_job!(
    nomad_empty_file,
    "",
    At::File,
    &[&["job"], &["missing", "required", "no job"]]
);

bad_job!(
    nomad_two_job_blocks,
    concat!("job \"a\" {\n", "}\n", "job \"b\" {\n", "}\n"),
    At::Pos(3, 1),
    &[&["job"], &["duplicate", "only one", "more than one"]]
);

// HCL reports a missing label at the block's opening brace.
bad_job!(
    nomad_job_without_label,
    concat!("job {\n", "  datacenters = [\"dc1\"]\n", "}\n"),
    At::Pos(1, 5),
    &[&["label", "name"]]
);

bad_job!(
    nomad_job_with_two_labels,
    concat!("job \"a\" \"b\" {\n", "}\n"),
    At::Pos(1, 9),
    &[&["label"]]
);

// HCL's range for the missing attribute is `.nope`, from the dot.
bad_job!(
    nomad_undeclared_variable,
    concat!("job \"web\" {\n", "  region = var.nope\n", "}\n"),
    At::OneOf(&[(2, 15), (2, 16)]),
    &[
        &["nope"],
        &[
            "unsupported attribute",
            "no attribute",
            "undeclared",
            "not declared",
            "unknown",
            "undefined"
        ]
    ]
);

// Nomad gives the declaration as the context of this error.
bad_job!(
    nomad_unset_variable,
    concat!(
        "variable \"image\" {\n",
        "  type = string\n",
        "}\n",
        "job \"web\" {\n",
        "  region = var.image\n",
        "}\n",
    ),
    At::Pos(1, 1),
    &[&["image"], &["unset", "not set", "no value", "must be set"]]
);

bad_job!(
    nomad_unknown_function,
    concat!("job \"web\" {\n", "  region = nope(1)\n", "}\n"),
    At::Pos(2, 12),
    &[&["function"], &["nope"]]
);

// HCL reports an argument of the wrong type at the argument; the call is
// as good. The message must say what is wrong with it ("string required"),
// so that "no function named upper" does not pass.
bad_job!(
    nomad_function_argument_of_wrong_type,
    concat!("job \"web\" {\n", "  region = upper([\"x\"])\n", "}\n"),
    At::OneOf(&[(2, 18), (2, 12)]),
    &[
        &["upper", "str"],
        &["string required", "must be a string", "string is required"]
    ]
);

// cty's element(): "cannot use element function with an empty list".
bad_job!(
    nomad_function_fails,
    concat!("job \"web\" {\n", "  region = element([], 0)\n", "}\n"),
    At::OneOf(&[(2, 12), (2, 20)]),
    &[&["element"], &["empty"]]
);

bad_job!(
    nomad_invalid_task_scaling_policy_name,
    concat!(
        "job \"web\" {\n",
        "  group \"g\" {\n",
        "    task \"t\" {\n",
        "      driver = \"docker\"\n",
        "      scaling \"disk\" {\n",
        "        max = 10\n",
        "      }\n",
        "    }\n",
        "  }\n",
        "}\n",
    ),
    At::Pos(5, 15),
    &[&["scaling"], &["cpu", "mem", "name"]]
);

bad_job!(
    nomad_meta_attribute_and_block,
    concat!(
        "job \"web\" {\n",
        "  meta = { a = \"1\" }\n",
        "  meta {\n",
        "    b = \"2\"\n",
        "  }\n",
        "}\n"
    ),
    At::Pos(3, 3),
    &[
        &["meta"],
        &["duplicate", "both", "more than once", "conflict"]
    ]
);

bad_job!(
    nomad_syntax_error,
    concat!(
        "job \"web\" {\n",
        "  datacenters = [\"dc1\" \"dc2\"]\n",
        "}\n"
    ),
    At::Pos(2, 24),
    &[&["separator", "comma", ","]]
);

// ---------------------------------------------------------------------------
// --nomad: variable values from the command line and var files
// ---------------------------------------------------------------------------

const SIMPLE_JOB: &str = concat!(
    "variable \"image\" {\n",
    "  default = \"web:1\"\n",
    "}\n",
    "job \"web\" {\n",
    "  region = var.image\n",
    "}\n",
);

/// Runs `hcl2json --nomad --var-file VARS JOB` with [`SIMPLE_JOB`] as the
/// job and `var_text` in a var file called `name`: the error must point
/// into the var file, not the job file.
fn check_var_file(name: &str, var_text: &str, at: At, words: Words) {
    let dir = tempfile::tempdir().expect("temp dir");
    let job = common::write(dir.path(), "job.nomad.hcl", SIMPLE_JOB);
    let vars = common::write(dir.path(), name, var_text);
    let mut cmd = command();
    cmd.arg("--nomad").arg("--var-file").arg(&vars).arg(&job);
    let out = run(cmd);
    assert_rejected(
        &out,
        &vars.display().to_string(),
        var_text.as_bytes(),
        at,
        words,
    );
}

#[test]
fn nomad_var_for_undeclared_variable() {
    check(
        &["--nomad", "--var", "nope=1"],
        SIMPLE_JOB,
        At::File,
        &[
            &["nope"],
            &[
                "undefined",
                "not found",
                "undeclared",
                "not declared",
                "unknown",
            ],
        ],
    );
}

/// A var file with a syntax error: the message names the var file and the
/// position in it, not the job file.
#[test]
fn nomad_var_file_with_syntax_error() {
    check_var_file(
        "prod.vars.hcl",
        "image = = 1\n",
        At::Pos(1, 9),
        &[&["expression", "value"]],
    );
}

#[test]
fn nomad_json_var_file_with_syntax_error() {
    check_var_file(
        "prod.vars.json",
        "{\"image\": }\n",
        At::Pos(1, 11),
        &[&["json", "value", "expected"]],
    );
}

// ---------------------------------------------------------------------------
// Input that is not text, or not there
// ---------------------------------------------------------------------------

#[test]
fn invalid_utf8() {
    check_bytes(
        &[],
        b"name = \"ab\xff\"\n",
        At::Pos(1, 11),
        &[&["utf-8", "utf8"]],
    );
}

/// The column counts characters: `é` before the bad byte is one column.
#[test]
fn invalid_utf8_on_line_2_after_a_multibyte_character() {
    let input = "x = 1\nb = \"\u{e9}\u{e9}X\"\n".replace('X', "\u{0}");
    let mut bytes = input.into_bytes();
    let at = bytes.iter().position(|&b| b == 0).expect("marker");
    bytes[at] = 0xc3; // a lead byte followed by `"`: invalid
    check_bytes(&["--nomad"], &bytes, At::Pos(2, 8), &[&["utf-8", "utf8"]]);
}

#[test]
fn invalid_utf8_on_stdin() {
    check_stdin(
        &[],
        true,
        b"a = 1\nname = \"\xfe\"\n",
        At::Pos(2, 9),
        &[&["utf-8", "utf8"]],
    );
}

#[test]
fn nonexistent_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    check_unreadable(
        &[],
        &dir.path().join("missing.hcl"),
        &[&["read", "no such file", "not found"]],
    );
}

#[test]
fn nonexistent_file_nomad() {
    let dir = tempfile::tempdir().expect("temp dir");
    check_unreadable(
        &["--nomad"],
        &dir.path().join("missing.nomad.hcl"),
        &[&["read", "no such file", "not found"]],
    );
}

#[test]
fn a_directory_is_not_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    check_unreadable(&[], dir.path(), &[&["read", "directory"]]);
}

// ---------------------------------------------------------------------------
// Errors on standard input are reported for `<stdin>`
// ---------------------------------------------------------------------------

#[test]
fn stdin_dash_unclosed_block() {
    check_stdin(
        &[],
        true,
        concat!("a = 1\n", "server {\n", "  enabled = true\n").as_bytes(),
        At::Pos(2, 8),
        &[UNCLOSED],
    );
}

#[test]
fn stdin_without_argument_missing_newline() {
    check_stdin(&[], false, b"a = 1 b = 2\n", At::Pos(1, 7), &[&["newline"]]);
}

#[test]
fn stdin_nomad_unsupported_argument() {
    let input = concat!(
        "job \"web\" {\n",
        "  group \"g\" {\n",
        "    colour = \"red\"\n",
        "  }\n",
        "}\n"
    );
    check_stdin(
        &["--nomad"],
        true,
        input.as_bytes(),
        At::Pos(3, 5),
        &[&["colour"]],
    );
}

#[test]
fn stdin_duplicate_attribute() {
    check_stdin(
        &["--compact"],
        false,
        concat!("a = 1\n", "a = 2\n").as_bytes(),
        At::Pos(2, 1),
        &[&["duplicate", "already"]],
    );
}

// ---------------------------------------------------------------------------
// Usage errors: exit 2
// ---------------------------------------------------------------------------

fn assert_usage_error(args: &[&str], words: &[&str]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = common::write(dir.path(), "job.nomad.hcl", SIMPLE_JOB);
    let mut cmd = command();
    cmd.args(args).arg(&path);
    let out = run(cmd);
    assert_ne!(out.code, Some(101), "panicked: {}", out.stderr);
    assert_eq!(
        out.code,
        Some(2),
        "usage error exit code; stderr: {:?}",
        out.stderr
    );
    assert!(
        out.stdout.is_empty(),
        "stdout must be empty: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lower = out.stderr.to_lowercase();
    assert!(
        words.iter().any(|w| lower.contains(&w.to_lowercase())),
        "stderr must mention one of {words:?}: {:?}",
        out.stderr
    );
}

#[test]
fn var_without_equals_is_a_usage_error() {
    assert_usage_error(
        &["--nomad", "--var", "image"],
        &["--var", "NAME=VALUE", "image"],
    );
}

#[test]
fn var_without_name_is_a_usage_error() {
    assert_usage_error(&["--nomad", "--var", "=web:2"], &["--var", "NAME=VALUE"]);
}

#[test]
fn var_without_nomad_is_a_usage_error() {
    assert_usage_error(&["--var", "image=web:2"], &["--nomad", "--var"]);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    assert_usage_error(&["--frobnicate"], &["--frobnicate"]);
}

// ---------------------------------------------------------------------------
// Nothing makes it panic or crash
// ---------------------------------------------------------------------------

/// Odd inputs, valid or not: the answer is a conversion (0) or a rejection
/// (3), never a panic or a crash, in both modes.
#[test]
fn no_panic_on_odd_inputs() {
    let deep =
        |open: &str, close: &str, n: usize| format!("a = {}1{}\n", open.repeat(n), close.repeat(n));
    let inputs: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\n\n\n".to_vec(),
        b"a".to_vec(),
        b"a =".to_vec(),
        b"a = \"".to_vec(),
        b"a = \"${".to_vec(),
        b"a = \"${${${".to_vec(),
        b"a = \"%{".to_vec(),
        b"a = \"%{ for x in y }".to_vec(),
        b"a = \"%{ endif }\"\n".to_vec(),
        b"a = <<".to_vec(),
        b"a = <<EOT".to_vec(),
        b"a = <<EOT\n".to_vec(),
        b"a = <<-EOT\n  x\n".to_vec(),
        b"a = \"\\".to_vec(),
        b"a = \"\\u\"\n".to_vec(),
        b"a = \"\\U0011FFFF\"\n".to_vec(),
        b"a = \"\\ud800\"\n".to_vec(),
        b"a = 1e999999\n".to_vec(),
        b"a = 99999999999999999999999999999999999\n".to_vec(),
        b"a = -9223372036854775808\n".to_vec(),
        b"a = 1\r".to_vec(),
        b"a = 1\rb = 2\n".to_vec(),
        b"a = \"x\0y\"\n".to_vec(),
        b"\0".to_vec(),
        b"\xef\xbb\xbfa = 1\n".to_vec(),
        b"a = [for]\n".to_vec(),
        b"a = {for k, v in x : k => }\n".to_vec(),
        b"a = x[*].\n".to_vec(),
        b"a = x ? : 1\n".to_vec(),
        b"a = f(x...\n".to_vec(),
        b"a = x.0.1.2.-1\n".to_vec(),
        b"a \"b\" \"c\" \"d\" \"e\" { }\n".to_vec(),
        b"}}}}\n".to_vec(),
        b"{{{{\n".to_vec(),
        b"job \"x\" { group \"g\" { task \"t\" { config { a = [{}] } } } }\n".to_vec(),
        b"job \"x\" {\n dynamic \"group\" {\n }\n}\n".to_vec(),
        b"job \"x\" {\n group \"g\" {\n dynamic \"task\" {\n for_each = 1\n content {}\n }\n }\n}\n".to_vec(),
        b"locals {\n a = local.b\n b = local.a\n}\njob \"x\" {\n region = local.a\n}\n".to_vec(),
        b"variable \"v\" {\n type = list(\n}\n".to_vec(),
        b"variable \"v\" {\n type = nope\n}\njob \"x\" {}\n".to_vec(),
        "a = \"\u{feff}\u{202e}\u{1f600}\"\n".as_bytes().to_vec(),
        deep("[", "]", 50_000).into_bytes(),
        deep("(", ")", 50_000).into_bytes(),
        deep("{a = ", "}", 20_000).into_bytes(),
        deep("-", "", 50_000).into_bytes(),
        deep("!", "", 50_000).into_bytes(),
        format!("a = {}\n", "\"${".repeat(20_000)).into_bytes(),
        format!("{}{}", "b {\n".repeat(20_000), "}\n".repeat(20_000)).into_bytes(),
        format!("job \"x\" {{\n region = {}1\n}}\n", "upper(".repeat(10_000)).into_bytes(),
    ];
    for input in &inputs {
        for args in [&["--compact"][..], &["--nomad", "--compact"][..]] {
            let (out, _) = run_file(args, input);
            let shown: String = String::from_utf8_lossy(input).chars().take(80).collect();
            assert!(
                matches!(out.code, Some(0) | Some(3)),
                "{args:?} on {shown:?}: exit code {:?} (101 is a panic, none a crash)\nstderr: {}",
                out.code,
                out.stderr.chars().take(2000).collect::<String>()
            );
            assert!(
                !out.stderr.contains("panicked"),
                "{args:?} on {shown:?} panicked: {}",
                out.stderr
            );
            if out.code == Some(3) {
                assert!(
                    out.stdout.is_empty(),
                    "{args:?} on {shown:?}: stdout must be empty on error"
                );
                assert_eq!(
                    out.stderr.lines().count(),
                    1,
                    "{args:?} on {shown:?}: one line on stderr: {}",
                    out.stderr
                );
            }
        }
    }
}

#[test]
fn positions_count_from_the_path_given() {
    // A relative path is reported as given, not made absolute.
    let dir = tempfile::tempdir().expect("temp dir");
    common::write(dir.path(), "sub/in.hcl", "a = 1 b = 2\n");
    let mut cmd = command();
    cmd.arg("sub/in.hcl").current_dir(dir.path());
    let out = run(cmd);
    assert_rejected(
        &out,
        "sub/in.hcl",
        b"a = 1 b = 2\n",
        At::Pos(1, 7),
        &[&["newline"]],
    );
}
