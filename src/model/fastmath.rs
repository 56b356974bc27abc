//! Branch-free f32 `exp` and `ln(1 + e)` (Cephes polynomials) that LLVM vectorises, for the
//! Bernoulli loss kernel: libm's scalar `expf`/`log1pf` took a quarter of a training step.

const LOG2E: f32 = std::f32::consts::LOG2_E;
// ln 2 split in a part exact in f32 and a remainder, for accurate range reduction.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
const ROUND_MAGIC: f32 = 12_582_912.0;

/// e^x for x ≤ 0 down to the f32 underflow range (inputs below −87 give ≈ 0); ≤ 2 ulp.
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    let x = x.max(-87.0);
    // Round x·log2(e) to the nearest integer n with the 1.5·2²³ trick: the integer lands in
    // the low mantissa bits, so no float→int cast (Rust's saturating casts do not vectorise).
    let shifted = x * LOG2E + ROUND_MAGIC;
    let n = shifted - ROUND_MAGIC;
    let r = x - n * LN2_HI - n * LN2_LO;
    let r2 = r * r;
    let p = 1.987_569_1e-4f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let y = p * r2 + r + 1.0;
    // 2^n built from the exponent bits; n ∈ [−126, 0] here so it stays normal.
    let n_int = (shifted.to_bits() as i32).wrapping_sub(ROUND_MAGIC.to_bits() as i32);
    let scale = f32::from_bits((n_int.wrapping_add(127) as u32) << 23);
    y * scale
}

/// ln(1 + e) for e ∈ [0, 1], given `inv = 1 / (1 + e)` which the caller already has.
/// Uses ln(u) of u = 1 + e plus the rounding correction (e − (u − 1)) / u.
#[inline(always)]
pub fn ln_1p_unit(e: f32, inv: f32) -> f32 {
    let u = 1.0 + e;
    // u ∈ [1, 2]: write u = 2^k · m with m ∈ [√½, √2), k ∈ {0, 1}.
    let big = u > std::f32::consts::SQRT_2;
    let m = if big { u * 0.5 } else { u };
    let k = if big { 1.0f32 } else { 0.0 };
    let x = m - 1.0;
    let z = x * x;
    let p = 7.037_683_6e-2f32;
    let p = p * x - 1.151_461e-1;
    let p = p * x + 1.167_699_9e-1;
    let p = p * x - 1.242_014_1e-1;
    let p = p * x + 1.424_932_3e-1;
    let p = p * x - 1.666_805_8e-1;
    let p = p * x + 2.000_071_4e-1;
    let p = p * x - 2.499_999_4e-1;
    let p = p * x + 3.333_333e-1;
    let y = p * x * z + k * LN2_LO - 0.5 * z;
    let ln_u = x + y + k * LN2_HI;
    ln_u + (e - (u - 1.0)) * inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_on_its_domain() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let x = -(i as f32) * 87.0 / 200_000.0;
            let want = (x as f64).exp();
            let rel = ((exp_nonpositive(x) as f64 - want) / want).abs();
            worst = worst.max(rel);
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
    }

    #[test]
    fn ln_1p_is_accurate_on_unit_interval() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let e = i as f32 / 200_000.0 + if i == 0 { 1e-30 } else { 0.0 };
            let inv = 1.0 / (1.0 + e);
            let want = (e as f64).ln_1p();
            let abs = (ln_1p_unit(e, inv) as f64 - want).abs();
            worst = worst.max(abs / want.max(1e-30));
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
    }
}
