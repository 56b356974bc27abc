//! 2-D latent scatter plots coloured by class, panels side by side with one shared legend.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::legend::{draw_legend, legend_size, LegendEntry, LineKind, Marker};
use super::{
    draw_title, format_tick, house_mesh, padded_range, palette, save, DrawResult, Drawing,
    FigureFiles, FONT, PANEL_TITLE_SIZE, TITLE_SIZE,
};

/// One model's 2-D codes of the test set and their class labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPanel {
    pub title: String,
    pub points: Vec<[f32; 2]>,
    pub labels: Vec<u8>,
}

const PANEL_SIZE: u32 = 560;

struct Scatter<'a> {
    title: &'a str,
    panels: &'a [ScatterPanel],
    class_names: &'a [String],
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &ScatterPanel,
) -> Result<()> {
    let x_range = padded_range(panel.points.iter().map(|p| p[0] as f64));
    let y_range = padded_range(panel.points.iter().map(|p| p[1] as f64));
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, PANEL_TITLE_SIZE))
        .margin(10)
        .x_label_area_size(46)
        .y_label_area_size(56)
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
        .draw_err()?;
    let mut mesh = chart.configure_mesh();
    house_mesh(&mut mesh, "z₁", "z₂");
    mesh.x_label_formatter(&|v| format_tick(*v))
        .y_label_formatter(&|v| format_tick(*v))
        .draw()
        .draw_err()?;
    // Small translucent dots: thousands of test points overlap, and density should show.
    let radius = if panel.points.len() > 2000 { 2 } else { 3 };
    chart
        .draw_series(panel.points.iter().zip(&panel.labels).map(|(p, &l)| {
            Circle::new(
                (p[0] as f64, p[1] as f64),
                radius,
                palette(l as usize).mix(0.6).filled(),
            )
        }))
        .draw_err()?;
    Ok(())
}

/// Class key: one dot per class in its colour, under a "class" heading.
fn legend(names: &[String]) -> Vec<LegendEntry> {
    let mut entries = vec![LegendEntry::heading("class")];
    entries.extend(names.iter().enumerate().map(|(i, name)| LegendEntry {
        label: name.clone(),
        color: palette(i),
        line: LineKind::None,
        marker: Some(Marker::Circle),
    }));
    entries
}

impl Drawing for Scatter<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.panels.len().max(1) as u32;
        let legend_w = legend_size(&legend(self.class_names)).0 as u32 + 20;
        (PANEL_SIZE * n + legend_w + 20, PANEL_SIZE + TITLE_SIZE + 24)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let body = draw_title(root, self.title, TITLE_SIZE, TITLE_SIZE + 24)?;
        let (plots, legend_area) =
            body.split_horizontally(PANEL_SIZE * self.panels.len().max(1) as u32 + 10);
        for (area, panel) in plots
            .split_evenly((1, self.panels.len().max(1)))
            .iter()
            .zip(self.panels)
        {
            draw_panel(area, panel)?;
        }
        // Level with the top of the plots, below the panel captions.
        draw_legend(&legend_area, &legend(self.class_names), (4.0, 40.0))
    }
}

/// Side-by-side scatter panels (e.g. AE vs VAE) of 2-D codes coloured by class;
/// `class_names[label]` names each class in the shared legend.
pub fn latent_scatter(
    path: &Path,
    title: &str,
    panels: &[ScatterPanel],
    class_names: &[String],
) -> Result<FigureFiles> {
    if panels.is_empty() {
        bail!("latent scatter needs at least one panel");
    }
    for panel in panels {
        if panel.points.len() != panel.labels.len() {
            bail!(
                "scatter panel '{}': {} points but {} labels",
                panel.title,
                panel.points.len(),
                panel.labels.len()
            );
        }
        if let Some(&l) = panel
            .labels
            .iter()
            .find(|&&l| l as usize >= class_names.len())
        {
            bail!(
                "scatter panel '{}': label {l} has no class name",
                panel.title
            );
        }
    }
    save(
        &Scatter {
            title,
            panels,
            class_names,
        },
        path,
    )
}
