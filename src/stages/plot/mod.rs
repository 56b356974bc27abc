//! The `plot` stage: the classic AE/VAE lecture figures from the trained models and their
//! evaluations, each as PNG and SVG. Which figures exist, what each needs and how it is drawn
//! is the figure registry (`registry.rs`); a figure the sweep cannot have is left out with a
//! notice (stage log, run output, report) saying why.

mod anomaly;
mod curves;
mod generate;
mod images;
mod manifest;
mod registry;
mod sweep;
mod variants;

pub use manifest::report_sections;
pub use registry::{figure_names, Canvas, DrawnFile, Figure, Reason, FIGURES};
pub use sweep::{Member, Sweep};

use anyhow::Context;

use super::{StageContext, StageRunner};
use crate::plan::params::PlotParams;
use crate::report::{notices, Notice, NoticeKind};

pub struct PlotRunner;

impl StageRunner for PlotRunner {
    fn run(&self, ctx: &StageContext) -> anyhow::Result<()> {
        let p: PlotParams = ctx.params()?;
        let sweep = Sweep::load(ctx, &p)?;
        let mut drawn = Vec::new();
        let mut notes = Vec::new();
        for name in &p.plots.figures {
            // Validation accepts registered names only; a cached job from elsewhere might not.
            let figure =
                registry::find(name).with_context(|| format!("unknown figure `{name}`"))?;
            let mut canvas = Canvas::new(ctx.out, figure.name());
            match figure.applies(&sweep) {
                Ok(()) => {
                    figure
                        .draw(&sweep, &mut canvas)
                        .with_context(|| format!("failed to draw {name}"))?;
                    ctx.log.line(format!("drew {name}"));
                }
                Err(Reason(why)) => canvas.notices.push(Notice {
                    kind: NoticeKind::Skipped,
                    subject: format!("figure {name}"),
                    message: why,
                }),
            }
            // The run summary prints them from `notices.json`, cached or not.
            for n in &canvas.notices {
                ctx.log.line(n.to_string());
            }
            drawn.extend(canvas.drawn);
            notes.extend(canvas.notices);
        }
        manifest::write(ctx.out, &drawn)?;
        notices::write(ctx.out, &notes)?;
        // Both formats are drawn; keep the ones the spec asked for.
        for d in &drawn {
            for ext in ["png", "svg"] {
                if !p.plots.formats.iter().any(|f| f == ext) {
                    std::fs::remove_file(ctx.out.join(format!("{}.{ext}", d.file)))?;
                }
            }
        }
        Ok(())
    }
}
