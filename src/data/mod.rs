//! Dataset layer: catalog of known datasets, verified download, IDX decoding, preprocessing
//! into the prepared binary format, the procedural `shapes` dataset and a decode benchmark.
//!
//! The orchestrator's `download` stage calls [`fetch::fetch_file`] once per file of a
//! [`catalog::CatalogEntry`] (or of a spec's own [`catalog::DatasetFiles`]); its `preprocess`
//! stage gets a [`raw::RawDataset`] from [`raw::load_raw`] (catalog files, a spec's files or
//! the generated `shapes`) and calls [`preprocess::preprocess`], which splits it as
//! [`split::split_indices`] says.

pub mod bench;
pub mod catalog;
pub mod contact_sheet;
pub mod fetch;
pub mod idx;
pub mod prepared;
pub mod preprocess;
pub mod raw;
pub mod shapes;
pub mod sources;
pub mod split;
pub mod verify;

pub use catalog::{lookup, names, CatalogEntry, DatasetFiles, FileRole, FileSpec};
pub use fetch::{fetch_file, FetchError, FetchOptions, FetchProgress, FetchReport};
pub use prepared::{read_prepared, write_prepared, PreparedHeader, PreparedSplit};
pub use preprocess::{preprocess, Binarize, PreprocessOptions, PreprocessSummary};
pub use raw::{load_raw, RawDataset, RawSource};
pub use shapes::{generate, ShapesDataset, ShapesOptions};

use sha2::{Digest, Sha256};

/// Lower-case hex sha256 of a byte slice (the form used in the catalog and in provenance).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex encoding of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// True when the buffer starts with the gzip magic bytes; files are recognised by content, not name.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

/// Small deterministic RNG (splitmix64): reproducible splits and samples without a crate
/// whose stream could change between versions and silently alter cached results.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform integer in `0..bound` (Lemire's multiply-shift; the bias is < 2^-32 for our sizes).
    pub fn below(&mut self, bound: u64) -> u64 {
        ((self.next_u64() as u128 * bound as u128) >> 64) as u64
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_reproducible_and_below_stays_in_range() {
        let a: Vec<u64> = (0..5)
            .scan(SplitMix64::new(42), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .scan(SplitMix64::new(42), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        let mut rng = SplitMix64::new(1);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            seen[rng.below(7) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        let mut v: Vec<u32> = (0..100).collect();
        rng.shuffle(&mut v);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn hex_and_gzip_magic() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_gzip(&[0x1f, 0x8b, 8]) && !is_gzip(&[0x1f]) && !is_gzip(&[0, 0, 8, 3]));
    }
}
