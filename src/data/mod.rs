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
pub mod dataset;
pub mod fetch;
pub mod idx;
pub mod prepared;
pub mod preprocess;
pub mod raw;
pub mod shapes;
pub mod sources;
pub mod split;
pub mod transfer;
pub mod verify;

/// The splits' and samples' generator (one splitmix64 for the whole crate).
pub use crate::model::rng::SplitMix64;
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
pub fn hex(bytes: &[u8]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
