//! Built-in dataset catalog (`mnist`, `fashion-mnist`, `shapes`) and the file descriptions
//! (`FileSpec`, `DatasetFiles`) that the download stage fetches and verifies.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Which of the four IDX files of a dataset a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileRole {
    TrainImages,
    TrainLabels,
    TestImages,
    TestLabels,
}

impl FileRole {
    pub const ALL: [FileRole; 4] = [
        FileRole::TrainImages,
        FileRole::TrainLabels,
        FileRole::TestImages,
        FileRole::TestLabels,
    ];

    /// True for the two files a carved test split needs (`test_fraction`): the training files.
    pub fn is_train(self) -> bool {
        matches!(self, FileRole::TrainImages | FileRole::TrainLabels)
    }
}

/// One file to obtain: its uncompressed IDX name, where it may be found and the sha256 of its
/// decompressed payload (so `.gz` and raw copies verify against the same value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSpec {
    pub role: FileRole,
    /// Uncompressed file name, e.g. `train-images-idx3-ubyte`; folders are searched for it
    /// and for `<name>.gz`.
    pub name: String,
    /// Lower-case hex sha256 of the decompressed payload.
    pub sha256: String,
    /// Full URLs tried in order after local sources.
    pub urls: Vec<String>,
    /// An explicit local file named by the spec; tried before every other source.
    pub path: Option<PathBuf>,
    /// Decompressed payload size in bytes, when known (catalog files): checked on every
    /// source and used to cap a download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl FileSpec {
    pub fn gz_name(&self) -> String {
        format!("{}.gz", self.name)
    }
}

/// Kind of data a catalog entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogKind {
    /// Four IDX files downloaded and verified.
    Idx,
    /// Generated in-process by `data::shapes`; nothing to download.
    Procedural,
}

/// A static catalog file: name, decompressed sha256 and decompressed size in bytes.
#[derive(Debug, Clone, Copy)]
pub struct CatalogFile {
    pub role: FileRole,
    pub name: &'static str,
    pub sha256: &'static str,
    pub size: u64,
}

/// A built-in dataset.
#[derive(Debug, Clone, Copy)]
pub struct CatalogEntry {
    pub name: &'static str,
    pub kind: CatalogKind,
    pub files: &'static [CatalogFile],
    /// Base URLs (ending in `/`); each file is `<base><name>.gz`.
    pub base_urls: &'static [&'static str],
    pub n_train: usize,
    pub n_test: usize,
    pub rows: usize,
    pub cols: usize,
    pub class_names: &'static [&'static str],
    /// Training images of each class (empty for procedural data, sized by the spec), so a
    /// spec's split sizes are known before anything is downloaded.
    pub train_per_class: &'static [usize],
}

impl CatalogEntry {
    /// File specs with full candidate URLs, in `FileRole::ALL` order.
    pub fn file_specs(&self) -> Vec<FileSpec> {
        self.files
            .iter()
            .map(|f| FileSpec {
                role: f.role,
                name: f.name.to_string(),
                sha256: f.sha256.to_string(),
                urls: self
                    .base_urls
                    .iter()
                    .map(|base| format!("{base}{}.gz", f.name))
                    .collect(),
                path: None,
                size: Some(f.size),
            })
            .collect()
    }

    pub fn class_names(&self) -> Vec<String> {
        self.class_names.iter().map(|s| s.to_string()).collect()
    }
}

const fn file(role: FileRole, name: &'static str, sha256: &'static str, size: u64) -> CatalogFile {
    CatalogFile {
        role,
        name,
        sha256,
        size,
    }
}

const IMAGES_60K: u64 = 16 + 60_000 * 784;
const IMAGES_10K: u64 = 16 + 10_000 * 784;

// Decompressed sha256s: all Fashion-MNIST values and the MNIST test/label values were checked
// against real files on this machine; MNIST train-images is quoted from a public source.
static MNIST_FILES: [CatalogFile; 4] = [
    file(
        FileRole::TrainImages,
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        IMAGES_60K,
    ),
    file(
        FileRole::TrainLabels,
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        60_008,
    ),
    file(
        FileRole::TestImages,
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        IMAGES_10K,
    ),
    file(
        FileRole::TestLabels,
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        10_008,
    ),
];

static FASHION_FILES: [CatalogFile; 4] = [
    file(
        FileRole::TrainImages,
        "train-images-idx3-ubyte",
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        IMAGES_60K,
    ),
    file(
        FileRole::TrainLabels,
        "train-labels-idx1-ubyte",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        60_008,
    ),
    file(
        FileRole::TestImages,
        "t10k-images-idx3-ubyte",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        IMAGES_10K,
    ),
    file(
        FileRole::TestLabels,
        "t10k-labels-idx1-ubyte",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        10_008,
    ),
];

static CATALOG: [CatalogEntry; 3] = [
    CatalogEntry {
        name: "mnist",
        kind: CatalogKind::Idx,
        files: &MNIST_FILES,
        base_urls: &[
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ],
        n_train: 60_000,
        n_test: 10_000,
        rows: 28,
        cols: 28,
        class_names: &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        train_per_class: &[5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    },
    CatalogEntry {
        name: "fashion-mnist",
        kind: CatalogKind::Idx,
        files: &FASHION_FILES,
        base_urls: &[
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
        ],
        n_train: 60_000,
        n_test: 10_000,
        rows: 28,
        cols: 28,
        class_names: &[
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ],
        train_per_class: &[6000; 10],
    },
    CatalogEntry {
        name: "shapes",
        kind: CatalogKind::Procedural,
        files: &[],
        base_urls: &[],
        // Defaults only; the spec's shapes options decide the real sizes.
        n_train: 10_000,
        n_test: 2_000,
        rows: 64,
        cols: 64,
        class_names: &["square", "ellipse", "heart"],
        train_per_class: &[],
    },
];

static NAMES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| CATALOG.iter().map(|e| e.name).collect());

