//! [`DiscussionEngine`]: prepares a configuration (checks names, resolves agents,
//! picks available providers, assigns roles) and runs it with one process-wide
//! [`ProviderLimiter`].

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use ax_contracts::discussion::{
    DiscussionConfig, DiscussionFailure, DiscussionResult, FailedProvider, ParticipantKind,
    Pattern, Role, limits,
};
use ax_contracts::error::ErrorCode;
use ax_contracts::parse::Valid;
use futures::future::join_all;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::call::Tree;
use crate::limiter::ProviderLimiter;
use crate::participants::{ParticipantResolver, Speaker};
use crate::progress::ProgressSink;
use crate::provider::{
    ProviderError, ProviderErrorKind, ProviderExecutor, ProviderInfo, ProviderRequest,
    ProviderResponse,
};
use crate::retry::{Jitter, RetryPolicy};
use crate::run::{Deadline, RunSpec, run_discussion};
use crate::state::Plan;

/// Most disputed points settled in sub-discussions per discussion.
const MAX_SUB_DISCUSSIONS: usize = 3;

/// How one run is controlled from outside.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Cancel to stop the discussion: queued calls do not start, running calls are
    /// dropped (their adapters kill their processes), and the result comes back with
    /// the rounds so far and `DISCUSSION_CANCELLED`.
    pub cancel: CancellationToken,
    /// Wall-time limit of the whole discussion; reaching it acts like cancellation.
    pub deadline: Option<Duration>,
    /// Where progress events go.
    pub progress: ProgressSink,
    /// The id to use (e.g. announced to an MCP client before the run); default: a
    /// fresh UUID v7.
    pub discussion_id: Option<String>,
}

/// The providers a discussion uses when its configuration names none, and why. The
/// CLI's `ax providers list` prints this, so what it shows is exactly what a
/// discussion would run (one rule, in [`DiscussionEngine::default_providers`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultSelection {
    /// Provider ids, in the configured order, at most six.
    pub providers: Vec<String>,
    /// True when any of them is a mock provider: the discussion's answers would be
    /// simulated, and the CLI must say so.
    pub simulated: bool,
    /// One sentence explaining the choice, for people.
    pub reason: String,
}

/// A configuration checked against the configured providers and agents, ready to run.
#[derive(Debug, Clone)]
pub struct PreparedDiscussion {
    /// The configuration.
    pub config: DiscussionConfig,
    /// The speakers that will take part, in speaking order, with roles.
    pub speakers: Vec<Speaker>,
    /// Speakers that cannot take part (provider not available, agent without an
    /// available provider); reported in `failedProviders`.
    pub unavailable: Vec<FailedProvider>,
}

/// The discussion engine. Cheap to clone; every clone shares the limiter.
#[derive(Clone)]
pub struct DiscussionEngine {
    executor: Arc<dyn ProviderExecutor>,
    limiter: ProviderLimiter,
    jitter: Arc<Jitter>,
    synthesizer_preference: Arc<[String]>,
}

