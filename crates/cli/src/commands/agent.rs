//! `ax agent ...`: the registry from the command line.

use ax_agent_domain::AgentError;
use ax_agent_domain::import::{ImportMode, OnConflict, ReportIds};
use ax_agent_domain::recommend::RecommendRequest;
use ax_agent_domain::store::{AgentFilter, PageRequest};
use ax_contracts::agent::{AgentPage, AgentProfile, AgentSummary, Exported, Registered, Removed};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::Path;

use crate::app::App;
use crate::args::{
    AgentCommand, ExportArgs, ImportArgs, ListArgs, OnConflictArg, RecommendArgs, RegisterArgs,
    UpdateArgs,
};
use crate::destination::{self, Destination};
use crate::error::{CliError, Exit};
use crate::import_reader;
use crate::input::{parse_json_arg, read_document};
use crate::output::{Out, truncate};
use crate::text::escape_controls;

/// Run one `ax agent` subcommand.
pub async fn run(app: &App, command: AgentCommand, out: Out) -> Result<Exit, CliError> {
    match command {
        AgentCommand::List(args) => list(app, args, out).await,
        AgentCommand::Get { id } => get(app, &id, out).await,
        AgentCommand::Register(args) => register(app, args, out).await,
        AgentCommand::Update(args) => update(app, args, out).await,
        AgentCommand::Remove { id } => remove(app, &id, out).await,
        AgentCommand::Import(args) => import(app, args, out).await,
        AgentCommand::Export(args) => export(app, args, out).await,
        AgentCommand::Recommend(args) => recommend(app, args, out).await,
    }
}

async fn list(app: &App, args: ListArgs, out: Out) -> Result<Exit, CliError> {
    let enabled = match (args.enabled, args.disabled) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let filter = AgentFilter {
        team: args.team,
        tags: args.tags,
        capability: args.capability,
        enabled,
    };
    let page = app
        .agents
        .list(
            &filter,
            PageRequest {
                offset: args.offset,
                limit: Some(args.limit),
            },
        )
        .await?;
    let shown = page.agents.len() as u64;
    let next = (args.offset + shown < page.total).then_some(args.offset + shown);
    if out.json() {
        out.print_json(&AgentPage {
            agents: page.agents.iter().map(AgentSummary::from).collect(),
            total: page.total,
            next_cursor: None,
            offset: Some(args.offset),
            limit: Some(args.limit),
            next_offset: next,
        })?;
        return Ok(Exit::Ok);
    }
    if page.agents.is_empty() {
        out.line(if page.total == 0 {
            "no agents match"
        } else {
            "no agents on this page"
        })?;
        return Ok(Exit::Ok);
    }
    let rows: Vec<Vec<String>> = page
        .agents
        .iter()
        .map(|r| {
            let p = &r.profile;
            // Agent fields are imported from anywhere: no escape sequences.
            vec![
                escape_controls(&p.agent_id),
                escape_controls(&p.team.clone().unwrap_or_default()),
                if p.enabled {
                    "yes".into()
                } else {
                    out.dim("no")
                },
                escape_controls(&p.capabilities().join(", ")),
                escape_controls(&p.description),
            ]
        })
        .collect();
    out.table(
        &["ID", "TEAM", "ENABLED", "CAPABILITIES", "DESCRIPTION"],
        &rows,
        &[30, 16, 7, 40, 60],
    )?;
    let first = args.offset + 1;
    let last = args.offset + shown;
    let footer = match next {
        Some(next) => format!(
            "{first}–{last} of {} (next page: --offset {next})",
            page.total
        ),
        None => format!("{first}–{last} of {}", page.total),
    };
    out.line(&out.dim(&footer))?;
    Ok(Exit::Ok)
}

