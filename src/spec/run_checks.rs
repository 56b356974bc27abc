//! One sweep member's merged run parameters validated into a [`RunSpec`]: each value range-
//! checked at the key it was written at, each default taken from `model::config::defaults`,
//! and only what the variant reads kept.

use super::check::Checker;
use super::raw::RawRunParams;
use super::sweep::DataFacts;
use super::validated::{ConvSpec, NoiseSpec, RunSpec};
use super::variant::*;
use crate::model::config::defaults;

/// Validates one merged parameter set and keeps only what the variant reads.
pub(super) fn run_spec(
    c: &mut Checker,
    p: &RawRunParams,
    at: &dyn Fn(&str) -> String,
    seed: u64,
    data: DataFacts,
) -> Option<RunSpec> {
    let variant = c.name(
        &at("variant"),
        p.variant.as_deref(),
        defaults::VARIANT.name(),
        VARIANT_NAMES,
        Variant::parse,
    )?;
    let reads = |f: &str| variant.reads(f);
    let epochs = c.usize(
        &at("epochs"),
        p.epochs,
        defaults::EPOCHS as i64,
        1,
        1_000_000,
    );
    let batch_size = c.usize(
        &at("batch_size"),
        p.batch_size,
        defaults::BATCH_SIZE as i64,
        1,
        i64::MAX,
    );
    if let Some(n) = data.n_train {
        if batch_size > n {
            c.fail(&at("batch_size"), format!("batch size {batch_size} is larger than the training set ({n} images after split/subset)"));
        }
    }
    let conv = if reads("architecture") {
        conv_spec(c, p, at, data)?
    } else {
        None
    };
    let hidden = (reads("hidden") && conv.is_none()).then(|| {
        let h = p
            .hidden
            .clone()
            .unwrap_or_else(|| defaults::HIDDEN.iter().map(|&w| w as i64).collect());
        h.iter()
            .enumerate()
            .map(|(i, &w)| c.usize(&format!("{}[{i}]", at("hidden")), Some(w), 1, 1, 1 << 20))
            .collect()
    });
    let activation = if reads("activation") {
        Some(c.name(
            &at("activation"),
            p.activation.as_deref(),
            defaults::ACTIVATION.name(),
            ACTIVATION_NAMES,
            parse_name,
        )?)
    } else {
        None
    };
    let noise = if reads("noise") {
        let kind: NoiseKind = c.name(
            &at("noise"),
            p.noise.as_deref(),
            defaults::NOISE.name(),
            NOISE_NAMES,
            parse_name,
        )?;
        let hi = if kind == NoiseKind::Masking {
            1.0
        } else {
            f64::INFINITY
        };
        let level = c.float(
            &at("noise_level"),
            p.noise_level,
            defaults::NOISE_LEVEL,
            0.0,
            false,
            hi,
            kind == NoiseKind::Masking,
        );
        Some(NoiseSpec { kind, level })
    } else {
        None
    };
    let betas = p
        .adam_betas
        .clone()
        .unwrap_or_else(|| defaults::ADAM_BETAS.to_vec());
    if betas.len() != 2 || betas.iter().any(|b| !(0.0..1.0).contains(b)) {
        c.fail(
            &at("adam_betas"),
            format!("must be two numbers in [0, 1), got {betas:?}"),
        );
    }
    Some(RunSpec {
        variant,
        latent_dim: c.usize(
            &at("latent_dim"),
            p.latent_dim,
            defaults::LATENT_DIM as i64,
            1,
            1 << 16,
        ),
        hidden,
        conv,
        activation,
        likelihood: c.name(
            &at("likelihood"),
            p.likelihood.as_deref(),
            defaults::LIKELIHOOD.name(),
            LIKELIHOOD_NAMES,
            parse_name,
        )?,
        beta: reads("beta").then(|| {
            c.float(
                &at("beta"),
                p.beta,
                defaults::BETA,
                0.0,
                false,
                f64::INFINITY,
                false,
            )
        }),
        kl_warmup_epochs: reads("kl_warmup_epochs").then(|| {
            c.usize(
                &at("kl_warmup_epochs"),
                p.kl_warmup_epochs,
                defaults::KL_WARMUP_EPOCHS as i64,
                0,
                1_000_000,
            )
        }),
        noise,
        l1: reads("l1").then(|| {
            c.float(
                &at("l1"),
                p.l1,
                defaults::L1,
                0.0,
                false,
                f64::INFINITY,
                false,
            )
        }),
        epochs,
        batch_size,
        lr: c.float(
            &at("lr"),
            p.lr,
            defaults::LR,
            0.0,
            true,
            f64::INFINITY,
            false,
        ),
        adam_betas: [
            betas.first().copied().unwrap_or(defaults::ADAM_BETAS[0]),
            betas.get(1).copied().unwrap_or(defaults::ADAM_BETAS[1]),
        ],
        weight_decay: c.float(
            &at("weight_decay"),
            p.weight_decay,
            defaults::WEIGHT_DECAY,
            0.0,
            false,
            f64::INFINITY,
            false,
        ),
        seed: c.int(&at("seed"), p.seed, seed as i64, 0, i64::MAX) as u64,
        device: c.name(
            &at("device"),
            p.device.as_deref(),
            defaults::DEVICE.name(),
            DEVICE_NAMES,
            parse_name,
        )?,
    })
}

