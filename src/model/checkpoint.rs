//! Safetensors files: the final model (weights + config JSON in the metadata) and the
//! per-epoch training state (weights, Adam moments, RNG position, metrics so far) used to resume.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};

use super::config::{ModelConfig, TrainConfig};
use super::metrics_csv::EpochMetrics;
use super::network::Architecture;
use super::ModelError;

pub const MODEL_FILE: &str = "model.safetensors";
pub const STATE_FILE: &str = "train_state.safetensors";
const MODEL_FORMAT: &str = "pipeline-ae/1";
const STATE_FORMAT: &str = "pipeline-ae-train-state/1";

fn checkpoint_err(path: &Path, reason: impl std::fmt::Display) -> ModelError {
    ModelError::Checkpoint {
        action: "load",
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn save_err(path: &Path, reason: impl std::fmt::Display) -> ModelError {
    ModelError::Checkpoint {
        action: "save",
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn to_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Writes `tensors` with `metadata` to `path` atomically (temp file + rename), so a run killed
/// mid-write never leaves a truncated checkpoint behind. The bytes are a pure function of the
/// inputs (see [`canonical_header`]), so a resumed and a fresh run write identical files.
fn write(
    path: &Path,
    tensors: &[(String, Vec<usize>, &[f32])],
    metadata: BTreeMap<String, String>,
) -> Result<(), ModelError> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(n, s, v)| (n.clone(), s.clone(), to_bytes(v)))
        .collect();
    let mut views = Vec::with_capacity(bytes.len());
    for (name, shape, data) in &bytes {
        let view =
            TensorView::new(Dtype::F32, shape.clone(), data).map_err(|e| save_err(path, e))?;
        views.push((name.clone(), view));
    }
    let metadata: HashMap<String, String> = metadata.into_iter().collect();
    let file = safetensors::serialize(views, &Some(metadata)).map_err(|e| save_err(path, e))?;
    let file = canonical_header(file).map_err(|e| save_err(path, e))?;
    let tmp = path.with_extension("safetensors.tmp");
    let io = |action, error| ModelError::Io {
        action,
        path: path.to_path_buf(),
        error,
    };
    if let Err(e) = std::fs::write(&tmp, &file) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("save checkpoint", e));
    }
    std::fs::rename(&tmp, path).map_err(|e| io("rename checkpoint to", e))
}

/// Rewrites a safetensors file's JSON header with every object's keys sorted: the crate
/// serialises `__metadata__` from a `HashMap`, whose order changes from run to run. Tensor
/// offsets are relative to the data section, so only the header (and its length) changes.
fn canonical_header(file: Vec<u8>) -> Result<Vec<u8>, String> {
    let n = file
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .filter(|&n| 8 + n <= file.len())
        .ok_or("serialised file has no header")?;
    let header: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&file[8..8 + n]).map_err(|e| e.to_string())?;
    let mut text = serde_json::to_string(&sorted(serde_json::Value::Object(
        header.into_iter().collect(),
    )))
    .map_err(|e| e.to_string())?
    .into_bytes();
    // The format pads the header with spaces so the data starts 8-byte aligned.
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + text.len() + file.len() - 8 - n);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(&file[8 + n..]);
    Ok(out)
}

/// `value` with the keys of every object in sorted order, whatever map serde_json is built with.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let by_key: BTreeMap<String, serde_json::Value> =
                map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            serde_json::Value::Object(by_key.into_iter().collect())
        }
        other => other,
    }
}

/// A loaded file: tensors by name (shape, values) and the string metadata.
struct Loaded {
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
    metadata: HashMap<String, String>,
}

fn read(path: &Path) -> Result<Loaded, ModelError> {
    let bytes = std::fs::read(path).map_err(|error| ModelError::Io {
        action: "read checkpoint",
        path: path.to_path_buf(),
        error,
    })?;
    let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(|e| checkpoint_err(path, e))?;
    let metadata = meta.metadata().clone().unwrap_or_default();
    let st = SafeTensors::deserialize(&bytes).map_err(|e| checkpoint_err(path, e))?;
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(checkpoint_err(
                path,
                format!("tensor {name} is {:?}, expected F32", view.dtype()),
            ));
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        tensors.insert(name, (view.shape().to_vec(), values));
    }
    Ok(Loaded { tensors, metadata })
}

