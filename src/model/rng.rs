//! Counter-keyed random numbers: every batch draws from a stream derived from (seed, purpose,
//! epoch, batch), so runs are reproducible, resumable from an epoch number alone, and independent
//! of thread scheduling.
use super::linalg::Real;

/// Purposes of random draws; each gets its own stream.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum Stream {
    Init = 1,
    Shuffle = 2,
    Binarize = 3,
    Noise = 4,
    Reparam = 5,
    Validation = 6,
    Evaluation = 7,
    ValidationNoise = 8,
}

/// One step of splitmix64: advances `state` and returns the next output.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Small deterministic RNG (splitmix64): reproducible splits and samples without a crate
/// whose stream could change between versions and silently alter cached results.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        splitmix64(&mut self.0)
    }

    /// Uniform integer in `0..bound` (Lemire's multiply-shift; the bias is < 2^-32 for our sizes).
    pub fn below(&mut self, bound: u64) -> u64 {
        ((self.next_u64() as u128 * bound as u128) >> 64) as u64
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// xoshiro256++ generator.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose stream is a pure function of `key`.
    pub fn from_key(key: &[u64]) -> Self {
        let mut h = 0x243F_6A88_85A3_08D3u64;
        for &k in key {
            h ^= k;
            h = splitmix64(&mut h);
        }
        let s = [
            splitmix64(&mut h),
            splitmix64(&mut h),
            splitmix64(&mut h),
            splitmix64(&mut h),
        ];
        Self { s }
    }

    pub fn stream(seed: u64, stream: Stream, epoch: u64, batch: u64) -> Self {
        Self::from_key(&[seed, stream as u64, epoch, batch])
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = (s[0].wrapping_add(s[3])).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 24 random bits (exactly representable in f32).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 11) as u128 * n as u128) >> 53) as usize
    }

    /// Fills `out` with standard normals (Box–Muller on f64, rounded to `T`).
    pub fn fill_normal<T: Real>(&mut self, out: &mut [T]) {
        let mut chunks = out.chunks_exact_mut(2);
        for pair in &mut chunks {
            let (a, b) = self.normal_pair();
            pair[0] = T::from_f64(a);
            pair[1] = T::from_f64(b);
        }
        if let [last] = chunks.into_remainder() {
            *last = T::from_f64(self.normal_pair().0);
        }
    }

    fn normal_pair(&mut self) -> (f64, f64) {
        // u1 in (0, 1] so the log is finite.
        let u1 = ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
        let u2 = (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (2.0 * std::f64::consts::PI * u2).sin_cos();
        (r * c, r * s)
    }

    /// Fisher–Yates permutation of 0..n.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.below(i + 1);
            idx.swap(i, j);
        }
        idx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_reproducible_and_below_stays_in_range() {
        let a: Vec<u64> = (0..5)
            .scan(SplitMix64::new(42), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .scan(SplitMix64::new(42), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        let mut rng = SplitMix64::new(1);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            seen[rng.below(7) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        let mut v: Vec<u32> = (0..100).collect();
        rng.shuffle(&mut v);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn normals_have_unit_moments() {
        let mut rng = Rng::from_key(&[7]);
        let mut v = vec![0.0f64; 200_000];
        rng.fill_normal(&mut v);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "var {var}");
    }

    #[test]
    fn streams_differ_and_repeat() {
        let a: Vec<u64> = (0..4)
            .map(|_| Rng::stream(1, Stream::Noise, 0, 0).next_u64())
            .collect();
        assert!(a.iter().all(|&x| x == a[0]));
        assert_ne!(
            Rng::stream(1, Stream::Noise, 0, 0).next_u64(),
            Rng::stream(1, Stream::Noise, 0, 1).next_u64()
        );
    }
}
