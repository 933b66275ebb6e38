//! The queue's functions and the [`Runner`]. A runner, every `poll`: enqueues the runs of its schedules that
//! are due (one instance wins each run), then claims and runs due jobs one at a time until none is left.
//! While a job runs its lease is extended every third of the lease, so a long backup is never taken over by
//! another instance; when an instance dies the lease runs out and another instance (or this one after a
//! restart) takes the job again as its next attempt. A handler's error puts the job back with a doubling
//! delay until `max_attempts`, then it stays `failed` with its last error for the status page.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use kernel::Db;
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::model::{Job, JobRow, NewJob, Schedule, backoff};
use super::{Error, store};

/// What a handler answers: a result recorded with the job (JSON), or the error of this attempt.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<serde_json::Value, String>> + Send>>;

/// Runs one kind of job. Closures `Fn(Job) -> JobFuture` are handlers.
pub trait Handler: Send + Sync + 'static {
    fn run(&self, job: Job) -> JobFuture;
}

impl<F> Handler for F
where
    F: Fn(Job) -> JobFuture + Send + Sync + 'static,
{
    fn run(&self, job: Job) -> JobFuture {
        self(job)
    }
}

/// The runner's tunables.
#[derive(Clone, Debug)]
pub struct RunnerSettings {
    /// Names this instance in `locked_by` (host, process, a random part).
    pub instance: String,
    /// How often to look for due work when the queue is empty.
    pub poll: Duration,
    /// How long a claimed job stays this instance's without a heartbeat.
    pub lease: Duration,
    /// The wait after a first failure; doubled after each further failure, up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        RunnerSettings {
            instance: crate::instance_id(),
            poll: Duration::from_secs(5),
            lease: Duration::from_secs(300),
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
        }
    }
}

/// What became of one claimed job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done {
        id: i64,
    },
    /// Failed this attempt; runs again at `at`.
    Retry {
        id: i64,
        at: OffsetDateTime,
    },
    /// Failed for good.
    Failed {
        id: i64,
    },
    /// Another instance took the job over while it ran here (this instance stalled past its lease); what it
    /// did is not recorded here.
    LeaseLost {
        id: i64,
    },
}

impl Outcome {
    pub fn id(&self) -> i64 {
        match self {
            Outcome::Done { id } | Outcome::Retry { id, .. } | Outcome::Failed { id } | Outcome::LeaseLost { id } => {
                *id
            }
        }
    }
}

/// The job loop of one instance.
pub struct Runner {
    db: Db,
    settings: RunnerSettings,
    handlers: HashMap<String, Arc<dyn Handler>>,
    schedules: Vec<Schedule>,
}

/// A started runner; [`RunnerHandle::stop`] ends it.
pub struct RunnerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Aborts the task when dropped: a job's task must not outlive a runner that was aborted.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn span(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

impl Runner {
    pub fn new(db: Db, settings: RunnerSettings) -> Runner {
        Runner { db, settings, handlers: HashMap::new(), schedules: Vec::new() }
    }

    /// Registers the handler of `kind`. This instance claims only kinds it has a handler for.
    pub fn handle(mut self, kind: &str, handler: impl Handler) -> Runner {
        self.handlers.insert(kind.to_owned(), Arc::new(handler));
        self
    }

    /// Adds a schedule, written to the database by [`Runner::install_schedules`].
    pub fn schedule(mut self, schedule: Schedule) -> Runner {
        self.schedules.push(schedule);
        self
    }

    pub fn instance(&self) -> &str {
        &self.settings.instance
    }

    /// Writes this runner's schedules (a schedule whose timing is unchanged keeps its next run).
    pub async fn install_schedules(&self) -> Result<(), Error> {
        let t = now();
        for s in &self.schedules {
            store::upsert_schedule(&self.db, s, s.next_after(t)).await?;
        }
        Ok(())
    }

