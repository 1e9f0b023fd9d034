//! The OpenAI-compatible HTTP provider: `POST {base_url}/chat/completions`. One client
//! covers OpenAI, OpenRouter, and the local servers that speak the same API (Ollama,
//! vLLM, llama.cpp's server, LM Studio).
//!
//! Failures are classified from the status code first (401/403 → `auth`, 429 →
//! `rate_limit` with `Retry-After`, 5xx → `server`, 404 → `not_found`), then from the
//! transport error (connect → `network`, timeout → `timeout`), and a 200 without a
//! usable `choices[0].message.content` is `invalid_output`.

use ax_contracts::error::error_chain;
use std::sync::Once;
use std::time::{Duration, Instant};

use ax_discussion_domain::provider::{
    ProviderError, ProviderErrorKind, ProviderRequest, ProviderResponse,
};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::{Value, json};

use crate::classify::{MAX_RETRY_AFTER, excerpt};
use crate::config::values::{HttpUrl, NonEmpty};
use crate::kind::{Kind, Live, Missing};

/// Cap on a response body. A chat completion is a few KiB; a server streaming an
/// endless body must not exhaust our memory.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// How long connecting may take before the call fails as `network`, independently of
/// the (much longer) request timeout: an unreachable local server should be reported
/// quickly.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A resolved OpenAI-compatible provider.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiSpec {
    /// API root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    /// Model name sent in every request.
    pub model: String,
    /// Environment variable holding the API key. Optional: local servers need none,
    /// and an unset variable means "send no key" (the server's 401 then says so).
    pub api_key_env: Option<String>,
}

impl OpenAiSpec {
    /// The chat-completions endpoint.
    pub fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }

    /// One line for `ax providers list`.
    pub fn describe(&self) -> String {
        format!("{} at {}", self.model, self.base_url)
    }

    /// Why this provider cannot be called now: a server on this machine that nothing
    /// listens for (a TCP connect, refused at once on loopback; never tried for a
    /// remote host), or an API key variable that is not set (not needed on this
    /// machine). `None` when it can be called.
    pub fn unavailable_reason(&self) -> Option<String> {
        if self.is_loopback() {
            let url = reqwest::Url::parse(&self.base_url).ok()?;
            let port = url.port_or_known_default()?;
            let host = url
                .host_str()?
                .trim_start_matches('[')
                .trim_end_matches(']');
            let addresses: Vec<std::net::SocketAddr> =
                std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
                    .map(Iterator::collect)
                    .unwrap_or_default();
            let listening = addresses.iter().any(|address| {
                std::net::TcpStream::connect_timeout(address, LOOPBACK_PROBE_TIMEOUT).is_ok()
            });
            return (!listening).then(|| {
                format!("nothing is listening at {host}:{port} (is the server running?)")
            });
        }
        let var = self.api_key_env.as_ref()?;
        let set = std::env::var(var).is_ok_and(|v| !v.trim().is_empty());
        (!set).then(|| format!("its API key variable {var} is not set"))
    }

    /// Whether the server is on this machine (no proxy is used for it).
    pub fn is_loopback(&self) -> bool {
        let Ok(url) = reqwest::Url::parse(&self.base_url) else {
            return false;
        };
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// An OpenAI-compatible provider's keys in `config.toml`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiSection {
    base_url: Option<HttpUrl>,
    model: Option<NonEmpty>,
    api_key_env: Option<NonEmpty>,
}

/// The `openai` kind: any server speaking the chat-completions API.
#[derive(Debug)]
pub struct OpenAiKind;

impl Kind for OpenAiKind {
    type Section = OpenAiSection;
    type Spec = OpenAiSpec;

    fn resolve(base: Option<OpenAiSpec>, section: OpenAiSection) -> Result<OpenAiSpec, Missing> {
        let base_url = section
            .base_url
            .map(|HttpUrl(url)| url)
            .or_else(|| base.as_ref().map(|b| b.base_url.clone()))
            .ok_or_else(|| Missing {
                key: "base_url",
                message: "missing; an openai provider needs base_url = \"https://host/v1\"".into(),
            })?;
        let model = section
            .model
            .map(|NonEmpty(model)| model)
            .or_else(|| base.as_ref().map(|b| b.model.clone()))
            .ok_or_else(|| Missing {
                key: "model",
                message: "missing; an openai provider needs model = \"...\"".into(),
            })?;
        let api_key_env = section
            .api_key_env
            .map(|NonEmpty(var)| var)
            .or_else(|| base.and_then(|b| b.api_key_env));
        Ok(OpenAiSpec {
            base_url,
            model,
            api_key_env,
        })
    }

