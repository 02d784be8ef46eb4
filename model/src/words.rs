//! Facts about names that do not depend on any programming language: which
//! wire names are identifiers, the English title an action's name reads as,
//! and the nearest of several names (for "did you mean").

use heck::ToSnakeCase;

/// `true` for `[A-Za-z][A-Za-z0-9_]*`, the names a description may use.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `Segment.Segment…`, each segment an identifier: the shape of an error code.
pub fn is_error_code(code: &str) -> bool {
    !code.is_empty() && code.split('.').all(is_identifier)
}

/// `InstancesRunning` → `instances_running`: a name's words, lower case,
/// joined by `_`. The SDK's method names (`wait_until_instances_running`)
/// and tcloud's (`--wait instances-running`) are both made from these words.
pub fn snake_words(name: &str) -> String {
    name.to_snake_case()
}

/// `StartInstances` → "Start instances": an English title made from the name.
pub fn title_from_action(action: &str) -> String {
    let words = snake_words(action).replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// ", did you mean `X`?" for the nearest name, when one is close.
pub fn suggest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a String>) -> String {
    let nearest = closest(wanted, candidates, 1);
    match nearest.first() {
        Some(best) => format!(" (did you mean `{best}`?)"),
        None => String::new(),
    }
}

/// Up to `n` candidates close to `wanted`, nearest first.
pub fn closest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a String>, n: usize) -> Vec<&'a String> {
    let wanted_lower = wanted.to_ascii_lowercase();
    let mut scored: Vec<(usize, &String)> = candidates
        .map(|c| (edit_distance(&wanted_lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(wanted.len()) / 3).max(2))
        .collect();
    scored.sort();
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_titles() {
        assert_eq!(title_from_action("StartInstances"), "Start instances");
        assert_eq!(
            title_from_action("DescribeInstancesStatus"),
            "Describe instances status"
        );
        assert!(is_identifier("Instance_1"));
        assert!(!is_identifier("1Instance"));
        assert!(!is_identifier("Instance.Id"));
        assert!(!is_identifier(""));
        assert!(is_error_code("InvalidInstanceId.NotFound"));
        assert!(!is_error_code("InternalError."));
    }

    #[test]
    fn suggests_the_nearest_name() {
        let names = ["InstanceIds".to_owned(), "Filters".to_owned()];
        assert_eq!(
            suggest("InstanceId", names.iter()),
            " (did you mean `InstanceIds`?)"
        );
        assert_eq!(suggest("Zzzzzzzz", names.iter()), "");
    }
}
