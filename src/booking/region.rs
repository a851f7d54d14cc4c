//! The part of France whose public holidays a town keeps (`[calendar] region`): the
//! national ones everywhere, plus a few local ones in Alsace-Moselle and the overseas
//! departments. [`crate::booking::holidays`] holds each region's days beside the national
//! list.

use serde::Deserialize;

/// Where the town is, as far as its public holidays go. The names are those of
/// `[calendar] region` in `ivr.toml`; a name not listed here stops start-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Region {
    /// Metropolitan France outside Alsace-Moselle: the national holidays only.
    #[default]
    Metropole,
    /// Bas-Rhin, Haut-Rhin and Moselle (local law, Code du travail art. L3134-13): Good
    /// Friday and 26 December as well. The code names Good Friday for communes with a
    /// Protestant temple or a mixed church; it is kept for all of them here, as the three
    /// departments' schools and offices keep it in practice.
    AlsaceMoselle,
    /// Guadeloupe: abolition of slavery on 27 May. Each overseas department's day is the
    /// one the décret n° 83-1003 (under the loi n° 83-550 of 30 June 1983) sets for it.
    Guadeloupe,
    /// Martinique: abolition of slavery on 22 May.
    Martinique,
    /// Guyane: abolition of slavery on 10 June.
    Guyane,
    /// La Réunion: abolition of slavery on 20 December.
    LaReunion,
    /// Mayotte: abolition of slavery on 27 April.
    Mayotte,
}

impl Region {
    /// Every region, in the order the documentation lists them.
    pub const ALL: [Region; 7] = [
        Region::Metropole,
        Region::AlsaceMoselle,
        Region::Guadeloupe,
        Region::Martinique,
        Region::Guyane,
        Region::LaReunion,
        Region::Mayotte,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Wrapper {
        region: Region,
    }

    fn read(name: &str) -> Result<Region, String> {
        toml::from_str::<Wrapper>(&format!("region = \"{name}\""))
            .map(|w| w.region)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn every_region_reads_from_its_documented_name() {
        let names = [
            "metropole",
            "alsace-moselle",
            "guadeloupe",
            "martinique",
            "guyane",
            "la-reunion",
            "mayotte",
        ];
        for (name, region) in names.iter().zip(Region::ALL) {
            assert_eq!(read(name), Ok(region), "{name}");
        }
        assert_eq!(Region::default(), Region::Metropole);
    }

    #[test]
    fn an_unknown_name_lists_the_names_taken() {
        let e = read("reunion").unwrap_err();
        assert!(e.contains("reunion"), "{e}");
        assert!(
            e.contains("la-reunion") && e.contains("alsace-moselle"),
            "{e}"
        );
    }
}
