//! The `download` stage: every file of a dataset from the first source that has it, verified by
//! the sha256 of its decompressed payload (data folder, mirror, system folders, then URLs).

use anyhow::Context;

use super::{StageContext, StageRunner};
use crate::data::{self, fetch::FetchOptions, FileSpec};
use crate::plan::params::DownloadParams;

pub struct DownloadRunner;

/// The spec's own data files (`context.files`), when it names any.
pub fn own_files(context: &serde_json::Value) -> Option<&serde_json::Value> {
    context
        .get("files")
        .filter(|f| f.as_object().is_some_and(|o| !o.is_empty()))
}

/// The files to fetch: the spec's own, or the catalog entry's; only the training files when
/// the test split is carved out of them (`train_only`).
pub fn file_specs(
    dataset: &str,
    context: &serde_json::Value,
    train_only: bool,
) -> anyhow::Result<Vec<FileSpec>> {
    let all = if let Some(files) = own_files(context) {
        let own: data::DatasetFiles =
            serde_json::from_value(files.clone()).context("invalid dataset files")?;
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

impl StageRunner for DownloadRunner {
    fn run(&self, ctx: &StageContext) -> anyhow::Result<()> {
        let p: DownloadParams = ctx.params()?;
        let specs = file_specs(&p.dataset, &ctx.job.def.context, p.train_only)?;
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