async fn get(app: &App, id: &str, out: Out) -> Result<Exit, CliError> {
    let record = app.agents.get(id).await?;
    if out.json() {
        out.print_json(&record)?;
        return Ok(Exit::Ok);
    }
    let p = &record.profile;
    let field = |name: &str, value: Option<String>| -> Result<(), CliError> {
        match value {
            Some(v) if !v.is_empty() => out.line(&format!(
                "{} {}",
                out.bold(&format!("{name:<14}")),
                escape_controls(&v)
            )),
            _ => Ok(()),
        }
    };
    field("agentId", Some(p.agent_id.clone()))?;
    field("displayName", p.display_name.clone())?;
    field("description", Some(p.description.clone()))?;
    field("role", p.role.clone())?;
    field("team", p.team.clone())?;
    field("enabled", Some(p.enabled.to_string()))?;
    field("version", p.version.clone())?;
    field("capabilities", Some(p.capabilities().join(", ")))?;
    field("tags", Some(p.tags().join(", ")))?;
    field("revision", Some(record.revision.to_string()))?;
    field("createdAt", Some(record.created_at.clone()))?;
    field("updatedAt", Some(record.updated_at.clone()))?;
    if let Some(prompt) = &p.system_prompt {
        out.line(&out.bold("systemPrompt"))?;
        for line in escape_controls(prompt).lines() {
            out.line(&format!("  {line}"))?;
        }
    }
    out.line(&out.dim(&format!(
        "(full profile: ax agent get {} --format json)",
        p.agent_id
    )))?;
    Ok(Exit::Ok)
}

/// The profile document from `--file`, `--json` or the individual flags.
fn profile_from_args(args: RegisterArgs) -> Result<Value, CliError> {
    if let Some(path) = &args.file {
        return read_document(path);
    }
    if let Some(text) = &args.json {
        return parse_json_arg(text, "--json");
    }
    let mut doc = Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            doc.insert(key.to_owned(), Value::String(v));
        }
    };
    put("agentId", args.id);
    put("description", args.description);
    put("displayName", args.display_name);
    put("role", args.role);
    put("team", args.team);
    put("systemPrompt", args.system_prompt);
    if !args.tags.is_empty() {
        doc.insert("tags".into(), json!(args.tags));
    }
    if !args.capabilities.is_empty() {
        doc.insert("capabilities".into(), json!(args.capabilities));
    }
    if args.disabled {
        doc.insert("enabled".into(), Value::Bool(false));
    }
    Ok(Value::Object(doc))
}

async fn register(app: &App, args: RegisterArgs, out: Out) -> Result<Exit, CliError> {
    let doc = profile_from_args(args)?;
    let profile = AgentProfile::from_json(&doc).map_err(AgentError::from)?;
    let record = app.agents.register(profile).await?;
    if out.json() {
        out.print_json(&Registered::from(&record))?;
    } else if !out.quiet() {
        out.line(&format!("registered agent \"{}\"", record.profile.agent_id))?;
    }
    Ok(Exit::Ok)
}

async fn update(app: &App, args: UpdateArgs, out: Out) -> Result<Exit, CliError> {
    let patch = match (&args.file, &args.json) {
        (Some(path), _) => read_document(path)?,
        (None, Some(text)) => parse_json_arg(text, "--json")?,
        (None, None) => return Err(CliError::usage("give the patch with --json or --file")),
    };
    let record = app.agents.update(&args.id, &patch, args.if_version).await?;
    if out.json() {
        out.print_json(&record)?;
    } else if !out.quiet() {
        out.line(&format!(
            "updated agent \"{}\" (revision {})",
            record.profile.agent_id, record.revision
        ))?;
    }
    Ok(Exit::Ok)
}

async fn remove(app: &App, id: &str, out: Out) -> Result<Exit, CliError> {
    if !app.agents.remove(id).await? {
        return Err(ax_agent_domain::AgentError::NotFound {
            agent_id: id.to_owned(),
        }
        .into());
    }
    if out.json() {
        out.print_json(&Removed {
            removed: true,
            agent_id: id.to_owned(),
        })?;
    } else if !out.quiet() {
        out.line(&format!("removed agent \"{id}\""))?;
    }
    Ok(Exit::Ok)
}

/// How many ids of each kind a text report keeps: its lines show the first 200
/// characters of the list, which fewer ids than this already fill.
const SUMMARY_IDS: usize = 100;

