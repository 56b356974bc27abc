//! The `download` stage: every file of a dataset from the first source that has it, verified by
//! the sha256 of its decompressed payload (data folder, mirror, system folders, then URLs).

use std::collections::BTreeMap;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::{StageContext, StageImpl};
use crate::data::{self, catalog::FileRef, fetch::FetchOptions, FileSpec};

pub struct DownloadStage;

/// Download reads the dataset's identity and file checksums, not where the bytes come from:
/// every source is verified against the same sha256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadParams {
    pub dataset: String,
    /// File role → sha256 of the decompressed payload, for files the spec names itself.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
    /// Only the training files are fetched: the test split is carved out of them
    /// (`preprocess.test_fraction`). Left out when false so existing keys stay valid.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub train_only: bool,
}

/// Where the spec's own data files are (shared with preprocess, which decodes them). Their
/// checksums are in the key; their paths and URLs are not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetFilesContext {
    /// File role → the file, paths made absolute; empty for catalog datasets.
    pub files: BTreeMap<String, FileRef>,
}

impl DatasetFilesContext {
    /// The spec's own data files, when it names any.
    pub fn own_files(&self) -> Option<&BTreeMap<String, FileRef>> {
        Some(&self.files).filter(|f| !f.is_empty())
    }
}

/// The files to fetch: the spec's own, or the catalog entry's; only the training files when
/// the test split is carved out of them (`train_only`).
pub fn file_specs(
    dataset: &str,
    context: &DatasetFilesContext,
    train_only: bool,
) -> anyhow::Result<Vec<FileSpec>> {
    let all = if let Some(files) = context.own_files() {
        let own: data::DatasetFiles = serde_json::to_value(files)
            .and_then(serde_json::from_value)
            .context("invalid dataset files")?;
        own.file_specs()?
    } else {
        data::lookup(dataset)
            .ok_or_else(|| anyhow::anyhow!("`{dataset}` is not in the catalog"))?
            .file_specs()
    };
    Ok(all
        .into_iter()
        .filter(|s| !train_only || s.role.is_train())
        .collect())
}

impl StageImpl for DownloadStage {
    const IMPLEMENTATION_VERSION: u32 = 1;
    type Params = DownloadParams;
    type Context = DatasetFilesContext;

    fn run(
        ctx: &StageContext,
        p: DownloadParams,
        files: DatasetFilesContext,
    ) -> anyhow::Result<()> {
        let specs = file_specs(&p.dataset, &files, p.train_only)?;
        let opts = FetchOptions {
            data_dir: ctx.env.project.join("data"),
            mirror: data::fetch::resolve_mirror(ctx.env.data_mirror.as_deref()),
            ..FetchOptions::default()
        };
        for spec in &specs {
            anyhow::ensure!(!ctx.cancelled(), "cancelled");
            let dest = ctx.out.join(spec.gz_name());
            let mut report =
                |pr: data::FetchProgress| ctx.progress.progress(pr.bytes, pr.total, "bytes");
            let got = data::fetch::fetch_file_cancellable(
                &p.dataset,
                spec,
                &opts,
                &dest,
                &mut report,
                ctx.cancel,
            )?;
            // A source that had the file but could not serve it (a truncated copy in the
            // mirror, say) is worth a warning even though a later source worked.
            for skipped in &got.passed_over {
                let warning = format!("warning: {}: {skipped}; passed over", spec.name);
                ctx.log.line(&warning);
                ctx.progress.note(warning);
            }
            ctx.log.line(format!(
                "{}: {} from {} ({} bytes, sha256 {})",
                spec.name, got.source, got.origin, got.stored_bytes, got.sha256
            ));
            ctx.progress
                .note(format!("{} from {}", spec.name, got.source));
        }
        Ok(())
    }
}
