//! Real registry clients (skopeo, podman, umoci, a Docker engine started by hand) as tests run
//! them: each with a scratch HOME, Docker config and containers auth file, so no login leaks in
//! or out, every command bounded by a timeout. Without a client a test says so and passes,
//! unless `HANGAR_TEST_REQUIRE_ALL=1`: then it fails.

use super::{Server, Stores, path_str};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every client command is bounded by this many seconds.
pub const CLIENT_TIMEOUT: &str = "300";
pub fn require_all() -> bool {
    std::env::var("HANGAR_TEST_REQUIRE_ALL").as_deref() == Ok("1")
}

/// Whether `program` is installed; a missing one fails the test under `HANGAR_TEST_REQUIRE_ALL=1`.
pub fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !require_all(),
            "HANGAR_TEST_REQUIRE_ALL=1 but {program} is not installed (see .ci/run, scripts/test-services install)"
        );
        eprintln!("note: {program} is not installed; skipping");
    }
    found
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

pub fn host(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

pub fn creds(key: &str) -> String {
    format!("$oauthtoken:{key}")
}

/// Where client commands keep their state: a scratch HOME, `DOCKER_CONFIG` and
/// `REGISTRY_AUTH_FILE` inside the test's temporary folder.
pub struct Clients {
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Clients {
    pub fn new(stores: &Stores) -> Clients {
        let dir = stores.dir.path().join("clients");
        let home = dir.join("home");
        let docker_config = dir.join("docker-config");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&docker_config).unwrap();
        let env = vec![
            ("HOME".to_string(), path_str(&home).to_string()),
            ("DOCKER_CONFIG".into(), path_str(&docker_config).to_string()),
            (
                "REGISTRY_AUTH_FILE".into(),
                path_str(&dir.join("auth.json")).to_string(),
            ),
        ];
        Clients { dir, env }
    }

    /// Runs a client command (bounded by `timeout`), `stdin` fed to it; returns (success,
    /// stdout, stderr).
    pub fn run_with(&self, program: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        use std::io::Write;
        let mut child = Command::new("timeout")
            .arg(CLIENT_TIMEOUT)
            .arg(program)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().expect("client output");
        let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    pub fn run(&self, program: &str, args: &[&str]) -> (bool, String, String) {
        self.run_with(program, args, None)
    }

    /// podman as root without a systemd: its own storage (vfs: no overlay mounts) under the
    /// clients' folder, cgroupfs and a file for events.
    pub fn podman(&self, args: &[&str]) -> (bool, String, String) {
        self.podman_in("podman", &self.dir, args)
    }

    /// `program` (a podman) as [`Clients::podman`] runs it, with its storage under `storage`.
    pub fn podman_in(&self, program: &str, storage: &Path, args: &[&str]) -> (bool, String, String) {
        let (root, runroot) = (storage.join("podman-root"), storage.join("podman-run"));
        let mut all = vec![
            "--root",
            path_str(&root),
            "--runroot",
            path_str(&runroot),
            "--storage-driver",
            "vfs",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "file",
        ];
        all.extend(args);
        self.run(program, &all)
    }

    pub fn ok(&self, program: &str, args: &[&str]) -> String {
        let (ok, out, err) = self.run(program, args);
        assert!(ok, "{program} {args:?} failed:\n{out}\n{err}");
        out
    }
}

/// A Docker engine of its own, stopped when dropped (also when the test panics).
pub struct Dockerd {
    child: Child,
    socket: String,
    dir: PathBuf,
}

impl Dockerd {
    pub fn start(dir: &Path, clients: &Clients) -> Dockerd {
        let socket = path_str(&dir.join("docker.sock")).to_string();
        let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
        // An empty daemon.json: nothing of the machine's Docker settings applies.
        let config = dir.join("daemon.json");
        std::fs::write(&config, "{}").unwrap();
        let child = Command::new("dockerd")
            .args([
                "--config-file",
                path_str(&config),
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--userland-proxy=false",
                "--storage-driver=vfs",
                "--data-root",
                path_str(&dir.join("data")),
                "--exec-root",
                path_str(&dir.join("exec")),
                "--pidfile",
                path_str(&dir.join("docker.pid")),
                "-H",
                &format!("unix://{socket}"),
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start dockerd");
        let mut engine = Dockerd {
            child,
            socket,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if engine.docker(clients, &["version"], None).0 {
                return engine;
            }
            if let Ok(Some(status)) = engine.child.try_wait() {
                let log = std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default();
                panic!("dockerd exited with {status}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let log = std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default();
        panic!("dockerd did not come up within 60 s:\n{log}");
    }

    pub fn docker(&self, clients: &Clients, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        let host = format!("unix://{}", self.socket);
        let mut all = vec!["-H", host.as_str()];
        all.extend(args);
        clients.run_with("docker", &all, stdin)
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        // SIGTERM lets dockerd stop the containerd it started; SIGKILL if it takes too long.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        for _ in 0..60 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Killed outright, dockerd leaves its containerd behind: end that one too (checked by
        // its command line, which names this engine's folder).
        let pid_file = self.dir.join("exec/containerd/containerd.pid");
        if let Ok(pid) = std::fs::read_to_string(pid_file) {
            let pid = pid.trim();
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(path_str(&self.dir)) {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
    }
}

/// Whether this machine may run the Docker engine test: dockerd installed, and root.
/// `HANGAR_TEST_SKIP_DOCKER=<reason>` skips it on purpose, loudly.
pub fn docker_available() -> bool {
    if let Some(reason) = std::env::var("HANGAR_TEST_SKIP_DOCKER").ok().filter(|r| !r.is_empty()) {
        eprintln!("\n*** SKIPPED: the Docker engine test (HANGAR_TEST_SKIP_DOCKER={reason}) ***\n");
        return false;
    }
    if !have("dockerd") || !have("docker") || !have("skopeo") {
        return false;
    }
    if !is_root() {
        assert!(
            !require_all(),
            "HANGAR_TEST_REQUIRE_ALL=1 but the Docker engine test needs root (or set HANGAR_TEST_SKIP_DOCKER=reason)"
        );
        eprintln!("note: the Docker engine test needs root; skipping");
        return false;
    }
    true
}
