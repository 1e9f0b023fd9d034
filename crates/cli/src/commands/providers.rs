//! `ax providers [list|check]`: which providers are configured, installed, answering.

use std::time::{Duration, Instant};

use ax_contracts::provider::{
    DefaultParticipants, LimitInForce, ProviderCheck, ProviderChecks, ProviderList, ProviderStatus,
};
use ax_discussion_domain::provider::{Expects, ProviderExecutor, ProviderRequest};

use crate::app::{App, Discussions};
use crate::args::{ProvidersAction, ProvidersArgs};
use crate::error::{CliError, Exit};
use crate::output::Out;

/// The prompt `ax providers check` sends: tiny, so the check is cheap.
const CHECK_PROMPT: &str = "This is a connectivity check. Reply with the single word: READY";

/// Run `ax providers`.
pub async fn run(app: &App, args: ProvidersArgs, out: Out) -> Result<Exit, CliError> {
    let wiring = app.discussions(None)?;
    match args.action.unwrap_or(ProvidersAction::List) {
        ProvidersAction::List => list(&wiring, out).await,
        ProvidersAction::Check { providers, timeout } => {
            check(&wiring, providers, timeout, out).await
        }
    }
}

/// One row per configured provider: id, kind, availability (and why not), what it runs.
pub fn provider_rows(wiring: &Discussions) -> Vec<ProviderStatus> {
    wiring
        .providers
        .providers()
        .into_iter()
        .map(|info| ProviderStatus {
            available: wiring.providers.is_available_now(&info.id),
            unavailable_reason: wiring.providers.unavailable_reason(&info.id),
            id: info.id,
            kind: info.kind,
            simulated: info.simulated,
            max_concurrent: info.max_concurrent,
            description: info.description,
        })
        .collect()
}

/// The limit in force, as reported.
pub fn limit_in_force(wiring: &Discussions) -> LimitInForce {
    LimitInForce {
        value: wiring.limit.value,
        source: wiring.limit.source.to_owned(),
    }
}

async fn list(wiring: &Discussions, out: Out) -> Result<Exit, CliError> {
    let rows = provider_rows(wiring);
    // Asked of the engine, whose rule is the one a discussion runs with.
    let defaults = wiring.service.engine().default_providers().await;
    if out.json() {
        out.print_json(&ProviderList {
            providers: rows,
            max_concurrent_provider_calls: limit_in_force(wiring),
            default_participants: DefaultParticipants {
                providers: defaults.providers,
                simulated: defaults.simulated,
                reason: defaults.reason,
            },
        })?;
        return Ok(Exit::Ok);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let available = if r.available {
                out.green("yes")
            } else {
                out.dim("no")
            };
            let kind = if r.simulated {
                "mock (simulated)".to_owned()
            } else {
                r.kind.to_string()
            };
            vec![r.id.clone(), kind, available, r.description.clone()]
        })
        .collect();
    out.table(
        &["PROVIDER", "KIND", "AVAILABLE", "RUNS"],
        &table,
        &[20, 16, 9, 80],
    )?;
    // Why an installed program cannot be used, in full (the table cuts long cells).
    for r in rows.iter().filter(|r| !r.available) {
        if let Some(reason) = &r.unavailable_reason {
            out.line(&format!(
                "{}: {}",
                r.id,
                crate::text::escape_controls(reason)
            ))?;
        }
    }
    out.line("")?;
    out.line(&format!(
        "provider calls in flight at most: {} ({})",
        wiring.limit.value, wiring.limit.source
    ))?;
    out.line(&format!(
        "a discussion without --providers uses: {} — {}",
        defaults.providers.join(", "),
        defaults.reason
    ))?;
    Ok(Exit::Ok)
}

async fn check(
    wiring: &Discussions,
    only: Vec<String>,
    timeout: Duration,
    out: Out,
) -> Result<Exit, CliError> {
    let known: Vec<String> = wiring
        .providers
        .providers()
        .into_iter()
        .map(|p| p.id)
        .collect();
    if let Some(unknown) = only.iter().find(|id| !known.contains(id)) {
        return Err(
            CliError::usage(format!("no provider named \"{unknown}\" is configured"))
                .hint("`ax providers list` shows them"),
        );
    }
    let ids: Vec<String> = if only.is_empty() {
        known
            .into_iter()
            .filter(|id| wiring.providers.is_available_now(id))
            .collect()
    } else {
        only
    };
    // Every check is one call made as a discussion makes it: through the engine, so
    // the process-wide limiter (INV-DISC-RATE-001) and the one time-limit path hold.
    let engine = wiring.service.engine();
    let checks = ids.iter().map(|id| async move {
        let started = Instant::now();
        let request = ProviderRequest {
            provider_id: id.clone(),
            prompt: CHECK_PROMPT.to_owned(),
            expects: Expects::default(),
            system_prompt: None,
            temperature: Some(0.0),
            max_tokens: Some(16),
            timeout,
        };
        let outcome = engine
            .probe(request)
            .await
            .map_err(|err| format!("{}: {}", err.kind.as_str(), err.message));
        (id.clone(), started.elapsed(), outcome)
    });
    let results = futures::future::join_all(checks).await;
    let all_ok = results.iter().all(|(_, _, r)| r.is_ok());
    if out.json() {
        let checks = results
            .iter()
            .map(|(id, elapsed, r)| ProviderCheck {
                provider: id.clone(),
                ok: r.is_ok(),
                duration_ms: ms(*elapsed),
                simulated: r.as_ref().ok().map(|answer| answer.simulated),
                error: r.as_ref().err().cloned(),
            })
            .collect();
        out.print_json(&ProviderChecks { checks })?;
    } else if results.is_empty() {
        out.line("no provider is available to check (see `ax providers list`)")?;
    } else {
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|(id, elapsed, r)| {
                let (status, detail) = match r {
                    Ok(answer) if answer.simulated => {
                        (out.green("ok"), "simulated answer".to_owned())
                    }
                    Ok(answer) => (
                        out.green("ok"),
                        crate::output::truncate(&answer.content, 60),
                    ),
                    Err(e) => (out.red("failed"), e.clone()),
                };
                vec![
                    id.clone(),
                    status,
                    format!("{:.1} s", elapsed.as_secs_f64()),
                    detail,
                ]
            })
            .collect();
        out.table(
            &["PROVIDER", "RESULT", "TIME", "DETAIL"],
            &rows,
            &[20, 6, 8, 100],
        )?;
    }
    Ok(if all_ok { Exit::Ok } else { Exit::Failure })
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
