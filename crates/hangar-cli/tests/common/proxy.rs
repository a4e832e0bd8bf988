//! A small HTTP CONNECT proxy on 127.0.0.1, for clients that hard-code a host name (NGC's
//! `https://helm.ngc.nvidia.com`, ngc-api.md §11(b)) and honour `HTTPS_PROXY`:
//!
//! - a `CONNECT host:port` whose `host:port` is one of the routes is tunnelled to the address it
//!   maps to (the TLS is end to end: the server's certificate must name the host);
//! - a `CONNECT 127.0.0.1:<port>` is tunnelled there (with `HTTPS_PROXY` set, every https request
//!   of the client goes through the proxy, its API calls included);
//! - anything else (other hosts, other methods) is answered 403 and recorded, so a test can
//!   check that nothing tried to leave the machine.
//!
//! Plain std threads, independent of any async runtime. Bounded: at most [`MAX_TUNNELS`] open
//! connections, a request head of at most [`MAX_HEAD`] bytes read within [`HEAD_TIMEOUT`]. Dropping
//! the proxy stops it and closes every tunnel.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const MAX_TUNNELS: usize = 64;
pub const MAX_HEAD: usize = 16 * 1024;
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    active: AtomicUsize,
    next_id: AtomicU64,
    /// Every tunnel opened: the `host:port` asked for.
    tunnelled: Mutex<Vec<String>>,
    /// Every request refused: its request line (or why it was refused).
    refused: Mutex<Vec<String>>,
    /// The sockets of the open connections, to shut down when the proxy stops.
    open: Mutex<HashMap<u64, Vec<TcpStream>>>,
}

impl Shared {
    fn register(&self, id: u64, stream: &TcpStream) {
        if let Ok(clone) = stream.try_clone() {
            self.open
                .lock()
                .expect("proxy sockets")
                .entry(id)
                .or_default()
                .push(clone);
        }
    }
}

pub struct ConnectProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl ConnectProxy {
    /// Starts a proxy on a free 127.0.0.1 port; `routes` maps `host:port` (as the client writes it
    /// after CONNECT, e.g. `helm.ngc.nvidia.com:443`) to where the tunnel really goes.
    pub fn start(routes: &[(&str, SocketAddr)]) -> ConnectProxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let routes: Arc<HashMap<String, SocketAddr>> =
            Arc::new(routes.iter().map(|(k, v)| (k.to_ascii_lowercase(), *v)).collect());
        let shared = Arc::new(Shared::default());
        let state = shared.clone();
        let acceptor = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if state.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                if state.active.load(Ordering::SeqCst) >= MAX_TUNNELS {
                    state
                        .refused
                        .lock()
                        .expect("proxy log")
                        .push("(too many connections)".into());
                    let _ = conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
                    continue;
                }
                state.active.fetch_add(1, Ordering::SeqCst);
                let (state, routes) = (state.clone(), routes.clone());
                std::thread::spawn(move || {
                    let id = state.next_id.fetch_add(1, Ordering::SeqCst);
                    serve(id, conn, addr, &routes, &state);
                    state.open.lock().expect("proxy sockets").remove(&id);
                    state.active.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        ConnectProxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy's URL, for `HTTPS_PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `host:port` of every tunnel opened so far, in order.
    pub fn tunnelled(&self) -> Vec<String> {
        self.shared.tunnelled.lock().expect("proxy log").clone()
    }

    /// The request line of every request refused so far.
    pub fn refused(&self) -> Vec<String> {
        self.shared.refused.lock().expect("proxy log").clone()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor, which then sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for streams in self.shared.open.lock().expect("proxy sockets").values() {
            for s in streams {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.shared.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Reads the request head (up to the blank line); returns it and whatever came after it.
fn read_head(conn: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    conn.set_read_timeout(Some(HEAD_TIMEOUT)).ok()?;
    let deadline = Instant::now() + HEAD_TIMEOUT;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Some((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        if buf.len() > MAX_HEAD || Instant::now() > deadline {
            return None;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn refuse(conn: &mut TcpStream, state: &Shared, what: String) {
    state.refused.lock().expect("proxy log").push(what);
    let _ = conn.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let _ = conn.shutdown(Shutdown::Both);
}

fn serve(id: u64, mut conn: TcpStream, own: SocketAddr, routes: &HashMap<String, SocketAddr>, state: &Shared) {
    state.register(id, &conn);
    let Some((head, early)) = read_head(&mut conn) else {
        refuse(&mut conn, state, "(no complete request head)".into());
        return;
    };
    let line = head.lines().next().unwrap_or_default().to_string();
    let mut words = line.split_whitespace();
    let (method, authority) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
    if !method.eq_ignore_ascii_case("CONNECT") {
        refuse(&mut conn, state, line);
        return;
    }
    let authority = authority.to_ascii_lowercase();
    let target = match routes.get(&authority) {
        Some(addr) => Some(*addr),
        None => authority
            .strip_prefix("127.0.0.1:")
            .and_then(|port| port.parse::<u16>().ok())
            .map(|port| SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .filter(|addr| *addr != own),
    };
    let Some(target) = target else {
        refuse(&mut conn, state, line);
        return;
    };
    let mut upstream = match TcpStream::connect_timeout(&target, CONNECT_TIMEOUT) {
        Ok(upstream) => upstream,
        Err(e) => {
            state
                .refused
                .lock()
                .expect("proxy log")
                .push(format!("{line} ({target}: {e})"));
            let _ = conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        }
    };
    state.register(id, &upstream);
    state.tunnelled.lock().expect("proxy log").push(authority);
    if conn.set_read_timeout(None).is_err()
        || conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").is_err()
        || upstream.write_all(&early).is_err()
    {
        return;
    }
    let (Ok(mut conn_read), Ok(mut upstream_write)) = (conn.try_clone(), upstream.try_clone()) else {
        return;
    };
    let upload = std::thread::spawn(move || {
        let _ = std::io::copy(&mut conn_read, &mut upstream_write);
        let _ = upstream_write.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut upstream, &mut conn);
    let _ = conn.shutdown(Shutdown::Write);
    let _ = upload.join();
}
