//! Time bounds of every request: [`Timeouts`] (connect, response headers,
//! idle body), and the watchdog that enforces them while a request body is
//! being sent and its answer awaited.
//!
//! Nothing waits forever: with the defaults, a server that accepts the
//! connection and then says nothing fails the attempt after
//! [`Timeouts::response`], a body (ours or the server's) that stops moving
//! fails it after [`Timeouts::idle`], and the call as a whole — every
//! attempt, backoff and the response body — ends within the retry policy's
//! [`total_timeout`](crate::RetryPolicy::total_timeout).
//!
//! All waiting goes through tokio's timer, so tests on a paused tokio clock
//! never really sleep.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::Instant;

use crate::error::{Error, ErrorKind};

/// The time bounds of one attempt of a request. Set per client with
/// [`ClientBuilder::timeouts`](crate::ClientBuilder::timeouts) (or one at a
/// time) and per call with the call options; the call's total deadline is
/// the retry policy's [`total_timeout`](crate::RetryPolicy::total_timeout)
/// (per call: `timeout`).
///
/// The defaults follow Google's own clients where they have one:
/// google-api-python-client's socket timeout is 60 s, which is the idle
/// bound here; the response bound is longer because long-poll methods such
/// as Compute Engine's `operations.wait` answer only after up to two minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Establishing a connection: DNS, TCP and TLS (default 10 s).
    pub connect: Duration,
    /// From the moment the request, body included, has been sent to the
    /// response headers (default 150 s).
    pub response: Duration,
    /// The longest pause while sending the request body or reading the
    /// response body (default 60 s). This is what bounds media transfers,
    /// which may take longer than any total deadline.
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::DEFAULT
    }
}

impl Timeouts {
    /// The defaults: connect 10 s, response 150 s, idle 60 s.
    pub const DEFAULT: Timeouts = Timeouts {
        connect: Duration::from_secs(10),
        response: Duration::from_secs(150),
        idle: Duration::from_secs(60),
    };

    /// These timeouts with another connect timeout.
    pub fn with_connect(mut self, d: Duration) -> Self {
        self.connect = d;
        self
    }

    /// These timeouts with another response timeout.
    pub fn with_response(mut self, d: Duration) -> Self {
        self.response = d;
        self
    }

    /// These timeouts with another idle timeout.
    pub fn with_idle(mut self, d: Duration) -> Self {
        self.idle = d;
        self
    }
}

/// Per-call overrides of the client's [`Timeouts`] and deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CallTimeouts {
    pub response: Option<Duration>,
    pub idle: Option<Duration>,
    /// The call's total deadline, instead of the retry policy's.
    pub total: Option<Duration>,
}

/// The bounds in force for one attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub response: Duration,
    pub idle: Duration,
    /// When the whole call must be over (`None`: only the per-step bounds).
    pub deadline: Option<Instant>,
    /// For messages: the total the deadline came from.
    pub total: Option<Duration>,
}

impl Bounds {
    /// The earlier of `t` and the deadline.
    pub fn cap(&self, t: Instant) -> Instant {
        match self.deadline {
            Some(d) => d.min(t),
            None => t,
        }
    }

    /// Whether the deadline (not a per-step bound) is what `limit` is.
    pub fn is_deadline(&self, limit: Instant) -> bool {
        self.deadline.is_some_and(|d| d <= limit)
    }

    /// The error for the deadline having passed.
    pub fn deadline_error(&self, what: &str) -> Error {
        let total = self.total.unwrap_or_default();
        Error::new(
            ErrorKind::Timeout,
            format!("{what}: the call did not finish within its deadline of {total:?}"),
        )
    }
}

/// How far a request body is: when it last moved and whether it is all sent.
#[derive(Clone)]
pub(crate) enum Progress {
    /// No body, or one handed over whole: sent when the request is (no
    /// shared state, nothing allocated per call).
    Sent(Instant),
    /// A body that streams: its stream reports as it moves.
    Streaming(Arc<Mutex<(Instant, bool)>>),
}

impl Progress {
    /// A body that starts being sent now (`done`: there is none, or it is
    /// handed over at once).
    pub fn new(done: bool) -> Self {
        if done {
            Progress::Sent(Instant::now())
        } else {
            Progress::Streaming(Arc::new(Mutex::new((Instant::now(), false))))
        }
    }

