//! The mock provider: deterministic, labelled-as-simulated answers with configurable
//! latency and failure modes. It backs the offline demo (`ax discuss` with no real
//! provider), the engine's tests and the benchmarks, so it must be cheap (no sleep or
//! timer at zero latency), honest (`simulated: true` and a visible `[simulated]`
//! marker) and able to fail in every way a real provider does.

pub mod answers;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ax_discussion_domain::provider::{
    ProviderError, ProviderErrorKind, ProviderRequest, ProviderResponse,
};

use crate::config::values::{Human, Name, Ranged, named};
use crate::duration::format_duration;
use crate::kind::{Kind, Live, Missing};

ax_contracts::wire_enum! {
    /// How a mock provider behaves (`mode` in `config.toml`).
    pub enum MockMode {
        /// Answers after `latency`.
        Ok = "ok",
        /// Fails every call with `fail_kind` (default `unknown`).
        Fail = "fail",
        /// Never answers; only the request timeout (or dropping the call) ends it.
        Hang = "hang",
        /// Answers with labelled junk that contains none of the requested format.
        Garbage = "garbage",
        /// Answers correctly, but only after `latency` (30 s when no latency is set) —
        /// for exercising timeouts and progress display.
        Slow = "slow",
    }
}

named! { MockMode => "mode" }

/// A mock provider's keys in `config.toml`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockSection {
    latency: Option<Human>,
    mode: Option<Name<MockMode>>,
    fail_first: Option<Ranged<0, 1_000_000>>,
    fail_kind: Option<Name<ProviderErrorKind>>,
    retry_after: Option<Human>,
}

/// The `mock` kind: simulated answers, labelled so.
#[derive(Debug)]
pub struct MockKind;

impl Kind for MockKind {
    type Section = MockSection;
    type Spec = MockSpec;
    const SIMULATED: bool = true;

    fn resolve(base: Option<MockSpec>, section: MockSection) -> Result<MockSpec, Missing> {
        let mut spec = base.unwrap_or_default();
        if let Some(Human(latency)) = section.latency {
            spec.latency = latency;
        }
        if let Some(Name(mode)) = section.mode {
            spec.mode = mode;
        }
        if let Some(count) = section.fail_first {
            spec.fail_first = count.count() as u64;
        }
        if let Some(Name(kind)) = section.fail_kind {
            spec.fail_kind = Some(kind);
        }
        if let Some(Human(delay)) = section.retry_after {
            spec.retry_after = Some(delay);
        }
        Ok(spec)
    }

    fn describe(spec: &MockSpec) -> String {
        spec.describe()
    }

    fn build(id: &str, spec: &MockSpec) -> Result<Box<dyn Live>, String> {
        Ok(Box::new(MockProvider::new(id, spec.clone())))
    }
}

#[async_trait::async_trait]
impl Live for MockProvider {
    async fn execute(&self, request: &ProviderRequest) -> Result<ProviderResponse, ProviderError> {
        MockProvider::execute(self, request).await
    }
}

/// Latency of `slow` mode when no latency is configured.
pub const DEFAULT_SLOW_LATENCY: Duration = Duration::from_secs(30);

/// A resolved mock provider.
#[derive(Debug, Clone, PartialEq)]
pub struct MockSpec {
    /// Time before each answer (or failure).
    pub latency: Duration,
    /// Behaviour.
    pub mode: MockMode,
    /// The first N calls fail with `fail_kind` (default `rate_limit`), later ones
    /// follow `mode` — a provider that recovers, for retry demos and tests.
    pub fail_first: u64,
    /// The class of the simulated failures.
    pub fail_kind: Option<ProviderErrorKind>,
    /// The `retry_after` attached to simulated failures.
    pub retry_after: Option<Duration>,
}

impl Default for MockSpec {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            mode: MockMode::Ok,
            fail_first: 0,
            fail_kind: None,
            retry_after: None,
        }
    }
}

