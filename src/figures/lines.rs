//! Generic line charts: panels of named series with marker shapes, collision-free point labels,
//! error bars, dashed lines, a chance diagonal, explicit x ticks and a legend that avoids the
//! data.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::geometry::{Point, Rect, Segment};
use super::labels::draw_point_labels;
use super::legend::{
    best_corner, draw_legend, draw_marker, legend_size, LegendEntry, LineKind, Marker,
};
use super::{
    draw_title, format_tick_step, house_mesh, padded_range, palette, save, DrawResult, Drawing,
    FigureFiles, FONT, PANEL_TITLE_SIZE, TICK_SIZE, TITLE_SIZE,
};

/// One curve. `name` (if not empty) is its legend entry; `point_labels` (empty or one per
/// point) are written next to the markers where they fit; `errors` (empty or one per point)
/// draw ± vertical error bars, `x_errors` (likewise) horizontal ones, e.g. the sd over seeds
/// of a point measured on both axes; `point_markers` (empty or one per point) override
/// `marker`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub point_labels: Vec<String>,
    pub errors: Vec<f64>,
    pub x_errors: Vec<f64>,
    pub dashed: bool,
    /// Palette index; series sharing a colour index share a colour (e.g. train/val of a run).
    pub color: usize,
    pub marker: Marker,
    pub point_markers: Vec<Marker>,
}

/// One chart: axis labels, its series and legend.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinePanel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Draw the y = x diagonal (ROC chance line).
    pub diagonal: bool,
    /// Tick positions on x (e.g. exactly the latent sizes); empty: chosen automatically.
    pub x_ticks: Vec<f64>,
    /// Legend rows after the series' own (a marker-shape key, a line-style key).
    pub legend_extra: Vec<LegendEntry>,
    /// Legend in a column right of the plot instead of the emptiest corner inside it.
    pub legend_outside: bool,
    /// Start the y axis at 0: for errors compared across models, where a zoomed-in axis
    /// would blow a 0.1% difference up to the full height.
    pub y_from_zero: bool,
}

const PANEL_W: u32 = 620;
const PANEL_H: u32 = 480;
/// More points than this and markers would hide the curve.
const MAX_MARKERS: usize = 12;

struct LineChart<'a> {
    title: &'a str,
    panels: &'a [LinePanel],
}

fn legend_entries(panel: &LinePanel) -> Vec<LegendEntry> {
    let mut entries: Vec<LegendEntry> = panel
        .series
        .iter()
        .filter(|s| !s.name.is_empty())
        .map(|s| LegendEntry {
            label: s.name.clone(),
            color: palette(s.color),
            line: if s.dashed {
                LineKind::Dashed
            } else {
                LineKind::Solid
            },
            marker: (s.point_markers.is_empty() && s.points.len() <= MAX_MARKERS)
                .then_some(s.marker),
        })
        .collect();
    entries.extend(panel.legend_extra.iter().cloned());
    entries
}

fn ticks(explicit: &[f64], range: (f64, f64)) -> Vec<f64> {
    if explicit.is_empty() {
        RangedCoordf64::from(range.0..range.1).key_points(8)
    } else {
        explicit
            .iter()
            .copied()
            .filter(|x| (range.0..=range.1).contains(x))
            .collect()
    }
}

/// Axis ranges: the data (± error bars) padded, with room for point labels, from zero when
/// asked.
fn ranges(panel: &LinePanel) -> ((f64, f64), (f64, f64)) {
    let labelled = panel.series.iter().any(|s| !s.point_labels.is_empty());
    // Labelled points need room around them for their labels, also at the plot's edges.
    let grow = |(lo, hi): (f64, f64)| {
        let pad = if labelled { 0.08 * (hi - lo) } else { 0.0 };
        (lo - pad, hi + pad)
    };
    let xs = panel.series.iter().flat_map(|s| {
        s.points.iter().enumerate().flat_map(move |(i, p)| {
            let e = s.x_errors.get(i).copied().unwrap_or(0.0);
            [p.0 - e, p.0 + e]
        })
    });
    let ys = panel.series.iter().flat_map(|s| {
        s.points.iter().enumerate().flat_map(move |(i, p)| {
            let e = s.errors.get(i).copied().unwrap_or(0.0);
            [p.1 - e, p.1 + e]
        })
    });
    let zero = panel.y_from_zero.then_some(0.0);
    let (lo, hi) = grow(padded_range(ys.clone().chain(zero)));
    // Label padding must not push a zero-based axis far below zero.
    let lo = if panel.y_from_zero && ys.fold(f64::INFINITY, f64::min) >= 0.0 {
        lo.max(-0.02 * hi)
    } else {
        lo
    };
    (grow(padded_range(xs)), (lo, hi))
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Lays the chart out on `area`; draws nothing yet.
fn build<'a, DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): ((f64, f64), (f64, f64)),
) -> Result<Chart<'a, DB>> {
    ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(78)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .draw_err()
}

