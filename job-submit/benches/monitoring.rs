//! What following a deployment costs: `job-submit` against the API double
//! with a deployment that takes 10 s. Prints the figures (run with
//! `cargo bench -p job-submit`); asserts nothing.
//!
//! Targets (issue 3): at most 12 HTTP requests in all, under 20 ms of
//! client CPU time. CPU time is read by GNU time (`/usr/bin/time`, Debian
//! package `time`), which reports the child's user and system time.

use std::process::Command;
use std::time::{Duration, Instant};

use api_double::{job_json, NomadDouble, Scenario};

/// The double's happy life moves one state per step; its deployment lives
/// two steps (placed, then healthy), so 5 s steps make a 10 s deployment.
const STEP: Duration = Duration::from_secs(5);
const RUNS: usize = 3;

struct Figures {
    wall: Duration,
    cpu: Option<Duration>,
    requests: usize,
    status: String,
}

fn one_run(job_file: &std::path::Path) -> Figures {
    let nomad = NomadDouble::start(Scenario::happy_path().with_step(STEP));
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .args(["-f", "cpu %U %S"])
        .arg(env!("CARGO_BIN_EXE_job-submit"))
        .args(["--compact", "--address", &nomad.address()])
        .arg(job_file)
        .env_remove("NOMAD_TOKEN")
        .output()
        .expect("run job-submit under /usr/bin/time (apt-get install time)");
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let cpu = stderr.lines().rev().find_map(|line| {
        let rest = line.strip_prefix("cpu ")?;
        let mut parts = rest.split_whitespace().map(|s| s.parse::<f64>().ok());
        let (user, system) = (parts.next()??, parts.next()??);
        Some(Duration::from_secs_f64(user + system))
    });
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    Figures {
        wall,
        cpu,
        requests: nomad.requests().len(),
        status: report["status"].as_str().unwrap_or("?").to_owned(),
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let job_file = dir.path().join("job.json");
    let job = serde_json::json!({ "Job": job_json("bench", &[("web", 1)]) });
    std::fs::write(&job_file, job.to_string()).expect("write the job");

    println!("job-submit monitoring cost: a 10 s deployment on the API double");
    println!(
        "{:<5} {:>9} {:>10} {:>9}  status",
        "run", "wall s", "requests", "CPU ms"
    );
    let mut worst_requests = 0;
    let mut worst_cpu = Duration::ZERO;
    for run in 1..=RUNS {
        let f = one_run(&job_file);
        worst_requests = worst_requests.max(f.requests);
        let cpu = f.cpu.map_or_else(
            || "n/a".to_owned(),
            |c| format!("{:.1}", c.as_secs_f64() * 1000.0),
        );
        if let Some(c) = f.cpu {
            worst_cpu = worst_cpu.max(c);
        }
        println!(
            "{run:<5} {:>9.2} {:>10} {:>9}  {}",
            f.wall.as_secs_f64(),
            f.requests,
            cpu,
            f.status
        );
    }
    println!();
    println!(
        "worst requests: {worst_requests} (target <= 12: {})",
        if worst_requests <= 12 {
            "met"
        } else {
            "NOT met"
        }
    );
    // GNU time reports CPU in 10 ms units on most systems: 0.00 means under 10 ms.
    println!(
        "worst client CPU: {:.0} ms (target < 20 ms: {}; GNU time resolution is 10 ms)",
        worst_cpu.as_secs_f64() * 1000.0,
        if worst_cpu < Duration::from_millis(20) {
            "met"
        } else {
            "NOT met"
        }
    );
}
