//! The `ProviderExecutor` kit: the behaviour every provider kind must show, whatever
//! it talks to — it answers; it returns within the request's timeout as `timeout`
//! (INV-PROV-TIME-001); a call that times out or is cancelled by dropping its future
//! leaves nothing running (INV-PROV-KILL-001); every failure is reported as the
//! port's class for it, retryable exactly for rate limits, server and network errors
//! (INV-PROV-ERR-001); an id it does not know is `not_found`.
//!
//! A provider kind joins with one macro call in its adapter's tests, giving an async
//! factory that stages a provider behaving as asked (a script told to hang, a fake
//! server told to answer 429, a mock configured to fail ...):
//!
//! ```ignore
//! ax_discussion_domain::provider_executor_conformance!(|behaviour: Behaviour| async move {
//!     let fake = FakeServer::start(behaviour).await;
//!     Staged::new(Arc::new(my_executor_for(&fake)), "fake")
//!         .with_outside_work(fake.open_connections_counter())
//!         .with_guard(fake)
//! });
//! ```
//!
//! The kit watches two kinds of leftover work after a call ends: tasks on the Tokio
//! runtime (any kind), and whatever the staging reports through
//! [`Staged::with_outside_work`] — processes for a command provider, connections for
//! an HTTP one. A kind without outside work (the mock) leaves it unset.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::provider::{Expects, ProviderErrorKind, ProviderExecutor, ProviderRequest};

/// How a staged provider must behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Answer the prompt with some text.
    Answer,
    /// Never answer: only the request's timeout, or dropping the call, ends it. It
    /// should hold outside work while it hangs (a process, a connection) so the kit
    /// can see that work end.
    Hang,
    /// Fail the way this class of failure shows itself for the kind (an HTTP 429, a
    /// CLI printing "401 Unauthorized", a program that is not installed, ...).
    Fail(ProviderErrorKind),
}

/// The failure classes every provider kind must report as such, staged one per case.
/// (`timeout` is the timeout case's; `cancelled` is the engine's, never an adapter's.)
pub const FAILURE_KINDS: [ProviderErrorKind; 7] = [
    ProviderErrorKind::RateLimit,
    ProviderErrorKind::Server,
    ProviderErrorKind::Network,
    ProviderErrorKind::Auth,
    ProviderErrorKind::NotFound,
    ProviderErrorKind::InvalidOutput,
    ProviderErrorKind::Unknown,
];

/// A provider staged for one case.
pub struct Staged {
    /// The executor under test.
    pub executor: Arc<dyn ProviderExecutor>,
    /// The id of the staged provider on it.
    pub provider_id: String,
    outside_work: Option<Box<dyn Fn() -> usize + Send + Sync>>,
    _guard: Box<dyn Any + Send + Sync>,
}

impl Staged {
    /// `provider_id` on `executor`, with no outside work and nothing to keep alive.
    pub fn new(executor: Arc<dyn ProviderExecutor>, provider_id: impl Into<String>) -> Self {
        Self {
            executor,
            provider_id: provider_id.into(),
            outside_work: None,
            _guard: Box::new(()),
        }
    }

    /// How many units of work of this provider are alive outside the call's future
    /// right now (live processes of the call, open connections to the fake server).
    pub fn with_outside_work(mut self, count: impl Fn() -> usize + Send + Sync + 'static) -> Self {
        self.outside_work = Some(Box::new(count));
        self
    }

    /// Something to keep alive until the case ends (a temporary directory, a server).
    pub fn with_guard(mut self, guard: impl Any + Send + Sync) -> Self {
        self._guard = Box::new(guard);
        self
    }

    fn request(&self, prompt: &str, timeout: Duration) -> ProviderRequest {
        ProviderRequest {
            provider_id: self.provider_id.clone(),
            prompt: prompt.to_owned(),
            expects: Expects::default(),
            system_prompt: None,
            temperature: None,
            max_tokens: None,
            timeout,
        }
    }

    fn outside_work(&self) -> usize {
        self.outside_work.as_ref().map_or(0, |count| count())
    }
}

