//! Proof-of-work targets, their compact (`nBits`) encoding, and chain work.
//!
//! Consensus compares block hashes against 256-bit targets and picks the best
//! chain by summed work, so every node must do this arithmetic bit-for-bit the
//! same way. The few 256-bit operations needed are written here by hand, with
//! checked arithmetic, instead of pulling in a bignum crate: they are small
//! enough to audit, and nothing outside this file can change their results.
//!
//! Semantics follow Bitcoin: a hash, read as a big-endian number, meets a
//! target when it is `<=` the target; a block's work is
//! `floor(2^256 / (target + 1))`; and targets travel in headers as Bitcoin's
//! compact `nBits` form.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Not;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Unsigned 256-bit integer with only the operations consensus needs.
///
/// Limbs are stored least significant first so carries run with the index.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct U256([u64; 4]);

impl U256 {
    /// Zero.
    pub const ZERO: U256 = U256([0; 4]);
    /// One.
    pub const ONE: U256 = U256([1, 0, 0, 0]);
    /// `2^256 - 1`.
    pub const MAX: U256 = U256([u64::MAX; 4]);

    /// Widens a `u64`.
    pub const fn from_u64(value: u64) -> U256 {
        U256([value, 0, 0, 0])
    }

    /// Widens a `u128`.
    pub const fn from_u128(value: u128) -> U256 {
        U256([value as u64, (value >> 64) as u64, 0, 0])
    }

    /// The value as a `u128`, or `None` if it does not fit.
    pub fn to_u128(self) -> Option<u128> {
        if self.0[2] != 0 || self.0[3] != 0 {
            return None;
        }
        Some((u128::from(self.0[1]) << 64) | u128::from(self.0[0]))
    }

    /// Reads a big-endian number, the byte order hashes are compared in.
    pub fn from_be_bytes(bytes: [u8; 32]) -> U256 {
        let mut limbs = [0u64; 4];
        for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8).rev()) {
            *limb = chunk
                .iter()
                .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte));
        }
        U256(limbs)
    }

    /// Writes the number big-endian.
    pub fn to_be_bytes(self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        for (chunk, limb) in bytes.chunks_exact_mut(8).rev().zip(self.0) {
            chunk.copy_from_slice(&limb.to_be_bytes());
        }
        bytes
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    /// Number of significant bits: 0 for zero, 256 for values `>= 2^255`.
    pub fn bits(&self) -> u32 {
        for (index, &limb) in self.0.iter().enumerate().rev() {
            if limb != 0 {
                // index < 4, so the cast cannot truncate.
                return 64 * index as u32 + (64 - limb.leading_zeros());
            }
        }
        0
    }

    /// `self + other`, or `None` on overflow past `2^256 - 1`.
    pub fn checked_add(self, other: U256) -> Option<U256> {
        let mut out = [0u64; 4];
        let mut carry = false;
        for ((out, &a), &b) in out.iter_mut().zip(&self.0).zip(&other.0) {
            let (sum, c1) = a.overflowing_add(b);
            let (sum, c2) = sum.overflowing_add(u64::from(carry));
            *out = sum;
            carry = c1 || c2;
        }
        if carry {
            None
        } else {
            Some(U256(out))
        }
    }

    /// `self - other`, or `None` if `other > self`.
    pub fn checked_sub(self, other: U256) -> Option<U256> {
        let mut out = [0u64; 4];
        let mut borrow = false;
        for ((out, &a), &b) in out.iter_mut().zip(&self.0).zip(&other.0) {
            let (diff, b1) = a.overflowing_sub(b);
            let (diff, b2) = diff.overflowing_sub(u64::from(borrow));
            *out = diff;
            borrow = b1 || b2;
        }
        if borrow {
            None
        } else {
            Some(U256(out))
        }
    }

    /// Full product `self * factor` as (low 256 bits, high 64 bits), so
    /// callers that divide afterwards lose nothing.
    fn widening_mul_u64(self, factor: u64) -> (U256, u64) {
        let mut out = [0u64; 4];
        let mut carry = 0u64;
        for (out, &limb) in out.iter_mut().zip(&self.0) {
            // (2^64-1)^2 + (2^64-1) < 2^128: this cannot overflow.
            let product = u128::from(limb) * u128::from(factor) + u128::from(carry);
            *out = product as u64;
            carry = (product >> 64) as u64;
        }
        (U256(out), carry)
    }

    /// `self * factor`, or `None` on overflow.
    pub fn checked_mul_u64(self, factor: u64) -> Option<U256> {
        match self.widening_mul_u64(factor) {
            (low, 0) => Some(low),
            _ => None,
        }
    }

    /// Divides the 320-bit number `high * 2^256 + low` by `divisor`.
    ///
    /// Requires `high < divisor` and `divisor != 0`, which keeps the quotient
    /// within 256 bits and every partial quotient within a limb.
    fn div_wide_u64(high: u64, low: U256, divisor: u64) -> (U256, u64) {
        let divisor = u128::from(divisor);
        let mut quotient = [0u64; 4];
        let mut rem = u128::from(high);
        for (q, &limb) in quotient.iter_mut().zip(&low.0).rev() {
            let current = (rem << 64) | u128::from(limb);
            *q = (current / divisor) as u64;
            rem = current % divisor;
        }
        (U256(quotient), rem as u64)
    }

    /// `(self / divisor, self % divisor)`, or `None` for a zero divisor.
    pub fn div_rem_u64(self, divisor: u64) -> Option<(U256, u64)> {
        if divisor == 0 {
            return None;
        }
        Some(Self::div_wide_u64(0, self, divisor))
    }

    /// `(self / divisor, self % divisor)`, or `None` for a zero divisor.
    ///
    /// Plain shift-and-subtract long division: it runs once per block, not
    /// per hash, so clarity beats speed here.
    pub fn div_rem(self, divisor: U256) -> Option<(U256, U256)> {
        if divisor.is_zero() {
            return None;
        }
        if self < divisor {
            return Some((U256::ZERO, self));
        }
        let shift = self.bits() - divisor.bits();
        let mut shifted = divisor.shl_bits(shift);
        let mut rem = self;
        let mut quotient = U256::ZERO;
        for bit in (0..=shift).rev() {
            if let Some(smaller) = rem.checked_sub(shifted) {
                rem = smaller;
                quotient.0[(bit / 64) as usize] |= 1 << (bit % 64);
            }
            shifted = shifted.shr_bits(1);
        }
        Some((quotient, rem))
    }

    /// `self << bits`, dropping bits shifted out; zero for `bits >= 256`.
    pub fn shl_bits(self, bits: u32) -> U256 {
        if bits >= 256 {
            return U256::ZERO;
        }
        let limbs = (bits / 64) as usize;
        let rest = bits % 64;
        let mut out = [0u64; 4];
        for (index, out) in out.iter_mut().enumerate().skip(limbs) {
            let src = index - limbs;
            *out = self.0[src] << rest;
            if rest != 0 && src > 0 {
                *out |= self.0[src - 1] >> (64 - rest);
            }
        }
        U256(out)
    }

    /// `self >> bits`; zero for `bits >= 256`.
    pub fn shr_bits(self, bits: u32) -> U256 {
        if bits >= 256 {
            return U256::ZERO;
        }
        let limbs = (bits / 64) as usize;
        let rest = bits % 64;
        let mut out = [0u64; 4];
        for (index, out) in out.iter_mut().enumerate().take(4 - limbs) {
            let src = index + limbs;
            *out = self.0[src] >> rest;
            if rest != 0 && src + 1 < 4 {
                *out |= self.0[src + 1] << (64 - rest);
            }
        }
        U256(out)
    }
}

