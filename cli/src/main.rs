//! The `shipwarden` command line. Issue #4 builds its verbs; today it prints
//! the default policy, so the procedure's numbers can be read.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["policy", "show"] => {
            print!("{}", shipwarden::Policy::default().to_toml());
            ExitCode::SUCCESS
        }
        ["policy", "graph"] => {
            print!("{}", shipwarden::Policy::default().to_mermaid());
            ExitCode::SUCCESS
        }
        ["--version"] => {
            println!("shipwarden {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: shipwarden policy show | policy graph | --version");
            ExitCode::from(2)
        }
    }
}
