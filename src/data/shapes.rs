//! Procedural dSprites-style dataset: binary images of a square, ellipse or heart with known
//! scale, orientation and position. Only the sampled factor tuples are rendered, so drawing
//! N images costs O(N) no matter how large the full factor grid (737,280 tuples) is.

use super::dataset::{RawDataset, RawSplit};
use super::{sha256_hex, SplitMix64};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::f64::consts::PI;

pub const SHAPE_NAMES: [&str; 3] = ["square", "ellipse", "heart"];
pub const FACTOR_NAMES: [&str; 5] = ["shape", "scale", "orientation", "pos_x", "pos_y"];
/// Number of values of each factor, in `FACTOR_NAMES` order (as in dSprites).
pub const FACTOR_SIZES: [usize; 5] = [3, 6, 40, 32, 32];
/// Half the side of a scale-1 shape, as a fraction of the image side.
const BASE_HALF_EXTENT: f64 = 0.15;
/// Shape centres range over `[MARGIN, 1 - MARGIN]` of the image.
const MARGIN: f64 = 0.22;

/// Options of the generator; part of the preprocess key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShapesOptions {
    pub n_train: usize,
    pub n_test: usize,
    /// Image side in pixels (64 as in dSprites; 32 for quick runs).
    pub size: usize,
    pub seed: u64,
}

impl Default for ShapesOptions {
    fn default() -> Self {
        ShapesOptions {
            n_train: 10_000,
            n_test: 2_000,
            size: 64,
            seed: 0,
        }
    }
}

/// Generated images (u8, 0 or 255) and their factor tuples (`n × 5`, `FACTOR_NAMES` order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapesDataset {
    pub options: ShapesOptions,
    pub train_images: Vec<u8>,
    pub train_factors: Vec<u8>,
    pub test_images: Vec<u8>,
    pub test_factors: Vec<u8>,
}

/// Total number of distinct factor tuples.
pub fn n_combinations() -> usize {
    FACTOR_SIZES.iter().product()
}

/// Factor tuple of a flat index into the full grid (last factor varies fastest).
pub fn factors_of(mut index: usize) -> [u8; 5] {
    let mut out = [0u8; 5];
    for k in (0..5).rev() {
        out[k] = (index % FACTOR_SIZES[k]) as u8;
        index /= FACTOR_SIZES[k];
    }
    out
}

/// Real values of a factor tuple: (scale in 0.5..=1.0, angle in [0, 2π), x and y in [0, 1]).
pub fn factor_values(f: [u8; 5]) -> (f64, f64, f64, f64) {
    let scale = 0.5 + 0.5 * f[1] as f64 / (FACTOR_SIZES[1] - 1) as f64;
    let angle = 2.0 * PI * f[2] as f64 / FACTOR_SIZES[2] as f64;
    let x = f[3] as f64 / (FACTOR_SIZES[3] - 1) as f64;
    let y = f[4] as f64 / (FACTOR_SIZES[4] - 1) as f64;
    (scale, angle, x, y)
}

/// Whether shape-local point (u, v), in units of the half extent, is inside the shape.
fn inside(shape: u8, u: f64, v: f64) -> bool {
    match shape {
        0 => u.abs() <= 1.0 && v.abs() <= 1.0,
        // Elongated so that its orientation is visible (as in dSprites).
        1 => u * u + 4.0 * v * v <= 1.0,
        _ => {
            // Classic implicit heart (x²+y²−1)³ − x²y³ ≤ 0; image y points down, so flip.
            let x = u * 1.15;
            let y = -v * 1.15 + 0.15;
            let a = x * x + y * y - 1.0;
            a * a * a - x * x * y * y * y <= 0.0
        }
    }
}

/// Renders one image (`size × size`, 0 or 255) into `out`, sampling each pixel at its centre.
pub fn render_into(f: [u8; 5], size: usize, out: &mut [u8]) {
    out.fill(0);
    let (scale, angle, x, y) = factor_values(f);
    let s = size as f64;
    let (cx, cy) = (
        (MARGIN + (1.0 - 2.0 * MARGIN) * x) * s,
        (MARGIN + (1.0 - 2.0 * MARGIN) * y) * s,
    );
    let half = BASE_HALF_EXTENT * scale * s;
    let (sin, cos) = angle.sin_cos();
    // Only the bounding box of the rotated shape is visited (√2 covers any rotation).
    let r = half * std::f64::consts::SQRT_2 + 1.0;
    let lo = |c: f64| ((c - r).floor().max(0.0)) as usize;
    let hi = |c: f64| ((c + r).ceil().min(s)) as usize;
    for py in lo(cy)..hi(cy) {
        for px in lo(cx)..hi(cx) {
            let (dx, dy) = (px as f64 + 0.5 - cx, py as f64 + 0.5 - cy);
            // Rotate by −angle into shape coordinates.
            let u = (cos * dx + sin * dy) / half;
            let v = (-sin * dx + cos * dy) / half;
            if inside(f[0], u, v) {
                out[py * size + px] = 255;
            }
        }
    }
}