fn meta_json<T: for<'de> Deserialize<'de>>(
    path: &Path,
    loaded: &Loaded,
    key: &str,
) -> Result<T, ModelError> {
    let raw = loaded
        .metadata
        .get(key)
        .ok_or_else(|| checkpoint_err(path, format!("metadata has no `{key}`")))?;
    serde_json::from_str(raw)
        .map_err(|e| checkpoint_err(path, format!("bad `{key}` metadata: {e}")))
}

fn named_params<'a>(
    arch: &Architecture,
    params: &'a [f32],
) -> Vec<(String, Vec<usize>, &'a [f32])> {
    arch.named_tensors()
        .into_iter()
        .map(|(n, r, s)| (n, s, &params[r]))
        .collect()
}

/// Reassembles the flat parameter buffer from named tensors, checking every shape.
fn gather_params(
    path: &Path,
    arch: &Architecture,
    loaded: &Loaded,
) -> Result<Vec<f32>, ModelError> {
    let mut params = vec![0.0f32; arch.param_count];
    for (name, range, shape) in arch.named_tensors() {
        let (got_shape, values) = loaded
            .tensors
            .get(&name)
            .ok_or_else(|| checkpoint_err(path, format!("missing tensor {name}")))?;
        if *got_shape != shape {
            return Err(checkpoint_err(
                path,
                format!("tensor {name} has shape {got_shape:?}, expected {shape:?}"),
            ));
        }
        params[range].copy_from_slice(values);
    }
    Ok(params)
}

/// Saves a trained model; the architecture goes into the metadata as JSON.
pub fn save_model(path: &Path, config: &ModelConfig, params: &[f32]) -> Result<(), ModelError> {
    let arch = Architecture::new(config)?;
    let mut metadata = BTreeMap::new();
    metadata.insert("format".into(), MODEL_FORMAT.into());
    metadata.insert(
        "config".into(),
        serde_json::to_string(config).expect("config serialises"),
    );
    write(path, &named_params(&arch, params), metadata)
}

/// Reads a model file written by [`save_model`] (or a training-state file).
pub fn read_model(path: &Path) -> Result<(ModelConfig, Vec<f32>), ModelError> {
    let loaded = read(path)?;
    let config: ModelConfig = meta_json(path, &loaded, "config")?;
    let arch = Architecture::new(&config)?;
    let params = gather_params(path, &arch, &loaded)?;
    Ok((config, params))
}

/// Where a training run stands after a completed epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RngPosition {
    pub seed: u64,
    /// All randomness of epoch e is drawn from streams keyed by (seed, e, batch), so the next
    /// epoch number is the whole generator state.
    pub next_epoch: usize,
}

pub struct TrainState {
    pub model: ModelConfig,
    pub train: TrainConfig,
    pub params: Vec<f32>,
    pub adam_m: Vec<f32>,
    pub adam_v: Vec<f32>,
    pub adam_step: u64,
    pub rng: RngPosition,
    pub metrics: Vec<EpochMetrics>,
}

pub fn state_path(dir: &Path) -> PathBuf {
    dir.join(STATE_FILE)
}

pub fn save_state(dir: &Path, s: &TrainState) -> Result<(), ModelError> {
    let arch = Architecture::new(&s.model)?;
    let mut tensors = named_params(&arch, &s.params);
    tensors.push(("adam.m".into(), vec![s.adam_m.len()], &s.adam_m));
    tensors.push(("adam.v".into(), vec![s.adam_v.len()], &s.adam_v));
    let json = |v: &dyn erased::Json| v.json();
    let mut metadata = BTreeMap::new();
    metadata.insert("format".into(), STATE_FORMAT.into());
    metadata.insert("config".into(), json(&s.model));
    metadata.insert("train_config".into(), json(&s.train));
    metadata.insert("adam_step".into(), s.adam_step.to_string());
    metadata.insert("rng".into(), json(&s.rng));
    let exact: Vec<ExactMetrics> = s.metrics.iter().map(ExactMetrics::from).collect();
    metadata.insert("metrics".into(), json(&exact));
    write(&state_path(dir), &tensors, metadata)
}

