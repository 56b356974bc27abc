//! Planning: the stage graph built from a spec, stage keys, and stage selection.

pub mod build;
pub mod graph;
pub mod key;
pub mod stage;

pub use build::build_graph;
pub use graph::{GraphBuilder, GraphError, PlannedStage, StageGraph};
pub use key::{KeyInputs, StageKey};
pub use stage::{Input, Resources, StageDef, StageKind};

/// Stages matching `--stage` selectors (a name, a kind, or a glob with `*`); all stages when
/// there are none. What they read is added by the planner only where it is not cached.
pub fn select(graph: &StageGraph, selectors: &[String]) -> Result<Vec<usize>, String> {
    if selectors.is_empty() {
        return Ok((0..graph.len()).collect());
    }
    let mut roots = Vec::new();
    for sel in selectors {
        let before = roots.len();
        for (i, s) in graph.stages.iter().enumerate() {
            if s.def.name == *sel || s.def.kind.name() == sel || glob_match(sel, &s.def.name) {
                roots.push(i);
            }
        }
        if roots.len() == before {
            let hint = crate::spec::diagnostics::did_you_mean(
                sel,
                graph
                    .stages
                    .iter()
                    .map(|s| s.def.name.as_str())
                    .chain(StageKind::ALL.iter().map(|k| k.name())),
            )
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
            return Err(format!(
                "--stage {sel}: no stage has that name or kind{hint}"
            ));
        }
    }
    roots.sort_unstable();
    roots.dedup();
    Ok(roots)
}

/// `*` matches any run of characters; nothing else is special.
fn glob_match(pattern: &str, text: &str) -> bool {
    if !pattern.contains('*') {
        return false;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(p) => rest = &rest[p + part.len()..],
                None => return false,
            }
        }
    }
    true
}