impl Not for U256 {
    type Output = U256;

    fn not(self) -> U256 {
        U256(self.0.map(|limb| !limb))
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "0x{d:016x}{c:016x}{b:016x}{a:016x}")
    }
}

/// Minimal hex digits; `{:#x}` adds the `0x` prefix.
impl fmt::LowerHex for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.write_str("0x")?;
        }
        let mut started = false;
        for &limb in self.0.iter().rev() {
            if started {
                write!(f, "{limb:016x}")?;
            } else if limb != 0 {
                write!(f, "{limb:x}")?;
                started = true;
            }
        }
        if !started {
            f.write_str("0")?;
        }
        Ok(())
    }
}

/// A proof-of-work target: a block is valid when its hash, read big-endian,
/// is `<=` this value. Smaller targets are harder.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Target(U256);

/// Returned by [`Target::from_leading_zero_bits`] for more than 255 bits,
/// which would be the zero target that the compact form cannot carry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LeadingZeroBitsError {
    /// The rejected number of bits.
    pub bits: u32,
}

impl fmt::Display for LeadingZeroBitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a difficulty of {} leading zero bits is out of range (at most 255)",
            self.bits
        )
    }
}

impl std::error::Error for LeadingZeroBitsError {}

/// Why [`Target::scale`] could not scale.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ScaleError {
    /// The fraction's denominator was zero.
    ZeroDenominator,
}

impl fmt::Display for ScaleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScaleError::ZeroDenominator => {
                f.write_str("cannot scale a target by a fraction whose denominator is zero")
            }
        }
    }
}

impl std::error::Error for ScaleError {}

impl Target {
    /// The easiest possible target, `2^256 - 1`: every hash meets it.
    pub const MAX: Target = Target(U256::MAX);

    /// The hardest target the compact form can carry (`1`), since it rejects
    /// zero; retargeting never goes below it.
    pub const HARDEST: Target = Target(U256::ONE);

