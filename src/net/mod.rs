//! The wire protocol (the book's Protocol and rules › Wire protocol): length-prefixed CBOR
//! frames and the messages they carry. Kept apart from the actors so the format can be
//! tested and used by clients alone. Also the networks a node may dial (`only_net`), which
//! the config names.

pub mod frame;
// Sample messages build blocks with the testkit, so they exist only where it does.
#[cfg(any(test, feature = "testkit"))]
pub mod fuzzing;
pub mod message;
pub mod only_net;
