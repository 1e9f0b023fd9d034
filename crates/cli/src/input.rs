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
        return read_stdin(std::io::stdin().lock());
    }
    let text = read_limited(open_file(path)?, &path.display().to_string())?;
    parse_document(path, &text)
}

/// Open `path` for reading; a failure names it.
pub fn open_file(path: &Path) -> Result<std::fs::File, CliError> {
    std::fs::File::open(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))
}

/// The document on stdin (given as `reader`), JSON or YAML as [`read_document`] says.
pub fn read_stdin(reader: impl Read) -> Result<Value, CliError> {
    let text = read_limited(reader, "stdin")?;
    let path = if looks_like_json(&text) {
        Path::new("stdin.json")
    } else {
        Path::new("stdin.yaml")
    };
    parse_document(path, &text).map_err(|mut e| {
        e.message = e.message.replace(&path.display().to_string(), "stdin");
        e
    })
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
    read_limited_bytes(reader, what, 0, &mut bytes)?;
    String::from_utf8(bytes).map_err(|e| not_utf8(what, e.utf8_error()))
}

/// [`read_limited`] into `bytes` (emptied first), of a source expected to hold
/// `size` bytes: the buffer is made that large at once instead of doubling its way
/// past it (a 9 MB file would be held in a 16 MiB buffer), and a caller reading many
/// files reuses one buffer (a new one per file left the freed ones fragmenting the
/// heap: two files' worth of text resident instead of one).
fn read_limited_into<'b>(
    reader: impl Read,
    what: &str,
    size: u64,
    bytes: &'b mut Vec<u8>,
) -> Result<&'b str, CliError> {
    read_limited_bytes(reader, what, size, bytes)?;
    std::str::from_utf8(bytes).map_err(|e| not_utf8(what, e))
}

/// The bytes of [`read_limited_into`], not yet checked to be UTF-8.
fn read_limited_bytes(
    reader: impl Read,
    what: &str,
    size: u64,
    bytes: &mut Vec<u8>,
) -> Result<(), CliError> {
    bytes.clear();
    let expected = usize::try_from(size).unwrap_or(0).min(MAX_DOCUMENT_BYTES);
    bytes.reserve(expected.saturating_add(1));
    reader
        .take(MAX_DOCUMENT_BYTES as u64 + 1)
        .read_to_end(bytes)
        .map_err(|e| CliError::usage(format!("cannot read {what}: {e}")))?;
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(too_large(format!(
            "{what} is larger than {} MiB; split it into several files",
            MAX_DOCUMENT_BYTES / (1024 * 1024)
        )));
    }
    Ok(())
}

fn not_utf8(what: &str, e: std::str::Utf8Error) -> CliError {
    CliError::usage(format!("{what} is not UTF-8 text: {e}"))
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
        return Err(too_deep(what));
    }
    Ok(())
}

/// `what` nests deeper than [`MAX_DEPTH`] (exit 5).
pub fn too_deep(what: &str) -> CliError {
    too_large(format!(
        "{what} nests more than {MAX_DEPTH} levels of {{ }} or [ ]; no agent profile is that deep"
    ))
}

/// The `{`/`[` nesting of JSON text fed to it in pieces: strings (whose syntax is
/// exact) are skipped, also when a piece ends inside one. The whole-document check
/// and the streaming reader count with this one machine.
#[derive(Debug, Default)]
pub struct JsonNesting {
    depth: usize,
    deepest: usize,
    in_string: bool,
    escaped: bool,
}