pub fn load_state(dir: &Path) -> Result<TrainState, ModelError> {
    let path = state_path(dir);
    let loaded = read(&path)?;
    if loaded.metadata.get("format").map(String::as_str) != Some(STATE_FORMAT) {
        return Err(checkpoint_err(&path, "not a training-state file"));
    }
    let model: ModelConfig = meta_json(&path, &loaded, "config")?;
    let arch = Architecture::new(&model)?;
    let params = gather_params(&path, &arch, &loaded)?;
    let moment = |name: &str| -> Result<Vec<f32>, ModelError> {
        match loaded.tensors.get(name) {
            Some((_, v)) if v.len() == arch.param_count => Ok(v.clone()),
            _ => Err(checkpoint_err(
                &path,
                format!("missing or mis-sized {name}"),
            )),
        }
    };
    Ok(TrainState {
        train: meta_json(&path, &loaded, "train_config")?,
        adam_m: moment("adam.m")?,
        adam_v: moment("adam.v")?,
        adam_step: meta_json(&path, &loaded, "adam_step")?,
        rng: meta_json(&path, &loaded, "rng")?,
        metrics: meta_json::<Vec<ExactMetrics>>(&path, &loaded, "metrics")?
            .into_iter()
            .map(EpochMetrics::from)
            .collect(),
        model,
        params,
    })
}

/// Metrics with every float stored as its bit pattern: JSON decimal parsing may be off by an
/// ulp, and a resumed run must report exactly the numbers of an uninterrupted one.
#[derive(Serialize, Deserialize)]
struct ExactMetrics {
    epoch: usize,
    train_loss: u64,
    val_loss: Option<u64>,
    recon: u64,
    kl: u64,
    seconds: u64,
}

impl From<&EpochMetrics> for ExactMetrics {
    fn from(m: &EpochMetrics) -> Self {
        Self {
            epoch: m.epoch,
            train_loss: m.train_loss.to_bits(),
            val_loss: m.val_loss.map(f64::to_bits),
            recon: m.recon.to_bits(),
            kl: m.kl.to_bits(),
            seconds: m.seconds.to_bits(),
        }
    }
}

impl From<ExactMetrics> for EpochMetrics {
    fn from(m: ExactMetrics) -> Self {
        Self {
            epoch: m.epoch,
            train_loss: f64::from_bits(m.train_loss),
            val_loss: m.val_loss.map(f64::from_bits),
            recon: f64::from_bits(m.recon),
            kl: f64::from_bits(m.kl),
            seconds: f64::from_bits(m.seconds),
        }
    }
}

/// Object-safe JSON encoding for the metadata map.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("metadata serialises")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_9_bug_12_checkpoint_bytes_do_not_depend_on_map_order() {
        let dir = tempfile::tempdir().unwrap();
        let tensors = [("w".to_string(), vec![2], &[1.0f32, 2.0][..])];
        let metadata: BTreeMap<String, String> = (0..12)
            .map(|i| (format!("key{i}"), format!("value {i}")))
            .collect();
        let first = dir.path().join("a.safetensors");
        write(&first, &tensors, metadata.clone()).unwrap();
        let expected = std::fs::read(&first).unwrap();
        // Each HashMap gets fresh random keys: with 12 entries, one write out of many would
        // differ if the order leaked into the file.
        for i in 0..8 {
            let path = dir.path().join(format!("{i}.safetensors"));
            write(&path, &tensors, metadata.clone()).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), expected, "write {i} differs");
        }
        let loaded = read(&first).unwrap();
        assert_eq!(loaded.metadata.len(), 12);
        assert_eq!(loaded.tensors["w"], (vec![2], vec![1.0, 2.0]));
    }

    #[test]
    fn a_failed_save_says_save_and_names_the_error_once() {
        let dir = tempfile::tempdir().unwrap();
        // The temp file cannot be created inside a path that is a file.
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let err = write(
            &blocker.join("model.safetensors"),
            &[("w".to_string(), vec![1], &[0.0f32][..])],
            BTreeMap::new(),
        )
        .unwrap_err();
        let text = format!("{:#}", anyhow::Error::from(err));
        assert!(text.starts_with("failed to save checkpoint"), "{text}");
        assert_eq!(text.matches("os error").count(), 1, "{text}");
    }
}
