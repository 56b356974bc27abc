//! PNG text drawn with ab_glyph directly, wrapped around the bitmap backend.
//!
//! plotters' own ab_glyph path copies each glyph's bitmap to the pen position, dropping the
//! glyph's left side bearing, and truncates the pen to whole pixels; so "li" or "3." touch
//! while other pairs gape. Here the outline is placed where the font puts it (pen + bearing,
//! sub-pixel pen, advance + kerning) and rasterised once for the whole string. Layout sizes
//! come from the same code, so figures can measure their labels exactly before drawing.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, GlyphId, PxScale, ScaleFont};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    // The bytes are a known-good TTF compiled in; failure would be a build defect.
    FONT.get_or_init(|| {
        FontRef::try_from_slice(super::DEJAVU_SANS).expect("embedded DejaVuSans.ttf is valid")
    })
}

/// Glyphs with their pen x, the advance width, and the line box (ascent above the baseline,
/// full height ascent − descent).
struct Layout {
    glyphs: Vec<(GlyphId, f32)>,
    width: f32,
    ascent: f32,
    height: f32,
}

fn layout(text: &str, size: f32) -> Layout {
    let font = font().as_scaled(PxScale::from(size));
    let (mut x, mut prev, mut glyphs) = (0.0f32, None, Vec::new());
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(prev) = prev {
            x += font.kern(prev, id);
        }
        glyphs.push((id, x));
        x += font.h_advance(id);
        prev = Some(id);
    }
    Layout {
        glyphs,
        width: x,
        ascent: font.ascent(),
        height: font.ascent() - font.descent(),
    }
}

/// `(width, height)` in pixels of `text` at font size `size`, as [`GlyphText`] draws it.
pub(crate) fn text_size(text: &str, size: f64) -> (f64, f64) {
    let l = layout(text, size as f32);
    (l.width as f64, l.height as f64)
}

/// Coverage in `[0, 1]` of the laid-out string: `(x0, y0, w, h, values)` with `(x0, y0)` the
/// top-left pixel relative to the line box's top-left corner.
fn rasterise(text: &str, size: f32) -> (Layout, i32, i32, usize, usize, Vec<f32>) {
    let l = layout(text, size);
    let font = font().as_scaled(PxScale::from(size));
    let outlines: Vec<_> = l
        .glyphs
        .iter()
        .filter_map(|&(id, x)| {
            font.outline_glyph(id.with_scale_and_position(size, point(x, l.ascent)))
        })
        .collect();
    let Some(first) = outlines.first() else {
        return (l, 0, 0, 0, 0, Vec::new());
    };
    let mut bounds = first.px_bounds();
    for o in &outlines {
        let b = o.px_bounds();
        bounds.min.x = bounds.min.x.min(b.min.x);
        bounds.min.y = bounds.min.y.min(b.min.y);
        bounds.max.x = bounds.max.x.max(b.max.x);
        bounds.max.y = bounds.max.y.max(b.max.y);
    }
    let (x0, y0) = (bounds.min.x as i32, bounds.min.y as i32);
    let w = (bounds.max.x as i32 - x0).max(0) as usize;
    let h = (bounds.max.y as i32 - y0).max(0) as usize;
    let mut cover = vec![0.0f32; w * h];
    for o in &outlines {
        let b = o.px_bounds();
        let (ox, oy) = (b.min.x as i32 - x0, b.min.y as i32 - y0);
        o.draw(|x, y, c| {
            let (px, py) = (ox + x as i32, oy + y as i32);
            if (0..w as i32).contains(&px) && (0..h as i32).contains(&py) {
                // Neighbouring glyphs can share an edge pixel: their coverages add up.
                let v = &mut cover[py as usize * w + px as usize];
                *v = (*v + c).min(1.0);
            }
        });
    }
    (l, x0, y0, w, h, cover)
}

/// A drawing backend that forwards everything to `DB` except text, which it lays out and
/// rasterises itself with the embedded font (whatever family the style names).
pub(crate) struct GlyphText<DB>(pub DB);

