//! Linear autoencoder vs PCA: reconstruction error against k, and the principal angles between
//! the linear AE's decoder subspace and the PCA subspace as a bar chart.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::legend::Marker;
use super::lines::{LinePanel, Series};
use super::{
    draw_title, house_mesh, palette, save, DrawResult, Drawing, FigureFiles, FONT,
    PANEL_TITLE_SIZE, TICK_SIZE, TITLE_SIZE,
};

struct LinearAeVsPca<'a> {
    title: &'a str,
    mse: LinePanel,
    angles_deg: &'a [f64],
}

fn draw_angles<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, angles: &[f64]) -> Result<()> {
    let top = angles.iter().copied().fold(0.0f64, f64::max).max(1.0) * 1.15;
    let n = angles.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(
            "principal angles: linear AE vs PCA subspace",
            (FONT, PANEL_TITLE_SIZE),
        )
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(0.5..n + 0.5, 0.0..top)
        .draw_err()?;
    let mut mesh = chart.configure_mesh();
    house_mesh(&mut mesh, "angle index", "angle [degrees]");
    mesh.x_labels(angles.len().min(20))
        .x_label_formatter(&|v| format!("{}", v.round() as i64))
        .draw()
        .draw_err()?;
    chart
        .draw_series(angles.iter().enumerate().map(|(i, &a)| {
            let x = i as f64 + 1.0;
            Rectangle::new([(x - 0.35, 0.0), (x + 0.35, a)], palette(2).filled())
        }))
        .draw_err()?;
    // Values on the bars: near-zero angles are the point of the figure and invisible as bars.
    let style = TextStyle::from((FONT, TICK_SIZE).into_font());
    chart
        .draw_series(angles.iter().enumerate().map(|(i, &a)| {
            EmptyElement::at((i as f64 + 1.0, a))
                + Text::new(format!("{a:.1}°"), (-14, -20), style.clone())
        }))
        .draw_err()?;
    Ok(())
}

impl Drawing for LinearAeVsPca<'_> {
    fn size(&self) -> (u32, u32) {
        (1260, 540)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let body = draw_title(root, self.title, TITLE_SIZE, TITLE_SIZE + 24)?;
        let body = body.margin(0, 10, 10, 10);
        let areas = body.split_evenly((1, 2));
        super::lines::draw_line_panel(&areas[0], &self.mse)?;
        draw_angles(&areas[1], self.angles_deg)
    }
}

/// Left: reconstruction MSE vs number of components `k` for PCA and the linear AE
/// (`(k, mse)` pairs). Right: principal angles (degrees) between the linear AE decoder
/// subspace and the PCA subspace of the same dimension.
pub fn linear_ae_vs_pca(
    path: &Path,
    title: &str,
    pca_mse: &[(usize, f64)],
    linear_ae_mse: &[(usize, f64)],
    angles_deg: &[f64],
) -> Result<FigureFiles> {
    if angles_deg.is_empty() {
        bail!("linear AE vs PCA: no principal angles given");
    }
    // With a k or two there is no curve to read: write the values next to the points.
    let few = pca_mse.len().max(linear_ae_mse.len()) <= 2;
    let series = |name: &str, color: usize, marker, values: &[(usize, f64)]| Series {
        name: name.to_string(),
        points: values.iter().map(|&(k, m)| (k as f64, m)).collect(),
        point_labels: if few {
            values.iter().map(|&(_, m)| format!("{m:.5}")).collect()
        } else {
            Vec::new()
        },
        color,
        marker,
        ..Series::default()
    };
    let mse = LinePanel {
        title: "reconstruction error vs k".into(),
        x_label: "k (components / latent size)".into(),
        y_label: "reconstruction MSE".into(),
        series: vec![
            // The curves should coincide: the linear AE's open × stays visible on PCA's dots.
            series("PCA", 0, Marker::Circle, pca_mse),
            series("linear AE", 3, Marker::Cross, linear_ae_mse),
        ],
        x_ticks: pca_mse.iter().map(|&(k, _)| k as f64).collect(),
        y_from_zero: true,
        ..LinePanel::default()
    };
    save(
        &LinearAeVsPca {
            title,
            mse,
            angles_deg,
        },
        path,
    )
}
