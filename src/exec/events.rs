//! Progress events from stages and the scheduler, consumed by the progress display.

use std::sync::mpsc::Sender;
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Event {
    Planned {
        total: usize,
        cached: usize,
        to_run: usize,
    },
    Started {
        stage: String,
    },
    Progress {
        stage: String,
        done: u64,
        total: Option<u64>,
        unit: String,
    },
    Note {
        stage: String,
        message: String,
    },
    Finished {
        stage: String,
        outcome: StageOutcome,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum StageOutcome {
    Ran {
        duration: Duration,
    },
    /// Another process computed it while we waited for its lock.
    CachedByOther,
    Failed {
        error: String,
        log: Option<std::path::PathBuf>,
    },
    Cancelled,
}

impl StageOutcome {
    pub fn succeeded(&self) -> bool {
        matches!(self, StageOutcome::Ran { .. } | StageOutcome::CachedByOther)
    }
}

/// A stage's handle for reporting progress; cheap to clone.
#[derive(Clone)]
pub struct ProgressHandle {
    pub stage: String,
    tx: Option<Sender<Event>>,
}

impl ProgressHandle {
    pub fn new(stage: &str, tx: Option<Sender<Event>>) -> Self {
        ProgressHandle {
            stage: stage.to_owned(),
            tx,
        }
    }

    pub fn send(&self, e: Event) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(e);
        }
    }

    /// `unit` is what is counted: "bytes", "epochs", "images".
    pub fn progress(&self, done: u64, total: Option<u64>, unit: &str) {
        self.send(Event::Progress {
            stage: self.stage.clone(),
            done,
            total,
            unit: unit.to_owned(),
        });
    }

    pub fn note(&self, message: impl Into<String>) {
        self.send(Event::Note {
            stage: self.stage.clone(),
            message: message.into(),
        });
    }
}
