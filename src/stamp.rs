//! What a file looked like when it was read, to notice a concurrent edit
//! before a fix is written over it.

use std::fs::Metadata;
use std::time::SystemTime;

/// What a file looked like when it was read: checked again before writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub len: u64,
    pub modified: Option<SystemTime>,
}

impl Stamp {
    pub fn of(metadata: &Metadata) -> Stamp {
        Stamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
        }
    }
}
