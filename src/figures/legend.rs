//! Marker shapes and hand-drawn legends. plotters' built-in legend can only sit in a fixed
//! corner, shows dashed series as solid lines and cannot list marker shapes on their own;
//! here the legend lists lines, markers and headings, and goes to the corner that hides the
//! least data.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::geometry::{Rect, Segment};
use super::text::text_size;
use super::{DrawResult, FONT, TICK_SIZE};

/// Marker shapes, distinguishable in print without colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Marker {
    #[default]
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    TriangleRight,
    TriangleLeft,
    /// An open ×: drawn over a filled marker, both stay visible (curves that coincide).
    Cross,
}

impl Marker {
    const ALL: [Marker; 7] = [
        Marker::Circle,
        Marker::Square,
        Marker::TriangleUp,
        Marker::Diamond,
        Marker::TriangleDown,
        Marker::TriangleRight,
        Marker::TriangleLeft,
    ];
    /// The `i`-th shape, cycling.
    pub fn nth(i: usize) -> Marker {
        Self::ALL[i % Self::ALL.len()]
    }
}

/// Marker half-size in pixels.
pub(crate) const MARKER_R: i32 = 5;

/// Draws `marker` centred at `(x, y)` (pixels of `area`), with a white rim so that markers
/// on top of each other stay distinguishable.
pub(crate) fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    marker: Marker,
    color: RGBColor,
) -> Result<()> {
    let r = MARKER_R;
    let t = r + 1; // triangles look smaller than squares of the same half-size
    let polygon: Vec<(i32, i32)> = match marker {
        Marker::Cross => {
            for (dx, dy) in [(1, 1), (1, -1)] {
                let line = vec![(x - r * dx, y - r * dy), (x + r * dx, y + r * dy)];
                area.draw(&PathElement::new(line, color.stroke_width(2)))
                    .draw_err()?;
            }
            return Ok(());
        }
        Marker::Circle => {
            area.draw(&Circle::new((x, y), r as u32 + 1, WHITE.filled()))
                .draw_err()?;
            return area
                .draw(&Circle::new((x, y), r as u32, color.filled()))
                .draw_err();
        }
        Marker::Square => vec![
            (x - r, y - r),
            (x + r, y - r),
            (x + r, y + r),
            (x - r, y + r),
        ],
        Marker::TriangleUp => vec![(x, y - t), (x + t, y + r), (x - t, y + r)],
        Marker::TriangleDown => vec![(x, y + t), (x + t, y - r), (x - t, y - r)],
        Marker::TriangleRight => vec![(x + t, y), (x - r, y - t), (x - r, y + t)],
        Marker::TriangleLeft => vec![(x - t, y), (x + r, y - t), (x + r, y + t)],
        Marker::Diamond => vec![(x, y - t), (x + t, y), (x, y + t), (x - t, y)],
    };
    area.draw(&Polygon::new(polygon.clone(), color.filled()))
        .draw_err()?;
    let mut outline = polygon;
    outline.push(outline[0]);
    area.draw(&PathElement::new(outline, WHITE.stroke_width(1)))
        .draw_err()
}

/// How an entry's line sample is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineKind {
    #[default]
    None,
    Solid,
    Dashed,
}

/// One legend row: a line sample and/or a marker in `color`, then the label. A row with
/// neither is a heading.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    pub label: String,
    pub color: RGBColor,
    pub line: LineKind,
    pub marker: Option<Marker>,
}

impl LegendEntry {
    pub fn heading(label: &str) -> LegendEntry {
        LegendEntry {
            label: label.to_string(),
            color: BLACK,
            line: LineKind::None,
            marker: None,
        }
    }
    fn is_heading(&self) -> bool {
        self.line == LineKind::None && self.marker.is_none()
    }
}

/// The neutral colour of key entries that stand for no particular series (marker shapes,
/// line styles).
pub(crate) const KEY_GRAY: RGBColor = RGBColor(90, 90, 90);

const ROW_H: f64 = TICK_SIZE as f64 + 8.0;
const SAMPLE_W: f64 = 30.0;
const PAD: f64 = 8.0;

/// Pixel size of the legend box for `entries`.
pub(crate) fn legend_size(entries: &[LegendEntry]) -> (f64, f64) {
    let text_w = entries
        .iter()
        .map(|e| {
            let w = text_size(&e.label, TICK_SIZE as f64).0;
            if e.is_heading() {
                w
            } else {
                w + SAMPLE_W + 6.0
            }
        })
        .fold(0.0, f64::max);
    (
        text_w + 2.0 * PAD,
        entries.len() as f64 * ROW_H + 2.0 * PAD - 4.0,
    )
}

/// The corner of `plot` (inset by 8 px) where a `size` legend covers the fewest markers and
/// curve segments; upper right wins ties.
pub(crate) fn best_corner(
    plot: Rect,
    size: (f64, f64),
    markers: &[(f64, f64)],
    segments: &[Segment],
) -> Rect {
    let inset = 8.0;
    let (left, right) = (plot.x0 + inset, plot.x1 - inset - size.0);
    let (top, bottom) = (plot.y0 + inset, plot.y1 - inset - size.1);
    let corners = [(right, top), (left, top), (right, bottom), (left, bottom)];
    let cost = |r: &Rect| {
        let hidden = markers.iter().filter(|&&m| r.contains(m)).count();
        let crossed = segments.iter().filter(|s| r.crosses(s.0, s.1)).count();
        hidden * 20 + crossed
    };
    corners
        .iter()
        .map(|&(x, y)| Rect::new(x, y, size.0, size.1))
        .min_by_key(cost)
        .unwrap_or(Rect::new(right, top, size.0, size.1))
}

/// Draws the legend box with its top-left corner at `at` (pixels of `area`).
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    at: (f64, f64),
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (w, h) = legend_size(entries);
    let (x0, y0) = (at.0.round() as i32, at.1.round() as i32);
    let (x1, y1) = (x0 + w.round() as i32, y0 + h.round() as i32);
    area.draw(&Rectangle::new(
        [(x0, y0), (x1, y1)],
        WHITE.mix(0.9).filled(),
    ))
    .draw_err()?;
    area.draw(&Rectangle::new(
        [(x0, y0), (x1, y1)],
        RGBColor(180, 180, 180),
    ))
    .draw_err()?;
    let style =
        TextStyle::from((FONT, TICK_SIZE).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, e) in entries.iter().enumerate() {
        let y = (at.1 + PAD + ROW_H * (i as f64 + 0.5) - 2.0).round() as i32;
        let x = (at.0 + PAD).round() as i32;
        let sample = (x, x + SAMPLE_W as i32);
        match e.line {
            LineKind::None => {}
            LineKind::Solid => {
                area.draw(&PathElement::new(
                    vec![(sample.0, y), (sample.1, y)],
                    e.color.stroke_width(3),
                ))
                .draw_err()?;
            }
            LineKind::Dashed => {
                for dash in (sample.0..sample.1).step_by(10) {
                    let end = (dash + 6).min(sample.1);
                    area.draw(&PathElement::new(
                        vec![(dash, y), (end, y)],
                        e.color.stroke_width(3),
                    ))
                    .draw_err()?;
                }
            }
        }
        if let Some(marker) = e.marker {
            draw_marker(area, ((sample.0 + sample.1) / 2, y), marker, e.color)?;
        }
        let text_x = if e.is_heading() { x } else { sample.1 + 6 };
        area.draw_text(&e.label, &style.color(&BLACK), (text_x, y))
            .draw_err()?;
    }
    Ok(())
}
