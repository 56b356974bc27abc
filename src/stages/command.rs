//! The `command` stage kind: an external program with declared params, inputs and outputs.
//!
//! `{out}`, `{in.NAME}` and `{param.NAME}` in `cmd` are replaced before `sh -c` runs it; the same
//! values are exported as `PIPELINE_OUT`, `PIPELINE_IN_<NAME>` and `PIPELINE_PARAM_<NAME>`.
//! `{inputs}` / `PIPELINE_INPUTS` name a file of `name<TAB>path` lines, one per input: a stage
//! with thousands of inputs reads that instead of hitting the kernel's per-argument limit.

use std::process::{Command, Stdio};
use std::time::Duration;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::{StageContext, StageImpl};
use crate::platform::shell_quote;

pub struct CommandStage;

/// How late a cancellation of a running command may be noticed.
const CANCEL_CHECK: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandParams {
    pub cmd: String,
    pub params: BTreeMap<String, serde_json::Value>,
    pub outputs: Vec<String>,
}

/// Where `cmd` runs: the spec's folder (so relative paths in it mean what they say there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandContext {
    pub workdir: PathBuf,
}

impl StageImpl for CommandStage {
    const IMPLEMENTATION_VERSION: u32 = 1;
    type Params = CommandParams;
    type Context = CommandContext;

    fn run(ctx: &StageContext, p: CommandParams, context: CommandContext) -> anyhow::Result<()> {
        let mut cmd_text = p
            .cmd
            .replace("{out}", &shell_quote(&ctx.out.to_string_lossy()));
        let mut command = Command::new("/bin/sh");
        for (name, dir) in &ctx.inputs {
            cmd_text = cmd_text.replace(
                &format!("{{in.{name}}}"),
                &shell_quote(&dir.to_string_lossy()),
            );
            command.env(format!("PIPELINE_IN_{}", env_name(name)), dir);
        }
        for (name, value) in &p.params {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            cmd_text = cmd_text.replace(&format!("{{param.{name}}}"), &shell_quote(&text));
            command.env(format!("PIPELINE_PARAM_{}", env_name(name)), &text);
        }
        let inputs_file = write_inputs_file(ctx)?;
        cmd_text = cmd_text.replace("{inputs}", &shell_quote(&inputs_file.to_string_lossy()));
        command.env("PIPELINE_INPUTS", &inputs_file);
        if let Some(left) = unreplaced_placeholder(&cmd_text) {
            bail!("`cmd` uses {left}, which names no input or param of this stage");
        }
        if cmd_text.len() >= MAX_ARG_BYTES {
            bail!(
                "`cmd` is {} bytes once its placeholders are filled in, over the kernel's limit \
                 of {MAX_ARG_BYTES} for one argument; with many inputs, read them from the file \
                 `{{inputs}}` (or $PIPELINE_INPUTS) names instead of `{{in.NAME}}`",
                cmd_text.len()
            );
        }
        let workdir = context.workdir;
        ctx.log.line(format!("$ {cmd_text}"));
        let log = ctx.log.try_clone_file()?;
        command
            .arg("-c")
            .arg(&cmd_text)
            .current_dir(if workdir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                workdir
            })
            .env("PIPELINE_OUT", ctx.out)
            .env("PIPELINE_STAGE", &ctx.job.def.name)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // The stage runs in the run's process group (so Ctrl-C is ours to forward), whose
        // watcher kills the whole group if we die, even by SIGKILL.
        let mut child =
            crate::exec::process_group::spawn(&mut command).context("failed to start `sh`")?;
        // Returns the moment `sh` exits; a Ctrl-C is seen within CANCEL_CHECK.
        let Some(status) =
            crate::platform::wait_child(&mut child, CANCEL_CHECK, || ctx.cancelled())?
        else {
            crate::exec::process_group::kill_all();
            let _ = child.wait();
            bail!("cancelled");
        };
        if !status.success() {
            match status.code() {
                Some(code) => bail!("command exited with status {code}"),
                None => bail!("command was killed by a signal"),
            }
        }
        for o in &p.outputs {
            if !ctx.out.join(o).exists() {
                bail!("declared output `{o}` was not created (write it under {{out}} or $PIPELINE_OUT)");
            }
        }
        Ok(())
    }
}

/// Linux's limit on one argument's length (`MAX_ARG_STRLEN`, 32 pages), which `sh -c TEXT` meets
/// first; other systems only have the (larger) total limit.
const MAX_ARG_BYTES: usize = 32 * 4096;

/// Writes `name<TAB>path` for every input (in name order) beside the stage's `out/` (so it is
/// committed with the entry, outside the outputs, and costs no folder of its own).
fn write_inputs_file(ctx: &StageContext) -> anyhow::Result<PathBuf> {
    let mut text = String::new();
    for (name, dir) in &ctx.inputs {
        text.push_str(name);
        text.push('\t');
        text.push_str(&dir.to_string_lossy());
        text.push('\n');
    }
    let path = ctx.out.with_file_name("inputs.tsv");
    std::fs::write(&path, text).with_context(|| format!("failed to write {}", path.display()))?;
    Ok(path)
}

fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn unreplaced_placeholder(cmd: &str) -> Option<String> {
    for prefix in ["{in.", "{param."] {
        if let Some(start) = cmd.find(prefix) {
            let end = cmd[start..].find('}').map_or(cmd.len(), |e| start + e + 1);
            return Some(cmd[start..end].to_owned());
        }
    }
    None
}
