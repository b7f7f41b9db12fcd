//! Writes the seed corpus of the three targets into `corpus/<target>/`, from real
//! encodings: one frame and one message body of every message kind
//! (`ironchain::net::fuzzing`), and the chain target's seeds. Run from `fuzz/`:
//! `cargo afl build --release && target/release/seed_corpus`.

use ironchain::net::frame::encode_frame;
use std::fs;
use std::path::Path;

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).expect("corpus directory");
    fs::write(dir.join(name), bytes).expect("seed file");
}

fn main() {
    let root = Path::new("corpus");
    let samples = ironchain::net::fuzzing::every_kind();
    for (name, message) in &samples {
        let frame = encode_frame(message.clone()).expect("a sample encodes");
        // The frame target's first byte is the read size minus one: whole frames at once.
        write(
            &root.join("frame"),
            name,
            &[&[u8::MAX][..], &frame].concat(),
        );
        write(&root.join("message"), name, &frame[4..]);
    }
    // Two frames in one stream arriving 3 bytes per read: split prefixes and bodies.
    let stream: Vec<u8> = samples
        .iter()
        .filter(|(name, _)| ["ping", "get_blocks"].contains(name))
        .flat_map(|(_, message)| encode_frame(message.clone()).expect("a sample encodes"))
        .collect();
    write(
        &root.join("frame"),
        "two_frames_split",
        &[&[2u8][..], &stream].concat(),
    );
    for (name, bytes) in ironchain_fuzz::chain_seeds() {
        write(&root.join("chain"), name, &bytes);
    }
    println!("wrote the seed corpus under {}", root.display());
}
