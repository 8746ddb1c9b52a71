//! `nomad-double`: runs the Nomad API **test double** as a standalone process, for
//! end-to-end runs on machines without Nomad. Not a Nomad server.
//!
//! ```text
//! nomad-double [--addr 127.0.0.1:4646] [--scenario NAME] [--step-ms 100]
//!              [--token SECRET] [--delay-ms N] [--region R]...
//! ```
//! Scenarios: `happy-path` (default), `placement-failure`, `next-eval-chain`,
//! `failed-with-auto-revert`, `canary-awaiting-promotion`. The base URL is printed on
//! standard output; the process runs until it is killed.

use std::time::Duration;

use api_double::{Life, NomadDouble, Scenario};

fn life(name: &str) -> Option<Life> {
    Some(match name {
        "happy-path" => Life::HappyPath,
        "placement-failure" => Life::PlacementFailure,
        "next-eval-chain" => Life::NextEvalChain {
            wait: Duration::from_secs(1),
        },
        "failed-with-auto-revert" => Life::FailedWithAutoRevert,
        "canary-awaiting-promotion" => Life::CanaryAwaitingPromotion,
        _ => return None,
    })
}

fn parse(args: &[String]) -> Result<(String, Scenario), String> {
    let mut addr = "127.0.0.1:4646".to_string();
    let mut scenario = Scenario::happy_path();
    let mut regions = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        let millis = |v: String| {
            v.parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|e| format!("{flag}: {e}"))
        };
        match flag.as_str() {
            "--addr" => addr = value()?,
            "--scenario" => {
                let name = value()?;
                scenario.life = life(&name).ok_or(format!("unknown scenario {name}"))?;
            }
            "--step-ms" => scenario.step = millis(value()?)?,
            "--delay-ms" => scenario.delay = Some(millis(value()?)?),
            "--token" => scenario.acl_token = Some(value()?),
            "--region" => regions.push(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !regions.is_empty() {
        scenario.regions = regions;
    }
    Ok((addr, scenario))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (addr, scenario) = match parse(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("nomad-double: {e}");
            std::process::exit(1);
        }
    };
    match NomadDouble::start_on(&addr, scenario) {
        Ok(double) => {
            println!("{}", double.address());
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("nomad-double: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    }
}
