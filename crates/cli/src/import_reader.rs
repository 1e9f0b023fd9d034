//! Reading an import source as a stream of [`ImportEvent`]s, on a thread of its own,
//! so that an import of any size holds a bounded number of profiles at a time.
//!
//! A JSON file or JSON on stdin is parsed incrementally: the elements of a top-level
//! list or of a registry file's `agents` list are handed on one by one as the parser
//! reaches them (serde_json's `StreamDeserializer` reads a sequence of documents, not
//! the elements of one array, hence the visitor below). A directory is read one file
//! at a time: each JSON file (at most [`input::MAX_DOCUMENT_BYTES`]) is parsed once
//! through to check it, then read again and streamed as above, so its text is never
//! held; YAML is read whole (a YAML parser cannot be fed an element at a time), under
//! the usual per-document limits.
//!
//! The limits the whole-document reader enforces hold per element here: no `{`/`[`
//! nesting deeper than [`input::MAX_DEPTH`] anywhere, and no single profile (or the
//! rest of the document around the list) larger than [`input::MAX_DOCUMENT_BYTES`].

use std::cell::RefCell;
use std::fmt;
use std::io::{BufRead, BufReader, IsTerminal, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use ax_agent_domain::import::{IMPORT_BATCH, ImportEvent, ImportItem, ImportSource, SkippedFile};
use ax_contracts::validation::JsonPath;
use serde::Deserialize as _;
use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::app::{entry_source, push_entries, unreadable};
use crate::error::CliError;
use crate::input;

/// Events waiting between the reader and the writer: one batch, so the reader
/// parses the next batch while the store writes one, and no more is held. (Two
/// batches waiting held 2,000 more profiles, ~7 MiB, for no measurable speed.)
const QUEUE: usize = IMPORT_BATCH;

/// Starts reading `path` (`-`: stdin) on its own thread. The events arrive on the
/// receiver, ending with [`ImportEvent::End`] when the whole source was read; the
/// thread's result is the error that stopped it (the stream then ends without
/// `End`, and the import writes nothing). Dropping the receiver stops the reader.
///
/// With `progress`, a status line on stderr (the caller checks that stderr is a
/// terminal and the output is not JSON) says how far the reading is.
pub fn spawn(
    path: PathBuf,
    progress: bool,
) -> (
    mpsc::Receiver<ImportEvent>,
    std::thread::JoinHandle<Result<(), CliError>>,
) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let handle = std::thread::spawn(move || {
        let mut sink = Sink {
            tx,
            now: ax_agent_domain::registry::now_rfc3339(),
            progress: progress.then(Progress::new),
            stopped: false,
        };
        let read = read_source(&path, &mut sink);
        if let Some(progress) = &mut sink.progress {
            progress.finish();
        }
        read?;
        sink.send(ImportEvent::End);
        Ok(())
    });
    (rx, handle)
}

/// Whether an import should show progress: stderr is a terminal, and nothing but
/// the report is asked for (JSON output, `-q`).
pub fn wants_progress(json: bool, quiet: bool) -> bool {
    !json && !quiet && std::io::stderr().is_terminal()
}

/// Where events go, turning raw profiles into records on the way (validation runs
/// here, beside the parser, while the writer works on the batch before).
struct Sink {
    tx: mpsc::Sender<ImportEvent>,
    now: String,
    progress: Option<Progress>,
    /// The receiver is gone (the import stopped): read no further.
    stopped: bool,
}

impl Sink {
    /// Hands `event` on; `false` once the import no longer listens.
    fn send(&mut self, event: ImportEvent) -> bool {
        if !self.stopped && self.tx.blocking_send(event).is_err() {
            self.stopped = true;
        }
        !self.stopped
    }