impl<DB: DrawingBackend> DrawingBackend for GlyphText<DB> {
    type ErrorType = DB::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }
    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (w, h) = text_size(text, style.size());
        Ok((w.ceil() as u32, h.ceil() as u32))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let (l, x0, y0, w, h, cover) = rasterise(text, style.size() as f32);
        // Anchor offsets apply to the unrotated line box, as in plotters' default.
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -l.width / 2.0,
            HPos::Right => -l.width,
        }
        .round() as i32;
        let dy = match style.anchor().v_pos {
            VPos::Top => 0.0,
            VPos::Center => -l.height / 2.0,
            VPos::Bottom => -l.height,
        }
        .round() as i32;
        let transform = style.transform();
        for y in 0..h {
            for x in 0..w {
                let c = cover[y * w + x];
                if c <= 0.0 {
                    continue;
                }
                let (tx, ty) = transform.transform(x0 + x as i32 + dx, y0 + y as i32 + dy);
                let alpha = color.alpha * f64::from(c);
                self.0.draw_pixel(
                    (pos.0 + tx, pos.1 + ty),
                    BackendColor {
                        alpha,
                        rgb: color.rgb,
                    },
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;
    use plotters::style::text_anchor::Pos;

    /// Columns holding ink when `text` is drawn left/top-anchored at `(x, 10)`.
    fn ink_columns(text: &str, size: f64, x: i32) -> Vec<usize> {
        let (w, h) = (400usize, 100usize);
        let mut buf = vec![255u8; w * h * 3];
        {
            let root = GlyphText(BitMapBackend::with_buffer(&mut buf, (w as u32, h as u32)))
                .into_drawing_area();
            let style = TextStyle::from(("sans-serif", size).into_font())
                .pos(Pos::new(HPos::Left, VPos::Top));
            root.draw_text(text, &style, (x, 10)).unwrap();
            root.present().unwrap();
        }
        (0..w)
            .filter(|&c| (0..h).any(|r| buf[(r * w + c) * 3] < 128))
            .collect()
    }

    #[test]
    fn glyphs_sit_at_their_side_bearings() {
        // plotters' own path drew "1" at the pen, dropping its wide left bearing.
        let size = 40.0;
        let font = font().as_scaled(PxScale::from(size as f32));
        let one = font.glyph_id('1');
        let cols = ink_columns("1.5", size, 20);
        let first = *cols.first().unwrap() as f32;
        let expected = 20.0 + font.h_side_bearing(one);
        assert!((first - expected).abs() <= 1.0, "{first} vs {expected}");
        // The last glyph ends where advance + kerning + its bearing and width put it.
        let l = layout("1.5", size as f32);
        let (five, pen) = *l.glyphs.last().unwrap();
        let outline =
            font.outline_glyph(five.with_scale_and_position(size as f32, point(pen, 0.0)));
        let right = 20.0 + outline.unwrap().px_bounds().max.x;
        let last = *cols.last().unwrap() as f32 + 1.0;
        assert!((last - right).abs() <= 1.5, "{last} vs {right}");
        // Measured width matches the advance sum used for layout.
        assert!((text_size("1.5", size).0 - l.width as f64).abs() < 1e-9);
    }

    #[test]
    fn centre_anchor_centres_the_ink() {
        let (w, h) = (400usize, 100usize);
        let mut buf = vec![255u8; w * h * 3];
        {
            let root = GlyphText(BitMapBackend::with_buffer(&mut buf, (w as u32, h as u32)))
                .into_drawing_area();
            let style = TextStyle::from(("sans-serif", 30.0).into_font())
                .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw_text("HOH", &style, (200, 50)).unwrap();
            root.present().unwrap();
        }
        let ink = |i: usize| buf[i * 3] < 128;
        let cols: Vec<usize> = (0..w).filter(|&c| (0..h).any(|r| ink(r * w + c))).collect();
        let rows: Vec<usize> = (0..h).filter(|&r| (0..w).any(|c| ink(r * w + c))).collect();
        let mid = |v: &[usize]| (v[0] + v[v.len() - 1]) as f64 / 2.0;
        // Capitals without descenders sit a little above the line box's centre.
        assert!((mid(&cols) - 200.0).abs() <= 1.5, "{cols:?}");
        assert!((mid(&rows) - 50.0).abs() <= 4.0, "{rows:?}");
    }
}
