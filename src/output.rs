//! Standard output for the command line. `println!` panics when stdout is a closed pipe
//! (`ironchain block 5 --json | head -c 100`); a command whose reader has gone should
//! just end, and any other failure to write (a full disk) should say so in one line.

use std::fmt;
use std::io::{ErrorKind, Write};

/// Writes one line to stdout, as `println!` does; see the module comment for failures.
pub fn write_line(args: fmt::Arguments) {
    let mut out = std::io::stdout().lock();
    if let Err(error) = writeln!(out, "{args}").and_then(|()| out.flush()) {
        if error.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {error}");
        std::process::exit(1);
    }
}

/// `println!` for the command line's output: see [`write_line`].
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}
