//! Spec errors with a location (file:line:column or the `--set` that caused them) and hints.

use std::fmt;

/// Where a spec value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File {
        path: String,
        line: usize,
        column: usize,
    },
    Override(String),
    /// The file as a whole (e.g. a required section is missing).
    WholeFile(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File { path, line, column } => write!(f, "{path}:{line}:{column}"),
            Location::Override(arg) => write!(f, "--set {arg}"),
            Location::WholeFile(path) => write!(f, "{path}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SpecError {
    pub location: Location,
    /// Dotted key path, e.g. `sweep.beta[2]`; empty for syntax errors.
    pub key: String,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location)?;
        if !self.key.is_empty() {
            write!(f, "`{}`: ", self.key)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n    help: {hint}")?;
        }
        Ok(())
    }
}

/// All errors found in one spec; nothing runs while this is non-empty.
#[derive(Debug, Clone, Default)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "invalid spec: {n} error{}",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

/// The closest candidate to `word`, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    // Jaro-Winkler rewards shared prefixes; an edit distance of 1–2 catches short transpositions.
    candidates
        .into_iter()
        .map(|c| {
            let edits = strsim::damerau_levenshtein(word, c);
            let close = edits <= 1 || (edits == 2 && word.len() > 4);
            let jw = strsim::jaro_winkler(word, c);
            (
                if close {
                    jw.max(0.9) + 0.1 - 0.01 * edits as f64
                } else {
                    jw
                },
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// A serde message in the spec's words: `expected i64` → `expected an integer`, `expected
/// struct RawModel` → `expected a table`, `sequence` → `list`.
pub fn plain_serde_message(message: &str) -> String {
    let mut out = message.trim().to_owned();
    for (rust, toml) in [
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a table"),
        ("invalid type: sequence", "invalid type: list"),
        ("invalid type: map", "invalid type: table"),
    ] {
        out = out.replace(rust, toml);
    }
    // `expected struct RawModel` (any section struct) → `expected a table`.
    const STRUCT: &str = "expected struct ";
    while let Some(start) = out.find(STRUCT) {
        let name = start + STRUCT.len();
        let end = out[name..]
            .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
            .map_or(out.len(), |e| name + e);
        out.replace_range(start..end, "expected a table");
    }
    out
}

/// How to write a value of the type an `invalid type` message expected.
pub fn type_hint(message: &str) -> Option<String> {
    let expected = message.rsplit_once("expected ")?.1;
    let how = match expected
        .split([',', ' '])
        .find(|w| !["a", "an"].contains(w))?
    {
        "integer" => "a whole number without quotes, e.g. `latent_dim = 2`",
        "number" => "a number without quotes, e.g. `beta = 0.5`",
        "list" => "a list in brackets, e.g. `hidden = [400, 200]`",
        "string" => "text in quotes, e.g. `variant = \"vae\"`",
        "boolean" => "`true` or `false`, without quotes",
        _ => return None,
    };
    message
        .starts_with("invalid type")
        .then(|| format!("write {how}"))
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_transpositions_and_prefixes() {
        assert_eq!(
            super::did_you_mean("vea", ["ae", "vae", "sparse-ae"]).as_deref(),
            Some("did you mean `vae`?")
        );
        assert_eq!(
            super::did_you_mean("latnt_dim", ["latent_dim", "l1"]).as_deref(),
            Some("did you mean `latent_dim`?")
        );
        assert_eq!(super::did_you_mean("zzz", ["latent_dim", "l1"]), None);
    }

    #[test]
    fn serde_messages_use_toml_words() {
        assert_eq!(
            super::plain_serde_message("invalid type: string \"two\", expected i64"),
            "invalid type: string \"two\", expected an integer"
        );
        assert_eq!(
            super::plain_serde_message("invalid type: integer `3`, expected struct RawModel"),
            "invalid type: integer `3`, expected a table"
        );
        assert_eq!(
            super::plain_serde_message("invalid type: sequence, expected f64"),
            "invalid type: list, expected a number"
        );
    }

    #[test]
    fn type_errors_say_how_to_write_the_value() {
        let hint = super::type_hint("invalid type: string \"two\", expected an integer");
        assert!(hint.unwrap().contains("whole number without quotes"));
        assert!(super::type_hint("invalid type: integer `1`, expected a list").is_some());
        assert_eq!(super::type_hint("unknown field `x`, expected `y`"), None);
    }
}