    fn describe(spec: &OpenAiSpec) -> String {
        spec.describe()
    }

    fn build(id: &str, spec: &OpenAiSpec) -> Result<Box<dyn Live>, String> {
        OpenAiProvider::new(id, spec.clone())
            .map(|provider| Box::new(provider) as Box<dyn Live>)
            .map_err(|e| format!("cannot create an HTTP client: {e}"))
    }
}

#[async_trait::async_trait]
impl Live for OpenAiProvider {
    async fn execute(&self, request: &ProviderRequest) -> Result<ProviderResponse, ProviderError> {
        OpenAiProvider::execute(self, request).await
    }

    fn why_unavailable(&self) -> Option<String> {
        self.spec.unavailable_reason()
    }
}

/// How long a loopback server may take to accept a connection before it counts as
/// not running (a closed port refuses at once).
const LOOPBACK_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// Installs ring as the process-wide rustls crypto provider, once. reqwest is built
/// with `rustls-no-provider`, so without this the first HTTPS request would fail; if
/// the application installed a provider first, that one is kept.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // An error means another thread installed one in between; either is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
    });
}

/// A provider speaking the OpenAI chat-completions API.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    id: String,
    spec: OpenAiSpec,
    client: reqwest::Client,
}

impl OpenAiProvider {
    /// A provider named `id` for `spec`. Fails only if the HTTP client cannot be built
    /// (e.g. no TLS roots available).
    pub fn new(id: impl Into<String>, spec: OpenAiSpec) -> Result<Self, reqwest::Error> {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT);
        if spec.is_loopback() {
            // A proxy configured for the internet must not capture calls to a local model.
            builder = builder.no_proxy();
        }
        Ok(Self {
            id: id.into(),
            spec,
            client: builder.build()?,
        })
    }

    /// The provider id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its configuration.
    pub fn spec(&self) -> &OpenAiSpec {
        &self.spec
    }

    /// The request body for `request`.
    pub fn request_body(&self, request: &ProviderRequest) -> Value {
        let mut messages = Vec::new();
        if let Some(system) = request
            .system_prompt
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            messages.push(json!({"role": "system", "content": system}));
        }
        messages.push(json!({"role": "user", "content": request.prompt}));
        let mut body = json!({"model": self.spec.model, "messages": messages, "stream": false});
        if let Some(temperature) = request.temperature {
            body["temperature"] = json!(temperature);
        }
        if let Some(max_tokens) = request.max_tokens {
            body["max_tokens"] = json!(max_tokens);
        }
        body
    }

    /// Runs one prompt within `request.timeout` (INV-PROV-TIME-001). Dropping the
    /// future drops the request and so closes its connection.
    pub async fn execute(
        &self,
        request: &ProviderRequest,
    ) -> Result<ProviderResponse, ProviderError> {
        let started = Instant::now();
        match tokio::time::timeout(request.timeout, self.call(request)).await {
            Ok(Ok(mut response)) => {
                response.duration = started.elapsed();
                Ok(response)
            }
            Ok(Err(error)) => Err(error),
            Err(_) => Err(self.timeout_error(request.timeout)),
        }
    }

    async fn call(&self, request: &ProviderRequest) -> Result<ProviderResponse, ProviderError> {
        let mut builder = self
            .client
            .post(self.spec.endpoint())
            .timeout(request.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(self.request_body(request).to_string());
        if let Some(var) = &self.spec.api_key_env {
            match std::env::var(var) {
                Ok(key) if !key.trim().is_empty() => builder = builder.bearer_auth(key.trim()),
                _ => {
                    tracing::debug!(provider = %self.id, env = %var, "API key variable not set; sending no key")
                }
            }
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| self.transport_error(&e, request.timeout))?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&e, request.timeout))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(self.error(
                    ProviderErrorKind::InvalidOutput,
                    format!(
                        "the response body is larger than {} MiB",
                        MAX_RESPONSE_BYTES / (1024 * 1024)
                    ),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(self.status_error(status.as_u16(), &headers, &body));
        }
        self.parse_success(&body)
    }

    fn parse_success(&self, body: &[u8]) -> Result<ProviderResponse, ProviderError> {
        let doc: Value = serde_json::from_slice(body).map_err(|e| {
            self.error(
                ProviderErrorKind::InvalidOutput,
                format!(
                    "the response is not valid JSON ({e}): {}",
                    excerpt(&String::from_utf8_lossy(body), 200)
                ),
            )
        })?;
        let content = match doc.pointer("/choices/0/message/content") {
            Some(Value::String(text)) => text.clone(),
            // Some servers return content parts: [{type: "text", text}].
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(""),
            _ => String::new(),
        };
        if content.trim().is_empty() {
            let reason = doc
                .pointer("/choices/0/finish_reason")
                .and_then(Value::as_str)
                .map(|r| format!(" (finish reason: {r})"))
                .unwrap_or_default();
            return Err(self.error(
                ProviderErrorKind::InvalidOutput,
                format!("the response has no answer text in choices[0].message.content{reason}"),
            ));
        }
        let usage = doc.get("usage");
        let tokens = |key: &str| usage.and_then(|u| u.get(key)).and_then(Value::as_u64);
        Ok(ProviderResponse {
            content: content.trim().to_owned(),
            input_tokens: tokens("prompt_tokens"),
            output_tokens: tokens("completion_tokens"),
            duration: Duration::ZERO,
            simulated: false,
        })
    }

    fn status_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> ProviderError {
        let detail = server_message(body);
        let message = if detail.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {detail}")
        };
        let kind = match status {
            401 | 403 => ProviderErrorKind::Auth,
            429 => ProviderErrorKind::RateLimit,
            404 => ProviderErrorKind::NotFound,
            408 => ProviderErrorKind::Timeout,
            500..=599 => ProviderErrorKind::Server,
            _ => ProviderErrorKind::Unknown,
        };
        let mut error = self.error(kind, message);
        if error.retryable
            && let Some(delay) = retry_after(headers)
        {
            error = error.with_retry_after(delay);
        }
        error
    }

    fn transport_error(&self, error: &reqwest::Error, timeout: Duration) -> ProviderError {
        if error.is_timeout() {
            self.timeout_error(timeout)
        } else if error.is_connect() {
            self.error(
                ProviderErrorKind::Network,
                format!(
                    "cannot connect to {}: {}",
                    self.spec.base_url,
                    error_chain(error)
                ),
            )
        } else {
            self.error(
                ProviderErrorKind::Network,
                format!(
                    "request to {} failed: {}",
                    self.spec.base_url,
                    error_chain(error)
                ),
            )
        }
    }

    fn timeout_error(&self, timeout: Duration) -> ProviderError {
        let error = ProviderError::timed_out(self.id.clone(), timeout, None);
        tracing::debug!(provider = %self.id, message = %error.message, "provider call timed out");
        error
    }

    fn error(&self, kind: ProviderErrorKind, message: impl Into<String>) -> ProviderError {
        let error = ProviderError::new(self.id.clone(), kind, message);
        tracing::debug!(provider = %self.id, kind = kind.as_str(), message = %error.message, "provider call failed");
        error
    }
}

