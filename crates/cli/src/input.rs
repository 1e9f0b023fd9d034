//! Reading user-supplied documents: profile and patch files (`.json`, `.yaml`,
//! `.yml`, or `-` for stdin), JSON given on the command line, and import sources
//! (a file or a directory of profile files).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::CliError;

/// The largest document read. A profile is a few KiB; a reference registry file of a
/// few thousand agents is a few MiB; a parser is never handed more than this.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// The deepest nesting of `{`/`[` accepted. Profiles nest 4 levels; the YAML parser
/// spends tens of seconds on a few hundred kilobytes of nested brackets before it
/// gives up, so depth is checked before any parser runs.
pub const MAX_DEPTH: usize = 64;

/// Parse JSON text given on the command line.
pub fn parse_json_arg(text: &str, what: &str) -> Result<Value, CliError> {
    check_shape(text, what, Syntax::Json)?;
    serde_json::from_str(text)
        .map_err(|e| CliError::usage(format!("{what} is not valid JSON: {e}")))
}

/// Read a JSON or YAML document from `path` (`-` = stdin). YAML is chosen by the
/// `.yaml`/`.yml` extension; stdin is JSON when it starts with `{` or `[`, else YAML
/// (never both: a broken JSON document is reported as JSON).
pub fn read_document(path: &Path) -> Result<Value, CliError> {
    if path == Path::new("-") {
        let text = read_limited(std::io::stdin().lock(), "stdin")?;
        let path = if looks_like_json(&text) {
            Path::new("stdin.json")
        } else {
            Path::new("stdin.yaml")
        };
        return parse_document(path, &text).map_err(|mut e| {
            e.message = e.message.replace(&path.display().to_string(), "stdin");
            e
        });
    }
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let text = read_limited(file, &path.display().to_string())?;
    parse_document(path, &text)
}

/// Parse `text` read from `path` as JSON or YAML by extension, after checking its
/// size and nesting depth.
pub fn parse_document(path: &Path, text: &str) -> Result<Value, CliError> {
    let what = path.display().to_string();
    if is_yaml(path) {
        check_shape(text, &what, Syntax::Yaml)?;
        yaml_serde::from_str(text)
            .map_err(|e| CliError::usage(format!("{what} is not valid YAML: {e}")))
    } else {
        check_shape(text, &what, Syntax::Json)?;
        serde_json::from_str(text)
            .map_err(|e| CliError::usage(format!("{what} is not valid JSON: {e}")))
    }
}

/// Whether stdin text is meant as JSON: it opens an object or an array.
fn looks_like_json(text: &str) -> bool {
    matches!(text.trim_start().chars().next(), Some('{' | '['))
}

/// Up to [`MAX_DOCUMENT_BYTES`] of UTF-8 text from `reader`; more is refused, not
/// buffered.
fn read_limited(reader: impl Read, what: &str) -> Result<String, CliError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_DOCUMENT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::usage(format!("cannot read {what}: {e}")))?;
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(too_large(format!(
            "{what} is larger than {} MiB; split it into several files",
            MAX_DOCUMENT_BYTES / (1024 * 1024)
        )));
    }
    String::from_utf8(bytes).map_err(|e| CliError::usage(format!("{what} is not UTF-8 text: {e}")))
}

#[derive(Clone, Copy, PartialEq)]
enum Syntax {
    Json,
    Yaml,
}

/// Refuse a document too large or nested too deeply, before any parser sees it.
fn check_shape(text: &str, what: &str, syntax: Syntax) -> Result<(), CliError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(too_large(format!(
            "{what} is larger than {} MiB",
            MAX_DOCUMENT_BYTES / (1024 * 1024)
        )));
    }
    let depth = nesting_depth(text, syntax);
    if depth > MAX_DEPTH {
        return Err(too_large(format!(
            "{what} nests more than {MAX_DEPTH} levels of {{ }} or [ ]; no agent profile is that deep"
        )));
    }
    Ok(())
}

/// The deepest nesting of `{`/`[` in `text`. JSON strings are skipped (their syntax
/// is exact); in YAML only comments are (quoting rules depend on context there, and
/// counting a bracket inside a quoted scalar can only over-count). Stops counting
/// once past [`MAX_DEPTH`].
fn nesting_depth(text: &str, syntax: Syntax) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut chars = text.chars();
    let mut previous = '\n';
    while let Some(c) = chars.next() {
        match c {
            '{' | '[' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > MAX_DEPTH {
                    return deepest;
                }
            }
            '}' | ']' => depth = depth.saturating_sub(1),
            '"' if syntax == Syntax::Json => {
                while let Some(s) = chars.next() {
                    match s {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '#' if syntax == Syntax::Yaml && previous.is_whitespace() => {
                for s in chars.by_ref() {
                    if s == '\n' {
                        break;
                    }
                }
                previous = '\n';
                continue;
            }
            _ => {}
        }
        previous = c;
    }
    deepest
}

/// A document refused for its size or depth (exit 5).
fn too_large(message: String) -> CliError {
    CliError::new(
        crate::error::Exit::Invalid,
        ax_contracts::error::ErrorCode::InvalidInput,
        message,
    )
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

fn is_profile_file(path: &Path) -> bool {
    path.is_file()
        && (is_yaml(path)
            || path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json")))
}

/// The files an import of `path` reads: the file itself, or a directory's
/// `.json`/`.yaml`/`.yml` files in name order (not recursive).
pub fn import_files(path: &Path) -> Result<Vec<PathBuf>, CliError> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    if !path.is_dir() {
        return Err(CliError::usage(format!(
            "{} does not exist",
            path.display()
        )));
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| CliError::usage(format!("cannot read directory {}: {e}", path.display())))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_profile_file(p))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(CliError::usage(format!(
            "{} has no .json, .yaml or .yml files",
            path.display()
        )));
    }
    Ok(files)
}
