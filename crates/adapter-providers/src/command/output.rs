//! Turning a CLI's stdout into an answer. Each known CLI has its own JSON shape; the
//! extractors below read only the fields they need and treat everything else as
//! optional, so a CLI adding fields does not break us — and a CLI that printed no
//! answer is reported as such instead of passing raw JSON on as the "answer".

use serde_json::Value;

use super::spec::OutputFormat;

/// An answer read from stdout.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedOutput {
    /// The answer text, trimmed.
    pub content: String,
    /// Prompt tokens, when the CLI reported them.
    pub input_tokens: Option<u64>,
    /// Answer tokens, when the CLI reported them.
    pub output_tokens: Option<u64>,
}

/// Why stdout held no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseFailure {
    /// Nothing (or only whitespace) was printed.
    Empty,
    /// The output is not in the expected format (binary junk, broken JSON).
    Unparsable(String),
    /// Well-formed output without answer text.
    NoAnswer(String),
    /// The CLI reported an error in its structured output (`is_error`, an `error`
    /// event); the message is classified like stderr.
    ProviderError(String),
}

/// Parses `stdout` as `format`.
pub fn parse_output(format: OutputFormat, stdout: &[u8]) -> Result<ParsedOutput, ParseFailure> {
    let text = std::str::from_utf8(stdout)
        .map_err(|e| ParseFailure::Unparsable(format!("output is not UTF-8 text ({e})")))?;
    if text.trim().is_empty() {
        return Err(ParseFailure::Empty);
    }
    match format {
        OutputFormat::Text => Ok(ParsedOutput {
            content: text.trim().to_owned(),
            input_tokens: None,
            output_tokens: None,
        }),
        OutputFormat::ClaudeJson => claude_result(&json_document(text)?),
        OutputFormat::GeminiJson => gemini_response(&json_document(text)?),
        OutputFormat::GrokJson => grok_text(&json_document(text)?),
        OutputFormat::Json => generic_json(text),
        OutputFormat::Jsonl
        | OutputFormat::ClaudeStreamJson
        | OutputFormat::GeminiStreamJson
        | OutputFormat::CodexJsonl
        | OutputFormat::OpencodeJsonl => parse_event_stream(text),
    }
}

/// The JSON document in `text`. CLIs sometimes print a notice line before it, so when
/// the whole text does not parse, the first line starting with `{` is tried.
fn json_document(text: &str) -> Result<Value, ParseFailure> {
    let trimmed = text.trim();
    if let Ok(value) = serde_json::from_str::<Value>(trimmed) {
        return Ok(value);
    }
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with('{') {
            let mut stream =
                serde_json::Deserializer::from_str(&text[offset..]).into_iter::<Value>();
            if let Some(Ok(value)) = stream.next() {
                return Ok(value);
            }
        }
        offset += line.len();
    }
    let first = serde_json::from_str::<Value>(trimmed).err();
    Err(ParseFailure::Unparsable(match first {
        Some(e) => format!("output is not valid JSON ({e})"),
        None => "output is not valid JSON".into(),
    }))
}

/// Every JSON object in `text`: the whole text when it is one document, else each
/// object that starts a line (one per line, or spanning several lines).
fn json_documents(text: &str) -> Vec<Value> {
    if let Ok(value) = serde_json::from_str::<Value>(text.trim()) {
        return vec![value];
    }
    let mut docs = Vec::new();
    let mut offset = 0;
    let mut skip_until = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if start < skip_until || !line.trim_start().starts_with('{') {
            continue;
        }
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        if let Some(Ok(value)) = stream.next() {
            skip_until = start + stream.byte_offset();
            docs.push(value);
        }
    }
    docs
}