/// Long enough for any staged answer or failure on a loaded machine.
const GENEROUS: Duration = Duration::from_secs(60);

/// The timeout the timeout case sets.
const SHORT: Duration = Duration::from_secs(2);

/// How late past its timeout a call may return: killing and reaping a process group
/// or closing a connection takes a moment, more on a busy machine.
const LATE: Duration = Duration::from_secs(3);

/// Waits (bounded, ~10 s) until `done` holds; returns whether it did.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// INV-PROV-KILL-001: after a call has ended, none of its work is left — no outside
/// work (processes, connections) and no more runtime tasks than before it started.
async fn assert_nothing_left(staged: &Staged, tasks_before: usize, after: &str) {
    assert!(
        eventually(|| staged.outside_work() == 0).await,
        "{after}: {} unit(s) of outside work still alive",
        staged.outside_work()
    );
    assert!(
        eventually(|| alive_tasks() <= tasks_before).await,
        "{after}: {} runtime task(s) alive, {tasks_before} before the call",
        alive_tasks()
    );
}

/// The staged provider answers with text; it is listed by `providers()` and
/// available; its answer is labelled simulated exactly when its listing says so.
pub async fn answers(staged: Staged) {
    let tasks_before = alive_tasks();
    let info = staged
        .executor
        .providers()
        .into_iter()
        .find(|p| p.id == staged.provider_id)
        .unwrap_or_else(|| panic!("`{}` is not listed by providers()", staged.provider_id));
    assert!(
        staged.executor.is_available(&staged.provider_id).await,
        "a provider that answers is available"
    );
    let started = Instant::now();
    let answer = staged
        .executor
        .execute(staged.request("Which database should a small CLI tool use?", GENEROUS))
        .await
        .unwrap_or_else(|e| panic!("the staged provider should answer: {e}"));
    assert!(!answer.content.trim().is_empty(), "an empty answer");
    assert_eq!(answer.simulated, info.simulated, "simulated as listed");
    assert!(
        answer.duration <= started.elapsed(),
        "reported duration {:?} longer than the call",
        answer.duration
    );
    assert_nothing_left(&staged, tasks_before, "after an answer").await;
}

/// A provider id the executor does not know is `not_found` (not retryable), names
/// that id, and is not available.
pub async fn an_unknown_provider_is_not_found(staged: Staged) {
    let ghost = format!("{}-that-is-not-configured", staged.provider_id);
    let mut request = staged.request("hello", GENEROUS);
    request.provider_id.clone_from(&ghost);
    let error = staged
        .executor
        .execute(request)
        .await
        .expect_err("an unknown provider cannot answer");
    assert_eq!(error.kind, ProviderErrorKind::NotFound, "{error}");
    assert_eq!(error.provider_id, ghost);
    assert!(!error.retryable);
    assert!(!staged.executor.is_available(&ghost).await);
}

/// INV-PROV-TIME-001 and INV-PROV-KILL-001: a provider that never answers returns
/// `timeout` (not retryable) close to the request's timeout — not before most of it
/// has passed, not long after — and leaves nothing running.
pub async fn honours_the_timeout(staged: Staged) {
    let tasks_before = alive_tasks();
    let started = Instant::now();
    // Bounded here too, so a provider ignoring its timeout fails the case, not hangs it.
    let outcome = tokio::time::timeout(
        SHORT + LATE * 2,
        staged
            .executor
            .execute(staged.request("Will you answer?", SHORT)),
    )
    .await
    .unwrap_or_else(|_| panic!("no return within {:?} of a {SHORT:?} timeout", LATE * 2));
    let error = outcome.expect_err("a hanging provider cannot answer");
    let elapsed = started.elapsed();
    assert_eq!(error.kind, ProviderErrorKind::Timeout, "{error}");
    assert_eq!(error.provider_id, staged.provider_id);
    assert!(!error.retryable, "a timeout is not retried: {error:?}");
    assert!(
        elapsed >= SHORT.mul_f64(0.9),
        "gave up after {elapsed:?}, before its timeout of {SHORT:?}"
    );
    assert!(
        elapsed <= SHORT + LATE,
        "returned after {elapsed:?}, its timeout was {SHORT:?}"
    );
    assert_nothing_left(&staged, tasks_before, "after a timeout").await;
}

