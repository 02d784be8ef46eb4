//! Tests only: see `tests/services.rs`.
