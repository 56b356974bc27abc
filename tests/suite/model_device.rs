//! Device selection and checkpoint failure modes: `auto` falls back to the CPU, `cuda` without
//! the feature is a clear error, and damaged or mismatched checkpoints are refused.
use pipeline::model::config::{
    Activation, DeviceChoice, Likelihood, ModelConfig, TrainConfig, Variant,
};
use pipeline::model::{load_checkpoint, train, ModelError, Silent, TrainData};

fn tiny() -> (ModelConfig, Vec<f32>) {
    let m = ModelConfig {
        variant: Variant::Ae,
        input_dim: 4,
        latent_dim: 2,
        hidden: vec![3],
        activation: Activation::Tanh,
        likelihood: Likelihood::Bernoulli,
        beta: 1.0,
        kl_warmup_epochs: 0,
        noise: None,
        l1: 0.0,
        conv: None,
    };
    let data = (0..32).map(|i| (i % 5) as f32 / 4.0).collect();
    (m, data)
}

/// Trains the tiny model on `rows` (4 values each), no validation set.
fn train_tiny(
    m: &ModelConfig,
    c: &TrainConfig,
    rows: &[f32],
    dir: &std::path::Path,
    observer: &mut dyn pipeline::model::TrainObserver,
) -> Result<pipeline::model::TrainSummary, ModelError> {
    let data = TrainData {
        train: rows,
        val: None,
        dim: 4,
    };
    train(m, c, &data, dir, observer)
}

fn cfg(device: DeviceChoice) -> TrainConfig {
    TrainConfig {
        epochs: 1,
        batch_size: 4,
        device,
        threads: Some(1),
        ..TrainConfig::default()
    }
}

#[test]
fn auto_device_trains_on_cpu_without_cuda() {
    let (m, data) = tiny();
    let dir = tempfile::tempdir().unwrap();
    let s = train_tiny(&m, &cfg(DeviceChoice::Auto), &data, dir.path(), &mut Silent).unwrap();
    if !cfg!(feature = "cuda") {
        assert!(s.device.starts_with("cpu"), "{}", s.device);
    }
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_device_without_the_feature_is_a_clear_error() {
    let (m, data) = tiny();
    let dir = tempfile::tempdir().unwrap();
    let err = train_tiny(&m, &cfg(DeviceChoice::Cuda), &data, dir.path(), &mut Silent).unwrap_err();
    assert!(matches!(err, ModelError::Device { .. }), "{err}");
    assert!(err.to_string().contains("--features cuda"), "{err}");
}

#[test]
fn damaged_checkpoint_is_refused() {
    let (m, data) = tiny();
    let dir = tempfile::tempdir().unwrap();
    let s = train_tiny(&m, &cfg(DeviceChoice::Cpu), &data, dir.path(), &mut Silent).unwrap();
    let bytes = std::fs::read(&s.model_path).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() - 8]).unwrap();
    let err = load_checkpoint(&cut)
        .err()
        .expect("truncated file must not load");
    assert!(
        err.to_string().starts_with("failed to load checkpoint"),
        "{err}"
    );
}

#[test]
fn data_of_the_wrong_width_is_refused() {
    let (m, data) = tiny();
    let dir = tempfile::tempdir().unwrap();
    let err = train_tiny(
        &m,
        &cfg(DeviceChoice::Cpu),
        &data[..30],
        dir.path(),
        &mut Silent,
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::Data(_)), "{err}");
}

/// Progress UIs often hold `Rc`/`RefCell`; the loop calls the observer on the caller's thread,
/// so it does not have to be `Send` (this test would not compile otherwise).
struct RcObserver(std::rc::Rc<std::cell::RefCell<Vec<usize>>>);

impl pipeline::model::TrainObserver for RcObserver {
    fn epoch_done(&mut self, m: &pipeline::model::EpochMetrics) {
        self.0.borrow_mut().push(m.epoch);
    }
}

#[test]
fn observer_runs_on_the_calling_thread_and_sees_every_epoch() {
    let (m, data) = tiny();
    let dir = tempfile::tempdir().unwrap();
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let cfg = TrainConfig {
        epochs: 3,
        ..cfg(DeviceChoice::Cpu)
    };
    train_tiny(&m, &cfg, &data, dir.path(), &mut RcObserver(seen.clone())).unwrap();
    assert_eq!(*seen.borrow(), [0, 1, 2]);
}
