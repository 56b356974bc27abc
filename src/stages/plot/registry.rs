//! The figure registry: every figure is a unit struct implementing [`Figure`], and [`FIGURES`]
//! is the only place one is registered. Spec validation (the names `plots.figures` accepts),
//! the plot stage's dispatch, the notices for figures a sweep cannot have, and the report's
//! headings and captions all come from that list, so they cannot disagree.
//!
//! Adding a figure: one struct with its test (in the file of its kind), one line in
//! `FIGURES`, and a bump of the plot stage's implementation version, unless the figure is
//! opt-in ([`Figure::on_by_default`] false): then no existing spec's plots change.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::sweep::Sweep;
use super::{anomaly, curves, disentangle, generate, images, variants};
use crate::figures::{self, GridPanel};
use crate::report::{Notice, NoticeKind};

/// Why a figure cannot be drawn for a sweep, said to the user (e.g. "needs a 2-D latent; the
/// sweep's latent sizes are 5, 10").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(pub String);

/// What a figure is called and how the report presents it.
pub struct About {
    /// The name in `plots.figures`; every file the figure writes starts with it.
    pub name: &'static str,
    /// The report's section heading.
    pub heading: &'static str,
    /// The report's caption under the figure.
    pub caption: &'static str,
}

/// One figure of the plot stage.
pub trait Figure: Sync {
    fn about(&self) -> About;
    fn name(&self) -> &'static str {
        self.about().name
    }
    /// Heading and caption of the figure's file.
    fn captions(&self) -> (String, String) {
        let about = self.about();
        (about.heading.to_owned(), about.caption.to_owned())
    }
    /// Heading and caption of a file drawn for one member (e.g. its anomaly scores).
    fn member_caption(&self, member: &str) -> (String, String) {
        let (heading, caption) = self.captions();
        (format!("{heading}: {member}"), caption)
    }
    /// Whether the sweep has what the figure needs; the reason is shown to the user when not.
    /// Whether a spec without `plots.figures` gets this figure. Figures added later default
    /// to off (opt-in), so the plot keys of specs that list no figures stay valid.
    fn on_by_default(&self) -> bool {
        true
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason>;
    /// Draws the figure's files through `canvas`; only called when [`Figure::applies`].
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()>;
}

/// Every figure, in report order.
pub static FIGURES: &[&dyn Figure] = &[
    &images::PriorSamples,
    &images::Reconstructions,
    &images::LatentScatter,
    &images::Manifold,
    &images::Traversals,
    &disentangle::FactorTraversals,
    &generate::Interpolation,
    &generate::Arithmetic,
    &curves::RateDistortion,
    &disentangle::MigVsBeta,
    &curves::MetricVsLatent,
    &curves::TrainingCurves,
    &variants::Denoising,
    &variants::LinearVsPca,
    &anomaly::Anomaly,
];

/// The names `plots.figures` accepts, in report order.
pub fn figure_names() -> Vec<&'static str> {
    FIGURES.iter().map(|f| f.name()).collect()
}

/// The figures a spec without `plots.figures` gets, in report order.
pub fn default_figure_names() -> Vec<&'static str> {
    FIGURES
        .iter()
        .filter(|f| f.on_by_default())
        .map(|f| f.name())
        .collect()
}

pub fn find(name: &str) -> Option<&'static dyn Figure> {
    FIGURES.iter().copied().find(|f| f.name() == name)
}

/// One file a figure drew (without extension), as listed in the plot stage's `figures.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawnFile {
    pub figure: String,
    pub file: String,
    /// The member the file is about, for per-member files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// The title drawn on it.
    pub title: String,
}

/// Where a figure draws: it names its files through this and leaves warnings here.
pub struct Canvas<'a> {
    dir: &'a Path,
    figure: &'static str,
    pub drawn: Vec<DrawnFile>,
    pub notices: Vec<Notice>,
}

impl<'a> Canvas<'a> {
    pub fn new(dir: &'a Path, figure: &'static str) -> Self {
        Canvas {
            dir,
            figure,
            drawn: Vec::new(),
            notices: Vec::new(),
        }
    }

    fn add(&mut self, file: String, member: Option<&str>, title: &str) -> PathBuf {
        let path = self.dir.join(&file);
        self.drawn.push(DrawnFile {
            figure: self.figure.to_owned(),
            file,
            member: member.map(str::to_owned),
            title: title.to_owned(),
        });
        path
    }

    /// The path of the figure's one file, `<name>`, titled `title`.
    pub fn file(&mut self, title: &str) -> PathBuf {
        self.add(self.figure.to_owned(), None, title)
    }

    /// The path of a named part, `<name>_<part>` (e.g. `anomaly_roc`).
    pub fn part(&mut self, part: &str, title: &str) -> PathBuf {
        self.add(format!("{}_{part}", self.figure), None, title)
    }

    /// The path of a part about one member, `<name>_<part>_<member>`.
    pub fn member_part(&mut self, part: &str, member: &str, title: &str) -> PathBuf {
        self.add(
            format!("{}_{part}_{member}", self.figure),
            Some(member),
            title,
        )
    }

    /// Draws image-grid `panels` of `(width, height)` images as the figure's one file.
    pub fn images(
        &mut self,
        title: &str,
        panels: &[GridPanel],
        size: (usize, usize),
    ) -> anyhow::Result<()> {
        figures::image_panels(&self.file(title), title, panels, size.0, size.1)?;
        Ok(())
    }

    /// A warning about what was drawn, for the run's output and the report.
    pub fn warn(&mut self, message: String) {
        self.notices.push(Notice {
            kind: NoticeKind::Warning,
            subject: format!("figure {}", self.figure),
            message,
        });
    }
}

/// `Ok` when `ok`, else the reason `why`.
pub fn need(ok: bool, why: &str) -> Result<(), Reason> {
    if ok {
        Ok(())
    } else {
        Err(Reason(why.to_owned()))
    }
}

/// "5, 10" for a reason's list of values.
pub fn listed<T: std::fmt::Display>(values: &[T]) -> String {
    values
        .iter()
        .map(T::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_files_start_with_them() {
        let names = figure_names();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "{names:?}");
        let dir = Path::new("out");
        let mut canvas = Canvas::new(dir, "anomaly");
        canvas.part("roc", "t");
        canvas.member_part("scores", "vae-b0.1-s5", "t");
        let files: Vec<&str> = canvas.drawn.iter().map(|d| d.file.as_str()).collect();
        assert_eq!(files, ["anomaly_roc", "anomaly_scores_vae-b0.1-s5"]);
    }

    #[test]
    fn opt_in_figures_are_not_in_the_default_list() {
        // Specs without `plots.figures` keep their plot keys when an opt-in figure is added.
        let defaults = default_figure_names();
        assert!(defaults.contains(&"traversals"));
        for name in ["mig_vs_beta", "factor_traversals"] {
            assert!(figure_names().contains(&name) && !defaults.contains(&name));
        }
    }
}
