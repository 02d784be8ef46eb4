//! One-shot SHA-256 and HMAC-SHA256 with precomputed key mid-states.
//!
//! RFC 2104 HMAC on top of `sha2`'s compression function. Keying an HMAC
//! costs two compressions (the ipad and opad blocks); keeping the two
//! resulting 32-byte states lets every later MAC start from them, and doing
//! the final padding here avoids the generic block-buffer machinery, which
//! costs as much as the compressions for TC3's short messages. Checked
//! against the `hmac` crate in the tests (keys and messages of all sizes).

use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};

const BLOCK: usize = 64;

/// SHA-256 initial hash value (FIPS 180-4, 5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Compresses whole 64-byte blocks of `blocks` (a multiple of 64 long).
fn compress(state: &mut [u32; 8], blocks: &[u8]) {
    for block in blocks.chunks_exact(BLOCK) {
        sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(block)));
    }
}

/// Finishes a SHA-256 computation whose `state` has absorbed `prefix_len`
/// bytes (a multiple of 64) by absorbing `data` and the padding.
fn finish(mut state: [u32; 8], prefix_len: u64, data: &[u8]) -> [u8; 32] {
    let full = data.len() - data.len() % BLOCK;
    compress(&mut state, &data[..full]);
    let rest = &data[full..];

    let mut tail = [0u8; 2 * BLOCK];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    // The 64-bit length must fit after the 0x80 byte, else spill into a second block.
    let tail_len = if rest.len() < BLOCK - 8 { BLOCK } else { 2 * BLOCK };
    let bits = prefix_len.wrapping_add(data.len() as u64).wrapping_mul(8);
    tail[tail_len - 8..tail_len].copy_from_slice(&bits.to_be_bytes());
    compress(&mut state, &tail[..tail_len]);

    let mut out = [0u8; 32];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// SHA-256 of `data` (same padding code as the HMAC; skips the streaming
/// block buffer, which only costs time for data available in one piece).
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    finish(IV, 0, data)
}

/// An HMAC-SHA256 key, stored as the SHA-256 states after absorbing the
/// ipad and opad key blocks (64 bytes, cheap to copy and cache).
#[derive(Clone, Copy)]
pub(crate) struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacKey {
    /// Keys with the concatenation of `parts` (so `"TC3" + secret` needs no
    /// heap copy of the secret).
    pub(crate) fn new(parts: &[&[u8]]) -> Self {
        let mut block = [0u8; BLOCK];
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total <= BLOCK {
            let mut at = 0;
            for p in parts {
                block[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            }
        } else {
            // Keys longer than a block are replaced by their hash (RFC 2104).
            let mut h = Sha256::new();
            for p in parts {
                h.update(p);
            }
            block[..32].copy_from_slice(&h.finalize());
        }

        for b in &mut block {
            *b ^= 0x36;
        }
        let mut inner = IV;
        compress(&mut inner, &block);
        for b in &mut block {
            *b ^= 0x36 ^ 0x5c;
        }
        let mut outer = IV;
        compress(&mut outer, &block);

        block.fill(0);
        std::hint::black_box(&block);
        Self { inner, outer }
    }

    /// `HMAC(key, message)`.
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 32] {
        let inner = finish(self.inner, BLOCK as u64, message);
        finish(self.outer, BLOCK as u64, &inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    fn reference(key: &[u8], msg: &[u8]) -> [u8; 32] {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
        m.update(msg);
        m.finalize().into_bytes().into()
    }

    #[test]
    fn matches_hmac_crate_for_all_length_boundaries() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for key_len in [0, 1, 3, 31, 32, 55, 63, 64, 65, 100, 128, 200] {
            for msg_len in (0..=200).chain([255, 256, 300]) {
                let key = &data[..key_len];
                let msg = &data[..msg_len];
                let expected = reference(key, msg);
                assert_eq!(HmacKey::new(&[key]).mac(msg), expected, "{key_len} {msg_len}");
                // Split keys concatenate.
                let (a, b) = key.split_at(key_len / 2);
                assert_eq!(HmacKey::new(&[a, b]).mac(msg), expected);
            }
        }
    }

    #[test]
    fn finish_from_iv_is_sha256() {
        let data: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        for len in 0..=300 {
            let expected: [u8; 32] = Sha256::digest(&data[..len]).into();
            assert_eq!(sha256(&data[..len]), expected, "{len}");
        }
    }
}