/// Pixel positions (relative to `base`) of the markers and of every curve and error-bar
/// segment: what legends and labels must avoid.
fn data_pixels<DB: DrawingBackend>(
    chart: &Chart<'_, DB>,
    panel: &LinePanel,
    base: (i32, i32),
) -> (Vec<Point>, Vec<Segment>, Rect) {
    let to_px = |p: &Point| {
        let (x, y) = chart.backend_coord(p);
        ((x - base.0) as f64, (y - base.1) as f64)
    };
    let (mut markers, mut segments) = (Vec::new(), Vec::new());
    for s in &panel.series {
        let px: Vec<Point> = s.points.iter().map(to_px).collect();
        segments.extend(px.windows(2).map(|w| (w[0], w[1])));
        for (a, b) in error_bars(s) {
            segments.push((to_px(&a), to_px(&b)));
        }
        if s.points.len() <= MAX_MARKERS {
            markers.extend(px);
        }
    }
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let plot = Rect {
        x0: (xr.start - base.0) as f64,
        y0: (yr.start - base.1) as f64,
        x1: (xr.end - base.0) as f64,
        y1: (yr.end - base.1) as f64,
    };
    (markers, segments, plot)
}

pub(crate) fn draw_line_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &LinePanel,
) -> Result<()> {
    let area = if panel.title.is_empty() {
        area.clone()
    } else {
        draw_title(area, &panel.title, PANEL_TITLE_SIZE, PANEL_TITLE_SIZE + 12)?
    };
    let (x_range, y_range) = ranges(panel);
    let entries = legend_entries(panel);
    let legend_box = legend_size(&entries);
    // Everything drawn by hand is in pixels of `area`.
    let base = area.get_base_pixel();
    // A legend that would hide a marker in every corner moves out of the plot.
    let outside = !entries.is_empty()
        && (panel.legend_outside || {
            let (markers, segments, plot) =
                data_pixels(&build(&area, (x_range, y_range))?, panel, base);
            let corner = best_corner(plot, legend_box, &markers, &segments);
            markers.iter().any(|&m| corner.contains(m))
        });
    let (plot_area, legend_area) = if outside {
        let w = area.dim_in_pixel().0;
        let (a, b) = area.split_horizontally(w.saturating_sub(legend_box.0 as u32 + 16));
        (a, Some(b))
    } else {
        (area.clone(), None)
    };
    let mut chart = build(&plot_area, (x_range, y_range))?;
    let (markers, segments, plot) = data_pixels(&chart, panel, base);
    let y_keys = RangedCoordf64::from(y_range.0..y_range.1).key_points(8);
    let y_step = min_step(&y_keys);
    let mut mesh = chart.configure_mesh();
    house_mesh(&mut mesh, &panel.x_label, &panel.y_label);
    mesh.bold_line_style(RGBColor(215, 215, 215))
        // x ticks are drawn below, at positions of our choosing.
        .x_labels(0)
        .y_labels(8)
        .y_label_formatter(&|v| format_tick_step(*v, y_step))
        .draw()
        .draw_err()?;
    let x_ticks = ticks(&panel.x_ticks, x_range);
    for &x in &x_ticks {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, y_range.0), (x, y_range.1)],
                RGBColor(215, 215, 215),
            )))
            .draw_err()?;
    }
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
        if series.dashed {
            chart
                .draw_series(DashedLineSeries::new(points, 8, 5, style))
                .draw_err()?;
        } else {
            chart
                .draw_series(LineSeries::new(points, style))
                .draw_err()?;
        }
        // Fainter and thinner than the curve: a horizontal bar lying on it stays told apart.
        for (a, b) in error_bars(series) {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![a, b],
                    color.mix(0.55).stroke_width(1),
                )))
                .draw_err()?;
        }
    }
    let to_px = |p: &Point| {
        let (x, y) = chart.backend_coord(p);
        ((x - base.0) as f64, (y - base.1) as f64)
    };
    // Markers after all lines: a later curve must not run across an earlier curve's marker.
    for series in panel
        .series
        .iter()
        .filter(|s| s.points.len() <= MAX_MARKERS)
    {
        for (i, p) in series.points.iter().map(to_px).enumerate() {
            let marker = series
                .point_markers
                .get(i)
                .copied()
                .unwrap_or(series.marker);
            let at = (p.0.round() as i32, p.1.round() as i32);
            draw_marker(&area, at, marker, palette(series.color))?;
        }
    }
    let tick_style =
        TextStyle::from((FONT, TICK_SIZE).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    let x_step = min_step(&x_ticks);
    for &x in &x_ticks {
        let px = to_px(&(x, y_range.0)).0.round() as i32;
        let y = plot.y1 as i32;
        area.draw(&PathElement::new(vec![(px, y), (px, y + 5)], BLACK))
            .draw_err()?;
        area.draw_text(&format_tick_step(x, x_step), &tick_style, (px, y + 7))
            .draw_err()?;
    }
    let legend_rect = match &legend_area {
        Some(outside) => {
            let x = (outside.get_base_pixel().0 - base.0) as f64 + 4.0;
            draw_legend(&area, &entries, (x, plot.y0))?;
            None
        }
        None if !entries.is_empty() => {
            let rect = best_corner(plot, legend_box, &markers, &segments);
            draw_legend(&area, &entries, (rect.x0, rect.y0))?;
            Some(rect)
        }
        None => None,
    };
    draw_point_labels(&area, panel, &to_px, &markers, &segments, legend_rect, plot)
}

