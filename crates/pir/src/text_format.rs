//! Protobuf text format (`.txtpb`) for the files Apple's tools read and write: params files,
//! keyword/index databases, evaluation-key configs (spec/pir-protocol.md §5.2, §5.3, §5.5).
//!
//! Parsing is prost-reflect's full text-format parser (C-style escapes, `[...]` lists of
//! scalars and messages, `,`/`;` separators). Printing follows SwiftProtobuf's layout, so files
//! we write match Apple's byte for byte: fields in number order, two-space indents, `name {`
//! blocks for messages (repeated messages as repeated blocks), packed repeated scalars as
//! `name: [a, b]`, enum names, and SwiftProtobuf's string escapes.

use std::fmt::Write as _;
use std::sync::OnceLock;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, Value};

use crate::PirError;
use crate::proto::{self, he, pir};

/// A message with a text form; `FULL_NAME` is its protobuf name.
pub trait TextMessage: Message + Default + Sized {
    /// Fully qualified protobuf message name.
    const FULL_NAME: &'static str;
}

impl TextMessage for pir::PirParameters {
    const FULL_NAME: &'static str = "apple.swift_homomorphic_encryption.pir.v1.PirParameters";
}

impl TextMessage for pir::KeywordDatabase {
    const FULL_NAME: &'static str = "apple.swift_homomorphic_encryption.pir.v1.KeywordDatabase";
}

impl TextMessage for pir::IndexPirDatabase {
    const FULL_NAME: &'static str = "apple.swift_homomorphic_encryption.pir.v1.IndexPirDatabase";
}

impl TextMessage for he::EvaluationKeyConfig {
    const FULL_NAME: &'static str = "apple.swift_homomorphic_encryption.v1.EvaluationKeyConfig";
}

fn pool() -> Result<&'static DescriptorPool, PirError> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(proto::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| PirError::TextFormat(format!("descriptor set: {e}")))
}

fn descriptor<M: TextMessage>() -> Result<prost_reflect::MessageDescriptor, PirError> {
    pool()?
        .get_message_by_name(M::FULL_NAME)
        .ok_or_else(|| PirError::TextFormat(format!("unknown message {}", M::FULL_NAME)))
}

/// Parses a text-format document.
///
/// # Errors
/// [`PirError::TextFormat`] with the parser's message (and position) for malformed text.
pub fn parse<M: TextMessage>(text: &str) -> Result<M, PirError> {
    let message = DynamicMessage::parse_text_format(descriptor::<M>()?, text)
        .map_err(|e| PirError::TextFormat(e.to_string()))?;
    M::decode(message.encode_to_vec().as_slice()).map_err(|e| PirError::ProtoDecode(e.to_string()))
}

/// Prints a message the way SwiftProtobuf does.
///
/// # Errors
/// [`PirError::TextFormat`] only if the built-in descriptors are broken.
pub fn print<M: TextMessage>(message: &M) -> Result<String, PirError> {
    let dynamic = DynamicMessage::decode(descriptor::<M>()?, message.encode_to_vec().as_slice())
        .map_err(|e| PirError::TextFormat(e.to_string()))?;
    let mut out = String::new();
    print_fields(&mut out, &dynamic, 0);
    Ok(out)
}

fn print_fields(out: &mut String, message: &DynamicMessage, indent: usize) {
    let mut fields: Vec<(FieldDescriptor, &Value)> = message.fields().collect();
    fields.sort_by_key(|(field, _)| field.number());
    for (field, value) in fields {
        print_field(out, &field, value, indent);
    }
}

