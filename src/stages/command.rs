//! The `command` stage kind: an external program with declared params, inputs and outputs.
//!
//! `{out}`, `{in.NAME}` and `{param.NAME}` in `cmd` are replaced before `sh -c` runs it; the same
//! values are exported as `PIPELINE_OUT`, `PIPELINE_IN_<NAME>` and `PIPELINE_PARAM_<NAME>`.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::{StageContext, StageImpl};

pub struct CommandStage;

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
        let mut command = Command::new("sh");
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
        if let Some(left) = unreplaced_placeholder(&cmd_text) {
            bail!("`cmd` uses {left}, which names no input or param of this stage");
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
        // Own process group (so Ctrl-C is ours to forward) and death with the parent (so a
        // killed `pipeline` leaves no writer behind).
        unsafe {
            command.pre_exec(|| {
                libc::setpgid(0, 0);
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = command.spawn().context("failed to start `sh`")?;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if ctx.cancelled() {
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.wait();
                bail!("cancelled");
            }
            std::thread::sleep(Duration::from_millis(20));
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

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
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
