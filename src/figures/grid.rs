//! Image grids (samples, reconstructions, denoising, traversals, the 2-D learned manifold) and
//! the inverse-normal-CDF grid of latent values the manifold figure is decoded from.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor;

use super::{
    draw_title, save, DrawResult, Figure, FigureFiles, FONT, LABEL_SIZE, PANEL_TITLE_SIZE,
    TICK_SIZE, TITLE_SIZE,
};

/// One labelled row of grayscale images, each `img_w × img_h` values in `[0, 1]` (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct GridRow {
    pub label: String,
    pub images: Vec<Vec<f32>>,
}

/// A titled block of rows, e.g. one latent size or one β; `column_labels` (may be empty) go
/// above the columns, e.g. traversal values.
#[derive(Debug, Clone, PartialEq)]
pub struct GridPanel {
    pub title: String,
    pub column_labels: Vec<String>,
    pub rows: Vec<GridRow>,
}

const GAP: u32 = 2;
const PANEL_GAP: u32 = 24;
const MARGIN: u32 = 12;

struct ImagePanels<'a> {
    title: &'a str,
    panels: &'a [GridPanel],
    img_w: usize,
    img_h: usize,
    /// Integer upscaling so 28 × 28 digits are not postage stamps.
    scale: u32,
}

impl ImagePanels<'_> {
    fn cell_w(&self) -> u32 {
        self.img_w as u32 * self.scale + GAP
    }
    fn cell_h(&self) -> u32 {
        self.img_h as u32 * self.scale + GAP
    }
    fn columns(panel: &GridPanel) -> u32 {
        panel.rows.iter().map(|r| r.images.len()).max().unwrap_or(0) as u32
    }
    /// Row-label width estimated from character count (the exact layout is only known once a
    /// backend exists, and the canvas size must be fixed before that).
    fn label_w(panel: &GridPanel) -> u32 {
        let chars = panel
            .rows
            .iter()
            .map(|r| r.label.chars().count())
            .max()
            .unwrap_or(0) as u32;
        if chars == 0 {
            0
        } else {
            chars * LABEL_SIZE * 6 / 10 + 14
        }
    }
    fn panel_w(&self, panel: &GridPanel) -> u32 {
        let grid = Self::columns(panel) * self.cell_w();
        let title = panel.title.chars().count() as u32 * PANEL_TITLE_SIZE * 6 / 10;
        (Self::label_w(panel) + grid).max(title)
    }
    fn header_h(&self) -> u32 {
        let titles = self.panels.iter().any(|p| !p.title.is_empty());
        let columns = self.panels.iter().any(|p| !p.column_labels.is_empty());
        (if titles { PANEL_TITLE_SIZE + 14 } else { 0 }) + (if columns { TICK_SIZE + 8 } else { 0 })
    }
    fn title_h(&self) -> u32 {
        if self.title.is_empty() {
            MARGIN
        } else {
            TITLE_SIZE + 24
        }
    }

    fn pixels(&self, image: &[f32]) -> Vec<u8> {
        let (w, h, s) = (self.img_w, self.img_h, self.scale as usize);
        let mut rgb = Vec::with_capacity(w * h * s * s * 3);
        for y in 0..h * s {
            for x in 0..w * s {
                let v = image[(y / s) * w + x / s];
                let gray = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                rgb.extend_from_slice(&[gray, gray, gray]);
            }
        }
        rgb
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &GridPanel,
    ) -> Result<()> {
        let label_w = Self::label_w(panel);
        let panel_w = self.panel_w(panel) as i32;
        let mut y = 0i32;
        if !panel.title.is_empty() {
            let style = TextStyle::from((FONT, PANEL_TITLE_SIZE).into_font()).pos(
                text_anchor::Pos::new(text_anchor::HPos::Center, text_anchor::VPos::Top),
            );
            area.draw_text(&panel.title, &style, (panel_w / 2, 4))
                .draw_err()?;
        }
        if self.panels.iter().any(|p| !p.title.is_empty()) {
            y += (PANEL_TITLE_SIZE + 14) as i32;
        }
        if self.panels.iter().any(|p| !p.column_labels.is_empty()) {
            let style = TextStyle::from((FONT, TICK_SIZE).into_font()).pos(text_anchor::Pos::new(
                text_anchor::HPos::Center,
                text_anchor::VPos::Top,
            ));
            for (c, label) in panel.column_labels.iter().enumerate() {
                let x = label_w as i32 + c as i32 * self.cell_w() as i32 + self.cell_w() as i32 / 2;
                area.draw_text(label, &style, (x, y)).draw_err()?;
            }
            y += (TICK_SIZE + 8) as i32;
        }
        let label_style = TextStyle::from((FONT, LABEL_SIZE).into_font()).pos(
            text_anchor::Pos::new(text_anchor::HPos::Right, text_anchor::VPos::Center),
        );
        let size = (
            self.img_w as u32 * self.scale,
            self.img_h as u32 * self.scale,
        );
        for (r, row) in panel.rows.iter().enumerate() {
            let top = y + r as i32 * self.cell_h() as i32;
            if !row.label.is_empty() {
                let mid = top + self.cell_h() as i32 / 2;
                area.draw_text(&row.label, &label_style, (label_w as i32 - 8, mid))
                    .draw_err()?;
            }
            for (c, image) in row.images.iter().enumerate() {
                let x = label_w as i32 + c as i32 * self.cell_w() as i32;
                let element = BitMapElement::with_owned_buffer((x, top), size, self.pixels(image))
                    .ok_or_else(|| anyhow::anyhow!("image buffer has the wrong size"))?;
                area.draw(&element).draw_err()?;
            }
        }
        Ok(())
    }
}

