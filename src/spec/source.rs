//! A spec's text plus `--set` overrides, and mapping key paths back to where they were written.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::diagnostics::{line_col, Location, SpecError};

/// One `--set key.path=value` argument, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub raw: String,
    pub path: Vec<String>,
    pub value: toml::Value,
}

impl Override {
    /// Parses `a.b=value`; the value is TOML when it parses as TOML, else a plain string.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (key, value) = raw
            .split_once('=')
            .ok_or_else(|| format!("`--set {raw}` is not of the form key.path=value"))?;
        let path: Vec<String> = key.trim().split('.').map(|s| s.trim().to_owned()).collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(format!("`--set {raw}` has an empty key segment"));
        }
        let value = match toml::from_str::<toml::Table>(&format!("v = {value}")) {
            Ok(mut t) => t.remove("v").expect("parsed table has v"),
            // A list, table or quoted string that does not parse is a typo, not a bare string.
            Err(e) if value.trim_start().starts_with(['[', '{', '"', '\'']) => {
                return Err(format!(
                    "the value is not valid TOML: {}",
                    e.message().trim()
                ));
            }
            Err(_) => toml::Value::String(value.to_owned()),
        };
        Ok(Override {
            raw: raw.to_owned(),
            path,
            value,
        })
    }

    /// Writes this override into a table, creating intermediate tables.
    pub fn apply(&self, table: &mut toml::Table) -> Result<(), String> {
        let (last, parents) = self.path.split_last().expect("non-empty path");
        let mut cur = table;
        for seg in parents {
            let entry = cur
                .entry(seg.clone())
                .or_insert_with(|| toml::Value::Table(Default::default()));
            cur = entry
                .as_table_mut()
                .ok_or_else(|| format!("`{seg}` is not a table, cannot set `{}`", self.raw))?;
        }
        cur.insert(last.clone(), self.value.clone());
        Ok(())
    }
}

/// The spec file's text, with enough structure kept to locate any key path in it.
pub struct SpecSource {
    pub path: PathBuf,
    pub text: String,
    pub overrides: Vec<Override>,
    /// Parsed again with spans only when an error needs a location.
    doc: std::sync::OnceLock<Option<toml_edit::Document<String>>>,
}

impl SpecSource {
    pub fn new(path: &Path, text: String, overrides: Vec<Override>) -> Self {
        SpecSource {
            path: path.to_owned(),
            text,
            overrides,
            doc: std::sync::OnceLock::new(),
        }
    }

    /// Folder the spec's relative paths (data files, command deps) resolve against.
    pub fn dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default()
    }

    pub fn display_path(&self) -> String {
        self.path.display().to_string()
    }

    pub fn at_offset(&self, offset: usize) -> Location {
        let (line, column) = line_col(&self.text, offset);
        Location::File {
            path: self.display_path(),
            line,
            column,
        }
    }

    /// Location of a dotted key path such as `sweep.beta[2]` or `command[1].inputs`.
    ///
    /// An override on the path (or on a parent of it) wins, since that is where the value came from;
    /// so does an override under the path when the file does not have the path at all
    /// (`--set dataset.files.train_images=…` is where `dataset.files` came from).
    pub fn locate(&self, key: &str) -> Location {
        let segs = parse_key_path(key);
        let names: Vec<&str> = segs.iter().filter_map(|s| s.name()).collect();
        for o in self.overrides.iter().rev() {
            if names.starts_with(&o.path.iter().map(String::as_str).collect::<Vec<_>>()) {
                return Location::Override(o.raw.clone());
            }
        }
        let (span, in_file) = self.span_of(&segs);
        if !in_file {
            let under = self.overrides.iter().rev().find(|o| {
                o.path.len() > names.len() && o.path.iter().zip(&names).all(|(a, b)| a == b)
            });
            if let Some(o) = under {
                return Location::Override(o.raw.clone());
            }
        }
        match span {
            Some(span) => self.at_offset(span.start),
            None => Location::WholeFile(self.display_path()),
        }
    }

    /// Name of the `[table]` (or `[[array]]`) whose header is the last one before `offset`.
    pub fn table_header_before(&self, offset: usize) -> Option<String> {
        self.text[..offset.min(self.text.len())]
            .lines()
            .rev()
            .map(str::trim_start)
            .find(|l| l.starts_with('['))
            .map(|l| {
                let inner = l.trim_start_matches('[');
                inner[..inner.find(']').unwrap_or(inner.len())]
                    .trim()
                    .to_owned()
            })
    }

    pub fn error(&self, key: &str, message: impl Into<String>) -> SpecError {
        SpecError {
            location: self.locate(key),
            key: key.to_owned(),
            message: message.into(),
            hint: None,
        }
    }

    /// Span of the deepest part of the path that exists in the file, and whether all of it does.
    fn span_of(&self, segs: &[Seg]) -> (Option<Range<usize>>, bool) {
        let doc = self
            .doc
            .get_or_init(|| toml_edit::Document::parse(self.text.clone()).ok());
        let Some(doc) = doc.as_ref() else {
            return (None, false);
        };
        let mut node = Node::Item(doc.as_item());
        let mut best = None;
        for seg in segs {
            match node.child(seg) {
                Some(next) => {
                    best = next.span().or(best);
                    node = next;
                }
                None => return (best, false),
            }
        }
        (best, true)
    }
}

/// A position in the parsed document: toml_edit splits items, values and tables into three types.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a toml_edit::Item),
    Value(&'a toml_edit::Value),
    Table(&'a toml_edit::Table),
}

impl<'a> Node<'a> {
    fn child(self, seg: &Seg) -> Option<Node<'a>> {
        use toml_edit::{Item, Value};
        match (self, seg) {
            (Node::Item(Item::Table(t)), Seg::Key(_)) => Node::Table(t).child(seg),
            (Node::Item(Item::Value(v)), _) => Node::Value(v).child(seg),
            (Node::Item(Item::ArrayOfTables(a)), Seg::Index(i)) => a.get(*i).map(Node::Table),
            (Node::Table(t), Seg::Key(k)) => t.get(k).map(Node::Item),
            (Node::Value(Value::InlineTable(t)), Seg::Key(k)) => t.get(k).map(Node::Value),
            (Node::Value(Value::Array(a)), Seg::Index(i)) => a.get(*i).map(Node::Value),
            _ => None,
        }
    }

    fn span(self) -> Option<Range<usize>> {
        match self {
            Node::Item(i) => i.span(),
            Node::Value(v) => v.span(),
            Node::Table(t) => t.span(),
        }
    }
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

impl Seg {
    fn name(&self) -> Option<&str> {
        match self {
            Seg::Key(k) => Some(k),
            Seg::Index(_) => None,
        }
    }
}

fn parse_key_path(key: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in key.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            if open > 0 {
                out.push(Seg::Key(rest[..open].to_owned()));
            }
            rest = &rest[open..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let close = stripped.find(']').unwrap_or(stripped.len());
                if let Ok(i) = stripped[..close].parse() {
                    out.push(Seg::Index(i));
                }
                rest = stripped.get(close + 1..).unwrap_or("");
            }
        } else if !part.is_empty() {
            out.push(Seg::Key(part.to_owned()));
        }
    }
    out
}
