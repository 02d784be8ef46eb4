//! The golden files of `codegen/tests/golden/`, compiled against the real
//! runtime crate, as any generated service crate is, so a generator change
//! that emits code that does not build fails here rather than in a user's
//! crate.

#[path = "../../tests/golden/minimal/mod.rs"]
#[rustfmt::skip]
pub mod minimal;

#[path = "../../tests/golden/shapes/mod.rs"]
#[rustfmt::skip]
pub mod shapes;
