//! `PIPELINE_TIMINGS=1`: how long each part of a run's own bookkeeping took, on stderr, for
//! finding where the overhead goes on a sweep of thousands of stages.

use std::time::{Duration, Instant};

/// Marks phase boundaries; prints nothing unless `PIPELINE_TIMINGS` is set (and not `0`).
pub struct Timings {
    start: Instant,
    last: Instant,
    phases: Option<Vec<(&'static str, Duration)>>,
}

impl Timings {
    pub fn from_env() -> Timings {
        let on = std::env::var("PIPELINE_TIMINGS").is_ok_and(|v| !v.is_empty() && v != "0");
        let now = Instant::now();
        Timings {
            start: now,
            last: now,
            phases: on.then(Vec::new),
        }
    }

    /// Marks nothing and prints nothing, whatever the environment says.
    pub fn off() -> Timings {
        Timings {
            phases: None,
            ..Timings::from_env()
        }
    }

    /// Ends the phase `name` (it began at the previous mark).
    pub fn mark(&mut self, name: &'static str) {
        if let Some(phases) = &mut self.phases {
            let now = Instant::now();
            phases.push((name, now - self.last));
            self.last = now;
        }
    }

    /// The line `PIPELINE_TIMINGS` asks for, or `None`.
    pub fn summary(&self) -> Option<String> {
        let phases = self.phases.as_ref()?;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let parts: Vec<String> = phases
            .iter()
            .map(|(name, d)| format!("{name} {:.1} ms", ms(*d)))
            .collect();
        Some(format!(
            "timings: {} (total {:.1} ms)",
            parts.join(", "),
            ms(self.last - self.start)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_listed_in_order_and_sum_to_the_total() {
        let mut t = Timings {
            phases: Some(Vec::new()),
            ..Timings::from_env()
        };
        t.mark("a");
        std::thread::sleep(Duration::from_millis(5));
        t.mark("b");
        let line = t.summary().unwrap();
        assert!(line.starts_with("timings: a "), "{line}");
        let phases = t.phases.as_ref().unwrap();
        assert!(phases[1].1 >= Duration::from_millis(5), "{line}");
        assert_eq!(phases[0].1 + phases[1].1, t.last - t.start);
        assert_eq!(Timings::off().summary(), None);
    }
}
