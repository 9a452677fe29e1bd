//! bloom-gen: see README.md and ../shared/DESIGN.md.
