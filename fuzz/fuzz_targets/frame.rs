//! AFL target: see `ironchain_fuzz::frame`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        ironchain_fuzz::frame(data);
    });
}