/// INV-PROV-KILL-001: dropping a running call's future — how the engine cancels —
/// stops all its work.
pub async fn cancellation_leaves_nothing_running(staged: Staged) {
    let tasks_before = alive_tasks();
    let mut call = Box::pin(
        staged
            .executor
            .execute(staged.request("Will you answer?", GENEROUS)),
    );
    // Run the call until its outside work has started (or, for a kind with none, a
    // moment), then cancel it.
    let running = async {
        if staged.outside_work.is_some() {
            while staged.outside_work() == 0 {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        } else {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::select! {
        outcome = &mut call => panic!("the hanging provider returned: {outcome:?}"),
        () = running => {}
        () = tokio::time::sleep(GENEROUS) => panic!("the call's outside work never started"),
    }
    drop(call);
    assert_nothing_left(&staged, tasks_before, "after the call was dropped").await;
}

/// INV-PROV-ERR-001: a provider staged to fail as `kind` reports `kind`, names
/// itself, says why, is retryable exactly for rate limits, server and network
/// errors, and leaves nothing running.
pub async fn fails_as(staged: Staged, kind: ProviderErrorKind) {
    let tasks_before = alive_tasks();
    let error = staged
        .executor
        .execute(staged.request("hello", GENEROUS))
        .await
        .expect_err("the staged provider should fail");
    assert_eq!(error.kind, kind, "{error}");
    assert_eq!(error.provider_id, staged.provider_id);
    assert!(!error.message.trim().is_empty(), "a failure says why");
    let retryable = matches!(
        kind,
        ProviderErrorKind::RateLimit | ProviderErrorKind::Server | ProviderErrorKind::Network
    );
    assert_eq!(error.retryable, retryable, "{error:?}");
    assert_nothing_left(&staged, tasks_before, "after a failure").await;
}

/// Generates one `#[tokio::test]` per case of the `ProviderExecutor` kit for a
/// provider kind.
///
/// `$stage` is an expression callable with a
/// [`Behaviour`](crate::conformance::provider::Behaviour) returning a future of
/// [`Staged`](crate::conformance::provider::Staged). Every case and every failure
/// class of [`FAILURE_KINDS`](crate::conformance::provider::FAILURE_KINDS) is staged,
/// so the kind must be able to show each.
#[macro_export]
macro_rules! provider_executor_conformance {
    ($stage:expr) => {
        $crate::provider_executor_conformance!(@case $stage; answers, Answer);
        $crate::provider_executor_conformance!(@case $stage; an_unknown_provider_is_not_found, Answer);
        $crate::provider_executor_conformance!(@case $stage; honours_the_timeout, Hang);
        $crate::provider_executor_conformance!(@case $stage; cancellation_leaves_nothing_running, Hang);
        $crate::provider_executor_conformance!(@fails $stage;
            fails_as_rate_limit: RateLimit,
            fails_as_server: Server,
            fails_as_network: Network,
            fails_as_auth: Auth,
            fails_as_not_found: NotFound,
            fails_as_invalid_output: InvalidOutput,
            fails_as_unknown: Unknown
        );
    };
    (@case $stage:expr; $case:ident, $behaviour:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let staged =
                ($stage)($crate::conformance::provider::Behaviour::$behaviour).await;
            $crate::conformance::provider::$case(staged).await;
        }
    };
    (@fails $stage:expr; $($name:ident: $kind:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let kind = $crate::provider::ProviderErrorKind::$kind;
                let staged =
                    ($stage)($crate::conformance::provider::Behaviour::Fail(kind)).await;
                $crate::conformance::provider::fails_as(staged, kind).await;
            }
        )*
        /// The macro stages every class the kit requires.
        #[test]
        fn every_failure_kind_is_staged() {
            let staged = [$($crate::provider::ProviderErrorKind::$kind),*];
            assert_eq!(staged, $crate::conformance::provider::FAILURE_KINDS);
        }
    };
}