    /// Reads a target stored big-endian.
    pub fn from_be_bytes(bytes: [u8; 32]) -> Target {
        Target(U256::from_be_bytes(bytes))
    }

    /// Writes the target big-endian.
    pub fn to_be_bytes(&self) -> [u8; 32] {
        self.0.to_be_bytes()
    }

    /// The target `2^(256 - bits) - 1`: a hash meets it exactly when its
    /// first `bits` bits are zero.
    pub fn from_leading_zero_bits(bits: u32) -> Result<Target, LeadingZeroBitsError> {
        if bits > 255 {
            return Err(LeadingZeroBitsError { bits });
        }
        Ok(Target(U256::MAX.shr_bits(bits)))
    }

    /// Leading zero bits of the target, the "difficulty in bits" people
    /// quote: 256 for the zero target.
    pub fn leading_zero_bits(&self) -> u32 {
        256 - self.0.bits()
    }

    /// Whether `hash_be`, read as a big-endian number, is `<=` the target.
    ///
    /// The miner calls this once per hash, so it compares limb by limb from
    /// the most significant end and stops at the first difference.
    #[inline]
    pub fn is_met_by(&self, hash_be: &[u8; 32]) -> bool {
        for (chunk, &limb) in hash_be.chunks_exact(8).zip(self.0 .0.iter().rev()) {
            let word = chunk
                .iter()
                .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte));
            if word != limb {
                return word < limb;
            }
        }
        true
    }

    /// Expected number of hashes to meet this target: `floor(2^256 / (target + 1))`.
    ///
    /// `2^256` does not fit in 256 bits, so this uses
    /// `2^256 / (t+1) == (2^256 - (t+1)) / (t+1) + 1 == !t / (t+1) + 1`.
    /// `Target::MAX` has work 1. The zero target (which no compact form
    /// decodes to) would have work `2^256`; it saturates to `2^256 - 1`.
    pub fn work(&self) -> Work {
        let work = match self.0.checked_add(U256::ONE) {
            None => U256::ONE,
            Some(divisor) => (!self.0)
                .div_rem(divisor)
                .and_then(|(quotient, _)| quotient.checked_add(U256::ONE))
                .unwrap_or(U256::MAX),
        };
        Work(work)
    }

    /// The compact form, rounding down (truncating the mantissa) so that
    /// it never encodes an easier target than `self`.
    ///
    /// Normalised as Bitcoin's `GetCompact`: when the mantissa's top bit
    /// would read as the sign bit, the mantissa drops a byte and the exponent
    /// grows by one.
    pub fn to_compact(&self) -> CompactTarget {
        let mut size = self.0.bits().div_ceil(8);
        let mut mantissa = if size <= 3 {
            self.0 .0[0] << (8 * (3 - size))
        } else {
            self.0.shr_bits(8 * (size - 3)).0[0]
        };
        // Both branches leave at most 24 significant bits; the mask makes
        // the narrowing below obviously lossless.
        mantissa &= 0x00ff_ffff;
        if mantissa & u64::from(CompactTarget::SIGN_BIT) != 0 {
            mantissa >>= 8;
            size += 1;
        }
        CompactTarget((size << 24) | mantissa as u32)
    }

    /// `floor(self * numerator / denominator)`, computed exactly with a
    /// 320-bit intermediate product, saturating at [`Target::MAX`].
    pub fn scale(&self, numerator: u64, denominator: u64) -> Result<Target, ScaleError> {
        if denominator == 0 {
            return Err(ScaleError::ZeroDenominator);
        }
        let (low, high) = self.0.widening_mul_u64(numerator);
        // The quotient reaches 2^256 exactly when the product's top limb
        // is at least the denominator.
        if high >= denominator {
            return Ok(Target::MAX);
        }
        let (quotient, _) = U256::div_wide_u64(high, low, denominator);
        Ok(Target(quotient))
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_be_bytes().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <[u8; 32]>::deserialize(deserializer).map(Target::from_be_bytes)
    }
}

/// A target in Bitcoin's compact `nBits` form, as carried in block headers.
///
/// Top byte: length of the number in bytes; bit `0x0080_0000`: sign; low 23
/// bits: mantissa. Deserialising does not validate: headers carry whatever
/// a peer sent, and [`CompactTarget::to_target`] is where it is judged.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CompactTarget(u32);

/// Why a compact target does not decode to a usable target.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CompactTargetError {
    /// The sign bit is set on a nonzero mantissa.
    Negative(CompactTarget),
    /// The encoded value is `2^256` or more.
    Overflow(CompactTarget),
    /// The encoded value is zero.
    Zero(CompactTarget),
}

