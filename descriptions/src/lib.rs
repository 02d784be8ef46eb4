//! Every official Tencent Cloud API description the SDK ships, and the
//! format that holds them: one deflated entry per service version, behind
//! an index, so that a reader inflates only the one description it needs.
//!
//! [`OFFICIAL`] holds all of tccli's descriptions (pinned), facts only, each
//! entry `{"api": .., "codes": [..]}` as `tencentcloud_model::official` reads
//! it. The `tencentcloud` crate's build generates the services a program
//! enables from it; `tcloud` reads it at run time; `cargo xtask import` makes
//! a `spec/` directory from it. `cargo xtask cli-descriptions` writes it from
//! the pinned tccli wheel and Python SDK (the only step that needs Python
//! and the network).
//!
//! ```text
//! "TCDESC2\n"                       magic
//! u32 count                         little-endian, as every integer
//! count × { u8 len, service, u8 len, version, u8 flags, u32 offset, u32 size, u32 raw_size }
//! entries                           each deflated (raw, no zlib header)
//! ```
//!
//! Flag bit 0 marks the service's default version: the one tccli calls when
//! none is named, not always the newest. tcloud's build script bundles
//! `spec/` in the same format (its entries add `rules` and `waiters`).
//! No build script here, so that xtask can write bundles without
//! depending on tcloud, whose build embeds `spec/`.

/// Every official service version, as `cargo xtask cli-descriptions` wrote
/// it; [`read`] gives its index.
pub static OFFICIAL: &[u8] = include_bytes!("../official.bin");

/// Where [`OFFICIAL`] lives, from the workspace root.
pub const OFFICIAL_PATH: &str = "descriptions/official.bin";

/// Identifies the format; a change of layout changes it.
const MAGIC: &[u8; 8] = b"TCDESC2\n";

const DEFAULT_FLAG: u8 = 1;

/// Largest inflated entry accepted: far above the largest official
/// description (2 MB), so a corrupt size cannot exhaust memory.
const MAX_RAW: usize = 64 << 20;

/// One service version to write.
pub struct Source {
    pub service: String,
    pub version: String,
    /// The version tccli calls when none is named.
    pub default: bool,
    /// The entry's JSON text, as it will inflate.
    pub json: Vec<u8>,
}

/// The bundle of `sources`, in the order given (callers sort them, so that
/// the bytes depend on the content only).
pub fn write(sources: &[Source], level: u8) -> Result<Vec<u8>, String> {
    let mut index = Vec::new();
    let mut blobs = Vec::new();
    let count = u32::try_from(sources.len()).map_err(|_| "too many entries".to_owned())?;
    for source in sources {
        if source.json.len() > MAX_RAW {
            return Err(format!(
                "{}/{}: {} bytes, over the {MAX_RAW} a reader accepts",
                source.service,
                source.version,
                source.json.len()
            ));
        }
        let packed = miniz_oxide::deflate::compress_to_vec(&source.json, level);
        let name = |s: &str| -> Result<Vec<u8>, String> {
            let len = u8::try_from(s.len()).map_err(|_| format!("name `{s}` is over 255 bytes"))?;
            Ok([&[len][..], s.as_bytes()].concat())
        };
        let size = |n: usize| u32::try_from(n).map_err(|_| format!("{}: entry over 4 GiB", source.service));
        index.extend(name(&source.service)?);
        index.extend(name(&source.version)?);
        index.push(if source.default { DEFAULT_FLAG } else { 0 });
        index.extend(size(blobs.len())?.to_le_bytes());
        index.extend(size(packed.len())?.to_le_bytes());
        index.extend(size(source.json.len())?.to_le_bytes());
        blobs.extend(packed);
    }
    let mut out = MAGIC.to_vec();
    out.extend(count.to_le_bytes());
    out.extend(index);
    out.extend(blobs);
    Ok(out)
}

/// An entry of a bundle, not yet inflated.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'b> {
    pub service: &'b str,
    pub version: &'b str,
    pub default: bool,
    packed: &'b [u8],
    raw_size: usize,
}

