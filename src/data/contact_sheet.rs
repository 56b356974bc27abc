//! Contact sheet PNG of training examples: one row per class (first ten examples of each) when
//! the dataset has at most ten classes, otherwise the first hundred examples.

use super::dataset::RawDataset;
use super::preprocess::PreprocessError;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

const COLUMNS: usize = 10;
const MAX_ROWS: usize = 10;
/// Gap between tiles, drawn in mid grey so black and white images both stand out.
const GAP: usize = 2;
const GAP_VALUE: u8 = 128;

/// Picks the rows of tiles (indices into the raw train split) for the sheet.
pub fn sheet_rows(raw: &RawDataset, indices: &[usize]) -> Vec<Vec<usize>> {
    let n_classes = raw.class_names.len();
    if (1..=MAX_ROWS).contains(&n_classes) {
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
        for &i in indices {
            let row = &mut rows[raw.train.labels[i] as usize % n_classes];
            if row.len() < COLUMNS {
                row.push(i);
            }
        }
        rows.retain(|r| !r.is_empty());
        rows
    } else {
        indices
            .chunks(COLUMNS)
            .take(MAX_ROWS)
            .map(|c| c.to_vec())
            .collect()
    }
}

/// Renders the sheet as 8-bit greyscale with pixel values passed through `lut`.
pub fn render_sheet(
    raw: &RawDataset,
    indices: &[usize],
    lut: &[f32; 256],
) -> (usize, usize, Vec<u8>) {
    let rows = sheet_rows(raw, indices);
    let (h, w) = (raw.rows, raw.cols);
    let width = COLUMNS * (w + GAP) + GAP;
    let height = rows.len().max(1) * (h + GAP) + GAP;
    let mut img = vec![GAP_VALUE; width * height];
    let dim = h * w;
    for (r, row) in rows.iter().enumerate() {
        for (c, &i) in row.iter().enumerate() {
            let src = &raw.train.pixels[i * dim..(i + 1) * dim];
            let (y0, x0) = (GAP + r * (h + GAP), GAP + c * (w + GAP));
            for y in 0..h {
                let dst = &mut img[(y0 + y) * width + x0..][..w];
                for (d, &v) in dst.iter_mut().zip(&src[y * w..(y + 1) * w]) {
                    *d = (lut[v as usize] * 255.0).round() as u8;
                }
            }
        }
    }
    (width, height, img)
}

/// Writes the sheet to `path` via a temporary file and rename.
pub fn write_contact_sheet(
    path: &Path,
    raw: &RawDataset,
    indices: &[usize],
    lut: &[f32; 256],
) -> Result<(), PreprocessError> {
    let (width, height, img) = render_sheet(raw, indices, lut);
    let tmp = path.with_extension(format!("png.tmp-{}", std::process::id()));
    let png_err = |e: png::EncodingError| PreprocessError::Png {
        file: path.into(),
        detail: e.to_string(),
    };
    let io_err = |error| PreprocessError::Write {
        file: path.into(),
        error,
    };
    let result = (|| {
        let file = File::create(&tmp).map_err(io_err)?;
        let mut encoder = png::Encoder::new(BufWriter::new(file), width as u32, height as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(png_err)?;
        writer.write_image_data(&img).map_err(png_err)?;
        writer.finish().map_err(png_err)?;
        std::fs::rename(&tmp, path).map_err(io_err)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