async fn import(app: &App, args: ImportArgs, out: Out) -> Result<Exit, CliError> {
    let on_conflict = match args.on_conflict {
        OnConflictArg::Skip => OnConflict::Skip,
        OnConflictArg::Replace => OnConflict::Replace,
        OnConflictArg::Fail => OnConflict::Fail,
    };
    let mode = if args.continue_on_error {
        ImportMode::EachProfile
    } else {
        ImportMode::AllOrNothing
    };
    // JSON lists every id; a summary line needs the counts and the first few.
    let ids = if out.json() {
        ReportIds::All
    } else {
        ReportIds::First(SUMMARY_IDS)
    };
    let progress = import_reader::wants_progress(out.json(), out.quiet());
    let (mut events, reader) = import_reader::spawn(args.path.clone(), progress);
    let imported = app
        .agents
        .import_events(&mut events, on_conflict, mode, ids)
        .await;
    // A reader still going stops at its next event.
    drop(events);
    // A source that could not be read is the error (and nothing was written: its
    // stream never ended).
    reader
        .join()
        .unwrap_or_else(|_| Err(CliError::failure("reading the import source failed")))?;
    let (report, counts) = imported?;
    let exit = if report.conflict.is_some() {
        Exit::Conflict
    } else if !report.invalid.is_empty() {
        Exit::Invalid
    } else {
        Exit::Ok
    };
    // Files left unread are named whatever the format, on stderr (also with -q: they
    // are problems). File names come from anywhere: no escape sequences.
    for skipped in &report.skipped_files {
        eprintln!(
            "{}",
            escape_controls(&format!(
                "warning: skipped {}: {}",
                skipped.path, skipped.reason
            ))
        );
    }
    if out.json() {
        out.print_json(&report)?;
        return Ok(exit);
    }
    let list = |ids: &[String]| {
        if ids.is_empty() {
            String::new()
        } else {
            format!(": {}", escape_controls(&truncate(&ids.join(", "), 200)))
        }
    };
    // The invalid profiles, each with its issues. Agent files come from anywhere: no
    // escape sequences.
    let mut invalid = vec![format!("invalid {}", report.invalid.len())];
    for bad in &report.invalid {
        let id = bad
            .agent_id
            .as_deref()
            .map(|id| format!(" ({id})"))
            .unwrap_or_default();
        invalid.push(escape_controls(&format!("  {}{id}", bad.source)));
        for issue in &bad.issues {
            invalid.push(escape_controls(&format!(
                "    {}: {}",
                issue.path, issue.message
            )));
        }
    }
    if out.quiet() {
        // Only what went wrong, on stderr.
        if !report.invalid.is_empty() {
            let mut stderr = std::io::stderr().lock();
            for line in &invalid {
                let _ = writeln!(stderr, "{line}");
            }
        }
    } else {
        if !report.aborted {
            out.line(&format!(
                "imported {}{}",
                counts.imported,
                list(&report.imported)
            ))?;
            if counts.replaced > 0 {
                out.line(&format!(
                    "replaced {}{}",
                    counts.replaced,
                    list(&report.replaced)
                ))?;
            }
            out.line(&format!(
                "skipped (already registered) {}{}",
                counts.skipped,
                list(&report.skipped)
            ))?;
        }
        for line in &invalid {
            out.line(line)?;
        }
    }
    if let Some(id) = &report.conflict {
        let what = if report.aborted {
            "no agent was written (--on-conflict fail; an import is all or nothing)"
        } else {
            "import stopped (--on-conflict fail)"
        };
        eprintln!(
            "error: agent \"{}\" already exists; {what}",
            escape_controls(id)
        );
    } else if report.aborted {
        eprintln!(
            "error: {} problem(s) listed above; no agent was written (an import is all or nothing; --continue-on-error writes the valid profiles)",
            report.invalid.len()
        );
    }
    Ok(exit)
}

/// Agents read per page of an export: the pages follow one another by key, so an
/// export of a million agents holds one page at a time.
const EXPORT_PAGE: u64 = 1_000;

