//! Writes made at the same moment, stored in one transaction: one commit (one flush to disk)
//! and, on SQLite, one turn of the single writer for the whole group, instead of one each.
//! Under load every request queued behind every other's commit; grouped, a burst costs one.
//! A request is still answered only once its write is committed, so what was answered stays.
use std::future::Future;

use sea_orm::{DatabaseConnection, DatabaseTransaction};
use tokio::sync::{OnceCell, mpsc, oneshot};

use super::error::{Error, Result};

/// The most writes one transaction stores.
const MAX_GROUP: usize = 256;
/// Writes waiting for the writer, at most; more wait to be queued.
const QUEUE: usize = 1024;

/// One kind of write that can be stored in groups.
pub trait Work: Send + Sync + 'static {
    /// One request's write.
    type Item: Clone + Send + Sync + 'static;
    /// What the request is answered with once the group is committed.
    type Done: Send + 'static;
    /// Stores `items` in `txn`, whose first statement must write (see `db::begin_turn`), and
    /// returns one outcome per item, in their order. An error fails the whole group.
    fn store(txn: &DatabaseTransaction, items: &[Self::Item]) -> impl Future<Output = Result<Vec<Self::Done>>> + Send;
}

struct Waiting<W: Work> {
    item: W::Item,
    done: oneshot::Sender<Result<W::Done>>,
}

/// The writer of one kind of write to one database, started by the first write it stores.
pub struct Writer<W: Work> {
    db: DatabaseConnection,
    queue: OnceCell<mpsc::Sender<Waiting<W>>>,
}

impl<W: Work> Writer<W> {
    pub fn new(db: DatabaseConnection) -> Self {
        Writer { db, queue: OnceCell::new() }
    }

    /// Stores `item` with the others waiting now; returns its outcome once they are committed.
    pub async fn store(&self, item: W::Item) -> Result<W::Done> {
        let queue = self
            .queue
            .get_or_init(|| async {
                let (queue, waiting) = mpsc::channel(QUEUE);
                tokio::spawn(write::<W>(self.db.clone(), waiting));
                queue
            })
            .await;
        let (done, answer) = oneshot::channel();
        let stopped = || Error::Internal("the database writer stopped".into());
        queue.send(Waiting { item, done }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Takes what waits, up to a group, and stores it in one transaction. When a group fails, its
/// items are stored one by one, so one that cannot be stored fails alone.
async fn write<W: Work>(db: DatabaseConnection, mut waiting: mpsc::Receiver<Waiting<W>>) {
    while let Some(first) = waiting.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match waiting.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let items: Vec<W::Item> = group.iter().map(|w| w.item.clone()).collect();
        match stored::<W>(&db, items).await {
            Ok(outcomes) => {
                for (one, outcome) in group.into_iter().zip(outcomes) {
                    let _ = one.done.send(Ok(outcome));
                }
            }
            Err(err) if group.len() == 1 => {
                let _ = group.remove(0).done.send(Err(err));
            }
            Err(_) => {
                for one in group {
                    let outcome = stored::<W>(&db, vec![one.item]).await;
                    let _ = one.done.send(outcome.and_then(|mut outcomes| outcomes.pop().ok_or_else(no_outcome)));
                }
            }
        }
    }
}

fn no_outcome() -> Error {
    Error::Internal("a grouped write returned no outcome".into())
}

/// The items' writes in a task of their own: a panic while storing (a bug) fails these items'
/// requests with an error, rolled back, and the writer goes on with the next group; without
/// it, every write after it would fail until a restart.
async fn stored<W: Work>(db: &DatabaseConnection, items: Vec<W::Item>) -> Result<Vec<W::Done>> {
    let db = db.clone();
    tokio::spawn(async move { in_one_transaction::<W>(&db, &items).await })
        .await
        .unwrap_or_else(|_| Err(Error::Internal("a grouped write failed unexpectedly".into())))
}

/// The items' writes, together or not at all.
async fn in_one_transaction<W: Work>(db: &DatabaseConnection, items: &[W::Item]) -> Result<Vec<W::Done>> {
    let (txn, _turn) = super::db::begin_turn(db).await?;
    let outcomes = W::store(&txn, items).await?;
    if outcomes.len() != items.len() {
        return Err(no_outcome());
    }
    txn.commit().await?;
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnectionTrait, Statement};

    /// Stores numbers in a table of its own; the number 13 is a bug that panics.
    struct Numbers;

    impl Work for Numbers {
        type Item = i64;
        type Done = i64;

        async fn store(txn: &DatabaseTransaction, items: &[i64]) -> Result<Vec<i64>> {
            for &n in items {
                let insert = Statement::from_sql_and_values(txn.get_database_backend(), "INSERT INTO numbers (n) VALUES (?)", [n.into()]);
                txn.execute(insert).await?;
                assert_ne!(n, 13, "a bug in a store");
            }
            Ok(items.to_vec())
        }
    }

    #[tokio::test]
    async fn a_store_that_panics_fails_its_own_write_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let db = super::super::db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
        db.execute_unprepared("CREATE TABLE numbers (n INTEGER NOT NULL)").await.unwrap();
        let writer = std::sync::Arc::new(Writer::<Numbers>::new(db.clone()));
        // At the same moment, so that 13 may share a group with others.
        let stores = (10..17).map(|n| {
            let writer = writer.clone();
            tokio::spawn(async move { (n, writer.store(n).await) })
        });
        for store in stores {
            let (n, outcome) = store.await.unwrap();
            match outcome {
                Ok(done) => assert!(n != 13 && done == n, "{n} stored as {done}"),
                Err(err) => assert!(n == 13 && matches!(err, Error::Internal(_)), "{n}: {err}"),
            }
        }
        assert_eq!(writer.store(20).await.unwrap(), 20, "the writer still stores after a panic");
        let stored: Vec<i64> = db
            .query_all(Statement::from_string(db.get_database_backend(), "SELECT n FROM numbers ORDER BY n"))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index(0).unwrap())
            .collect();
        assert_eq!(stored, [10, 11, 12, 14, 15, 16, 20], "the panicking write was rolled back alone");
    }
}