/// The ± bars of a series' points, vertical then horizontal, each from one end to the other.
fn error_bars(s: &Series) -> Vec<(Point, Point)> {
    let positive = |e: Option<&f64>| e.copied().filter(|e| e.is_finite() && *e > 0.0);
    let mut bars = Vec::new();
    for (i, &(x, y)) in s.points.iter().enumerate() {
        if let Some(e) = positive(s.errors.get(i)) {
            bars.push(((x, y - e), (x, y + e)));
        }
        if let Some(e) = positive(s.x_errors.get(i)) {
            bars.push(((x - e, y), (x + e, y)));
        }
    }
    bars
}

/// The smallest gap between consecutive ticks (infinite for fewer than two).
fn min_step(ticks: &[f64]) -> f64 {
    ticks
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min)
}

impl LineChart<'_> {
    /// Up to three panels side by side, more in a near-square grid.
    fn grid(&self) -> (usize, usize) {
        let n = self.panels.len().max(1);
        let cols = if n <= 3 {
            n
        } else {
            (n as f64).sqrt().ceil() as usize
        };
        (n.div_ceil(cols), cols)
    }
}

impl Drawing for LineChart<'_> {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = self.grid();
        match self.panels.len() {
            // A lone chart (rate-distortion, training curves, ROC) gets more room for labels,
            // and a legend beside it its own width, so long entries do not squeeze the plot.
            0 | 1 => {
                let beside = self
                    .panels
                    .first()
                    .filter(|p| p.legend_outside)
                    .map_or(0, |p| legend_size(&legend_entries(p)).0 as u32 + 16);
                ((640 + beside).max(900), 640)
            }
            _ => (
                PANEL_W * cols as u32 + 20,
                PANEL_H * rows as u32 + TITLE_SIZE + 30,
            ),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let body = draw_title(root, self.title, TITLE_SIZE, TITLE_SIZE + 24)?;
        let body = body.margin(0, 10, 10, 10);
        let areas = body.split_evenly(self.grid());
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
            let bad = |len: usize| len != 0 && len != n;
            let lens = [s.point_labels.len(), s.errors.len(), s.x_errors.len()];
            if lens.into_iter().any(bad) || bad(s.point_markers.len()) {
                bail!(
                    "series '{}': point_labels/errors/x_errors/point_markers must be empty or one per point",
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
