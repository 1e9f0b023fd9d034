//! Bad input fails fast (issue 9, item 4): a document is refused for its size or its
//! nesting before any parser sees it, and stdin that opens with `{` or `[` is JSON
//! only — never handed to the YAML parser as well.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::{DataDir, ax_bin, code, text};

/// A guard against the pathology (34 s in the YAML parser, 28 s for `--file -`), far
/// above the ~0.1 s these refusals take; not a performance assertion.
const PATHOLOGICAL: Duration = Duration::from_secs(5);

fn register_from_stdin(data: &DataDir, input: &[u8]) -> (i32, String, Duration) {
    let started = Instant::now();
    let mut child = std::process::Command::new(ax_bin())
        .args(["--data-dir"])
        .arg(data.path())
        .args(["agent", "register", "--file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ax");
    // A refusal may come before all input is read; a closed pipe is fine then.
    let _ = child.stdin.take().expect("stdin").write_all(input);
    let out = child.wait_with_output().expect("wait");
    (code(&out), text(&out.stderr), started.elapsed())
}

#[test]
fn deeply_nested_documents_are_refused_before_any_parser_runs() {
    let data = DataDir::new();
    let yaml = data.path().join("deep.yaml");
    let brackets = 100_000;
    std::fs::write(
        &yaml,
        format!("a: {}{}\n", "[".repeat(brackets), "]".repeat(brackets)),
    )
    .expect("write");
    let started = Instant::now();
    let out = data.run(&["agent", "register", "--file", yaml.to_str().expect("utf-8")]);
    assert_eq!(code(&out), 5, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("nests more than 64 levels"));
    assert!(started.elapsed() < PATHOLOGICAL, "{:?}", started.elapsed());

    let json = format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000));
    let (exit, stderr, took) = register_from_stdin(&data, json.as_bytes());
    assert_eq!(exit, 5, "{stderr}");
    assert!(
        stderr.contains("stdin nests more than 64 levels"),
        "{stderr}"
    );
    assert!(took < PATHOLOGICAL, "{took:?}");
}

#[test]
fn stdin_json_is_never_reparsed_as_yaml_and_yaml_still_works() {
    let data = DataDir::new();
    // Broken JSON is reported as JSON (the YAML parser used to get it too).
    let (exit, stderr, _) = register_from_stdin(&data, b"{\"agentId\": \"x\", ");
    assert_eq!(exit, 2, "{stderr}");
    assert!(stderr.contains("stdin is not valid JSON"), "{stderr}");
    // YAML on stdin, with brackets in a comment, registers.
    let (exit, stderr, _) = register_from_stdin(
        &data,
        b"agentId: from-yaml\ndescription: read from stdin # brackets [[[ in a comment\n",
    );
    assert_eq!(exit, 0, "{stderr}");
    let (exit, doc) = data.json(&["agent", "get", "from-yaml"]);
    assert_eq!(exit, 0);
    assert_eq!(doc["description"], "read from stdin");
}

#[test]
fn an_oversized_document_is_refused_without_being_read_whole() {
    let data = DataDir::new();
    let big = data.path().join("big.json");
    let file = std::fs::File::create(&big).expect("create");
    file.set_len(17 * 1024 * 1024)
        .expect("a sparse 17 MiB file");
    let out = data.run(&["agent", "register", "--file", big.to_str().expect("utf-8")]);
    assert_eq!(code(&out), 5, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("larger than 16 MiB"));
}