impl fmt::Display for CompactTargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompactTargetError::Negative(c) => write!(
                f,
                "compact target {c} is negative (its sign bit is set), which no hash can meet"
            ),
            CompactTargetError::Overflow(c) => {
                write!(f, "compact target {c} is too large to fit in 256 bits")
            }
            CompactTargetError::Zero(c) => write!(
                f,
                "compact target {c} encodes a target of zero, which is not allowed"
            ),
        }
    }
}

impl std::error::Error for CompactTargetError {}

impl CompactTarget {
    const SIGN_BIT: u32 = 0x0080_0000;
    const MANTISSA_MASK: u32 = 0x007f_ffff;

    /// Wraps the raw `nBits` value from a header.
    pub const fn from_consensus(bits: u32) -> CompactTarget {
        CompactTarget(bits)
    }

    /// The raw `nBits` value for a header.
    pub const fn to_consensus(self) -> u32 {
        self.0
    }

    /// Decodes as Bitcoin's `SetCompact`, but refuses values consensus must
    /// never accept: negative, `>= 2^256`, or zero.
    ///
    /// As in Bitcoin, for exponents below 3 the mantissa's low bytes are
    /// shifted out first, so e.g. `0x01_80_34_56` is zero, not negative.
    pub fn to_target(self) -> Result<Target, CompactTargetError> {
        let size = self.0 >> 24;
        let raw = self.0 & Self::MANTISSA_MASK;
        let (mantissa, shift) = if size <= 3 {
            (raw >> (8 * (3 - size)), 0)
        } else {
            (raw, 8 * (size - 3))
        };
        if mantissa != 0 && self.0 & Self::SIGN_BIT != 0 {
            return Err(CompactTargetError::Negative(self));
        }
        if mantissa == 0 {
            return Err(CompactTargetError::Zero(self));
        }
        if (32 - mantissa.leading_zeros()) + shift > 256 {
            return Err(CompactTargetError::Overflow(self));
        }
        Ok(Target(U256::from_u64(u64::from(mantissa)).shl_bits(shift)))
    }
}

impl fmt::Debug for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompactTarget(0x{:08x})", self.0)
    }
}

/// Hex, the way `nBits` values are usually written.
impl fmt::Display for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08x}", self.0)
    }
}

/// Cumulative proof of work: the sum of [`Target::work`] over a chain, used to
/// pick the best chain.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Work(U256);

impl Work {
    /// No work.
    pub const ZERO: Work = Work(U256::ZERO);

    /// `self + other`, or `None` past `2^256 - 1` (unreachable in practice,
    /// but a consensus sum must not wrap silently).
    pub fn checked_add(self, other: Work) -> Option<Work> {
        self.0.checked_add(other.0).map(Work)
    }

    /// Reads work stored big-endian.
    pub fn from_be_bytes(bytes: [u8; 32]) -> Work {
        Work(U256::from_be_bytes(bytes))
    }

    /// Writes work big-endian, so stored values sort as numbers.
    pub fn to_be_bytes(&self) -> [u8; 32] {
        self.0.to_be_bytes()
    }

    /// Approximate base-2 logarithm, for logs only (never for consensus);
    /// negative infinity for zero.
    pub fn log2(&self) -> f64 {
        let bits = self.0.bits();
        if bits == 0 {
            return f64::NEG_INFINITY;
        }
        // The top 64 bits carry more precision than an f64 holds.
        let shift = bits.saturating_sub(64);
        let top = self.0.shr_bits(shift).0[0];
        (top as f64).log2() + f64::from(shift)
    }
}

/// Decimal when the value fits in a `u128`, otherwise `0x`-prefixed hex.
impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.to_u128() {
            Some(small) => write!(f, "{small}"),
            None => write!(f, "{:#x}", self.0),
        }
    }
}

impl Serialize for Work {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_be_bytes().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Work {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <[u8; 32]>::deserialize(deserializer).map(Work::from_be_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic xorshift64 so failures reproduce without extra crates.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn next_u128(&mut self) -> u128 {
            (u128::from(self.next()) << 64) | u128::from(self.next())
        }

        /// Random value whose bit length is itself random, so small, medium
        /// and full-width numbers all get exercised.
        fn next_u256(&mut self) -> U256 {
            let full = U256([self.next(), self.next(), self.next(), self.next()]);
            let drop = (self.next() % 257) as u32;
            full.shr_bits(drop)
        }
    }

    /// Exact U256 × U256 product for checking division (test-only).
    fn mul(a: U256, b: U256) -> Option<U256> {
        let mut total = U256::ZERO;
        for (index, &limb) in b.0.iter().enumerate() {
            let part = a.checked_mul_u64(limb)?;
            if limb != 0 && part.bits() + 64 * index as u32 > 256 {
                return None;
            }
            total = total.checked_add(part.shl_bits(64 * index as u32))?;
        }
        Some(total)
    }

    fn pow2(k: u32) -> U256 {
        U256::ONE.shl_bits(k)
    }

