//! The `gouvgen` command line.

fn main() -> std::process::ExitCode {
    gouvgen_cli::main()
}
