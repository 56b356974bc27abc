//! The `plot` stage: the classic AE/VAE lecture figures from the trained models and their
//! evaluations, each as PNG and SVG. Which figures exist, what each needs and how it is drawn
//! is the figure registry (`registry.rs`); a figure the sweep cannot have is left out with a
//! notice (stage log, run output, report) saying why.

mod anomaly;
mod curves;
mod disentangle;
mod generate;
mod images;
mod manifest;
mod params;
mod registry;
mod sweep;
mod variants;

pub use manifest::report_sections;
pub use params::{PlotContext, PlotParams};
pub use registry::{
    default_figure_names, figure_names, Canvas, DrawnFile, Figure, Reason, FIGURES,
};
pub use sweep::{Member, Sweep};

use anyhow::Context;

use super::{StageContext, StageImpl};
use crate::report::{notices, Notice, NoticeKind};

pub struct PlotStage;

impl StageImpl for PlotStage {
    // 4: the figure registry (interpolation, arithmetic; seeds aggregated; notices).
    const IMPLEMENTATION_VERSION: u32 = 4;
    type Params = PlotParams;
    type Context = PlotContext;

    fn run(ctx: &StageContext, p: PlotParams, context: PlotContext) -> anyhow::Result<()> {
        let sweep = Sweep::load(ctx, &p, context)?;
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
