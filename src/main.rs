//! The `ironchain` binary: parses the command line and prints any failure as one line.

fn main() {
    let mut logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    // actix-http logs every request it cannot parse at ERROR, one line per request: an
    // ironchain client pointed at the explorer's port, or anyone sending junk, would
    // write error lines at will. The sender is told (400), and nothing is wrong with the
    // node. Kept unless RUST_LOG names actix_http itself.
    if !std::env::var("RUST_LOG").is_ok_and(|filter| filter.contains("actix_http")) {
        logger.filter_module("actix_http::h1::dispatcher", log::LevelFilter::Off);
    }
    logger.init();
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
