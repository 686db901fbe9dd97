//! The model work, kept off the server's async threads: each lane is one OS
//! thread that takes jobs from a bounded queue. Decoding has its own lane,
//! so a long job (a pixel model's completion, an NLL in the background)
//! never delays the pointer's live decodes; the decode lane takes every
//! decode request waiting when it wakes and runs them as one batch per
//! model. A full queue is refused at once (HTTP 503), never waited on.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use tokio::sync::oneshot;

use crate::serve::explore::Served;
use crate::{Error, Result};

/// Jobs a lane holds before it refuses more.
pub const QUEUE: usize = 256;
/// Decode requests one batch takes at most.
const BATCH: usize = 64;

type Task = Box<dyn FnOnce(&[Served]) + Send>;

enum Job {
    /// Code rows `[n, width]` of one model, decoded with others in a batch.
    Decode {
        model: usize,
        rows: Vec<f32>,
        reply: oneshot::Sender<Result<Vec<f32>>>,
    },
    /// Anything else, run alone.
    Task(Task),
}

/// Why a job did not run.
#[derive(Debug)]
pub enum Refused {
    /// The queue is full: try again later.
    Busy,
    /// The lane's thread is gone (the server is stopping).
    Gone,
}

/// One worker thread and its queue.
#[derive(Clone)]
pub struct Lane {
    tx: SyncSender<Job>,
}

impl Lane {
    /// Starts a lane's thread over `models`; it ends when every handle to
    /// the lane is dropped.
    pub fn start(name: &str, models: Arc<Vec<Served>>) -> Result<Lane> {
        let (tx, rx) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name(format!("elbo-serve-{name}"))
            .spawn(move || work(&rx, &models))
            .map_err(|e| Error::internal(format!("cannot start a worker thread: {e}")))?;
        Ok(Lane { tx })
    }

    /// Runs `f` on the lane and waits (asynchronously) for its result.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&[Served]) -> Result<T> + Send + 'static,
    ) -> std::result::Result<Result<T>, Refused> {
        let (reply, rx) = oneshot::channel();
        let task: Task = Box::new(move |models| {
            let _ = reply.send(f(models));
        });
        self.send(Job::Task(task))?;
        rx.await.map_err(|_| Refused::Gone)
    }

    /// Decodes code rows `[n, width]` of model `model` (batched with the
    /// other decode requests waiting).
    pub async fn decode(
        &self,
        model: usize,
        rows: Vec<f32>,
    ) -> std::result::Result<Result<Vec<f32>>, Refused> {
        let (reply, rx) = oneshot::channel();
        self.send(Job::Decode { model, rows, reply })?;
        rx.await.map_err(|_| Refused::Gone)
    }

    /// Queues `f` without waiting for it.
    pub fn spawn(&self, f: impl FnOnce(&[Served]) + Send + 'static) -> Result<()> {
        self.send(Job::Task(Box::new(f)))
            .map_err(|_| Error::internal("the background worker is not running"))
    }

    fn send(&self, job: Job) -> std::result::Result<(), Refused> {
        self.tx.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => Refused::Busy,
            TrySendError::Disconnected(_) => Refused::Gone,
        })
    }
}

fn work(rx: &Receiver<Job>, models: &[Served]) {
    while let Ok(first) = rx.recv() {
        let mut decodes = Vec::new();
        let mut tasks = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next {
            match job {
                Job::Decode { model, rows, reply } => decodes.push((model, rows, reply)),
                Job::Task(t) => tasks.push(t),
            }
            next = if decodes.len() + tasks.len() < BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        decode_batches(models, decodes);
        for t in tasks {
            t(models);
        }
    }
}

type Pending = (usize, Vec<f32>, oneshot::Sender<Result<Vec<f32>>>);

/// One decoder call per model for all its waiting requests; each request
/// gets its own rows back.
fn decode_batches(models: &[Served], mut jobs: Vec<Pending>) {
    while let Some(&(model, ..)) = jobs.first() {
        let (mine, rest): (Vec<_>, Vec<_>) = jobs.into_iter().partition(|j| j.0 == model);
        jobs = rest;
        let Some(served) = models.get(model) else {
            for (_, _, reply) in mine {
                let _ = reply.send(Err(Error::invalid("no such model")));
            }
            continue;
        };
        let counts: Vec<usize> = mine.iter().map(|j| j.1.len()).collect();
        let rows: Vec<f32> = mine.iter().flat_map(|j| j.1.iter().copied()).collect();
        match served.decode_rows(&rows) {
            Ok(images) => {
                // Each request's rows map to its share of the decoded images.
                let width = served.code_width();
                let dim = served.shape.dim();
                let mut at = 0;
                for ((_, _, reply), values) in mine.into_iter().zip(counts) {
                    let n = values / width * dim;
                    let _ = reply.send(Ok(images[at..at + n].to_vec()));
                    at += n;
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for (_, _, reply) in mine {
                    let _ = reply.send(Err(Error::internal(msg.clone())));
                }
            }
        }
    }
}
