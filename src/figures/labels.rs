//! Collision-free placement of point labels (e.g. `β=4` next to a rate–distortion point).
//! Labels are placed greedily, most crowded point first, at the cheapest of several candidate
//! positions around their point that stays inside the plot and clear of markers, the legend
//! and labels already placed; a label is dropped only when no candidate fits, so callers must
//! make the point identifiable another way (marker shape).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::geometry::{Point, Rect, Segment};
use super::legend::MARKER_R;
use super::lines::LinePanel;
use super::text::text_size;
use super::{palette, DrawResult, FONT, TICK_SIZE};

/// A label of `size` (width, height) pixels to put next to the point `at`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelRequest {
    pub at: (f64, f64),
    pub size: (f64, f64),
}

/// Where a label went; `leader` when it sits away from its point and needs a line to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub rect: Rect,
    pub leader: bool,
}

/// Gap between a point and its label in the nearest ring, in pixels (about the marker's size
/// plus a few pixels of air).
const GAP: f64 = 10.0;
/// How many rings of candidates, each a label height further out.
const RINGS: usize = 3;

/// Candidate top-left corners around `at` for a `w × h` label, best first within each ring:
/// right, upper right, lower right, left, upper left, lower left, above, below.
fn candidates((x, y): (f64, f64), (w, h): (f64, f64), ring: usize) -> [(f64, f64); 8] {
    let d = GAP + ring as f64 * (h + 2.0);
    let e = d * std::f64::consts::FRAC_1_SQRT_2;
    [
        (x + d, y - h / 2.0),
        (x + e, y - e - h),
        (x + e, y + e),
        (x - d - w, y - h / 2.0),
        (x - e - w, y - e - h),
        (x - e - w, y + e),
        (x - w / 2.0, y - d - h),
        (x - w / 2.0, y + d),
    ]
}

/// Places every label it can. `markers` are points no label may cover (all points of the plot,
/// each a square of half-width `marker_r`), `obstacles` other forbidden areas (the legend),
/// `segments` lines a label should rather not cross (the curves), and every label must lie
/// inside `bounds`. Returns one entry per request, in request order.
pub fn place_labels(
    requests: &[LabelRequest],
    markers: &[(f64, f64)],
    marker_r: f64,
    obstacles: &[Rect],
    segments: &[Segment],
    bounds: Rect,
) -> Vec<Option<Placement>> {
    let marker_rects: Vec<Rect> = markers.iter().map(|&m| Rect::around(m, marker_r)).collect();
    // Crowded points first: they have the fewest free spots, so they choose before the
    // isolated ones take those spots.
    let crowd = |r: &LabelRequest| {
        let reach = 2.0 * (r.size.0 + GAP);
        markers
            .iter()
            .filter(|m| (m.0 - r.at.0).abs() < reach && (m.1 - r.at.1).abs() < reach)
            .count()
    };
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(crowd(&requests[i])));
    let mut placed: Vec<Option<Placement>> = vec![None; requests.len()];
    let mut taken: Vec<Rect> = Vec::new();
    for i in order {
        let req = &requests[i];
        let mut best: Option<(f64, Placement)> = None;
        for ring in 0..RINGS {
            for (k, (x0, y0)) in candidates(req.at, req.size, ring).into_iter().enumerate() {
                let rect = Rect::new(x0, y0, req.size.0, req.size.1);
                let blocked = !rect.inside(&bounds)
                    || marker_rects.iter().any(|m| m.intersects(&rect))
                    || obstacles.iter().any(|o| o.intersects(&rect))
                    || taken.iter().any(|t| t.intersects(&rect));
                if blocked {
                    continue;
                }
                let crossings = segments.iter().filter(|s| rect.crosses(s.0, s.1)).count();
                // A label lying on a curve reads as part of it: crossing one costs a little
                // more than moving a ring out, which only adds a leader line.
                let cost = ring as f64 * 4.0 + crossings as f64 * 4.5 + k as f64 * 0.1;
                if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                    let leader = ring > 0;
                    best = Some((cost, Placement { rect, leader }));
                }
            }
        }
        if let Some((_, p)) = best {
            taken.push(p.rect);
            placed[i] = Some(p);
        }
    }
    placed
}