/// Draws `n` distinct flat indices of the factor grid.
fn sample_indices(n: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let total = n_combinations();
    if n * 2 > total {
        // Dense request: partial Fisher–Yates over the whole grid.
        let mut all: Vec<u32> = (0..total as u32).collect();
        for i in 0..n {
            let j = i + rng.below((total - i) as u64) as usize;
            all.swap(i, j);
        }
        return all[..n].iter().map(|&i| i as usize).collect();
    }
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let i = rng.below(total as u64) as usize;
        if seen.insert(i) {
            out.push(i);
        }
    }
    out
}

fn render_all(indices: &[usize], size: usize) -> (Vec<u8>, Vec<u8>) {
    use rayon::prelude::*;
    let dim = size * size;
    let mut images = vec![0u8; indices.len() * dim];
    let factors: Vec<u8> = indices.iter().flat_map(|&i| factors_of(i)).collect();
    images
        .par_chunks_mut(dim)
        .zip(factors.par_chunks(5))
        .for_each(|(img, f)| render_into(f.try_into().unwrap(), size, img));
    (images, factors)
}

/// Options the generator cannot honour.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapesError {
    #[error("invalid shapes options: size {0} is too small (minimum 8)")]
    TooSmall(usize),
    #[error("invalid shapes options: {requested} images requested but only {available} distinct factor combinations exist")]
    TooMany { requested: usize, available: usize },
}

impl ShapesOptions {
    pub fn validate(&self) -> Result<(), ShapesError> {
        if self.size < 8 {
            return Err(ShapesError::TooSmall(self.size));
        }
        let requested = self.n_train.saturating_add(self.n_test);
        if requested > n_combinations() {
            return Err(ShapesError::TooMany {
                requested,
                available: n_combinations(),
            });
        }
        Ok(())
    }
}

/// `generate` for options that come from a spec: invalid options are an error, not a panic.
pub fn try_generate(opts: &ShapesOptions) -> Result<ShapesDataset, ShapesError> {
    opts.validate()?;
    Ok(generate(opts))
}

/// Generates train and test images; same options ⇒ identical bytes. Train and test never
/// share a factor tuple. Panics on invalid options (see `try_generate`).
pub fn generate(opts: &ShapesOptions) -> ShapesDataset {
    if let Err(e) = opts.validate() {
        panic!("{e}");
    }
    let mut rng = SplitMix64::new(opts.seed);
    let indices = sample_indices(opts.n_train + opts.n_test, &mut rng);
    let (train_images, train_factors) = render_all(&indices[..opts.n_train], opts.size);
    let (test_images, test_factors) = render_all(&indices[opts.n_train..], opts.size);
    ShapesDataset {
        options: opts.clone(),
        train_images,
        train_factors,
        test_images,
        test_factors,
    }
}

impl ShapesDataset {
    /// As a `RawDataset` whose labels are the shape factor and whose splits carry all factors.
    pub fn into_raw(self) -> RawDataset {
        let size = self.options.size;
        let label_of = |f: &Vec<u8>| f.chunks(5).map(|c| c[0]).collect::<Vec<u8>>();
        let provenance = vec![
            (
                "generator".to_string(),
                format!(
                    "shapes-v1 {}",
                    serde_json::to_string(&self.options).unwrap()
                ),
            ),
            ("train_images".to_string(), sha256_hex(&self.train_images)),
            ("test_images".to_string(), sha256_hex(&self.test_images)),
        ];
        RawDataset {
            name: "shapes".into(),
            rows: size,
            cols: size,
            class_names: SHAPE_NAMES.iter().map(|s| s.to_string()).collect(),
            train: RawSplit {
                n: self.options.n_train,
                labels: label_of(&self.train_factors),
                pixels: self.train_images,
                factors: Some(self.train_factors),
            },
            test: RawSplit {
                n: self.options.n_test,
                labels: label_of(&self.test_factors),
                pixels: self.test_images,
                factors: Some(self.test_factors),
            },
            payload_sha256: provenance,
            factor_names: FACTOR_NAMES.iter().map(|s| s.to_string()).collect(),
        }
    }
}
