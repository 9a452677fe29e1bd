//! vectors: the conformance runner's library. It walks a directory of Apple transcripts by its
//! `manifest.json` and returns one outcome per check (see README.md; issue 4).

pub mod apple;
pub mod report;
