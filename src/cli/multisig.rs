//! The multisig commands: `ironchain wallet multisig` writes a policy file and prints its
//! address; `ironchain sign` adds a member's signature to a transaction file written by
//! `ironchain send --policy`. Keys never leave this process; the node is only asked for
//! its genesis hash (part of what every member signs).

use super::client::{parse_address, NodeOpts};
use super::format::print_json;
use crate::consensus::address::Address;
use crate::consensus::policy::{Policy, PolicyAddress};
use crate::consensus::transaction::Transaction;
use crate::view::tx_file;
use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Where `wallet multisig` writes when no `--out` is given.
pub const DEFAULT_POLICY_FILE: &str = "policy.json";

/// `ironchain wallet multisig`.
#[derive(Args, Debug)]
pub struct MultisigArgs {
    /// Signatures a spend needs (m of the n members).
    #[arg(long, value_name = "M")]
    pub threshold: u8,
    /// A member's address (ic…); repeat for each member.
    #[arg(long = "member", value_name = "ADDR", required = true)]
    pub members: Vec<String>,
    /// Where to write the policy file.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_POLICY_FILE)]
    pub out: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `ironchain sign`.
#[derive(Args, Debug)]
pub struct SignArgs {
    /// A multisig transaction file written by `ironchain send --policy`.
    pub file: PathBuf,
    /// Key file of a member of the policy.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    #[command(flatten)]
    pub opts: NodeOpts,
}

/// A policy file: the policy and, for people, its address.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    address: PolicyAddress,
    threshold: u8,
    members: Vec<Address>,
}

/// `ironchain wallet multisig`.
pub fn create(args: MultisigArgs) -> Result<(), String> {
    let members = args
        .members
        .iter()
        .map(|text| parse_address("--member", text))
        .collect::<Result<Vec<_>, _>>()?;
    let policy = Policy::new(args.threshold, members).map_err(|e| e.to_string())?;
    let address = policy.address();
    let file = PolicyFile {
        address,
        threshold: policy.threshold,
        members: policy.members.clone(),
    };
    let text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    std::fs::write(&args.out, text + "\n")
        .map_err(|e| format!("policy file {}: cannot write: {e}", args.out.display()))?;
    if args.json {
        return print_json(&json!({
            "address": address.to_string(),
            "threshold": policy.threshold,
            "members": policy.members.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "policy_file": args.out.display().to_string(),
        }));
    }
    crate::outln!(
        "{}-of-{} policy written to {}",
        policy.threshold,
        policy.members.len(),
        args.out.display()
    );
    crate::outln!("address {address}");
    Ok(())
}

/// Largest policy file read: one of the most members allowed is a few kilobytes.
const MAX_POLICY_FILE_BYTES: u64 = 64 << 10;

/// Reads a policy file; its address must be the policy's own.
pub fn load_policy(path: &Path) -> Result<Policy, String> {
    let name = path.display();
    let text = crate::small_file::read_to_string(path, MAX_POLICY_FILE_BYTES)
        .map_err(|e| format!("policy file {name}: {e}"))?;
    let file: PolicyFile = serde_json::from_str(&text)
        .map_err(|e| format!("policy file {name}: not a policy file: {e}"))?;
    let policy = Policy {
        threshold: file.threshold,
        members: file.members,
    };
    policy
        .check()
        .map_err(|e| format!("policy file {name}: {e}"))?;
    if policy.address() != file.address {
        return Err(format!(
            "policy file {name}: the address does not match the policy (edited file?)"
        ));
    }
    Ok(policy)
}

/// Signatures on a policy spend and how many it needs.
pub fn signature_count(tx: &Transaction) -> Option<(usize, u8)> {
    tx.policy_spend()
        .map(|spend| (spend.signatures.len(), spend.policy.threshold))
}

/// `ironchain sign`.
pub fn sign(args: SignArgs) -> Result<(), String> {
    let mut tx = tx_file::load(&args.file)?;
    let key = crate::keyfile::load(&args.key).map_err(|e| e.to_string())?;
    let signer = Address::of(&key);
    let Some(spend) = tx.policy_spend() else {
        return Err(format!(
            "{} is not a multisig transaction (write one with `send --policy`)",
            args.file.display()
        ));
    };
    if !spend.policy.has_member(&signer) {
        return Err(format!("{signer} is not a member of the policy"));
    }
    let node = args.opts.connect()?;
    tx.cosign(&key, node.genesis());
    tx_file::save(&args.file, &tx)?;
    let (signatures, required) = signature_count(&tx).unwrap_or_default();
    if args.opts.json {
        return print_json(&json!({
            "txid": tx.id().to_string(),
            "signatures": signatures,
            "required": required,
        }));
    }
    crate::outln!(
        "signed {}: {signatures} of {required} required signatures",
        args.file.display()
    );
    Ok(())
}
