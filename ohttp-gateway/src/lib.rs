//! ohttp-gateway: see README.md and ../shared/DESIGN.md.
