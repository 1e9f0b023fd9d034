//! Older profile shapes the reference tool's file loader rewrote before validating.
//! Accepted **on import only**: `register` and the MCP tools take the current contract,
//! so a typo there is still refused by name.

use serde_json::{Map, Value};

/// Rewrite the legacy shapes of a profile into the current contract; anything else is
/// returned unchanged (so a current profile passes through untouched):
///
/// - `name` is the `agentId` when `agentId` is absent, and is dropped either way;
/// - `abilities` given as a list means `{core: list}` — carrying over
///   `abilitySelection.taskBased`, the only part of `abilitySelection` the contract
///   can hold (the reference loader did the same);
/// - a missing or empty `description` is taken from `role`;
/// - `abilitySelection` and `cognitiveFramework` are dropped.
pub fn normalize_legacy(value: Value) -> Value {
    let Value::Object(mut obj) = value else {
        return value;
    };
    if let Some(name) = obj.remove("name")
        && is_missing(obj.get("agentId"))
    {
        obj.insert("agentId".to_owned(), name);
    }
    let selection = obj.remove("abilitySelection");
    if let Some(Value::Array(core)) = obj.get("abilities") {
        let mut abilities = Map::new();
        abilities.insert("core".to_owned(), Value::Array(core.clone()));
        if let Some(task_based) = selection
            .as_ref()
            .and_then(|s| s.get("taskBased"))
            .filter(|t| t.is_object())
        {
            abilities.insert("taskBased".to_owned(), task_based.clone());
        }
        obj.insert("abilities".to_owned(), Value::Object(abilities));
    }
    if is_missing(obj.get("description"))
        && let Some(role) = obj.get("role").filter(|r| !is_missing(Some(r))).cloned()
    {
        obj.insert("description".to_owned(), role);
    }
    obj.remove("cognitiveFramework");
    Value::Object(obj)
}

/// Absent, `null` or the empty string: what the reference loader treated as missing.
fn is_missing(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_current_profile_passes_through_unchanged() {
        let current = json!({
            "agentId": "a", "description": "d", "role": "r",
            "abilities": {"core": ["x"], "loadAll": true}
        });
        assert_eq!(normalize_legacy(current.clone()), current);
    }

    #[test]
    fn name_never_overrides_an_agent_id() {
        let got = normalize_legacy(json!({"agentId": "kept", "name": "other", "description": "d"}));
        assert_eq!(got, json!({"agentId": "kept", "description": "d"}));
    }

    #[test]
    fn every_legacy_shape_is_rewritten() {
        let got = normalize_legacy(json!({
            "name": "qa",
            "role": "QA Engineer",
            "abilities": ["testing", "debugging"],
            "abilitySelection": {"core": ["testing"], "taskBased": {"debug": ["debugging"]}},
            "cognitiveFramework": {"steps": 3}
        }));
        assert_eq!(
            got,
            json!({
                "agentId": "qa",
                "role": "QA Engineer",
                "description": "QA Engineer",
                "abilities": {"core": ["testing", "debugging"], "taskBased": {"debug": ["debugging"]}}
            })
        );
    }

    #[test]
    fn non_objects_are_returned_as_given() {
        assert_eq!(normalize_legacy(json!([1, 2])), json!([1, 2]));
    }
}