/// `json`: one document, or JSON lines. When the lines are a conversation (some CLIs
/// echo the user's prompt as a `role: user` message before the answer), the answer is
/// the last assistant message — never the echoed prompt.
fn generic_json(text: &str) -> Result<ParsedOutput, ParseFailure> {
    let docs = json_documents(text);
    if docs.is_empty() {
        return json_document(text).and_then(|doc| any_json_answer(&doc));
    }
    if let Some(doc) = docs
        .iter()
        .rev()
        .find(|d| str_field(d, "role") == Some("assistant"))
    {
        return any_json_answer(doc);
    }
    let not_echoed = docs.iter().find(|d| {
        !matches!(
            str_field(d, "role"),
            Some("user" | "system" | "developer" | "tool")
        )
    });
    match not_echoed {
        Some(doc) => any_json_answer(doc),
        None => Err(ParseFailure::NoAnswer(
            "the output holds only the conversation's own messages, no assistant answer".into(),
        )),
    }
}

/// The message of the last API error document in `text` (`{"error": {"message": …}}`,
/// as HTTP APIs return and some CLIs print after a stack trace), if any.
pub fn api_error_in(text: &str) -> Option<String> {
    let mut found = None;
    let mut at = 0;
    while let Some(pos) = text[at..].find('{') {
        let start = at + pos;
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                if let Some(message) = value
                    .get("error")
                    .filter(|e| e.is_object())
                    .and_then(error_message)
                    .filter(|m| !m.trim().is_empty() && !m.trim_start().starts_with('{'))
                {
                    found = Some(message);
                }
                at = start + stream.byte_offset().max(1);
            }
            _ => at = start + 1,
        }
    }
    found
}

fn str_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn u64_field(value: &Value, key: &str) -> Option<u64> {
    value.get(key).and_then(Value::as_u64)
}

fn sum(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

/// Token counts from a `usage` object in either Anthropic/OpenAI-responses spelling
/// (`input_tokens`, with cache reads and writes counted as input) or chat-completions
/// spelling (`prompt_tokens`).
fn usage_tokens(usage: Option<&Value>) -> (Option<u64>, Option<u64>) {
    let Some(usage) = usage else {
        return (None, None);
    };
    let input = u64_field(usage, "input_tokens").or_else(|| u64_field(usage, "prompt_tokens"));
    let cached = sum(
        u64_field(usage, "cache_creation_input_tokens"),
        u64_field(usage, "cache_read_input_tokens"),
    );
    let input = if input.is_some() {
        sum(input, cached)
    } else {
        None
    };
    let output =
        u64_field(usage, "output_tokens").or_else(|| u64_field(usage, "completion_tokens"));
    (input, output)
}

/// A provider's `error` field: a string, `{message}`, or `{data: {message}}`.
fn error_message(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Object(_) => str_field(value, "message")
            .map(str::to_owned)
            .or_else(|| {
                value
                    .get("data")
                    .and_then(|d| str_field(d, "message"))
                    .map(str::to_owned)
            })
            .or_else(|| value.get("error").and_then(error_message))
            .or_else(|| Some(value.to_string())),
        _ => None,
    }
}

fn answer(content: &str, tokens: (Option<u64>, Option<u64>)) -> Result<ParsedOutput, ParseFailure> {
    let content = content.trim();
    if content.is_empty() {
        return Err(ParseFailure::NoAnswer("the answer text is empty".into()));
    }
    Ok(ParsedOutput {
        content: content.to_owned(),
        input_tokens: tokens.0,
        output_tokens: tokens.1,
    })
}

/// `claude --output-format json`: `{type: "result", subtype, is_error, result, usage}`.
fn claude_result(doc: &Value) -> Result<ParsedOutput, ParseFailure> {
    let result = str_field(doc, "result");
    let is_error = doc
        .get("is_error")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || str_field(doc, "subtype").is_some_and(|s| s.starts_with("error"));
    if is_error {
        let message = result
            .filter(|r| !r.trim().is_empty())
            .or_else(|| str_field(doc, "subtype"))
            .unwrap_or("claude reported an error");
        return Err(ParseFailure::ProviderError(message.to_owned()));
    }
    match result {
        Some(text) => answer(text, usage_tokens(doc.get("usage"))),
        None => Err(ParseFailure::NoAnswer(
            "no `result` field in claude's JSON".into(),
        )),
    }
}

