//! wsbench reference echo server: tokio (multi-threaded runtime) with
//! tokio-tungstenite, one task per connection.
//!
//! Same command-line contract as wsbench-echo (see servers/README.md):
//! `--port N` (default 9001, 0 = any free port), `--host ADDR` (default
//! 127.0.0.1), `--max-message-size BYTES` (default 16 MiB). Prints
//! `READY ws://HOST:PORT/` on stdout once listening; SIGTERM/SIGINT close every
//! connection with 1001 and exit 0.

use std::io::Write;
use std::net::SocketAddr;
use std::process::exit;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};

const DEFAULT_PORT: u16 = 9001;
const DEFAULT_MAX_MESSAGE: usize = 16 << 20;
const USAGE: &str = "usage: rust-tungstenite [--port N] [--host ADDR] [--max-message-size BYTES]";

struct Options {
    host: String,
    port: u16,
    max_message: usize,
}

fn usage(msg: &str) -> ! {
    eprintln!("rust-tungstenite: {msg}");
    eprintln!("{USAGE}");
    exit(2);
}

fn parse_int(name: &str, value: Option<String>, min: u64, max: u64) -> u64 {
    let value = value.unwrap_or_else(|| usage(&format!("{name} needs a value")));
    let n: u64 = value
        .parse()
        .unwrap_or_else(|_| usage(&format!("{name}: not a number: '{value}'")));
    if n < min || n > max {
        usage(&format!("{name}: must be {min}..{max}, got {n}"));
    }
    n
}

fn parse_args() -> Options {
    let mut opts = Options {
        host: "127.0.0.1".into(),
        port: DEFAULT_PORT,
        max_message: DEFAULT_MAX_MESSAGE,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next());
        match name.as_str() {
            "--port" => opts.port = parse_int(&name, value(), 0, 65535) as u16,
            "--host" => {
                opts.host = value().filter(|h| !h.is_empty()).unwrap_or_else(|| usage("--host needs a value"))
            }
            "--max-message-size" => opts.max_message = parse_int(&name, value(), 1, 1 << 30) as usize,
            // No TLS or compression crates are in the pinned Cargo.lock, and
            // none can be fetched here (servers/README.md): refuse clearly
            // rather than serve something else than was asked for.
            "--tls-cert" | "--tls-key" => usage(
                "--tls-cert/--tls-key: this server has no TLS (no TLS crate in its pinned Cargo.lock); \
                 use c-lws, go-gorilla, node-ws or dotnet-kestrel for wss://",
            ),
            "--deflate" => usage(
                "--deflate: this server has no permessage-deflate (tokio-tungstenite's is not in its \
                 pinned Cargo.lock); use c-lws, go-gorilla, node-ws or dotnet-kestrel",
            ),
            "--help" | "-h" => {
                println!("{USAGE}");
                exit(0);
            }
            _ => usage(&format!("unknown option '{arg}'")),
        }
    }
    opts
}

async fn echo(stream: TcpStream, config: WebSocketConfig, mut stop: watch::Receiver<bool>) {
    // Small echo messages must not wait for Nagle.
    let _ = stream.set_nodelay(true);
    let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else {
        return;
    };
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                // tungstenite reassembles fragments, validates UTF-8, answers
                // pings and replies to close frames on its own.
                Some(Ok(m)) if m.is_text() || m.is_binary() => {
                    if ws.send(m).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            _ = stop.changed() => {
                let frame = CloseFrame { code: CloseCode::Away, reason: "server shutting down".into() };
                let _ = ws.close(Some(frame)).await;
                // Wait briefly for the peer's close reply.
                let _ = tokio::time::timeout(Duration::from_millis(500), async {
                    while let Some(Ok(_)) = ws.next().await {}
                })
                .await;
                return;
            }
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let opts = parse_args();
    let listener = match TcpListener::bind((opts.host.as_str(), opts.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("rust-tungstenite: cannot listen on {}:{}: {e}", opts.host, opts.port);
            exit(1);
        }
    };
    // Handlers first: a supervisor may signal as soon as it reads READY.
    let mut sigterm = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut sigint = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let addr: SocketAddr = listener.local_addr().expect("local_addr");
    println!("READY ws://{addr}/");
    let _ = std::io::stdout().flush();

    // Defaults otherwise: tungstenite's write buffer (128 KiB) batches small
    // frames; no compression (not built in).
    let config = WebSocketConfig::default()
        .max_message_size(Some(opts.max_message))
        .max_frame_size(Some(opts.max_message));

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tasks.spawn(echo(stream, config, stop_rx.clone()));
                }
            }
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    exit(0);
}
