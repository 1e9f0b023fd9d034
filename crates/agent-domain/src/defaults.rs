//! The built-in agents shipped with `ax` (written for this project), seeded into a
//! store once: insert-if-absent, never overwriting a user's edit and never bringing
//! back an agent the user removed (the store remembers what it seeded).

use ax_contracts::agent::AgentProfile;

/// Marker recorded once the current default set has been seeded, so start-up costs
/// one read afterwards. Bump the version when adding defaults: only the new ids are
/// inserted (the store remembers the old ones).
pub const SEED_MARKER: &str = "seed:defaults:v1";

/// The default profiles as JSON documents, embedded at build time.
const DEFAULTS: [(&str, &str); 11] = [
    ("standard", include_str!("../defaults/standard.json")),
    ("architect", include_str!("../defaults/architect.json")),
    ("backend", include_str!("../defaults/backend.json")),
    ("frontend", include_str!("../defaults/frontend.json")),
    ("data", include_str!("../defaults/data.json")),
    ("reviewer", include_str!("../defaults/reviewer.json")),
    ("security", include_str!("../defaults/security.json")),
    ("quality", include_str!("../defaults/quality.json")),
    ("devops", include_str!("../defaults/devops.json")),
    ("writer", include_str!("../defaults/writer.json")),
    ("researcher", include_str!("../defaults/researcher.json")),
];

/// The built-in profiles, validated.
pub fn default_profiles() -> Vec<AgentProfile> {
    DEFAULTS
        .iter()
        .map(|(id, text)| {
            let doc: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| {
                panic!("built-in agent {id} is not JSON ({e}); the defaults test catches this")
            });
            AgentProfile::from_json(&doc)
                .unwrap_or_else(|e| {
                    panic!("built-in agent {id} is invalid ({e}); the defaults test catches this")
                })
                .into_inner()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_is_valid_and_named_after_its_file() {
        let profiles = default_profiles();
        assert_eq!(profiles.len(), DEFAULTS.len());
        for (profile, (id, _)) in profiles.iter().zip(DEFAULTS) {
            assert_eq!(profile.agent_id, id);
        }
        assert!(
            profiles
                .iter()
                .any(|p| p.agent_id == crate::recommend::FALLBACK_AGENT)
        );
    }
}
