//! Stage definitions: what a stage is, what it reads, and what it needs to run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::stages::StageKind;
use crate::stages::{KindOf, StageImpl};

/// What a stage asks of the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    pub cores: usize,
    pub gpus: usize,
}

impl Default for Resources {
    fn default() -> Self {
        Resources { cores: 1, gpus: 0 }
    }
}

/// An input of a built-in stage, by what it is. Its [`role`](Input::role) text names the input
/// in the stage's key, so the text of each role must never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// The downloaded files (read by preprocess).
    Raw,
    /// The prepared splits.
    Data,
    /// The trained model of an evaluate stage's own run.
    Model,
    /// The train stage of the sweep member with this label.
    Train(&'a str),
    /// The evaluate stage of the sweep member with this label.
    Evaluate(&'a str),
    /// The plot stage (read by the report).
    Plot,
    /// A `[[command]]` input: another stage, by its name.
    Stage(&'a str),
}

impl Input<'_> {
    pub fn role(&self) -> String {
        match self {
            Input::Raw => "raw".into(),
            Input::Data => "data".into(),
            Input::Model => "model".into(),
            Input::Train(label) => format!("train:{label}"),
            Input::Evaluate(label) => format!("evaluate:{label}"),
            Input::Plot => "plot".into(),
            Input::Stage(name) => (*name).to_owned(),
        }
    }
}

/// A stage before keys are known: its inputs are referred to by stage name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageDef {
    /// Unique within a plan, e.g. `train/vae-z2-b1`.
    pub name: String,
    pub kind: StageKind,
    pub implementation_version: u32,
    /// Exactly the parameters the stage reads (its kind's `Params`); hashed into the key.
    pub params: serde_json::Value,
    /// Input role (see [`Input::role`]) → producing stage's name.
    pub inputs: BTreeMap<String, String>,
    /// Files whose content is hashed into the key.
    #[serde(default)]
    pub file_deps: Vec<std::path::PathBuf>,
    pub resources: Resources,
    /// Copy outputs into `results/<experiment>/<run>/` after a run.
    pub publish: bool,
    /// Its kind's `Context`: run-time settings that must not change the output (not hashed).
    #[serde(default)]
    pub context: serde_json::Value,
}

impl StageDef {
    /// A stage of kind `S`, its parameters and context written as `S` declares them.
    pub fn new<S: StageImpl + KindOf>(
        name: impl Into<String>,
        params: &S::Params,
        context: &S::Context,
    ) -> StageDef {
        StageDef {
            name: name.into(),
            kind: S::KIND,
            implementation_version: S::IMPLEMENTATION_VERSION,
            params: serde_json::to_value(params).expect("stage params serialize"),
            inputs: BTreeMap::new(),
            file_deps: Vec::new(),
            resources: Resources::default(),
            publish: false,
            context: serde_json::to_value(context).expect("stage context serializes"),
        }
    }

    /// Adds an input: `producer` is the name of the stage whose output is read as `input`.
    pub fn reads(mut self, input: Input, producer: &str) -> StageDef {
        self.inputs.insert(input.role(), producer.to_owned());
        self
    }
}
