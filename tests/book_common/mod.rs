//! What the tests of the docs share: the Markdown pages of the book and the top level.

use std::path::{Path, PathBuf};

/// The repository's top directory.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every Markdown file of the book (`docs/src`) and the top-level pages that link into
/// it, sorted.
pub fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut pages = Vec::new();
    walk(&root().join("docs/src"), &mut pages);
    for top in ["README.md", "ARCHITECTURE.md", "CHANGELOG.md"] {
        pages.push(root().join(top));
    }
    pages.sort();
    pages
}