impl MockSpec {
    /// A well-behaved mock answering after `latency`.
    pub fn with_latency(latency: Duration) -> Self {
        Self {
            latency,
            ..Self::default()
        }
    }

    /// One line for `ax providers list`.
    pub fn describe(&self) -> String {
        let mut line = format!(
            "simulated answers (no model), latency {}",
            format_duration(self.latency)
        );
        if self.mode != MockMode::Ok {
            line.push_str(&format!(", mode {}", self.mode.as_str()));
        }
        if self.fail_first > 0 {
            line.push_str(&format!(", first {} calls fail", self.fail_first));
        }
        line
    }
}

/// A deterministic provider that never calls a model.
#[derive(Debug)]
pub struct MockProvider {
    id: String,
    spec: MockSpec,
    calls: AtomicU64,
}

impl MockProvider {
    /// A mock named `id`.
    pub fn new(id: impl Into<String>, spec: MockSpec) -> Self {
        Self {
            id: id.into(),
            spec,
            calls: AtomicU64::new(0),
        }
    }

    /// The provider id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its behaviour.
    pub fn spec(&self) -> &MockSpec {
        &self.spec
    }

    /// Answers one prompt as configured. Honours `request.timeout` like a real
    /// provider: a hang or a latency past it ends in a `timeout` error
    /// (INV-PROV-TIME-001).
    pub async fn execute(
        &self,
        request: &ProviderRequest,
    ) -> Result<ProviderResponse, ProviderError> {
        let started = Instant::now();
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        let failing_first = call < self.spec.fail_first;
        let wait = match self.spec.mode {
            MockMode::Hang if !failing_first => None,
            MockMode::Slow if self.spec.latency.is_zero() => Some(DEFAULT_SLOW_LATENCY),
            _ => Some(self.spec.latency),
        };
        match wait {
            // The common benchmark path: no timer at all.
            Some(latency) if latency.is_zero() => {}
            Some(latency) if latency < request.timeout => tokio::time::sleep(latency).await,
            _ => {
                let limit = request.timeout;
                if let Some(latency) = wait {
                    tokio::time::sleep(limit.min(latency)).await;
                } else {
                    tokio::time::sleep(limit).await;
                }
                return Err(ProviderError::timed_out(
                    self.id.clone(),
                    limit,
                    Some("a simulated provider"),
                ));
            }
        }
        if failing_first {
            let kind = self.spec.fail_kind.unwrap_or(ProviderErrorKind::RateLimit);
            return Err(self.failure(
                kind,
                format!(
                    "simulated {} on call {} of the first {}",
                    kind.as_str(),
                    call + 1,
                    self.spec.fail_first
                ),
            ));
        }
        let content = match self.spec.mode {
            MockMode::Fail => {
                let kind = self.spec.fail_kind.unwrap_or(ProviderErrorKind::Unknown);
                return Err(self.failure(kind, format!("simulated {} failure", kind.as_str())));
            }
            MockMode::Garbage => answers::garbage(&self.id, &request.prompt),
            MockMode::Ok | MockMode::Slow | MockMode::Hang => answers::answer(
                &self.id,
                request.system_prompt.as_deref(),
                &request.prompt,
                request.expects,
            ),
        };
        Ok(ProviderResponse {
            input_tokens: Some(
                estimate_tokens(&request.prompt)
                    + request.system_prompt.as_deref().map_or(0, estimate_tokens),
            ),
            output_tokens: Some(estimate_tokens(&content)),
            content,
            duration: started.elapsed(),
            simulated: true,
        })
    }

    fn failure(&self, kind: ProviderErrorKind, message: String) -> ProviderError {
        let mut error = ProviderError::new(self.id.clone(), kind, message);
        if let Some(delay) = self.spec.retry_after {
            error = error.with_retry_after(delay);
        }
        error
    }
}

/// A rough token count (4 characters per token), so cost summaries of simulated runs
/// are plausible; it is labelled simulated along with everything else.
fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}