/// Writes each series' point labels where they collide with nothing; a dropped label's point
/// is still told apart by its marker shape and the legend.
pub(crate) fn draw_point_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &LinePanel,
    to_px: &dyn Fn(&Point) -> Point,
    markers: &[(f64, f64)],
    segments: &[Segment],
    legend: Option<Rect>,
    plot: Rect,
) -> Result<()> {
    let size = TICK_SIZE as f64;
    let labels: Vec<(usize, &str, (f64, f64))> = panel
        .series
        .iter()
        .flat_map(|s| {
            s.point_labels
                .iter()
                .zip(&s.points)
                .filter(|(l, _)| !l.is_empty())
                .map(move |(l, p)| (s.color, l.as_str(), to_px(p)))
        })
        .collect();
    let requests: Vec<LabelRequest> = labels
        .iter()
        .map(|&(_, text, at)| {
            let (w, h) = text_size(text, size);
            LabelRequest {
                at,
                size: (w + 2.0, h),
            }
        })
        .collect();
    let obstacles: Vec<Rect> = legend.into_iter().collect();
    let r = MARKER_R as f64 + 1.0;
    let placed = place_labels(&requests, markers, r, &obstacles, segments, plot);
    let style = TextStyle::from((FONT, size).into_font()).pos(Pos::new(HPos::Left, VPos::Top));
    for ((color, text, at), placement) in labels.iter().zip(placed) {
        let Some(p) = placement else { continue };
        let color = palette(*color);
        if p.leader {
            // From the marker's rim to the nearest point of the label box.
            let target = (
                at.0.clamp(p.rect.x0, p.rect.x1),
                at.1.clamp(p.rect.y0, p.rect.y1),
            );
            let (dx, dy) = (target.0 - at.0, target.1 - at.1);
            let len = dx.hypot(dy).max(1.0);
            let start = (at.0 + dx / len * r, at.1 + dy / len * r);
            let line = vec![
                (start.0.round() as i32, start.1.round() as i32),
                (target.0.round() as i32, target.1.round() as i32),
            ];
            area.draw(&PathElement::new(line, color.mix(0.7).stroke_width(1)))
                .draw_err()?;
        }
        let at = ((p.rect.x0 + 1.0).round() as i32, p.rect.y0.round() as i32);
        area.draw_text(text, &style.color(&color), at).draw_err()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> Rect {
        Rect::new(0.0, 0.0, 600.0, 400.0)
    }

    fn assert_valid(reqs: &[LabelRequest], out: &[Option<Placement>], markers: &[(f64, f64)]) {
        let rects: Vec<Rect> = out.iter().flatten().map(|p| p.rect).collect();
        for (i, a) in rects.iter().enumerate() {
            assert!(a.inside(&bounds()), "{a:?} outside");
            for b in &rects[i + 1..] {
                assert!(!a.intersects(b), "{a:?} overlaps {b:?}");
            }
            for &m in markers {
                assert!(!a.intersects(&Rect::around(m, 4.0)), "{a:?} covers {m:?}");
            }
        }
        for (r, p) in reqs.iter().zip(out).filter_map(|(r, p)| Some((r, (*p)?))) {
            let size = (p.rect.x1 - p.rect.x0, p.rect.y1 - p.rect.y0);
            assert!((size.0 - r.size.0).abs() < 1e-9 && (size.1 - r.size.1).abs() < 1e-9);
        }
    }

    #[test]
    fn dense_cluster_never_overlaps() {
        // 4 curves × 5 points squeezed into a 60 × 40 pixel corner, some exactly coincident.
        let markers: Vec<(f64, f64)> = (0..20)
            .map(|i| {
                (
                    30.0 + (i % 5) as f64 * 12.0,
                    360.0 + (i / 5 % 2) as f64 * 8.0,
                )
            })
            .collect();
        let reqs: Vec<LabelRequest> = markers
            .iter()
            .map(|&at| LabelRequest {
                at,
                size: (46.0, 17.0),
            })
            .collect();
        let out = place_labels(&reqs, &markers, 4.0, &[], &[], bounds());
        assert_valid(&reqs, &out, &markers);
        // Ten distinct spots, each hit twice, in a corner: the three rings around them hold
        // about nine 46 × 17 labels, and the greedy placer must find most of that room.
        assert!(out.iter().flatten().count() >= 8, "{out:?}");
    }

    #[test]
    fn coincident_points_get_separate_labels() {
        let markers = vec![(300.0, 200.0), (300.0, 200.0), (301.0, 201.0)];
        let reqs: Vec<LabelRequest> = markers
            .iter()
            .map(|&at| LabelRequest {
                at,
                size: (50.0, 17.0),
            })
            .collect();
        let out = place_labels(&reqs, &markers, 4.0, &[], &[], bounds());
        assert_valid(&reqs, &out, &markers);
        assert!(out.iter().all(Option::is_some), "{out:?}");
    }

    #[test]
    fn sparse_points_label_to_the_right_and_respect_obstacles() {
        let markers = vec![(100.0, 100.0), (300.0, 300.0), (590.0, 200.0)];
        let reqs: Vec<LabelRequest> = markers
            .iter()
            .map(|&at| LabelRequest {
                at,
                size: (40.0, 16.0),
            })
            .collect();
        let legend = Rect::new(300.0, 270.0, 200.0, 60.0);
        let out = place_labels(&reqs, &markers, 4.0, &[legend], &[], bounds());
        assert_valid(&reqs, &out, &markers);
        let p: Vec<Placement> = out.into_iter().map(Option::unwrap).collect();
        assert!(
            p[0].rect.x0 > 100.0 && !p[0].leader,
            "first choice is the right side"
        );
        assert!(!p[1].rect.intersects(&legend));
        assert!(p[2].rect.x1 <= 590.0, "no room on the right at the border");
    }

    #[test]
    fn prefers_spots_that_do_not_cross_curves() {
        let markers = vec![(200.0, 200.0)];
        let reqs = [LabelRequest {
            at: markers[0],
            size: (40.0, 16.0),
        }];
        // A curve leaving the point to the right.
        let segments = [((200.0, 200.0), (400.0, 200.0))];
        let out = place_labels(&reqs, &markers, 4.0, &[], &segments, bounds());
        let rect = out[0].unwrap().rect;
        assert!(!rect.crosses(segments[0].0, segments[0].1), "{rect:?}");
    }
}
