//! Counted nouns for people: "1 transaction", "2 transactions", never "1 transactions"
//! or "transaction(s)". One helper, so every message of the node, the launcher and the
//! client agrees.

/// `n` followed by `one` when `n` is 1, otherwise by `many`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(count(1, "node", "nodes"), "1 node");
        assert_eq!(count(0, "node", "nodes"), "0 nodes");
        assert_eq!(
            count(2, "sibling hash", "sibling hashes"),
            "2 sibling hashes"
        );
    }
}
