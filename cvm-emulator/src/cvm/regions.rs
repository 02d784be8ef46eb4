//! The regions the emulator accepts in `X-TC-Region`, and the zones of
//! each: what DescribeRegions and DescribeZones list and RunInstances takes.
//!
//! The region list is the one the CVM API documentation gives for the
//! common `Region` parameter on the StartInstances API page (API version
//! 2017-03-12). A region missing from it is answered with
//! `UnsupportedRegion`, as the real gateway does for a region where CVM is
//! not offered. Zones are numbered as the service numbers them (`ZoneId`:
//! the region's number times 100 000, plus the zone's).

/// A region CVM serves and its zones.
pub(crate) struct Region {
    pub(crate) name: &'static str,
    /// The English name DescribeRegions gives.
    pub(crate) title: &'static str,
    /// The service's number for the region, the head of its zones' ids.
    pub(crate) number: u32,
    /// Zone numbers: `ap-guangzhou-3` is zone 3 of `ap-guangzhou`.
    pub(crate) zones: &'static [u32],
}

/// Every region CVM serves, sorted by name.
pub(crate) const REGION_TABLE: &[Region] = &[
    region("ap-bangkok", "Asia Pacific (Bangkok)", 23, &[1, 2]),
    region("ap-beijing", "North China (Beijing)", 8, &[3, 5, 6, 7]),
    region("ap-chengdu", "Southwest China (Chengdu)", 16, &[1, 2]),
    region("ap-chongqing", "Southwest China (Chongqing)", 19, &[1]),
    region("ap-guangzhou", "South China (Guangzhou)", 1, &[3, 4, 6, 7]),
    region(
        "ap-hongkong",
        "Hong Kong, Macau and Taiwan (China) (Hong Kong, China)",
        5,
        &[2, 3],
    ),
    region("ap-jakarta", "Asia Pacific (Jakarta)", 72, &[1, 2]),
    region("ap-nanjing", "East China (Nanjing)", 33, &[1, 2, 3]),
    region("ap-seoul", "Asia Pacific (Seoul)", 18, &[1, 2]),
    region("ap-shanghai", "East China (Shanghai)", 2, &[2, 3, 4, 5, 8]),
    region("ap-shanghai-fsi", "East China (Shanghai Finance)", 11, &[1, 2, 3]),
    region(
        "ap-shenzhen-fsi",
        "South China (Shenzhen Finance)",
        12,
        &[1, 2, 3],
    ),
    region("ap-singapore", "Asia Pacific (Singapore)", 9, &[1, 2, 3, 4]),
    region("ap-tokyo", "Asia Pacific (Tokyo)", 25, &[1, 2]),
    region("eu-frankfurt", "Europe (Frankfurt)", 17, &[1, 2]),
    region("na-ashburn", "US East (Virginia)", 22, &[1, 2]),
    region("na-siliconvalley", "US West (Silicon Valley)", 15, &[1, 2]),
    region("sa-saopaulo", "South America (Sao Paulo)", 74, &[1]),
];

const fn region(name: &'static str, title: &'static str, number: u32, zones: &'static [u32]) -> Region {
    Region {
        name,
        title,
        number,
        zones,
    }
}

const REGION_COUNT: usize = REGION_TABLE.len();

const REGION_NAMES: [&str; REGION_COUNT] = {
    let mut names = [""; REGION_COUNT];
    let mut i = 0;
    while i < REGION_COUNT {
        names[i] = REGION_TABLE[i].name;
        i += 1;
    }
    names
};

/// Every region CVM serves, sorted.
pub const REGIONS: &[&str] = &REGION_NAMES;

/// The static name of `region` when CVM serves it (exact, case-sensitive).
pub(crate) fn known_region(region: &str) -> Option<&'static str> {
    region_entry(region).map(|r| r.name)
}

/// The table's entry for `region`.
pub(crate) fn region_entry(region: &str) -> Option<&'static Region> {
    REGION_TABLE.iter().find(|r| r.name == region)
}

/// A zone of a region: `ap-guangzhou-3`.
pub(crate) struct Zone {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) title: String,
}

impl Region {
    /// Its zones, in number order.
    pub(crate) fn zones(&self) -> impl Iterator<Item = Zone> + '_ {
        let place = self
            .title
            .rsplit_once('(')
            .map_or(self.title, |(_, p)| p.trim_end_matches(')'));
        self.zones.iter().map(move |n| Zone {
            name: format!("{}-{n}", self.name),
            id: (self.number * 100_000 + n).to_string(),
            title: format!("{place} Zone {n}"),
        })
    }

    /// Whether `zone` (`ap-guangzhou-3`) is one of its zones.
    pub(crate) fn has_zone(&self, zone: &str) -> bool {
        zone.strip_prefix(self.name)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|n| {
                n.parse::<u32>()
                    .ok()
                    .filter(|_| !n.starts_with('0') && !n.starts_with('+'))
            })
            .is_some_and(|n| self.zones.contains(&n))
    }
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

    #[test]
    fn zones_are_numbered_as_the_service_numbers_them() {
        let guangzhou = region_entry("ap-guangzhou").unwrap();
        let zones: Vec<Zone> = guangzhou.zones().collect();
        assert_eq!(zones[0].name, "ap-guangzhou-3");
        assert_eq!(zones[0].id, "100003");
        assert_eq!(zones[0].title, "Guangzhou Zone 3");
        assert!(guangzhou.has_zone("ap-guangzhou-3"));
        for bad in [
            "ap-guangzhou-5",
            "ap-guangzhou-03",
            "ap-guangzhou-+3",
            "ap-guangzhou",
            "ap-shanghai-2",
        ] {
            assert!(!guangzhou.has_zone(bad), "{bad}");
        }
        // Every zone id is distinct.
        let mut ids: Vec<String> = REGION_TABLE
            .iter()
            .flat_map(|r| r.zones().map(|z| z.id))
            .collect();
        let all = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all);
    }
}