/// `architecture` and, for "conv", the layout, checked against the image size when it is known
/// (a layout that does not tile the images is an error at `conv_channels`, or at
/// `architecture` when the channels are the default). `Some(None)` is an MLP.
fn conv_spec(
    c: &mut Checker,
    p: &RawRunParams,
    at: &dyn Fn(&str) -> String,
    data: DataFacts,
) -> Option<Option<ConvSpec>> {
    let backbone: Backbone = c.name(
        &at("architecture"),
        p.architecture.as_deref(),
        defaults::BACKBONE.name(),
        BACKBONE_NAMES,
        parse_name,
    )?;
    if backbone == Backbone::Mlp {
        return Some(None);
    }
    let channels = p
        .conv_channels
        .clone()
        .unwrap_or_else(|| defaults::CONV_CHANNELS.iter().map(|&w| w as i64).collect());
    if channels.is_empty() {
        c.fail(
            &at("conv_channels"),
            "must list at least one convolution's channels",
        );
    }
    let conv_channels = channels
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            c.usize(
                &format!("{}[{i}]", at("conv_channels")),
                Some(w),
                1,
                1,
                4096,
            )
        })
        .collect();
    let kernel = c.usize(
        &at("conv_kernel"),
        p.conv_kernel,
        defaults::CONV_KERNEL as i64,
        1,
        64,
    );
    let spec = ConvSpec {
        architecture: backbone,
        conv_channels,
        conv_kernel: kernel,
        conv_stride: c.usize(
            &at("conv_stride"),
            p.conv_stride,
            defaults::CONV_STRIDE as i64,
            1,
            64,
        ),
        conv_padding: c.usize(
            &at("conv_padding"),
            p.conv_padding,
            defaults::CONV_PADDING as i64,
            0,
            kernel as i64 - 1,
        ),
        conv_dense: c.usize(
            &at("conv_dense"),
            p.conv_dense,
            defaults::CONV_DENSE as i64,
            1,
            1 << 20,
        ),
    };
    if let (Some((h, w)), false) = (data.image, channels.is_empty()) {
        if let Err(e) = spec.layout(h, w).sides() {
            let key = if p.conv_channels.is_some() {
                at("conv_channels")
            } else {
                at("architecture")
            };
            c.fail_hint(
                &key,
                e,
                Some(
                    "use fewer convolutions, or a kernel/stride/padding with \
                     (side + 2·padding − kernel) divisible by the stride at every layer \
                     (kernel 4, stride 2, padding 1 halves even sides: 28 → 14 → 7)"
                        .into(),
                ),
            );
        }
    }
    Some(Some(spec))
}
