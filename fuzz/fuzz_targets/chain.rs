//! AFL target: see `ironchain_fuzz::chain`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        ironchain_fuzz::chain(data);
    });
}
