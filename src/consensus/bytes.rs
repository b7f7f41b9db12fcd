//! Serde helpers that encode fixed-size byte arrays as one CBOR byte string.
//!
//! Serde's default for `[u8; N]` is a sequence of N integers, which costs up to twice the
//! bytes on the wire and cannot express arrays longer than 32 (signatures are 64 bytes).

use serde::de::{Error, Visitor};
use serde::{Deserializer, Serializer};
use std::fmt;

/// Serializes a byte array as a single byte string.
pub fn serialize<S: Serializer, const N: usize>(
    bytes: &[u8; N],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_bytes(bytes)
}

/// Deserializes a byte string of exactly `N` bytes; any other length is an error.
pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
    deserializer: D,
) -> Result<[u8; N], D::Error> {
    deserializer.deserialize_bytes(ArrayVisitor::<N>)
}

struct ArrayVisitor<const N: usize>;

impl<'de, const N: usize> Visitor<'de> for ArrayVisitor<N> {
    type Value = [u8; N];

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "a byte string of exactly {N} bytes")
    }

    fn visit_bytes<E: Error>(self, value: &[u8]) -> Result<Self::Value, E> {
        value
            .try_into()
            .map_err(|_| E::invalid_length(value.len(), &self))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Wrapper(#[serde(with = "super")] [u8; 64]);

    #[test]
    fn round_trips_and_rejects_wrong_length() {
        let original = Wrapper([7; 64]);
        let encoded = serde_cbor::to_vec(&original).unwrap();
        // 2 bytes of CBOR header + 64 bytes: one byte string, not 64 integers.
        assert_eq!(encoded.len(), 66);
        assert_eq!(
            serde_cbor::from_slice::<Wrapper>(&encoded).unwrap(),
            original
        );

        let short = serde_cbor::to_vec(&serde_cbor::Value::Bytes(vec![1; 63])).unwrap();
        assert!(serde_cbor::from_slice::<Wrapper>(&short).is_err());
    }
}