/// `gemini --output-format json`: `{response, stats: {models: {name: {tokens}}}, error}`.
fn gemini_response(doc: &Value) -> Result<ParsedOutput, ParseFailure> {
    if let Some(message) = doc
        .get("error")
        .filter(|e| !e.is_null())
        .and_then(error_message)
    {
        return Err(ParseFailure::ProviderError(message));
    }
    match str_field(doc, "response") {
        Some(text) => answer(text, gemini_tokens(doc.get("stats"))),
        None => Err(ParseFailure::NoAnswer(
            "no `response` field in gemini's JSON".into(),
        )),
    }
}

/// Sums token counts over every model gemini used (it may route between models).
fn gemini_tokens(stats: Option<&Value>) -> (Option<u64>, Option<u64>) {
    let Some(models) = stats
        .and_then(|s| s.get("models"))
        .and_then(Value::as_object)
    else {
        return (None, None);
    };
    let mut input = None;
    let mut output = None;
    for model in models.values() {
        if let Some(tokens) = model.get("tokens") {
            input = sum(
                input,
                u64_field(tokens, "prompt").or_else(|| u64_field(tokens, "input")),
            );
            output = sum(
                output,
                u64_field(tokens, "candidates").or_else(|| u64_field(tokens, "output")),
            );
        }
    }
    (input, output)
}

/// `grok -p ... --output-format json`: `{text, stopReason, sessionId}`.
fn grok_text(doc: &Value) -> Result<ParsedOutput, ParseFailure> {
    if let Some(message) = doc
        .get("error")
        .filter(|e| !e.is_null())
        .and_then(error_message)
    {
        return Err(ParseFailure::ProviderError(message));
    }
    let text = str_field(doc, "text").unwrap_or_default();
    if text.trim().is_empty() {
        let reason = str_field(doc, "stopReason").unwrap_or("no `text` field");
        return Err(ParseFailure::NoAnswer(format!(
            "grok returned no text (stop reason: {reason})"
        )));
    }
    answer(text, usage_tokens(doc.get("usage")))
}

/// Any single JSON document: tries the known CLI shapes, then an OpenAI
/// chat-completions body, then common field names.
fn any_json_answer(doc: &Value) -> Result<ParsedOutput, ParseFailure> {
    if str_field(doc, "result").is_some() || str_field(doc, "type") == Some("result") {
        return claude_result(doc);
    }
    if doc.get("response").is_some() {
        return gemini_response(doc);
    }
    if let Some(content) = doc
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
    {
        return answer(content, usage_tokens(doc.get("usage")));
    }
    for key in ["text", "content", "output", "answer", "message"] {
        if let Some(text) = str_field(doc, key) {
            return answer(text, usage_tokens(doc.get("usage")));
        }
    }
    if let Some(message) = doc
        .get("error")
        .filter(|e| !e.is_null())
        .and_then(error_message)
    {
        return Err(ParseFailure::ProviderError(message));
    }
    Err(ParseFailure::NoAnswer(
        "no answer field in the JSON output".into(),
    ))
}

/// What an event stream said, accumulated line by line.
#[derive(Default)]
struct StreamState {
    /// A final `result` event's text (claude stream-json).
    final_result: Option<String>,
    /// The last complete assistant message (codex `agent_message`, claude `assistant`).
    last_message: Option<String>,
    /// Assistant text chunks of gemini's stream.
    gemini_text: String,
    /// Text parts grouped by agent step (opencode); the last step with text answers.
    steps: Vec<Vec<String>>,
    error: Option<String>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    events: usize,
}

impl StreamState {
    fn add_tokens(&mut self, (input, output): (Option<u64>, Option<u64>)) {
        self.input_tokens = sum(self.input_tokens, input);
        self.output_tokens = sum(self.output_tokens, output);
    }

    fn push_step_text(&mut self, text: &str) {
        if self.steps.is_empty() {
            self.steps.push(Vec::new());
        }
        if let Some(step) = self.steps.last_mut() {
            step.push(text.to_owned());
        }
    }

