//! The Bloom prefilter of a use-case version, served at `GET /prefilter` so an app extension's
//! `fetchPrefilter(existingPrefilterTag:)` is a conditional GET (bloom-prefilter.md; issue #7).
//!
//! Built from the same canonical entries as the PIR database (`pir-server build`), stored as
//! bloom-gen's `filter.json`; the `tag` (hex SHA-256 of the bitmap) is the ETag.

use bytes::Bytes;

/// A loaded prefilter: the JSON file as written, the bare bitmap, and its tag.
#[derive(Debug, Clone)]
pub struct Prefilter {
    pub json: Bytes,
    pub raw: Bytes,
    pub tag: String,
}

impl Prefilter {
    /// Parses and checks a `filter.json` (the tag must be the bitmap's hash).
    ///
    /// # Errors
    /// bloom-gen's error for a file that does not parse or whose tag does not match.
    pub fn from_json(json: Vec<u8>) -> Result<Self, bloom_gen::Error> {
        let parsed = bloom_gen::format::parse(&json)?;
        let tag = parsed.filter.tag_hex();
        Ok(Self {
            raw: Bytes::from(parsed.filter.into_bitmap()),
            json: Bytes::from(json),
            tag,
        })
    }

    /// The quoted entity tag for `ETag` / `If-None-Match`.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.tag)
    }
}