fn print_field(out: &mut String, field: &FieldDescriptor, value: &Value, indent: usize) {
    let kind = field.kind();
    match value {
        Value::List(items) if items.is_empty() => {}
        Value::List(items) if field.is_packed() => {
            line_start(out, indent, field.name());
            out.push_str(": [");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                print_scalar(out, item, &kind);
            }
            out.push_str("]\n");
        }
        Value::List(items) => {
            for item in items {
                print_single(out, field.name(), item, &kind, indent);
            }
        }
        Value::Map(map) => {
            let Some(entry) = kind.as_message() else {
                return;
            };
            let key_field = entry.map_entry_key_field();
            let value_field = entry.map_entry_value_field();
            let mut entries: Vec<(&MapKey, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (key, item) in entries {
                line_start(out, indent, field.name());
                out.push_str(" {\n");
                print_single(
                    out,
                    key_field.name(),
                    &map_key_value(key),
                    &key_field.kind(),
                    indent + 2,
                );
                print_single(
                    out,
                    value_field.name(),
                    item,
                    &value_field.kind(),
                    indent + 2,
                );
                line_start(out, indent, "}");
                out.push('\n');
            }
        }
        single => print_single(out, field.name(), single, &kind, indent),
    }
}

fn print_single(out: &mut String, name: &str, value: &Value, kind: &Kind, indent: usize) {
    line_start(out, indent, name);
    if let Value::Message(message) = value {
        out.push_str(" {\n");
        print_fields(out, message, indent + 2);
        line_start(out, indent, "}");
    } else {
        out.push_str(": ");
        print_scalar(out, value, kind);
    }
    out.push('\n');
}

fn line_start(out: &mut String, indent: usize, text: &str) {
    out.extend(std::iter::repeat_n(' ', indent));
    out.push_str(text);
}

fn map_key_value(key: &MapKey) -> Value {
    match key {
        MapKey::Bool(v) => Value::Bool(*v),
        MapKey::I32(v) => Value::I32(*v),
        MapKey::I64(v) => Value::I64(*v),
        MapKey::U32(v) => Value::U32(*v),
        MapKey::U64(v) => Value::U64(*v),
        MapKey::String(v) => Value::String(v.clone()),
    }
}

fn print_scalar(out: &mut String, value: &Value, kind: &Kind) {
    // Writing to a String cannot fail.
    let _ = match value {
        Value::Bool(v) => write!(out, "{v}"),
        Value::I32(v) => write!(out, "{v}"),
        Value::I64(v) => write!(out, "{v}"),
        Value::U32(v) => write!(out, "{v}"),
        Value::U64(v) => write!(out, "{v}"),
        Value::F32(v) => write!(out, "{v}"),
        Value::F64(v) => write!(out, "{v}"),
        Value::String(s) => {
            escape(out, s.as_bytes(), true);
            Ok(())
        }
        Value::Bytes(b) => {
            escape(out, b, false);
            Ok(())
        }
        Value::EnumNumber(n) => match kind.as_enum().and_then(|e| e.get_value(*n)) {
            Some(v) => write!(out, "{}", v.name()),
            None => write!(out, "{n}"),
        },
        Value::Message(_) | Value::List(_) | Value::Map(_) => Ok(()),
    };
}

/// SwiftProtobuf's escapes: `\b \t \n \v \f \r \" \\`, printable ASCII as is, other bytes as
/// three octal digits; strings keep non-ASCII UTF-8 as is (only C0 controls and DEL are octal).
fn escape(out: &mut String, bytes: &[u8], utf8: bool) {
    out.push('"');
    let text = if utf8 {
        std::str::from_utf8(bytes).ok()
    } else {
        None
    };
    let push_byte = |out: &mut String, c: u8| match c {
        8 => out.push_str("\\b"),
        9 => out.push_str("\\t"),
        10 => out.push_str("\\n"),
        11 => out.push_str("\\v"),
        12 => out.push_str("\\f"),
        13 => out.push_str("\\r"),
        b'"' => out.push_str("\\\""),
        b'\\' => out.push_str("\\\\"),
        32..=126 => out.push(char::from(c)),
        _ => {
            let _ = write!(out, "\\{:03o}", c);
        }
    };
    match text {
        Some(text) => {
            for ch in text.chars() {
                match u8::try_from(ch) {
                    Ok(c) if c.is_ascii() => push_byte(out, c),
                    _ => out.push(ch),
                }
            }
        }
        None => bytes.iter().for_each(|&c| push_byte(out, c)),
    }
    out.push('"');
}