impl Figure for ImagePanels<'_> {
    fn size(&self) -> (u32, u32) {
        let width: u32 = self.panels.iter().map(|p| self.panel_w(p)).sum::<u32>()
            + PANEL_GAP * (self.panels.len().max(1) as u32 - 1)
            + 2 * MARGIN;
        let rows = self.panels.iter().map(|p| p.rows.len()).max().unwrap_or(0) as u32;
        let height = self.title_h() + self.header_h() + rows * self.cell_h() + MARGIN;
        let title_w = self.title.chars().count() as u32 * TITLE_SIZE * 6 / 10 + 2 * MARGIN;
        (width.max(title_w).max(200), height.max(120))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let body = draw_title(root, self.title, TITLE_SIZE, self.title_h())?;
        let mut x = MARGIN as i32;
        for panel in self.panels {
            let w = self.panel_w(panel) as i32;
            let area = body.clone().shrink((x, 0), (w, body.dim_in_pixel().1));
            self.draw_panel(&area, panel)?;
            x += w + PANEL_GAP as i32;
        }
        Ok(())
    }
}

fn check_images(panels: &[GridPanel], img_w: usize, img_h: usize) -> Result<()> {
    if img_w == 0 || img_h == 0 {
        bail!("image size must be positive ({img_w} × {img_h})");
    }
    for panel in panels {
        for row in &panel.rows {
            for (i, image) in row.images.iter().enumerate() {
                if image.len() != img_w * img_h {
                    bail!(
                        "panel '{}', row '{}', image {i}: {} values for a {img_w} × {img_h} image",
                        panel.title,
                        row.label,
                        image.len()
                    );
                }
            }
        }
    }
    Ok(())
}

/// Several titled image grids side by side (e.g. prior samples per latent size, traversals per β).
pub fn image_panels(
    path: &Path,
    title: &str,
    panels: &[GridPanel],
    img_w: usize,
    img_h: usize,
) -> Result<FigureFiles> {
    check_images(panels, img_w, img_h)?;
    let scale = (84 / img_w.max(img_h) as u32).clamp(1, 4);
    save(
        &ImagePanels {
            title,
            panels,
            img_w,
            img_h,
            scale,
        },
        path,
    )
}

/// One grid of labelled rows (e.g. ground truth vs reconstructions, noisy / clean / denoised).
pub fn image_grid(
    path: &Path,
    title: &str,
    rows: &[GridRow],
    img_w: usize,
    img_h: usize,
) -> Result<FigureFiles> {
    let panel = GridPanel {
        title: String::new(),
        column_labels: Vec::new(),
        rows: rows.to_vec(),
    };
    image_panels(path, title, std::slice::from_ref(&panel), img_w, img_h)
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error
/// below 1.2e-9). Returns ∓inf at 0 / 1 and NaN outside `[0, 1]`.
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383577518672690e+02,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    const P_LOW: f64 = 0.02425;
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

/// Latent points for the 2-D manifold figure (Kingma & Welling Fig. 4): an `n × n` grid,
/// row-major, of `[z1, z2]` with `z = Φ⁻¹(p)` for `p = (i + 0.5) / n`, so equal areas of the
/// prior get equal grid cells. Row 0 is the top of the figure (largest `z2`); `z1` grows
/// along each row.
pub fn manifold_grid(n: usize) -> Vec<[f64; 2]> {
    let z: Vec<f64> = (0..n)
        .map(|i| inverse_normal_cdf((i as f64 + 0.5) / n as f64))
        .collect();
    (0..n)
        .flat_map(|row| (0..n).map(move |col| (row, col)))
        .map(|(row, col)| [z[col], z[n - 1 - row]])
        .collect()
}

/// Arranges decoder means for [`manifold_grid`]`(n)` (same order) into a panel whose rows are
/// labelled with `z2` and columns with `z1`.
pub fn manifold_panel(images: Vec<Vec<f32>>, n: usize) -> Result<GridPanel> {
    if images.len() != n * n {
        bail!(
            "manifold panel: {} images for a {n} × {n} grid",
            images.len()
        );
    }
    let grid = manifold_grid(n);
    let mut images = images.into_iter();
    let rows = (0..n)
        .map(|r| GridRow {
            label: format!("{:.2}", grid[r * n][1]),
            images: images.by_ref().take(n).collect(),
        })
        .collect();
    Ok(GridPanel {
        title: "rows: z₂, columns: z₁".to_string(),
        column_labels: (0..n).map(|c| format!("{:.1}", grid[c][0])).collect(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_normal_cdf_known_quantiles() {
        assert!(inverse_normal_cdf(0.5).abs() < 1e-12);
        assert!((inverse_normal_cdf(0.975) - 1.959963984540054).abs() < 1e-8);
        assert!((inverse_normal_cdf(0.8413447460685429) - 1.0).abs() < 1e-8);
        assert!((inverse_normal_cdf(0.001) + 3.090232306167813).abs() < 1e-8);
        assert!((inverse_normal_cdf(0.2) + inverse_normal_cdf(0.8)).abs() < 1e-12);
        assert_eq!(inverse_normal_cdf(0.0), f64::NEG_INFINITY);
        assert!(inverse_normal_cdf(1.5).is_nan());
    }

    #[test]
    fn manifold_grid_layout() {
        let grid = manifold_grid(4);
        assert_eq!(grid.len(), 16);
        // Top-left is (smallest z1, largest z2); z1 increases along a row.
        assert!(grid[0][0] < 0.0 && grid[0][1] > 0.0);
        assert!(grid[0][0] < grid[1][0] && grid[0][1] == grid[1][1]);
        assert!((grid[0][0] + grid[3][0]).abs() < 1e-12);
        assert!((grid[15][1] - inverse_normal_cdf(0.125)).abs() < 1e-12);
    }
}