    fn target_from_hex(hex: &str) -> Target {
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        Target::from_be_bytes(bytes)
    }

    #[test]
    fn u256_arithmetic_matches_u128() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5000 {
            let a = rng.next_u128() >> (rng.next() % 128);
            let b = rng.next_u128() >> (rng.next() % 128);
            let m = rng.next() >> (rng.next() % 64);
            let (ua, ub) = (U256::from_u128(a), U256::from_u128(b));

            assert_eq!(ua.to_u128(), Some(a));
            assert_eq!(ua.cmp(&ub), a.cmp(&b));
            assert_eq!(ua.checked_add(ub).and_then(U256::to_u128), a.checked_add(b));
            assert_eq!(
                ua.checked_sub(ub).map(|d| d.to_u128()),
                a.checked_sub(b).map(Some)
            );
            // Zero divisors (rare here, but possible) must give None too.
            assert_eq!(
                ua.div_rem(ub)
                    .map(|(q, r)| (q.to_u128().unwrap(), r.to_u128().unwrap())),
                a.checked_div(b).zip(a.checked_rem(b))
            );
            let wide_m = u128::from(m);
            assert_eq!(
                ua.div_rem_u64(m)
                    .map(|(q, r)| (q.to_u128().unwrap(), u128::from(r))),
                a.checked_div(wide_m).zip(a.checked_rem(wide_m))
            );
            let small = u128::from(rng.next());
            assert_eq!(
                U256::from_u128(small)
                    .checked_mul_u64(m)
                    .and_then(U256::to_u128),
                Some(small * u128::from(m))
            );
            let shift = (rng.next() % 128) as u32;
            assert_eq!(ua.shr_bits(shift).to_u128(), Some(a >> shift));
            if shift <= a.leading_zeros() {
                assert_eq!(ua.shl_bits(shift).to_u128(), Some(a << shift));
            }
            assert_eq!(ua.bits(), 128 - a.leading_zeros());
        }
    }

    #[test]
    fn u256_wide_division_reconstructs_dividend() {
        let mut rng = XorShift(42);
        for _ in 0..2000 {
            let n = rng.next_u256();
            let d = rng.next_u256();
            if d.is_zero() {
                continue;
            }
            let (q, r) = n.div_rem(d).unwrap();
            assert!(r < d);
            assert_eq!(mul(q, d).and_then(|p| p.checked_add(r)), Some(n));
            if let Some(small) = d.to_u128().and_then(|v| u64::try_from(v).ok()) {
                let (q2, r2) = n.div_rem_u64(small).unwrap();
                assert_eq!((q2, U256::from_u64(r2)), (q, r));
            }
        }
    }

    #[test]
    fn u256_edge_cases() {
        assert_eq!(U256::MAX.div_rem(U256::ZERO), None);
        assert_eq!(U256::MAX.div_rem_u64(0), None);
        assert_eq!(U256::MAX.div_rem(U256::MAX), Some((U256::ONE, U256::ZERO)));
        assert_eq!(U256::MAX.div_rem(U256::ONE), Some((U256::MAX, U256::ZERO)));
        assert_eq!(U256::MAX.div_rem_u64(1), Some((U256::MAX, 0)));
        assert_eq!(
            U256::ZERO.div_rem(U256::MAX),
            Some((U256::ZERO, U256::ZERO))
        );
        assert_eq!(U256::MAX.checked_add(U256::ONE), None);
        assert_eq!(U256::ZERO.checked_sub(U256::ONE), None);
        assert_eq!(U256::MAX.checked_mul_u64(2), None);
        assert_eq!(U256::MAX.checked_mul_u64(1), Some(U256::MAX));
        assert_eq!(U256::MAX.checked_mul_u64(0), Some(U256::ZERO));
        assert_eq!(U256::MAX.bits(), 256);
        assert_eq!(U256::ZERO.bits(), 0);
        assert_eq!(U256::ONE.shl_bits(255).bits(), 256);
        assert_eq!(U256::MAX.shl_bits(256), U256::ZERO);
        assert_eq!(U256::MAX.shr_bits(256), U256::ZERO);
        assert_eq!(U256::MAX.shr_bits(255), U256::ONE);
        assert_eq!(!U256::ZERO, U256::MAX);
        assert_eq!(pow2(64).0, [0, 1, 0, 0]);
        assert_eq!(pow2(200).shr_bits(136), pow2(64));
        let mut bytes = [0u8; 32];
        bytes[0] = 0x80;
        bytes[31] = 0x01;
        let value = U256::from_be_bytes(bytes);
        assert_eq!(value, pow2(255).checked_add(U256::ONE).unwrap());
        assert_eq!(value.to_be_bytes(), bytes);
        assert_eq!(
            format!("{:#x}", pow2(128)),
            "0x100000000000000000000000000000000"
        );
        assert_eq!(format!("{:x}", U256::ZERO), "0");
    }

