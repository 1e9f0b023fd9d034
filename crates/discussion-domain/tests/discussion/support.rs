//! A scriptable fake `ProviderExecutor` for the discussion tests: configurable latency
//! and failures per provider, a record of every prompt it was shown (with start and end
//! times on tokio's clock), counters of calls in flight (overall and per provider), and
//! detection of calls whose future was dropped before finishing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ax_discussion_domain::provider::{
    Expects, ProviderError, ProviderErrorKind, ProviderExecutor, ProviderInfo, ProviderKind,
    ProviderRequest, ProviderResponse,
};
use ax_discussion_domain::{DiscussionEngine, DiscussionService, InMemoryHistory, ProviderLimiter};
use tokio::time::Instant;

/// What one call does.
#[derive(Debug, Clone)]
pub enum Act {
    /// Answer this text.
    Say(String),
    /// Fail with this error.
    Fail(ProviderError),
    /// Never answer.
    Hang,
    /// Panic inside the adapter.
    Panic,
}

/// A function choosing the act from the request.
pub type Responder = Arc<dyn Fn(&ProviderRequest) -> Act + Send + Sync>;

/// One call as the fake saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub provider: String,
    pub prompt: String,
    pub expects: Expects,
    pub system_prompt: Option<String>,
    pub started: Instant,
    pub ended: Option<Instant>,
}

#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(n, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Default)]
pub struct Fake {
    infos: Vec<ProviderInfo>,
    unavailable: Mutex<HashSet<String>>,
    latency: Mutex<HashMap<String, Duration>>,
    default_latency: Mutex<Duration>,
    scripts: Mutex<HashMap<String, VecDeque<Act>>>,
    responders: Mutex<HashMap<String, Responder>>,
    seen: Mutex<Vec<Seen>>,
    gauge: Gauge,
    per_provider: Mutex<HashMap<String, Arc<Gauge>>>,
    dropped: AtomicUsize,
}

fn info(id: &str, simulated: bool) -> ProviderInfo {
    ProviderInfo {
        id: id.to_owned(),
        kind: if simulated {
            ProviderKind::Mock
        } else {
            ProviderKind::Command
        },
        description: format!("fake {id}"),
        simulated,
        max_concurrent: None,
        default_timeout: None,
    }
}

impl Fake {
    /// Real (not simulated) providers with these ids and a latency of 100 ms.
    pub fn new(ids: &[&str]) -> Arc<Self> {
        Self::with_infos(ids.iter().map(|id| info(id, false)).collect())
    }

    pub fn with_infos(infos: Vec<ProviderInfo>) -> Arc<Self> {
        let fake = Self {
            infos,
            ..Self::default()
        };
        *fake.default_latency.lock().unwrap() = Duration::from_millis(100);
        Arc::new(fake)
    }

    pub fn simulated_info(id: &str) -> ProviderInfo {
        info(id, true)
    }

    pub fn real_info(id: &str) -> ProviderInfo {
        info(id, false)
    }

    pub fn set_latency(&self, provider: &str, d: Duration) {
        self.latency.lock().unwrap().insert(provider.into(), d);
    }

    pub fn set_default_latency(&self, d: Duration) {
        *self.default_latency.lock().unwrap() = d;
    }

    pub fn set_unavailable(&self, provider: &str) {
        self.unavailable.lock().unwrap().insert(provider.into());
    }

    /// The next calls of `provider` do these acts, in order; then the responder or the
    /// default answers.
    pub fn script(&self, provider: &str, acts: Vec<Act>) {
        self.scripts
            .lock()
            .unwrap()
            .entry(provider.into())
            .or_default()
            .extend(acts);
    }

    pub fn respond(
        &self,
        provider: &str,
        f: impl Fn(&ProviderRequest) -> Act + Send + Sync + 'static,
    ) {
        self.responders
            .lock()
            .unwrap()
            .insert(provider.into(), Arc::new(f));
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn prompts_of(&self, provider: &str) -> Vec<String> {
        self.seen()
            .into_iter()
            .filter(|s| s.provider == provider)
            .map(|s| s.prompt)
            .collect()
    }

    pub fn calls_of(&self, provider: &str) -> usize {
        self.prompts_of(provider).len()
    }

    pub fn max_in_flight(&self) -> usize {
        self.gauge.max.load(Ordering::SeqCst)
    }

    pub fn in_flight(&self) -> usize {
        self.gauge.now.load(Ordering::SeqCst)
    }

    pub fn max_in_flight_of(&self, provider: &str) -> usize {
        self.per_provider
            .lock()
            .unwrap()
            .get(provider)
            .map_or(0, |g| g.max.load(Ordering::SeqCst))
    }

    /// Calls whose future was dropped before it finished (cancelled mid-run).
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }

