//! The `ironchain` binary: parses the command line and prints any failure as one line.

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = match ironchain::cli::parse(std::env::args_os()) {
        Ok(Ok(cli)) => cli,
        Ok(Err(help_or_version)) => help_or_version.exit(),
        Err(reason) => {
            eprintln!("error: {reason}");
            // 2, as clap exits on bad usage, so scripts can tell it from a failed command.
            std::process::exit(2);
        }
    };
    if let Err(reason) = ironchain::cli::run(cli) {
        eprintln!("error: {reason}");
        std::process::exit(1);
    }
}
