//! The wire protocol (SPEC §5): length-prefixed CBOR frames and the messages they carry.
//! Kept apart from the actors so the format can be tested and used by clients alone.

pub mod frame;
pub mod fuzzing;
pub mod message;
