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

/// A second service whose actions share CVM's names, to prove that two
/// generated services coexist in one program (`tests/coexist.rs`).
#[path = "../../tests/golden/fleet/mod.rs"]
#[rustfmt::skip]
pub mod fleet;

/// Paginators of both styles and waiters (item, nested, root and absent paths).
#[path = "../../tests/golden/paging/mod.rs"]
#[rustfmt::skip]
pub mod paging;
