//! `cargo xtask serve --target T --listen ADDR --token TOK`: builds the
//! in-target agent for `T` and runs `exitmatrix-agent serve` under `T`'s
//! local runner (qemu-user, Wine), in the foreground until it is ended,
//! so that `test-matrix --target T --remote ADDR --token TOK` can be tried
//! on one machine. The words come from
//! `exitmatrix::engine::remote::serve_command`; under Wine this command
//! holds the shared prefix's lock (`wine-run.lock`) while the server runs,
//! so Windows runs elsewhere wait for it (with `--print`, the printed
//! command runs without that hold).

use clap::Args;
use exitmatrix::engine::remote;
use exitmatrix::pure::target;

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The target whose agent serves.
    #[arg(long)]
    target: String,
    /// Where to listen; loopback unless you mean otherwise (the server is
    /// for trusted networks: anyone with the token may run programs).
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: String,
    /// The token clients must give.
    #[arg(long, env = "EXITMATRIX_REMOTE_TOKEN")]
    token: String,
    /// Only print the command line that would start the server.
    #[arg(long)]
    print: bool,
}

/// Runs `serve`; returns the exit code (the server's own, or 2 to 7 as
/// `test-matrix` would for a preparation failure).
pub fn run(args: &ServeArgs) -> u8 {
    let spec = match target::spec(&args.target) {
        Ok(Some(spec)) => spec,
        Ok(None) => {
            eprintln!("error: unknown target `{}`", args.target);
            return 2;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return 4;
        }
    };
    let target_dir = exitmatrix::toolchain::probes::workspace_root().join("target");
    // Under Wine, `serve.wine` holds the shared prefix until the server
    // has ended (dropped at the end of this function).
    let serve = match remote::serve_command(spec, &args.listen, &args.token, None, &target_dir) {
        Ok(serve) => serve,
        Err(e) => {
            eprintln!("error: {e}");
            return e.exit_code().code();
        }
    };
    let words = &serve.words;
    if args.print {
        println!("{}", words.join(" "));
        return 0;
    }
    eprintln!("starting: {}", words.join(" "));
    #[expect(clippy::disallowed_methods, reason = "starts the server, not a probe")]
    let status = std::process::Command::new(&words[0])
        .args(&words[1..])
        .env_clear()
        .status();
    match status {
        Ok(s) => s.code().map_or(1, |c| u8::try_from(c).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: cannot start {}: {e}", words[0]);
            1
        }
    }
}
