//! A deterministic generator of realistic agent profiles (feature `sample`), shared
//! by the benchmarks (`benches/registry.rs`) and the tests that need a registry of
//! thousands of agents (the recommend quality test): the same agent `n` everywhere,
//! with no random number generator.
//!
//! A typical profile draws from small vocabularies — 12 teams, 30 tags, 40
//! capabilities, 10 roles, 12 verbs, 16 nouns, 40 keywords — so that, as in a real
//! organisation, every word is shared by many agents.

use serde_json::{Value, json};

/// Team names.
pub const TEAMS: [&str; 12] = [
    "platform", "payments", "search", "mobile", "web", "data", "security", "infra", "growth", "ml",
    "support", "docs",
];

/// Tags; an agent has 2–3.
pub const TAGS: [&str; 30] = [
    "rust",
    "typescript",
    "python",
    "go",
    "java",
    "sql",
    "react",
    "kubernetes",
    "terraform",
    "aws",
    "gcp",
    "observability",
    "performance",
    "accessibility",
    "privacy",
    "compliance",
    "testing",
    "ci",
    "api",
    "graphql",
    "grpc",
    "caching",
    "queues",
    "mobile-ios",
    "mobile-android",
    "design-system",
    "ml-ops",
    "etl",
    "billing",
    "auth",
];

/// Capabilities; an agent has 2–3.
pub const CAPABILITIES: [&str; 40] = [
    "code-review",
    "debugging",
    "refactoring",
    "api-design",
    "implementation",
    "testing",
    "documentation",
    "analysis",
    "planning",
    "deployment",
    "research",
    "security-audit",
    "threat-modeling",
    "load-testing",
    "profiling",
    "schema-design",
    "migration",
    "incident-response",
    "monitoring",
    "cost-analysis",
    "ui-review",
    "accessibility-audit",
    "data-modeling",
    "query-tuning",
    "pipeline-design",
    "model-evaluation",
    "prompt-design",
    "release-management",
    "dependency-upgrade",
    "code-generation",
    "test-generation",
    "log-analysis",
    "capacity-planning",
    "architecture-review",
    "onboarding",
    "translation",
    "copy-editing",
    "estimation",
    "triage",
    "compliance-check",
];

/// Roles; one per agent.
pub const ROLES: [&str; 10] = [
    "backend engineer",
    "frontend engineer",
    "site reliability engineer",
    "security reviewer",
    "data engineer",
    "test engineer",
    "technical writer",
    "architect",
    "release manager",
    "ml engineer",
];

/// Verbs of descriptions and example tasks.
pub const VERBS: [&str; 12] = [
    "review", "debug", "optimize", "document", "migrate", "design", "test", "profile", "audit",
    "deploy", "refactor", "monitor",
];

/// Nouns of descriptions and example tasks.
pub const NOUNS: [&str; 16] = [
    "checkout service",
    "search index",
    "payment webhook",
    "user session cache",
    "billing pipeline",
    "mobile login flow",
    "GraphQL gateway",
    "feature flag service",
    "nightly ETL job",
    "recommendation model",
    "rate limiter",
    "audit log",
    "notification queue",
    "admin dashboard",
    "schema migration",
    "TLS certificates",
];

/// Selection keywords; an agent has 3–5.
pub const KEYWORDS: [&str; 40] = [
    "latency",
    "throughput",
    "memory leak",
    "deadlock",
    "race condition",
    "pagination",
    "index",
    "query plan",
    "retry",
    "timeout",
    "idempotency",
    "oauth",
    "csrf",
    "xss",
    "sql injection",
    "encryption",
    "backup",
    "rollback",
    "canary",
    "dashboard",
    "alert",
    "flaky test",
    "coverage",
    "fixture",
    "snapshot",
    "lint",
    "bundle size",
    "render",
    "layout",
    "contrast",
    "schema",
    "partition",
    "kafka",
    "webhook",
    "cron",
    "docker",
    "helm",
    "terraform plan",
    "changelog",
    "tutorial",
];

/// splitmix64: a cheap, deterministic spread (no RNG dependency).
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One item of `pool` for agent `n`; `salt` makes the draws of one agent independent.
pub fn pick<'a>(pool: &[&'a str], n: usize, salt: u64) -> &'a str {
    pool[(mix(n as u64 ^ (salt << 40)) % pool.len() as u64) as usize]
}