    /// One raw profile found at `source`.
    fn profile(&mut self, source: String, profile: Value) -> bool {
        let item = ImportItem { source, profile };
        let event = match item.into_record(&self.now) {
            Ok(record) => ImportEvent::Record(Box::new(record)),
            Err(invalid) => ImportEvent::Invalid(invalid),
        };
        if let Some(progress) = &mut self.progress {
            progress.profile();
        }
        self.send(event)
    }

    /// Every profile of a document read whole from `file`.
    fn document(&mut self, file: &str, doc: Value) -> bool {
        let mut source = ImportSource::default();
        push_entries(&mut source, file, doc);
        for invalid in source.unreadable {
            if !self.send(ImportEvent::Invalid(invalid)) {
                return false;
            }
        }
        source
            .items
            .into_iter()
            .all(|item| self.profile(item.source, item.profile))
    }
}

/// Reads what `path` names into `sink`: see the module documentation. A single file
/// or stdin that cannot be read (or is not JSON/YAML) is an error, a directory's
/// file an invalid entry, as in the whole-document reader.
fn read_source(path: &Path, sink: &mut Sink) -> Result<(), CliError> {
    if path == Path::new("-") {
        let mut stdin = BufReader::new(std::io::stdin().lock());
        if starts_like_json(&mut stdin) {
            return stream_document(stdin, None, "stdin", "-", sink);
        }
        let doc = input::read_stdin(stdin)?;
        sink.document("-", doc);
        return Ok(());
    }
    let found = input::import_files(path)?;
    let single = found.files.len() == 1 && found.skipped.is_empty() && !path.is_dir();
    for (path, reason) in found.skipped {
        let file = SkippedFile {
            path: path.display().to_string(),
            reason,
        };
        if !sink.send(ImportEvent::SkippedFile(file)) {
            return Ok(());
        }
    }
    if let Some(progress) = &mut sink.progress {
        progress.files = Some((0, found.files.len()));
    }
    let mut buffer = Vec::new();
    for file in &found.files {
        let shown = file.shown.display().to_string();
        if single && !input::is_yaml(&file.shown) {
            let opened = input::open_file(&file.shown)?;
            let total = opened.metadata().ok().map(|m| m.len());
            return stream_document(BufReader::new(opened), total, &shown, &shown, sink);
        }
        let delivered = if input::is_yaml(&file.shown) {
            read_whole(file, &shown, single, &mut buffer, sink)?
        } else {
            match input::open_import_file(file) {
                Ok((opened, _)) => {
                    // Checked whole, then read again and handed on element by
                    // element: no more than one batch of profiles is held at a time,
                    // and never the file's text.
                    let limited = || (&opened).take(input::MAX_DOCUMENT_BYTES as u64 + 1);
                    if streams_cleanly(BufReader::new(limited()), &shown)
                        && (&opened).rewind().is_ok()
                    {
                        match stream_document(BufReader::new(limited()), None, &shown, &shown, sink)
                        {
                            Ok(()) => !sink.stopped,
                            Err(err) => sink.send(ImportEvent::Invalid(unreadable(shown, &err))),
                        }
                    } else {
                        // JSON the streaming parse refused (or larger than a document
                        // may be): read whole, which reports the reason as it always did.
                        read_whole(file, &shown, single, &mut buffer, sink)?
                    }
                }
                Err(err) if single => return Err(err),
                Err(err) => sink.send(ImportEvent::Invalid(unreadable(shown, &err))),
            }
        };
        if let Some(progress) = &mut sink.progress {
            progress.file_done();
        }
        if !delivered {
            break;
        }
    }
    Ok(())
}

/// Reads one file of a directory whole (YAML, or JSON that did not stream cleanly)
/// and hands its profiles to `sink`; whether the reading goes on. A file that cannot
/// be read or parsed is an invalid entry, or the error when it is the `single` input.
fn read_whole(
    file: &input::ImportFile,
    shown: &str,
    single: bool,
    buffer: &mut Vec<u8>,
    sink: &mut Sink,
) -> Result<bool, CliError> {
    let parsed =
        input::read_import_text(file, buffer).and_then(|text| input::parse_import_text(file, text));
    Ok(match parsed {
        Ok(doc) => sink.document(shown, doc),
        Err(err) if single => return Err(err),
        Err(err) => sink.send(ImportEvent::Invalid(unreadable(shown.to_owned(), &err))),
    })
}

