//! The book in `docs/` cannot fall behind the code or break: every internal link leads to
//! a file and heading that exist; every chapter is in `SUMMARY.md`; every consensus rule
//! (a `TxError` or `BlockError` variant) has its section in Protocol and rules › Consensus
//! rules, and every wire message its section in › Wire protocol; and the golden vectors
//! the Encodings chapter shows are the ones `tests/golden_vectors.rs` pins. (`mdbook build
//! docs`, run by `.ci/run`, checks that the book builds; this checks what it does not.)

mod book_common;

use book_common::{pages, root};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The link targets of a page, outside code.
fn links(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in page.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Inline code is not a link: `[8](s·B − k·A − R)` is an equation.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

/// The anchor mdBook gives a heading.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

fn anchors(page: &str) -> BTreeSet<String> {
    let mut fenced = false;
    page.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
            }
            !fenced && line.starts_with('#')
        })
        .map(|line| anchor(line.trim_start_matches('#').trim()))
        .collect()
}

#[test]
fn every_internal_link_leads_to_a_page_and_heading_that_exist() {
    let mut dead = Vec::new();
    for page in pages() {
        let text = read(&page);
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, heading) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !target.exists() {
                dead.push(format!("{}: {link} (no such file)", page.display()));
            } else if !heading.is_empty() && !anchors(&read(&target)).contains(heading) {
                dead.push(format!("{}: {link} (no such heading)", page.display()));
            }
        }
    }
    assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
}

#[test]
fn every_chapter_is_in_the_summary() {
    let src = root().join("docs/src");
    let summary = read(&src.join("SUMMARY.md"));
    let listed: BTreeSet<PathBuf> = links(&summary).iter().map(|l| src.join(l)).collect();
    let missing: Vec<_> = pages()
        .into_iter()
        .filter(|p| p.starts_with(&src) && !p.ends_with("SUMMARY.md") && !listed.contains(p))
        .collect();
    assert!(missing.is_empty(), "not in SUMMARY.md: {missing:?}");
}

/// The variant names of `pub enum NAME` in a Rust source file.
fn variants(source: &str, name: &str) -> Vec<String> {
    let start = source
        .find(&format!("pub enum {name} {{"))
        .unwrap_or_else(|| panic!("no enum {name}"));
    let body = &source[start..];
    let body = &body[..body.find("\n}").unwrap()];
    body.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("    ")?;
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric()).collect();
            let after = &rest[name.len()..];
            let is_variant = name.starts_with(|c: char| c.is_ascii_uppercase())
                && (after.starts_with([',', ' ', '(']) || after.is_empty());
            is_variant.then_some(name)
        })
        .collect()
}

fn assert_sections(chapter: &str, names: &[String], what: &str) {
    let headings = anchors(&read(&root().join(chapter)));
    assert!(names.len() > 5, "found only {names:?}");
    let missing: Vec<_> = names
        .iter()
        .filter(|name| !headings.contains(&anchor(name)))
        .collect();
    assert!(
        missing.is_empty(),
        "{chapter} has no section for the {what} {missing:?}"
    );
}

#[test]
fn every_consensus_rule_has_its_section() {
    let source = read(&root().join("src/consensus/error.rs"));
    let mut rules = variants(&source, "TxError");
    rules.extend(variants(&source, "BlockError"));
    assert_sections("docs/src/protocol/rules.md", &rules, "rules");
}

#[test]
fn every_wire_message_has_its_section() {
    let source = read(&root().join("src/net/message.rs"));
    assert_sections(
        "docs/src/protocol/wire.md",
        &variants(&source, "Message"),
        "messages",
    );
}

#[test]
fn the_encodings_chapter_shows_the_pinned_golden_vectors() {
    let vectors = read(&root().join("tests/golden_vectors.rs"));
    let chapter = read(&root().join("docs/src/protocol/encodings.md"));
    for name in [
        "HEADER_HEX",
        "TRANSFER_HEX",
        "TXID_HEX",
        "DEFAULT_GENESIS_HEX",
        "ADDRESS_TEXT",
    ] {
        let at = vectors
            .find(&format!("const {name}: &str ="))
            .unwrap_or_else(|| panic!("no {name} in tests/golden_vectors.rs"));
        let value = vectors[at..].split('"').nth(1).unwrap();
        assert!(
            chapter.contains(value),
            "docs/src/protocol/encodings.md does not show {name} = {value}"
        );
    }
}