    #[test]
    fn leading_zero_bits_round_trip() {
        for bits in 0..=255 {
            let target = Target::from_leading_zero_bits(bits).unwrap();
            assert_eq!(target.leading_zero_bits(), bits);
            // 2^(256-bits) - 1: adding one gives exactly that power of two.
            let next = target.0.checked_add(U256::ONE);
            if bits == 0 {
                assert_eq!(next, None);
            } else {
                assert_eq!(next, Some(pow2(256 - bits)));
            }
        }
        assert_eq!(Target::from_leading_zero_bits(0), Ok(Target::MAX));
        assert_eq!(
            Target::from_leading_zero_bits(256),
            Err(LeadingZeroBitsError { bits: 256 })
        );
        assert_eq!(Target::from_be_bytes([0; 32]).leading_zero_bits(), 256);
    }

    #[test]
    fn is_met_by_compares_big_endian() {
        let target = Target::from_leading_zero_bits(20).unwrap();
        let exact = target.to_be_bytes();
        assert!(target.is_met_by(&exact));
        let above = target.0.checked_add(U256::ONE).unwrap().to_be_bytes();
        assert!(!target.is_met_by(&above));
        let below = target.0.checked_sub(U256::ONE).unwrap().to_be_bytes();
        assert!(target.is_met_by(&below));

        let mut low_one = [0u8; 32];
        low_one[31] = 1;
        let mut high_one = [0u8; 32];
        high_one[0] = 1;
        assert!(target.is_met_by(&low_one));
        assert!(!target.is_met_by(&high_one));
        assert!(Target::MAX.is_met_by(&[0xff; 32]));
        assert!(Target::HARDEST.is_met_by(&low_one));
        assert!(!Target::HARDEST.is_met_by(&high_one));

        let mut rng = XorShift(7);
        for _ in 0..2000 {
            let t = Target(rng.next_u256());
            let h = rng.next_u256();
            assert_eq!(t.is_met_by(&h.to_be_bytes()), h <= t.0);
        }
    }

    #[test]
    fn work_values() {
        assert_eq!(Target::MAX.work(), Work(U256::ONE));
        let one_bit = Target::from_leading_zero_bits(1).unwrap();
        assert_eq!(one_bit.work(), Work(U256::from_u64(2)));
        for k in [2u32, 8, 20, 32, 63, 64, 65, 128, 200, 255] {
            let target = Target::from_leading_zero_bits(k).unwrap();
            assert_eq!(target.work(), Work(pow2(k)), "k = {k}");
        }
        assert_eq!(Target::HARDEST.work(), Work(pow2(255)));
        assert_eq!(Target::from_be_bytes([0; 32]).work(), Work(U256::MAX));
        // Bitcoin's genesis target has work 0x100010001.
        let genesis = CompactTarget::from_consensus(0x1d00_ffff)
            .to_target()
            .unwrap();
        assert_eq!(genesis.work(), Work(U256::from_u64(0x1_0001_0001)));
    }

    #[test]
    fn work_is_exact_for_small_targets_and_monotonic() {
        let mut rng = XorShift(99);
        for _ in 0..2000 {
            let a = Target(rng.next_u256());
            let b = Target(rng.next_u256());
            let (easy, hard) = if a >= b { (a, b) } else { (b, a) };
            assert!(hard.work() >= easy.work());

            // floor(2^256 / (t+1)) is the unique w with
            // 0 <= 2^256 - w*(t+1) < t+1. (Zero saturates; tested elsewhere.)
            if hard.0.is_zero() {
                continue;
            }
            if let Some(divisor) = hard.0.checked_add(U256::ONE) {
                let w = hard.work().0;
                match mul(w, divisor) {
                    Some(product) => {
                        let gap = (U256::MAX.checked_sub(product).unwrap())
                            .checked_add(U256::ONE)
                            .unwrap();
                        assert!(gap < divisor);
                    }
                    // Only an exact power-of-two divisor makes w*(t+1)
                    // reach 2^256 itself.
                    None => {
                        let k = divisor.bits() - 1;
                        assert_eq!(divisor, pow2(k));
                        assert_eq!(w, pow2(256 - k));
                    }
                }
            }
        }
    }

