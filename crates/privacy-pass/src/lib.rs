//! privacy-pass: see README.md and ../shared/DESIGN.md.