/// The built-in entry called `name`, if any.
pub fn lookup(name: &str) -> Option<&'static CatalogEntry> {
    CATALOG.iter().find(|e| e.name == name)
}

/// Names of all built-in datasets, for error messages and `--help`.
pub fn names() -> &'static [&'static str] {
    &NAMES
}

/// A spec's own file, given by local `path` or `url`, always with the payload's `sha256`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    #[serde(default)]
    pub path: Option<PathBuf>,
    #[serde(default)]
    pub url: Option<String>,
    pub sha256: String,
}

/// A dataset described by the spec instead of the catalog: four IDX files, or only the two
/// training files when the test split is carved out of them (`test_fraction`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetFiles {
    pub train_images: FileRef,
    pub train_labels: FileRef,
    #[serde(default)]
    pub test_images: Option<FileRef>,
    #[serde(default)]
    pub test_labels: Option<FileRef>,
    #[serde(default)]
    pub class_names: Option<Vec<String>>,
}

/// Why a spec's `DatasetFiles` cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DatasetFilesError {
    #[error("invalid dataset file {role:?}: neither `path` nor `url` is given")]
    NoLocation { role: FileRole },
    #[error("invalid dataset file {role:?}: sha256 `{sha256}` is not 64 hex digits")]
    BadSha256 { role: FileRole, sha256: String },
}

impl DatasetFiles {
    /// File specs of the files given, in `FileRole::ALL` order; the file name is taken from the
    /// path or URL with any `.gz` removed.
    pub fn file_specs(&self) -> Result<Vec<FileSpec>, DatasetFilesError> {
        let refs = [
            (FileRole::TrainImages, Some(&self.train_images)),
            (FileRole::TrainLabels, Some(&self.train_labels)),
            (FileRole::TestImages, self.test_images.as_ref()),
            (FileRole::TestLabels, self.test_labels.as_ref()),
        ];
        refs.iter()
            .filter_map(|(role, r)| r.map(|r| (role, r)))
            .map(|(role, r)| {
                let sha = r.sha256.to_ascii_lowercase();
                if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(DatasetFilesError::BadSha256 {
                        role: *role,
                        sha256: r.sha256.clone(),
                    });
                }
                let location = match (&r.path, &r.url) {
                    (Some(p), _) => p.to_string_lossy().into_owned(),
                    (None, Some(u)) => u.clone(),
                    (None, None) => return Err(DatasetFilesError::NoLocation { role: *role }),
                };
                let base = location.rsplit(['/', '\\']).next().unwrap_or(&location);
                let name = base.strip_suffix(".gz").unwrap_or(base).to_string();
                Ok(FileSpec {
                    role: *role,
                    name,
                    sha256: sha,
                    urls: r.url.iter().cloned().collect(),
                    path: r.path.clone(),
                    size: None,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_resolves_and_idx_entries_have_four_distinct_files() {
        for name in names() {
            let entry = lookup(name).unwrap();
            assert_eq!(entry.name, *name);
            if entry.kind == CatalogKind::Idx {
                let specs = entry.file_specs();
                let roles: Vec<FileRole> = specs.iter().map(|s| s.role).collect();
                assert_eq!(roles, FileRole::ALL);
                for s in &specs {
                    assert_eq!(s.sha256.len(), 64);
                    assert_eq!(s.urls.len(), entry.base_urls.len());
                    assert!(s.urls.iter().all(|u| u.ends_with(&s.gz_name())));
                }
                assert_eq!(entry.class_names.len(), 10);
                let per_class: usize = entry.train_per_class.iter().sum();
                assert_eq!(per_class, entry.n_train);
            }
        }
        assert!(lookup("cifar10").is_none());
    }

    #[test]
    fn spec_files_need_a_location_and_a_valid_sha256() {
        let good = FileRef {
            path: Some("d/train-images-idx3-ubyte.gz".into()),
            url: None,
            sha256: "a".repeat(64),
        };
        let mut files = DatasetFiles {
            train_images: good.clone(),
            train_labels: FileRef {
                path: None,
                url: Some("https://x/y/labels.gz".into()),
                ..good.clone()
            },
            test_images: None,
            test_labels: None,
            class_names: None,
        };
        let specs = files.file_specs().unwrap();
        assert_eq!(specs.len(), 2, "training files only");
        files.test_images = Some(good.clone());
        files.test_labels = Some(good.clone());
        let specs = files.file_specs().unwrap();
        assert_eq!(specs[0].name, "train-images-idx3-ubyte");
        assert_eq!((specs[1].name.as_str(), specs[1].urls.len()), ("labels", 1));
        assert_eq!(
            specs.iter().map(|s| s.role).collect::<Vec<_>>(),
            FileRole::ALL
        );
        files.test_labels.as_mut().unwrap().sha256 = "xyz".into();
        assert!(matches!(
            files.file_specs(),
            Err(DatasetFilesError::BadSha256 {
                role: FileRole::TestLabels,
                ..
            })
        ));
        files.test_labels = Some(FileRef {
            path: None,
            url: None,
            ..good
        });
        assert!(matches!(
            files.file_specs(),
            Err(DatasetFilesError::NoLocation { .. })
        ));
    }
}
