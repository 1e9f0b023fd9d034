//! The shared `ProviderExecutor` kit (from `ax-discussion-domain`, feature
//! `conformance`) run against each provider kind through the registry, as the engine
//! calls them: the mock configured per behaviour, the command provider driving the
//! `scripted.sh` fixture (a real subprocess told what to do), and the
//! OpenAI-compatible provider against a fake server on loopback.

use std::sync::Arc;

use ax_discussion_domain::conformance::provider::{Behaviour, Staged};
use ax_discussion_domain::provider::{ProviderErrorKind, ProviderExecutor};

use crate::helpers::registry;

mod mock {
    use super::*;

    /// A mock configured to behave as asked; its work lives in the call's future
    /// alone, so there is no outside work to watch.
    async fn stage(behaviour: Behaviour) -> Staged {
        let mode = match behaviour {
            Behaviour::Answer => "mode = \"ok\"".to_owned(),
            Behaviour::Hang => "mode = \"hang\"".to_owned(),
            Behaviour::Fail(kind) => {
                format!("mode = \"fail\"\nfail_kind = \"{}\"", kind.as_str())
            }
        };
        let config = format!("[providers.kit]\nkind = \"mock\"\nlatency = \"0ms\"\n{mode}\n");
        Staged::new(
            Arc::new(registry(&config)) as Arc<dyn ProviderExecutor>,
            "kit",
        )
    }

    ax_discussion_domain::provider_executor_conformance!(stage);
}

mod command {
    use super::*;
    use crate::helpers::{Tag, fixture};

    /// `scripted.sh` told what to do, its processes tagged so the kit can count the
    /// ones still alive. `not_found` is a program that is not there: how a command
    /// provider meets it.
    async fn stage(behaviour: Behaviour) -> Staged {
        let tag = Tag::new();
        let config = match behaviour {
            Behaviour::Fail(ProviderErrorKind::NotFound) => format!(
                "[providers.kit]\nkind = \"command\"\ncommand = [{:?}]\n",
                tag.path("not-installed-cli").display().to_string()
            ),
            other => {
                let what = match other {
                    Behaviour::Answer => "answer",
                    Behaviour::Hang => "hang",
                    Behaviour::Fail(kind) => kind.as_str(),
                };
                format!(
                    "[providers.kit]\nkind = \"command\"\ncommand = [{:?}]\nenv = {}\n",
                    fixture("scripted.sh"),
                    tag.env(&[("AX_FAKE_BEHAVIOUR", what)])
                )
            }
        };
        let tag = Arc::new(tag);
        let counted = Arc::clone(&tag);
        Staged::new(
            Arc::new(registry(&config)) as Arc<dyn ProviderExecutor>,
            "kit",
        )
        .with_outside_work(move || counted.live_processes().len())
        .with_guard(tag)
    }

    ax_discussion_domain::provider_executor_conformance!(stage);
}

mod openai {
    use std::sync::atomic::Ordering;

    use serde_json::json;

    use super::*;
    use crate::openai::{Canned, provider_config, serve_counted};

    /// A fake OpenAI-compatible server answering every request as asked, and the
    /// provider `kit` that `config` (given the server's base URL) configures; the kit
    /// watches the server's open connections. Any kind speaking that API stages here.
    pub(super) async fn serve_as(
        behaviour: Behaviour,
        config: impl FnOnce(&str) -> String,
    ) -> Staged {
        let error = |status: u16, message: &str| {
            Canned::json(status, json!({"error": {"message": message}}))
        };
        let canned = match behaviour {
            Behaviour::Answer => Canned::json(
                200,
                json!({"choices": [{"message": {"content": "Use SQLite."}}]}),
            ),
            Behaviour::Hang => Canned::hang(),
            Behaviour::Fail(kind) => match kind {
                ProviderErrorKind::RateLimit => error(429, "Rate limit reached"),
                ProviderErrorKind::Server => error(503, "The server is overloaded"),
                ProviderErrorKind::Network => Canned::close(),
                ProviderErrorKind::Auth => error(401, "Incorrect API key provided"),
                ProviderErrorKind::NotFound => error(404, "The model does not exist"),
                ProviderErrorKind::InvalidOutput => Canned::garbage(),
                ProviderErrorKind::Unknown => error(400, "Unsupported parameter"),
                other => panic!("the kit does not stage {other:?}"),
            },
        };
        let (url, _log, open) = serve_counted(canned).await;
        Staged::new(
            Arc::new(registry(&config(&url))) as Arc<dyn ProviderExecutor>,
            "kit",
        )
        .with_outside_work(move || open.load(Ordering::SeqCst))
    }

    async fn stage(behaviour: Behaviour) -> Staged {
        serve_as(behaviour, |url| {
            provider_config(url, "").replace("[providers.local]", "[providers.kit]")
        })
        .await
    }

    ax_discussion_domain::provider_executor_conformance!(stage);
}
