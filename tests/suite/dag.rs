//! Graph construction: topological order, cycle and unknown-input rejection, output formats.

use crate::support::*;

#[test]
fn stages_come_after_their_inputs() {
    let p = TestProject::new();
    // Declared in reverse so that order comes from the graph, not the file.
    let path = p.write(
        "spec.toml",
        "[[command]]\nname = \"c\"\ncmd = \"true\"\ninputs = [\"b\", \"a\"]\n[[command]]\nname = \"b\"\ncmd = \"true\"\ninputs = [\"a\"]\n[[command]]\nname = \"a\"\ncmd = \"true\"\n",
    );
    let spec = pipeline::spec::load(&path, &[]).unwrap();
    let g = pipeline::plan::build_graph(&spec).unwrap();
    let names: Vec<&str> = g.stages.iter().map(|s| s.def.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    for (i, s) in g.stages.iter().enumerate() {
        assert!(s.deps.iter().all(|&d| d < i));
    }
}

#[test]
fn builtin_graph_shares_download_and_preprocess() {
    let p = TestProject::new();
    let path = p.write(
        "spec.toml",
        "[dataset]\nname = \"mnist\"\n[sweep]\nlatent_dim = [2, 5]\nvariant = [\"ae\", \"vae\"]\n",
    );
    let g = pipeline::plan::build_graph(&pipeline::spec::load(&path, &[]).unwrap()).unwrap();
    let count = |k: &str| g.stages.iter().filter(|s| s.def.kind.name() == k).count();
    assert_eq!(
        (
            count("download"),
            count("preprocess"),
            count("train"),
            count("evaluate"),
            count("plot"),
            count("report")
        ),
        (1, 1, 4, 4, 1, 1)
    );
    let pre = g.index_of("preprocess/mnist").unwrap();
    assert!(g
        .stages
        .iter()
        .filter(|s| s.def.kind.name() == "train")
        .all(|s| s.deps == [pre]));
}

#[test]
fn dag_formats() {
    let p = TestProject::new();
    p.write("spec.toml", "[[command]]\nname = \"a\"\ncmd = \"true\"\n[[command]]\nname = \"b\"\ncmd = \"true\"\ninputs = [\"a\"]\n");
    let text = stdout(&p.run(&["dag", "spec.toml"]));
    assert_eq!(text, "a\nb <- a\n");
    let dot = stdout(&p.run(&["dag", "spec.toml", "--format", "dot"]));
    assert!(
        dot.starts_with("digraph") && dot.contains("s0 -> s1;"),
        "{dot}"
    );
    let mermaid = stdout(&p.run(&["dag", "spec.toml", "--format", "mermaid"]));
    assert!(
        mermaid.contains("flowchart LR") && mermaid.contains("s0 --> s1"),
        "{mermaid}"
    );
}

#[test]
fn stage_selection_by_name_kind_and_glob() {
    let p = TestProject::new();
    p.write(
        "spec.toml",
        "[dataset]\nname = \"mnist\"\n[sweep]\nlatent_dim = [2, 5]\n[[command]]\nname = \"extra\"\ncmd = \"true\"\n",
    );
    let needed = |sel: &[&str]| {
        let mut args = vec![];
        for s in sel {
            args.push("--stage");
            args.push(*s);
        }
        let plan = p.plan_json("spec.toml", &args);
        statuses(&plan)
            .into_iter()
            .filter(|(_, s)| s != "not-needed")
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        needed(&["train/vae-z5"]),
        ["download/mnist", "preprocess/mnist", "train/vae-z5"]
    );
    assert_eq!(needed(&["command"]), ["extra"]);
    assert_eq!(needed(&["evaluate/*"]).len(), 2 + 2 + 2);
    let bad = p.run(&["plan", "spec.toml", "--stage", "trian"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("did you mean `train`?"),
        "{}",
        stderr(&bad)
    );
}
