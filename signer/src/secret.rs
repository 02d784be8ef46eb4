//! The secret key wrapper.

use std::fmt;

/// A Tencent Cloud `SecretKey`.
///
/// Wrapped so that it cannot end up in logs by accident: `Debug` prints
/// `SecretKey(***)` and there is no `Display`. The bytes are overwritten with
/// zeros on drop (best effort: copies made by the caller before wrapping, or
/// obtained through [`SecretKey::expose`], are out of our reach).
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps a secret key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The raw key. Named so that call sites leaking it stand out in review.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.fill(0);
        for b in bytes.spare_capacity_mut() {
            b.write(0);
        }
        // Keep the optimiser from eliding the stores to memory about to be freed.
        std::hint::black_box(&bytes);
    }
}
