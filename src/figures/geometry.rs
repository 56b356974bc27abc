//! Pixel geometry shared by the legend and the label placer: points, segments, rectangles.

/// A pixel position `(x, y)`.
pub(crate) type Point = (f64, f64);
/// A straight piece of a curve, from one pixel point to another.
pub(crate) type Segment = (Point, Point);

/// An axis-aligned pixel rectangle, `x0 <= x1`, `y0 <= y1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub fn new(x0: f64, y0: f64, w: f64, h: f64) -> Rect {
        Rect {
            x0,
            y0,
            x1: x0 + w,
            y1: y0 + h,
        }
    }
    /// The square of half-width `r` around `(x, y)`, e.g. a marker.
    pub fn around((x, y): (f64, f64), r: f64) -> Rect {
        Rect::new(x - r, y - r, 2.0 * r, 2.0 * r)
    }
    /// Interiors overlap (touching edges do not count).
    pub fn intersects(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
    pub fn inside(&self, outer: &Rect) -> bool {
        self.x0 >= outer.x0 && self.y0 >= outer.y0 && self.x1 <= outer.x1 && self.y1 <= outer.y1
    }
    pub fn contains(&self, (x, y): (f64, f64)) -> bool {
        (self.x0..=self.x1).contains(&x) && (self.y0..=self.y1).contains(&y)
    }
    /// Whether the segment `a`–`b` passes through the rectangle (Liang–Barsky clipping).
    pub fn crosses(&self, a: (f64, f64), b: (f64, f64)) -> bool {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (p, q) in [
            (-dx, a.0 - self.x0),
            (dx, self.x1 - a.0),
            (-dy, a.1 - self.y0),
            (dy, self.y1 - a.1),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    return false;
                }
            } else {
                let t = q / p;
                if p < 0.0 {
                    t0 = t0.max(t);
                } else {
                    t1 = t1.min(t);
                }
            }
        }
        t0 <= t1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_rectangle_crossing() {
        let r = Rect::new(10.0, 10.0, 10.0, 10.0);
        assert!(r.crosses((0.0, 15.0), (30.0, 15.0)));
        assert!(r.crosses((12.0, 12.0), (13.0, 13.0)));
        assert!(!r.crosses((0.0, 0.0), (30.0, 5.0)));
        assert!(!r.crosses((0.0, 25.0), (25.0, 40.0)));
    }
}