    #[test]
    fn work_checked_add_display_and_log2() {
        let a = Work(U256::from_u64(1000));
        assert_eq!(a.checked_add(a), Some(Work(U256::from_u64(2000))));
        assert_eq!(Work(U256::MAX).checked_add(Work(U256::ONE)), None);
        assert_eq!(Work::default(), Work::ZERO);
        assert_eq!(Work::ZERO.to_string(), "0");
        assert_eq!(
            Work(U256::from_u128(u128::MAX)).to_string(),
            u128::MAX.to_string()
        );
        assert_eq!(
            Work(pow2(128)).to_string(),
            "0x100000000000000000000000000000000"
        );
        assert_eq!(Work(pow2(40)).log2(), 40.0);
        assert!((Work(pow2(200)).log2() - 200.0).abs() < 1e-9);
        assert!((Work(U256::from_u64(3)).log2() - 3f64.log2()).abs() < 1e-12);
        assert_eq!(Work::ZERO.log2(), f64::NEG_INFINITY);
        let bytes = Work(pow2(100)).to_be_bytes();
        assert_eq!(Work::from_be_bytes(bytes), Work(pow2(100)));
    }

    #[test]
    fn compact_known_bitcoin_values() {
        let genesis =
            target_from_hex("00000000ffff0000000000000000000000000000000000000000000000000000");
        let decoded = CompactTarget::from_consensus(0x1d00_ffff).to_target();
        assert_eq!(decoded, Ok(genesis));
        assert_eq!(genesis.to_compact().to_consensus(), 0x1d00_ffff);

        let later =
            target_from_hex("00000000000404cb000000000000000000000000000000000000000000000000");
        assert_eq!(
            CompactTarget::from_consensus(0x1b04_04cb).to_target(),
            Ok(later)
        );
        assert_eq!(
            later.to_compact(),
            CompactTarget::from_consensus(0x1b04_04cb)
        );

        // GetCompact normalisation: a mantissa with its top bit set moves a
        // byte right. 0x80 is 0x0080 << 0 with exponent 2.
        let t = Target(U256::from_u64(0x80));
        assert_eq!(t.to_compact().to_consensus(), 0x0200_8000);
        assert_eq!(Target::MAX.to_compact().to_consensus(), 0x2100_ffff);
        assert_eq!(Target::HARDEST.to_compact().to_consensus(), 0x0101_0000);
        assert_eq!(
            Target(U256::from_u64(0x1234_5678))
                .to_compact()
                .to_consensus(),
            0x0412_3456
        );
    }

    #[test]
    fn compact_rejects_bad_values() {
        let c = CompactTarget::from_consensus;
        assert_eq!(
            c(0x0180_0000).to_target(),
            Err(CompactTargetError::Zero(c(0x0180_0000)))
        );
        assert_eq!(
            c(0x0480_0001).to_target(),
            Err(CompactTargetError::Negative(c(0x0480_0001)))
        );
        assert_eq!(
            c(0x1d80_ffff).to_target(),
            Err(CompactTargetError::Negative(c(0x1d80_ffff)))
        );
        // Exponent < 3 shifts the low mantissa bytes out before the sign test.
        assert_eq!(
            c(0x0180_3456).to_target(),
            Err(CompactTargetError::Zero(c(0x0180_3456)))
        );
        assert_eq!(
            c(0x0192_3456).to_target(),
            Err(CompactTargetError::Negative(c(0x0192_3456)))
        );
        assert_eq!(
            c(0x0000_0000).to_target(),
            Err(CompactTargetError::Zero(c(0)))
        );
        assert_eq!(
            c(0x2200_0000).to_target(),
            Err(CompactTargetError::Zero(c(0x2200_0000)))
        );
        assert_eq!(
            c(0xff12_3456).to_target(),
            Err(CompactTargetError::Overflow(c(0xff12_3456)))
        );
        assert_eq!(
            c(0x2101_0000).to_target(),
            Err(CompactTargetError::Overflow(c(0x2101_0000)))
        );
        assert_eq!(
            c(0x2201_0000).to_target(),
            Err(CompactTargetError::Overflow(c(0x2201_0000)))
        );
        assert_eq!(
            c(0x2300_0001).to_target(),
            Err(CompactTargetError::Overflow(c(0x2300_0001)))
        );
        // Largest encodable values at each byte boundary still decode.
        assert_eq!(c(0x2100_ffff).to_target().map(|t| t.0.bits()), Ok(256));
        assert_eq!(c(0x2200_00ff).to_target().map(|t| t.0.bits()), Ok(256));
        assert_eq!(c(0x2000_0001).to_target(), Ok(Target(pow2(232))));
        for err in [
            CompactTargetError::Negative(c(0x0480_0001)),
            CompactTargetError::Overflow(c(0xff12_3456)),
            CompactTargetError::Zero(c(0)),
        ] {
            assert!(err.to_string().starts_with("compact target 0x"));
        }
    }

