//! A collector of spec errors with typed, range-checked accessors for raw values.

use super::diagnostics::{did_you_mean, SpecError, SpecErrors};
use super::machine::Machine;
use super::source::SpecSource;

pub struct Checker<'a> {
    pub src: &'a SpecSource,
    /// What the run may use (CUDA, GPU slots, memory), for the checks that depend on it.
    pub machine: &'a Machine,
    pub errors: Vec<SpecError>,
}

impl<'a> Checker<'a> {
    pub fn new(src: &'a SpecSource, machine: &'a Machine) -> Self {
        Checker {
            src,
            machine,
            errors: Vec::new(),
        }
    }

    pub fn fail(&mut self, key: &str, message: impl Into<String>) {
        self.errors.push(self.src.error(key, message));
    }

    pub fn fail_hint(&mut self, key: &str, message: impl Into<String>, hint: Option<String>) {
        let mut e = self.src.error(key, message);
        e.hint = hint;
        self.errors.push(e);
    }

    /// Errors in shared defaults repeat once per sweep member; report each once.
    pub fn finish(mut self) -> Result<(), SpecErrors> {
        let mut seen = std::collections::HashSet::new();
        self.errors.retain(|e| seen.insert(e.to_string()));
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(SpecErrors(self.errors))
        }
    }

    /// An integer in `[min, max]`; `what` completes "must be …" in the message.
    pub fn int(&mut self, key: &str, v: Option<i64>, default: i64, min: i64, max: i64) -> i64 {
        let x = v.unwrap_or(default);
        if x < min {
            self.fail(key, format!("must be at least {min}, got {x}"));
        } else if x > max {
            self.fail(key, format!("must be at most {max}, got {x}"));
        }
        x.clamp(min, max)
    }

    pub fn usize(&mut self, key: &str, v: Option<i64>, default: i64, min: i64, max: i64) -> usize {
        self.int(key, v, default, min, max) as usize
    }

    /// A finite float with `lo <= x` (or `lo < x` when `open_lo`) and `x <= hi` (or `< hi`).
    #[allow(clippy::too_many_arguments)]
    pub fn float(
        &mut self,
        key: &str,
        v: Option<f64>,
        default: f64,
        lo: f64,
        open_lo: bool,
        hi: f64,
        open_hi: bool,
    ) -> f64 {
        let x = v.unwrap_or(default);
        let below = if open_lo { x <= lo } else { x < lo };
        let above = if open_hi { x >= hi } else { x > hi };
        if !x.is_finite() {
            self.fail(key, format!("must be a finite number, got {x}"));
            return default;
        }
        if below || above {
            let l = if open_lo { "(" } else { "[" };
            let h = if open_hi { ")" } else { "]" };
            let range = match (lo.is_infinite(), hi.is_infinite()) {
                (false, true) => format!("{} {lo}", if open_lo { ">" } else { "≥" }),
                (true, false) => format!("{} {hi}", if open_hi { "<" } else { "≤" }),
                _ => format!("in {l}{lo}, {hi}{h}"),
            };
            self.fail(key, format!("must be {range}, got {x}"));
            return default;
        }
        x
    }

    /// One of `names`, with "did you mean" on a typo.
    pub fn name<T>(
        &mut self,
        key: &str,
        v: Option<&str>,
        default: &str,
        names: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let s = v.unwrap_or(default);
        match parse(s) {
            Some(t) => Some(t),
            None => {
                let hint = did_you_mean(s, names.iter().copied())
                    .or_else(|| Some(format!("expected one of: {}", names.join(", "))));
                self.fail_hint(key, format!("unknown value \"{s}\""), hint);
                None
            }
        }
    }
}
