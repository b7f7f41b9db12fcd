//! `ironchain wallet new` (create a key file and print its address) and
//! `ironchain wallet address` (print the address of an existing key file). No node is
//! involved: keys are made and kept locally, in the format of [`crate::keyfile`].

use super::format::print_json;
use crate::consensus::address::Address;
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;

/// Where `wallet new` writes when no `--out` is given.
pub const DEFAULT_KEY_FILE: &str = "wallet.key";

/// `ironchain wallet …`.
#[derive(Subcommand, Debug)]
pub enum WalletCommand {
    /// Create a new Ed25519 key file (mode 0600, never overwritten) and print its address.
    New(NewArgs),
    /// Print the address of a key file.
    Address(AddressArgs),
    /// Write an m-of-n multisig policy file and print its address (icm…).
    Multisig(super::multisig::MultisigArgs),
}

/// `ironchain wallet new`.
#[derive(Args, Debug)]
pub struct NewArgs {
    /// Where to write the key file.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_KEY_FILE)]
    pub out: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `ironchain wallet address`.
#[derive(Args, Debug)]
pub struct AddressArgs {
    /// The key file.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_KEY_FILE)]
    pub key: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `wallet` subcommand.
pub fn run(command: WalletCommand) -> Result<(), String> {
    let (path, json, key) = match command {
        WalletCommand::New(args) => {
            let key = crate::keyfile::generate();
            crate::keyfile::save(&args.out, &key).map_err(|e| e.to_string())?;
            if !args.json {
                crate::outln!(
                    "wrote key file {} (keep it secret: it can spend everything sent to this address)",
                    args.out.display()
                );
            }
            (args.out, args.json, key)
        }
        WalletCommand::Address(args) => {
            let key = crate::keyfile::load(&args.key).map_err(|e| e.to_string())?;
            (args.key, args.json, key)
        }
        WalletCommand::Multisig(args) => return super::multisig::create(args),
    };
    let address = Address::of(&key);
    if json {
        return print_json(&json!({
            "address": address.to_string(),
            "key_file": path.display().to_string(),
        }));
    }
    crate::outln!("address {address}");
    Ok(())
}
