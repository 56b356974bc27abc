//! CSV and Parquet files for comparison tables.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::{
    CsvReadOptions, CsvWriter, DataFrame, ParquetReader, ParquetWriter, SerReader, SerWriter,
};

fn create(path: &Path) -> Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    File::create(path).with_context(|| format!("creating {}", path.display()))
}

/// Writes `df` as CSV with a header row.
pub fn write_csv(df: &DataFrame, path: &Path) -> Result<()> {
    let mut file = create(path)?;
    CsvWriter::new(&mut file)
        .finish(&mut df.clone())
        .with_context(|| format!("writing {}", path.display()))
}

/// Reads a CSV with a header row; column types are inferred from the whole file.
pub fn read_csv(path: &Path) -> Result<DataFrame> {
    CsvReadOptions::default()
        .with_has_header(true)
        // Scan every row: a float column whose first rows look like integers must stay float.
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|reader| reader.finish())
        .with_context(|| format!("reading {}", path.display()))
}

/// Writes `df` as Parquet (types preserved exactly).
pub fn write_parquet(df: &DataFrame, path: &Path) -> Result<()> {
    let file = create(path)?;
    ParquetWriter::new(file)
        .finish(&mut df.clone())
        .map(|_| ())
        .with_context(|| format!("writing {}", path.display()))
}

/// Reads a Parquet file written by [`write_parquet`].
pub fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    ParquetReader::new(file)
        .finish()
        .with_context(|| format!("reading {}", path.display()))
}

/// Writes `df` as a Markdown table (see [`to_markdown`](super::to_markdown)).
pub fn write_markdown(df: &DataFrame, path: &Path) -> Result<()> {
    let text = super::to_markdown(df)?;
    let mut file = create(path)?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
