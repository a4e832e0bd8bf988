//! The `hangar` client as a user runs it: its own settings folder, one server, an optional API
//! key and org from the environment, and nothing inherited from the caller's environment.

use super::{HANGAR, Server};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[derive(Clone)]
pub struct Cli {
    home: PathBuf,
    base: String,
    /// None: a guest, or a key given on the command line or in the settings file.
    key: Option<String>,
    org: Option<String>,
    /// Words put before every command, such as `registry image`.
    prefix: Vec<String>,
}

impl Cli {
    /// A client whose settings live in `home` (created if missing).
    pub fn new(server: &Server, home: &Path) -> Cli {
        std::fs::create_dir_all(home).expect("client home");
        Cli {
            home: home.to_path_buf(),
            base: server.base.clone(),
            key: None,
            org: None,
            prefix: Vec::new(),
        }
    }

    pub fn key(&self, key: &str) -> Cli {
        Cli {
            key: Some(key.to_string()),
            ..self.clone()
        }
    }

    pub fn org(&self, org: &str) -> Cli {
        Cli {
            org: Some(org.to_string()),
            ..self.clone()
        }
    }

    pub fn prefix(&self, words: &[&str]) -> Cli {
        Cli {
            prefix: words.iter().map(|w| w.to_string()).collect(),
            ..self.clone()
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(HANGAR);
        cmd.args(&self.prefix)
            .args(args)
            .env("HANGAR_HOME", &self.home)
            .env("HANGAR_BASE_URL", &self.base)
            .env("COLUMNS", "200")
            .env_remove("HANGAR_API_KEY")
            .env_remove("HANGAR_ORG")
            .env_remove("HANGAR_TEAM")
            .env_remove("HANGAR_FORMAT_TYPE")
            .stdin(Stdio::null());
        if let Some(key) = &self.key {
            cmd.env("HANGAR_API_KEY", key);
        }
        if let Some(org) = &self.org {
            cmd.env("HANGAR_ORG", org);
        }
        cmd
    }

    /// Starts the command without waiting (output discarded), to interrupt it.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run hangar")
    }

    /// Starts the command with `env` added and its output piped, to read when it ends.
    pub fn spawn_piped(&self, args: &[&str], env: &[(&str, &Path)]) -> std::process::Child {
        let mut cmd = self.command(args);
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run hangar")
    }

    pub fn output(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run hangar")
    }

    /// Runs with `input` on stdin.
    pub fn output_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run hangar");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait for hangar")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "hangar {:?} {args:?} failed:\n{stdout}\n{}",
            self.prefix,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Runs with `--format_type json` and expects success.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format_type", "json"]);
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("hangar {args:?}: not JSON ({e}): {out}"))
    }

    /// Runs and expects exit code 1 with a one-line error; returns it.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.output(args);
        self.failed(args, &out)
    }

    /// Checks that `out` is a clean failure: exit code 1 and an `Error: …` line at the end (a
    /// confirmation prompt may come before it).
    pub fn failed(&self, args: &[&str], out: &Output) -> String {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert_eq!(
            out.status.code(),
            Some(1),
            "hangar {:?} {args:?} should fail; stdout: {} stderr: {stderr}",
            self.prefix,
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            stderr.lines().last().is_some_and(|l| l.starts_with("Error: ")) && !stderr.contains("panicked"),
            "{stderr}"
        );
        stderr
    }
}
