//! Output formats: `filter.json`, the raw bitmap, and the plist Apple's sample app reads.
//!
//! The writers stream into any [`std::io::Write`] the caller supplies (base64 is encoded on the
//! fly, so a 90 MB bitmap never has a second, base64 copy in memory); the library opens no files.
//!
//! - JSON: `{"bits","hashes","seed","content","tag","count"}` — `content` is standard base64
//!   (with padding) of the bitmap, `tag` the hex SHA-256 of the bitmap, `count` the number of
//!   distinct entries.
//! - raw: the bitmap bytes, for `PrefilterData.temporaryFilepath`.
//! - plist (XML): `bitCount, byteCount, data, falsePositiveTolerance, hashCount, itemCount,
//!   murmurSeed`, the keys `BloomFilterTool` writes and the sample extension decodes.

use std::io::{self, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use base64::write::EncoderWriter;
use serde::Deserialize;

use crate::{BloomFilter, BloomParams, Error, Seed};

/// Which file to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// `filter.json`.
    #[default]
    Json,
    /// The bare bitmap.
    Raw,
    /// XML property list with Apple's sample keys.
    Plist,
}

/// What a filter file says besides the bitmap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Meta {
    /// Distinct entries inserted (`count` / `itemCount`).
    pub count: u64,
    /// `falsePositiveTolerance` for the plist: the target rate, or the expected rate when the
    /// size was given explicitly.
    pub fpr: f64,
}

/// Writes `filter` in `format`.
pub fn write<W: Write + ?Sized>(
    filter: &BloomFilter,
    meta: Meta,
    format: Format,
    w: &mut W,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(filter, meta, w),
        Format::Raw => w.write_all(filter.bitmap()),
        Format::Plist => write_plist(filter, meta, w),
    }
}

fn write_base64<W: Write + ?Sized>(bytes: &[u8], w: &mut W) -> io::Result<()> {
    let mut enc = EncoderWriter::new(w, &STANDARD);
    enc.write_all(bytes)?;
    enc.finish()?;
    Ok(())
}

/// Writes `filter.json` (one line, trailing newline).
pub fn write_json<W: Write + ?Sized>(
    filter: &BloomFilter,
    meta: Meta,
    w: &mut W,
) -> io::Result<()> {
    let p = filter.params();
    write!(
        w,
        r#"{{"bits":{},"hashes":{},"seed":{},"content":""#,
        p.bits(),
        p.hashes(),
        p.seed().get()
    )?;
    write_base64(filter.bitmap(), w)?;
    writeln!(
        w,
        r#"","tag":"{}","count":{}}}"#,
        filter.tag_hex(),
        meta.count
    )
}

/// Writes the XML plist (keys sorted, as `PropertyListEncoder` does).
pub fn write_plist<W: Write + ?Sized>(
    filter: &BloomFilter,
    meta: Meta,
    w: &mut W,
) -> io::Result<()> {
    let p = filter.params();
    let fpr = if meta.fpr.is_finite() { meta.fpr } else { 0.0 };
    write!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n\
         \t<key>bitCount</key>\n\t<integer>{}</integer>\n\
         \t<key>byteCount</key>\n\t<integer>{}</integer>\n\
         \t<key>data</key>\n\t<data>",
        p.bits(),
        p.byte_len()
    )?;
    write_base64(filter.bitmap(), w)?;
    write!(
        w,
        "</data>\n\
         \t<key>falsePositiveTolerance</key>\n\t<real>{fpr:?}</real>\n\
         \t<key>hashCount</key>\n\t<integer>{}</integer>\n\
         \t<key>itemCount</key>\n\t<integer>{}</integer>\n\
         \t<key>murmurSeed</key>\n\t<integer>{}</integer>\n\
         </dict>\n</plist>\n",
        p.hashes(),
        meta.count,
        p.seed().get()
    )
}

#[derive(Deserialize)]
struct JsonFile {
    bits: u64,
    hashes: u64,
    seed: u32,
    content: String,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlistFile {
    bit_count: u64,
    hash_count: u64,
    murmur_seed: u32,
    data: plist::Data,
    #[serde(default)]
    item_count: Option<u64>,
}

/// A filter read back from a file, with its entry count if the file has one.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedFilter {
    /// The filter.
    pub filter: BloomFilter,
    /// `count` / `itemCount`.
    pub count: Option<u64>,
}

/// Reads `filter.json` or a plist (XML or binary), sniffed from the first bytes. A JSON `tag`
/// must match the bitmap's SHA-256.
pub fn parse(bytes: &[u8]) -> Result<ParsedFilter, Error> {
    let bad = |m: String| Error::FilterFile(m);
    let head = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &bytes[i..]);
    if head.starts_with(b"{") {
        let f: JsonFile = serde_json::from_slice(bytes).map_err(|e| bad(format!("JSON: {e}")))?;
        let bitmap = STANDARD
            .decode(f.content.as_bytes())
            .map_err(|e| bad(format!("content is not standard base64: {e}")))?;
        let filter = BloomFilter::from_bitmap(
            BloomParams::new(f.bits, f.hashes, Seed::new(f.seed)?)?,
            bitmap,
        )?;
        if let Some(tag) = f.tag
            && !tag.eq_ignore_ascii_case(&filter.tag_hex())
        {
            return Err(bad(format!(
                "tag {tag} is not the SHA-256 of the bitmap ({})",
                filter.tag_hex()
            )));
        }
        Ok(ParsedFilter {
            filter,
            count: f.count,
        })
    } else if head.starts_with(b"<") || head.starts_with(b"bplist") {
        let f: PlistFile = plist::from_bytes(bytes).map_err(|e| bad(format!("plist: {e}")))?;
        let params = BloomParams::new(f.bit_count, f.hash_count, Seed::new(f.murmur_seed)?)?;
        let filter = BloomFilter::from_bitmap(params, f.data.into())?;
        Ok(ParsedFilter {
            filter,
            count: f.item_count,
        })
    } else {
        Err(bad(
            "neither filter.json nor a plist (a raw bitmap carries no parameters)".into(),
        ))
    }
}
