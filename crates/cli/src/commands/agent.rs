//! `ax agent ...`: the registry from the command line.

use ax_agent_domain::import::{ImportMode, OnConflict};
use ax_agent_domain::recommend::RecommendRequest;
use ax_agent_domain::store::{AgentFilter, PageRequest};
use ax_contracts::agent::{AgentPage, AgentSummary, Exported, Registered, Removed};
use serde_json::{Map, Value, json};
use std::io::Write as _;
use std::path::Path;

use crate::app::{App, read_import_items};
use crate::args::{
    AgentCommand, ExportArgs, ImportArgs, ListArgs, OnConflictArg, RecommendArgs, RegisterArgs,
    UpdateArgs,
};
use crate::destination::{self, Destination};
use crate::error::{CliError, Exit};
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
    let record = app.agents.register_json(&doc).await?;
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

async fn import(app: &App, args: ImportArgs, out: Out) -> Result<Exit, CliError> {
    let source = read_import_items(&args.path)?;
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
    let report = app.agents.import(source, on_conflict, mode).await?;
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
                report.imported.len(),
                list(&report.imported)
            ))?;
            if !report.replaced.is_empty() {
                out.line(&format!(
                    "replaced {}{}",
                    report.replaced.len(),
                    list(&report.replaced)
                ))?;
            }
            out.line(&format!(
                "skipped (already registered) {}{}",
                report.skipped.len(),
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

async fn export(app: &App, args: ExportArgs, out: Out) -> Result<Exit, CliError> {
    let mut agents = Vec::new();
    if args.ids.is_empty() {
        agents = app
            .agents
            .list(&AgentFilter::default(), PageRequest::ALL)
            .await?
            .agents;
    } else {
        for id in &args.ids {
            agents.push(app.agents.get(id).await?);
        }
    }
    // The reference tool's registry-file shape, so an export re-imports here and there.
    let doc = json!({
        "version": 1,
        "updatedAt": ax_agent_domain::registry::now_rfc3339(),
        "agents": agents,
    });
    match &args.out {
        Some(path) => {
            let target = destination::check(path, &app.data_dir, args.force, OUT)?;
            let text = serde_json::to_string_pretty(&doc)
                .map_err(|e| CliError::failure(format!("cannot encode export: {e}")))?;
            write_atomically(path, &target, &text)?;
            if out.json() {
                out.print_json(&Exported {
                    exported: agents.len(),
                    path: path.clone(),
                })?;
            } else if !out.quiet() {
                eprintln!(
                    "exported {} agent(s) to {}",
                    agents.len(),
                    escape_controls(&path.display().to_string())
                );
            }
        }
        None => out.print_json(&doc)?,
    }
    Ok(Exit::Ok)
}

/// How `--out PATH` is named in refusals.
const OUT: destination::Naming = destination::Naming {
    flag: "--out ",
    example: "agents.json",
};

/// Write through a temporary file created next to the target (`O_EXCL`, an
/// unpredictable name) and renamed over it, so an interrupted export never leaves a
/// half-written file where a good one was. Without `--force` the rename refuses to
/// replace a file that appeared in the meantime.
fn write_atomically(shown: &Path, target: &Destination, text: &str) -> Result<(), CliError> {
    let fail = |e: &dyn std::fmt::Display| {
        CliError::failure(format!(
            "cannot write {}: {e}",
            escape_controls(&shown.display().to_string())
        ))
    };
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
    let mut tmp = builder.tempfile_in(dir).map_err(|e| fail(&e))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.write_all(b"\n"))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| fail(&e))?;
    match &target.replaced {
        Some(permissions) => {
            tmp.as_file()
                .set_permissions(permissions.clone())
                .map_err(|e| fail(&e))?;
            tmp.persist(&target.file).map_err(|e| fail(&e.error))?;
        }
        None => {
            tmp.persist_noclobber(&target.file).map_err(|e| {
                if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    destination::exists(shown)
                } else {
                    fail(&e.error)
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
