//! The `preprocess` stage: decode the downloaded files (or generate shapes) into the prepared
//! binary splits the trainer reads, with a summary and a contact sheet.

use super::{StageContext, StageRunner};
use crate::data::{self, raw::RawSource, ShapesOptions};
use crate::plan::params::PreprocessParams;
use crate::spec::{Binarize, PreprocessSpec};

pub struct PreprocessRunner;

pub fn options(p: &PreprocessSpec) -> data::PreprocessOptions {
    data::PreprocessOptions {
        binarize: match p.binarize {
            Binarize::None => data::Binarize::None,
            Binarize::Static => data::Binarize::Static {
                threshold: p.threshold,
            },
            Binarize::Dynamic => data::Binarize::Dynamic,
        },
        val_fraction: p.val_fraction,
        test_fraction: p.test_fraction,
        split_seed: p.split_seed,
        subset: p.subset,
        classes: p.classes.clone(),
        flatten: p.flatten,
    }
}

impl StageRunner for PreprocessRunner {
    fn run(&self, ctx: &StageContext) -> anyhow::Result<()> {
        let p: PreprocessParams = ctx.params()?;
        let raw = if let Some(s) = &p.shapes {
            let opts = ShapesOptions {
                n_train: s.n_train,
                n_test: s.n_test,
                size: s.size,
                seed: p.options.split_seed,
            };
            data::raw::load_raw(RawSource::Shapes(&opts))?
        } else {
            let dir = ctx.input("raw")?;
            // A carved test split reads the training files only: the download stage fetched
            // nothing else.
            let train_only = p.options.test_fraction > 0.0;
            let context = &ctx.job.def.context;
            let specs = super::download::file_specs(&p.dataset, context, train_only)?;
            let catalog =
                data::lookup(&p.dataset).filter(|_| super::download::own_files(context).is_none());
            match catalog {
                Some(entry) if !train_only => {
                    data::raw::load_raw(RawSource::Catalog { entry, dir })?
                }
                _ => {
                    let paths = data::raw::find_dataset_files(dir, &specs)?;
                    let class_names = catalog.map_or_else(
                        || (0..10).map(|c| c.to_string()).collect(),
                        |entry| entry.class_names(),
                    );
                    data::raw::load_raw(RawSource::Files {
                        name: &p.dataset,
                        paths: &paths,
                        specs: &specs,
                        class_names,
                    })?
                }
            }
        };
        ctx.progress.note(format!(
            "{} train + {} test images decoded",
            raw.train.n, raw.test.n
        ));
        let summary = data::preprocess(&raw, &options(&p.options), ctx.out)?;
        ctx.log.line(serde_json::to_string(&summary)?);
        if let Some(warning) = subset_warning(p.options.subset, summary.train.n + summary.val.n) {
            ctx.log.line(&warning);
            ctx.progress.note(warning);
        }
        Ok(())
    }
}

/// The subset is clamped to the images there are; say so rather than train on fewer silently.
fn subset_warning(subset: Option<usize>, pool: usize) -> Option<String> {
    let asked = subset.filter(|&k| k > pool)?;
    Some(format!(
        "warning: preprocess.subset = {asked} is more than the {pool} training images available \
         (after the class filter and any carved test split); all {pool} are used"
    ))
}
