//! `urlfilter up`: the operator's whole stack on loopback from one blocklist (issue #9). The
//! prefilter and the PIR database are built from the same canonical entries (`pir-server build`),
//! then pir-server (service + issuer, embedded key store) and ohttp-gateway run as child processes
//! on 127.0.0.1, exactly the binaries an operator deploys, with their state in one data directory
//! so a restart keeps evaluation keys, issuer keys and OHTTP keys: a device configured once keeps
//! working.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// The inner authority devices are configured with; the gateway's allow-list maps it to the
/// local pir-server.
pub const SERVICE_NAME: &str = "pir.localhost";

/// How to start the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The blocklist (one URL or host per line).
    pub blocklist: PathBuf,
    /// Where everything that must survive a restart lives.
    pub data_dir: PathBuf,
    /// The PIR use case (`<app bundle id>.url.filtering`).
    pub usecase: String,
    /// Where the `pir-server` and `ohttp-gateway` binaries are.
    pub bin_dir: PathBuf,
    /// Ports on 127.0.0.1; 0 picks free ones.
    pub service_port: u16,
    /// The gateway's public port.
    pub gateway_port: u16,
    /// How long each server may take to become ready.
    pub ready_timeout: Duration,
}

/// What a device (or an app's configuration) needs to use the running stack.
#[derive(Debug, Clone)]
pub struct StackInfo {
    /// The PIR service, reachable directly (no OHTTP).
    pub service_direct: String,
    /// The gateway resource (`POST`), what Apple's relay forwards to.
    pub gateway: String,
    /// The gateway's key configuration (`application/ohttp-keys`).
    pub key_config: String,
    /// pir-server's admin listener (`/healthz`, `/readyz`, `/metrics`, `/admin/reload`).
    pub service_admin: String,
    /// The gateway's admin listener.
    pub gateway_admin: String,
    /// The user token of the one configured user (tier1).
    pub user_token: String,
    /// The PIR use case.
    pub usecase: String,
    /// The data directory.
    pub data_dir: PathBuf,
}

/// The running stack; dropping it stops the children.
pub struct Stack {
    children: Vec<(&'static str, Child)>,
    /// How to reach it.
    pub info: StackInfo,
}

impl Stack {
    /// Builds the database if the blocklist changed, writes the configs, starts both servers and
    /// waits until both are ready.
    pub fn start(options: &StackOptions) -> anyhow::Result<Stack> {
        let data = &options.data_dir;
        std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
        let pir_server = binary(&options.bin_dir, "pir-server")?;
        let gateway = binary(&options.bin_dir, "ohttp-gateway")?;
        let logs = data.join("logs");
        std::fs::create_dir_all(&logs)?;

        build_if_changed(&pir_server, options)?;
        let user_token = user_token(data)?;

        let keys = data.join("ohttp-keys.json");
        if !keys.exists() {
            run(
                Command::new(&gateway)
                    .args(["keys", "init", "--keys-file"])
                    .arg(&keys),
                "ohttp-gateway keys init",
            )?;
        }

        let service = port_or_free(options.service_port)?;
        let service_admin = port_or_free(0)?;
        let gateway_port = port_or_free(options.gateway_port)?;
        let gateway_admin = port_or_free(0)?;
        let config = data.join("server.toml");
        std::fs::write(
            &config,
            server_toml(data, &options.usecase, service, service_admin),
        )?;

        let mut stack = Stack {
            children: Vec::new(),
            info: StackInfo {
                service_direct: format!("http://{service}"),
                gateway: format!("http://{gateway_port}/"),
                key_config: format!("http://{gateway_port}/ohttp-keys"),
                service_admin: format!("http://{service_admin}"),
                gateway_admin: format!("http://{gateway_admin}"),
                user_token,
                usecase: options.usecase.clone(),
                data_dir: data.clone(),
            },
        };
        let child = Command::new(&pir_server)
            .args(["serve", "--role", "all", "--config"])
            .arg(&config)
            .stdout(log_file(&logs, "pir-server.log")?)
            .stderr(log_file(&logs, "pir-server.log")?)
            .spawn()
            .context("starting pir-server")?;
        stack.children.push(("pir-server", child));
        stack.wait_ready(
            &format!("{}/readyz", stack.info.service_admin),
            options.ready_timeout,
            &logs.join("pir-server.log"),
        )?;

        let child = Command::new(&gateway)
            .args(["serve", "--keys-file"])
            .arg(&keys)
            .args(["--listen", &gateway_port.to_string()])
            .args(["--admin-listen", &gateway_admin.to_string()])
            .args(["--target", &format!("{SERVICE_NAME}=http://{service}")])
            .stdout(log_file(&logs, "ohttp-gateway.log")?)
            .stderr(log_file(&logs, "ohttp-gateway.log")?)
            .spawn()
            .context("starting ohttp-gateway")?;
        stack.children.push(("ohttp-gateway", child));
        stack.wait_ready(
            &format!("{}/readyz", stack.info.gateway_admin),
            options.ready_timeout,
            &logs.join("ohttp-gateway.log"),
        )?;
        Ok(stack)
    }

