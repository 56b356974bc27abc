//! The built-in stage kinds, listed once: names, parsing, implementation versions and runner
//! dispatch all come from the one `stage_kinds!` table below.
//!
//! Each kind's module owns what it is: its hashed parameters, its unhashed context, its version
//! and its output file names (see [`StageImpl`]). Adding a kind is one row here plus its module.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{command, download, evaluate, plot, preprocess, report, train};
use super::{StageContext, StageRunner};

/// What one stage kind declares about itself (turborepo's `TaskHashable`, split in two).
pub trait StageImpl: 'static {
    /// Bump when the kind's code changes what it writes: it invalidates that kind's entries.
    const IMPLEMENTATION_VERSION: u32;
    /// Exactly what the stage reads that changes its output; hashed into its key.
    type Params: Serialize + DeserializeOwned;
    /// Run-time settings that must not change the output (where to read, a working folder);
    /// not hashed.
    type Context: Serialize + DeserializeOwned;
    fn run(ctx: &StageContext, params: Self::Params, context: Self::Context)
        -> anyhow::Result<()>;
}

/// Runs an implementation from its job: parameters and context decoded as its own types.
struct Typed<S>(PhantomData<fn() -> S>);

impl<S: StageImpl> StageRunner for Typed<S> {
    fn run(&self, ctx: &StageContext) -> anyhow::Result<()> {
        let params: S::Params = serde_json::from_value(ctx.job.def.params.clone())?;
        let context: S::Context = serde_json::from_value(ctx.job.def.context.clone())?;
        S::run(ctx, params, context)
    }
}

/// The kind each implementation is (generated, so the table is the only place it is said).
pub trait KindOf {
    const KIND: StageKind;
}

macro_rules! stage_kinds {
    ($($(#[$doc:meta])* $kind:ident = $name:literal => $imp:ty,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum StageKind {
            $($(#[$doc])* #[serde(rename = $name)] $kind,)*
        }

        impl StageKind {
            pub const ALL: &'static [StageKind] = &[$(StageKind::$kind),*];

            pub fn name(self) -> &'static str {
                match self { $(StageKind::$kind => $name,)* }
            }

            pub fn implementation_version(self) -> u32 {
                match self { $(StageKind::$kind => <$imp as StageImpl>::IMPLEMENTATION_VERSION,)* }
            }

            pub fn runner(self) -> &'static dyn StageRunner {
                match self { $(StageKind::$kind => &Typed::<$imp>(PhantomData),)* }
            }
        }

        $(impl KindOf for $imp { const KIND: StageKind = StageKind::$kind; })*
    };
}

stage_kinds! {
    /// Fetches and verifies a dataset's files.
    Download = "download" => download::DownloadStage,
    /// Decodes (or generates) a dataset into prepared splits.
    Preprocess = "preprocess" => preprocess::PreprocessStage,
    /// Trains one sweep member.
    Train = "train" => train::TrainStage,
    /// Evaluates one trained model on the test split.
    Evaluate = "evaluate" => evaluate::EvaluateStage,
    /// Draws the figures of the whole sweep.
    Plot = "plot" => plot::PlotStage,
    /// Writes the comparison tables of the whole sweep.
    Report = "report" => report::ReportStage,
    /// Runs a `[[command]]` of the spec.
    Command = "command" => command::CommandStage,
}

impl StageKind {
    pub fn parse(s: &str) -> Option<StageKind> {
        StageKind::ALL.iter().copied().find(|k| k.name() == s)
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_match_serde() {
        for &k in StageKind::ALL {
            assert_eq!(StageKind::parse(k.name()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
        assert_eq!(StageKind::parse("nope"), None);
    }
}
