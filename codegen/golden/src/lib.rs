//! The golden files of `codegen/tests/golden/`, compiled against the same
//! runtime `cvm-api` uses, so a generator change that emits code that does
//! not build fails here rather than in a user's crate.

#[path = "../../../cvm-api/src/runtime/mod.rs"]
pub mod runtime;

#[path = "../../tests/golden/minimal/mod.rs"]
#[rustfmt::skip]
pub mod minimal;

#[path = "../../tests/golden/shapes/mod.rs"]
#[rustfmt::skip]
pub mod shapes;
