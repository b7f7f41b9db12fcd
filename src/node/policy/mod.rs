//! The peer manager's decisions as plain structs, with no actix in them, so each rule can
//! be unit-tested alone (as `chain/` holds the consensus core): who is banned, which
//! addresses are kept and gossiped, which inbound connection gives way to a newcomer,
//! which peer to sync from and when it has failed us, what a connection may make us send,
//! how repeated log lines are summarised, and which of its own blocks a selfish miner
//! withholds. The actors only wire these to sockets.

pub mod address_book;
pub mod ban_list;
pub mod client_slots;
pub mod dial_budget;
pub mod double_spend;
pub mod eviction;
pub mod local_host;
pub mod log_summary;
pub mod net_group;
pub mod peer_text;
pub mod private_branch;
pub mod recent_set;
pub mod selfish;
pub mod send_budget;
pub mod sync_choice;