    #[test]
    fn compact_rounds_down_and_round_trips() {
        let mut rng = XorShift(2024);
        for _ in 0..3000 {
            let t = Target(rng.next_u256());
            if t.0.is_zero() {
                continue;
            }
            let c = t.to_compact();
            let back = c.to_target().unwrap();
            assert!(back <= t);
            // Truncation drops only the bytes below the mantissa.
            let size = c.to_consensus() >> 24;
            let dropped = 8 * size.saturating_sub(3);
            assert!(t.0.checked_sub(back.0).unwrap() < pow2(dropped));
            // Canonical compacts survive a decode/encode cycle.
            assert_eq!(back.to_compact(), c);
            // An exactly representable target comes back unchanged.
            assert_eq!(back.to_compact().to_target(), Ok(back));
        }
        let mut exact = 0u32;
        for _ in 0..3000 {
            let bits = rng.next() as u32;
            let c = CompactTarget::from_consensus(bits & 0x22ff_ffff);
            if let Ok(t) = c.to_target() {
                let again = t.to_compact();
                assert_eq!(again.to_target(), Ok(t));
                if again == c {
                    exact += 1;
                }
            }
        }
        assert!(exact > 0);
        let rounded =
            target_from_hex("00000000ffffffff000000000000000000000000000000000000000000000000");
        let c = rounded.to_compact();
        assert_eq!(c.to_consensus(), 0x1d00_ffff);
        assert!(c.to_target().unwrap() < rounded);
    }

    #[test]
    fn scale_is_exact() {
        let mut rng = XorShift(5);
        for _ in 0..5000 {
            let t = u128::from(rng.next()) >> (rng.next() % 64);
            let num = rng.next() >> (rng.next() % 64);
            let den = (rng.next() >> (rng.next() % 64)).max(1);
            let expected = u128::from(num).checked_mul(t).map(|p| p / u128::from(den));
            let Some(expected) = expected else { continue };
            let got = Target(U256::from_u128(t)).scale(num, den).unwrap();
            assert_eq!(got.0.to_u128(), Some(expected));
        }
        // Wide values: scaled * den + rem reconstructs the exact product.
        for _ in 0..1000 {
            let t = Target(rng.next_u256());
            let num = rng.next() >> (rng.next() % 64);
            let den = (rng.next() >> (rng.next() % 64)).max(1);
            let got = t.scale(num, den).unwrap();
            let (low, high) = t.0.widening_mul_u64(num);
            if got == Target::MAX && high >= den {
                continue;
            }
            let (q, _) = U256::div_wide_u64(high, low, den);
            assert_eq!(got.0, q);
            let (back, carry) = got.0.widening_mul_u64(den);
            assert!(carry < high || (carry == high && back <= low));
        }
    }

    #[test]
    fn scale_factors_and_saturation() {
        let t = Target::from_leading_zero_bits(32).unwrap();
        assert_eq!(t.scale(1, 4), Ok(Target(t.0.shr_bits(2))));
        assert_eq!(t.scale(4, 1), Ok(Target(t.0.shl_bits(2))));
        assert_eq!(t.scale(3, 3), Ok(t));
        assert_eq!(Target::MAX.scale(2, 1), Ok(Target::MAX));
        assert_eq!(Target::MAX.scale(u64::MAX, 1), Ok(Target::MAX));
        assert_eq!(Target::MAX.scale(u64::MAX, u64::MAX), Ok(Target::MAX));
        assert_eq!(Target::MAX.scale(1, 2), Ok(Target(U256::MAX.shr_bits(1))));
        let half = Target(pow2(255));
        assert_eq!(half.scale(2, 1), Ok(Target::MAX));
        assert_eq!(
            half.scale(3, 2),
            Ok(Target(U256::from_u64(3).shl_bits(254)))
        );
        assert_eq!(half.scale(5, 2), Ok(Target::MAX));
        let just_under = Target(pow2(255).checked_sub(U256::ONE).unwrap());
        assert_eq!(
            just_under.scale(2, 1),
            Ok(Target(U256::MAX.checked_sub(U256::ONE).unwrap()))
        );
        assert_eq!(t.scale(0, 5), Ok(Target(U256::ZERO)));
        assert_eq!(t.scale(1, 0), Err(ScaleError::ZeroDenominator));
    }

    #[test]
    fn serde_forms() {
        let c = CompactTarget::from_consensus(0x1d00_ffff);
        assert_eq!(serde_json::to_string(&c).unwrap(), "486604799");
        assert_eq!(
            serde_json::from_str::<CompactTarget>("486604799").unwrap(),
            c
        );

        let t = c.to_target().unwrap();
        let json = serde_json::to_string(&t).unwrap();
        let bytes: [u8; 32] = serde_json::from_str(&json).unwrap();
        assert_eq!(bytes, t.to_be_bytes());
        assert_eq!(serde_json::from_str::<Target>(&json).unwrap(), t);

        let w = t.work();
        let json = serde_json::to_string(&w).unwrap();
        let bytes: [u8; 32] = serde_json::from_str(&json).unwrap();
        assert_eq!(bytes, w.to_be_bytes());
        assert_eq!(serde_json::from_str::<Work>(&json).unwrap(), w);
    }
}