impl std::fmt::Debug for DiscussionEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscussionEngine")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl DiscussionEngine {
    /// An engine calling `executor` through `limiter` — the process's one limiter.
    pub fn new(executor: Arc<dyn ProviderExecutor>, limiter: ProviderLimiter) -> Self {
        Self {
            executor,
            limiter,
            jitter: Arc::new(Jitter::default()),
            synthesizer_preference: Arc::new([]),
        }
    }

    /// Provider ids preferred as synthesizer when a discussion names none, best first;
    /// speakers not listed follow in speaking order (the default: speaking order only).
    /// Why a fixed preference: the same discussion should be synthesized by the same
    /// provider run after run. Which ids those are is the composition root's choice —
    /// the domain knows no provider by name.
    pub fn with_synthesizer_preference(mut self, ids: impl IntoIterator<Item = String>) -> Self {
        self.synthesizer_preference = ids.into_iter().collect();
        self
    }

    /// One call made the way a discussion makes it — through this engine's limiter
    /// (INV-DISC-RATE-001) and held to `request.timeout` by the same code
    /// ([`crate::provider::within_time_limit`]) — for `ax providers check`, which must
    /// not grow a call path of its own.
    pub async fn probe(&self, request: ProviderRequest) -> Result<ProviderResponse, ProviderError> {
        let scope = self.limiter.scope(None);
        let _permit = scope.acquire(&request.provider_id).await.map_err(|e| {
            ProviderError::new(
                request.provider_id.clone(),
                ProviderErrorKind::Cancelled,
                e.to_string(),
            )
        })?;
        crate::provider::within_time_limit(self.executor.as_ref(), request).await
    }

    /// The limiter every call of this engine goes through.
    pub fn limiter(&self) -> &ProviderLimiter {
        &self.limiter
    }

    /// The provider port.
    pub fn executor(&self) -> &Arc<dyn ProviderExecutor> {
        &self.executor
    }

    /// The providers a discussion would use now if it named none — the same choice
    /// [`DiscussionEngine::prepare`] makes, from the same availability checks. The
    /// available providers, in the configured order, at most six:
    /// 1. at least two real providers: those — a machine with real providers never
    ///    gets simulated answers mixed in unasked;
    /// 2. otherwise at least two mock providers: those, flagged simulated — so a
    ///    discussion works offline and says so, rather than pairing one real answer
    ///    with simulated ones;
    /// 3. otherwise whatever is available, real first (flagged simulated if a mock is
    ///    among them); fewer than two makes the discussion fail with
    ///    `DISCUSSION_INSUFFICIENT_PROVIDERS`.
    pub async fn default_providers(&self) -> DefaultSelection {
        let infos = self.executor.providers();
        let available = self.availability(&infos).await;
        default_selection(&infos, &|id| available.get(id).copied().unwrap_or(false))
    }

    /// Check a parsed `config` against the providers and agents that exist, and
    /// decide who speaks. Errors are input errors (`DISCUSSION_PROVIDER_NOT_FOUND`,
    /// `AGENT_NOT_FOUND`); unavailable providers are not errors here — the run reports
    /// them as failed. The contract's own rules were checked by the one parser that
    /// built the [`Valid`] value, so nothing here checks them again.
    pub async fn prepare(
        &self,
        config: Valid<DiscussionConfig>,
        resolver: &dyn ParticipantResolver,
    ) -> Result<PreparedDiscussion, DiscussionFailure> {
        let config = config.into_inner();
        let infos = self.executor.providers();
        let known = |id: &str| infos.iter().any(|p| p.id == id);
        let not_found = |id: &str| {
            let names: Vec<&str> = infos.iter().map(|p| p.id.as_str()).collect();
            DiscussionFailure::new(
                ErrorCode::DiscussionProviderNotFound,
                format!(
                    "provider \"{id}\" is not configured (configured: {})",
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            )
        };
        for id in config.providers.iter().flatten() {
            if !known(id) {
                return Err(not_found(id));
            }
        }
        let mut personas = Vec::new();
        for p in &config.participants {
            match p.kind {
                ParticipantKind::Provider if !known(&p.id) => return Err(not_found(&p.id)),
                ParticipantKind::Provider => {}
                ParticipantKind::Agent => match resolver.resolve_agent(&p.id).await {
                    Ok(Some(persona)) => personas.push(persona),
                    Ok(None) => {
                        return Err(DiscussionFailure::new(
                            ErrorCode::AgentNotFound,
                            format!("agent \"{}\" is not registered (or is disabled)", p.id),
                        ));
                    }
                    Err(e) => {
                        return Err(DiscussionFailure::new(
                            ErrorCode::InternalError,
                            e.to_string(),
                        ));
                    }
                },
            }
        }

        let available = self.availability(&infos).await;
        let is_up = |id: &str| available.get(id).copied().unwrap_or(false);
        let unavailable_msg = "not available (not installed, not logged in or not reachable)";
        let mut speakers = Vec::new();
        let mut unavailable = Vec::new();
        let add_provider =
            |id: &str, speakers: &mut Vec<Speaker>, unavailable: &mut Vec<FailedProvider>| {
                if is_up(id) {
                    speakers.push(Speaker::provider(id));
                } else {
                    unavailable.push(FailedProvider {
                        provider: id.to_owned(),
                        code: ProviderErrorKind::NotFound.into(),
                        message: self
                            .executor
                            .explain_unavailable(id)
                            .map(|why| format!("not available: {why}"))
                            .unwrap_or_else(|| unavailable_msg.to_owned()),
                    });
                }
            };
        match &config.providers {
            Some(list) => list
                .iter()
                .for_each(|id| add_provider(id, &mut speakers, &mut unavailable)),
            None if config.participants.is_empty() => {
                for id in default_selection(&infos, &is_up).providers {
                    speakers.push(Speaker::provider(id));
                }
            }
            None => {}
        }
        // Where an agent may speak when its preferences do not decide: the available
        // real providers, then the default selection (the mocks when nothing real is up).
        let mut candidates: Vec<String> = infos
            .iter()
            .filter(|p| !p.simulated && is_up(&p.id))
            .map(|p| p.id.clone())
            .collect();
        for id in default_selection(&infos, &is_up).providers {
            if !candidates.contains(&id) {
                candidates.push(id);
            }
        }
        let mut personas = personas.into_iter();
        for p in &config.participants {
            match p.kind {
                ParticipantKind::Provider => add_provider(&p.id, &mut speakers, &mut unavailable),
                ParticipantKind::Agent => {
                    // Resolved in the same order above.
                    let Some(persona) = personas.next() else {
                        continue;
                    };
                    let via = persona.route(&|id| known(id) && is_up(id), &candidates);
                    match via {
                        Some(provider) => speakers.push(Speaker::agent(
                            &persona,
                            provider,
                            config.agent_weight_multiplier,
                        )),
                        None => unavailable.push(FailedProvider {
                            provider: persona.agent_id.clone(),
                            code: ProviderErrorKind::NotFound.into(),
                            message: if persona.preferred_providers.is_empty() {
                                "no provider is available to speak through".to_owned()
                            } else {
                                format!(
                                    "none of the agent's preferred providers ({}) is available \
                                     (fallbackStrategy: {})",
                                    persona.preferred_providers.join(", "),
                                    persona.fallback.as_str()
                                )
                            },
                        }),
                    }
                }
            }
        }

        if let Some(name) = &config.consensus.synthesizer
            && !speakers.iter().any(|s| &s.id == name)
            && !known(name)
        {
            return Err(not_found(name));
        }
        let ids: Vec<String> = speakers
            .iter()
            .map(|s| s.id.clone())
            .chain(unavailable.iter().map(|u| u.provider.clone()))
            .collect();
        for key in config.provider_prompts.keys() {
            if !ids.contains(key) {
                return Err(DiscussionFailure::new(
                    ErrorCode::DiscussionInvalidConfig,
                    format!("providerPrompts names \"{key}\", which does not take part"),
                ));
            }
        }
        assign_roles(&config, &mut speakers, &ids)?;
        Ok(PreparedDiscussion {
            config,
            speakers,
            unavailable,
        })
    }

    async fn availability(&self, infos: &[ProviderInfo]) -> HashMap<String, bool> {
        let checks = infos
            .iter()
            .map(|p| async move { (p.id.clone(), self.executor.is_available(&p.id).await) });
        join_all(checks).await.into_iter().collect()
    }

    /// Run a prepared discussion. Never fails: problems are reported in the result
    /// (`success: false`, `error`), with the rounds completed so far.
    pub async fn run(&self, prepared: PreparedDiscussion, options: RunOptions) -> DiscussionResult {
        let config = &prepared.config;
        let rec = &config.recursive;
        let now = Instant::now();
        let tree = Arc::new(Tree {
            executor: Arc::clone(&self.executor),
            scope: self
                .limiter
                .scope(config.max_concurrent_provider_calls.map(|n| n as usize)),
            retry: RetryPolicy::default(),
            jitter: Arc::clone(&self.jitter),
            progress: options.progress.clone(),
            calls_started: AtomicU32::new(0),
            max_total_calls: rec.enabled.then_some(rec.max_total_calls),
            synthesizer_preference: self.synthesizer_preference.to_vec(),
            max_sub_discussions: MAX_SUB_DISCUSSIONS,
            provider_timeouts: self
                .executor
                .providers()
                .into_iter()
                .filter_map(|p| Some((p.id, p.default_timeout?)))
                .collect(),
        });
        let spec = RunSpec {
            discussion_id: options
                .discussion_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
            depth: 0,
            cancel: options.cancel.clone(),
            deadline: options.deadline.map(|d| Deadline {
                at: now + d,
                failure: DiscussionFailure::new(
                    ErrorCode::DiscussionCancelled,
                    format!(
                        "the discussion's deadline of {:.0} s was reached",
                        d.as_secs_f64()
                    ),
                ),
            }),
            tree_deadline: rec
                .enabled
                .then_some(rec.total_budget_ms)
                .flatten()
                .map(|ms| now + Duration::from_millis(ms)),
            unavailable: prepared.unavailable,
        };
        run_discussion(tree, Plan::new(prepared.config, prepared.speakers), spec).await
    }
}

