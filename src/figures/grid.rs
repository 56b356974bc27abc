//! Image grids (samples, reconstructions, denoising, traversals, the learned manifold): titled
//! panels of labelled rows, the panels wrapped into a grid of about 16:10 so that many panels
//! (one per β or latent size) fill the canvas instead of forming one long strip.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::text::text_size;
use super::{
    draw_title, save, DrawResult, Drawing, FigureFiles, FONT, LABEL_SIZE, PANEL_TITLE_SIZE,
    TITLE_SIZE,
};

/// One labelled row of grayscale images, each `img_w × img_h` values in `[0, 1]` (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct GridRow {
    pub label: String,
    pub images: Vec<Vec<f32>>,
}

/// A titled block of rows, e.g. one latent size or one β. `column_labels` (may be empty) go
/// above the columns, e.g. traversal values; `corner_label` (may be empty) sits above the row
/// labels and says what rows and columns are (e.g. `zᵢ =`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GridPanel {
    pub title: String,
    pub corner_label: String,
    pub column_labels: Vec<String>,
    pub rows: Vec<GridRow>,
}

/// Grids are often shown shrunk (many panels, a narrow report column): their headings are
/// set larger than the line charts' to stay readable there.
const HEAD_SIZE: u32 = 26;
const COLUMN_SIZE: u32 = 17;
const GAP: u32 = 2;
const PANEL_GAP_X: u32 = 28;
const PANEL_GAP_Y: u32 = 16;
const MARGIN: u32 = 12;
/// Width / height the panel arrangement aims for: a slide or a report column.
const ASPECT: f64 = 1.6;
/// Wider than this and the report shrinks the figure until its text is hard to read.
const MAX_W: f64 = 2000.0;

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
    fn columns(&self) -> u32 {
        let rows = self.panels.iter().flat_map(|p| &p.rows);
        rows.map(|r| r.images.len()).max().unwrap_or(0) as u32
    }
    fn rows(&self) -> u32 {
        self.panels.iter().map(|p| p.rows.len()).max().unwrap_or(0) as u32
    }
    /// Width of the row-label column: the widest row or corner label, measured.
    fn label_w(&self) -> u32 {
        let rows = self.panels.iter().flat_map(|p| &p.rows);
        let widest = rows
            .map(|r| text_size(&r.label, LABEL_SIZE as f64).0)
            .chain(
                self.panels
                    .iter()
                    .map(|p| text_size(&p.corner_label, COLUMN_SIZE as f64).0),
            )
            .fold(0.0, f64::max);
        if widest == 0.0 {
            0
        } else {
            widest.ceil() as u32 + 10
        }
    }
    fn has_titles(&self) -> bool {
        self.panels.iter().any(|p| !p.title.is_empty())
    }
    fn has_column_labels(&self) -> bool {
        self.panels.iter().any(|p| !p.column_labels.is_empty())
    }
    /// Every panel gets the same cell, so the grid lines up across panels.
    fn panel_size(&self) -> (u32, u32) {
        let grid_w = self.label_w() + self.columns() * self.cell_w();
        let title_w = self
            .panels
            .iter()
            .map(|p| text_size(&p.title, HEAD_SIZE as f64).0.ceil() as u32)
            .max()
            .unwrap_or(0);
        let header = if self.has_titles() { HEAD_SIZE + 12 } else { 0 }
            + if self.has_column_labels() {
                COLUMN_SIZE + 8
            } else {
                0
            };
        (grid_w.max(title_w), header + self.rows() * self.cell_h())
    }
    fn title_h(&self) -> u32 {
        if self.title.is_empty() {
            MARGIN
        } else {
            TITLE_SIZE + 22
        }
    }
    /// Panels per row of the arrangement: closest to [`ASPECT`], few empty slots, not too wide.
    fn panels_per_row(&self) -> u32 {
        let n = self.panels.len().max(1) as u32;
        let (pw, ph) = self.panel_size();
        let score = |cols: u32| {
            let rows = n.div_ceil(cols);
            let (w, h) = self.canvas(cols, rows, pw, ph);
            let empty = (cols * rows - n) as f64 / n as f64;
            (w as f64 / h as f64 / ASPECT).ln().abs() + empty + (w as f64 / MAX_W - 1.0).max(0.0)
        };
        (1..=n)
            .min_by(|&a, &b| score(a).total_cmp(&score(b)))
            .unwrap_or(1)
    }
    fn canvas(&self, cols: u32, rows: u32, pw: u32, ph: u32) -> (u32, u32) {
        let w = cols * pw + (cols - 1) * PANEL_GAP_X + 2 * MARGIN;
        let h = self.title_h() + rows * ph + (rows.max(1) - 1) * PANEL_GAP_Y + MARGIN;
        (w, h)
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
        let label_w = self.label_w() as i32;
        let (cell_w, cell_h) = (self.cell_w() as i32, self.cell_h() as i32);
        let grid_w = label_w + panel.rows.first().map_or(0, |r| r.images.len()) as i32 * cell_w;
        let mut y = 0i32;
        if self.has_titles() {
            // Centred over the images, not over images + row labels.
            let style = TextStyle::from((FONT, HEAD_SIZE).into_font())
                .pos(Pos::new(HPos::Center, VPos::Top));
            let centre = ((label_w + grid_w) / 2)
                .max((text_size(&panel.title, HEAD_SIZE as f64).0 / 2.0).ceil() as i32);
            area.draw_text(&panel.title, &style, (centre, 2))
                .draw_err()?;
            y += (HEAD_SIZE + 12) as i32;
        }
        if self.has_column_labels() {
            let style = TextStyle::from((FONT, COLUMN_SIZE).into_font())
                .pos(Pos::new(HPos::Center, VPos::Top));
            for (c, label) in panel.column_labels.iter().enumerate() {
                let x = label_w + c as i32 * cell_w + cell_w / 2;
                area.draw_text(label, &style, (x, y)).draw_err()?;
            }
            let corner = style.pos(Pos::new(HPos::Right, VPos::Top));
            area.draw_text(&panel.corner_label, &corner, (label_w - 8, y))
                .draw_err()?;
            y += (COLUMN_SIZE + 8) as i32;
        }
        let label_style = TextStyle::from((FONT, LABEL_SIZE).into_font())
            .pos(Pos::new(HPos::Right, VPos::Center));
        let size = (
            self.img_w as u32 * self.scale,
            self.img_h as u32 * self.scale,
        );
        for (r, row) in panel.rows.iter().enumerate() {
            let top = y + r as i32 * cell_h;
            if !row.label.is_empty() {
                let mid = top + cell_h / 2;
                area.draw_text(&row.label, &label_style, (label_w - 8, mid))
                    .draw_err()?;
            }
            for (c, image) in row.images.iter().enumerate() {
                let x = label_w + c as i32 * cell_w;
                let element = BitMapElement::with_owned_buffer((x, top), size, self.pixels(image))
                    .ok_or_else(|| anyhow::anyhow!("image buffer has the wrong size"))?;
                area.draw(&element).draw_err()?;
            }
        }
        Ok(())
    }
}

