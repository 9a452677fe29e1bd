//! The ids Apple computes over protobuf bytes: `config_id` = SHA-256 of the serialized
//! `PIRConfig`, `evaluation_key_config_hash` = SHA-256 of the serialized `EvaluationKeyConfig`
//! (spec/pir-protocol.md §1.4, §1.4.1, §6.9).
//!
//! prost's encoding is the canonical one SwiftProtobuf produces for these messages (fields in
//! number order, proto3 defaults left out, repeated scalars packed, presence fields written when
//! set, map entries sorted), so the hash is taken over [`prost::Message::encode_to_vec`]; the
//! transcript tests check it byte for byte.

use prost::Message;
use sha2::{Digest, Sha256};

use crate::proto::{api_pir, he};

/// SHA-256 of a message's canonical encoding.
pub fn sha256_of(message: &impl Message) -> [u8; 32] {
    Sha256::digest(message.encode_to_vec()).into()
}

/// `Config.config_id`: SHA-256 of the serialized `PIRConfig`.
pub fn config_id(config: &api_pir::PirConfig) -> [u8; 32] {
    sha256_of(config)
}

/// `PIRConfig.evaluation_key_config_hash`, also the evaluation key's store identifier.
pub fn evaluation_key_config_hash(config: &he::EvaluationKeyConfig) -> [u8; 32] {
    sha256_of(config)
}