    fn wait_ready(&mut self, url: &str, timeout: Duration, log: &Path) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if http_get_ok(url) {
                return Ok(());
            }
            for (name, child) in &mut self.children {
                if let Ok(Some(status)) = child.try_wait() {
                    bail!(
                        "{name} exited with {status} before it was ready; see {}",
                        log.display()
                    );
                }
            }
            if Instant::now() > deadline {
                bail!("{url} not ready after {timeout:?}; see {}", log.display());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether every child still runs; the name of the first one that exited otherwise.
    pub fn exited(&mut self) -> Option<&'static str> {
        self.children
            .iter_mut()
            .find_map(|(n, c)| (!matches!(c.try_wait(), Ok(None))).then_some(*n))
    }

    /// Stops the children (SIGTERM, so they drain), waiting a bounded time before SIGKILL.
    pub fn stop(mut self) {
        self.stop_children();
    }

    fn stop_children(&mut self) {
        for (_, child) in self.children.iter().rev() {
            terminate(child.id());
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        for (_, child) in &mut self.children {
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop_children();
    }
}

fn terminate(pid: u32) {
    // SIGTERM lets the servers drain; std only offers SIGKILL.
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

fn binary(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        bail!(
            "{} not found; build the workspace's binaries first (cargo build --release --bins) \
             or pass --bin-dir",
            path.display()
        )
    }
}

fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let out = command
        .output()
        .with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Runs `pir-server build` when the blocklist's SHA-256 differs from the last build's.
fn build_if_changed(pir_server: &Path, options: &StackOptions) -> anyhow::Result<()> {
    let list = std::fs::read(&options.blocklist)
        .with_context(|| format!("reading {}", options.blocklist.display()))?;
    let digest = hex(&Sha256::digest(&list));
    let marker = options.data_dir.join("blocklist.sha256");
    let db = options.data_dir.join("db");
    let built = std::fs::read_to_string(&marker).unwrap_or_default();
    if built.trim() == digest && db.join(&options.usecase).is_dir() {
        return Ok(());
    }
    eprintln!(
        "building the prefilter and PIR database from {}",
        options.blocklist.display()
    );
    let out = Command::new(pir_server)
        .args(["build", "--quiet", "--urls"])
        .arg(&options.blocklist)
        .args(["--usecase", &options.usecase, "--out"])
        .arg(&db)
        .output()
        .context("running pir-server build")?;
    if !out.status.success() {
        bail!(
            "pir-server build failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    std::io::stderr().write_all(&out.stdout)?;
    std::fs::write(&marker, digest)?;
    Ok(())
}

/// The one user's token: random on first start, kept (0600) so devices stay configured.
fn user_token(data: &Path) -> anyhow::Result<String> {
    let path = data.join("user-token");
    let token = match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => t.trim().to_owned(),
        _ => {
            let mut bytes = [0u8; 24];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            write_private(&path, token.as_bytes())?;
            token
        }
    };
    let tokens = format!(
        "{{\"user-tokens\":[{{\"sha256\":\"{}\",\"tier\":\"tier1\"}}]}}\n",
        hex(&Sha256::digest(token.as_bytes()))
    );
    write_private(&data.join("user-tokens.json"), tokens.as_bytes())?;
    Ok(token)
}

fn server_toml(data: &Path, usecase: &str, service: SocketAddr, admin: SocketAddr) -> String {
    let d = data.display();
    format!(
        r#"# Written by `urlfilter up`; rewritten at every start.
[listen]
service = "{service}"
admin = "{admin}"
drain_secs = 2

[key_store]
path = "{d}/evaluation-keys.redb"

[issuer_keys]
file = "{d}/issuer-keys.json"

[issuer]
user_tokens = "{d}/user-tokens.json"

[[usecase]]
name = "{usecase}"
directory = "{d}/db/{usecase}"
"#
    )
}

fn port_or_free(port: u16) -> anyhow::Result<SocketAddr> {
    // Bind to learn a free port, then release it for the child (a small race, fine on loopback).
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("port {port} on 127.0.0.1 is not free"))?;
    Ok(listener.local_addr()?)
}

fn log_file(dir: &Path, name: &str) -> anyhow::Result<Stdio> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(name))
        .with_context(|| format!("opening {name}"))?;
    Ok(Stdio::from(file))
}

fn http_get_ok(url: &str) -> bool {
    use std::io::Read as _;
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let (host, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let Ok(mut stream) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// Writes a file only its owner can read, atomically.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
