//! The `preprocess` stage: decode the downloaded files (or generate shapes) into the prepared
//! binary splits the trainer reads, with a summary and a contact sheet.

use serde::{Deserialize, Serialize};

use super::download::DatasetFilesContext;
use super::{StageContext, StageImpl};
use crate::data::{self, raw::RawSource, ShapesOptions};
use crate::plan::Input;
use crate::spec::{Binarize, PreprocessSpec, ShapesSpec};

pub struct PreprocessStage;

/// The prepared splits it writes (see `data::preprocess`), read by train, evaluate and plot.
pub const TRAIN_SPLIT: &str = "train.bin";
pub const VAL_SPLIT: &str = "val.bin";
pub const TEST_SPLIT: &str = "test.bin";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreprocessParams {
    /// The dataset's name and procedural options; its files reach this key through the
    /// download stage's key, so where they were read from does not matter.
    pub dataset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shapes: Option<ShapesSpec>,
    pub options: PreprocessSpec,
}

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

impl StageImpl for PreprocessStage {
    const IMPLEMENTATION_VERSION: u32 = 1;
    type Params = PreprocessParams;
    /// The spec's own files, when the dataset is not a catalog one.
    type Context = DatasetFilesContext;

    fn run(
        ctx: &StageContext,
        p: PreprocessParams,
        files: DatasetFilesContext,
    ) -> anyhow::Result<()> {
        let raw = if let Some(s) = &p.shapes {
            let opts = ShapesOptions {
                n_train: s.n_train,
                n_test: s.n_test,
                size: s.size,
                seed: p.options.split_seed,
            };
            data::raw::load_raw(RawSource::Shapes(&opts))?
        } else {
            let dir = ctx.input(Input::Raw)?;
            // A carved test split reads the training files only: the download stage fetched
            // nothing else.
            let train_only = p.options.test_fraction > 0.0;
            let specs = super::download::file_specs(&p.dataset, &files, train_only)?;
            let catalog = data::lookup(&p.dataset).filter(|_| files.own_files().is_none());
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
