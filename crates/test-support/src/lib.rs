//! Test-only helpers shared by the workspace's suites. Never a dependency of shipped code.

pub mod redis;
