//! User-issued tokens: the rules for an issue's symbol and decimals, how a token's id is
//! derived, and the conversion between display units and the integer amounts on chain.
//!
//! A token's id is `SHA-256("ironchain-token-v1" ‖ issuer ‖ nonce u64)`, taken from the
//! issuing transaction's sender and nonce. That pair names exactly one transaction of a
//! chain (an account's nonces are used once, in order), and unlike the transaction id it
//! is known before signing and cannot change with the signatures of a multisig issuer.

use super::address::Address;
use super::amount::Amount;
use super::error::TxError;
use super::hash::{sha256_parts, TokenId};
use std::fmt;

/// Longest token symbol, in characters.
pub const MAX_SYMBOL_LEN: usize = 8;
/// Most decimals a token may have: 10^18 still fits in a u64.
pub const MAX_DECIMALS: u8 = 18;
const TOKEN_ID_DOMAIN: &[u8] = b"ironchain-token-v1";

/// The id of the token issued by `issuer`'s transaction with `nonce`.
pub fn token_id(issuer: &Address, nonce: u64) -> TokenId {
    TokenId::from_bytes(sha256_parts(&[
        TOKEN_ID_DOMAIN,
        issuer.as_bytes(),
        &nonce.to_be_bytes(),
    ]))
}

/// The issue rules that need no state: symbol of 1–8 characters A–Z and 0–9, decimals at
/// most 18, a nonzero supply.
pub fn check_issue(symbol: &str, decimals: u8, supply: Amount) -> Result<(), TxError> {
    let valid_symbol = (1..=MAX_SYMBOL_LEN).contains(&symbol.len())
        && symbol
            .bytes()
            .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit());
    if !valid_symbol {
        return Err(TxError::BadSymbol {
            symbol: symbol.chars().take(MAX_SYMBOL_LEN + 8).collect(),
        });
    }
    if decimals > MAX_DECIMALS {
        return Err(TxError::BadDecimals { decimals });
    }
    if supply.is_zero() {
        return Err(TxError::ZeroSupply);
    }
    Ok(())
}

/// Why a display amount could not be converted to base units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnitsError {
    NotANumber(String),
    TooManyDecimals { decimals: u8 },
    TooLarge,
}

impl fmt::Display for UnitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitsError::NotANumber(text) => write!(f, "{text:?} is not a decimal amount"),
            UnitsError::TooManyDecimals { decimals } => {
                write!(f, "this token has {decimals} decimals; the amount has more")
            }
            UnitsError::TooLarge => write!(f, "amount does not fit in a 64-bit integer"),
        }
    }
}

impl std::error::Error for UnitsError {}

/// `"12.5"` with 2 decimals is 1250 base units. Exact: no floating point.
pub fn parse_units(text: &str, decimals: u8) -> Result<u64, UnitsError> {
    let text = text.trim();
    let not_a_number = || UnitsError::NotANumber(text.to_string());
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(not_a_number());
    }
    if fraction.len() > usize::from(decimals) {
        return Err(UnitsError::TooManyDecimals { decimals });
    }
    let mut value: u64 = 0;
    let padded = fraction.to_string() + &"0".repeat(usize::from(decimals) - fraction.len());
    for digit in whole.bytes().chain(padded.bytes()) {
        value = value
            .checked_mul(10)
            .and_then(|value| value.checked_add(u64::from(digit - b'0')))
            .ok_or(UnitsError::TooLarge)?;
    }
    Ok(value)
}

/// 1250 base units with 2 decimals is `"12.50"`.
pub fn format_units(amount: u64, decimals: u8) -> String {
    if decimals == 0 {
        return amount.to_string();
    }
    let digits = format!("{amount:0>width$}", width = usize::from(decimals) + 1);
    let (whole, fraction) = digits.split_at(digits.len() - usize::from(decimals));
    format!("{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_decimals_and_supply_follow_the_rules() {
        assert_eq!(check_issue("GOLD", 2, Amount::new(1)), Ok(()));
        assert_eq!(check_issue("A1B2C3D4", 18, Amount::new(u64::MAX)), Ok(()));
        for symbol in ["", "gold", "GOLD!", "ABCDEFGHI", "GÖLD"] {
            assert!(
                matches!(
                    check_issue(symbol, 2, Amount::new(1)),
                    Err(TxError::BadSymbol { .. })
                ),
                "{symbol}"
            );
        }
        assert_eq!(
            check_issue("GOLD", 19, Amount::new(1)),
            Err(TxError::BadDecimals { decimals: 19 })
        );
        assert_eq!(
            check_issue("GOLD", 2, Amount::ZERO),
            Err(TxError::ZeroSupply)
        );
    }

    #[test]
    fn token_ids_differ_by_issuer_and_nonce() {
        let alice = Address::from_bytes([1; 32]);
        let bob = Address::from_bytes([2; 32]);
        assert_ne!(token_id(&alice, 0), token_id(&alice, 1));
        assert_ne!(token_id(&alice, 0), token_id(&bob, 0));
    }

    #[test]
    fn units_convert_exactly_both_ways() {
        assert_eq!(parse_units("12.5", 2), Ok(1250));
        assert_eq!(parse_units("12", 2), Ok(1200));
        assert_eq!(parse_units(".05", 2), Ok(5));
        assert_eq!(parse_units("7", 0), Ok(7));
        assert_eq!(
            parse_units("1.234", 2),
            Err(UnitsError::TooManyDecimals { decimals: 2 })
        );
        assert_eq!(
            parse_units("18446744073709551616", 0),
            Err(UnitsError::TooLarge)
        );
        assert_eq!(
            parse_units("184467440737095516.16", 2),
            Err(UnitsError::TooLarge)
        );
        for bad in ["", ".", "-1", "1e3", "1.2.3", "abc"] {
            assert!(
                matches!(parse_units(bad, 2), Err(UnitsError::NotANumber(_))),
                "{bad}"
            );
        }
        assert_eq!(format_units(1250, 2), "12.50");
        assert_eq!(format_units(5, 2), "0.05");
        assert_eq!(format_units(7, 0), "7");
        assert_eq!(parse_units(&format_units(u64::MAX, 18), 18), Ok(u64::MAX));
    }
}
