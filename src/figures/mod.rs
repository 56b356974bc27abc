//! Figures for the report, each written as both PNG and SVG with plotters.
//!
//! Text uses DejaVu Sans compiled into the binary (`assets/fonts/`), so no system font
//! libraries are needed: PNG text is laid out and rasterised by `text.rs` (plotters' own
//! ab_glyph path misplaces glyphs), while plotters' `ab_glyph` registration still measures
//! text for its own layout and the SVG names the family for the viewer to render. Every
//! public function takes plain data and an output path; the extension of that path is
//! replaced by `.png` and `.svg`.

mod charts;
mod geometry;
mod grid;
mod histogram;
mod labels;
mod legend;
mod lines;
mod manifold;
mod pca_plots;
mod scatter;
mod text;

pub use charts::{
    metric_vs_latent, rate_distortion, roc_curves, training_curve_panels, training_curves,
    MetricVsLatent, NamedRoc, RateDistortionCurve, RatePoint, TrainingRun,
};
pub use grid::{image_grid, image_panels, GridPanel, GridRow};
pub use histogram::{anomaly_histogram, score_histogram, HistogramGroup};
pub use legend::{LegendEntry, LineKind, Marker};
pub use lines::{line_panels, LinePanel, Series};
pub use manifold::{inverse_normal_cdf, manifold_grid, manifold_panel};
pub use pca_plots::linear_ae_vs_pca;
pub use scatter::{latent_scatter, ScatterPanel};

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor;

/// The two files written for one figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureFiles {
    pub png: PathBuf,
    pub svg: PathBuf,
}

impl FigureFiles {
    /// `path` with a `.png` / `.svg` extension in place of its own (`fig.png` → `fig.png`,
    /// `fig.svg`). Only those two count as an extension: a name's other dots are part of it
    /// (`scores_vae-b0.1-s5` → `scores_vae-b0.1-s5.png`, not `scores_vae-b0.png`).
    pub fn for_path(path: &Path) -> FigureFiles {
        let stem = match path.extension().and_then(|e| e.to_str()) {
            Some("png" | "svg") => path.with_extension(""),
            _ => path.to_path_buf(),
        };
        let with = |ext: &str| {
            let mut name = stem.clone().into_os_string();
            name.push(".");
            name.push(ext);
            PathBuf::from(name)
        };
        FigureFiles {
            png: with("png"),
            svg: with("svg"),
        }
    }
}

/// Font family name the embedded font is registered under; plotters' default `sans-serif`
/// family resolves to it, so every text style picks it up.
pub(crate) const FONT: &str = "sans-serif";
pub(crate) static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER_FONT: Once = Once::new();

fn register_embedded_font() {
    REGISTER_FONT.call_once(|| {
        // The bytes are a known-good TTF compiled in; failure would be a build defect.
        if plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_err() {
            panic!("embedded DejaVuSans.ttf is not a valid font");
        }
    });
}

/// Tableau-10 palette: distinguishable colours for classes, runs and latent sizes.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub(crate) fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub(crate) const TITLE_SIZE: u32 = 30;
pub(crate) const PANEL_TITLE_SIZE: u32 = 22;
pub(crate) const LABEL_SIZE: u32 = 18;
pub(crate) const TICK_SIZE: u32 = 15;