impl JsonNesting {
    /// Feeds the next bytes; returns the deepest nesting seen so far (it stops
    /// counting once past [`MAX_DEPTH`]).
    pub fn feed(&mut self, bytes: &[u8]) -> usize {
        for &b in bytes {
            if self.deepest > MAX_DEPTH {
                break;
            }
            if self.in_string {
                match b {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'{' | b'[' => {
                    self.depth += 1;
                    self.deepest = self.deepest.max(self.depth);
                }
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                b'"' => self.in_string = true,
                _ => {}
            }
        }
        self.deepest
    }
}

/// The deepest nesting of `{`/`[` in `text`. JSON strings are skipped (their syntax
/// is exact, see [`JsonNesting`]); in YAML only comments are (quoting rules depend on
/// context there, and counting a bracket inside a quoted scalar can only
/// over-count). Stops counting once past [`MAX_DEPTH`].
fn nesting_depth(text: &str, syntax: Syntax) -> usize {
    if syntax == Syntax::Json {
        return JsonNesting::default().feed(text.as_bytes());
    }
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
            '#' if previous.is_whitespace() => {
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
pub fn too_large(message: String) -> CliError {
    CliError::new(ax_contracts::error::ErrorCode::InvalidInput, message)
}

/// Whether `path` names a YAML file (`.yaml`/`.yml`, any case).
pub fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

fn has_profile_extension(path: &Path) -> bool {
    is_yaml(path)
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// A file an import reads: `shown` is how it is named in messages (inside the
/// directory given), `open` what is opened. For a directory's files `checked` holds
/// the directory (canonical) and the file's identity as checked, verified again on
/// the opened file so nothing outside the directory is ever read.
#[derive(Debug, Clone)]
pub struct ImportFile {
    /// The path as the user sees it (`DIR/name.json`).
    pub shown: PathBuf,
    open: PathBuf,
    checked: Option<(PathBuf, std::fs::Metadata)>,
}

/// The files an import of a path reads, and the directory entries left unread.
#[derive(Debug, Default)]
pub struct ImportFiles {
    /// Files to read, in name order.
    pub files: Vec<ImportFile>,
    /// `(entry, reason)` for each profile-named entry that is not read.
    pub skipped: Vec<(PathBuf, String)>,
}

/// The files an import of `path` reads: the file itself (the user named it), or a
/// directory's `.json`/`.yaml`/`.yml` entries in name order (not recursive). In a
/// directory only regular files are read, and a symbolic link only when it resolves
/// to a regular file inside that directory; every other such entry (a link out of
/// the directory, a loop, a dangling link, a FIFO, a socket, a device, a directory)
/// is listed in [`ImportFiles::skipped`] with the reason.
pub fn import_files(path: &Path) -> Result<ImportFiles, CliError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CliError::usage(format!("{} does not exist", path.display()))
        } else {
            CliError::usage(format!("cannot read {}: {e}", path.display()))
        }
    })?;
    if meta.is_file() {
        return Ok(ImportFiles {
            files: vec![ImportFile {
                shown: path.to_owned(),
                open: path.to_owned(),
                checked: None,
            }],
            skipped: Vec::new(),
        });
    }
    if !meta.is_dir() {
        return Err(CliError::usage(format!(
            "{} is {}, not a file or directory (`-` reads stdin)",
            path.display(),
            kind_of(&meta)
        )));
    }
    let root = std::fs::canonicalize(path)
        .map_err(|e| CliError::usage(format!("cannot read directory {}: {e}", path.display())))?;
    let entries = std::fs::read_dir(&root)
        .map_err(|e| CliError::usage(format!("cannot read directory {}: {e}", path.display())))?;
    let mut found = ImportFiles::default();
    let mut names: Vec<_> = entries
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| has_profile_extension(Path::new(n)))
        .collect();
    names.sort();
    for name in names {
        let shown = path.join(&name);
        match file_in_folder(&root, &root.join(&name), &path.display().to_string()) {
            Ok((open, meta)) => found.files.push(ImportFile {
                shown,
                open,
                checked: Some((root.clone(), meta)),
            }),
            Err(reason) => found.skipped.push((shown, reason)),
        }
    }
    if found.files.is_empty() && found.skipped.is_empty() {
        return Err(CliError::usage(format!(
            "{} has no .json, .yaml or .yml files",
            path.display()
        )));
    }
    Ok(found)
}

/// `entry` (a path directly in the canonical directory `root`) as a regular file
/// inside `root`: the path to open and its identity, or why it is not read. A link
/// is resolved, never followed out of `root`. `dir` names the directory in reasons.
pub fn file_in_folder(
    root: &Path,
    entry: &Path,
    dir: &str,
) -> Result<(PathBuf, std::fs::Metadata), String> {
    let link = std::fs::symlink_metadata(entry).map_err(|e| format!("cannot be inspected: {e}"))?;
    let target = if link.file_type().is_symlink() {
        match std::fs::canonicalize(entry) {
            Ok(target) if target.starts_with(root) => target,
            Ok(_) => {
                return Err(format!(
                    "a symbolic link to a file outside {dir}; not followed"
                ));
            }
            Err(e) if is_loop(&e) => return Err("a symbolic link loop".to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err("a dangling symbolic link".to_owned());
            }
            Err(e) => return Err(format!("a symbolic link that cannot be resolved: {e}")),
        }
    } else {
        entry.to_owned()
    };
    let meta = std::fs::metadata(&target).map_err(|e| format!("cannot be inspected: {e}"))?;
    if meta.is_file() {
        Ok((target, meta))
    } else if link.file_type().is_symlink() {
        Err(format!("a symbolic link to {}", kind_of(&meta)))
    } else {
        Err(kind_of(&meta).to_owned())
    }
}

