//! Limits of the top-level profile fields, named once so that the parser
//! (`validate.rs`) and the published JSON Schema (the `schemars` attributes in
//! `profile.rs`) state the same numbers (INV-MCP-SCHEMA-001). Values follow the design
//! brief's table (`agents.md`), which follows the reference tool.

/// Longest `description`, in characters (it must not be empty).
pub const DESCRIPTION_MAX: usize = 2000;
/// Longest `displayName`.
pub const DISPLAY_NAME_MAX: usize = 100;
/// Longest `role`.
pub const ROLE_MAX: usize = 200;
/// Longest `team`.
pub const TEAM_MAX: usize = 100;
/// Longest `systemPrompt`.
pub const SYSTEM_PROMPT_MAX: usize = 10_000;

/// Most `expertise` entries, and the longest entry.
pub const EXPERTISE: (usize, usize) = (20, 100);
/// Most `capabilities`, and the longest.
pub const CAPABILITIES: (usize, usize) = (50, 100);
/// Most `thinkingPatterns`, and the longest.
pub const THINKING_PATTERNS: (usize, usize) = (20, 500);
/// Most entries of each agent-id list (`tags`, `dependencies`, `collaboratesWith`,
/// `orchestrates`, `replaces`), and the longest entry.
pub const ID_LIST: (usize, usize) = (20, 50);
/// Most `canDelegateToArchetypes`, and the longest.
pub const DELEGATE_TO_ARCHETYPES: (usize, usize) = (10, 50);
/// Most `canDelegateToMetaAgents`, and the longest.
pub const DELEGATE_TO_META_AGENTS: (usize, usize) = (5, 50);

/// `temperature` range.
pub const TEMPERATURE: (f64, f64) = (0.0, 2.0);
/// `maxTokens` range.
pub const MAX_TOKENS: (u32, u32) = (1, 200_000);
/// `priority` range.
pub const PRIORITY: (u32, u32) = (1, 100);