impl ImagePanels<'_> {
    /// The panels' canvas without regard to the title.
    fn content_size(&self) -> (u32, u32) {
        let n = self.panels.len().max(1) as u32;
        let cols = self.panels_per_row();
        let (pw, ph) = self.panel_size();
        self.canvas(cols, n.div_ceil(cols), pw, ph)
    }
    /// A long title over narrow panels is set smaller (down to the panel-title size) before
    /// it widens the canvas into empty margins.
    fn title_size(&self) -> u32 {
        let room = self.content_size().0.saturating_sub(2 * MARGIN) as f64;
        let natural = text_size(self.title, TITLE_SIZE as f64).0;
        if natural <= room {
            TITLE_SIZE
        } else {
            ((TITLE_SIZE as f64 * room / natural).floor() as u32).max(PANEL_TITLE_SIZE)
        }
    }
}

impl Drawing for ImagePanels<'_> {
    fn size(&self) -> (u32, u32) {
        let (w, h) = self.content_size();
        let title_w = text_size(self.title, self.title_size() as f64).0.ceil() as u32 + 2 * MARGIN;
        (w.max(title_w).max(200), h.max(120))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let body = draw_title(root, self.title, self.title_size(), self.title_h())?;
        let cols = self.panels_per_row() as usize;
        let (pw, ph) = self.panel_size();
        // A title wider than the panels: centre the panels under it.
        let used = self.canvas(cols as u32, 1, pw, ph).0;
        let left = (root.dim_in_pixel().0.saturating_sub(used) / 2 + MARGIN) as i32;
        for (i, panel) in self.panels.iter().enumerate() {
            let x = left + (i % cols) as i32 * (pw + PANEL_GAP_X) as i32;
            let y = (i / cols) as i32 * (ph + PANEL_GAP_Y) as i32;
            let area = body.clone().shrink((x, y), (pw, ph));
            self.draw_panel(&area, panel)?;
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

/// Titled image grids arranged in rows of panels (e.g. prior samples per latent size,
/// traversals per β).
pub fn image_panels(
    path: &Path,
    title: &str,
    panels: &[GridPanel],
    img_w: usize,
    img_h: usize,
) -> Result<FigureFiles> {
    check_images(panels, img_w, img_h)?;
    let figure = |scale| ImagePanels {
        title,
        panels,
        img_w,
        img_h,
        scale,
    };
    // Images about 84 px across, smaller when that would make the figure too wide to read
    // once the report fits it to the page.
    let largest = (84 / img_w.max(img_h) as u32).clamp(1, 4);
    let scale = (1..=largest)
        .rev()
        .find(|&s| figure(s).size().0 as f64 <= MAX_W)
        .unwrap_or(1);
    save(&figure(scale), path)
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
        rows: rows.to_vec(),
        ..GridPanel::default()
    };
    image_panels(path, title, std::slice::from_ref(&panel), img_w, img_h)
}
