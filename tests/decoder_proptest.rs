//! Property test of the wire decoder (issue 10, fuzzing): arbitrary bytes, and valid frames
//! of every message kind after random mutations, never panic the frame decoder; every
//! frame it refuses comes with a reason, and every message it accepts re-encodes to
//! itself. The AFL targets in `fuzz/` (the book's Operating › Fuzzing) push the same
//! properties through millions of inputs; this keeps them checked on every `cargo test`, in
//! well under a second.

use ironchain::net::frame::encode_frame;
use ironchain::net::fuzzing::{decode_stream, every_kind, sample_codec};
use ironchain::net::message::Message;
use proptest::prelude::*;
use std::sync::OnceLock;

/// Valid frames of every message kind, built once.
fn valid_frames() -> &'static [Vec<u8>] {
    static FRAMES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FRAMES.get_or_init(|| {
        every_kind()
            .into_iter()
            .map(|(_, message)| encode_frame(message).expect("a sample encodes"))
            .collect()
    })
}

/// The properties every decode of any input must have.
fn check_stream(stream: &[u8], chunk: usize) -> Result<(), TestCaseError> {
    for item in decode_stream(sample_codec(), stream, chunk) {
        match item {
            Ok(message) => {
                let frame = encode_frame(message.clone()).expect("a decoded message encodes");
                let again = decode_stream(sample_codec(), &frame, frame.len());
                prop_assert_eq!(again, vec![Ok::<Message, String>(message)]);
            }
            Err(reason) => prop_assert!(!reason.trim().is_empty(), "a refusal without a reason"),
        }
    }
    Ok(())
}

/// One edit of a frame; positions are taken modulo the frame's length.
#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Set { at: usize, byte: u8 },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn apply(frame: &mut Vec<u8>, mutation: &Mutation) {
    if frame.is_empty() {
        return;
    }
    let at = |at: usize| at % frame.len();
    match *mutation {
        Mutation::Flip { at: i, bit } => {
            let i = at(i);
            frame[i] ^= 1 << bit;
        }
        Mutation::Set { at: i, byte } => {
            let i = at(i);
            frame[i] = byte;
        }
        Mutation::Insert { at: i, byte } => {
            let i = at(i);
            frame.insert(i, byte);
        }
        Mutation::Remove { at: i } => {
            let i = at(i);
            frame.remove(i);
        }
        Mutation::Truncate { at: i } => {
            let i = at(i);
            frame.truncate(i);
        }
    }
}

/// Keeps a mutated frame's length prefix pointing at its body (when the mutation did not
/// aim at the prefix), so that most cases exercise message decoding, not only framing.
fn fix_length(frame: &mut [u8]) {
    if let Some(body) = frame.len().checked_sub(4) {
        let length = u32::try_from(body).unwrap_or(u32::MAX);
        frame[..4].copy_from_slice(&length.to_be_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_and_refusals_say_why(
        stream in proptest::collection::vec(any::<u8>(), 0..600),
        chunk in 1usize..64,
    ) {
        check_stream(&stream, chunk)?;
    }

    #[test]
    fn arbitrary_bodies_behind_a_valid_length_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut frame = vec![0; 4];
        frame.extend_from_slice(&body);
        fix_length(&mut frame);
        check_stream(&frame, frame.len())?;
    }

    #[test]
    fn mutated_valid_frames_never_panic_and_refusals_say_why(
        kind in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
        keep_length in any::<bool>(),
        chunk in 1usize..512,
    ) {
        let frames = valid_frames();
        let mut frame = frames[kind.index(frames.len())].clone();
        for mutation in &mutations {
            apply(&mut frame, mutation);
        }
        if keep_length {
            fix_length(&mut frame);
        }
        check_stream(&frame, chunk)?;
    }
}

#[test]
fn every_valid_frame_decodes_to_its_message() {
    for (name, message) in every_kind() {
        let frame = encode_frame(message.clone()).expect("a sample encodes");
        assert_eq!(
            decode_stream(sample_codec(), &frame, 3),
            vec![Ok(message)],
            "{name}"
        );
    }
}

#[test]
fn a_truncated_frame_is_refused_with_a_reason_at_the_end_of_the_stream() {
    let frame = &valid_frames()[0];
    let items = decode_stream(sample_codec(), &frame[..frame.len() - 1], 16);
    match items.as_slice() {
        [Err(reason)] => assert!(!reason.is_empty()),
        other => panic!("expected one refusal, got {other:?}"),
    }
}
