//! What a stage kind is: [`StageImpl`], and the `stage_kinds!` macro that turns the one list of
//! kinds (in `stages/mod.rs`) into `StageKind`, its names, parsing and runner dispatch.
//!
//! Each kind's module owns what it is: its hashed parameters, its unhashed context, its version
//! and its output file names. Adding a kind is its module plus one row in that list.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{StageContext, StageKind};
use crate::exec::StageRunner;

/// What one stage kind declares about itself (turborepo's `TaskHashable`, split in two).
pub trait StageImpl: 'static {
    /// Bump when the kind's code changes what it writes: it invalidates that kind's entries.
    const IMPLEMENTATION_VERSION: u32;
    /// Exactly what the stage reads that changes its output; hashed into its key.
    type Params: Serialize + DeserializeOwned;
    /// Run-time settings that must not change the output (where to read, a working folder);
    /// not hashed.
    type Context: Serialize + DeserializeOwned;
    fn run(ctx: &StageContext, params: Self::Params, context: Self::Context) -> anyhow::Result<()>;
}

/// Runs an implementation from its job: parameters and context decoded as its own types.
pub struct Typed<S>(pub PhantomData<fn() -> S>);

impl<S: StageImpl> StageRunner for Typed<S> {
    fn run(&self, ctx: &StageContext) -> anyhow::Result<()> {
        let params: S::Params = serde_json::from_value(ctx.job.def.params.clone())?;
        let context: S::Context = serde_json::from_value(ctx.job.def.context.clone())?;
        S::run(ctx, params, context)
    }
}

/// The kind each implementation is (generated, so the list is the only place it is said).
pub trait KindOf {
    const KIND: StageKind;
}

/// Declares the stage kinds (invoked once, in `stages/mod.rs`, next to the kinds' modules).
macro_rules! stage_kinds {
    ($($(#[$doc:meta])* $kind:ident = $name:literal => $imp:ty,)*) => {
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        pub enum StageKind {
            $($(#[$doc])* #[serde(rename = $name)] $kind,)*
        }

        impl StageKind {
            pub const ALL: &'static [StageKind] = &[$(StageKind::$kind),*];

            pub fn name(self) -> &'static str {
                match self { $(StageKind::$kind => $name,)* }
            }

            pub fn runner(self) -> &'static dyn $crate::exec::StageRunner {
                use $crate::stages::kind::Typed;
                match self {
                    $(StageKind::$kind => &Typed::<$imp>(std::marker::PhantomData),)*
                }
            }
        }

        $(impl $crate::stages::KindOf for $imp {
            const KIND: StageKind = StageKind::$kind;
        })*
    };
}
pub(crate) use stage_kinds;

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
