//! How much memory training a model takes, estimated from its shape alone (before anything is
//! allocated), so that planning can refuse a model that would not fit.

/// The layer widths of a model: what `Architecture::new` lays out and this module sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelShape {
    pub input_dim: usize,
    /// Encoder hidden widths, input side first; the decoder mirrors them.
    pub hidden: Vec<usize>,
    pub latent_dim: usize,
    /// A VAE's encoder emits `[μ | log σ²]`: twice the latent width.
    pub variational: bool,
}

impl ModelShape {
    /// Widths of the encoder stack (input → hidden… → head) and the decoder stack
    /// (latent → hidden reversed… → input).
    pub fn stacks(&self) -> (Vec<usize>, Vec<usize>) {
        let head = if self.variational {
            2 * self.latent_dim
        } else {
            self.latent_dim
        };
        let mut enc = vec![self.input_dim];
        enc.extend(&self.hidden);
        enc.push(head);
        let mut dec = vec![self.latent_dim];
        dec.extend(self.hidden.iter().rev());
        dec.push(self.input_dim);
        (enc, dec)
    }

    /// Weights and biases of both stacks (in f64: a spec's widths may overflow `usize` products).
    pub fn param_count(&self) -> f64 {
        let (enc, dec) = self.stacks();
        [enc, dec]
            .iter()
            .flat_map(|s| s.windows(2))
            .map(|w| w[0] as f64 * w[1] as f64 + w[1] as f64)
            .sum()
    }

    /// Bytes that training at `batch` rows holds at once, in f32: the parameters seven times
    /// over (the trainer's state — weights and two Adam moments — plus the engine's working
    /// copy of those three and the gradients), and per batch row every layer's activations,
    /// two scratch rows of the widest layer, the latent buffers and the batch's input and target.
    pub fn training_bytes(&self, batch: usize) -> f64 {
        const F32: f64 = 4.0;
        const PARAM_COPIES: f64 = 7.0;
        let (enc, dec) = self.stacks();
        let widest = enc.iter().chain(&dec).copied().max().unwrap_or(1) as f64;
        let activations: f64 = enc
            .iter()
            .skip(1)
            .chain(dec.iter().skip(1))
            .map(|&w| w as f64)
            .sum();
        let per_row =
            activations + 2.0 * widest + 4.0 * self.latent_dim as f64 + 2.0 * self.input_dim as f64;
        F32 * (PARAM_COPIES * self.param_count() + batch as f64 * per_row)
    }
}

/// `bytes` as a short human figure: `827.5 GiB`, `12.0 MiB`.
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut x = bytes;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{x:.0} B")
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

/// Parses a size such as `8GiB`, `512 MiB`, `2G`, `1.5TB` or a plain byte count.
pub fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1u64,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return None,
    };
    let bytes = number * scale as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::Architecture;
    use crate::model::{ModelConfig, Variant};

    fn shape(hidden: &[usize], latent: usize, variational: bool) -> ModelShape {
        ModelShape {
            input_dim: 784,
            hidden: hidden.to_vec(),
            latent_dim: latent,
            variational,
        }
    }

    #[test]
    fn param_count_matches_the_architecture() {
        for (variational, hidden) in [(true, 400), (false, 32)] {
            let mut config = ModelConfig::reference_vae(hidden, 5);
            if !variational {
                config.variant = Variant::Ae;
            }
            let arch = Architecture::new(&config).unwrap();
            let s = shape(&[hidden], 5, variational);
            assert_eq!(s.param_count(), arch.param_count as f64);
        }
    }

    #[test]
    fn the_issue_model_is_terabytes_and_the_reference_vae_megabytes() {
        // hidden = [1048576], latent_dim = 65536: 208 G parameters, ~830 GB of weights alone.
        let huge = shape(&[1 << 20], 1 << 16, true);
        assert!((huge.param_count() * 4.0 / 1e9 / 827.0 - 1.0).abs() < 0.01);
        assert!(huge.training_bytes(128) > 5e12);
        let reference = shape(&[400], 20, true).training_bytes(128);
        assert!(reference > 15e6 && reference < 30e6, "{reference}");
    }

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_bytes("8GiB"), Some(8 << 30));
        assert_eq!(parse_bytes("512 mb"), Some(512 << 20));
        assert_eq!(parse_bytes("1.5G"), Some(3 << 29));
        assert_eq!(parse_bytes("1000"), Some(1000));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("8 parsecs"), None);
        assert_eq!(human_bytes(827.5 * (1u64 << 30) as f64), "827.5 GiB");
        assert_eq!(human_bytes(10.0), "10 B");
    }
}
