//! The `shipwarden` binary; everything is in the `shipwarden_cli` library.

fn main() -> std::process::ExitCode {
    shipwarden_cli::main()
}
