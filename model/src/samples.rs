//! Sample values that decode: a request with every member a decoder insists
//! on, for tests and tools that build on a valid shape (the agreement tests
//! of the SDK, tcloud and the emulator vary one member of it at a time).

use serde_json::{json, Map, Value};

use crate::model::{Leaf, Member, Model, Object, Scalar};

/// How deep nested objects are filled in (a description may be recursive).
const MAX_DEPTH: usize = 4;

/// `object` with every required member, and every member a decoder insists
/// on, set to a sample of its type (nested objects to [`MAX_DEPTH`]).
pub fn filled(model: &Model, object: &Object) -> Value {
    filled_at(model, object, 0)
}

/// A value of `m`'s type that decodes (a list holds one sample).
pub fn sample(model: &Model, m: &Member) -> Value {
    sample_at(model, m, 0)
}

fn filled_at(model: &Model, object: &Object, depth: usize) -> Value {
    let mut map = Map::new();
    if depth < MAX_DEPTH {
        for m in object.members.iter().filter(|m| m.required || !m.optional) {
            map.insert(m.wire_name.clone(), sample_at(model, m, depth));
        }
    }
    Value::Object(map)
}

fn sample_at(model: &Model, m: &Member, depth: usize) -> Value {
    let leaf = match &m.ty.leaf {
        Leaf::Scalar(Scalar::I64 | Scalar::U64) => json!(1),
        Leaf::Scalar(Scalar::F64) => json!(1.5),
        Leaf::Scalar(Scalar::Bool) => json!(true),
        Leaf::Scalar(_) => json!("x"),
        Leaf::Object(name) => match model.object(name) {
            Some(object) => filled_at(model, object, depth + 1),
            None => json!({}),
        },
    };
    if m.ty.list {
        json!([leaf])
    } else {
        leaf
    }
}
