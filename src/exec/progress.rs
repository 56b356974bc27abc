//! Progress display: an overall bar plus one bar per running stage on a TTY, plain lines otherwise.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::events::{Event, StageOutcome};

pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// Consumes events until every sender is dropped.
pub fn spawn_display(rx: Receiver<Event>, tty: bool) -> JoinHandle<()> {
    std::thread::spawn(move || if tty { bars(rx) } else { lines(rx) })
}

fn outcome_line(stage: &str, outcome: &StageOutcome) -> String {
    match outcome {
        StageOutcome::Ran { duration } => format!("✓ {stage} ({:.1}s)", duration.as_secs_f64()),
        StageOutcome::CachedByOther => format!("✓ {stage} (computed by another run)"),
        StageOutcome::Failed { error, .. } => {
            format!("✗ {stage}: {}", error.lines().next().unwrap_or(""))
        }
        StageOutcome::Cancelled => format!("- {stage} (cancelled)"),
    }
}

fn progress_text(done: u64, total: Option<u64>, unit: &str, elapsed: Duration) -> String {
    if unit == "bytes" {
        let rate = done as f64 / elapsed.as_secs_f64().max(1e-3);
        match total {
            Some(t) => format!(
                "{} / {} ({}/s)",
                HumanBytes(done),
                HumanBytes(t),
                HumanBytes(rate as u64)
            ),
            None => format!("{} ({}/s)", HumanBytes(done), HumanBytes(rate as u64)),
        }
    } else {
        match total {
            Some(t) => format!("{done}/{t} {unit}"),
            None => format!("{done} {unit}"),
        }
    }
}

fn lines(rx: Receiver<Event>) {
    let mut started: HashMap<String, (Instant, Instant)> = HashMap::new();
    let (mut finished, mut total) = (0usize, 0usize);
    for e in rx {
        match e {
            Event::Planned {
                total: t,
                cached,
                to_run,
            } => {
                total = to_run;
                eprintln!("{t} stages: {cached} cached, {to_run} to run");
            }
            Event::Started { stage } => {
                eprintln!("  started {stage}");
                started.insert(stage, (Instant::now(), Instant::now()));
            }
            Event::Progress {
                stage,
                done,
                total: t,
                unit,
            } => {
                // At most one line per stage every 5 seconds, plus the last one.
                if let Some((start, last)) = started.get_mut(&stage) {
                    if last.elapsed() >= Duration::from_secs(5) || Some(done) == t {
                        *last = Instant::now();
                        eprintln!(
                            "  … {stage}: {}",
                            progress_text(done, t, &unit, start.elapsed())
                        );
                    }
                }
            }
            Event::Note { stage, message } => eprintln!("  {stage}: {message}"),
            Event::Finished { stage, outcome } => {
                finished += 1;
                eprintln!("[{finished:>3}/{total}] {}", outcome_line(&stage, &outcome));
            }
        }
    }
}

fn bars(rx: Receiver<Event>) {
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
    let overall = multi.add(ProgressBar::new(0));
    overall.set_style(
        ProgressStyle::with_template(
            "{prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} stages {msg} ({elapsed})",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    overall.set_prefix("pipeline");
    let stage_style =
        ProgressStyle::with_template("  {spinner} {prefix:40!} {wide_msg}").expect("template");
    let mut running: HashMap<String, (ProgressBar, Instant)> = HashMap::new();
    for e in rx {
        match e {
            Event::Planned { cached, to_run, .. } => {
                overall.set_length(to_run as u64);
                overall.set_message(format!("· {cached} cached"));
            }
            Event::Started { stage } => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(stage_style.clone());
                bar.set_prefix(stage.clone());
                bar.enable_steady_tick(Duration::from_millis(120));
                running.insert(stage, (bar, Instant::now()));
            }
            Event::Progress {
                stage,
                done,
                total,
                unit,
            } => {
                if let Some((bar, start)) = running.get(&stage) {
                    bar.set_message(progress_text(done, total, &unit, start.elapsed()));
                }
            }
            Event::Note { stage, message } => {
                let _ = multi.println(format!("  {stage}: {message}"));
            }
            Event::Finished { stage, outcome } => {
                if let Some((bar, _)) = running.remove(&stage) {
                    bar.finish_and_clear();
                    multi.remove(&bar);
                }
                let _ = multi.println(outcome_line(&stage, &outcome));
                overall.inc(1);
            }
        }
    }
    overall.finish_and_clear();
}
