//! Identifiers: random ones for new resources, stable ones derived from a
//! name (a region's default VPC), and the shapes the API requires.

/// A fresh random id of the form `ins-` + 8 lower-case letters or digits.
pub fn new_instance_id() -> String {
    random_id("ins-")
}

/// The characters of generated ids.
const ID_ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `prefix` + 8 random lower-case letters or digits.
pub(crate) fn random_id(prefix: &str) -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut id = String::with_capacity(prefix.len() + 8);
    id.push_str(prefix);
    // Bytes 6 and 8 carry the UUID version and variant; skip them.
    for &b in bytes[..6].iter().chain(&bytes[10..12]) {
        id.push(char::from(ID_ALPHABET[usize::from(b) % 36]));
    }
    id
}

/// `prefix` + 8 lower-case letters or digits derived from `seed`: stable
/// across restarts (default VPC, subnet and security group of a region).
pub(crate) fn stable_id(prefix: &str, seed: &str) -> String {
    let mut h = fnv1a(seed.bytes().chain(prefix.bytes()));
    let mut id = prefix.to_owned();
    for _ in 0..8 {
        id.push(char::from(ID_ALPHABET[(h % 36) as usize]));
        h /= 36;
        h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
    }
    id
}

/// `img-` followed by 8 lower-case letters or digits.
pub(crate) fn is_image_id(id: &str) -> bool {
    id.len() == 12
        && id.starts_with("img-")
        && id.as_bytes()[4..]
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The region's default security group, which instances launched without
/// `SecurityGroupIds` are in (VPC's `DescribeSecurityGroups` lists it).
pub(crate) fn default_security_group_id(region: &str) -> String {
    stable_id("sg-", region)
}

/// The region's default VPC, where instances launched without a
/// `VirtualPrivateCloud` live (VPC's `DescribeVpcs` lists it).
pub(crate) fn default_vpc_id(region: &str) -> String {
    stable_id("vpc-", region)
}

/// The zone's default subnet in its region's default VPC: one per zone,
/// as a subnet belongs to one zone (VPC's `DescribeSubnets` lists it).
pub(crate) fn default_subnet_id(zone: &str) -> String {
    stable_id("subnet-", zone)
}

/// FNV-1a: good enough to spread region names and ids.
pub(crate) fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `ap-guangzhou-3` → `ap-guangzhou`.
pub(crate) fn region_of_zone(zone: &str) -> &str {
    match zone.rsplit_once('-') {
        Some((region, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => region,
        _ => zone,
    }
}

pub(crate) fn is_instance_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 12
        && id.starts_with("ins-")
        && b[4..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_zones() {
        for _ in 0..100 {
            assert!(is_instance_id(&new_instance_id()));
        }
        assert!(!is_instance_id("ins-ABCDEFGH"));
        assert!(!is_instance_id("ins-abc"));
        assert_eq!(region_of_zone("ap-guangzhou-3"), "ap-guangzhou");
        assert_eq!(region_of_zone("ap-guangzhou"), "ap-guangzhou");
        assert_eq!(
            stable_id("vpc-", "ap-guangzhou"),
            stable_id("vpc-", "ap-guangzhou")
        );
        assert_eq!(stable_id("vpc-", "ap-guangzhou").len(), 12);
    }
}