impl Entry<'_> {
    /// The entry's JSON text.
    pub fn inflate(&self) -> Result<Vec<u8>, String> {
        let limit = self.raw_size.min(MAX_RAW);
        let raw = miniz_oxide::inflate::decompress_to_vec_with_limit(self.packed, limit)
            // The status only: the error also holds what was inflated so far.
            .map_err(|e| format!("{}/{}: corrupt entry: {:?}", self.service, self.version, e.status))?;
        if raw.len() != self.raw_size {
            return Err(format!(
                "{}/{}: inflated to {} bytes, the index says {}",
                self.service,
                self.version,
                raw.len(),
                self.raw_size
            ));
        }
        Ok(raw)
    }
}

/// A bundle's index, read without inflating anything.
pub fn read(bytes: &[u8]) -> Result<Vec<Entry<'_>>, String> {
    let mut at = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or("not a description bundle (bad magic)")?;
    let truncated = || "truncated index".to_owned();
    let mut take = |n: usize| -> Result<&[u8], String> {
        if at.len() < n {
            return Err(truncated());
        }
        let (head, rest) = at.split_at(n);
        at = rest;
        Ok(head)
    };
    let u32_at = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let count = u32_at(take(4)?);
    let mut raw_entries = Vec::new();
    for _ in 0..count {
        let len = take(1)?[0] as usize;
        let service = std::str::from_utf8(take(len)?).map_err(|_| "service name not UTF-8".to_owned())?;
        let len = take(1)?[0] as usize;
        let version = std::str::from_utf8(take(len)?).map_err(|_| "version not UTF-8".to_owned())?;
        let default = take(1)?[0] & DEFAULT_FLAG != 0;
        let offset = u32_at(take(4)?);
        let size = u32_at(take(4)?);
        let raw_size = u32_at(take(4)?);
        raw_entries.push((service, version, default, offset, size, raw_size));
    }
    let blobs = at;
    raw_entries
        .into_iter()
        .map(|(service, version, default, offset, size, raw_size)| {
            let packed = offset
                .checked_add(size)
                .and_then(|end| blobs.get(offset..end))
                .ok_or_else(|| format!("{service}/{version}: entry outside the bundle"))?;
            Ok(Entry {
                service,
                version,
                default,
                packed,
                raw_size,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(service: &str, version: &str, json: &str) -> Source {
        Source {
            service: service.into(),
            version: version.into(),
            default: version == "v20170312",
            json: json.as_bytes().to_vec(),
        }
    }

    #[test]
    fn entries_round_trip() {
        let bytes = write(
            &[
                source("cvm", "v20170312", r#"{"api":{}}"#),
                source("vpc", "v20170312", "{}"),
            ],
            6,
        )
        .unwrap();
        let entries = read(&bytes).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[1].service, entries[1].version), ("vpc", "v20170312"));
        assert!(entries[1].default);
        assert_eq!(entries[0].inflate().unwrap(), br#"{"api":{}}"#);
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let bytes = write(&[source("cvm", "v20170312", r#"{"api":{"a":1}}"#)], 6).unwrap();
        for cut in 0..bytes.len() {
            if let Ok(entries) = read(&bytes[..cut]) {
                for e in entries {
                    let _ = e.inflate();
                }
            }
        }
        // Raw deflate has no checksum: a flipped bit gives an error or
        // other bytes, never the original and never a panic.
        let mut flipped = bytes.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 0xff;
        let entries = read(&flipped).unwrap();
        assert_ne!(entries[0].inflate().ok(), Some(br#"{"api":{"a":1}}"#.to_vec()));
        assert!(read(b"nope").is_err());
        // A corrupt entry's message is one short line, not the bytes inflated.
        let mut broken = write(&[source("cvm", "v20170312", &"x".repeat(100_000))], 6).unwrap();
        let middle = broken.len() - 40;
        broken[middle] ^= 0x55;
        if let Err(e) = read(&broken).unwrap()[0].inflate() {
            assert!(e.len() < 200, "{}", e.len());
        }
        let huge = Source {
            json: vec![b' '; MAX_RAW + 1],
            ..source("cvm", "v20170312", "")
        };
        assert!(write(&[huge], 1).unwrap_err().contains("over the"));
    }
}