/// `k` distinct items of `pool` for agent `n` (`k` smaller than the pool).
pub fn pick_distinct<'a>(pool: &[&'a str], k: usize, n: usize, salt: u64) -> Vec<&'a str> {
    let mut i = mix(n as u64 ^ (salt << 40)) as usize;
    let step = 1 + (mix(n as u64 ^ (salt << 48)) as usize % (pool.len() - 1));
    let mut out: Vec<&str> = Vec::with_capacity(k);
    while out.len() < k {
        let item = pool[i % pool.len()];
        if out.contains(&item) {
            // Taken: probe the next one, which ends since k < pool.len().
            i = i.wrapping_add(1);
            continue;
        }
        out.push(item);
        i = i.wrapping_add(step);
    }
    out
}

/// A typical profile, as a user or an import would write it: description, role,
/// team, 2–3 tags, 2–3 capabilities, expertise, a system prompt and selection
/// metadata (keywords always, example tasks on two agents of three).
pub fn typical_profile(id: &str, n: usize) -> Value {
    let team = pick(&TEAMS, n, 1);
    let role = pick(&ROLES, n, 2);
    let verb = pick(&VERBS, n, 3);
    let noun = pick(&NOUNS, n, 4);
    let tags = pick_distinct(&TAGS, 2 + n % 2, n, 5);
    let capabilities = pick_distinct(&CAPABILITIES, 2 + (n / 2) % 2, n, 6);
    let keywords = pick_distinct(&KEYWORDS, 3 + n % 3, n, 7);
    let mut selection = json!({
        "keywords": keywords,
        "agentCategory": if n.is_multiple_of(5) { "reviewer" } else { "implementer" },
    });
    if !n.is_multiple_of(3) {
        let other_verb = pick(&VERBS, n, 8);
        let other_noun = pick(&NOUNS, n, 9);
        selection["exampleTasks"] = json!([
            format!("{verb} the {noun} of the {team} team"),
            format!("{other_verb} the {other_noun} before the release"),
        ]);
    }
    json!({
        "agentId": id,
        "displayName": format!("{} {}", team, role),
        "description": format!(
            "A {role} on the {team} team who can {verb} the {noun}, explain trade-offs and \
             propose concrete changes with tests."
        ),
        "role": role,
        "team": team,
        "systemPrompt": format!(
            "You are a {role} working on the {noun}. Be precise, cite the files you read, \
             prefer small reversible changes and say when you are unsure."
        ),
        "version": "1.0.0",
        "tags": tags,
        "capabilities": capabilities,
        "expertise": [tags[0], capabilities[0]],
        "selectionMetadata": selection,
        "enabled": !n.is_multiple_of(10),
    })
}

/// Tasks for the recommend quality test (issue 11): varied on purpose — the
/// generator's own phrasing, its vocabulary reordered or mixed with other words,
/// single keywords, long descriptions, and words no agent has.
pub const QUALITY_TASKS: [&str; 24] = [
    "review the checkout flow of the payments team",
    "profile the query planner before the release",
    "fix a flaky test in the search indexer",
    "we need someone to harden the oauth login against token theft",
    "migrate the database schema and plan the partition layout",
    "write a tutorial and a changelog for the new api",
    "optimise the bundle size and render time of the web dashboard",
    "set up terraform plan checks and helm charts for the infra team",
    "debug a kafka consumer that drops webhook events",
    "triage a canary rollback alert on mobile",
    "improve test coverage with fixtures and snapshots",
    "audit the docker images for security issues",
    "design a cron job that cleans stale data",
    "explain trade-offs of the cache eviction policy",
    "refactor the ranking model of the ml team",
    "lint and document the support tooling",
    "contrast and layout issues in the growth landing page",
    "benchmark the rust service under load",
    "a security reviewer for a rust crate that parses untrusted input",
    "plan the migration of the data warehouse to a new schema",
    "the flaky dashboard alert fires every night, find out why",
    "propose concrete changes with tests for the payments api",
    "translate the quarterly newsletter into french",
    "kafka",
];
