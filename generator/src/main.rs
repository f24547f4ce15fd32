//! The `gouvgen` command line.

fn main() -> std::process::ExitCode {
    gouvgen::cli::main()
}
