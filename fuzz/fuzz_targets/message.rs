//! AFL target: see `ironchain_fuzz::message`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        ironchain_fuzz::message(data);
    });
}
