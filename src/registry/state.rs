//! How a run ended ([`RunStatus`]), and the stage state it is made of (one enum, defined by
//! execution in `exec::state`), both recorded as the strings format 1 used.

use serde::{Deserialize, Serialize};

pub use crate::exec::state::StageState;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    Succeeded,
    Failed,
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// Both enums print, and compare with, the strings they are recorded as.
macro_rules! recorded_as_str {
    ($t:ty) => {
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}
recorded_as_str!(StageState);
recorded_as_str!(RunStatus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_serialize_as_format_1_strings() {
        for s in StageState::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<StageState>(&json).unwrap(), s);
        }
    }
}
