//! Downloads stored in groups. Requests that count a download at the same moment share one
//! transaction (one commit, and on SQLite one turn of the single writer) instead of queueing
//! for one each: during a burst of new downloads each waited for every commit before its own.
//! A request still waits until its download is stored, so an answered download is counted.
use sea_orm::{DatabaseConnection, EntityTrait, IntoActiveModel};
use tokio::sync::{OnceCell, mpsc, oneshot};

use super::entities::downloads;
use super::error::{Error, Result};

/// The most downloads one transaction stores.
const MAX_GROUP: usize = 256;
/// Downloads waiting for the writer, at most; more wait to be queued.
const QUEUE: usize = 1024;

struct Waiting {
    download: downloads::Model,
    stored: oneshot::Sender<Result<()>>,
}

/// The writer of one database's downloads, started by the first download it stores.
pub struct Recorder {
    db: DatabaseConnection,
    queue: OnceCell<mpsc::Sender<Waiting>>,
}

impl Recorder {
    pub fn new(db: DatabaseConnection) -> Self {
        Recorder { db, queue: OnceCell::new() }
    }

    /// Stores `download` (its `id` is ignored) and counts it in the tallies, with the others
    /// waiting now; returns once they are committed.
    pub async fn record(&self, download: downloads::Model) -> Result<()> {
        let queue = self
            .queue
            .get_or_init(|| async {
                let (queue, waiting) = mpsc::channel(QUEUE);
                tokio::spawn(write(self.db.clone(), waiting));
                queue
            })
            .await;
        let (stored, answer) = oneshot::channel();
        let stopped = || Error::Internal("the download writer stopped".into());
        queue.send(Waiting { download, stored }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Takes what waits, up to a group, and stores it in one transaction. When a group fails, its
/// downloads are stored one by one, so one that cannot be stored fails alone.
async fn write(db: DatabaseConnection, mut waiting: mpsc::Receiver<Waiting>) {
    while let Some(first) = waiting.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match waiting.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let downloads: Vec<downloads::Model> = group.iter().map(|w| w.download.clone()).collect();
        match store(&db, downloads).await {
            Ok(()) => {
                for one in group {
                    let _ = one.stored.send(Ok(()));
                }
            }
            Err(err) if group.len() == 1 => {
                let _ = group.remove(0).stored.send(Err(err));
            }
            Err(_) => {
                for one in group {
                    let stored = store(&db, vec![one.download]).await;
                    let _ = one.stored.send(stored);
                }
            }
        }
    }
}

/// The downloads and their tallies, together or not at all.
async fn store(db: &DatabaseConnection, downloads: Vec<downloads::Model>) -> Result<()> {
    let (txn, _turn) = super::db::begin_turn(db).await?;
    let rows = downloads.iter().map(|d| {
        let mut row = d.clone().into_active_model();
        row.id = sea_orm::ActiveValue::NotSet;
        row
    });
    // The first statement writes (see `begin_turn`).
    for rows in super::scan::per_statement::<downloads::Entity, _>(rows.collect()) {
        downloads::Entity::insert_many(rows).exec_without_returning(&txn).await?;
    }
    super::tallies::count_downloads(&txn, &downloads).await?;
    txn.commit().await?;
    Ok(())
}