async fn export(app: &App, args: ExportArgs, out: Out) -> Result<Exit, CliError> {
    // Named agents are all looked up before anything is written: a missing one is an
    // error with no output. They are as many as the command line holds.
    let mut named = Vec::new();
    for id in &args.ids {
        named.push(app.agents.get(id).await?);
    }
    match &args.out {
        Some(path) => {
            let target = destination::check(path, &app.data_dir, args.force, OUT)?;
            let fail = |e: &dyn std::fmt::Display| {
                CliError::failure(format!(
                    "cannot write {}: {e}",
                    escape_controls(&path.display().to_string())
                ))
            };
            let mut tmp = temp_beside(&target).map_err(|e| fail(&e))?;
            let mut file = std::io::BufWriter::new(tmp.as_file_mut());
            let exported = write_export(app, named, &mut file)
                .await
                .map_err(|e| e.into_cli(|io| fail(&io)))?;
            file.into_inner().map_err(|e| fail(e.error()))?;
            persist(&target, tmp).map_err(|e| match e {
                Persist::Exists => destination::exists(path),
                Persist::Io(e) => fail(&e),
            })?;
            if out.json() {
                out.print_json(&Exported {
                    exported,
                    path: path.clone(),
                })?;
            } else if !out.quiet() {
                eprintln!(
                    "exported {exported} agent(s) to {}",
                    escape_controls(&path.display().to_string())
                );
            }
        }
        None => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            match write_export(app, named, &mut stdout).await {
                // A closed pipe (`ax agent export | head`) ends the output quietly.
                Err(ExportFail::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => {
                    other.map_err(|e| {
                        e.into_cli(|io| CliError::failure(format!("cannot write output: {io}")))
                    })?;
                }
            }
        }
    }
    Ok(Exit::Ok)
}

/// Why an export stopped: writing failed, or reading the agents did.
enum ExportFail {
    Write(std::io::Error),
    Other(CliError),
}

impl From<CliError> for ExportFail {
    fn from(e: CliError) -> Self {
        Self::Other(e)
    }
}

impl ExportFail {
    /// The error to report, a write failure worded by `write`.
    fn into_cli(self, write: impl FnOnce(std::io::Error) -> CliError) -> CliError {
        match self {
            Self::Write(e) => write(e),
            Self::Other(e) => e,
        }
    }
}

/// Writes the export document to `w` as it is read: the reference tool's registry
/// file shape (`version`, `updatedAt`, `agents`), so an export re-imports here and
/// there, byte for byte what pretty-printing the whole document at once gives. The
/// agents are `named`, or when none are named every agent, page by page. Returns
/// how many were written.
async fn write_export(
    app: &App,
    named: Vec<ax_contracts::agent::AgentRecord>,
    w: &mut dyn Write,
) -> Result<usize, ExportFail> {
    let mut doc = ExportWriter::start(w, &ax_agent_domain::registry::now_rfc3339())
        .map_err(ExportFail::Write)?;
    if named.is_empty() {
        let mut after: Option<String> = None;
        loop {
            let page = app
                .agents
                .list_after(after.as_deref(), EXPORT_PAGE)
                .await
                .map_err(CliError::from)?;
            for agent in &page {
                doc.agent(agent)?;
            }
            match page.last() {
                Some(last) if page.len() as u64 == EXPORT_PAGE => {
                    after = Some(last.profile.agent_id.clone());
                }
                _ => break,
            }
        }
    } else {
        for agent in &named {
            doc.agent(agent)?;
        }
    }
    doc.finish().map_err(ExportFail::Write)
}

/// The export document written piece by piece, each piece exactly as
/// `serde_json::to_string_pretty` of the whole document (plus a final newline)
/// would have it.
struct ExportWriter<'w> {
    w: &'w mut dyn Write,
    written: usize,
}

impl<'w> ExportWriter<'w> {
    fn start(w: &'w mut dyn Write, updated_at: &str) -> std::io::Result<Self> {
        let updated_at = Value::from(updated_at);
        write!(
            w,
            "{{\n  \"version\": 1,\n  \"updatedAt\": {updated_at},\n  \"agents\": ["
        )?;
        Ok(Self { w, written: 0 })
    }

    fn agent(&mut self, agent: &ax_contracts::agent::AgentRecord) -> Result<(), ExportFail> {
        let text = serde_json::to_string_pretty(agent)
            .map_err(|e| CliError::failure(format!("cannot encode export: {e}")))?;
        let separator = if self.written == 0 {
            "\n    "
        } else {
            ",\n    "
        };
        self.written += 1;
        // Two levels deep; JSON text has no raw newline inside a string.
        write!(self.w, "{separator}{}", text.replace('\n', "\n    ")).map_err(ExportFail::Write)
    }

    /// Closes the document; how many agents it holds.
    fn finish(self) -> std::io::Result<usize> {
        let close = if self.written == 0 {
            "]\n}\n"
        } else {
            "\n  ]\n}\n"
        };
        self.w.write_all(close.as_bytes())?;
        self.w.flush()?;
        Ok(self.written)
    }
}

