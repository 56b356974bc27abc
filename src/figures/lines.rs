//! Generic line charts: panels of named series with optional markers, point labels, error
//! bars, dashed lines and a chance diagonal.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    draw_title, padded_range, palette, save, DrawResult, Figure, FigureFiles, FONT, LABEL_SIZE,
    PANEL_TITLE_SIZE, TICK_SIZE, TITLE_SIZE,
};

/// One named curve. `point_labels` (empty or one per point) are written next to the markers;
/// `errors` (empty or one per point) draw ± vertical error bars; `dashed` draws a dashed line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub point_labels: Vec<String>,
    pub errors: Vec<f64>,
    pub dashed: bool,
    /// Palette index; series sharing a colour index share a colour (e.g. train/val of a run).
    pub color: usize,
}

/// One chart: axis labels and its series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinePanel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Draw the y = x diagonal (ROC chance line).
    pub diagonal: bool,
    /// Legend in the lower-right corner instead of the upper right (e.g. ROC curves).
    pub legend_lower_right: bool,
}

const PANEL_W: u32 = 620;
const PANEL_H: u32 = 480;

struct LineChart<'a> {
    title: &'a str,
    panels: &'a [LinePanel],
}

pub(crate) fn draw_line_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &LinePanel,
) -> Result<()> {
    let x_range = padded_range(
        panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0)),
    );
    let y_range = padded_range(panel.series.iter().flat_map(|s| {
        s.points.iter().enumerate().flat_map(move |(i, p)| {
            let e = s.errors.get(i).copied().unwrap_or(0.0);
            [p.1 - e, p.1 + e]
        })
    }));
    // Point labels are written to the right of their markers: leave room for them.
    let x_max = if panel.series.iter().any(|s| !s.point_labels.is_empty()) {
        x_range.1 + 0.06 * (x_range.1 - x_range.0)
    } else {
        x_range.1
    };
    let mut builder = ChartBuilder::on(area);
    if !panel.title.is_empty() {
        builder.caption(&panel.title, (FONT, PANEL_TITLE_SIZE));
    }
    let mut chart = builder
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(78)
        .build_cartesian_2d(x_range.0..x_max, y_range.0..y_range.1)
        .draw_err()?;
    chart
        .configure_mesh()
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .axis_desc_style((FONT, LABEL_SIZE))
        .label_style((FONT, TICK_SIZE))
        .light_line_style(RGBColor(238, 238, 238))
        .max_light_lines(2)
        .x_labels(8)
        .y_labels(8)
        .y_label_formatter(&|v| format_tick(*v))
        .x_label_formatter(&|v| format_tick(*v))
        .draw()
        .draw_err()?;
    if panel.diagonal {
        let lo = x_range.0.max(y_range.0);
        let hi = x_range.1.min(y_range.1);
        chart
            .draw_series(DashedLineSeries::new(
                [(lo, lo), (hi, hi)],
                6,
                4,
                RGBColor(150, 150, 150).into(),
            ))
            .draw_err()?;
    }
    for series in &panel.series {
        let color = palette(series.color);
        let style = color.stroke_width(2);
        let points = series.points.iter().copied();
        let drawn = if series.dashed {
            chart
                .draw_series(DashedLineSeries::new(points, 8, 5, style))
                .draw_err()?
        } else {
            chart
                .draw_series(LineSeries::new(points, style))
                .draw_err()?
        };
        if !series.name.is_empty() {
            drawn.label(series.name.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
            });
        }
        // Markers only where points are sparse enough to tell apart.
        if series.points.len() <= 40 {
            chart
                .draw_series(
                    series
                        .points
                        .iter()
                        .map(|&p| Circle::new(p, 4, color.filled())),
                )
                .draw_err()?;
        }
        for (i, &(x, y)) in series.points.iter().enumerate() {
            if let Some(&e) = series.errors.get(i).filter(|e| e.is_finite() && **e > 0.0) {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x, y - e), (x, y + e)],
                        color.stroke_width(2),
                    )))
                    .draw_err()?;
            }
            if let Some(label) = series.point_labels.get(i).filter(|l| !l.is_empty()) {
                // Offset in pixels from the marker so the label does not cover it.
                let style = TextStyle::from((FONT, TICK_SIZE - 1).into_font()).color(&color);
                let text = Text::new(label.clone(), (6, -18), style);
                chart
                    .draw_series(std::iter::once(EmptyElement::at((x, y)) + text))
                    .draw_err()?;
            }
        }
    }
    if panel.series.iter().any(|s| !s.name.is_empty()) {
        chart
            .configure_series_labels()
            .position(if panel.legend_lower_right {
                SeriesLabelPosition::LowerRight
            } else {
                SeriesLabelPosition::UpperRight
            })
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font((FONT, TICK_SIZE))
            .draw()
            .draw_err()?;
    }
    Ok(())
}

/// Ticks without float noise: up to 4 significant digits, scientific when tiny or huge.
fn format_tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".to_string()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

impl Figure for LineChart<'_> {
    fn size(&self) -> (u32, u32) {
        match self.panels.len() {
            // A lone chart (rate-distortion, training curves, ROC) gets more room for labels.
            0 | 1 => (900, 640),
            n => (PANEL_W * n as u32 + 20, PANEL_H + TITLE_SIZE + 30),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let body = draw_title(root, self.title, TITLE_SIZE, TITLE_SIZE + 24)?;
        let body = body.margin(0, 10, 10, 10);
        let areas = body.split_evenly((1, self.panels.len().max(1)));
        for (area, panel) in areas.iter().zip(self.panels) {
            draw_line_panel(area, panel)?;
        }
        Ok(())
    }
}

fn check_series(panels: &[LinePanel]) -> Result<()> {
    if panels.is_empty() {
        bail!("line chart needs at least one panel");
    }
    for panel in panels {
        for s in &panel.series {
            let n = s.points.len();
            if (!s.point_labels.is_empty() && s.point_labels.len() != n)
                || (!s.errors.is_empty() && s.errors.len() != n)
            {
                bail!(
                    "series '{}': point_labels/errors must be empty or one per point",
                    s.name
                );
            }
        }
    }
    Ok(())
}

/// Panels of line charts side by side under a common title.
pub fn line_panels(path: &Path, title: &str, panels: &[LinePanel]) -> Result<FigureFiles> {
    check_series(panels)?;
    save(&LineChart { title, panels }, path)
}