    /// Enqueues every due run of the stored schedules that this instance wins; returns how many.
    pub async fn enqueue_due(&self) -> Result<usize, Error> {
        let t = now();
        let mut n = 0;
        for row in store::due_schedules(&self.db, t).await? {
            let schedule = Schedule {
                name: row.name.clone(),
                kind: row.kind.clone(),
                payload: serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null),
                every: Duration::from_secs(row.every_seconds.max(1).unsigned_abs()),
                offset: Duration::from_secs(row.offset_seconds.max(0).unsigned_abs()),
                enabled: row.enabled,
                max_attempts: self
                    .schedules
                    .iter()
                    .find(|s| s.name == row.name)
                    .map_or(super::model::DEFAULT_MAX_ATTEMPTS, |s| s.max_attempts),
            };
            // A server that was down over several runs catches up with one.
            let next = schedule.next_after(t);
            let mut tx = self.db.begin().await?;
            if store::advance_schedule(&mut tx, &row.name, row.next_run_at, next).await? {
                let job = NewJob {
                    kind: schedule.kind.clone(),
                    payload: schedule.payload.clone(),
                    run_at: row.next_run_at,
                    dedup_key: Some(schedule.run_key(row.next_run_at)),
                    max_attempts: schedule.max_attempts,
                };
                if store::insert(&mut tx, &job, t).await?.is_some() {
                    n += 1;
                }
            }
            tx.commit().await?;
        }
        Ok(n)
    }

    /// Claims the next due job this instance can run and runs it; `None` when nothing is due.
    pub async fn run_next(&self) -> Result<Option<Outcome>, Error> {
        let kinds: Vec<String> = self.handlers.keys().cloned().collect();
        if kinds.is_empty() {
            return Ok(None);
        }
        let me = self.settings.instance.as_str();
        let lease = span(self.settings.lease);
        let Some(job) = store::claim(&self.db, me, &kinds, now() + lease, now()).await? else {
            return Ok(None);
        };
        let id = job.id;
        if job.attempts > job.max_attempts {
            // Its instance died while running it, the last allowed time.
            let error = format!("stopped {} times while running (the instance ended); given up", job.max_attempts);
            tracing::error!(job = id, kind = %job.kind, "{error}");
            return Ok(Some(if store::fail(&self.db, id, me, &error, now()).await? {
                Outcome::Failed { id }
            } else {
                Outcome::LeaseLost { id }
            }));
        }
        let Some(handler) = self.handlers.get(&job.kind).cloned() else {
            return Ok(None);
        };
        tracing::info!(job = id, kind = %job.kind, attempt = job.attempts, "job started");
        let (kind, attempts, max_attempts) = (job.kind.clone(), job.attempts, job.max_attempts);
        let result = self.run_with_heartbeat(handler, job).await;
        let t = now();
        let outcome = match result {
            Ok(value) => {
                if store::finish(&self.db, id, me, &value.to_string(), t).await? {
                    tracing::info!(job = id, %kind, "job done");
                    Outcome::Done { id }
                } else {
                    Outcome::LeaseLost { id }
                }
            }
            Err(error) if attempts < max_attempts => {
                let at = t + span(backoff(attempts, self.settings.backoff_base, self.settings.backoff_max));
                tracing::warn!(job = id, %kind, attempt = attempts, %error, retry_at = %at, "job failed; will retry");
                if store::retry(&self.db, id, me, &error, at).await? {
                    Outcome::Retry { id, at }
                } else {
                    Outcome::LeaseLost { id }
                }
            }
            Err(error) => {
                tracing::error!(job = id, %kind, attempt = attempts, %error, "job failed for good");
                if store::fail(&self.db, id, me, &error, t).await? {
                    Outcome::Failed { id }
                } else {
                    Outcome::LeaseLost { id }
                }
            }
        };
        if let Outcome::LeaseLost { id } = outcome {
            tracing::warn!(job = id, "the job's lease was lost while it ran; another instance has it");
        }
        Ok(Some(outcome))
    }

    /// Runs the handler in its own task (a panic fails the attempt, not the runner) while extending the lease.
    async fn run_with_heartbeat(&self, handler: Arc<dyn Handler>, job: Job) -> Result<serde_json::Value, String> {
        let id = job.id;
        let mut task = AbortOnDrop(tokio::spawn(handler.run(job)));
        let mut beat = tokio::time::interval((self.settings.lease / 3).max(Duration::from_millis(100)));
        beat.tick().await;
        loop {
            tokio::select! {
                joined = &mut task.0 => {
                    return match joined {
                        Ok(r) => r,
                        Err(e) if e.is_panic() => Err("the job panicked (see the server log)".into()),
                        Err(e) => Err(format!("the job was cancelled: {e}")),
                    };
                }
                _ = beat.tick() => {
                    let until = now() + span(self.settings.lease);
                    match store::extend(&self.db, id, &self.settings.instance, until).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = id, "lease lost while running"),
                        Err(e) => tracing::warn!(job = id, error = %e, "could not extend the lease"),
                    }
                }
            }
        }
    }

    /// One round: enqueue due schedules, then run due jobs until none is left or `stop` is set.
    pub async fn tick(&self, stop: &watch::Receiver<bool>) -> Result<usize, Error> {
        self.enqueue_due().await?;
        let mut n = 0;
        while !*stop.borrow() {
            match self.run_next().await? {
                Some(_) => n += 1,
                None => break,
            }
        }
        Ok(n)
    }

    /// Starts the loop in a task. Schedules are written first; a database error is logged and tried again at
    /// the next poll.
    pub fn start(self) -> RunnerHandle {
        let (tx, mut rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut installed = false;
            loop {
                if !installed {
                    match self.install_schedules().await {
                        Ok(()) => installed = true,
                        Err(e) => tracing::warn!(error = %e, "could not write the job schedules; will try again"),
                    }
                }
                if installed && let Err(e) = self.tick(&rx).await {
                    tracing::warn!(error = %e, "job runner: database error; will try again");
                }
                if *rx.borrow() {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(self.settings.poll) => {}
                    _ = rx.changed() => {}
                }
                if *rx.borrow() {
                    break;
                }
            }
            tracing::info!(instance = %self.settings.instance, "job runner stopped");
        });
        RunnerHandle { stop: tx, task }
    }
}