/// Something drawable at a fixed pixel size on any plotters backend.
pub(crate) trait Drawing {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Converts plotters' backend-generic errors into `anyhow` errors.
pub(crate) trait DrawResult<T> {
    fn draw_err(self) -> Result<T>;
}

impl<T, E: std::fmt::Display> DrawResult<T> for std::result::Result<T, E> {
    fn draw_err(self) -> Result<T> {
        self.map_err(|e| anyhow!("drawing failed: {e}"))
    }
}

/// Draws `figure` into `<path>.png` and `<path>.svg`, creating the parent directory.
pub(crate) fn save<F: Drawing>(figure: &F, path: &Path) -> Result<FigureFiles> {
    register_embedded_font();
    let files = FigureFiles::for_path(path);
    if let Some(parent) = files.png.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let size = figure.size();
    {
        let root = text::GlyphText(BitMapBackend::new(&files.png, size)).into_drawing_area();
        root.fill(&WHITE).draw_err()?;
        figure
            .draw(&root)
            .with_context(|| format!("drawing {}", files.png.display()))?;
        root.present()
            .draw_err()
            .with_context(|| format!("writing {}", files.png.display()))?;
    }
    {
        let root = SVGBackend::new(&files.svg, size).into_drawing_area();
        root.fill(&WHITE).draw_err()?;
        figure
            .draw(&root)
            .with_context(|| format!("drawing {}", files.svg.display()))?;
        root.present()
            .draw_err()
            .with_context(|| format!("writing {}", files.svg.display()))?;
    }
    Ok(files)
}

/// Splits off a title band of `height` pixels, draws `title` centred in it, returns the rest.
pub(crate) fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    size: u32,
    height: u32,
) -> Result<DrawingArea<DB, Shift>> {
    let (band, rest) = area.split_vertically(height);
    if !title.is_empty() {
        let style =
            TextStyle::from((FONT, size).into_font())
                .color(&BLACK)
                .pos(text_anchor::Pos::new(
                    text_anchor::HPos::Center,
                    text_anchor::VPos::Center,
                ));
        let (w, h) = band.dim_in_pixel();
        band.draw_text(title, &style, (w as i32 / 2, h as i32 / 2))
            .draw_err()?;
    }
    Ok(rest)
}

/// Finite `(min, max)` of values padded by 5% (or ±0.5 when all equal); `(0, 1)` when empty.
pub(crate) fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

/// The house mesh: axis titles, embedded-font labels, faint minor grid lines.
pub(crate) fn house_mesh<'a, 'b, X, Y, XT, YT, DB>(
    mesh: &mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB>,
    x_desc: &str,
    y_desc: &str,
) where
    X: plotters::coord::ranged1d::Ranged<ValueType = XT>
        + plotters::coord::ranged1d::ValueFormatter<XT>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = YT>
        + plotters::coord::ranged1d::ValueFormatter<YT>,
    DB: plotters::prelude::DrawingBackend,
{
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style((FONT, LABEL_SIZE))
        .label_style((FONT, TICK_SIZE))
        .light_line_style(RGBColor(238, 238, 238))
        .max_light_lines(2);
}

/// Ticks without float noise: up to 4 significant digits, scientific when tiny or huge.
pub(crate) fn format_tick(v: f64) -> String {
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

/// A tick label with as many decimals as ticks `step` apart need to differ (`0.02441`,
/// `0.02442` rather than `0.0244` twice), trailing zeros trimmed.
pub(crate) fn format_tick_step(v: f64, step: f64) -> String {
    let a = v.abs();
    if !step.is_finite() || step < 1e-6 || a >= 1e5 {
        return format_tick(v);
    }
    let decimals = ((-step.log10()).ceil() + 1.0).clamp(0.0, 8.0) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{format_tick_step, FigureFiles};
    use std::path::Path;

    #[test]
    fn dots_in_a_run_name_are_not_an_extension() {
        // Two seeds of one setting must not share a file (issue 9).
        let a = FigureFiles::for_path(Path::new("out/anomaly_scores_vae-z4-b0.1-s5"));
        let b = FigureFiles::for_path(Path::new("out/anomaly_scores_vae-z4-b0.1-s9"));
        assert_eq!(a.png, Path::new("out/anomaly_scores_vae-z4-b0.1-s5.png"));
        assert_eq!(b.svg, Path::new("out/anomaly_scores_vae-z4-b0.1-s9.svg"));
        let c = FigureFiles::for_path(Path::new("fig.png"));
        assert_eq!(
            (c.png.as_path(), c.svg.as_path()),
            (Path::new("fig.png"), Path::new("fig.svg"))
        );
    }

    #[test]
    fn close_ticks_stay_distinct() {
        let ticks: Vec<String> = [0.02441, 0.02442, 0.02443]
            .iter()
            .map(|&v| format_tick_step(v, 1e-5))
            .collect();
        assert_eq!(ticks, ["0.02441", "0.02442", "0.02443"]);
        assert_eq!(format_tick_step(0.25, 0.25), "0.25");
        assert_eq!(format_tick_step(250.0, 10.0), "250");
        assert_eq!(format_tick_step(-0.0, 0.5), "0");
        // A lone tick has no step: its own value decides.
        assert_eq!(format_tick_step(0.5, f64::INFINITY), "0.5");
    }
}
