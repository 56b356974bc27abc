//! A command stage with thousands of inputs reads them from the `{inputs}` file (issue 12): the
//! same inputs as `{in.NAME}` words would exceed the kernel's per-argument limit.

use std::fmt::Write;

use crate::support::*;

/// `n` producer stages and one `gather` stage reading all of them with `gather_cmd`.
fn fan_in_spec(n: usize, gather_cmd: &str) -> String {
    let mut s = String::new();
    for i in 0..n {
        let _ = write!(
            s,
            "[[command]]\nname = \"p{i}\"\ncmd = \"echo {i} > {{out}}/v\"\noutputs = [\"v\"]\n\n"
        );
    }
    let inputs: Vec<String> = (0..n).map(|i| format!("\"p{i}\"")).collect();
    let _ = write!(
        s,
        "[[command]]\nname = \"gather\"\ncmd = '''{gather_cmd}'''\ninputs = [{}]\noutputs = [\"sum\"]\n",
        inputs.join(", ")
    );
    s
}

#[test]
fn issue_12_a_stage_reads_2500_inputs_from_the_inputs_file() {
    let p = TestProject::new();
    // Sums every input's value through the file's `name<TAB>path` lines, and checks the
    // environment variable names the same file.
    let cmd = "test \"$PIPELINE_INPUTS\" = {inputs} && \
               cut -f2 {inputs} | while read -r d; do cat \"$d/v\"; done \
               | awk '{s += $1} END {print NR, s}' > {out}/sum && cut -f1 {inputs} | head -n 2 >> {out}/sum";
    p.write("spec.toml", &fan_in_spec(2500, cmd));
    let out = p.run(&["run", "spec.toml", "--jobs", "2"]);
    assert!(out.status.success(), "run failed: {}", stderr(&out));
    let sum = std::fs::read_to_string(p.entry_out("spec.toml", "gather").join("sum")).unwrap();
    // 0 + 1 + … + 2499, and the lines sorted by input name.
    assert_eq!(sum, format!("2500 {}\np0\np1\n", 2499 * 2500 / 2));
}

#[test]
fn issue_12_too_many_input_words_fail_with_the_inputs_file_hint() {
    let p = TestProject::new();
    let words: Vec<String> = (0..2500).map(|i| format!("{{in.p{i}}}")).collect();
    p.write(
        "spec.toml",
        &fan_in_spec(2500, &format!("ls {} > {{out}}/sum", words.join(" "))),
    );
    let out = p.run(&["run", "spec.toml", "--jobs", "2"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("gather"), "{err}");
    assert!(
        err.contains("over the kernel's limit") && err.contains("{inputs}"),
        "{err}"
    );
}