impl RunnerHandle {
    /// Asks the runner to stop after the job in hand and waits up to `grace`; a job still running then is
    /// abandoned (its lease runs out and it is taken again as its next attempt).
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            tracing::warn!("job runner did not stop within {grace:?}; the running job will be retried");
            task.abort();
            let _ = task.await;
        }
    }
}

/// Puts a job on the queue; `None` when its dedup key was already used.
pub async fn enqueue(db: &Db, job: &NewJob) -> Result<Option<i64>, Error> {
    let mut tx = db.begin().await?;
    let id = store::insert(&mut tx, job, now()).await?;
    tx.commit().await?;
    Ok(id)
}

/// One job.
pub async fn get(db: &Db, id: i64) -> Result<Option<JobRow>, Error> {
    Ok(store::get(db, id).await?)
}

/// The newest jobs of `kind`.
pub async fn recent(db: &Db, kind: &str, limit: i64) -> Result<Vec<JobRow>, Error> {
    Ok(store::recent(db, kind, limit).await?)
}

/// A schedule as the status page shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ScheduleView {
    pub name: String,
    pub kind: String,
    pub every_seconds: i64,
    pub enabled: bool,
    pub next_run_at: OffsetDateTime,
    pub last_run_at: Option<OffsetDateTime>,
}

/// The queue at a glance: counts by kind and state, what is open or failed, the schedules.
#[derive(Clone, Debug, Default, Serialize)]
pub struct QueueSummary {
    /// (kind, state, count).
    pub counts: Vec<(String, String, i64)>,
    /// Pending, running and failed jobs, newest first (at most 50).
    pub open: Vec<JobRow>,
    pub schedules: Vec<ScheduleView>,
}

impl QueueSummary {
    pub fn count(&self, state: &str) -> i64 {
        self.counts.iter().filter(|(_, s, _)| s == state).map(|(_, _, n)| n).sum()
    }
}

pub async fn summary(db: &Db) -> Result<QueueSummary, Error> {
    Ok(QueueSummary {
        counts: store::counts(db).await?,
        open: store::open_and_failed(db, 50).await?,
        schedules: store::schedules(db)
            .await?
            .into_iter()
            .map(|s| ScheduleView {
                name: s.name,
                kind: s.kind,
                every_seconds: s.every_seconds,
                enabled: s.enabled,
                next_run_at: s.next_run_at,
                last_run_at: s.last_run_at,
            })
            .collect(),
    })
}

/// When a job of `kind` last finished well.
pub async fn last_done(db: &Db, kind: &str) -> Result<Option<OffsetDateTime>, Error> {
    Ok(store::last_done(db, kind).await?)
}

pub(crate) async fn purge(
    db: &Db,
    done_before: OffsetDateTime,
    failed_before: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(u64, u64, u64), Error> {
    Ok((
        store::purge_sessions(db, now).await?,
        store::purge_challenges(db, now).await?,
        store::purge_finished(db, done_before, failed_before).await?,
    ))
}
