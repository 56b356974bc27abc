//! Overlaid score histograms (e.g. anomaly scores of normal vs anomalous test data).

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    draw_title, format_tick, house_mesh, palette, save, DrawResult, Drawing, FigureFiles, FONT,
    LABEL_SIZE, TITLE_SIZE,
};

/// One group of scores drawn as a translucent density histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramGroup {
    pub name: String,
    pub values: Vec<f64>,
}

struct Histograms<'a> {
    title: &'a str,
    x_label: &'a str,
    groups: &'a [HistogramGroup],
    bins: usize,
}

impl Histograms<'_> {
    /// Shared bin edges over all groups' finite values.
    fn edges(&self) -> (f64, f64) {
        let values = self
            .groups
            .iter()
            .flat_map(|g| g.values.iter())
            .filter(|v| v.is_finite());
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
        if hi - lo < 1e-12 {
            (lo - 0.5, lo + 0.5)
        } else {
            (lo, hi)
        }
    }

    /// Densities (fraction per unit of x) so groups of different sizes are comparable.
    fn densities(&self, group: &HistogramGroup, lo: f64, width: f64) -> Vec<f64> {
        let mut counts = vec![0usize; self.bins];
        let finite: Vec<f64> = group
            .values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        for v in &finite {
            let bin = (((v - lo) / width) as usize).min(self.bins - 1);
            counts[bin] += 1;
        }
        let total = finite.len().max(1) as f64;
        counts.iter().map(|&c| c as f64 / total / width).collect()
    }
}

impl Drawing for Histograms<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let body = draw_title(root, self.title, TITLE_SIZE, TITLE_SIZE + 24)?;
        let (lo, hi) = self.edges();
        let width = (hi - lo) / self.bins as f64;
        let densities: Vec<Vec<f64>> = self
            .groups
            .iter()
            .map(|g| self.densities(g, lo, width))
            .collect();
        let top = densities
            .iter()
            .flatten()
            .copied()
            .fold(0.0, f64::max)
            .max(1e-12)
            * 1.08;
        let mut chart = ChartBuilder::on(&body)
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(78)
            .build_cartesian_2d(lo..hi, 0.0..top)
            .draw_err()?;
        let mut mesh = chart.configure_mesh();
        house_mesh(&mut mesh, self.x_label, "density");
        mesh.x_label_formatter(&|v| format_tick(*v))
            .y_label_formatter(&|v| format_tick(*v))
            .draw()
            .draw_err()?;
        for (g, (group, density)) in self.groups.iter().zip(&densities).enumerate() {
            let color = palette(g);
            chart
                .draw_series(density.iter().enumerate().map(|(b, &d)| {
                    let x0 = lo + b as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, d)], color.mix(0.45).filled())
                }))
                .draw_err()?
                .label(format!("{} (n = {})", group.name, group.values.len()))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.mix(0.6).filled())
                });
            // Outline so overlapping translucent bars stay readable.
            let outline = density.iter().enumerate().flat_map(|(b, &d)| {
                let x0 = lo + b as f64 * width;
                [(x0, d), (x0 + width, d)]
            });
            chart
                .draw_series(LineSeries::new(outline, color.stroke_width(2)))
                .draw_err()?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font((FONT, LABEL_SIZE))
            .draw()
            .draw_err()?;
        Ok(())
    }
}

/// Overlaid density histograms of several groups with shared bins.
pub fn score_histogram(
    path: &Path,
    title: &str,
    x_label: &str,
    groups: &[HistogramGroup],
    bins: usize,
) -> Result<FigureFiles> {
    if bins == 0 {
        bail!("histogram needs at least one bin");
    }
    if !groups
        .iter()
        .flat_map(|g| g.values.iter())
        .any(|v| v.is_finite())
    {
        bail!("histogram '{title}' has no finite values");
    }
    save(
        &Histograms {
            title,
            x_label,
            groups,
            bins,
        },
        path,
    )
}

/// Anomaly-score histograms of normal vs anomalous data.
pub fn anomaly_histogram(
    path: &Path,
    title: &str,
    normal: &[f64],
    anomalous: &[f64],
    bins: usize,
) -> Result<FigureFiles> {
    let groups = [
        HistogramGroup {
            name: "normal".into(),
            values: normal.to_vec(),
        },
        HistogramGroup {
            name: "anomalous".into(),
            values: anomalous.to_vec(),
        },
    ];
    score_histogram(path, title, "anomaly score", &groups, bins)
}
