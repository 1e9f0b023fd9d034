//! Reading user-supplied documents: profile and patch files (`.json`, `.yaml`,
//! `.yml`, or `-` for stdin), JSON given on the command line, and import sources
//! (a file or a directory of profile files).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::CliError;

/// Parse JSON text given on the command line.
pub fn parse_json_arg(text: &str, what: &str) -> Result<Value, CliError> {
    serde_json::from_str(text)
        .map_err(|e| CliError::usage(format!("{what} is not valid JSON: {e}")))
}

/// Read a JSON or YAML document from `path` (`-` = stdin). YAML is chosen by the
/// `.yaml`/`.yml` extension; stdin is tried as JSON, then YAML.
pub fn read_document(path: &Path) -> Result<Value, CliError> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
        return serde_json::from_str(&text).or_else(|json_err| {
            yaml_serde::from_str(&text)
                .map_err(|_| CliError::usage(format!("stdin is neither JSON nor YAML: {json_err}")))
        });
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    parse_document(path, &text)
}

/// Parse `text` read from `path` as JSON or YAML by extension.
pub fn parse_document(path: &Path, text: &str) -> Result<Value, CliError> {
    if is_yaml(path) {
        yaml_serde::from_str(text)
            .map_err(|e| CliError::usage(format!("{} is not valid YAML: {e}", path.display())))
    } else {
        serde_json::from_str(text)
            .map_err(|e| CliError::usage(format!("{} is not valid JSON: {e}", path.display())))
    }
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
