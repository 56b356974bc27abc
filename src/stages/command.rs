//! The `command` stage kind: an external program with declared params, inputs and outputs.
//!
//! `{out}`, `{in.NAME}` and `{param.NAME}` in `cmd` are replaced before `sh -c` runs it; the same
//! values are exported as `PIPELINE_OUT`, `PIPELINE_IN_<NAME>` and `PIPELINE_PARAM_<NAME>`.

use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
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
        // The stage runs in a process group of its own (so Ctrl-C is ours to forward), led by
        // a watcher that kills the whole group if we die, even by SIGKILL.
        let mut group = StageGroup::start().context("failed to start the stage's watcher")?;
        group.adopt(&mut command);
        let mut child = command.spawn().context("failed to start `sh`")?;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if ctx.cancelled() {
                group.kill();
                let _ = child.wait();
                bail!("cancelled");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        drop(group);
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

/// The process group of one running command stage. Its leader is a watcher, `sh` reading a
/// pipe that only this process writes to: a line means the stage is over and it exits; end of
/// file means `pipeline` died (a crash or `kill -9`, which no handler sees), and it kills its
/// whole group, so no subshell of the stage outlives the run and writes into a rerun's output.
/// It works on every Unix; on Linux the kernel also kills `sh` itself at once (pdeathsig).
struct StageGroup {
    watcher: Child,
    pgid: libc::pid_t,
    release: Option<ChildStdin>,
}

impl StageGroup {
    fn start() -> io::Result<StageGroup> {
        let mut watcher = Command::new("sh");
        watcher
            .args(["-c", "read -r line || kill -s KILL 0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: setpgid is async-signal-safe.
        unsafe {
            watcher.pre_exec(|| join_group(0));
        }
        let mut watcher = watcher.spawn()?;
        let release = watcher.stdin.take();
        Ok(StageGroup {
            pgid: watcher.id() as libc::pid_t,
            watcher,
            release,
        })
    }

    /// Makes `command` start in this group.
    fn adopt(&self, command: &mut Command) {
        let pgid = self.pgid;
        // SAFETY: setpgid and prctl are async-signal-safe.
        unsafe {
            command.pre_exec(move || {
                join_group(pgid)?;
                crate::platform::kill_when_parent_dies();
                Ok(())
            });
        }
    }

    /// Kills every process of the group, the watcher included.
    fn kill(&mut self) {
        // SAFETY: kill takes plain integers.
        unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
        self.release = None;
        let _ = self.watcher.wait();
    }
}

impl Drop for StageGroup {
    fn drop(&mut self) {
        // The stage ended: the watcher leaves without killing anything.
        if let Some(mut release) = self.release.take() {
            let _ = release.write_all(b"done\n");
        }
        let _ = self.watcher.wait();
    }
}

/// `setpgid(0, pgid)` in a forked child: 0 starts a new group led by the child.
fn join_group(pgid: libc::pid_t) -> io::Result<()> {
    // SAFETY: setpgid takes plain integers.
    if unsafe { libc::setpgid(0, pgid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