    fn get(&self) -> (Instant, bool) {
        match self {
            Progress::Sent(at) => (*at, true),
            Progress::Streaming(st) => *st.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    fn moved(&self, done: bool) {
        if let Progress::Streaming(st) = self {
            let mut st = st.lock().unwrap_or_else(|p| p.into_inner());
            *st = (Instant::now(), st.1 || done);
        }
    }
}

/// A request body stream that reports its progress to a [`Progress`].
pub(crate) struct ProgressStream<S> {
    inner: S,
    progress: Progress,
}

impl<S> ProgressStream<S> {
    pub fn new(inner: S, progress: Progress) -> Self {
        ProgressStream { inner, progress }
    }
}

impl<S> Stream for ProgressStream<S>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin,
{
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        match &polled {
            Poll::Ready(None) => self.progress.moved(true),
            Poll::Ready(Some(_)) => self.progress.moved(false),
            Poll::Pending => {}
        }
        polled
    }
}

/// Waits for `send` (the response headers) while the request body is
/// watched: it fails with a timeout when the body stalls for `idle`, when
/// the headers take longer than `response` after the body was sent, or at
/// the call's deadline.
///
/// `send` comes pinned by the caller: an `async fn` taking it by value
/// would hold it twice (argument and pinned local).
pub(crate) async fn wait_for_headers<F, T>(
    mut send: std::pin::Pin<&mut F>,
    progress: &Progress,
    bounds: &Bounds,
    what: &str,
) -> Result<T, Error>
where
    F: std::future::Future<Output = T>,
{
    loop {
        let (last, done) = progress.get();
        let step = if done { bounds.response } else { bounds.idle };
        let limit = bounds.cap(last + step);
        tokio::select! {
            // The response first: a timer that is never polled is never armed.
            biased;
            out = &mut send => return Ok(out),
            _ = tokio::time::sleep_until(limit) => {
                if progress.get() != (last, done) && !bounds.is_deadline(limit) {
                    continue; // the body moved meanwhile
                }
                return Err(if bounds.is_deadline(limit) {
                    bounds.deadline_error(what)
                } else if done {
                    Error::new(
                        ErrorKind::Timeout,
                        format!("{what}: no response headers within {step:?} of sending the request"),
                    )
                } else {
                    Error::new(
                        ErrorKind::Timeout,
                        format!("{what}: sending the request body stalled for {step:?}"),
                    )
                });
            }
        }
    }
}

/// Runs `fut`, failing with the deadline error when the deadline passes first.
///
/// Not an `async fn`: one would hold `fut` twice (as its argument and as
/// the future it awaits), doubling the size of every caller's future.
pub(crate) fn within_deadline<'a, F, T>(
    fut: F,
    bounds: &'a Bounds,
    what: &'a str,
) -> impl std::future::Future<Output = Result<T, Error>> + 'a
where
    F: std::future::Future<Output = Result<T, Error>> + 'a,
{
    use futures_util::FutureExt as _;
    use futures_util::future::Either;
    match bounds.deadline {
        None => Either::Left(fut),
        Some(d) => Either::Right(ready_or_within(fut, d).map(move |out| match out {
            Ok(out) => out,
            Err(_) => Err(bounds.deadline_error(what)),
        })),
    }
}

/// `fut`, or [`TimedOut`] once `limit` passes.
///
/// The timer is made only when `fut` is not ready at its first poll (a
/// token in hand, a piece of body already read), since making one takes
/// the runtime's handle, a counter every task shares. A future of its own
/// rather than an `async fn`, which would hold `fut` twice (its argument
/// and the pinned local it awaits).
pub(crate) fn ready_or_within<F: std::future::Future>(fut: F, limit: Instant) -> ReadyOrWithin<F> {
    ReadyOrWithin {
        fut,
        limit,
        sleep: None,
    }
}

/// `limit` passed before the future was ready.
#[derive(Debug)]
pub(crate) struct TimedOut;

pin_project_lite::pin_project! {
    /// The future of [`ready_or_within`].
    pub(crate) struct ReadyOrWithin<F> {
        #[pin]
        fut: F,
        limit: Instant,
        #[pin]
        sleep: Option<tokio::time::Sleep>,
    }
}

impl<F: std::future::Future> std::future::Future for ReadyOrWithin<F> {
    type Output = Result<F::Output, TimedOut>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(out) = this.fut.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        if this.sleep.is_none() {
            this.sleep.set(Some(tokio::time::sleep_until(*this.limit)));
        }
        match this.sleep.as_pin_mut().map(|s| s.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Err(TimedOut)),
            _ => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt as _;

    fn bounds(response: u64, idle: u64, total: Option<u64>) -> Bounds {
        Bounds {
            response: Duration::from_secs(response),
            idle: Duration::from_secs(idle),
            deadline: total.map(|t| Instant::now() + Duration::from_secs(t)),
            total: total.map(Duration::from_secs),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn headers_that_never_come_time_out_after_the_response_bound() {
        let started = Instant::now();
        let e = wait_for_headers(
            std::pin::pin!(std::future::pending::<()>()),
            &Progress::new(true),
            &bounds(5, 2, None),
            "x",
        )
        .await
        .unwrap_err();
        assert!(e.is_timeout());
        assert!(
            e.to_string().contains("no response headers within 5s"),
            "{e}"
        );
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_wins_over_a_longer_step() {
        let started = Instant::now();
        let e = wait_for_headers(
            std::pin::pin!(std::future::pending::<()>()),
            &Progress::new(true),
            &bounds(50, 2, Some(3)),
            "x",
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("deadline of 3s"), "{e}");
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        let e = within_deadline(
            std::future::pending::<Result<(), Error>>(),
            &bounds(50, 2, Some(4)),
            "y",
        )
        .await
        .unwrap_err();
        assert!(
            e.is_timeout() && e.to_string().contains("deadline of 4s"),
            "{e}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_moving_body_is_not_cut_and_a_stalled_one_is() {
        let progress = Progress::new(false);
        // A body that yields a piece every second for 10 s, then stalls.
        let body = futures_util::stream::unfold(0u32, |n| async move {
            if n < 10 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Some((Ok::<_, std::io::Error>(Bytes::from_static(b"x")), n + 1))
            } else {
                std::future::pending::<()>().await;
                None
            }
        });
        let mut body = ProgressStream::new(Box::pin(body), progress.clone());
        let started = Instant::now();
        let drive = async move { while body.next().await.is_some() {} };
        let e = wait_for_headers(
            std::pin::pin!(drive),
            &progress,
            &bounds(100, 3, None),
            "up",
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("body stalled for 3s"), "{e}");
        // 10 pieces one second apart, then 3 s of silence
        assert_eq!(started.elapsed(), Duration::from_secs(13));
    }
}
