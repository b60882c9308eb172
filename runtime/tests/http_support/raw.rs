//! A raw TCP server for tests that need to write the bytes of a response
//! themselves (faults, encodings, redirects).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// A request as read off the socket: its head and how many requests the
/// server has seen so far.
pub struct Conn {
    pub stream: TcpStream,
    pub head: String,
}

impl Conn {
    pub async fn write(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
        let _ = self.stream.flush().await;
    }
}

/// Reads one request head (up to the blank line).
pub async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Starts a server that hands every request to `serve` (one connection per
/// task); returns its base URL and the request count.
pub async fn fault_server<F, Fut>(serve: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(Conn, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let serve = Arc::new(serve);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let serve = serve.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let Some(head) = read_head(&mut stream).await else {
                    return;
                };
                let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
                serve(Conn { stream, head }, n).await;
            });
        }
    });
    (base, count)
}