    fn event(&mut self, event: &Value) {
        self.events += 1;
        let kind = str_field(event, "type").unwrap_or_default();
        match kind {
            // claude stream-json: the last line repeats the whole answer and usage.
            "result" if event.get("result").is_some() => {
                let is_error = event
                    .get("is_error")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let text = str_field(event, "result").unwrap_or_default().to_owned();
                if is_error {
                    self.error = Some(if text.is_empty() {
                        "claude reported an error".into()
                    } else {
                        text
                    });
                } else {
                    self.final_result = Some(text);
                }
                let (input, output) = usage_tokens(event.get("usage"));
                if input.is_some() || output.is_some() {
                    self.input_tokens = input;
                    self.output_tokens = output;
                }
            }
            // gemini stream-json: the closing event carries stats and status.
            "result" => {
                if str_field(event, "status") == Some("error") {
                    self.error = event
                        .get("error")
                        .and_then(error_message)
                        .or(Some("gemini reported an error".into()));
                }
                if let Some(stats) = event.get("stats") {
                    let input =
                        u64_field(stats, "input_tokens").or_else(|| u64_field(stats, "input"));
                    let output =
                        u64_field(stats, "output_tokens").or_else(|| u64_field(stats, "output"));
                    if input.is_some() || output.is_some() {
                        self.input_tokens = input;
                        self.output_tokens = output;
                    }
                }
            }
            // claude stream-json: a complete assistant turn.
            "assistant" => {
                let text = event
                    .pointer("/message/content")
                    .and_then(Value::as_array)
                    .map(|blocks| {
                        blocks
                            .iter()
                            .filter(|b| str_field(b, "type") == Some("text"))
                            .filter_map(|b| str_field(b, "text"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default();
                if !text.trim().is_empty() {
                    self.last_message = Some(text);
                }
            }
            // gemini stream-json: assistant chunks (`delta: true`) or whole messages.
            "message" if str_field(event, "role") == Some("assistant") => {
                if let Some(content) = str_field(event, "content") {
                    if event.get("delta").and_then(Value::as_bool).unwrap_or(false) {
                        self.gemini_text.push_str(content);
                    } else {
                        self.gemini_text = content.to_owned();
                    }
                }
            }
            // codex exec --json.
            "item.completed" => {
                if let Some(item) = event.get("item") {
                    let item_type = str_field(item, "type").unwrap_or_default();
                    if matches!(item_type, "agent_message" | "assistant_message") {
                        if let Some(text) = str_field(item, "text") {
                            self.last_message = Some(text.to_owned());
                        }
                    } else if item_type == "error" {
                        self.error = str_field(item, "message").map(str::to_owned);
                    }
                }
            }
            "turn.completed" => self.add_tokens(usage_tokens(event.get("usage"))),
            "turn.failed" => {
                self.error = event
                    .get("error")
                    .and_then(error_message)
                    .or(Some("turn failed".into()));
            }
            // opencode run --format json (and grok-style `text` events).
            "step_start" => self.steps.push(Vec::new()),
            "text" => {
                let text = event
                    .pointer("/part/text")
                    .and_then(Value::as_str)
                    .or_else(|| str_field(event, "text"));
                if let Some(text) = text {
                    self.push_step_text(text);
                }
            }
            "step_finish" => {
                if let Some(tokens) = event.pointer("/part/tokens") {
                    self.add_tokens((u64_field(tokens, "input"), u64_field(tokens, "output")));
                }
            }
            "error" => {
                self.error = event
                    .get("error")
                    .and_then(error_message)
                    .or_else(|| str_field(event, "message").map(str::to_owned))
                    .or(Some("the provider reported an error".into()));
            }
            _ => {
                // Older codex releases wrapped events in `msg`.
                if let Some(msg) = event.get("msg")
                    && str_field(msg, "type") == Some("agent_message")
                    && let Some(text) = str_field(msg, "message")
                {
                    self.last_message = Some(text.to_owned());
                }
            }
        }
    }

    fn finish(self) -> Result<ParsedOutput, ParseFailure> {
        if self.events == 0 {
            return Err(ParseFailure::Unparsable(
                "no JSON events in the output".into(),
            ));
        }
        let step_text = self
            .steps
            .iter()
            .rev()
            .map(|texts| texts.join("\n"))
            .find(|t| !t.trim().is_empty());
        let content = self
            .final_result
            .filter(|t| !t.trim().is_empty())
            .or(self.last_message)
            .or_else(|| Some(self.gemini_text).filter(|t| !t.trim().is_empty()))
            .or(step_text);
        match (content, self.error) {
            (Some(text), _) => answer(&text, (self.input_tokens, self.output_tokens)),
            (None, Some(error)) => Err(ParseFailure::ProviderError(error)),
            (None, None) => Err(ParseFailure::NoAnswer(format!(
                "{} events but no assistant text",
                self.events
            ))),
        }
    }
}

/// JSON lines: every object line is an event; other lines (progress notices) are
/// skipped.
fn parse_event_stream(text: &str) -> Result<ParsedOutput, ParseFailure> {
    let mut state = StreamState::default();
    for line in text.lines() {
        let line = line.trim();
        if !line.starts_with('{') {
            continue;
        }
        if let Ok(event) = serde_json::from_str::<Value>(line) {
            state.event(&event);
        }
    }
    state.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(format: OutputFormat, text: &str) -> Result<ParsedOutput, ParseFailure> {
        parse_output(format, text.as_bytes())
    }

    #[test]
    fn claude_json_result_with_usage_including_cache() {
        let out = parse(
            OutputFormat::ClaudeJson,
            r#"{"type":"result","subtype":"success","is_error":false,"result":" Hi ","usage":{"input_tokens":3,"cache_read_input_tokens":10,"output_tokens":7}}"#,
        )
        .unwrap();
        assert_eq!(out.content, "Hi");
        assert_eq!((out.input_tokens, out.output_tokens), (Some(13), Some(7)));
    }

    #[test]
    fn claude_error_results_are_provider_errors() {
        let err = parse(
            OutputFormat::ClaudeJson,
            r#"{"type":"result","subtype":"success","is_error":true,"result":"API Error: 429 rate limited"}"#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            ParseFailure::ProviderError("API Error: 429 rate limited".into())
        );
    }

    #[test]
    fn notice_lines_before_the_json_are_skipped() {
        let out = parse(
            OutputFormat::GeminiJson,
            "Loaded cached credentials.\n{\"response\":\"ok\",\"stats\":{\"models\":{\"a\":{\"tokens\":{\"prompt\":5,\"candidates\":2}},\"b\":{\"tokens\":{\"prompt\":1,\"candidates\":1}}}}}\n",
        )
        .unwrap();
        assert_eq!(out.content, "ok");
        assert_eq!((out.input_tokens, out.output_tokens), (Some(6), Some(3)));
    }

    #[test]
    fn broken_json_binary_and_empty_output_are_failures() {
        assert!(matches!(
            parse(OutputFormat::ClaudeJson, "{\"result\": "),
            Err(ParseFailure::Unparsable(_))
        ));
        assert!(matches!(
            parse_output(OutputFormat::Text, b"\xff\xfe\x00junk"),
            Err(ParseFailure::Unparsable(_))
        ));
        assert_eq!(parse(OutputFormat::Text, " \n "), Err(ParseFailure::Empty));
        assert!(matches!(
            parse(OutputFormat::Jsonl, "hello\nworld\n"),
            Err(ParseFailure::Unparsable(_))
        ));
    }

    #[test]
    fn codex_stream_takes_the_last_agent_message_and_sums_usage() {
        let text = r#"{"type":"thread.started","thread_id":"t"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"1","type":"reasoning","text":"thinking"}}
{"type":"item.completed","item":{"id":"2","type":"agent_message","text":"final answer"}}
{"type":"turn.completed","usage":{"input_tokens":20,"cached_input_tokens":5,"output_tokens":4}}"#;
        let out = parse(OutputFormat::CodexJsonl, text).unwrap();
        assert_eq!(out.content, "final answer");
        assert_eq!((out.input_tokens, out.output_tokens), (Some(20), Some(4)));
    }

    #[test]
    fn codex_failures_surface_their_message() {
        let text = r#"{"type":"turn.started"}
{"type":"error","message":"You've hit your usage limit"}
{"type":"turn.failed","error":{"message":"You've hit your usage limit. Try again in 5 minutes"}}"#;
        assert_eq!(
            parse(OutputFormat::CodexJsonl, text),
            Err(ParseFailure::ProviderError(
                "You've hit your usage limit. Try again in 5 minutes".into()
            ))
        );
    }

    #[test]
    fn opencode_answer_is_the_text_of_the_last_step_with_text() {
        let text = r#"{"type":"step_start","part":{}}
{"type":"text","part":{"type":"text","text":"Let me look."}}
{"type":"tool_use","part":{"tool":"read"}}
{"type":"step_finish","part":{"reason":"tool-calls","tokens":{"input":10,"output":2}}}
{"type":"step_start","part":{}}
{"type":"text","part":{"type":"text","text":"The answer."}}
{"type":"step_finish","part":{"reason":"stop","tokens":{"input":12,"output":3}}}"#;
        let out = parse(OutputFormat::OpencodeJsonl, text).unwrap();
        assert_eq!(out.content, "The answer.");
        assert_eq!((out.input_tokens, out.output_tokens), (Some(22), Some(5)));
    }

    #[test]
    fn claude_and_gemini_streams() {
        let claude = r#"{"type":"system","subtype":"init"}
{"type":"assistant","message":{"content":[{"type":"text","text":"draft"}]}}
{"type":"result","subtype":"success","is_error":false,"result":"done","usage":{"input_tokens":1,"output_tokens":2}}"#;
        assert_eq!(
            parse(OutputFormat::ClaudeStreamJson, claude)
                .unwrap()
                .content,
            "done"
        );
        let gemini = r#"{"type":"init","model":"g"}
{"type":"message","role":"user","content":"q"}
{"type":"message","role":"assistant","content":"Hel","delta":true}
{"type":"message","role":"assistant","content":"lo","delta":true}
{"type":"result","status":"success","stats":{"input_tokens":4,"output_tokens":2}}"#;
        let out = parse(OutputFormat::GeminiStreamJson, gemini).unwrap();
        assert_eq!(out.content, "Hello");
        assert_eq!(out.output_tokens, Some(2));
    }

    #[test]
    fn grok_without_text_reports_the_stop_reason() {
        let err = parse(
            OutputFormat::GrokJson,
            r#"{"text":"","stopReason":"Cancelled"}"#,
        )
        .unwrap_err();
        assert!(matches!(err, ParseFailure::NoAnswer(m) if m.contains("Cancelled")));
    }

    #[test]
    fn generic_json_answers_with_the_assistant_not_the_echoed_prompt() {
        // What the npm `grok` (@vibe-kit/grok-cli) prints for `-p`.
        let out = parse(
            OutputFormat::Json,
            "{\"role\":\"user\",\"content\":\"Say READY\"}\n{\"role\":\"assistant\",\"content\":\"READY\"}\n",
        )
        .unwrap();
        assert_eq!(out.content, "READY");
        assert!(matches!(
            parse(
                OutputFormat::Json,
                "{\"role\":\"user\",\"content\":\"Say READY\"}\n"
            ),
            Err(ParseFailure::NoAnswer(_))
        ));
        // A pretty-printed document after a notice line still parses.
        let out = parse(OutputFormat::Json, "notice\n{\n  \"text\": \"hi\"\n}\n").unwrap();
        assert_eq!(out.content, "hi");
    }

    #[test]
    fn api_errors_are_found_after_a_stack_trace() {
        let stderr = "Attempt 1 failed with status 429. _ApiError: {\"error\":{\"code\":429,\"message\":\"first\"}}\n    at x (file.js:1:2)\n  cause: { code: 429 }\n{\n  \"session_id\": \"s\",\n  \"error\": {\n    \"type\": \"Error\",\n    \"message\": \"Quota exceeded (AXFAKE-429).\",\n    \"code\": 429\n  }\n}\n";
        assert_eq!(
            api_error_in(stderr).as_deref(),
            Some("Quota exceeded (AXFAKE-429).")
        );
        assert_eq!(api_error_in("no json { here"), None);
    }

    #[test]
    fn generic_json_understands_chat_completions() {
        let out = parse(
            OutputFormat::Json,
            r#"{"choices":[{"message":{"role":"assistant","content":"x"}}],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#,
        )
        .unwrap();
        assert_eq!(
            (out.content.as_str(), out.input_tokens, out.output_tokens),
            ("x", Some(1), Some(2))
        );
    }
}
