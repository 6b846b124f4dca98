use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A pipe's page lists its forks: without an index that read every pipe (at 100k pipes,
/// 700 ms a page).
#[derive(DeriveIden)]
enum Pipes {
    Table,
    ForkedFromPipe,
}

const NAME: &str = "idx_pipes_forked_from";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(Index::create().name(NAME).table(Pipes::Table).col(Pipes::ForkedFromPipe).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NAME).table(Pipes::Table).to_owned()).await
    }
}