    fn next_act(&self, req: &ProviderRequest) -> Act {
        if let Some(act) = self
            .scripts
            .lock()
            .unwrap()
            .get_mut(&req.provider_id)
            .and_then(VecDeque::pop_front)
        {
            return act;
        }
        let responder = self
            .responders
            .lock()
            .unwrap()
            .get(&req.provider_id)
            .cloned();
        match responder {
            Some(f) => f(req),
            None => Act::Say(default_answer(&req.provider_id, req)),
        }
    }
}

/// An answer in the format the request expects. Free answers differ by provider so
/// that round early exit does not trigger by accident.
pub fn default_answer(provider: &str, req: &ProviderRequest) -> String {
    let prompt = &req.prompt;
    match req.expects {
        Expects::Vote { .. } => {
            format!("VOTE: 1\nCONFIDENCE: 0.8\nREASON: {provider} prefers the first option.")
        }
        Expects::Position => "POSITION: AGREE\nREASON: it matches the discussion.".into(),
        Expects::Synthesis { .. } => format!(
            "AGREEMENTS:\n- a shared point\nDISAGREEMENTS:\n- none\nINSIGHTS:\n- none\nCONCLUSION:\n{provider} concludes the topic."
        ),
        Expects::Text { .. } => format!(
            "{provider} argues {provider}-specific reasoning number {}.",
            prompt.len()
        ),
    }
}

struct CallGuard<'a> {
    fake: &'a Fake,
    provider: Arc<Gauge>,
    index: usize,
    finished: bool,
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        self.fake.gauge.leave();
        self.provider.leave();
        if !self.finished {
            self.fake.dropped.fetch_add(1, Ordering::SeqCst);
        }
        self.fake.seen.lock().unwrap()[self.index].ended = Some(Instant::now());
    }
}

#[async_trait]
impl ProviderExecutor for Fake {
    async fn execute(&self, req: ProviderRequest) -> Result<ProviderResponse, ProviderError> {
        let index = {
            let mut seen = self.seen.lock().unwrap();
            seen.push(Seen {
                provider: req.provider_id.clone(),
                prompt: req.prompt.clone(),
                expects: req.expects,
                system_prompt: req.system_prompt.clone(),
                started: Instant::now(),
                ended: None,
            });
            seen.len() - 1
        };
        let provider_gauge = Arc::clone(
            self.per_provider
                .lock()
                .unwrap()
                .entry(req.provider_id.clone())
                .or_default(),
        );
        self.gauge.enter();
        provider_gauge.enter();
        let mut guard = CallGuard {
            fake: self,
            provider: provider_gauge,
            index,
            finished: false,
        };
        let act = self.next_act(&req);
        let latency = self
            .latency
            .lock()
            .unwrap()
            .get(&req.provider_id)
            .copied()
            .unwrap_or(*self.default_latency.lock().unwrap());
        if let Act::Hang = act {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(latency).await;
        let simulated = self
            .infos
            .iter()
            .any(|i| i.id == req.provider_id && i.simulated);
        let out = match act {
            Act::Say(content) => Ok(ProviderResponse {
                content,
                input_tokens: Some(10),
                output_tokens: Some(5),
                duration: latency,
                simulated,
            }),
            Act::Fail(e) => Err(e),
            Act::Panic => panic!("fake adapter panics on purpose"),
            Act::Hang => unreachable!("hangs above"),
        };
        guard.finished = true;
        out
    }

    async fn is_available(&self, provider_id: &str) -> bool {
        !self.unavailable.lock().unwrap().contains(provider_id)
    }

    fn providers(&self) -> Vec<ProviderInfo> {
        self.infos.clone()
    }

    fn explain_unavailable(&self, provider_id: &str) -> Option<String> {
        self.unavailable
            .lock()
            .unwrap()
            .contains(provider_id)
            .then(|| format!("`{provider_id}` is switched off in the fake"))
    }
}

pub fn fail(provider: &str, kind: ProviderErrorKind) -> Act {
    Act::Fail(ProviderError::new(
        provider,
        kind,
        format!("{} on purpose", kind.as_str()),
    ))
}

/// A service over `fake` with a limiter of `limit`, saving into the returned history.
pub fn service(
    fake: &Arc<Fake>,
    limit: usize,
) -> (DiscussionService, Arc<InMemoryHistory>, ProviderLimiter) {
    let limiter = ProviderLimiter::with_providers(limit, &fake.providers());
    let history = Arc::new(InMemoryHistory::new());
    let engine = DiscussionEngine::new(fake.clone(), limiter.clone());
    (
        DiscussionService::new(engine, history.clone()),
        history,
        limiter,
    )
}

/// A configuration from JSON (panics on invalid test input, which is a test bug).
pub fn config(
    v: serde_json::Value,
) -> ax_contracts::parse::Valid<ax_contracts::discussion::DiscussionConfig> {
    ax_contracts::discussion::DiscussionConfig::from_json(&v).expect("valid test configuration")
}
