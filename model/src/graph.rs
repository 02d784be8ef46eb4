//! The object graph of a description: which objects a set of roots reaches
//! (the one walk every tool uses), and which objects lie on a cycle.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::spec::{MemberDef, MemberKind, ObjectDef};

/// Whether `name` is one of the description's scalar type names.
pub(crate) fn is_scalar_name(name: &str) -> bool {
    matches!(
        name,
        "string" | "datetime" | "datetime_iso" | "date" | "binary" | "int64" | "uint64" | "float" | "bool"
    )
}

fn object_refs(object: &ObjectDef) -> impl Iterator<Item = &str> + '_ {
    member_refs(&object.members)
}

/// `roots` and every object their members lead to (roots that are not
/// objects are kept, so callers can report them).
pub fn reachable(roots: &[String], objects: &BTreeMap<String, ObjectDef>) -> BTreeSet<String> {
    let found: Result<_, std::convert::Infallible> = reach(roots.iter().cloned(), |name| {
        Ok(objects
            .get(name)
            .map(|o| object_refs(o).map(str::to_owned).collect()))
    });
    found.unwrap_or_else(|never| match never {})
}

/// The one walk of the object graph: `roots` and every name the objects
/// reached refer to. `refs` gives an object's references (`None`: no such
/// object; the name is kept for the caller to report), and may fail, for
/// callers that parse each object as it is first met.
pub fn reach<E>(
    roots: impl IntoIterator<Item = String>,
    mut refs: impl FnMut(&str) -> Result<Option<Vec<String>>, E>,
) -> Result<BTreeSet<String>, E> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = roots.into_iter().collect();
    while let Some(name) = stack.pop() {
        if seen.contains(&name) {
            continue;
        }
        if let Some(next) = refs(&name)? {
            stack.extend(next);
        }
        seen.insert(name);
    }
    Ok(seen)
}

/// The objects a member list refers to (scalar type names left out).
pub fn member_refs(members: &[MemberDef]) -> impl Iterator<Item = &str> + '_ {
    members
        .iter()
        .filter(|m| matches!(m.kind, MemberKind::Object | MemberKind::List) && !is_scalar_name(&m.member))
        .map(|m| m.member.as_str())
}

/// Each object's strongly connected component: a member of object `A` whose
/// object `B` leads back to `A` (`B` is in `A`'s component) needs a `Box`.
/// One pass over the graph (Tarjan's algorithm, iterative so a deep chain of
/// objects cannot overflow the stack); asking "does `B` reach `A`?" member
/// by member was a search of the graph each, which for the largest services
/// (csip: 2,068 objects) was most of the model's build time.
pub(crate) fn components(objects: &BTreeMap<String, ObjectDef>) -> HashMap<&str, usize> {
    let names: Vec<&str> = objects.keys().map(String::as_str).collect();
    let index_of: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let edges: Vec<Vec<usize>> = objects
        .values()
        .map(|o| object_refs(o).filter_map(|r| index_of.get(r).copied()).collect())
        .collect();
    const UNSEEN: usize = usize::MAX;
    let n = names.len();
    let (mut index, mut low, mut on_stack) = (vec![UNSEEN; n], vec![0; n], vec![false; n]);
    let mut component = vec![UNSEEN; n];
    let (mut next_index, mut next_component) = (0, 0);
    let mut stack = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        // (node, next edge to follow)
        let mut work = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut edge)) = work.last_mut() {
            if let Some(&w) = edges[v].get(*edge) {
                *edge += 1;
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = next_component;
                    if w == v {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    names.into_iter().zip(component).collect()
}

#[cfg(test)]
mod component_tests {
    use super::components;
    use crate::spec::ObjectDef;
    use std::collections::BTreeMap;

    fn object(refs: &[&str]) -> ObjectDef {
        let members = refs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                serde_json::from_value(serde_json::json!({
                    "document": "", "member": r, "name": format!("M{i}"), "type": "object"
                }))
                .unwrap()
            })
            .collect();
        ObjectDef {
            document: String::new(),
            members,
            kind: None,
            usage: None,
        }
    }

    #[test]
    fn objects_on_one_cycle_share_a_component() {
        let objects: BTreeMap<String, ObjectDef> = [
            ("A", object(&["B"])),
            ("B", object(&["A", "C"])),
            ("C", object(&["C", "string"])),
            ("D", object(&["A"])),
            ("E", object(&[])),
        ]
        .into_iter()
        .map(|(n, o)| (n.to_string(), o))
        .collect();
        let c = components(&objects);
        assert_eq!(c["A"], c["B"]);
        assert_ne!(c["A"], c["C"]);
        assert_ne!(c["A"], c["D"]);
        assert_ne!(c["C"], c["D"]);
        assert_ne!(c["E"], c["D"]);
        // A long chain needs no deep native stack.
        let chain: BTreeMap<String, ObjectDef> = (0..20_000)
            .map(|i| {
                (
                    format!("O{i:06}"),
                    object(&[&format!("O{:06}", (i + 1) % 20_000)]),
                )
            })
            .collect();
        let c = components(&chain);
        assert!(c.values().all(|&x| x == c["O000000"]));
    }
}