/// The human part of an error body: `error.message`, `error` (string), `message`, or
/// the start of the raw body.
fn server_message(body: &[u8]) -> String {
    if let Ok(doc) = serde_json::from_slice::<Value>(body) {
        let found = doc
            .pointer("/error/message")
            .and_then(Value::as_str)
            .or_else(|| doc.get("error").and_then(Value::as_str))
            .or_else(|| doc.get("message").and_then(Value::as_str))
            .or_else(|| doc.get("detail").and_then(Value::as_str));
        if let Some(text) = found {
            return excerpt(text, 300);
        }
    }
    excerpt(&String::from_utf8_lossy(body), 300)
}

/// The delay a server asked for: `Retry-After` in seconds or as an HTTP date, or the
/// `retry-after-ms` extension some APIs send. Clamped to [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0).min(MAX_RETRY_AFTER));
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    parse_retry_after(value, chrono::Utc::now())
}

/// Parses a `Retry-After` value relative to `now`: delta-seconds, or an HTTP date
/// (a date in the past means "now").
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = date.with_timezone(&chrono::Utc) - now;
    Some(
        delta
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_and_as_http_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("999999", now), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn loopback_detection() {
        let spec = |url: &str| OpenAiSpec {
            base_url: url.into(),
            model: "m".into(),
            api_key_env: None,
        };
        assert!(spec("http://127.0.0.1:11434/v1").is_loopback());
        assert!(spec("http://localhost:8080/v1").is_loopback());
        assert!(spec("http://[::1]:8080/v1").is_loopback());
        assert!(!spec("https://api.openai.com/v1").is_loopback());
    }

    #[test]
    fn error_bodies_yield_their_message() {
        assert_eq!(
            server_message(br#"{"error":{"message":"Invalid API key"}}"#),
            "Invalid API key"
        );
        assert_eq!(server_message(b"upstream down"), "upstream down");
    }
}
