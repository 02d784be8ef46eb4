//! The regions the emulator accepts in `X-TC-Region`.
//!
//! The list is the one the CVM API documentation gives for the common
//! `Region` parameter on the StartInstances API page (API version
//! 2017-03-12). A region missing from it is answered with
//! `UnsupportedRegion`, as the real gateway does for a region where CVM is
//! not offered.

/// Every region CVM serves, sorted.
pub const REGIONS: &[&str] = &[
    "ap-bangkok",
    "ap-beijing",
    "ap-chengdu",
    "ap-chongqing",
    "ap-guangzhou",
    "ap-hongkong",
    "ap-jakarta",
    "ap-nanjing",
    "ap-seoul",
    "ap-shanghai",
    "ap-shanghai-fsi",
    "ap-shenzhen-fsi",
    "ap-singapore",
    "ap-tokyo",
    "eu-frankfurt",
    "na-ashburn",
    "na-siliconvalley",
    "sa-saopaulo",
];

/// The static name of `region` when CVM serves it (exact, case-sensitive).
pub(crate) fn known_region(region: &str) -> Option<&'static str> {
    REGIONS.iter().copied().find(|r| *r == region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_and_exact() {
        assert!(REGIONS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(REGIONS.len(), 18);
        assert_eq!(known_region("ap-guangzhou"), Some("ap-guangzhou"));
        for bad in ["mars-1", "", "AP-GUANGZHOU", "ap-guangzhou-3", " ap-guangzhou"] {
            assert_eq!(known_region(bad), None, "{bad}");
        }
    }
}