/// Whether stdin holds JSON: its first non-blank byte opens an object or a list
/// (the rule of [`input::read_document`]), looked at without consuming it.
fn starts_like_json(reader: &mut impl BufRead) -> bool {
    loop {
        // An error is reported by the read that follows.
        let Ok(buf) = reader.fill_buf() else {
            return false;
        };
        if buf.is_empty() {
            return false;
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(at) => return matches!(buf[at], b'{' | b'['),
            None => {
                let blank = buf.len();
                reader.consume(blank);
            }
        }
    }
}

/// Parses one JSON document from `reader` incrementally, handing each profile to
/// `sink` as it is reached. `what` names the document in errors, `file` in the
/// report's sources; with `total` (its size in bytes) the progress line shows how
/// much of it was read.
fn stream_document(
    reader: impl Read,
    total: Option<u64>,
    what: &str,
    file: &str,
    sink: &mut Sink,
) -> Result<(), CliError> {
    let scan = Rc::new(RefCell::new(Scan::new(what)));
    if let (Some(progress), Some(_)) = (&mut sink.progress, total) {
        progress.bytes = Some((scan.clone(), total));
    }
    let mut stopped = false;
    let parsed = parse_stream(reader, what, &scan, &mut |label: &str, value: Value| {
        let ok = sink.profile(entry_source(file, label), value);
        stopped |= !ok;
        ok
    });
    match parsed {
        Ok(Shape::Streamed) => Ok(()),
        Ok(Shape::Whole(doc)) => {
            sink.document(file, doc);
            Ok(())
        }
        Err(_) if stopped => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether what `reader` gives parses as [`stream_document`] would parse it, handing
/// nothing on: a directory's file is checked so before the first of its profiles is
/// handed on, so that a file found broken near its end is still reported as one
/// unreadable entry, with none of its profiles imported (as when each file was read
/// whole). A file rewritten between the check and the second read can still break
/// after some of its profiles were handed on; it is then reported as unreadable, and
/// the import's all-or-nothing default writes none of it.
fn streams_cleanly(reader: impl Read, what: &str) -> bool {
    let scan = Rc::new(RefCell::new(Scan::new(what)));
    parse_stream(reader, what, &scan, &mut |_: &str, _: Value| true).is_ok()
}

/// The parse behind [`stream_document`]: `on_entry` gets each element of a list as
/// it is reached; `scan` watches the bytes for the size and depth limits.
fn parse_stream(
    reader: impl Read,
    what: &str,
    scan: &Rc<RefCell<Scan>>,
    on_entry: &mut dyn FnMut(&str, Value) -> bool,
) -> Result<Shape, CliError> {
    // The scan runs on what the buffer reads ahead (one buffer, 8 KiB, before the
    // parser), so the size limit is exact to within that.
    let reader = BufReader::new(Scanned {
        inner: reader,
        scan: scan.clone(),
    });
    let mut de = serde_json::Deserializer::from_reader(reader);
    let parsed = Document {
        base: None,
        scan,
        on_entry,
    }
    .deserialize(&mut de)
    .and_then(|shape| de.end().map(|()| shape));
    let refused = scan.borrow_mut().refused.take();
    match (parsed, refused) {
        (Ok(shape), _) => Ok(shape),
        (Err(_), Some(refused)) => Err(refused),
        (Err(e), None) if e.is_io() => Err(CliError::usage(format!("cannot read {what}: {e}"))),
        (Err(e), None) => Err(CliError::usage(format!("{what} is not valid JSON: {e}"))),
    }
}

/// What a document turned out to be.
enum Shape {
    /// A list (or a registry file's list): its elements were handed on.
    Streamed,
    /// Anything else (one profile, a registry file whose `agents` is no list, a
    /// scalar): the value, for the whole-document rules to classify and report.
    Whole(Value),
}

/// The visitor of a document (`base: None`) or of a registry file's `agents`
/// member (`base: Some("agents")`): a list is streamed element by element, anything
/// else is kept whole.
struct Document<'a, 'f> {
    base: Option<JsonPath>,
    scan: &'a Rc<RefCell<Scan>>,
    on_entry: &'a mut (dyn FnMut(&str, Value) -> bool + 'f),
}

/// The reason a parse was cut short because the import stopped listening.
const STOPPED: &str = "the import stopped";

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = Shape;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Shape, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an import document")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let base = self.base.unwrap_or_else(JsonPath::root);
        let mut index = 0;
        loop {
            // Each element may be as large as one whole document may be.
            self.scan.borrow_mut().mark();
            let Some(value) = seq.next_element::<Value>()? else {
                break;
            };
            if !(self.on_entry)(base.index(index).as_str(), value) {
                return Err(A::Error::custom(STOPPED));
            }
            index += 1;
        }
        self.scan.borrow_mut().mark();
        Ok(Shape::Streamed)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        if self.base.is_some() {
            // `agents` holding an object: kept whole, refused by the shared rules.
            let value = Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            return Ok(Shape::Whole(value));
        }
        let mut rest = Map::new();
        let mut streamed = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "agents" {
                let agents = Document {
                    base: Some(JsonPath::root().key("agents")),
                    scan: self.scan,
                    on_entry: &mut *self.on_entry,
                };
                match map.next_value_seed(agents)? {
                    Shape::Streamed => streamed = true,
                    Shape::Whole(value) => {
                        rest.insert(key, value);
                    }
                }
            } else {
                rest.insert(key, map.next_value()?);
            }
        }
        if streamed && !rest.contains_key("agents") {
            // A registry file: its profiles went by; `version` and the like are not
            // imported.
            return Ok(Shape::Streamed);
        }
        Ok(Shape::Whole(Value::Object(rest)))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Shape, E> {
        Ok(Shape::Whole(Value::Bool(v)))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Shape, E> {
        Ok(Shape::Whole(Value::from(v)))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Shape, E> {
        Ok(Shape::Whole(Value::from(v)))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Shape, E> {
        Ok(Shape::Whole(Value::from(v)))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Shape, E> {
        Ok(Shape::Whole(Value::from(v)))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Shape, E> {
        Ok(Shape::Whole(Value::Null))
    }
}

/// What the bytes read so far say: how many, how deeply nested, and where the
/// current element began — checked as they are read, before the parser sees them.
struct Scan {
    what: String,
    read: u64,
    nesting: input::JsonNesting,
    /// Where the element being read (or the document around the lists) began.
    mark: u64,
    /// Why reading was refused, for the error the parser then reports.
    refused: Option<CliError>,
}

impl Scan {
    fn new(what: &str) -> Self {
        Self {
            what: what.to_owned(),
            read: 0,
            nesting: input::JsonNesting::default(),
            mark: 0,
            refused: None,
        }
    }

    fn mark(&mut self) {
        self.mark = self.read;
    }
}

/// A reader that runs every byte through [`Scan`] and refuses to go on past a
/// limit (the parser then fails; the reason is kept in the scan).
struct Scanned<R> {
    inner: R,
    scan: Rc<RefCell<Scan>>,
}

impl<R: Read> Read for Scanned<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut scan = self.scan.borrow_mut();
        let scan = &mut *scan;
        scan.read += n as u64;
        let refused = if scan.nesting.feed(&buf[..n]) > input::MAX_DEPTH {
            Some(input::too_deep(&scan.what))
        } else if scan.read - scan.mark > input::MAX_DOCUMENT_BYTES as u64 {
            Some(input::too_large(format!(
                "{} has a profile larger than {} MiB (or as much outside its list of profiles)",
                scan.what,
                input::MAX_DOCUMENT_BYTES / (1024 * 1024)
            )))
        } else {
            None
        };
        match refused {
            Some(err) => {
                scan.refused = Some(err);
                Err(std::io::Error::other("refused"))
            }
            None => Ok(n),
        }
    }
}

/// The status line of a long import on stderr: profiles read, the rate, and (when
/// the size of what is read is known) how far along and the time left. Redrawn at
/// most [`Progress::EVERY`]; never shown for imports that end sooner.
struct Progress {
    started: Instant,
    drawn: Option<Instant>,
    profiles: u64,
    bytes: Option<(Rc<RefCell<Scan>>, Option<u64>)>,
    /// Files of a directory: `(done, all)`.
    files: Option<(usize, usize)>,
}

impl Progress {
    const EVERY: Duration = Duration::from_millis(250);
    /// Short imports finish without a status line.
    const AFTER: Duration = Duration::from_secs(1);

    fn new() -> Self {
        Self {
            started: Instant::now(),
            drawn: None,
            profiles: 0,
            bytes: None,
            files: None,
        }
    }

    fn profile(&mut self) {
        self.profiles += 1;
        self.tick();
    }

    fn file_done(&mut self) {
        if let Some((done, _)) = &mut self.files {
            *done += 1;
        }
        self.tick();
    }

    fn tick(&mut self) {
        let now = Instant::now();
        let due = match self.drawn {
            Some(at) => now.duration_since(at) >= Self::EVERY,
            None => now.duration_since(self.started) >= Self::AFTER,
        };
        if due {
            self.drawn = Some(now);
            let line = self.line(now.duration_since(self.started));
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[K{line}");
            let _ = stderr.flush();
        }
    }

    /// `read 123,456 profiles (9,310/s), 41% of 81.2 MB, about 0:13 left`.
    fn line(&self, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64().max(0.001);
        let mut line = format!(
            "read {} profiles ({}/s)",
            thousands(self.profiles),
            thousands((self.profiles as f64 / seconds) as u64)
        );
        let fraction = match (&self.bytes, self.files) {
            (Some((scan, Some(total))), _) if *total > 0 => {
                let read = scan.borrow().read;
                line.push_str(&format!(
                    ", {:.0}% of {}",
                    percent(read, *total),
                    megabytes(*total)
                ));
                Some(read as f64 / *total as f64)
            }
            (_, Some((done, all))) if all > 0 => {
                line.push_str(&format!(", {done} of {all} files"));
                Some(done as f64 / all as f64)
            }
            _ => None,
        };
        if let Some(fraction) = fraction.filter(|f| *f > 0.0 && *f < 1.0) {
            let left = (seconds / fraction - seconds).round() as u64;
            line.push_str(&format!(", about {}:{:02} left", left / 60, left % 60));
        }
        line
    }

    /// Clears the status line (the report follows on stdout).
    fn finish(&mut self) {
        if self.drawn.is_some() {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[K");
            let _ = stderr.flush();
        }
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    (part as f64 * 100.0 / whole as f64).min(100.0)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entries handed on, and the document kept whole (or why parsing stopped).
    type Streamed = (Vec<(String, Value)>, Result<Option<Value>, String>);

    fn stream(text: &str) -> Streamed {
        let scan = Rc::new(RefCell::new(Scan::new("doc.json")));
        let reader = BufReader::new(Scanned {
            inner: text.as_bytes(),
            scan: scan.clone(),
        });
        let mut de = serde_json::Deserializer::from_reader(reader);
        let mut seen = Vec::new();
        let parsed = Document {
            base: None,
            scan: &scan,
            on_entry: &mut |label: &str, value: Value| {
                seen.push((label.to_owned(), value));
                true
            },
        }
        .deserialize(&mut de)
        .and_then(|shape| de.end().map(|()| shape));
        let refused = scan.borrow_mut().refused.take();
        let outcome = match (parsed, refused) {
            (_, Some(err)) => Err(err.message.clone()),
            (Ok(Shape::Streamed), None) => Ok(None),
            (Ok(Shape::Whole(v)), None) => Ok(Some(v)),
            (Err(e), None) => Err(e.to_string()),
        };
        (seen, outcome)
    }

    #[test]
    fn lists_and_registry_files_are_handed_on_element_by_element() {
        let (seen, whole) = stream(r#"[{"agentId": "a"}, 3]"#);
        assert_eq!(whole, Ok(None));
        let labels: Vec<&str> = seen.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["[0]", "[1]"]);

        let (seen, whole) = stream(
            r#"{"version": "1", "agents": [{"agentId": "a"}, {"agentId": "b"}], "updatedAt": "x"}"#,
        );
        assert_eq!(whole, Ok(None));
        let labels: Vec<&str> = seen.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["agents[0]", "agents[1]"]);
        assert_eq!(seen[1].1, serde_json::json!({"agentId": "b"}));
    }

    #[test]
    fn anything_else_is_kept_whole_for_the_shared_rules() {
        for text in [
            r#"{"agentId": "solo", "tags": ["x"]}"#,
            r#"{"agents": {"a": {}}, "version": 1}"#,
            r#""text""#,
            "null",
            "12",
        ] {
            let (seen, whole) = stream(text);
            assert!(seen.is_empty(), "{text}");
            let expected: Value = serde_json::from_str(text).expect("json");
            assert_eq!(whole, Ok(Some(expected)), "{text}");
        }
    }

    #[test]
    fn broken_and_too_deep_documents_are_refused_with_the_reason() {
        let (seen, outcome) = stream(r#"[{"agentId": "a"}, {"agentId": "b""#);
        assert_eq!(seen.len(), 1, "what came before the break was handed on");
        assert!(outcome.is_err());

        let deep = format!("[{}{}]", "[".repeat(80), "]".repeat(80));
        let (_, outcome) = stream(&deep);
        let message = outcome.expect_err("too deep");
        assert!(message.contains("nests more than 64 levels"), "{message}");

        let quoted = format!(r#"[{{"agentId": "{}"}}]"#, "[".repeat(80));
        let (seen, outcome) = stream(&quoted);
        assert_eq!(
            (seen.len(), outcome),
            (1, Ok(None)),
            "brackets in strings do not count"
        );
    }

    #[test]
    fn one_oversized_profile_is_refused_but_many_small_ones_are_not() {
        let big = "x".repeat(input::MAX_DOCUMENT_BYTES + 64 * 1024);
        let (_, outcome) = stream(&format!(r#"[{{"description": "{big}"}}]"#));
        let message = outcome.expect_err("too large");
        assert!(message.contains("larger than 16 MiB"), "{message}");

        let small = format!(r#"{{"description": "{}"}}"#, "y".repeat(64 * 1024));
        let many = vec![small; (input::MAX_DOCUMENT_BYTES / (64 * 1024)) + 8].join(",");
        let (seen, outcome) = stream(&format!("[{many}]"));
        assert_eq!(outcome, Ok(None), "more than 16 MiB in all is fine");
        assert!(seen.len() > 256);
    }

    #[test]
    fn progress_says_count_rate_share_and_time_left() {
        let mut progress = Progress::new();
        progress.profiles = 20_000;
        let scan = Rc::new(RefCell::new(Scan::new("doc.json")));
        scan.borrow_mut().read = 25_000_000;
        progress.bytes = Some((scan, Some(100_000_000)));
        let line = progress.line(Duration::from_secs(10));
        assert_eq!(
            line,
            "read 20,000 profiles (2,000/s), 25% of 100.0 MB, about 0:30 left"
        );
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
