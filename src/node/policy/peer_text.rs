//! Text a peer or client sent (a rejection's reason, a refusal's reason), cut for a log
//! line: a peer can send a megabyte of reason, and writing it whole on every frame filled
//! gigabytes of log in seconds. Every site that logs peer-supplied text goes through
//! [`peer_text`].

use std::borrow::Cow;

/// Characters of peer-supplied text kept in a log line.
pub const MAX_LOGGED_CHARS: usize = 200;

/// `text` as it may appear in a log line: at most [`MAX_LOGGED_CHARS`] characters, with
/// control characters escaped (a peer must not be able to forge log lines with newlines),
/// and the length of what was cut.
pub fn peer_text(text: &str) -> Cow<'_, str> {
    let clean = |c: char| !c.is_control();
    if text.len() <= MAX_LOGGED_CHARS && text.chars().all(clean) {
        return Cow::Borrowed(text);
    }
    let mut kept = String::new();
    let mut chars = 0;
    for c in text.chars() {
        if chars >= MAX_LOGGED_CHARS {
            break;
        }
        if clean(c) {
            kept.push(c);
        } else {
            kept.extend(c.escape_default());
        }
        chars += 1;
    }
    if chars < text.chars().count() {
        kept.push_str(&format!("… ({} bytes in all)", text.len()));
    }
    Cow::Owned(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_and_long_text_is_cut_with_its_length() {
        assert_eq!(
            peer_text("genesis 1234 is not ours"),
            "genesis 1234 is not ours"
        );
        let long = "R".repeat(1 << 20);
        let cut = peer_text(&long);
        assert!(cut.len() < MAX_LOGGED_CHARS + 40, "{} bytes", cut.len());
        assert!(cut.ends_with("… (1048576 bytes in all)"), "{cut}");
    }

    #[test]
    fn newlines_cannot_forge_log_lines() {
        let cut = peer_text("ok\nINFO peer joined: 1.2.3.4");
        assert!(!cut.contains('\n'), "{cut}");
        assert!(cut.contains("\\n"), "{cut}");
    }
}
