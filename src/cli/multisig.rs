//! The multisig commands: `ironchain wallet multisig` writes a policy file and prints its
//! address; `ironchain sign` adds a member's signature to a transaction file written by
//! `ironchain send --policy`. Keys never leave this process, and `sign` asks no node: the
//! file carries the network's genesis hash (part of what every member signs) and all the
//! member reviews, as a Bitcoin PSBT does.

use super::client::parse_address;
use super::format::{print_json, transaction_lines};
use crate::consensus::address::Address;
use crate::consensus::policy::{Policy, PolicyAddress};
use crate::consensus::signatures::verify_signature;
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

/// `ironchain sign`: needs no node, so a member can sign on a machine without one.
#[derive(Args, Debug)]
pub struct SignArgs {
    /// A multisig transaction file written by `ironchain send --policy`.
    pub file: PathBuf,
    /// Key file of a member of the policy.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
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
    write_new(&args.out, &(text + "\n"))?;
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

/// Writes a new policy file; an existing file is never replaced (as `wallet new` never
/// replaces a key): it may be the policy that funds are already sent to.
fn write_new(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let cannot = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::AlreadyExists => format!(
            "policy file {}: already exists; not overwriting a policy (choose another --out)",
            path.display()
        ),
        _ => format!("policy file {}: cannot write: {e}", path.display()),
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(cannot)?;
    file.write_all(text.as_bytes()).map_err(cannot)
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

/// What `sign` did with the member's signature.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Added,
    /// This key's signature is in the file already; nothing changed.
    AlreadySigned,
    /// Enough other members signed already; a further signature is not added.
    ThresholdMet,
}

/// `ironchain sign`: needs no node. The file names the network (its genesis), so the
/// member reviews what the file shows, and the signature commits to that network.
pub fn sign(args: SignArgs) -> Result<(), String> {
    let name = args.file.display();
    let tx_file::TxFileContents { mut tx, genesis } = tx_file::load(&args.file)?;
    let key = crate::keyfile::load(&args.key).map_err(|e| e.to_string())?;
    let signer = Address::of(&key);
    let Some(spend) = tx.policy_spend() else {
        return Err(format!(
            "{name} is not a multisig transaction (write one with `send --policy`)"
        ));
    };
    let Some(genesis) = genesis else {
        return Err(format!(
            "{name} does not say which network it is for (written by an older ironchain): \
             write it again with `ironchain send --policy`"
        ));
    };
    if !spend.policy.has_member(&signer) {
        return Err(format!("{signer} is not a member of the policy"));
    }
    // The signatures so far are checked before a member adds theirs: a file for another
    // network, or one whose fields were changed after others signed, is refused here
    // rather than by the node after everyone signed.
    verify_signature(&tx, &genesis).map_err(|e| {
        format!(
            "{name}: the signatures in it do not hold for network {} ({e}): \
             a file for another network, or edited after signing",
            genesis.short()
        )
    })?;
    let already: Vec<Address> = spend.signatures.iter().map(|c| c.signer).collect();
    let outcome = if already.contains(&signer) {
        Outcome::AlreadySigned
    } else if already.len() >= usize::from(spend.policy.threshold) {
        Outcome::ThresholdMet
    } else {
        tx.cosign(&key, &genesis);
        tx_file::save(&args.file, &tx, &genesis)?;
        Outcome::Added
    };
    let (signatures, required) = signature_count(&tx).unwrap_or_default();
    let signed_by: Vec<String> = tx
        .policy_spend()
        .map(|spend| {
            spend
                .signatures
                .iter()
                .map(|c| c.signer.to_string())
                .collect()
        })
        .unwrap_or_default();
    if args.json {
        return print_json(&json!({
            "txid": tx.id().to_string(),
            "signing_hash": tx_file::signing_hash(&tx, &genesis),
            "genesis": genesis.to_string(),
            "signer": signer.to_string(),
            "added": outcome == Outcome::Added,
            "already_signed": outcome == Outcome::AlreadySigned,
            "signatures": signatures,
            "required": required,
            "signed_by": signed_by,
        }));
    }
    crate::outln!("{name}: a spend for the network of genesis {genesis}");
    crate::outln!("{}", transaction_lines(&tx, "  "));
    crate::outln!(
        "  signing hash  {} (the same for every member; compare it with theirs)",
        tx_file::signing_hash(&tx, &genesis)
    );
    let complete = signatures >= usize::from(required);
    let next = if complete {
        format!("complete: submit it with `ironchain submit {name} --node HOST:PORT`")
    } else {
        format!(
            "{} more needed: pass the file on to another member",
            required as usize - signatures
        )
    };
    match outcome {
        Outcome::Added => crate::outln!(
            "signed by {signer}: {signatures} of {required} required signatures; {next}"
        ),
        Outcome::AlreadySigned => crate::outln!(
            "already signed by {signer}: nothing changed ({signatures} of {required} \
             required signatures); {next}"
        ),
        Outcome::ThresholdMet => crate::outln!(
            "the threshold is already met ({signatures} of {required}, by {}): your \
             signature is not added, as one more would make the transaction larger (and \
             its fee per byte smaller) without making it any more valid; {next}",
            signed_by.join(", ")
        ),
    }
    crate::outln!(
        "txid {} (it changes with every signature: the final one is the txid `submit` \
         prints)",
        tx.id()
    );
    Ok(())
}