/// The default-provider rule of [`DiscussionEngine::default_providers`], in one place
/// so that `prepare` (what runs) and `default_providers` (what `ax providers list`
/// shows) cannot drift apart.
fn default_selection(infos: &[ProviderInfo], is_up: &dyn Fn(&str) -> bool) -> DefaultSelection {
    let min = limits::MIN_PROVIDERS_LISTED;
    let (up, down): (Vec<&ProviderInfo>, Vec<&ProviderInfo>) =
        infos.iter().partition(|p| is_up(&p.id));
    let real: Vec<&ProviderInfo> = up.iter().copied().filter(|p| !p.simulated).collect();
    let mock: Vec<&ProviderInfo> = up.iter().copied().filter(|p| p.simulated).collect();
    let names = |list: &[&ProviderInfo]| {
        list.iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let chosen: Vec<&ProviderInfo> = if real.len() >= min {
        real.clone()
    } else if mock.len() >= min {
        mock.clone()
    } else {
        real.iter().chain(&mock).copied().collect()
    };
    let chosen: Vec<&ProviderInfo> = chosen.into_iter().take(limits::MAX_SPEAKERS).collect();
    let simulated = chosen.iter().any(|p| p.simulated);
    let missing: Vec<&ProviderInfo> = down.into_iter().filter(|p| !p.simulated).collect();
    let not_available = if missing.is_empty() {
        String::new()
    } else {
        format!(" ({} not available)", names(&missing))
    };
    let reason = if real.len() >= min {
        let extra = if real.len() > chosen.len() {
            format!(" (the first {} of {} available)", chosen.len(), real.len())
        } else {
            String::new()
        };
        format!("using the available providers: {}{extra}", names(&chosen))
    } else if chosen.len() < min {
        format!(
            "a discussion needs two providers and only {} {} available{not_available}",
            chosen.len(),
            if chosen.len() == 1 { "is" } else { "are" }
        )
    } else if real.is_empty() {
        format!("no real provider is available{not_available}; using simulated mock providers")
    } else if mock.len() >= min {
        format!(
            "only one real provider ({}) is available and a discussion needs two; using simulated mock providers",
            names(&real)
        )
    } else {
        format!(
            "only one real provider ({}) and one mock provider are available; using both, so part of the answers is simulated",
            names(&real)
        )
    };
    DefaultSelection {
        providers: chosen.iter().map(|p| p.id.clone()).collect(),
        simulated,
        reason,
    }
}

/// Give speakers their roles. A debate without configured roles gets proponent,
/// opponent, judge in speaking order, and further speakers alternate proponent and
/// opponent so that everyone argues.
fn assign_roles(
    config: &DiscussionConfig,
    speakers: &mut [Speaker],
    ids: &[String],
) -> Result<(), DiscussionFailure> {
    let invalid =
        |message: String| DiscussionFailure::new(ErrorCode::DiscussionInvalidRoles, message);
    for key in config.roles.keys() {
        if !ids.contains(key) {
            return Err(invalid(format!(
                "roles names \"{key}\", which does not take part"
            )));
        }
    }
    if config.pattern == Pattern::Debate && config.roles.is_empty() {
        for (i, s) in speakers.iter_mut().enumerate() {
            s.role = Some(match i {
                0 => Role::Proponent,
                1 => Role::Opponent,
                2 => Role::Judge,
                n if n % 2 == 1 => Role::Proponent,
                _ => Role::Opponent,
            });
        }
        return Ok(());
    }
    for s in speakers.iter_mut() {
        s.role = config
            .roles
            .get(&s.id)
            .copied()
            .or((config.pattern == Pattern::Debate).then_some(Role::Neutral));
    }
    if config.pattern == Pattern::Debate {
        for needed in [Role::Proponent, Role::Opponent] {
            if !speakers.iter().any(|s| s.role == Some(needed)) && speakers.len() >= 2 {
                return Err(invalid(format!(
                    "a debate needs an available {needed}; none of the speakers has that role"
                )));
            }
        }
    }
    Ok(())
}