/// How `--out PATH` is named in refusals.
const OUT: destination::Naming = destination::Naming {
    flag: "--out ",
    example: "agents.json",
};

/// A temporary file created next to the target (`O_EXCL`, an unpredictable name),
/// to be renamed over it by [`persist`], so an interrupted export never leaves a
/// half-written file where a good one was.
fn temp_beside(target: &Destination) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match target.file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".ax-export-").suffix(".tmp");
    #[cfg(unix)]
    if target.replaced.is_none() {
        // A new file gets what `>` would give it (0666 less the umask), not 0600.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// Why [`persist`] failed.
enum Persist {
    /// Without `--force` a file appeared at the target meanwhile; it is kept.
    Exists,
    Io(std::io::Error),
}

/// Syncs the written temporary file and renames it over the target. Without
/// `--force` the rename refuses to replace a file that appeared in the meantime.
fn persist(target: &Destination, tmp: tempfile::NamedTempFile) -> Result<(), Persist> {
    tmp.as_file().sync_all().map_err(Persist::Io)?;
    match &target.replaced {
        Some(permissions) => {
            tmp.as_file()
                .set_permissions(permissions.clone())
                .map_err(Persist::Io)?;
            tmp.persist(&target.file)
                .map_err(|e| Persist::Io(e.error))?;
        }
        None => {
            tmp.persist_noclobber(&target.file).map_err(|e| {
                if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    Persist::Exists
                } else {
                    Persist::Io(e.error)
                }
            })?;
        }
    }
    Ok(())
}

async fn recommend(app: &App, args: RecommendArgs, out: Out) -> Result<Exit, CliError> {
    let request = RecommendRequest {
        task: args.task,
        team: args.team,
        required_capabilities: args.capabilities,
        exclude_agents: args.exclude,
        max_results: Some(usize::from(args.max)),
    };
    let rec = if args.exhaustive {
        app.agents.recommend_exhaustive(&request).await?
    } else {
        app.agents.recommend(&request).await?
    };
    if out.json() {
        out.print_json(&rec)?;
        return Ok(Exit::Ok);
    }
    match &rec.recommended {
        Some(id) => out.line(&format!(
            "{} {} ({:.2})",
            out.bold("recommended:"),
            out.green(&escape_controls(id)),
            rec.confidence
        ))?,
        None => out.line(&format!("{} none", out.bold("recommended:")))?,
    }
    out.line(&format!("  {}", escape_controls(&rec.reason)))?;
    if !rec.alternatives.is_empty() {
        out.line("")?;
        let rows: Vec<Vec<String>> = rec
            .alternatives
            .iter()
            .map(|a| {
                vec![
                    escape_controls(&a.agent_id),
                    format!("{:.2}", a.confidence),
                    escape_controls(&a.reason),
                ]
            })
            .collect();
        out.table(&["ALTERNATIVE", "SCORE", "WHY"], &rows, &[30, 5, 100])?;
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed export is byte for byte the document pretty-printed whole.
    #[test]
    fn the_streamed_export_is_the_whole_document_pretty_printed() {
        let record = |id: &str| {
            let doc = json!({
                "agentId": id,
                "description": "quote \" and newline \n inside",
                "tags": ["a", "b"],
                "selectionMetadata": {"keywords": ["x"], "exampleTasks": []},
                "createdAt": "2026-01-01T00:00:00.000Z",
                "updatedAt": "2026-01-01T00:00:00.000Z",
                "revision": 2,
            });
            serde_json::from_value::<ax_contracts::agent::AgentRecord>(doc).expect("record")
        };
        for count in [0, 1, 3] {
            let agents: Vec<_> = (0..count).map(|n| record(&format!("a-{n}"))).collect();
            let whole = json!({
                "version": 1,
                "updatedAt": "2026-02-03T04:05:06.789Z",
                "agents": agents,
            });
            let expected = format!("{}\n", serde_json::to_string_pretty(&whole).expect("json"));
            let mut bytes = Vec::new();
            let mut doc =
                ExportWriter::start(&mut bytes, "2026-02-03T04:05:06.789Z").expect("start");
            for agent in &agents {
                assert!(doc.agent(agent).is_ok());
            }
            assert_eq!(doc.finish().expect("finish"), count);
            assert_eq!(
                String::from_utf8(bytes).expect("utf-8"),
                expected,
                "{count} agents"
            );
        }
    }
}
