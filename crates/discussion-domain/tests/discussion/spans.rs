//! The engine's `tracing` spans, recorded by a small `Layer`: a discussion's spans nest
//! discussion > round > provider call > attempt (and discussion > consensus > provider
//! call), carry their ids and fields, and are all closed when the discussion returns.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ax_discussion_domain::RunOptions;
use ax_discussion_domain::provider::{ProviderError, ProviderErrorKind};
use serde_json::json;
use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::support::{Act, Fake, config, service};

/// One span as the layer saw it.
#[derive(Debug, Clone)]
struct Seen {
    name: &'static str,
    /// Index of the parent span in [`Spans::all`].
    parent: Option<usize>,
    fields: BTreeMap<String, String>,
    closed: bool,
}

/// Records every span: its name, parent, fields (at creation and recorded later), and
/// whether it closed.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<SpansInner>>);

#[derive(Default)]
struct SpansInner {
    all: Vec<Seen>,
    live: HashMap<Id, usize>,
}

impl Spans {
    fn all(&self) -> Vec<Seen> {
        self.0.lock().unwrap().all.clone()
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let parent = ctx.span(id).and_then(|s| s.parent()).map(|p| p.id());
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut inner = self.0.lock().unwrap();
        let parent = parent.and_then(|p| inner.live.get(&p).copied());
        inner.all.push(Seen {
            name: attrs.metadata().name(),
            parent,
            fields,
            closed: false,
        });
        let index = inner.all.len() - 1;
        inner.live.insert(id.clone(), index);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut inner = self.0.lock().unwrap();
        if let Some(&index) = inner.live.get(id) {
            values.record(&mut Fields(&mut inner.all[index].fields));
        }
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        let mut inner = self.0.lock().unwrap();
        if let Some(index) = inner.live.remove(&id) {
            inner.all[index].closed = true;
        }
    }
}

fn assert_fields(span: &Seen, names: &[&str]) {
    for name in names {
        assert!(
            span.fields.contains_key(*name),
            "{} span lacks `{name}`: {:?}",
            span.name,
            span.fields
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_discussions_spans_nest_discussion_round_provider_call_attempt() {
    let spans = Spans::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));

    let fake = Fake::new(&["a", "b", "c"]);
    // `a` is rate limited once: its first call takes two attempts.
    fake.script(
        "a",
        vec![Act::Fail(
            ProviderError::new("a", ProviderErrorKind::RateLimit, "429")
                .with_retry_after(Duration::from_secs(1)),
        )],
    );
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({
                "topic": "T",
                "providers": ["a", "b", "c"],
                "rounds": 2,
                "roundEarlyExit": {"enabled": false},
            })),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(r.success, "{:?}", r.error);
    assert_eq!(r.rounds.len(), 2);

    let all = spans.all();
    let named = |name: &str| -> Vec<(usize, &Seen)> {
        all.iter()
            .enumerate()
            .filter(|(_, s)| s.name == name)
            .collect()
    };
    assert!(all.iter().all(|s| s.closed), "every span closed: {all:#?}");

    let discussions = named("discussion");
    assert_eq!(discussions.len(), 1, "{all:#?}");
    let (discussion, d) = discussions[0];
    assert_eq!(d.parent, None);
    assert_fields(
        d,
        &[
            "discussion_id",
            "depth",
            "pattern",
            "outcome",
            "duration_ms",
        ],
    );
    assert_eq!(d.fields["discussion_id"], r.discussion_id);
    assert_eq!(d.fields["pattern"], "synthesis");
    assert_eq!(d.fields["outcome"], "ok");

    let rounds = named("round");
    assert_eq!(rounds.len(), 2);
    for (number, (_, round)) in rounds.iter().enumerate() {
        assert_eq!(
            round.parent,
            Some(discussion),
            "a round is in its discussion"
        );
        assert_fields(
            round,
            &[
                "round",
                "calls",
                "answered",
                "failed",
                "outcome",
                "duration_ms",
            ],
        );
        assert_eq!(round.fields["round"], (number + 1).to_string());
        assert_eq!(round.fields["outcome"], "ok");
    }

    let calls = named("provider_call");
    let in_rounds: Vec<_> = calls
        .iter()
        .filter(|(_, c)| c.parent.is_some_and(|p| all[p].name == "round"))
        .collect();
    assert_eq!(in_rounds.len(), 6, "three speakers, two rounds: {all:#?}");
    for (_, call) in &calls {
        assert_fields(
            call,
            &["speaker", "provider", "attempts", "outcome", "duration_ms"],
        );
        assert_eq!(call.fields["outcome"], "ok");
    }
    // The rest are consensus calls (the synthesizer's), inside the consensus span.
    let consensus = named("consensus");
    assert_eq!(consensus.len(), 1);
    assert_eq!(consensus[0].1.parent, Some(discussion));
    assert_fields(consensus[0].1, &["method", "reached", "outcome"]);
    for (_, call) in calls
        .iter()
        .filter(|(_, c)| c.parent.is_some_and(|p| all[p].name != "round"))
    {
        assert_eq!(call.parent, Some(consensus[0].0), "{call:?}");
    }

    // `a`'s first call: two attempts, the first rate limited, both inside the call.
    let retried: Vec<_> = calls
        .iter()
        .filter(|(_, c)| c.fields["attempts"] == "2")
        .collect();
    assert_eq!(retried.len(), 1, "{calls:#?}");
    assert_eq!(retried[0].1.fields["provider"], "a");
    let attempts: Vec<_> = named("provider_attempt")
        .into_iter()
        .filter(|(_, a)| a.parent == Some(retried[0].0))
        .map(|(_, a)| (a.fields["attempt"].clone(), a.fields["outcome"].clone()))
        .collect();
    assert_eq!(
        attempts,
        [
            ("1".to_owned(), "rate_limit".to_owned()),
            ("2".to_owned(), "ok".to_owned())
        ]
    );
    for (_, attempt) in named("provider_attempt") {
        assert!(
            attempt
                .parent
                .is_some_and(|p| all[p].name == "provider_call"),
            "an attempt is inside its call"
        );
        assert_fields(attempt, &["attempt", "outcome", "duration_ms"]);
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_discussion_records_its_error_code_as_the_outcome() {
    let spans = Spans::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));

    let fake = Fake::new(&["a", "b"]);
    fake.script(
        "a",
        vec![crate::support::fail("a", ProviderErrorKind::Auth)],
    );
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b"], "fastMode": true})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    let code = r
        .error
        .as_ref()
        .expect("fails: one of two providers left")
        .code;

    let all = spans.all();
    let discussion = all.iter().find(|s| s.name == "discussion").expect("span");
    assert_eq!(discussion.fields["outcome"], code.as_str());
    let round = all.iter().find(|s| s.name == "round").expect("span");
    assert_eq!(round.fields["outcome"], code.as_str());
    assert_eq!(round.fields["failed"], "1");
    let failed_call = all
        .iter()
        .find(|s| s.name == "provider_call" && s.fields["provider"] == "a")
        .expect("span");
    assert_eq!(failed_call.fields["outcome"], "auth");
}
