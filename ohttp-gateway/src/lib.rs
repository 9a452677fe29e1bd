//! An RFC 9458 Oblivious HTTP gateway for Apple's OHTTP relay
//! (spec/ohttp-privacy-pass.md §1–§4, §6.2).
//!
//! The OHTTP core — key configurations ([`keys`]), the request header peek ([`header`]),
//! decapsulation and response sealing ([`gateway`]), Binary HTTP translation ([`inner`]) and the
//! target allow-list ([`allow_list`]) — takes bytes and returns bytes and does no I/O. The
//! [`server`] module owns sockets: the public gateway listener, the admin listener and the
//! forwarding client. [`client`] is the device side, used by tests and the device simulator.
//!
//! ```
//! use ohttp_gateway::{client::Client, gateway::open, inner::{InnerRequest, InnerResponse},
//!     keys::{KeyRing, KeySeed, KeyState, KeySpec}, codepoints::KeyId};
//! let ring = KeyRing::new(vec![KeySpec { id: KeyId(1), seed: KeySeed::new(vec![7; 32])?,
//!     state: KeyState::Current }])?;
//! let client = Client::from_key_list(&ring.encoded_configs())?;
//! let request = InnerRequest::get("service.example.net", "/config");
//! let (wire, pending) = client.encapsulate(&request, bhttp::Mode::IndeterminateLength)?;
//! let opened = open(&ring, &wire)?;
//! assert_eq!(InnerRequest::decode(&opened.inner)?.path, "/config");
//! let reply = opened.reply.seal(&InnerResponse::status_only(204))?;
//! assert_eq!(pending.open(&reply)?.status, 204);
//! # Ok::<(), ohttp_gateway::error::GatewayError>(())
//! ```

pub mod allow_list;
pub mod client;
pub mod codepoints;
pub mod error;
pub mod gateway;
pub mod header;
pub mod hpke;
pub mod inner;
pub mod keys;
pub mod server;