/// "a directory", "a FIFO (named pipe)", ... for messages.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// Whether resolving a link failed because of a loop (`ELOOP`).
fn is_loop(e: &std::io::Error) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const ELOOP: i32 = 40;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const ELOOP: i32 = 62;
    e.raw_os_error() == Some(ELOOP)
}

/// Read and parse one import file: [`read_import_text`], then
/// [`parse_import_text`].
pub fn read_import_file(file: &ImportFile) -> Result<Value, CliError> {
    let mut buffer = Vec::new();
    let text = read_import_text(file, &mut buffer)?;
    parse_import_text(file, text)
}

/// Parses `text`, read from `file`, as JSON or YAML (by its name).
pub fn parse_import_text(file: &ImportFile, text: &str) -> Result<Value, CliError> {
    let named = if file.checked.is_some() {
        &file.shown
    } else {
        &file.open
    };
    parse_document(named, text)
}

/// Reads one import file's text, at most [`MAX_DOCUMENT_BYTES`], into `buffer`
/// (reused across files: see `read_limited_into`). A directory's file
/// is opened and then checked to be the regular file inside the directory that was
/// listed (same device and inode and, on Linux, the opened file's own path under the
/// directory), so a link swapped in meanwhile is not read either.
pub fn read_import_text<'b>(
    file: &ImportFile,
    buffer: &'b mut Vec<u8>,
) -> Result<&'b str, CliError> {
    let (opened, size) = open_import_file(file)?;
    let what = if file.checked.is_some() {
        file.shown.display()
    } else {
        file.open.display()
    };
    read_limited_into(opened, &what.to_string(), size, buffer)
}

/// Opens one import file for reading, checked as [`read_import_text`] says; returns
/// it with its size in bytes (0 when not known).
pub fn open_import_file(file: &ImportFile) -> Result<(std::fs::File, u64), CliError> {
    let Some((root, expected)) = &file.checked else {
        return Ok((open_file(&file.open)?, 0));
    };
    let shown = file.shown.display().to_string();
    let opened = open_without_blocking(&file.open)
        .map_err(|e| CliError::usage(format!("cannot read {shown}: {e}")))?;
    let actual = opened
        .metadata()
        .map_err(|e| CliError::usage(format!("cannot read {shown}: {e}")))?;
    let moved = || CliError::usage(format!("{shown} changed while it was being read; not read"));
    if !actual.is_file() || !same_file(expected, &actual) {
        return Err(moved());
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        if let Ok(real) = std::fs::read_link(format!("/proc/self/fd/{}", opened.as_raw_fd()))
            && !real.starts_with(root)
        {
            return Err(moved());
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = root;
    Ok((opened, actual.len()))
}

/// Opens `path` for reading with `O_NONBLOCK`: a FIFO swapped in after the directory
/// was listed would otherwise block the open for ever (until some writer came); so
/// opened, it is seen for what it is by the check that follows and refused. For a
/// regular file the flag changes nothing.
#[cfg(unix)]
fn open_without_blocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_blocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A directory's profile replaced by a FIFO between listing and reading (the race
    /// a hostile co-user of the folder can win): the read is refused at once instead of
    /// blocking `ax` until some writer opens the pipe.
    #[test]
    fn a_fifo_swapped_in_after_listing_is_refused_not_waited_on() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.json");
        std::fs::write(&path, r#"{"agentId": "a"}"#).expect("write");
        let listed = import_files(dir.path()).expect("list");
        assert_eq!(listed.files.len(), 1, "{:?}", listed.skipped);
        std::fs::remove_file(&path).expect("remove");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("mkfifo");

        let file = listed.files.into_iter().next().expect("one file");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(read_import_file(&file).map_err(|e| e.message.clone()));
        });
        let outcome = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("reading the swapped-in FIFO blocked");
        let message = outcome.expect_err("a FIFO is not read");
        assert!(
            message.contains("changed while it was being read"),
            "{message}"
        );
    }
}
